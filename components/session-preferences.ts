// Session Manager's account-wide preferences: Run As with an unprivileged default
// user, every session streamed to an audit log group, optional KMS encryption and S3
// archive (locked, moved to colder storage, expired when asked, every request on it logged),
// and the permissions the instances need to deliver those logs.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_IDLE_TIMEOUT_MINUTES, DEFAULT_MAX_SESSION_DURATION_MINUTES, SESSION_PREFERENCES_DOCUMENT } from "./constants";
import { sessionPreferencesDocument, type ShellProfile } from "./documents";
import {
    accessLogBucketPolicy,
    archiveBucketPolicyStatements,
    sessionKeyPolicy,
    sessionKeyPolicyStatements,
    sessionLoggingPolicy,
    tlsOnlyBucketPolicy,
    type AwsScope,
} from "./policies";
import { checkedInput, requireValid } from "./guard";
import {
    ACCESS_TAG_KEY,
    ARCHIVE_LIFECYCLE_DAYS,
    ARCHIVE_RETENTION_DAYS,
    archiveLifecycleProblems,
    BUCKET_NAME,
    bringYourOwnProblems,
    CREATED_ARCHIVE_SETTINGS,
    KMS_KEY_ARN,
    kmsKeyRegionProblem,
    IDLE_TIMEOUT_MINUTES,
    LOG_GROUP_NAME,
    LOG_RETENTION,
    MAX_SESSION_DURATION_MINUTES,
    DEFAULT_RUN_AS_USER,
    oneOfRule,
} from "./rules";
import { scopeFor } from "./scope";
import { componentType, withFormerType } from "./type-tokens";

/** Key prefix of session transcripts in the S3 archive. */
export const ARCHIVE_KEY_PREFIX = "session-transcripts/";

/** The settings the preferences document is built from, resolved: the `yours` stack outputs them, so the live check can rebuild the document. */
export interface SessionPreferenceValues {
    logGroupName: string;
    runAsDefaultUser: string;
    idleTimeoutMinutes: number;
    maxSessionDurationMinutes: number;
    shellProfile?: ShellProfile;
    /** The session key, when sessions are encrypted (it encrypts the log group too). */
    kmsKeyArn?: string;
    /** The S3 archive bucket, when transcripts are archived. */
    archiveBucketName?: string;
}

/** The preferences document for these settings: what the component sends AWS, and what the live check expects AWS's default version to hold. */
export function sessionPreferencesContent(values: SessionPreferenceValues) {
    return sessionPreferencesDocument({
        logGroupName: values.logGroupName,
        logGroupEncrypted: values.kmsKeyArn !== undefined,
        runAsDefaultUser: values.runAsDefaultUser,
        idleTimeoutMinutes: values.idleTimeoutMinutes,
        maxSessionDurationMinutes: values.maxSessionDurationMinutes,
        kmsKeyId: values.kmsKeyArn,
        s3: values.archiveBucketName === undefined ? undefined : { bucketName: values.archiveBucketName, keyPrefix: ARCHIVE_KEY_PREFIX },
        shellProfile: values.shellProfile,
    });
}

/**
 * Object Lock retention modes of the S3 archive: `GOVERNANCE` (principals granted
 * `s3:BypassGovernanceRetention` can still delete) or `COMPLIANCE` (nobody can, the account
 * root included, before the retention ends). An `as const` object, so the package schema
 * gets an enum.
 */
export const ArchiveRetentionMode = { GOVERNANCE: "GOVERNANCE", COMPLIANCE: "COMPLIANCE" } as const;
export type ArchiveRetentionMode = (typeof ArchiveRetentionMode)[keyof typeof ArchiveRetentionMode];

/** The retention modes, in the order error messages list them. */
export const ARCHIVE_RETENTION_MODES: readonly ArchiveRetentionMode[] = Object.values(ArchiveRetentionMode);

/** An Object Lock retention mode. */
export const ARCHIVE_RETENTION_MODE = oneOfRule<ArchiveRetentionMode>(ARCHIVE_RETENTION_MODES, `one of ${ARCHIVE_RETENTION_MODES.join(", ")}`);

