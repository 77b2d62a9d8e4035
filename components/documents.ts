// Pure builders of the SSM documents this project creates: data in, JSON-ready
// objects out, so tests can check exactly what AWS receives.

import { OS_USER_NAME_PATTERN, RESERVED_OS_USERS } from "./constants";

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

// ---------------------------------------------------------------------------------------
// OS-user provisioning: one unprivileged user per Run As name, refused rather than used
// when the name belongs to a privileged account.

/**
 * The reserved names as the alternatives of a shell `case` pattern. Each one must match
 * `OS_USER_NAME_PATTERN` (letters, digits, `_`, `-`), so none can break out of the pattern.
 */
function reservedUsersCasePattern(): string {
    const pattern = new RegExp(OS_USER_NAME_PATTERN);
    for (const name of RESERVED_OS_USERS) {
        if (!pattern.test(name)) throw new Error(`reserved OS user "${name}" does not match ${OS_USER_NAME_PATTERN}`);
    }
    return RESERVED_OS_USERS.join("|");
}

/** What differs between the Linux and the macOS step; everything else is one script. */
interface UserPlatform {
    /** Lines (inside `else`) that create the missing user. */
    create: string[];
    /** Lowest UID of a regular account, and why. */
    minUid: number;
    minUidReason: string;
    /** Lines that refuse membership of an administrative group. */
    adminGroupCheck: string[];
}

/**
 * The provisioning script of one platform. The `{{ userName }}` parameter is assigned in
 * single quotes and `allowedPattern` forbids quotes, so the value never reaches the shell
 * as code. A missing user is created; an existing one is checked and never changed: a
 * privileged account is refused (exit 1, naming the user and the reason), not silently
 * stripped of its rights, which could break whatever else uses it. The same checks run on
 * a user the script has just created, so a sudoers rule that happens to match it (say
 * `%users`) is caught too. POSIX sh, so it runs whichever shell the agent picks.
 */
function osUserScript(platform: UserPlatform): string[] {
    return [
        "set -eu",
        "user='{{ userName }}'",
        'refuse() { echo "refusing OS user $user: $1. Session Manager must not run third-party sessions as a privileged account; choose another user name." >&2; exit 1; }',
        `case "$user" in ${reservedUsersCasePattern()}) refuse "the name is reserved for root or an account the AMI or cloud-init gives sudo rights";; esac`,
        'if id -u "$user" >/dev/null 2>&1; then',
        '  echo "OS user $user exists: checking that it is unprivileged (it is never modified)"',
        "else",
        ...platform.create,
        '  echo "OS user $user created"',
        "fi",
        'uid=$(id -u "$user")',
        `if [ "$uid" -lt ${platform.minUid} ]; then refuse "its UID $uid is below ${platform.minUid}: ${platform.minUidReason}"; fi`,
        ...platform.adminGroupCheck,
        // sudo -l -U evaluates the sudoers policy itself: rules for the user, for its groups
        // (%wheel, %sudo, %admin) and drop-ins such as cloud-init's 90-cloud-init-users.
        // Output that says neither yes nor no (a broken sudoers file, an unknown sudo) is
        // refused rather than guessed at. LC_ALL=C keeps the messages in English.
        "if command -v sudo >/dev/null 2>&1; then",
        '  rights=$(LC_ALL=C sudo -n -l -U "$user" 2>&1) || true',
        '  case "$rights" in',
        '    *"may run the following commands"*) refuse "sudo -l -U $user lists commands it may run with sudo";;',
        '    *"is not allowed to run sudo"*) ;;',
        '    *) refuse "sudo -l -U $user gave no clear answer: $rights";;',
        "  esac",
        "else",
        '  echo "sudo is not installed: $user has no sudo rights"',
        "fi",
        'echo "OS user $user is unprivileged: UID $uid, no administrative group, no sudo rights"',
    ];
}

const LINUX_CREATE_USER = osUserScript({
    // useradd picks a UID from UID_MIN (1000) up and adds no group beyond --gid users.
    create: ['  useradd --create-home --gid users --shell /bin/bash --comment "Session Manager Run As user" "$user"'],
    minUid: 1000,
    minUidReason: "the range below UID_MIN 1000 belongs to system accounts and daemons",
    adminGroupCheck: [
        // wheel and sudo grant sudo on most distributions, admin on older Ubuntu; adm reads every log.
        'for group in $(id -Gn "$user"); do',
        '  case "$group" in wheel|sudo|admin|adm) refuse "it is a member of the administrative group $group";; esac',
        "done",
    ],
});

