// Pure builders of the SSM documents this project creates: data in, JSON-ready
// objects out, so tests can check exactly what AWS receives.

import { OS_USER_NAME_PATTERN } from "./constants";

/** Inputs of the Session Manager preferences document (`SSM-SessionManagerRunShell`). */
export interface SessionPreferencesInputs {
    /** Log group receiving session transcripts. */
    logGroupName: string;
    /** Whether that log group is encrypted with a customer-managed KMS key. */
    logGroupEncrypted: boolean;
    /** OS user for principals without an `SSMSessionRunAs` tag. */
    runAsDefaultUser: string;
    idleTimeoutMinutes: number;
    maxSessionDurationMinutes: number;
    /** KMS key (ARN or id) encrypting session data; empty for none. */
    kmsKeyId?: string;
    /** S3 archive of transcripts; its bucket must enforce encryption. */
    s3?: { bucketName: string; keyPrefix: string };
    shellProfile?: { linux?: string; windows?: string };
}

/**
 * The Session document Session Manager reads its preferences from. Schema 1.0 is the
 * only one accepted for Session documents; booleans must be JSON booleans and the
 * numbers strings, or the console breaks and sessions accept no input.
 */
export function sessionPreferencesDocument(inputs: SessionPreferencesInputs) {
    return {
        schemaVersion: "1.0",
        description: "Session Manager preferences: Run As, CloudWatch Logs streaming. Managed by Pulumi (third-party-ssm-access).",
        sessionType: "Standard_Stream",
        inputs: {
            s3BucketName: inputs.s3?.bucketName ?? "",
            s3KeyPrefix: inputs.s3?.keyPrefix ?? "",
            s3EncryptionEnabled: inputs.s3 !== undefined,
            cloudWatchLogGroupName: inputs.logGroupName,
            // True only when the log group has a KMS key, or sessions fail with "encryption is not set up".
            cloudWatchEncryptionEnabled: inputs.logGroupEncrypted,
            cloudWatchStreamingEnabled: true,
            kmsKeyId: inputs.kmsKeyId ?? "",
            runAsEnabled: true,
            runAsDefaultUser: inputs.runAsDefaultUser,
            idleSessionTimeout: String(inputs.idleTimeoutMinutes),
            maxSessionDuration: String(inputs.maxSessionDurationMinutes),
            shellProfile: { linux: inputs.shellProfile?.linux ?? "", windows: inputs.shellProfile?.windows ?? "" },
        },
    };
}


// Both platforms: take the (pattern-checked) parameter, refuse privileged users, skip existing ones.
const CHECK_USER = [
    "set -eu",
    "user='{{ userName }}'",
    'case "$user" in root|ec2-user|ssm-user) echo "refusing $user: it has root or sudo" >&2; exit 1;; esac',
    'if id -u "$user" >/dev/null 2>&1; then',
    '  echo "OS user $user exists"',
    "else",
];

const LINUX_CREATE_USER = [
    ...CHECK_USER,
    '  useradd --create-home --gid users --shell /bin/bash --comment "Session Manager Run As user" "$user"',
    '  echo "OS user $user created"',
    "fi",
    "# Unprivileged: never in an admin group, never in sudoers.",
    "for group in wheel sudo admin adm; do",
    '  if getent group "$group" | cut -d: -f4 | tr "," "\\n" | grep -qx "$user"; then gpasswd -d "$user" "$group"; fi',
    "done",
    'rm -f "/etc/sudoers.d/$user"',
];

const MACOS_CREATE_USER = [
    ...CHECK_USER,
    "  uid=$(( $(dscl . -list /Users UniqueID | awk '{print $2}' | sort -n | tail -1) + 1 ))",
    '  dscl . -create "/Users/$user"',
    '  dscl . -create "/Users/$user" UserShell /bin/zsh',
    '  dscl . -create "/Users/$user" RealName "Session Manager Run As user"',
    '  dscl . -create "/Users/$user" UniqueID "$uid"',
    '  dscl . -create "/Users/$user" PrimaryGroupID 20',
    '  dscl . -create "/Users/$user" NFSHomeDirectory "/Users/$user"',
    "  # No password: the account cannot log in except through Session Manager.",
    '  dscl . -create "/Users/$user" Password "*"',
    '  createhomedir -c -u "$user" >/dev/null',
    '  echo "OS user $user created"',
    "fi",
    "# Unprivileged: never an administrator.",
    'if dseditgroup -o checkmember -m "$user" admin >/dev/null 2>&1; then dseditgroup -o edit -d "$user" -t user admin; fi',
];

/**
 * Command document that creates one unprivileged OS user, idempotently, on Linux
 * (useradd) or macOS (dscl), each step chosen by platform precondition.
 */
export function createOsUserDocument() {
    return {
        schemaVersion: "2.2",
        description: "Creates an unprivileged OS user for Session Manager Run As, if it does not exist. Managed by Pulumi (third-party-ssm-access).",
        parameters: {
            userName: {
                type: "String",
                description: "OS user to create; never root or an administrator.",
                allowedPattern: OS_USER_NAME_PATTERN,
            },
        },
        mainSteps: [
            {
                action: "aws:runShellScript",
                name: "createLinuxUser",
                precondition: { StringEquals: ["platformType", "Linux"] },
                inputs: { runCommand: LINUX_CREATE_USER },
            },
            {
                action: "aws:runShellScript",
                name: "createMacOsUser",
                precondition: { StringEquals: ["platformType", "MacOS"] },
                inputs: { runCommand: MACOS_CREATE_USER },
            },
        ],
    };
}