/**
 * Storage classes archived transcripts may move to (S3 lifecycle transitions). An `as const`
 * object, so the package schema gets an enum.
 */
export const ArchiveStorageClass = { STANDARD_IA: "STANDARD_IA", GLACIER_IR: "GLACIER_IR", GLACIER: "GLACIER", DEEP_ARCHIVE: "DEEP_ARCHIVE" } as const;
export type ArchiveStorageClass = (typeof ArchiveStorageClass)[keyof typeof ArchiveStorageClass];

/** A storage class archived transcripts may move to. */
export const ARCHIVE_STORAGE_CLASS = oneOfRule<ArchiveStorageClass>(
    Object.values(ArchiveStorageClass),
    `one of ${Object.values(ArchiveStorageClass).join(", ")}`,
);

/** Default days an archived transcript is locked. */
export const DEFAULT_ARCHIVE_RETENTION_DAYS = 365;

/** Default days before an archived transcript moves to colder storage, and the class it moves to. */
export const DEFAULT_ARCHIVE_TRANSITION_DAYS = 90;
export const DEFAULT_ARCHIVE_STORAGE_CLASS: ArchiveStorageClass = ArchiveStorageClass.GLACIER_IR;

/** Key prefix of the archive's server access logs in their bucket. */
export const ARCHIVE_ACCESS_LOG_PREFIX = "archive-access/";

export interface SessionPreferencesArgs {
    /** Name of the CloudWatch Logs group receiving session transcripts. */
    logGroupName: pulumi.Input<string>;
    /** Days transcripts are kept (a CloudWatch Logs retention value; 0 keeps them forever). */
    logRetentionDays: pulumi.Input<number>;
    /** OS user for sessions by principals without an `SSMSessionRunAs` tag; must exist on the instances. */
    defaultOsUser: pulumi.Input<string>;
    /** Minutes of inactivity before a session ends (1-60). Default 20. */
    idleTimeoutMinutes?: pulumi.Input<number>;
    /** Longest session in minutes (1-1440). Default 60. */
    maxSessionDurationMinutes?: pulumi.Input<number>;
    /** Commands run at the start of every session. */
    shellProfile?: pulumi.Input<ShellProfile>;
    /** Create a customer-managed KMS key encrypting session data and the log group. */
    kmsEncryption?: boolean;
    /** Also archive transcripts to a new S3 bucket (encrypted, private, TLS only, versioned, with Object Lock). */
    s3Archive?: boolean;
    /**
     * Encrypt with a KMS key of your own (in this region) instead of creating one; turns
     * encryption on. Its key policy needs the statements of output `kmsKeyPolicyStatements`.
     */
    existingKmsKeyArn?: pulumi.Input<string>;
    /**
     * Archive to a bucket of your own instead of creating one; turns the archive on. Its
     * lock, lifecycle, encryption and access logs are its owner's; its policy should carry the
     * statements of output `archiveBucketPolicyStatements`.
     */
    existingArchiveBucketName?: pulumi.Input<string>;
    /** Days each archived transcript is locked against overwriting and deletion (Object Lock default retention). Default 365. */
    archiveRetentionDays?: pulumi.Input<number>;
    /**
     * Object Lock mode of the archive: `GOVERNANCE` (default; principals granted
     * `s3:BypassGovernanceRetention` can still delete) or `COMPLIANCE` (nobody, the account
     * root included, can delete a transcript before its retention ends).
     */
    archiveRetentionMode?: ArchiveRetentionMode;
    /** Days after which an archived transcript moves to `archiveTransitionStorageClass`. Default 90. */
    archiveTransitionDays?: number;
    /** Storage class archived transcripts move to: `STANDARD_IA` (30 days or later), `GLACIER_IR` (default), `GLACIER` or `DEEP_ARCHIVE`. */
    archiveTransitionStorageClass?: ArchiveStorageClass;
    /** Days after which an archived transcript, and its server access logs, expire; at least `archiveRetentionDays`. Default: kept. */
    archiveExpirationDays?: number;
    /**
     * Adopt the account's existing `SSM-SessionManagerRunShell` (the console creates it the
     * first time anyone opens the preferences): import it instead of creating it, and leave
     * it in place when the stack is destroyed.
     */
    adoptExistingDocument?: boolean;
    /** ARNs of instance roles that deliver session logs: each gets the logging policy, and may decrypt with the key. */
    instanceRoleArns?: pulumi.Input<string>[];
    /** Tag key carried by the roles that start sessions (the grant roles); they may generate data keys with the session key. */
    sessionRoleTagKey: string;
    /** Account, region and partition of this component's provider, when the caller already has them (saves three lookups per component); looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/**
 * The `SSM-SessionManagerRunShell` preferences, the audit log group, and optionally a
 * KMS key and an S3 archive. `instancePolicy` is what an instance role needs to log.
 */
export class SessionPreferences extends pulumi.ComponentResource {
    /** Name of the CloudWatch Logs group receiving session transcripts. */
    public readonly logGroupName: pulumi.Output<string>;
    /** ARN of that log group. */
    public readonly logGroupArn: pulumi.Output<string>;
    /** Name of the preferences document, `SSM-SessionManagerRunShell`: sessions must name it with `--document-name`. */
    public readonly documentName: pulumi.Output<string>;
    /** ARN of the session KMS key, when `kmsEncryption` is on. */
    public readonly kmsKeyArn?: pulumi.Output<string>;
    /** Name of the S3 archive bucket, when `s3Archive` is on. */
    public readonly archiveBucketName?: pulumi.Output<string>;
    /** Name of the bucket receiving the archive's server access logs (every request on the archive), when this component creates the archive. */
    public readonly archiveAccessLogBucketName?: pulumi.Output<string>;
    /** With `existingKmsKeyArn`: the key policy statements (JSON policy document) its owner must add. */
    public readonly kmsKeyPolicyStatements?: pulumi.Output<string>;
    /** With `existingArchiveBucketName`: the bucket policy statements (JSON policy document) its owner should add. */
    public readonly archiveBucketPolicyStatements?: pulumi.Output<string>;
    /** JSON policy an instance role needs for the SSM agent to deliver session logs. */
    public readonly instancePolicy: pulumi.Output<string>;