const MACOS_CREATE_USER = osUserScript({
    create: [
        // The next free UniqueID, but never below 501, the first regular account.
        "  uid=$(( $(dscl . -list /Users UniqueID | awk '{print $2}' | sort -n | tail -1) + 1 ))",
        '  if [ "$uid" -lt 501 ]; then uid=501; fi',
        '  dscl . -create "/Users/$user"',
        '  dscl . -create "/Users/$user" UserShell /bin/zsh',
        '  dscl . -create "/Users/$user" RealName "Session Manager Run As user"',
        '  dscl . -create "/Users/$user" UniqueID "$uid"',
        '  dscl . -create "/Users/$user" PrimaryGroupID 20',
        '  dscl . -create "/Users/$user" NFSHomeDirectory "/Users/$user"',
        "  # No password: the account cannot log in except through Session Manager.",
        '  dscl . -create "/Users/$user" Password "*"',
        '  createhomedir -c -u "$user" >/dev/null',
    ],
    // macOS numbers its first regular (console) user 501; UIDs up to 500 are system
    // accounts (the _-prefixed daemons), and nobody is -2.
    minUid: 501,
    minUidReason: "macOS system accounts live below 501, the first regular user",
    // dseditgroup resolves nested groups, which a look at the admin group's members would miss.
    adminGroupCheck: [
        'if dseditgroup -o checkmember -m "$user" admin >/dev/null 2>&1; then refuse "it is a member of the admin group (a macOS administrator)"; fi',
    ],
});

// Run As does not exist on Windows: sessions there run as ssm-user, a local administrator.
// Failing the step makes the association report the instance instead of skipping it quietly.
const WINDOWS_REFUSE = [
    "$user = '{{ userName }}'",
    '[Console]::Error.WriteLine("Run As is Linux and macOS only: this Windows instance gets no OS user $user, and Session Manager sessions on it run as ssm-user, a local administrator. Do not open Windows instances to third parties.")',
    "exit 1",
];

/**
 * Command document that creates one unprivileged OS user, idempotently, on Linux
 * (useradd) or macOS (dscl), each step chosen by platform precondition, and refuses any
 * name that is reserved or already belongs to a privileged account. On Windows, where
 * Run As does not exist, it fails.
 */
export function createOsUserDocument() {
    return {
        schemaVersion: "2.2",
        description:
            "Creates an unprivileged OS user for Session Manager Run As if it does not exist; refuses reserved names and existing privileged accounts. Managed by Pulumi (third-party-ssm-access).",
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
            {
                action: "aws:runPowerShellScript",
                name: "refuseWindows",
                precondition: { StringEquals: ["platformType", "Windows"] },
                inputs: { runCommand: WINDOWS_REFUSE },
            },
        ],
    };
}

// ---------------------------------------------------------------------------------------
// The metadata guard. Any local user can read the instance role's credentials from the
// instance metadata service: IMDSv2 and a hop limit of 1 stop containers and forwarded
// traffic, not a local process. A host firewall rule on the process owner closes it to
// every user but root. The SSM agent (and cloud-init) run as root and keep working.

/** The instance metadata service, on IPv4 and (Nitro instances with the IPv6 endpoint on) IPv6. */
export const INSTANCE_METADATA_ADDRESSES = { ipv4: "169.254.169.254", ipv6: "fd00:ec2::254" } as const;

/** The nftables table (family `inet`) the guard owns and replaces on every run. */
export const METADATA_GUARD_NFT_TABLE = "imds_guard";

/** Where the user data installs the guard and its systemd unit. */
export const METADATA_GUARD_PATHS = { script: "/usr/local/sbin/imds-guard", unit: "/etc/systemd/system/imds-guard.service" } as const;

const { ipv4, ipv6 } = INSTANCE_METADATA_ADDRESSES;
const table = `inet ${METADATA_GUARD_NFT_TABLE}`;

/**
 * The guard, as shell lines (POSIX sh with `set -eu`; bash on Amazon Linux). Run as root.
 * With nft: one table of its own, replaced in one transaction, whose output chain rejects
 * traffic to both addresses from any socket not owned by UID 0. A reject in any base chain
 * is final, so an accept in another table cannot reopen it. Without nft: the same rule with
 * iptables/ip6tables and the owner match, checked with -C before it is inserted. With
 * neither, it fails: a quiet success would leave the metadata service open.
 */
