// Pure functions that build IAM policy documents: plain data in, plain JSON-ready
// objects out. Components serialise them; tests evaluate them directly. Every ARN is
// built with the partition, never a literal "aws".

import { RUN_AS_TAG_KEY, personOsUser } from "./constants";

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
    /** Region the component's resources are in, e.g. `us-east-1`. */
    region: string;
    /** The 12-digit id of the account the component's resources are in. */
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

/** The statements of the session key policy a key of your own needs (the account's own administration left to its owner). */
export function sessionKeyPolicyStatements(args: SessionKeyPolicyArgs): PolicyDocument {
    return policy(...sessionKeyPolicy(args).Statement.filter((s) => s.Sid !== "AccountAdministersKey"));
}

/** The statements an archive bucket of your own needs: TLS only, and the instance roles writing transcripts (needed when it is in another account). */
export function archiveBucketPolicyStatements(args: { partition: string; bucketName: string; keyPrefix: string; instanceRoleArns: string[] }): PolicyDocument {
    const bucketArn = `arn:${args.partition}:s3:::${args.bucketName}`;
    const statements = [...tlsOnlyBucketPolicy(args.partition, args.bucketName).Statement];
    if (args.instanceRoleArns.length > 0)
        statements.push(
            {
                Sid: "InstanceRolesArchiveTranscripts",
                Effect: "Allow",
                Principal: { AWS: args.instanceRoleArns },
                Action: "s3:PutObject",
                Resource: `${bucketArn}/${args.keyPrefix}*`,
            },
            {
                Sid: "InstanceRolesCheckArchiveEncryption",
                Effect: "Allow",
                Principal: { AWS: args.instanceRoleArns },
                Action: "s3:GetEncryptionConfiguration",
                Resource: bucketArn,
            },
        );
    return policy(...statements);
}

/**
 * Key policy of the alert topic's key: the account administers it; EventBridge may generate
 * data keys and decrypt, which publishing to an encrypted topic needs, for the alert topic
 * only. Nobody else uses it.
 *
 * The EventBridge statement must not carry `aws:SourceAccount` or `aws:SourceArn`: the SNS
 * Developer Guide ("Enable compatibility between event sources from AWS services and
 * encrypted topics") says they are not supported for EventBridge-to-encrypted-topic, so KMS
 * refuses and the rule's publish fails silently (landing-zone-accelerator-on-aws issue 407).
 * SNS sends the topic's ARN as encryption context (`aws:sns:topicArn`), which scopes it instead.
 */
export function alertKeyPolicy(scope: AwsScope, topicArn: string): PolicyDocument {
    const account = accountRootArn(scope.partition, scope.accountId);
    return policy(
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: account }, Action: KEY_ADMINISTRATION_ACTIONS, Resource: "*" },
        {
            Sid: EVENTBRIDGE_ENCRYPTS_ALERTS_SID,
            Effect: "Allow",
            Principal: { Service: servicePrincipal("events", scope.dnsSuffix) },
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: "*",
            Condition: { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": topicArn } },
        },
    );
}

/** Sid of the alert key statement that lets EventBridge encrypt for the alert topic. */
export const EVENTBRIDGE_ENCRYPTS_ALERTS_SID = "EventBridgeEncryptsForTheAlertTopic";