    constructor(name: string, args: SessionPreferencesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("SessionPreferences"), name, {}, withFormerType("SessionPreferences", "sessions", opts));
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);
        const instanceRoleArns = pulumi.all(args.instanceRoleArns ?? []);

        // The same rules the stack config applies, so the component is safe however it is called.
        const logGroupName = checkedInput(this, "logGroupName", args.logGroupName, LOG_GROUP_NAME.problem);
        const logRetentionDays = checkedInput(this, "logRetentionDays", args.logRetentionDays, LOG_RETENTION.problem);
        const defaultOsUser = checkedInput(this, "defaultOsUser", args.defaultOsUser, DEFAULT_RUN_AS_USER.problem);
        const idleTimeoutMinutes = checkedInput(
            this,
            "idleTimeoutMinutes",
            args.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES,
            IDLE_TIMEOUT_MINUTES.problem,
        );
        const maxSessionDurationMinutes = checkedInput(
            this,
            "maxSessionDurationMinutes",
            args.maxSessionDurationMinutes ?? DEFAULT_MAX_SESSION_DURATION_MINUTES,
            MAX_SESSION_DURATION_MINUTES.problem,
        );
        const archiveRetentionDays = checkedInput(
            this,
            "archiveRetentionDays",
            args.archiveRetentionDays ?? DEFAULT_ARCHIVE_RETENTION_DAYS,
            ARCHIVE_RETENTION_DAYS.problem,
        );
        const archiveRetentionMode = requireValid(
            this,
            "archiveRetentionMode",
            args.archiveRetentionMode ?? ArchiveRetentionMode.GOVERNANCE,
            ARCHIVE_RETENTION_MODE.problem,
        );
        requireValid(this, "sessionRoleTagKey", args.sessionRoleTagKey, ACCESS_TAG_KEY.problem);
        const lifecycle = {
            transitionDays: requireValid(
                this,
                "archiveTransitionDays",
                args.archiveTransitionDays ?? DEFAULT_ARCHIVE_TRANSITION_DAYS,
                ARCHIVE_LIFECYCLE_DAYS.problem,
            ),
            storageClass: requireValid(
                this,
                "archiveTransitionStorageClass",
                args.archiveTransitionStorageClass ?? DEFAULT_ARCHIVE_STORAGE_CLASS,
                ARCHIVE_STORAGE_CLASS.problem,
            ),
            expirationDays:
                args.archiveExpirationDays === undefined
                    ? undefined
                    : requireValid(this, "archiveExpirationDays", args.archiveExpirationDays, ARCHIVE_LIFECYCLE_DAYS.problem),
        };
        // Checked with the retention: now when it is plain (before any child), else when it resolves
        // (every lifecycle resource waits for the check).
        const checkLifecycle = (retentionDays: number) => {
            if (args.s3Archive)
                for (const { argument, problem } of archiveLifecycleProblems({ retentionDays, ...lifecycle }))
                    requireValid(this, argument, undefined, () => problem);
            return { retentionDays, ...lifecycle };
        };
        if (typeof archiveRetentionDays === "number") checkLifecycle(archiveRetentionDays);
        const checkedLifecycle = pulumi.output(archiveRetentionDays).apply(checkLifecycle);