export const METADATA_GUARD_SCRIPT: readonly string[] = [
    "set -eu",
    "# Closes the EC2 instance metadata service to every local user but root. Managed by Pulumi (third-party-ssm-access).",
    `ipv4='${ipv4}'`,
    `ipv6='${ipv6}'`,
    "if command -v nft >/dev/null 2>&1; then",
    "  ruleset=$(mktemp)",
    `  trap 'rm -f "$ruleset"' EXIT`,
    "  # One nft -f is one transaction. The bare table line creates the table when missing, so the",
    "  # delete always succeeds; the table is then defined anew. Run twice, one copy remains.",
    `  cat > "$ruleset" <<'NFT_RULESET'`,
    `table ${table}`,
    `delete table ${table}`,
    `table ${table} {`,
    "    chain output {",
    "        type filter hook output priority 0; policy accept;",
    `        meta skuid != 0 ip daddr ${ipv4} counter reject comment "instance metadata: root only"`,
    `        meta skuid != 0 ip6 daddr ${ipv6} counter reject comment "instance metadata: root only"`,
    "    }",
    "}",
    "NFT_RULESET",
    '  nft -f "$ruleset"',
    `  echo "imds-guard: loaded nftables table ${table}: traffic to $ipv4 and $ipv6 is rejected for every user but root (UID 0)"`,
    "elif command -v iptables >/dev/null 2>&1 && command -v ip6tables >/dev/null 2>&1; then",
    "  # No nft: -C first, so a second run adds nothing. Inserted at the top of OUTPUT rather than",
    "  # appended, so that an ACCEPT earlier in the chain cannot let the traffic through.",
    "  guard() {",
    '    if "$1" -w -C OUTPUT -d "$2" -m owner ! --uid-owner 0 -j REJECT 2>/dev/null; then',
    '      echo "imds-guard: $1 already rejects traffic to $2 for every user but root (UID 0)"',
    "    else",
    '      "$1" -w -I OUTPUT 1 -d "$2" -m owner ! --uid-owner 0 -j REJECT',
    '      echo "imds-guard: $1 now rejects traffic to $2 for every user but root (UID 0)"',
    "    fi",
    "  }",
    '  guard iptables "$ipv4"',
    '  guard ip6tables "$ipv6"',
    "else",
    '  echo "imds-guard: FAILED: neither nft nor iptables and ip6tables is installed, so the instance metadata service ($ipv4, $ipv6) stays open to every local user. Install nftables." >&2',
    "  exit 1",
    "fi",
];

/**
 * Command document that applies the guard. A State Manager association re-applies it on a
 * schedule, so an agent update or a flushed ruleset does not leave the service open.
 */
export function metadataGuardDocument() {
    return {
        schemaVersion: "2.2",
        description:
            "Closes the EC2 instance metadata service to every local user but root (nftables, or iptables). Managed by Pulumi (third-party-ssm-access).",
        mainSteps: [
            {
                action: "aws:runShellScript",
                name: "closeMetadataToNonRoot",
                precondition: { StringEquals: ["platformType", "Linux"] },
                inputs: { runCommand: [...METADATA_GUARD_SCRIPT] },
            },
        ],
    };
}

// The unit runs the guard at every boot, before any network interface is configured:
// Before=network-pre.target, and Wants= it, because that target is passive and exists only
// when a firewall asks for it (systemd.special(7)). DefaultDependencies=no because the
// default ordering after sysinit.target would form a cycle on cloud-init images, whose
// network stage (cloud-init.service) brings the network up before sysinit.target; the guard
// needs only local file systems (its script, and mktemp's /tmp). WantedBy=multi-user.target,
// the default target of server AMIs, as nftables.service and firewalld do.
const METADATA_GUARD_UNIT = [
    "# Managed by Pulumi (third-party-ssm-access). Runs before any network interface is configured;",
    "# no default dependencies, because cloud-init brings the network up before sysinit.target.",
    "[Unit]",
    "Description=Close the EC2 instance metadata service to every user but root",
    "DefaultDependencies=no",
    "After=local-fs.target",
    "Before=network-pre.target",
    "Wants=network-pre.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${METADATA_GUARD_PATHS.script}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
];

/** Writes `lines` to `path` through a quoted heredoc, so the shell expands nothing in them. */
function writeFile(path: string, delimiter: string, lines: readonly string[]): string[] {
    if (lines.includes(delimiter)) throw new Error(`heredoc delimiter ${delimiter} occurs in the text it delimits`);
    return [`cat > ${path} <<'${delimiter}'`, ...lines, delimiter];
}

/**
 * EC2 user data (a bash script for cloud-init) that installs the guard, enables a systemd
 * unit that runs it at every boot before the network comes up, and runs it now. It writes
 * exactly `METADATA_GUARD_SCRIPT`, the script the document runs.
 */
export function metadataGuardUserData(): string {
    return [
        "#!/bin/bash",
        "# Closes the EC2 instance metadata service to every local user but root, now and at every boot. Managed by Pulumi (third-party-ssm-access).",
        "set -eu",
        `mkdir -p ${METADATA_GUARD_PATHS.script.replace(/\/[^/]+$/, "")}`,
        ...writeFile(METADATA_GUARD_PATHS.script, "IMDS_GUARD_SCRIPT", ["#!/bin/bash", ...METADATA_GUARD_SCRIPT]),
        `chmod 0755 ${METADATA_GUARD_PATHS.script}`,
        ...writeFile(METADATA_GUARD_PATHS.unit, "IMDS_GUARD_UNIT", METADATA_GUARD_UNIT),
        "systemctl daemon-reload",
        `systemctl enable ${METADATA_GUARD_PATHS.unit.replace(/^.*\//, "")}`,
        // Run it here rather than with systemctl start: its output lands in cloud-init's log,
        // its failure fails the user data, and no job is queued while boot is still under way.
        METADATA_GUARD_PATHS.script,
        "",
    ].join("\n");
}
