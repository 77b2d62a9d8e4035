// Pure functions that build IAM policy documents: plain data in, plain JSON-ready
// objects out. Components serialise them; tests evaluate them directly. Every ARN is
// built with the partition, never a literal "aws".

/** One IAM policy statement. */
export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** Where a policy applies: the account, region and partition of the resources it names. */
export interface AwsScope {
    /** `aws`, `aws-cn` or `aws-us-gov`. */
    partition: string;
    region: string;
    accountId: string;
    /** DNS suffix of the partition (`amazonaws.com`, `amazonaws.com.cn`), for service principals. */
    dnsSuffix: string;
    /** Reverse DNS prefix of the partition (`com.amazonaws`, `cn.com.amazonaws`), for VPC endpoint service names. */
    reverseDnsPrefix: string;
}

/** A policy field that may hold one value or a list (Action, Resource, ...), as a list. */
export function asList<T>(value: T | T[] | undefined): T[] {
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The statements of a policy document given as JSON text. */
export function statementsOf(json: string): PolicyStatement[] {
    return (JSON.parse(json) as PolicyDocument).Statement;
}

export function policy(...statements: PolicyStatement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

/** The service principal of an AWS service in a partition, e.g. `ec2.amazonaws.com`. */
export function servicePrincipal(service: string, dnsSuffix: string): string {
    return `${service}.${dnsSuffix}`;
}

/** ARN of an AWS managed policy, e.g. AmazonSSMManagedInstanceCore. */
export function awsManagedPolicyArn(partition: string, policyName: string): string {
    return `arn:${partition}:iam::aws:policy/${policyName}`;
}

/** ARN of an account's root principal: "the account", for trust and key policies. */
export function accountRootArn(partition: string, accountId: string): string {
    return `arn:${partition}:iam::${accountId}:root`;
}

/** ARN of a CloudWatch Logs group. */
export function logGroupArn(scope: AwsScope, logGroupName: string): string {
    return `arn:${scope.partition}:logs:${scope.region}:${scope.accountId}:log-group:${logGroupName}`;
}

/** ARN pattern of every stream in a CloudWatch Logs group. */
export function logStreamsArn(scope: AwsScope, logGroupName: string): string {
    return `${logGroupArn(scope, logGroupName)}:log-stream:*`;
}

/** Trust policy letting an AWS service assume a role, optionally only on behalf of this account's resources. */
export function serviceTrustPolicy(service: string, scope: AwsScope, sourceArnPattern?: string): PolicyDocument {
    const statement: PolicyStatement = {
        Effect: "Allow",
        Principal: { Service: servicePrincipal(service, scope.dnsSuffix) },
        Action: "sts:AssumeRole",
    };
    // Confused-deputy protection for services acting for other accounts.
    if (sourceArnPattern !== undefined) {
        statement.Condition = { StringEquals: { "aws:SourceAccount": scope.accountId }, ArnLike: { "aws:SourceArn": sourceArnPattern } };
    }
    return policy(statement);
}

/**
 * Statements that let a log writer (VPC Flow Logs, the SSM agent) deliver to one log
 * group: create and describe its streams, write events, and find the group, which
 * needs logs:DescribeLogGroups on "*" (it cannot be scoped to one group).
 */
function logDeliveryStatements(scope: AwsScope, logGroupName: string): PolicyStatement[] {
    return [
        { Sid: "DescribeStreams", Effect: "Allow", Action: "logs:DescribeLogStreams", Resource: logGroupArn(scope, logGroupName) },
        // Both act on log-stream resources (AWS's service authorization reference).
        {
            Sid: "CreateStreamsAndWriteEvents",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: logStreamsArn(scope, logGroupName),
        },
        { Sid: "FindLogGroup", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
    ];
}

/** What VPC Flow Logs needs to deliver to one log group. */
export function flowLogDeliveryPolicy(scope: AwsScope, logGroupName: string): PolicyDocument {
    return policy(...logDeliveryStatements(scope, logGroupName));
}

/** Inputs of the policy an instance role needs for the SSM agent to log sessions. */
export interface SessionLoggingPolicyArgs {
    scope: AwsScope;
    logGroupName: string;
    /** KMS key encrypting session data, when encryption is on. */
    sessionKeyArn?: string;
    /** S3 archive of session transcripts, when on. */
    archive?: { bucketName: string; keyPrefix: string };
}

/**
 * The instance role's session-logging permissions. The agent streams with the
 * instance's credentials, and AmazonSSMManagedInstanceCore has none of these.
 */
export function sessionLoggingPolicy(args: SessionLoggingPolicyArgs): PolicyDocument {
    const { scope, logGroupName } = args;
    // The agent streams with the instance's credentials; without DescribeLogGroups on "*" sessions hang or fail.
    const statements = logDeliveryStatements(scope, logGroupName);
    if (args.sessionKeyArn !== undefined) {
        statements.push({ Sid: "DecryptSessionData", Effect: "Allow", Action: "kms:Decrypt", Resource: args.sessionKeyArn });
    }
    if (args.archive !== undefined) {
        const bucketArn = `arn:${scope.partition}:s3:::${args.archive.bucketName}`;
        statements.push(
            { Sid: "ArchiveSessionTranscripts", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/${args.archive.keyPrefix}*` },
            { Sid: "CheckArchiveEncryption", Effect: "Allow", Action: "s3:GetEncryptionConfiguration", Resource: bucketArn },
        );
    }
    return policy(...statements);
}

/** Inputs of the session KMS key's policy. */
export interface SessionKeyPolicyArgs {
    scope: AwsScope;
    logGroupName: string;
    /** Instance roles that decrypt session data. */
    instanceRoleArns: string[];
    /**
     * Tag key that marks the roles starting sessions (the grant roles' access tag): roles
     * carrying it may generate data keys. A tag, not a list of ARNs, keeps the key policy
     * the same size and unchanged however many partners come and go.
     */
    sessionRoleTagKey: string;
}

const KEY_ADMINISTRATION_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/**
 * Key policy of the session key. The account administers the key (so it can never
 * be locked out) but uses it only through: CloudWatch Logs for this log group only, the
 * instance roles (by `aws:PrincipalArn`) to decrypt, and roles carrying the access tag
 * (the grant roles) to generate data keys. Each use also needs the principal's own
 * identity policy, since the account is the principal.
 */
export function sessionKeyPolicy(args: SessionKeyPolicyArgs): PolicyDocument {
    const { scope } = args;
    const account = accountRootArn(scope.partition, scope.accountId);
    const statements: PolicyStatement[] = [
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: account }, Action: KEY_ADMINISTRATION_ACTIONS, Resource: "*" },
        {
            Sid: "CloudWatchLogsUsesKeyForSessionLogGroup",
            Effect: "Allow",
            Principal: { Service: servicePrincipal(`logs.${scope.region}`, scope.dnsSuffix) },
            // Only actions that carry an encryption context: the condition could never match others.
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            Resource: "*",
            Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupArn(scope, args.logGroupName) } },
        },
    ];
    if (args.instanceRoleArns.length > 0) {
        statements.push({
            Sid: "InstanceRolesDecryptSessionData",
            Effect: "Allow",
            Principal: { AWS: account },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: { ArnEquals: { "aws:PrincipalArn": args.instanceRoleArns } },
        });
    }
    statements.push({
        Sid: "SessionRolesGenerateDataKeys",
        Effect: "Allow",
        Principal: { AWS: account },
        Action: "kms:GenerateDataKey",
        Resource: "*",
        Condition: { Null: { [`aws:PrincipalTag/${args.sessionRoleTagKey}`]: "false" } },
    });
    return policy(...statements);
}

/** Bucket policy refusing every request not made over TLS. */
export function tlsOnlyBucketPolicy(partition: string, bucketName: string): PolicyDocument {
    const bucketArn = `arn:${partition}:s3:::${bucketName}`;
    return policy({
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
}

/** Inputs of a grant role's trust policy. */
export interface GrantTrustPolicyArgs {
    partition: string;
    /** The partner's account: the principal, narrowed by `principalArns`. */
    partnerAccountId: string;
    /** The partner's principals allowed to assume the grant (its jump role). */
    principalArns: string[];
    /** The partner's external id (confused-deputy protection). */
    externalId: string;
    /** Access ends at this ISO 8601 UTC time. */
    expiresAt?: string;
    /** Refuse AssumeRole without a source identity. */
    requireSourceIdentity: boolean;
}

/**
 * Trust policy of a grant role. The partner's account is the principal and
 * `aws:PrincipalArn` narrows it to the partner's jump role: as strict as naming the
 * role, but it does not need the role to exist when saved and keeps working if the
 * partner recreates it. AssumeRole needs the partner's external id; SetSourceIdentity
 * is allowed (a source identity set earlier in the chain needs it). `sts:TagSession`
 * is never allowed: session tags would override `SSMSessionRunAs` and the access tag.
 */
export function grantTrustPolicy(args: GrantTrustPolicyArgs): PolicyDocument {
    // Global keys only on SetSourceIdentity: sts:ExternalId is documented for AssumeRole alone,
    // and SetSourceIdentity grants nothing without a successful AssumeRole.
    const narrowed: Record<string, Record<string, string | string[]>> = { ArnEquals: { "aws:PrincipalArn": args.principalArns } };
    if (args.expiresAt !== undefined) narrowed.DateLessThan = { "aws:CurrentTime": args.expiresAt };
    const principal = { AWS: accountRootArn(args.partition, args.partnerAccountId) };
    return policy(
        {
            Sid: "PartnerAssumesWithExternalId",
            Effect: "Allow",
            Principal: principal,
            Action: "sts:AssumeRole",
            Condition: {
                StringEquals: { "sts:ExternalId": args.externalId },
                ...narrowed,
                ...(args.requireSourceIdentity ? { Null: { "sts:SourceIdentity": "false" } } : {}),
            },
        },
        { Sid: "PartnerSetsSourceIdentity", Effect: "Allow", Principal: principal, Action: "sts:SetSourceIdentity", Condition: narrowed },
    );
}

/** Inputs of the grant roles' permissions policy. */
export interface GrantPermissionsPolicyArgs {
    scope: AwsScope;
    /** Instance tag key compared with the role's own tag of the same key (ABAC). */
    accessTagKey: string;
    /** Session preferences document, the only one sessions may use. */
    sessionDocumentName: string;
    /** KMS key encrypting session data, when encryption is on. */
    sessionKeyArn?: string;
}

// IAM policy variables, in plain strings so TypeScript never interpolates them.
const CALLER_USER_ID = "${aws:userid}";
const principalTag = (key: string) => "${aws:PrincipalTag/" + key + "}";

/**
 * Permissions of every grant role: the same document for every partner, because the
 * instance's access tag is compared with the role's own tag (true ABAC). Sessions only
 * with the preferences document (no port forwarding), end only one's own sessions,
 * never assume another role or list sessions, and nothing on CloudWatch Logs.
 */
export function grantPermissionsPolicy(args: GrantPermissionsPolicyArgs): PolicyDocument {
    const { scope, accessTagKey } = args;
    const ssm = `arn:${scope.partition}:ssm:${scope.region}:${scope.accountId}`;
    const statements: PolicyStatement[] = [
        {
            Sid: "ListInstancesAndConnectionStatus",
            Effect: "Allow",
            Action: ["ec2:DescribeInstances", "ssm:DescribeInstanceProperties", "ssm:GetConnectionStatus"],
            Resource: "*",
        },
        {
            Sid: "StartSessionOnInstancesTaggedForThisPartner",
            Effect: "Allow",
            Action: "ssm:StartSession",
            Resource: [`arn:${scope.partition}:ec2:${scope.region}:${scope.accountId}:instance/*`, `${ssm}:managed-instance/*`],
            // The document check makes Session Manager also require the document statement below.
            Condition: {
                StringEquals: { [`ssm:resourceTag/${accessTagKey}`]: principalTag(accessTagKey) },
                BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" },
            },
        },
        {
            // Documents carry no instance tags, so they need a statement of their own.
            Sid: "StartSessionWithThePreferencesDocumentOnly",
            Effect: "Allow",
            Action: "ssm:StartSession",
            Resource: `${ssm}:document/${args.sessionDocumentName}`,
            Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
        },
        {
            Sid: "EndOnlyOwnSessions",
            Effect: "Allow",
            Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
            Resource: `${ssm}:session/*`,
            Condition: { StringEquals: { "ssm:resourceTag/aws:ssmmessages:session-id": CALLER_USER_ID } },
        },
        { Sid: "NoRoleChainingNoSessionListing", Effect: "Deny", Action: ["sts:AssumeRole", "ssm:DescribeSessions"], Resource: "*" },
    ];
    if (args.sessionKeyArn !== undefined) {
        statements.push({ Sid: "EncryptSessionData", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: args.sessionKeyArn });
    }
    return policy(...statements);
}

/**
 * Trust policy of the partner's jump role: its own account as principal, narrowed by
 * `aws:PrincipalArn` to the remote-access users or the federated role (so a recreated
 * SSO role keeps working). They may assume it and set a source identity; nothing else.
 */
export function jumpRoleTrustPolicy(partition: string, accountId: string, principalArns: string[]): PolicyDocument {
    return policy({
        Sid: "RemoteAccessPrincipalsAssume",
        Effect: "Allow",
        Principal: { AWS: accountRootArn(partition, accountId) },
        Action: ["sts:AssumeRole", "sts:SetSourceIdentity"],
        Condition: { ArnEquals: { "aws:PrincipalArn": principalArns } },
    });
}

/**
 * Identity policy allowing exactly one role to be assumed, with a source identity
 * (which needs sts:SetSourceIdentity on the caller's side too), and, when given, only
 * with that external id.
 */
export function assumeOneRolePolicy(roleArn: string, externalId?: string): PolicyDocument {
    const assume: PolicyStatement = { Sid: "AssumeTheRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: roleArn };
    if (externalId !== undefined) assume.Condition = { StringEquals: { "sts:ExternalId": externalId } };
    return policy(assume, { Sid: "SetSourceIdentityOnTheRole", Effect: "Allow", Action: "sts:SetSourceIdentity", Resource: roleArn });
}