/** Topic policy of the alert topic: only its EventBridge rules may publish (not another rule, nor a custom bus's); nothing over plain HTTP. */
export function alertTopicPolicy(scope: AwsScope, topicArn: string, ruleArn: string | string[]): PolicyDocument {
    return policy(
        {
            Sid: "OnlyTheAlertRulePublishes",
            Effect: "Allow",
            Principal: { Service: servicePrincipal("events", scope.dnsSuffix) },
            Action: "sns:Publish",
            Resource: topicArn,
            Condition: {
                ArnEquals: { "aws:SourceArn": ruleArn },
                StringEquals: { "aws:SourceAccount": scope.accountId },
            },
        },
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sns:Publish",
            Resource: topicArn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
    );
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

/** Policy of the bucket receiving the archive's server access logs: TLS only, and S3's log delivery for that one source bucket. */
export function accessLogBucketPolicy(args: { scope: AwsScope; logBucketName: string; sourceBucketName: string; keyPrefix: string }): PolicyDocument {
    const { scope, logBucketName, sourceBucketName, keyPrefix } = args;
    const logBucketArn = `arn:${scope.partition}:s3:::${logBucketName}`;
    return policy(...tlsOnlyBucketPolicy(scope.partition, logBucketName).Statement, {
        Sid: "ServerAccessLogsOfTheArchiveOnly",
        Effect: "Allow",
        Principal: { Service: servicePrincipal("logging.s3", scope.dnsSuffix) },
        Action: "s3:PutObject",
        Resource: `${logBucketArn}/${keyPrefix}*`,
        Condition: {
            ArnLike: { "aws:SourceArn": `arn:${scope.partition}:s3:::${sourceBucketName}` },
            StringEquals: { "aws:SourceAccount": scope.accountId },
        },
    });
}

/** Inputs of a grant role's trust policy. */
export interface GrantTrustPolicyArgs {
    partition: string;
    /**
     * The region whose STS endpoint alone may issue the grant's credentials: the one where the
     * alert rule listens (CloudTrail records a call to a regional STS endpoint in that region only).
     */
    region: string;
    /** The partner's account: the principal, narrowed by `principalArns`. */
    partnerAccountId: string;
    /** The partner's principals allowed to assume the grant (its jump role). */
    principalArns: string[];
    /** The partner's external id (confused-deputy protection). */
    externalId: string;
    /** Access ends at this ISO 8601 UTC time. */
    expiresAt?: string;
    /** Refuse AssumeRole without a source identity, and name the role session after it. */
    requireSourceIdentity: boolean;
    /**
     * Per-person Run As: every session must be tagged `SSMSessionRunAs` = `<this base>-<its source
     * identity>`, and with no other tag. Needs `requireSourceIdentity`.
     */
    perPersonOsUserBase?: string;
}

// IAM policy variables, in plain strings so TypeScript never interpolates them.
const CALLER_USER_ID = "${aws:userid}";
const CALLER_USER_NAME = "${aws:username}";
/** The source identity the calling session already carries (set earlier in the chain, fixed from then on). */
const CALLER_SOURCE_IDENTITY = "${aws:SourceIdentity}";
const principalTag = (key: string) => "${aws:PrincipalTag/" + key + "}";

/**
 * Trust policy of a grant role. The partner's account is the principal and
 * `aws:PrincipalArn` narrows it to the partner's jump role: as strict as naming the
 * role, but it does not need the role to exist when saved and keeps working if the
 * partner recreates it. AssumeRole needs the partner's external id; SetSourceIdentity
 * is allowed (a source identity set earlier in the chain needs it). `sts:TagSession`
 * is never allowed, except as below: session tags would override `SSMSessionRunAs` and
 * the access tag.
 *
 * With per-person Run As, AssumeRole requires the session tag `SSMSessionRunAs`, and
 * TagSession allows that one key only, with one value: the base, "-", then the source
 * identity the chain already carries (`${aws:SourceIdentity}`, fixed once set; AWS's own
 * pattern is in "Pass session tags in AWS STS", IAM User Guide: AssumeRole requiring the
 * tags, TagSession allowing them). So each person runs as their own OS user, named by who
 * they are, never by a value they choose; the tag overrides no other, and the role itself
 * carries no Run As tag. A Run As tag inherited as transitive from the partner's session
 * cannot stand in: passing a key already inherited fails the call ("AssumeRole", AWS STS
 * API Reference, Tags), and the call must pass this one. One condition, whatever the
 * number of people: the trust stays the same size.
 *
 * With a source identity required, the role session name must equal it: the session
 * id Session Manager derives from `${aws:userid}` (ROLEID:session-name) then names the
 * person CloudTrail names, and ending or resuming "own" sessions means that person's.
 *
 * Only the STS endpoint of `region` may issue the credentials (`aws:RequestedRegion`):
 * CloudTrail records a call to a regional STS endpoint in that endpoint's region
 * ("Logging IAM and AWS STS API calls with AWS CloudTrail", IAM User Guide), and an
 * EventBridge rule sees only its own region's events, so an AssumeRole through another
 * region would succeed with no alert. The global endpoint counts as us-east-1.
 */
export function grantTrustPolicy(args: GrantTrustPolicyArgs): PolicyDocument {
    // Global keys only on SetSourceIdentity: sts:ExternalId is documented for AssumeRole alone,
    // and SetSourceIdentity grants nothing without a successful AssumeRole.
    const narrowed: Record<string, Record<string, string | string[]>> = {
        ArnEquals: { "aws:PrincipalArn": args.principalArns },
        StringEquals: { "aws:RequestedRegion": args.region },
    };
    if (args.expiresAt !== undefined) narrowed.DateLessThan = { "aws:CurrentTime": args.expiresAt };
    const principal = { AWS: accountRootArn(args.partition, args.partnerAccountId) };
    const identity: Record<string, Record<string, string>> = args.requireSourceIdentity
        ? { Null: { "sts:SourceIdentity": "false" }, StringEquals: { "sts:ExternalId": args.externalId, "sts:RoleSessionName": CALLER_SOURCE_IDENTITY } }
        : { StringEquals: { "sts:ExternalId": args.externalId } };
    const ownOsUser = args.perPersonOsUserBase === undefined ? {} : runAsTagOf(args.perPersonOsUserBase);
    const statements: PolicyStatement[] = [
        {
            Sid: "PartnerAssumesWithExternalId",
            Effect: "Allow",
            Principal: principal,
            Action: "sts:AssumeRole",
            Condition: { ...narrowed, ...identity, StringEquals: { ...identity.StringEquals, ...ownOsUser, ...narrowed.StringEquals } },
        },
        { Sid: "PartnerSetsSourceIdentity", Effect: "Allow", Principal: principal, Action: "sts:SetSourceIdentity", Condition: narrowed },
    ];
    if (args.perPersonOsUserBase !== undefined)
        statements.push({
            Sid: PERSON_TAGS_OWN_OS_USER_SID,
            Effect: "Allow",
            Principal: principal,
            Action: "sts:TagSession",
            Condition: { ...narrowed, StringEquals: { ...ownOsUser, ...narrowed.StringEquals }, ...onlyTheRunAsTagKey() },
        });
    return policy(...statements);
}

/** Sid of the statement letting a per-person grant's sessions be tagged with the person's own OS user. */
export const PERSON_TAGS_OWN_OS_USER_SID = "PersonTagsSessionWithOwnOsUser";

/** The Run As session tag a per-person grant requires: `<base>-${aws:SourceIdentity}`, the person's own OS user. */
function runAsTagOf(base: string): Record<string, string> {
    return { [`aws:RequestTag/${RUN_AS_TAG_KEY}`]: personOsUser(base, CALLER_SOURCE_IDENTITY) };
}

// ForAllValues is also true when no tag is passed: the Run As tag itself is required by runAsTagOf.
function onlyTheRunAsTagKey(): Record<string, Record<string, string[]>> {
    return { "ForAllValues:StringEquals": { "aws:TagKeys": [RUN_AS_TAG_KEY] } };
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
    /** Access ends at this ISO 8601 UTC time: every action is denied from then on, whatever credentials are held. */
    expiresAt?: string;
    /** Credentials issued before this ISO 8601 UTC time are refused (the IAM console's "revoke active sessions"). */
    revokeSessionsIssuedBefore?: string;
    /** Per-person Run As: only these people (source identities) may act, and only as this partner (its access tag value). */
    perPerson?: { people: string[]; partnerName: string };
}

/**
 * The most characters IAM accepts in a role's inline policies together, whitespace not
 * counted ("IAM and AWS STS quotas", IAM User Guide): a per-person grant's list of people
 * must fit in it.
 */
export const ROLE_INLINE_POLICY_MAX_CHARACTERS = 10_240;

/** What is wrong with a grant's permissions' size: undefined when they fit IAM's quota for inline policies (a per-person grant lists its people). */
export function grantPolicySizeProblem(args: GrantPermissionsPolicyArgs): string | undefined {
    const size = JSON.stringify(grantPermissionsPolicy(args)).length;
    return size <= ROLE_INLINE_POLICY_MAX_CHARACTERS
        ? undefined
        : `got ${args.perPerson?.people.length ?? 0} people, whose names make the grant's permissions ${size} characters, over IAM's ${ROLE_INLINE_POLICY_MAX_CHARACTERS} for a role's inline policies; accepted: fewer or shorter names (each costs its length and 3 more), or the partner per partner`;
}

/** Sid of the statement refusing a per-person grant to anyone its config does not list. */
export const ONLY_ITS_PEOPLE_SID = "OnlyItsPeople";

/** Sid of the grant statement that denies everything it does not allow; the review and proofs look for it. */
export const GRANT_FENCE_SID = "NothingElse";

/**
 * Permissions of a grant role. The same statements for every partner, because the
 * instance's access tag is compared with the role's own tag (true ABAC); only the
 * partner's expiry and revocation instants differ. Sessions only with the preferences
 * document (no port forwarding), on instances of this stack's region, ending and
 * resuming only one's own sessions, and nothing else: a Deny on every action the
 * allows do not name keeps the role to its purpose even where a resource policy of your
 * account invites every principal of the account (see "Sample IAM policies for Session
 * Manager" and "Quickstart end user policies for Session Manager" in the AWS Systems
 * Manager User Guide, and "IAM JSON policy elements: NotAction" in the IAM User Guide).
 */
export function grantPermissionsPolicy(args: GrantPermissionsPolicyArgs): PolicyDocument {
    const { scope, accessTagKey } = args;
    const ssm = `arn:${scope.partition}:ssm:${scope.region}:${scope.accountId}`;
    const allows: PolicyStatement[] = [
        {
            Sid: "ListInstancesAndConnectionStatusInThisRegion",
            Effect: "Allow",
            Action: ["ec2:DescribeInstances", "ssm:DescribeInstanceProperties", "ssm:GetConnectionStatus"],
            Resource: "*",
            Condition: { StringEquals: { "aws:RequestedRegion": scope.region } },
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
        {
            // AWS's quickstart end-user policy: the client opens the data channel of its own sessions.
            Sid: "OpenDataChannelOfOwnSessions",
            Effect: "Allow",
            Action: "ssmmessages:OpenDataChannel",
            Resource: `${ssm}:session/${CALLER_USER_ID}-*`,
        },
    ];
    if (args.sessionKeyArn !== undefined) {
        allows.push({ Sid: "EncryptSessionData", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: args.sessionKeyArn });
    }
    const statements: PolicyStatement[] = [
        ...allows,
        // Derived from the allows above, so the fence can never drift from what the role is for.
        { Sid: GRANT_FENCE_SID, Effect: "Deny", NotAction: [...new Set(allows.flatMap((a) => asList(a.Action)))], Resource: "*" },
    ];
    if (args.expiresAt !== undefined) {
        // The trust policy stops new credentials at the same instant; this stops credentials already issued.
        statements.push({
            Sid: "NothingAfterExpiry",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { DateGreaterThanEquals: { "aws:CurrentTime": args.expiresAt } },
        });
    }
    if (args.revokeSessionsIssuedBefore !== undefined) {
        // The IAM console's "Revoke active sessions" pattern (AWSRevokeOlderSessions).
        statements.push({
            Sid: "RevokeSessionsIssuedBefore",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { DateLessThan: { "aws:TokenIssueTime": args.revokeSessionsIssuedBefore } },
        });
    }
    if (args.perPerson !== undefined) {
        // Per person, the trust binds the OS user to whoever the source identity names, not to who is listed:
        // a person taken off the list would still run as their own OS user, which offboarding locks but
        // Session Manager still runs (the agent does not ask PAM). This refuses them, credentials already held included.
        statements.push({
            Sid: ONLY_ITS_PEOPLE_SID,
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:SourceIdentity": args.perPerson.people } },
        });
        // A per-person trust allows sts:TagSession: should a transitive tag of the partner's own session carry the
        // access tag key in (AWS does not document whether aws:TagKeys lists inherited keys), it would override the
        // role's and reach another partner's instances. The role's own access tag is the only one that acts.
        statements.push({
            Sid: "OnlyItsOwnAccessTag",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { StringNotEquals: { [`aws:PrincipalTag/${accessTagKey}`]: args.perPerson.partnerName } },
        });
    }
    return policy(...statements);
}

/**
 * Who a role session is, and how the policies tie the session's names to it: IAM users
 * by their own user name (`${aws:username}`), federated sessions by the source identity
 * their identity provider already set (`${aws:SourceIdentity}`, fixed once set).
 */
export type SessionNameBinding = "iam-user-name" | "upstream-source-identity";

/** The policy variable a binding compares the source identity and role session name with. */
function boundName(binding: SessionNameBinding): string {
    return binding === "iam-user-name" ? CALLER_USER_NAME : CALLER_SOURCE_IDENTITY;
}

/**
 * Trust policy of the partner's jump role: its own account as principal, narrowed by
 * `aws:PrincipalArn` to the remote-access users or the federated role (so a recreated
 * SSO role keeps working). They may assume it and set a source identity; nothing else.
 * The source identity and the role session name must be the caller's own name (see
 * "Monitor and control actions taken with assumed roles" in the IAM User Guide), so
 * alice cannot appear in CloudTrail, or in Session Manager, as bob. With MFA required, the
 * caller's credentials must come from an MFA sign-in no older than the maximum age.
 */
export function jumpRoleTrustPolicy(
    partition: string,
    accountId: string,
    principalArns: string[],
    binding: SessionNameBinding,
    /** When set, the caller must have signed in with MFA at most this many seconds ago. */
    mfaMaxAgeSeconds?: number,
): PolicyDocument {
    const principal = { AWS: accountRootArn(partition, accountId) };
    const mfa: Record<string, Record<string, string>> = mfaMaxAgeSeconds === undefined
        ? {}
        : { Bool: { "aws:MultiFactorAuthPresent": "true" }, NumericLessThan: { "aws:MultiFactorAuthAge": String(mfaMaxAgeSeconds) } };
    const narrowed: Record<string, Record<string, string | string[]>> = { ArnEquals: { "aws:PrincipalArn": principalArns }, ...mfa };
    const name = boundName(binding);
    return policy(
        {
            Sid: "RemoteAccessPrincipalsAssumeAsThemselves",
            Effect: "Allow",
            Principal: principal,
            Action: "sts:AssumeRole",
            Condition: { ...narrowed, StringEquals: { "sts:SourceIdentity": name, "sts:RoleSessionName": name } },
        },
        {
            // sts:RoleSessionName is documented for AssumeRole only.
            Sid: "RemoteAccessPrincipalsSetTheirOwnSourceIdentity",
            Effect: "Allow",
            Principal: principal,
            Action: "sts:SetSourceIdentity",
            Condition: { ...narrowed, StringEquals: { "sts:SourceIdentity": name } },
        },
    );
}

/**
 * Resource policy of a secret holding an IAM user's access key: every principal but the
 * account root and the named administrators is refused every action on it. Within one
 * account an identity policy alone (the managed SecretsManagerReadWrite, say) reads a secret
 * that has no resource policy ("Authentication and access control for AWS Secrets Manager");
 * only an explicit deny keeps a colleague from reading alice's key and acting, and being
 * recorded, as alice. The root is never refused, so the account can always mend the policy.
 */
export function credentialSecretPolicy(partition: string, accountId: string, administratorArns: string[]): PolicyDocument {
    return policy({
        Sid: CREDENTIAL_ADMINISTRATORS_ONLY_SID,
        Effect: "Deny",
        Principal: "*",
        Action: "secretsmanager:*",
        Resource: "*",
        Condition: { ArnNotEquals: { "aws:PrincipalArn": [...new Set([accountRootArn(partition, accountId), ...administratorArns])] } },
    });
}

/** Sid of the statement refusing a stored key to everyone but its administrators. */
export const CREDENTIAL_ADMINISTRATORS_ONLY_SID = "OnlyTheCredentialAdministrators";

/** Conditions on the caller's side of an AssumeRole: an external id, and how the session is named. */
export interface AssumeOneRoleConditions {
    /** Only with this external id. */
    externalId?: string;
    /** The source identity and role session name must be the caller's own name. */
    binding?: SessionNameBinding;
    /** The role session name must equal the source identity the session already carries (the next hop of a chain). */
    sessionNamedAfterSourceIdentity?: boolean;
    /**
     * Per-person Run As: the session may be tagged with `SSMSessionRunAs` = `<this base>-<the
     * source identity it carries>`, and nothing else (cross-account, the caller's own policy must
     * allow `sts:TagSession` too).
     */
    perPersonOsUserBase?: string;
}

/**
 * Identity policy allowing exactly one role to be assumed, with a source identity
 * (which needs sts:SetSourceIdentity on the caller's side too), and with the given
 * conditions on the external id and the session's names.
 */
export function assumeOneRolePolicy(roleArn: string, conditions: AssumeOneRoleConditions = {}): PolicyDocument {
    const assumeEquals: Record<string, string> = {};
    const setEquals: Record<string, string> = {};
    if (conditions.externalId !== undefined) assumeEquals["sts:ExternalId"] = conditions.externalId;
    if (conditions.binding !== undefined) {
        assumeEquals["sts:SourceIdentity"] = setEquals["sts:SourceIdentity"] = boundName(conditions.binding);
        assumeEquals["sts:RoleSessionName"] = boundName(conditions.binding);
    }
    if (conditions.sessionNamedAfterSourceIdentity) assumeEquals["sts:RoleSessionName"] = CALLER_SOURCE_IDENTITY;
    const assume: PolicyStatement = { Sid: "AssumeTheRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: roleArn };
    if (Object.keys(assumeEquals).length > 0) assume.Condition = { StringEquals: assumeEquals };
    const set: PolicyStatement = { Sid: "SetSourceIdentityOnTheRole", Effect: "Allow", Action: "sts:SetSourceIdentity", Resource: roleArn };
    if (Object.keys(setEquals).length > 0) set.Condition = { StringEquals: setEquals };
    if (conditions.perPersonOsUserBase === undefined) return policy(assume, set);
    return policy(assume, set, {
        Sid: "TagTheSessionWithOwnOsUser",
        Effect: "Allow",
        Action: "sts:TagSession",
        Resource: roleArn,
        Condition: { StringEquals: runAsTagOf(conditions.perPersonOsUserBase), ...onlyTheRunAsTagKey() },
    });
}

/**
 * Permissions of the role EventBridge Scheduler uses at a partner's end of access: send one
 * command document (the one ending partners' OS users) to instances carrying the access tag
 * key, nothing else. Run Command checks `ssm:SendCommand` on each instance a tag target
 * resolves to ("Restricting Run Command access based on tags", AWS Systems Manager User
 * Guide); the document takes only names of the partners' namespace. The fence refuses what
 * a resource policy of the account might offer every principal.
 */
export function endAccessSenderPolicy(scope: AwsScope, documentName: string, accessTagKey: string): PolicyDocument {
    const ssm = `arn:${scope.partition}:ssm:${scope.region}:${scope.accountId}`;
    return policy(
        { Sid: "SendTheEndAccessDocument", Effect: "Allow", Action: "ssm:SendCommand", Resource: `${ssm}:document/${documentName}` },
        {
            Sid: "ToInstancesOpenToPartners",
            Effect: "Allow",
            Action: "ssm:SendCommand",
            Resource: [`arn:${scope.partition}:ec2:${scope.region}:${scope.accountId}:instance/*`, `${ssm}:managed-instance/*`],
            Condition: { Null: { [`ssm:resourceTag/${accessTagKey}`]: "false" } },
        },
        { Sid: GRANT_FENCE_SID, Effect: "Deny", NotAction: "ssm:SendCommand", Resource: "*" },
    );
}

/**
 * What the SSM agent on an instance needs, and nothing of AmazonSSMManagedInstanceCore
 * beyond it: register and report the instance, run State Manager associations (the
 * OS-user and metadata-guard documents of this account), and open Session Manager's
 * channels. Left out on purpose: `ssm:GetParameter(s)` on every parameter of the account,
 * inventory, patching and Distributor calls (see "Step 2: Verify or add instance
 * permissions for Session Manager" and "Reference: ec2messages, ssmmessages, and other
 * API operations" in the AWS Systems Manager User Guide).
 */
export function instanceAgentPolicy(scope: AwsScope): PolicyDocument {
    const ssm = `arn:${scope.partition}:ssm:${scope.region}:${scope.accountId}`;
    const instances = `arn:${scope.partition}:ec2:${scope.region}:${scope.accountId}:instance/*`;
    return policy(
        {
            Sid: "RegisterAndReportTheInstance",
            Effect: "Allow",
            Action: ["ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:PutComplianceItems"],
            Resource: instances,
        },
        // ListAssociations supports only "*" (AWS's service authorization reference).
        { Sid: "ListAssociations", Effect: "Allow", Action: "ssm:ListAssociations", Resource: "*" },
        // One statement per set of resource types: each action is authorised on every resource its request names.
        { Sid: "ReadThisAccountsDocuments", Effect: "Allow", Action: ["ssm:GetDocument", "ssm:DescribeDocument"], Resource: `${ssm}:document/*` },
        {
            Sid: "DescribeThisAccountsAssociations",
            Effect: "Allow",
            Action: "ssm:DescribeAssociation",
            Resource: [`${ssm}:association/*`, `${ssm}:document/*`, instances],
        },
        {
            Sid: "ReportAssociationRuns",
            Effect: "Allow",
            Action: "ssm:UpdateInstanceAssociationStatus",
            Resource: [`${ssm}:association/*`, instances],
        },
        { Sid: "ReportAssociationStatus", Effect: "Allow", Action: "ssm:UpdateAssociationStatus", Resource: [`${ssm}:document/*`, instances] },
        {
            Sid: "SessionManagerChannels",
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: "*",
        },
        {
            Sid: "AgentMessages",
            Effect: "Allow",
            Action: [
                "ec2messages:AcknowledgeMessage",
                "ec2messages:DeleteMessage",
                "ec2messages:FailMessage",
                "ec2messages:GetEndpoint",
                "ec2messages:GetMessages",
                "ec2messages:SendReply",
            ],
            Resource: "*",
        },
    );
}

/**
 * The data perimeter for EC2 role credentials: requests signed with the instance's
 * credentials must come from that instance, through its own VPC, unless an AWS service
 * makes them on the role's behalf. Stolen credentials are useless anywhere else. From
 * AWS's data-perimeter examples and "How to use policies to restrict where EC2 instance
 * credentials can be used from" (AWS Security Blog); the keys are IAM global condition keys.
 */
export function instanceCredentialsPerimeterPolicy(): PolicyDocument {
    const instanceCredentials = { Null: { "ec2:SourceInstanceARN": "false" }, BoolIfExists: { "aws:ViaAWSService": "false" } };
    return policy(
        {
            // From no VPC at all: aws:SourceVpc is absent, so the comparisons below have nothing to compare.
            Sid: "InstanceCredentialsNeverFromOutsideAVpc",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { Null: { "ec2:SourceInstanceARN": "false", "aws:SourceVpc": "true" }, BoolIfExists: { "aws:ViaAWSService": "false" } },
        },
        {
            Sid: "InstanceCredentialsOnlyFromTheInstanceVpc",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:ec2InstanceSourceVPC": "${aws:SourceVpc}" }, ...instanceCredentials },
        },
        {
            Sid: "InstanceCredentialsOnlyFromTheInstanceAddress",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:ec2InstanceSourcePrivateIPv4": "${aws:VpcSourceIp}" }, ...instanceCredentials },
        },
    );
}

/**
 * Policy of an interface endpoint: only principals of this account may use it, so a
 * shell user cannot move data to or from an account of its own through your VPC. AWS
 * applies full access for services that do not support endpoint policies ("Control
 * access to VPC endpoints using endpoint policies", AWS PrivateLink Guide).
 */
export function interfaceEndpointPolicy(scope: Pick<AwsScope, "accountId">): PolicyDocument {
    return policy({
        Sid: "OnlyPrincipalsOfThisAccount",
        Effect: "Allow",
        Principal: "*",
        Action: "*",
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalAccount": scope.accountId } },
    });
}

/**
 * AWS-owned buckets the SSM agent and the Amazon Linux 2023 package manager read,
 * unauthenticated, through the S3 gateway endpoint ("SSM Agent communications with AWS
 * managed S3 buckets" in the AWS Systems Manager User Guide; the AL2023 repository bucket
 * from the Amazon Linux 2023 User Guide). Region-specific names.
 */
export function awsOwnedAgentBuckets(scope: AwsScope): string[] {
    const r = scope.region;
    const names = [
        `aws-ssm-${r}`,
        `amazon-ssm-${r}`,
        `amazon-ssm-packages-${r}`,
        `${r}-birdwatcher-prod`,
        `aws-ssm-distributor-file-${r}`,
        `aws-ssm-document-attachments-${r}`,
        `patch-baseline-snapshot-${r}`,
        `al2023-repos-${r}-de612dc2`,
    ];
    return names.map((name) => `arn:${scope.partition}:s3:::${name}/*`);
}

/**
 * Policy of the S3 gateway endpoint: principals of this account on buckets of this
 * account, and anyone reading the AWS-owned buckets the agent and the package manager
 * need. Nothing else passes, so no bucket of another account is reachable from the VPC,
 * except a session archive of your own (`archive`), which may be in another account (a
 * log-archive account): principals of this account may write transcripts there, nothing more,
 * and only while the bucket of that name belongs to that account (default this one), so a
 * bucket someone creates under the name after yours is gone receives nothing.
 */
export function s3GatewayEndpointPolicy(scope: AwsScope, archive?: { bucketName: string; keyPrefix: string; accountId?: string }): PolicyDocument {
    const bucketArn = archive && `arn:${scope.partition}:s3:::${archive.bucketName}`;
    const archiveStatements: PolicyStatement[] = bucketArn
        ? [
              {
                  Sid: "PrincipalsOfThisAccountArchiveTranscripts",
                  Effect: "Allow",
                  Principal: "*",
                  Action: ["s3:PutObject", "s3:GetEncryptionConfiguration"],
                  Resource: [bucketArn, `${bucketArn}/${archive!.keyPrefix}*`],
                  Condition: { StringEquals: { "aws:PrincipalAccount": scope.accountId, "aws:ResourceAccount": archive!.accountId ?? scope.accountId } },
              },
          ]
        : [];
    return policy(
        {
            Sid: "OnlyPrincipalsOfThisAccountOnItsBuckets",
            Effect: "Allow",
            Principal: "*",
            Action: "*",
            Resource: "*",
            Condition: { StringEquals: { "aws:PrincipalAccount": scope.accountId, "aws:ResourceAccount": scope.accountId } },
        },
        { Sid: "ReadAwsOwnedAgentAndPackageBuckets", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: awsOwnedAgentBuckets(scope) },
        ...archiveStatements,
    );
}
