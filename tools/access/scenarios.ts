// The scenario catalogue: requests with their expected results, grouped as the blog
// post's own test plan and the attacks a least-privilege grant must refuse. Each is
// decided by evaluating the policies the programs really produced.

import { AWS_SESSION_DOCUMENTS, RUN_AS_TAG_KEY } from "../../components/constants";
import { asList, type PolicyStatement } from "../../components/policies";
import { ANONYMOUS, partnerControlled, userIdOf, type AccessRequest, type Decision, type InstanceCredentials } from "../iam/evaluate";
import { anotherRegion, chainedAs, fromShellOn, invitesTheAccount, publicRead, SIGNED_IN_WITH_MFA, withInstanceCredentials } from "../iam/probes";
import type { IamPrincipal, PictureBucket } from "../iam/picture";
import type { CatalogueWorld, Scenario } from "./scenario-world";
import { iamWildcard, statementAdmits } from "../iam/wildcards";

const ssmArn = (w: CatalogueWorld, resource: string) => `arn:${w.picture.partition}:ssm:${w.picture.region}:${w.yoursAccount}:${resource}`;
// AWS-owned documents have no account in their ARN; the evaluator matches ARNs against
// AWS's resource patterns, which require one, so they are named in your account here.
const otherDocument = (w: CatalogueWorld, name: string) => ssmArn(w, `document/${name}`);
const sessionArn = (w: CatalogueWorld, id: string) => ssmArn(w, `session/${id}`);
const grantSession = (w: CatalogueWorld, grant: IamPrincipal) => userIdOf(w.picture, grant.arn, "alice");

/**
 * The jump role assuming a grant role, as the generated CLI profile does it: the jump
 * session already carries alice's source identity, and names the new session after it.
 */
function assumeGrant(w: CatalogueWorld, grant: IamPrincipal, context: Record<string, string | string[]>, at?: string): AccessRequest {
    return {
        principal: w.jumpRoleA.arn,
        sessionName: "alice",
        action: "sts:AssumeRole",
        resource: grant.arn,
        context: { ...chainedAs("alice"), ...context },
        at,
    };
}

/**
 * The partner's jump role as the partner could make it: the partner administers its own
 * account and can give the role any identity policy, so attacks from it must be refused
 * by your side's policies alone.
 */
function partnerJumpRole(
    w: CatalogueWorld,
    action: string,
    grant: IamPrincipal,
    context: Record<string, string | string[] | undefined>,
    at?: string,
): AccessRequest {
    // Everything right but the attacked detail (undefined removes a key), so each scenario is denied for its own reason.
    const merged = Object.entries({ ...chainedAs("alice"), ...context }).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined);
    return {
        principal: partnerControlled(w.jumpRoleA.arn, w.jumpRoleA.tags),
        sessionName: "alice",
        action,
        resource: grant.arn,
        context: Object.fromEntries(merged),
        at,
    };
}

function asGrantA(w: CatalogueWorld, action: string, resource: string, extra: Partial<AccessRequest> = {}): AccessRequest {
    return { principal: w.grantA.arn, sessionName: "alice", action, resource, ...extra };
}

/** The instance role's credentials on Third_Party_A's instance, used from where `from` says. */
function asInstanceRole(w: CatalogueWorld, action: string, resource: string, from: InstanceCredentials["from"] = "instance"): AccessRequest {
    return withInstanceCredentials(w.instanceA, action, resource, from);
}