        // A key or bucket of your own: checked now (plain) or when it resolves, before anything is fed from it.
        for (const { argument, problem } of bringYourOwnProblems({
            kmsEncryption: args.kmsEncryption,
            existingKey: args.existingKmsKeyArn !== undefined,
            s3Archive: args.s3Archive,
            existingBucket: args.existingArchiveBucketName !== undefined,
            settingsGiven: CREATED_ARCHIVE_SETTINGS.filter((setting) => args[setting] !== undefined),
        }))
            requireValid(this, argument, undefined, () => problem);
        const existingKeyArn =
            args.existingKmsKeyArn === undefined
                ? undefined
                : pulumi
                      .all([scope, checkedInput(this, "existingKmsKeyArn", args.existingKmsKeyArn, KMS_KEY_ARN.problem)])
                      .apply(([s, arn]) => requireValid(this, "existingKmsKeyArn", arn, (value) => kmsKeyRegionProblem(value, s.region)));
        const existingBucketName =
            args.existingArchiveBucketName === undefined
                ? undefined
                : pulumi.output(checkedInput(this, "existingArchiveBucketName", args.existingArchiveBucketName, BUCKET_NAME.problem));

        let key: aws.kms.Key | undefined;
        if (args.kmsEncryption && existingKeyArn === undefined) {
            key = new aws.kms.Key(
                `${name}-key`,
                {
                    description: "Encrypts Session Manager session data and its CloudWatch Logs transcripts",
                    enableKeyRotation: true,
                    deletionWindowInDays: 30,
                    policy: pulumi.jsonStringify(
                        pulumi
                            .all([scope, logGroupName, instanceRoleArns])
                            .apply(([s, logGroupName, instanceArns]) =>
                                sessionKeyPolicy({ scope: s, logGroupName, instanceRoleArns: instanceArns, sessionRoleTagKey: args.sessionRoleTagKey }),
                            ),
                    ),
                    tags: args.tags,
                },
                parent,
            );
            new aws.kms.Alias(`${name}-key`, { name: `alias/${name}-sessions`, targetKeyId: key.keyId }, parent);
        }

