// The Session Manager preferences document, as a pure builder: data in, a JSON-ready
// object out, so tests can check exactly what AWS receives. The other documents this
// project creates live beside it: os-user-document.ts and metadata-guard-scripts.ts.

/** Inputs of the Session Manager preferences document (`SSM-SessionManagerRunShell`). */
/** Commands run at the start of every session, per platform. */
export interface ShellProfile {
    /** Shell commands for Linux and macOS instances. */
    linux?: string;
    /** PowerShell commands for Windows instances. */
    windows?: string;
}

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
    shellProfile?: ShellProfile;
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