export const SCENARIOS: Scenario[] = [
    // ---- The blog's test plan: the chain works, and only as intended.
    {
        id: "alice-assumes-jump-role",
        group: "Blog test plan",
        title: "alice assumes her account's jump role, as herself (source identity and session name alice), signed in with MFA",
        expected: "Allowed",
        request: (w) => ({
            principal: w.alice.arn,
            sessionName: "alice",
            action: "sts:AssumeRole",
            resource: w.jumpRoleA.arn,
            context: { "sts:SourceIdentity": "alice", "sts:RoleSessionName": "alice", ...SIGNED_IN_WITH_MFA },
        }),
    },
    {
        id: "alice-assumes-jump-role-without-mfa",
        group: "Attacks",
        title: "alice's long-term access key alone (no MFA sign-in) assumes the jump role: MFA is the default for IAM users",
        expected: "Denied",
        request: (w) => ({
            principal: w.alice.arn,
            sessionName: "alice",
            action: "sts:AssumeRole",
            resource: w.jumpRoleA.arn,
            context: { "sts:SourceIdentity": "alice", "sts:RoleSessionName": "alice" },
        }),
    },
    {
        id: "alice-sets-source-identity",
        group: "Blog test plan",
        title: "alice sets her source identity on the jump role",
        expected: "Allowed",
        request: (w) => ({
            principal: w.alice.arn,
            action: "sts:SetSourceIdentity",
            resource: w.jumpRoleA.arn,
            context: { "sts:SourceIdentity": "alice", ...SIGNED_IN_WITH_MFA },
        }),
    },
    {
        id: "jump-assumes-grant",
        group: "Blog test plan",
        title: "the jump role assumes Third_Party_A's grant role with its external id and a source identity",
        expected: "Allowed",
        request: (w) => assumeGrant(w, w.grantA, { "sts:ExternalId": w.externalIdA, "sts:SourceIdentity": "alice" }),
    },
    {
        // CloudTrail records a regional AssumeRole in that region only, where no alert rule listens.
        id: "jump-assumes-grant-through-another-region",
        group: "Attacks",
        title: "the jump role assumes Third_Party_A's grant role through another region's STS endpoint, out of the alert rule's sight",
        expected: "Denied",
        request: (w) => {
            const request = assumeGrant(w, w.grantA, { "sts:ExternalId": w.externalIdA, "sts:SourceIdentity": "alice" });
            return { ...request, context: { ...request.context, "aws:RequestedRegion": anotherRegion(w.picture.region) } };
        },
    },
    {
        id: "jump-sets-source-identity-on-grant",
        group: "Blog test plan",
        title: "the jump role carries the source identity into the grant role",
        expected: "Allowed",
        request: (w) => ({
            principal: w.jumpRoleA.arn,
            sessionName: "alice",
            action: "sts:SetSourceIdentity",
            resource: w.grantA.arn,
            context: { "sts:SourceIdentity": "alice" },
        }),
    },
    {
        id: "grant-describes-instances",
        group: "Blog test plan",
        title: "Third_Party_A lists instances (ec2:DescribeInstances)",
        expected: "Allowed",
        request: (w) => asGrantA(w, "ec2:DescribeInstances", "*"),
    },
    {
        id: "grant-describes-instance-properties",
        group: "Blog test plan",
        title: "Third_Party_A reads instance properties (ssm:DescribeInstanceProperties)",
        expected: "Allowed",
        request: (w) => asGrantA(w, "ssm:DescribeInstanceProperties", "*"),
    },
    {
        id: "grant-gets-connection-status",
        group: "Blog test plan",
        title: "Third_Party_A checks an instance's connection status",
        expected: "Allowed",
        request: (w) => asGrantA(w, "ssm:GetConnectionStatus", "*"),
    },
    {
        id: "grant-a-starts-session-on-own-instance",
        group: "Blog test plan",
        title: "Third_Party_A starts a session on the instance tagged Third_Party_A",
        expected: "Allowed",
        request: (w) => asGrantA(w, "ssm:StartSession", w.instanceA.arn, { resourceTags: w.instanceA.tags }),
    },
    {
        id: "grant-a-uses-run-shell-document",
        group: "Blog test plan",
        title: "Third_Party_A's session uses the SSM-SessionManagerRunShell document",
        expected: "Allowed",
        request: (w) => asGrantA(w, "ssm:StartSession", ssmArn(w, "document/SSM-SessionManagerRunShell")),
    },
    {
        id: "grant-b-starts-session-on-own-instance",
        group: "Blog test plan",
        title: "Third_Party_B starts a session on the instance tagged Third_Party_B",
        expected: "Allowed",
        request: (w) => ({
            principal: w.grantB.arn,
            sessionName: "bob",
            action: "ssm:StartSession",
            resource: w.instanceB.arn,
            resourceTags: w.instanceB.tags,
        }),
    },
    {
        id: "grant-terminates-own-session",
        group: "Blog test plan",
        title: "Third_Party_A terminates its own session",
        expected: "Allowed",
        request: (w) =>
            asGrantA(w, "ssm:TerminateSession", sessionArn(w, "alice-0123456789abcdef0"), {
                resourceTags: { "aws:ssmmessages:session-id": grantSession(w, w.grantA) },
            }),
    },
    {
        id: "grant-resumes-own-session",
        group: "Blog test plan",
        title: "Third_Party_A resumes its own session",
        expected: "Allowed",
        request: (w) =>
            asGrantA(w, "ssm:ResumeSession", sessionArn(w, "alice-0123456789abcdef0"), {
                resourceTags: { "aws:ssmmessages:session-id": grantSession(w, w.grantA) },
            }),
    },
    {
        id: "grant-generates-session-data-key",
        group: "Blog test plan",
        title: "Third_Party_A generates a data key to encrypt its session",
        expected: "Allowed",
        request: (w) => asGrantA(w, "kms:GenerateDataKey", w.sessionKeyArn),
    },
    {
        id: "instance-role-creates-log-stream",
        group: "Blog test plan",
        title: "the instance role creates a stream in the audit log group",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "logs:CreateLogStream", `${w.auditLogGroupArn}:log-stream:alice-0123`),
    },
    {
        id: "instance-role-writes-audit-log",
        group: "Blog test plan",
        title: "the instance role streams a session transcript to the audit log group",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "logs:PutLogEvents", `${w.auditLogGroupArn}:log-stream:alice-0123`),
    },
    {
        id: "instance-role-describes-log-streams",
        group: "Blog test plan",
        title: "the instance role describes the audit log group's streams",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "logs:DescribeLogStreams", w.auditLogGroupArn),
    },
    {
        id: "instance-role-describes-any-log-group",
        group: "Blog test plan",
        title: "the instance role lists log groups, on every log group as the agent needs",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "logs:DescribeLogGroups", "*"),
    },
    {
        id: "instance-role-decrypts-session-data",
        group: "Blog test plan",
        title: "the instance role decrypts session data with the session key",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "kms:Decrypt", w.sessionKeyArn),
    },

    // ---- Attacks: confused deputy, wrong principals, expiry.
    {
        id: "jump-wrong-external-id",
        group: "Attacks",
        title: "the jump role assumes the grant role with a wrong external id",
        expected: "Denied",
        request: (w) => partnerJumpRole(w, "sts:AssumeRole", w.grantA, { "sts:ExternalId": "guessed-external-id", "sts:SourceIdentity": "alice" }),
    },
    {
        id: "jump-no-external-id",
        group: "Attacks",
        title: "the jump role assumes the grant role without an external id",
        expected: "Denied",
        request: (w) => partnerJumpRole(w, "sts:AssumeRole", w.grantA, { "sts:SourceIdentity": "alice" }),
    },
    {
        id: "jump-no-source-identity",
        group: "Attacks",
        title: "the jump role assumes the grant role without a source identity (required)",
        expected: "Denied",
        request: (w) =>
            partnerJumpRole(w, "sts:AssumeRole", w.grantA, {
                "sts:ExternalId": w.externalIdA,
                "sts:SourceIdentity": undefined,
                "aws:SourceIdentity": undefined,
            }),
    },
    {
        id: "jump-after-expiry",
        group: "Attacks",
        title: "the jump role assumes Third_Party_A's grant after its expiry",
        expected: "Denied",
        request: (w) =>
            partnerJumpRole(w, "sts:AssumeRole", w.grantA, { "sts:ExternalId": w.externalIdA, "sts:SourceIdentity": "alice" }, "2027-07-01T00:00:00Z"),
    },
    {
        id: "other-principal-in-partner-account",
        group: "Attacks",
        title: "an administrator role in the partner's account assumes the grant role with the right external id",
        expected: "Denied",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::${w.theirAccount}:role/Admin`),
            action: "sts:AssumeRole",
            resource: w.grantA.arn,
            context: { "sts:ExternalId": w.externalIdA, ...chainedAs("mallory") },
        }),
    },
    {
        id: "principal-in-another-account",
        group: "Attacks",
        title: "a role named like the jump role in another account assumes the grant role with the right external id",
        expected: "Denied",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::444444444444:role/3P_IAM_Assume_Role`),
            action: "sts:AssumeRole",
            resource: w.grantA.arn,
            context: { "sts:ExternalId": w.externalIdA, ...chainedAs("mallory") },
        }),
    },
    {
        id: "partner-b-jump-assumes-grant-a",
        group: "Attacks",
        title: "Third_Party_B's jump role assumes Third_Party_A's grant role with A's external id",
        expected: "Denied",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::333333333333:role/3P_IAM_Assume_Role`),
            action: "sts:AssumeRole",
            resource: w.grantA.arn,
            context: { "sts:ExternalId": w.externalIdA, ...chainedAs("bob") },
        }),
    },
    {
        id: "jump-a-assumes-grant-b",
        group: "Attacks",
        title: "Third_Party_A's jump role assumes Third_Party_B's grant role, even with B's external id",
        expected: "Denied",
        request: (w) => partnerJumpRole(w, "sts:AssumeRole", w.grantB, { "sts:ExternalId": w.externalIdB, "sts:SourceIdentity": "alice" }),
    },
    {
        id: "alice-assumes-grant-directly",
        group: "Attacks",
        title: "alice skips the jump role and assumes the grant role directly",
        expected: "Denied",
        request: (w) => ({
            principal: w.alice.arn,
            action: "sts:AssumeRole",
            resource: w.grantA.arn,
            context: { "sts:ExternalId": w.externalIdA, "sts:SourceIdentity": "alice" },
        }),
    },
    {
        id: "tag-session-overrides-run-as",
        group: "Attacks",
        title: "the jump role passes a session tag SSMSessionRunAs=root (sts:TagSession)",
        expected: "Denied",
        request: (w) =>
            partnerJumpRole(w, "sts:TagSession", w.grantA, {
                "sts:ExternalId": w.externalIdA,
                "sts:SourceIdentity": "alice",
                [`aws:RequestTag/${RUN_AS_TAG_KEY}`]: "root",
                "aws:TagKeys": [RUN_AS_TAG_KEY],
            }),
    },
    {
        id: "tag-session-overrides-access-tag",
        group: "Attacks",
        title: "the jump role passes a session tag ExternalAccessGrantedTo=Third_Party_B (sts:TagSession)",
        expected: "Denied",
        request: (w) =>
            partnerJumpRole(w, "sts:TagSession", w.grantA, {
                "sts:ExternalId": w.externalIdA,
                "sts:SourceIdentity": "alice",
                [`aws:RequestTag/${w.accessTagKey}`]: "Third_Party_B",
                "aws:TagKeys": [w.accessTagKey],
            }),
    },

    // ---- Attacks: reaching what is not granted.
    {
        id: "grant-a-on-partner-b-instance",
        group: "Attacks",
        title: "Third_Party_A starts a session on the instance tagged Third_Party_B",
        expected: "Denied",
        request: (w) => asGrantA(w, "ssm:StartSession", w.instanceB.arn, { resourceTags: w.instanceB.tags }),
    },
    {
        id: "grant-a-on-untagged-instance",
        group: "Attacks",
        title: "Third_Party_A starts a session on an untagged instance",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:StartSession", `arn:${w.picture.partition}:ec2:${w.picture.region}:${w.yoursAccount}:instance/i-0untagged00000000`, {
                resourceTags: { Name: "untagged" },
            }),
    },
    {
        id: "grant-a-on-partner-b-managed-instance",
        group: "Attacks",
        title: "Third_Party_A starts a session on a hybrid managed instance tagged Third_Party_B",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:StartSession", ssmArn(w, "managed-instance/mi-0123456789abcdef0"), { resourceTags: { [w.accessTagKey]: "Third_Party_B" } }),
    },
    {
        id: "grant-a-port-forwarding",
        group: "Attacks",
        title: "Third_Party_A starts a port-forwarding session (AWS-StartPortForwardingSession)",
        expected: "Denied",
        request: (w) => asGrantA(w, "ssm:StartSession", otherDocument(w, AWS_SESSION_DOCUMENTS.portForwarding)),
    },
    {
        id: "grant-a-ssh-session",
        group: "Attacks",
        title: "Third_Party_A starts an SSH session (AWS-StartSSHSession), which is not logged",
        expected: "Denied",
        request: (w) => asGrantA(w, "ssm:StartSession", otherDocument(w, AWS_SESSION_DOCUMENTS.ssh)),
    },
    {
        id: "grant-a-custom-command-document",
        group: "Attacks",
        title: "Third_Party_A starts a session with another Session document in your account",
        expected: "Denied",
        request: (w) => asGrantA(w, "ssm:StartSession", otherDocument(w, "Custom-InteractiveRootShell")),
    },
    {
        id: "grant-a-terminates-other-session",
        group: "Attacks",
        title: "Third_Party_A terminates someone else's session",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:TerminateSession", sessionArn(w, "bob-0123456789abcdef0"), {
                resourceTags: { "aws:ssmmessages:session-id": grantSession(w, w.grantB) },
            }),
    },
    {
        id: "grant-a-resumes-other-session",
        group: "Attacks",
        title: "Third_Party_A resumes someone else's session",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:ResumeSession", sessionArn(w, "bob-0123456789abcdef0"), {
                resourceTags: { "aws:ssmmessages:session-id": grantSession(w, w.grantB) },
            }),
    },
    {
        id: "grant-a-describes-sessions",
        group: "Attacks",
        title: "Third_Party_A lists other people's sessions (ssm:DescribeSessions)",
        expected: "Denied",
        request: (w) => asGrantA(w, "ssm:DescribeSessions", "*"),
    },
    {
        id: "grant-a-assumes-other-role",
        group: "Attacks",
        title: "Third_Party_A assumes another role in your account that trusts the whole account",
        expected: "Denied",
        request: (w) => asGrantA(w, "sts:AssumeRole", `arn:${w.picture.partition}:iam::${w.yoursAccount}:role/OrganizationAccountAccessRole`),
    },
    {
        id: "grant-a-run-command",
        group: "Attacks",
        title: "Third_Party_A runs a command as root on its instance (ssm:SendCommand)",
        expected: "Denied",
        request: (w) => asGrantA(w, "ssm:SendCommand", w.instanceA.arn, { resourceTags: w.instanceA.tags }),
    },
    {
        id: "grant-a-retags-instance",
        group: "Attacks",
        title: "Third_Party_A retags Third_Party_B's instance for itself (ec2:CreateTags)",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ec2:CreateTags", w.instanceB.arn, {
                resourceTags: w.instanceB.tags,
                context: { [`aws:RequestTag/${w.accessTagKey}`]: "Third_Party_A", "aws:TagKeys": [w.accessTagKey] },
            }),
    },
    {
        id: "grant-a-terminates-instance",
        group: "Attacks",
        title: "Third_Party_A terminates its instance (ec2:TerminateInstances)",
        expected: "Denied",
        request: (w) => asGrantA(w, "ec2:TerminateInstances", w.instanceA.arn, { resourceTags: w.instanceA.tags }),
    },
    {
        id: "grant-a-writes-audit-log",
        group: "Attacks",
        title: "Third_Party_A writes (forges) events in the audit log group",
        expected: "Denied",
        request: (w) => asGrantA(w, "logs:PutLogEvents", `${w.auditLogGroupArn}:log-stream:forged`),
    },
    {
        id: "grant-a-creates-audit-stream",
        group: "Attacks",
        title: "Third_Party_A creates a stream in the audit log group",
        expected: "Denied",
        request: (w) => asGrantA(w, "logs:CreateLogStream", `${w.auditLogGroupArn}:log-stream:forged`),
    },
    {
        id: "grant-a-deletes-audit-log",
        group: "Attacks",
        title: "Third_Party_A deletes the audit log group",
        expected: "Denied",
        request: (w) => asGrantA(w, "logs:DeleteLogGroup", w.auditLogGroupArn),
    },
    {
        id: "grant-a-creates-iam-user",
        group: "Attacks",
        title: "Third_Party_A creates an IAM user",
        expected: "Denied",
        request: (w) => asGrantA(w, "iam:CreateUser", `arn:${w.picture.partition}:iam::${w.yoursAccount}:user/backdoor`),
    },
    {
        id: "grant-a-widens-own-role",
        group: "Attacks",
        title: "Third_Party_A attaches AdministratorAccess to its own role",
        expected: "Denied",
        request: (w) => asGrantA(w, "iam:AttachRolePolicy", w.grantA.arn),
    },
    {
        id: "grant-a-reads-archive",
        group: "Attacks",
        title: "Third_Party_A reads session transcripts from the S3 archive",
        expected: "Denied",
        request: (w) => asGrantA(w, "s3:GetObject", `${w.archiveBucketArn}/session-transcripts/any.log`),
    },
    {
        id: "grant-a-decrypts-session-data",
        group: "Attacks",
        title: "Third_Party_A decrypts session data with the session key",
        expected: "Denied",
        request: (w) => asGrantA(w, "kms:Decrypt", w.sessionKeyArn),
    },
    {
        id: "grant-a-reads-secrets",
        group: "Attacks",
        title: "Third_Party_A reads a secret in your account",
        expected: "Denied",
        request: (w) =>
            asGrantA(
                w,
                "secretsmanager:GetSecretValue",
                `arn:${w.picture.partition}:secretsmanager:${w.picture.region}:${w.yoursAccount}:secret:database-AbCdEf`,
            ),
    },
    {
        id: "partner-b-reads-alice-secret",
        group: "Attacks",
        title: "Third_Party_B reads the secret holding alice's access key in Third_Party_A's account",
        expected: "Denied",
        request: (w) => ({ principal: w.grantB.arn, sessionName: "bob", action: "secretsmanager:GetSecretValue", resource: w.aliceSecretArn }),
    },
    {
        id: "alice-reads-her-stored-key",
        group: "Attacks",
        title: "alice reads the stored access keys (only administrators of her account may)",
        expected: "Denied",
        request: (w) => ({ principal: w.alice.arn, action: "secretsmanager:GetSecretValue", resource: w.aliceSecretArn }),
    },
    {
        // Within one account an identity policy alone reads a secret without a resource policy.
        id: "colleague-reads-alice-stored-key",
        group: "Attacks",
        title: "a colleague inside Third_Party_A whose own policies allow every Secrets Manager action reads alice's stored access key",
        expected: "Denied",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::${w.theirAccount}:role/Developers`),
            action: "secretsmanager:GetSecretValue",
            resource: w.aliceSecretArn,
        }),
    },
    {
        id: "credential-administrator-reads-alice-stored-key",
        group: "Blog test plan",
        title: "the principal deploying the their stack (a credential administrator) reads alice's stored access key to hand it over",
        expected: "Allowed",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::${w.theirAccount}:user/mock-deployer`),
            action: "secretsmanager:GetSecretValue",
            resource: w.aliceSecretArn,
        }),
    },
    {
        id: "alice-creates-access-key",
        group: "Attacks",
        title: "alice creates another access key for herself",
        expected: "Denied",
        request: (w) => ({ principal: w.alice.arn, action: "iam:CreateAccessKey", resource: w.alice.arn }),
    },
    {
        id: "jump-role-acts-in-own-account",
        group: "Attacks",
        title: "the jump role does anything else in its own account (ec2:DescribeInstances)",
        expected: "Denied",
        request: (w) => ({ principal: w.jumpRoleA.arn, action: "ec2:DescribeInstances", resource: "*" }),
    },
    {
        id: "instance-role-writes-other-log-group",
        group: "Attacks",
        title: "the instance role writes to a log group other than the audit log group",
        expected: "Denied",
        request: (w) =>
            asInstanceRole(w, "logs:PutLogEvents", `arn:${w.picture.partition}:logs:${w.picture.region}:${w.yoursAccount}:log-group:other:log-stream:x`),
    },

    // ---- The name on a session is the person.
    {
        id: "alice-claims-bob-source-identity",
        group: "Attacks",
        title: "alice assumes the jump role with the source identity bob",
        expected: "Denied",
        request: (w) => ({
            principal: w.alice.arn,
            sessionName: "alice",
            action: "sts:AssumeRole",
            resource: w.jumpRoleA.arn,
            context: { "sts:SourceIdentity": "bob", "sts:RoleSessionName": "alice", ...SIGNED_IN_WITH_MFA },
        }),
    },
    {
        id: "alice-names-session-bob",
        group: "Attacks",
        title: "alice assumes the jump role with the role session name bob",
        expected: "Denied",
        request: (w) => ({
            principal: w.alice.arn,
            sessionName: "bob",
            action: "sts:AssumeRole",
            resource: w.jumpRoleA.arn,
            context: { "sts:SourceIdentity": "alice", "sts:RoleSessionName": "bob", ...SIGNED_IN_WITH_MFA },
        }),
    },
    {
        id: "alice-sets-source-identity-bob",
        group: "Attacks",
        title: "alice sets the source identity bob on the jump role session",
        expected: "Denied",
        request: (w) => ({
            principal: w.alice.arn,
            action: "sts:SetSourceIdentity",
            resource: w.jumpRoleA.arn,
            context: { "sts:SourceIdentity": "bob", ...SIGNED_IN_WITH_MFA },
        }),
    },
    {
        id: "grant-session-named-after-someone-else",
        group: "Attacks",
        title: "the partner's jump role (source identity alice) names its grant session bob, to end or resume bob's sessions",
        expected: "Denied",
        request: (w) => partnerJumpRole(w, "sts:AssumeRole", w.grantA, { "sts:ExternalId": w.externalIdA, "sts:RoleSessionName": "bob" }),
    },

    // ---- Expiry and revocation are hard stops.
    {
        id: "grant-a-starts-session-after-expiry",
        group: "Attacks",
        title: "Third_Party_A starts a session after its expiry, with credentials issued before it",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:StartSession", w.instanceA.arn, {
                resourceTags: w.instanceA.tags,
                at: "2027-07-01T00:30:00Z",
                context: { "aws:TokenIssueTime": "2027-06-30T23:45:00Z" },
            }),
    },
    {
        id: "grant-a-resumes-session-after-expiry",
        group: "Attacks",
        title: "Third_Party_A resumes its own session after its expiry, with credentials issued before it",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:ResumeSession", sessionArn(w, "alice-0123456789abcdef0"), {
                resourceTags: { "aws:ssmmessages:session-id": grantSession(w, w.grantA) },
                at: "2027-07-01T00:30:00Z",
                context: { "aws:TokenIssueTime": "2027-06-30T23:45:00Z" },
            }),
    },
    {
        id: "grant-a-credentials-issued-before-revocation",
        group: "Attacks",
        title: "Third_Party_A starts a session with credentials issued before its revocation instant",
        expected: "Denied",
        request: (w) =>
            asGrantA(w, "ssm:StartSession", w.instanceA.arn, {
                resourceTags: w.instanceA.tags,
                context: { "aws:TokenIssueTime": "2027-01-09T23:30:00Z" },
            }),
    },

    // ---- A fence around the grant.
    {
        id: "grant-a-reads-bucket-inviting-the-account",
        group: "Attacks",
        title: "Third_Party_A reads a bucket of yours whose policy invites every principal of your account",
        expected: "Denied",
        request: (w) => {
            const bucket = `arn:${w.picture.partition}:s3:::shared-reports`;
            return asGrantA(w, "s3:GetObject", `${bucket}/q4.csv`, { resourcePolicy: invitesTheAccount(w.yoursAccount, "s3:GetObject", `${bucket}/*`) });
        },
    },
    {
        id: "grant-a-assumes-role-inviting-the-account",
        group: "Attacks",
        title: "Third_Party_A assumes a role of yours whose trust invites every principal of your account",
        expected: "Denied",
        request: (w) => {
            const role = `arn:${w.picture.partition}:iam::${w.yoursAccount}:role/Deployer`;
            return asGrantA(w, "sts:AssumeRole", role, { resourcePolicy: invitesTheAccount(w.yoursAccount, "sts:AssumeRole", role) });
        },
    },
    {
        id: "grant-a-lists-instances-in-another-region",
        group: "Attacks",
        title: "Third_Party_A lists instances in a region other than the stack's",
        expected: "Denied",
        request: (w) => asGrantA(w, "ec2:DescribeInstances", "*", { context: { "aws:RequestedRegion": anotherRegion(w.picture.region) } }),
    },

    // ---- AWS's current end-user policy.
    {
        id: "grant-a-opens-own-data-channel",
        group: "Blog test plan",
        title: "Third_Party_A opens the data channel of its own session (ssmmessages:OpenDataChannel)",
        expected: "Allowed",
        fact: (w) => openDataChannel(w, w.grantA, sessionArn(w, `${grantSession(w, w.grantA)}-0123456789abcdef0`)),
    },
    {
        id: "grant-a-opens-other-data-channel",
        group: "Attacks",
        title: "Third_Party_A opens the data channel of someone else's session",
        expected: "Denied",
        fact: (w) => openDataChannel(w, w.grantA, sessionArn(w, `${grantSession(w, w.grantB)}-0123456789abcdef0`)),
    },

    // ---- A shell on an instance.
    {
        id: "shell-writes-other-partners-audit-stream",
        group: "A shell on an instance",
        title: "a partner's shell user forges another partner's audit log stream with the instance's credentials",
        expected: "Denied",
        request: (w) => fromShellOn(w.instanceA, "logs:PutLogEvents", `${w.auditLogGroupArn}:log-stream:bob-0123456789abcdef0`),
    },
    {
        id: "shell-decrypts-session-data",
        group: "A shell on an instance",
        title: "a partner's shell user decrypts session data with the instance's credentials",
        expected: "Denied",
        request: (w) => fromShellOn(w.instanceA, "kms:Decrypt", w.sessionKeyArn),
    },
    {
        id: "instance-credentials-used-elsewhere",
        group: "A shell on an instance",
        title: "the instance role's credentials, taken off the instance, write to the audit log group from elsewhere",
        expected: "Denied",
        request: (w) => asInstanceRole(w, "logs:PutLogEvents", `${w.auditLogGroupArn}:log-stream:forged`, "elsewhere"),
    },
    {
        id: "instance-credentials-decrypt-elsewhere",
        group: "A shell on an instance",
        title: "the instance role's credentials, taken off the instance, decrypt session data from elsewhere",
        expected: "Denied",
        request: (w) => asInstanceRole(w, "kms:Decrypt", w.sessionKeyArn, "elsewhere"),
    },
    {
        id: "instance-credentials-via-aws-service",
        group: "Blog test plan",
        title: "an AWS service decrypts session data on the instance role's behalf (aws:ViaAWSService)",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "kms:Decrypt", w.sessionKeyArn, "aws-service"),
    },
    {
        id: "instance-role-registers-with-ssm",
        group: "Blog test plan",
        title: "the SSM agent registers the instance (ssm:UpdateInstanceInformation) with the instance role",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "ssm:UpdateInstanceInformation", w.instanceA.arn),
    },
    {
        id: "instance-role-opens-control-channel",
        group: "Blog test plan",
        title: "the SSM agent opens Session Manager's control channel with the instance role",
        expected: "Allowed",
        request: (w) => asInstanceRole(w, "ssmmessages:CreateControlChannel", "*"),
    },
    {
        id: "instance-role-reads-parameters",
        group: "A shell on an instance",
        title: "the instance role reads an SSM parameter of your account (AmazonSSMManagedInstanceCore would allow it)",
        expected: "Denied",
        request: (w) =>
            asInstanceRole(w, "ssm:GetParameter", `arn:${w.picture.partition}:ssm:${w.picture.region}:${w.yoursAccount}:parameter/prod/database-password`),
    },
    {
        id: "instance-role-deletes-archived-transcript",
        group: "A shell on an instance",
        title: "the instance role deletes an archived session transcript version",
        expected: "Denied",
        request: (w) => asInstanceRole(w, "s3:DeleteObjectVersion", `${w.archiveBucketArn}/session-transcripts/alice-0123.log`),
    },
    {
        id: "instance-role-shortens-retention",
        group: "A shell on an instance",
        title: "the instance role shortens or bypasses an archived transcript's retention",
        expected: "Denied",
        request: (w) => asInstanceRole(w, "s3:BypassGovernanceRetention", `${w.archiveBucketArn}/session-transcripts/alice-0123.log`),
    },
    {
        id: "instance-role-overwrites-archived-transcript",
        group: "A shell on an instance",
        title: "an upload to an archived transcript's key replaces the only copy (the instance role may upload)",
        expected: "Denied",
        fact: (w) => archiveProtection(w.picture.buckets.find((b) => b.arn === w.archiveBucketArn)),
    },

    // ---- The endpoints carry only your principals.
    {
        id: "shell-uploads-to-own-bucket",
        group: "A shell on an instance",
        title: "a shell user uploads to a bucket of its own account through the S3 endpoint, with that account's credentials",
        expected: "Denied",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::${w.theirAccount}:user/mallory`),
            action: "s3:PutObject",
            resource: `arn:${w.picture.partition}:s3:::mallory-drop/loot.tar`,
            throughVpc: w.instanceA.vpcId,
        }),
    },
    {
        id: "shell-writes-own-log-group",
        group: "A shell on an instance",
        title: "a shell user writes to a log group of its own account through the logs endpoint, with that account's credentials",
        expected: "Denied",
        request: (w) => ({
            principal: partnerControlled(`arn:${w.picture.partition}:iam::${w.theirAccount}:user/mallory`),
            action: "logs:PutLogEvents",
            resource: `arn:${w.picture.partition}:logs:${w.picture.region}:${w.theirAccount}:log-group:drop:log-stream:x`,
            throughVpc: w.instanceA.vpcId,
        }),
    },
    {
        id: "package-manager-reads-al2023-repository",
        group: "Blog test plan",
        title: "the package manager reads the Amazon Linux 2023 repository (AWS-owned bucket) through the S3 endpoint",
        expected: "Allowed",
        request: (w) => {
            const bucket = `arn:${w.picture.partition}:s3:::al2023-repos-${w.picture.region}-de612dc2`;
            return {
                principal: ANONYMOUS,
                action: "s3:GetObject",
                resource: `${bucket}/core/mirrors/latest/x86_64/mirror.list`,
                throughVpc: w.instanceA.vpcId,
                resourcePolicy: publicRead(bucket),
            };
        },
    },
    {
        id: "shell-reads-foreign-public-bucket",
        group: "A shell on an instance",
        title: "a shell user fetches tools from someone's public bucket through the S3 endpoint",
        expected: "Denied",
        request: (w) => {
            const bucket = `arn:${w.picture.partition}:s3:::attacker-tools`;
            return {
                principal: ANONYMOUS,
                action: "s3:GetObject",
                resource: `${bucket}/implant`,
                throughVpc: w.instanceA.vpcId,
                resourcePolicy: publicRead(bucket),
            };
        },
    },
];

/**
 * ssmmessages:OpenDataChannel, decided from the grant's statements: AWS's authorization
 * data (and so the evaluator) lists no resource type for it yet, although AWS's
 * quickstart end-user policy scopes it to `session/${aws:userid}-*`. Allowed when an
 * Allow statement names the action on a resource matching the session, once
 * `${aws:userid}` is the caller's, and no unconditional Deny names it.
 */
function openDataChannel(w: CatalogueWorld, grant: IamPrincipal, session: string): { decision: Decision; reason: string } {
    const action = "ssmmessages:OpenDataChannel";
    const statements = grant.policies.flatMap((p) => p.document.Statement);
    const names = (s: PolicyStatement) => statementAdmits(s, action);
    const glob = (pattern: string) => iamWildcard(pattern.replace("${aws:userid}", userIdOf(w.picture, grant.arn, "alice")));
    if (statements.some((s) => s.Effect === "Deny" && s.Condition === undefined && names(s)))
        return { decision: "ExplicitlyDenied", reason: "an unconditional Deny names it" };
    const allowing = statements.filter(
        (s) => s.Effect === "Allow" && s.Condition === undefined && names(s) && asList(s.Resource).some((r) => glob(r).test(session)),
    );
    return allowing.length > 0
        ? { decision: "Allowed", reason: `allowed by ${allowing.map((s) => s.Sid).join(", ")}` }
        : { decision: "ImplicitlyDenied", reason: "no statement names this session" };
}

/** Whether an upload can replace an archived transcript: not when the bucket keeps every version and locks each one. */
function archiveProtection(bucket: PictureBucket | undefined): { decision: Decision; reason: string } {
    if (bucket === undefined) return { decision: "Allowed", reason: "no archive bucket in the picture" };
    if (bucket.versioned && bucket.objectLock !== undefined && bucket.objectLock.days > 0) {
        return { decision: "ImplicitlyDenied", reason: `versioned, Object Lock ${bucket.objectLock.mode} for ${bucket.objectLock.days} days` };
    }
    return { decision: "Allowed", reason: bucket.versioned ? "versioned, but versions are not locked" : "not versioned" };
}