        const sessionKeyArn: pulumi.Output<string> | undefined = existingKeyArn ?? key?.arn;
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-log-group`,
            { name: logGroupName, retentionInDays: logRetentionDays, kmsKeyId: sessionKeyArn, tags: args.tags },
            parent,
        );

        let bucket: aws.s3.Bucket | undefined;
        let accessLogBucket: aws.s3.Bucket | undefined;
        if (args.s3Archive && existingBucketName === undefined) {
            bucket = new aws.s3.Bucket(`${name}-archive`, { forceDestroy: false, tags: args.tags }, parent);
            new aws.s3.BucketPublicAccessBlock(
                `${name}-archive`,
                { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                parent,
            );
            new aws.s3.BucketOwnershipControls(`${name}-archive`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
            // SSE-S3: Session Manager checks the bucket enforces encryption; no key grants needed.
            new aws.s3.BucketServerSideEncryptionConfiguration(
                `${name}-archive`,
                { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
                parent,
            );
            // Versioning keeps every transcript an overwrite would replace; Object Lock keeps each
            // version from deletion for the retention period. Enabled on the bucket in place, so an
            // existing archive is not replaced ("Object Lock", Amazon S3 User Guide).
            const versioning = new aws.s3.BucketVersioning(`${name}-archive`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
            new aws.s3.BucketObjectLockConfiguration(
                `${name}-archive`,
                {
                    bucket: bucket.id,
                    objectLockEnabled: "Enabled",
                    rule: {
                        defaultRetention: {
                            mode: archiveRetentionMode,
                            days: archiveRetentionDays,
                        },
                    },
                },
                { ...parent, dependsOn: [versioning] },
            );
            new aws.s3.BucketPolicy(
                `${name}-archive-tls-only`,
                {
                    bucket: bucket.id,
                    policy: pulumi.jsonStringify(pulumi.all([scope, bucket.bucket]).apply(([s, bucketName]) => tlsOnlyBucketPolicy(s.partition, bucketName))),
                },
                parent,
            );
            // Colder storage after a while, expiry if asked (never before the lock ends); versions an
            // overwrite replaced go when their own lock ends.
            new aws.s3.BucketLifecycleConfiguration(
                `${name}-archive`,
                {
                    bucket: bucket.id,
                    rules: checkedLifecycle.apply(({ retentionDays, transitionDays, storageClass, expirationDays }) => [
                        {
                            id: "transcripts",
                            status: "Enabled",
                            filter: { prefix: ARCHIVE_KEY_PREFIX },
                            transitions: [{ days: transitionDays, storageClass }],
                            ...(expirationDays === undefined ? {} : { expiration: { days: expirationDays } }),
                            noncurrentVersionExpiration: { noncurrentDays: retentionDays },
                            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                        },
                    ]),
                },
                { ...parent, dependsOn: [versioning] },
            );

            // Every request on the archive, reads included, is logged to a bucket of its own.
            accessLogBucket = new aws.s3.Bucket(`${name}-archive-access-logs`, { forceDestroy: false, tags: args.tags }, parent);
            new aws.s3.BucketPublicAccessBlock(
                `${name}-archive-access-logs`,
                { bucket: accessLogBucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                parent,
            );
            // Log delivery is granted by the bucket policy below, which owner-enforced buckets require (no ACLs).
            new aws.s3.BucketOwnershipControls(
                `${name}-archive-access-logs`,
                { bucket: accessLogBucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
                parent,
            );
            // Versioned, so a deleted or overwritten log is kept as an older version (S3 refuses access
            // logs into a bucket with a default Object Lock retention, so no lock here).
            new aws.s3.BucketVersioning(`${name}-archive-access-logs`, { bucket: accessLogBucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
            // SSE-S3: server access logs cannot be delivered to a bucket whose default encryption is SSE-KMS.
            new aws.s3.BucketServerSideEncryptionConfiguration(
                `${name}-archive-access-logs`,
                { bucket: accessLogBucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
                parent,
            );
            if (lifecycle.expirationDays !== undefined)
                new aws.s3.BucketLifecycleConfiguration(
                    `${name}-archive-access-logs`,
                    {
                        bucket: accessLogBucket.id,
                        rules: checkedLifecycle.apply(({ expirationDays }) => [
                            { id: "access-logs", status: "Enabled", filter: { prefix: ARCHIVE_ACCESS_LOG_PREFIX }, expiration: { days: expirationDays! } },
                        ]),
                    },
                    parent,
                );
            const logDelivery = new aws.s3.BucketPolicy(
                `${name}-archive-access-logs`,
                {
                    bucket: accessLogBucket.id,
                    policy: pulumi.jsonStringify(
                        pulumi
                            .all([scope, accessLogBucket.bucket, bucket.bucket])
                            .apply(([s, logBucketName, sourceBucketName]) =>
                                accessLogBucketPolicy({ scope: s, logBucketName, sourceBucketName, keyPrefix: ARCHIVE_ACCESS_LOG_PREFIX }),
                            ),
                    ),
                },
                parent,
            );
            new aws.s3.BucketLogging(
                `${name}-archive`,
                { bucket: bucket.id, targetBucket: accessLogBucket.id, targetPrefix: ARCHIVE_ACCESS_LOG_PREFIX },
                { ...parent, dependsOn: [logDelivery] },
            );
        }

        const archiveBucketName: pulumi.Output<string> | undefined = existingBucketName ?? bucket?.bucket;
        const content = pulumi
            .all([logGroupName, defaultOsUser, idleTimeoutMinutes, maxSessionDurationMinutes, args.shellProfile, sessionKeyArn, archiveBucketName])
            .apply(([logGroupName, runAsDefaultUser, idleTimeoutMinutes, maxSessionDurationMinutes, shellProfile, kmsKeyArn, archiveBucketName]) =>
                JSON.stringify(
                    sessionPreferencesContent({
                        logGroupName,
                        runAsDefaultUser,
                        idleTimeoutMinutes,
                        maxSessionDurationMinutes,
                        shellProfile,
                        kmsKeyArn,
                        archiveBucketName,
                    }),
                    null,
                    2,
                ),
            );
        const document = new aws.ssm.Document(
            `${name}-preferences`,
            { name: SESSION_PREFERENCES_DOCUMENT, documentType: "Session", documentFormat: "JSON", content, tags: args.tags },
            args.adoptExistingDocument
                ? // Import the console-created document, and never delete the account's preferences on destroy.
                  { ...parent, import: SESSION_PREFERENCES_DOCUMENT, retainOnDelete: true, dependsOn: [logGroup] }
                : { ...parent, dependsOn: [logGroup] },
        );

        this.instancePolicy = pulumi.jsonStringify(
            pulumi.all([scope, logGroup.name, sessionKeyArn, archiveBucketName]).apply(([s, logGroupName, sessionKeyArn, bucketName]) =>
                sessionLoggingPolicy({
                    scope: s,
                    logGroupName,
                    sessionKeyArn,
                    archive: bucketName === undefined ? undefined : { bucketName, keyPrefix: ARCHIVE_KEY_PREFIX },
                }),
            ),
        );
        (args.instanceRoleArns ?? []).forEach((roleArn, i) => {
            new aws.iam.RolePolicy(
                `${name}-instance-logging-${i + 1}`,
                { role: pulumi.output(roleArn).apply((arn) => arn.split("/").pop()!), policy: this.instancePolicy },
                parent,
            );
        });

        this.logGroupName = logGroup.name;
        this.logGroupArn = logGroup.arn;
        this.documentName = document.name;
        this.kmsKeyArn = sessionKeyArn;
        this.archiveBucketName = archiveBucketName;
        // What the owner of a key or bucket of your own must apply for sessions to work.
        if (existingKeyArn !== undefined)
            this.kmsKeyPolicyStatements = pulumi.jsonStringify(
                pulumi
                    .all([scope, logGroupName, instanceRoleArns])
                    .apply(([s, logGroupName, instanceArns]) =>
                        sessionKeyPolicyStatements({ scope: s, logGroupName, instanceRoleArns: instanceArns, sessionRoleTagKey: args.sessionRoleTagKey }),
                    ),
            );
        if (existingBucketName !== undefined)
            this.archiveBucketPolicyStatements = pulumi.jsonStringify(
                pulumi
                    .all([scope, existingBucketName, instanceRoleArns])
                    .apply(([s, bucketName, instanceArns]) =>
                        archiveBucketPolicyStatements({ partition: s.partition, bucketName, keyPrefix: ARCHIVE_KEY_PREFIX, instanceRoleArns: instanceArns }),
                    ),
            );
        this.archiveAccessLogBucketName = accessLogBucket?.bucket;
        this.registerOutputs({
            logGroupName: this.logGroupName,
            logGroupArn: this.logGroupArn,
            documentName: this.documentName,
            kmsKeyArn: this.kmsKeyArn,
            archiveBucketName: this.archiveBucketName,
            archiveAccessLogBucketName: this.archiveAccessLogBucketName,
            kmsKeyPolicyStatements: this.kmsKeyPolicyStatements,
            archiveBucketPolicyStatements: this.archiveBucketPolicyStatements,
            instancePolicy: this.instancePolicy,
        });
    }
}
