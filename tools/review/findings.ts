// The review's findings on what the programs produced, each a small rule of its own: a
// rule reads the context and returns what it finds. The access findings (protections,
// AWS behaviour, lint and the proof) are answers analyze asks for first; their rules word them.

import { SESSION_PREFERENCES_DOCUMENT } from "../../components/constants";
import { asList } from "../../components/policies";
import { componentType } from "../../components/type-tokens";
import type { AwsBehaviourFinding } from "../access/aws-behaviour";
import type { ProofFinding } from "../access/proof";
import { preferencesOf } from "../iam/facts";
import type { LintFinding } from "../iam/lint";
import type { IamPicture, IamPrincipal } from "../iam/picture";
import type { ProgramRun } from "../mock-engine";
import type { GrantOutput } from "../../stacks/outputs";
import type { ProtectionCheck } from "./protections";
import type { Finding, MatrixCell, PartnerSummary } from "./report";

/** What the rules read: the reviewed run, the picture, and what analyze decided. */
export interface FindingContext {
    main: ProgramRun;
    picture: IamPicture;
    accessTagKey: string;
    partners: PartnerSummary[];
    matrix: MatrixCell[];
    /** Evaluation time (ISO). */
    at: string;
    /** The archive bucket the reviewed run's preferences name, if any. */
    archiveBucketArn: string | undefined;
    /** Every partner's grant role in the picture, not only the reviewed one (a their stack's review sees the others too). */
    grantRoles: ReadonlySet<IamPrincipal>;
    /** Each grant as the yours stack states it, by role ARN. */
    statedGrants: ReadonlyMap<string, GrantOutput>;
    protections: ProtectionCheck[];
    awsBehaviour: AwsBehaviourFinding[];
    lint: LintFinding[];
    /** The exhaustive proof's findings, when the config files are known. */
    proof: ProofFinding[];
}

export type FindingRule = (context: FindingContext) => Finding[];

const DAY_MS = 86_400_000;

/** What each partner can reach, how long it may, and whether people are named in CloudTrail. */
const partnerFindings: FindingRule = ({ partners, matrix, accessTagKey, at, statedGrants }) => {
    const findings: Finding[] = [];
    for (const partner of partners) {
        if (!statedGrants.has(partner.grantRoleArn))
            findings.push({
                severity: "warning",
                message: `Role ${partner.grantRoleArn.split("/").pop()} carries ${accessTagKey}=${partner.name}, so it reaches the instances tagged for ${partner.name}, but the stack's grants output states no grant with this role: its trust and end of access are stated nowhere for the review to hold them to.`,
            });
        if (!matrix.some((c) => c.partner === partner.name && c.allowed)) {
            findings.push({
                severity: "warning",
                message: `${partner.name} can reach no instance of this stack: only instances you tag ${accessTagKey}=${partner.name} yourself.`,
            });
        }
        if (partner.expiresAt !== null) {
            const left = Date.parse(partner.expiresAt) - Date.parse(at);
            if (left <= 0)
                findings.push({
                    severity: "warning",
                    message: `${partner.name}'s access expired at ${partner.expiresAt}: AssumeRole is refused; remove the partner if that is final.`,
                });
            else if (left <= 14 * DAY_MS)
                findings.push({ severity: "warning", message: `${partner.name}'s access expires at ${partner.expiresAt}, within 14 days.` });
        }
        if (!partner.requiresSourceIdentity)
            findings.push({
                severity: "warning",
                message: `${partner.name}'s grant does not require a source identity: CloudTrail shows the role session, not the person.`,
            });
        if (partner.chain.some((l) => l.to === partner.grantRoleArn && l.decision !== "Allowed")) {
            findings.push({
                severity: "info",
                message: `${partner.name}'s trusted principal cannot assume the grant at ${at} (expired, or no external id yet).`,
            });
        }
    }
    return findings;
};

/** Instances tagged for access that no partner in the review reaches. */
const unreachedInstanceFindings: FindingRule = ({ main, picture, matrix, accessTagKey }) => {
    const findings: Finding[] = [];
    for (const instance of picture.instances.filter((i) => i.accountId === main.account)) {
        const tag = instance.tags[accessTagKey];
        if (tag !== undefined && !matrix.some((c) => c.instanceId === instance.id && c.allowed)) {
            findings.push({
                severity: "warning",
                message: `instance ${instance.name} is tagged ${accessTagKey}=${tag}, but no partner in this review can reach it.`,
            });
        }
    }
    return findings;
};

/** The network, encryption and archive the sessions rely on, and the preferences document's creation. */
const sessionDataFindings: FindingRule = ({ main, picture, archiveBucketArn }) => {
    const findings: Finding[] = [];
    const document = main.resources.find((r) => r.type === "aws:ssm/document:Document" && r.inputs.name === SESSION_PREFERENCES_DOCUMENT);
    const launches = main.resources.some((r) => r.type === "aws:ec2/instance:Instance");
    if (document && !main.resources.some((r) => r.type === "aws:ec2/vpc:Vpc")) {
        findings.push({
            severity: "info",
            message: launches
                ? "The instances run in a network of your own (network.vpcId): this stack builds no endpoints or routes, so keeping that network private, and what its endpoints admit, are yours to check; no endpoint charges here."
                : "No network is built (no instances): the grants apply to instances you tag yourself, and there are no endpoint charges.",
        });
    }
    if (document) {
        const inputs = preferencesOf(main) ?? {};
        // Where Session Manager streams transcripts, as the document produced says: a group no stack here creates is not reviewed.
        if (typeof inputs.cloudWatchLogGroupName === "string" && !picture.logGroups.some((g) => g.name === inputs.cloudWatchLogGroupName))
            findings.push({
                severity: "warning",
                message: `The session preferences stream transcripts to log group ${inputs.cloudWatchLogGroupName}, which no stack in this review creates: its retention, encryption and who may write to it are not reviewed, and the audit-log protections have no group to probe.`,
            });
        if (!inputs.kmsKeyId)
            findings.push({
                severity: "info",
                message:
                    "Session data is not encrypted with a customer-managed KMS key (sessions.kmsEncryption is off); transcripts use CloudWatch Logs' default encryption.",
            });
        // A key or bucket of your own: its policy is not in the stack, so its owner applies what the stack needs.
        if (inputs.kmsKeyId && !picture.resourcePolicies.some((r) => r.kind === "kms-key" && r.arn === inputs.kmsKeyId && r.assumedFromOutput === undefined))
            findings.push({
                severity: "info",
                message: `Session data is encrypted with a key of your own, ${inputs.kmsKeyId}: its key policy must carry the statements of stack output sessionKeyPolicyStatements, or sessions fail to start.`,
            });
        // The archive as the preferences name it: one this stack creates (its lock, lifecycle and logging), or one of your own.
        const archive = archiveBucketArn === undefined ? undefined : picture.buckets.find((b) => b.arn === archiveBucketArn);
        if (inputs.s3BucketName && archive === undefined)
            findings.push({
                severity: "info",
                message: `Transcripts are archived to a bucket of your own, ${inputs.s3BucketName}: its lock, lifecycle, encryption and access logs are yours; stack output archiveBucketPolicyStatements holds the statements its policy should carry.`,
            });
        if (archive !== undefined) {
            const { objectLock, lifecycle, accessLogPrefix } = archive;
            const transition = lifecycle?.transition;
            findings.push({
                severity: "info",
                message:
                    `Archived transcripts are ${objectLock ? `locked ${objectLock.days} days (${objectLock.mode})` : "not locked"}, ` +
                    `${transition ? `move to ${transition.storageClass} after ${transition.days} days` : "stay in their storage class"}, ` +
                    `and ${lifecycle?.expirationDays !== undefined ? `expire after ${lifecycle.expirationDays} days` : "are kept until you delete them"}; ` +
                    (accessLogPrefix !== undefined
                        ? `every request on the archive is logged (S3 server access logs, prefix ${accessLogPrefix}).`
                        : "requests on the archive are not logged."),
            });
        }
        if (!document.importId) {
            findings.push({
                severity: "info",
                message: `${SESSION_PREFERENCES_DOCUMENT} will be created: if the Session Manager console was ever opened in this account and region it already exists, and pulumi up fails with DocumentAlreadyExists; then set sessions.adoptExistingPreferences.`,
            });
        }
    }
    return findings;
};

/** AWS managed policies: evaluated by the text of a dated snapshot, or only named when this project has none. */
const managedPolicyFindings: FindingRule = ({ main, picture }) => {
    const findings: Finding[] = [];
    for (const principal of picture.principals.filter((p) => p.awsManagedPolicies.length > 0 && p.stack === main.stack)) {
        const name = (arn: string) => arn.split("/").pop()!;
        const snapshots = principal.policies.filter((p) => p.snapshotTakenOn !== undefined);
        const unknown = principal.awsManagedPolicies.filter((arn) => !snapshots.some((p) => p.name === name(arn)));
        if (snapshots.length > 0)
            findings.push({
                severity: "info",
                message: `${principal.name} also has ${snapshots.map((p) => `${p.name} (evaluated from its text as of ${p.snapshotTakenOn}: AWS may have changed it since)`).join(", ")}.`,
            });
        if (unknown.length > 0)
            findings.push({
                severity: "info",
                message: `${principal.name} also has ${unknown.map(name).join(", ")}, which this review lists but does not evaluate (this project has no snapshot of its text).`,
            });
    }
    return findings;
};

/** Alerts: what raises one and who hears it. */
const alertFindings: FindingRule = ({ main }) => {
    const findings: Finding[] = [];
    if (main.resources.some((r) => r.type === componentType("SessionAlerts"))) {
        const subscriptions = main.resources
            .filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription")
            .map((r) => `${r.inputs.protocol} ${r.inputs.endpoint}`);
        findings.push({
            severity: subscriptions.length > 0 ? "info" : "warning",
            message:
                "Every StartSession, ResumeSession and TerminateSession, every AssumeRole of a grant role (refused ones included; the grants accept only this region's STS endpoint) and every end of access is published to an encrypted SNS topic " +
                `(output alertTopicArn), as CloudTrail records them: a trail logging management events in ${main.region} is needed. ` +
                (subscriptions.length > 0 ? `Subscribed: ${subscriptions.join(", ")}.` : "Nobody is subscribed yet (alerts.emails, alerts.httpsEndpoints)."),
        });
    } else if (main.outputs.grants !== undefined) {
        findings.push({ severity: "warning", message: "No alerts on sessions or grant-role AssumeRole calls (alerts.enabled is false)." });
    }
    // MFA of the partner's people, read off its jump roles' trust (a their stack's, or the one it references).
    return findings;
};

/** MFA of the partner's people, read off its jump roles' trust (a their stack's, or the one it references). */
const jumpRoleMfaFindings: FindingRule = ({ picture, grantRoles }) => {
    const findings: Finding[] = [];
    for (const role of picture.principals.filter(
        (p) => p.kind === "role" && (p.trustPolicy?.Statement ?? []).some((s) => asList(s.Action).includes("sts:SetSourceIdentity")) && !grantRoles.has(p),
    )) {
        const assume = (role.trustPolicy?.Statement ?? []).find((s) => s.Effect === "Allow" && asList(s.Action).includes("sts:AssumeRole"));
        const maxAge = assume?.Condition?.NumericLessThan?.["aws:MultiFactorAuthAge"];
        const present = assume?.Condition?.Bool?.["aws:MultiFactorAuthPresent"] === "true";
        // IAM users sign with long-term keys: without MFA, a stolen key alone opens a shell.
        const trustsUsers = asList(assume?.Condition?.ArnEquals?.["aws:PrincipalArn"] as string | string[] | undefined).some((arn) => arn.includes(":user/"));
        findings.push(
            present
                ? {
                      severity: "info",
                      message: `The jump role ${role.name} requires an MFA sign-in${maxAge ? ` within ${maxAge} seconds` : ""} of whoever assumes it.`,
                  }
                : trustsUsers
                  ? {
                        severity: "warning",
                        message: `The jump role ${role.name} does not require MFA of the IAM users it trusts (mfa.required is false on its their stack): a leaked access key alone opens a shell.`,
                    }
                  : {
                        severity: "info",
                        message: `The jump role ${role.name} does not test MFA itself: its federated principal's identity provider enforces its own.`,
                    },
        );
    }
    return findings;
};

/** Permissions boundaries: their text is in the owner's account, so they are named, not evaluated (they can only narrow). */
const boundaryFindings: FindingRule = ({ main }) => {
    const findings: Finding[] = [];
    const roles = main.resources.filter((r) => r.type === "aws:iam/role:Role");
    const boundaries = [...new Set(roles.map((r) => r.inputs.permissionsBoundary).filter((b): b is string => typeof b === "string"))];
    if (boundaries.length > 0) {
        const unbounded = roles.filter((r) => typeof r.inputs.permissionsBoundary !== "string").map((r) => r.inputs.name ?? r.name);
        findings.push(
            unbounded.length === 0
                ? {
                      severity: "info",
                      message: `Every role this stack creates (${roles.length}) has the permissions boundary ${boundaries.join(", ")}; its text is not evaluated here, and it can only narrow the access shown.`,
                  }
                : { severity: "warning", message: `Roles without the permissions boundary ${boundaries.join(", ")}: ${unbounded.join(", ")}.` },
        );
    }
    return findings;
};

/** A protection the policies as produced no longer keep. */
const protectionFindings: FindingRule = ({ protections }) =>
    protections
        .filter((check) => !check.holds)
        .map((check) => ({
            severity: "warning",
            message:
                check.notShown !== undefined
                    ? `protection not shown: ${check.subject}: ${check.check}: ${check.notShown}, so its refusal proves nothing.`
                    : `protection regressed: ${check.subject}: ${check.check} should be ${check.expected === "Denied" ? "refused" : "allowed"}, and is ${check.decision === "Allowed" ? "allowed" : "refused"}.`,
        }));

/** What AWS does besides evaluating policies: delivery, regions, running sessions, reloads (tools/access/aws-behaviour.ts). */
const awsBehaviourFindings: FindingRule = ({ awsBehaviour }) =>
    awsBehaviour.map(({ rule, message }) => ({ severity: "warning", message: `AWS behaviour: ${rule.title}: ${message}. ${rule.behaviour} (${rule.source})` }));

const lintFindings: FindingRule = ({ lint }) =>
    lint.map((problem) => ({
        severity: "warning",
        message: `policy lint: ${problem.document}${problem.statement ? ` (${problem.statement})` : ""}: ${problem.problem}`,
    }));

/** How each kind of proof finding reads in the review. */
const PROOF_FINDING: Record<ProofFinding["kind"], string> = {
    unintended: "access nobody intended",
    missing: "intended access refused",
    outlasts: "access outlasting its end",
    held: "instance role held by a partner",
    "runs-as": "sessions run as another OS user",
    unprovable: "not proven",
};

/** Every allowed request held against the access the config intends (tools/access/proof.ts). */
const proofFindings: FindingRule = ({ proof }) =>
    proof.map((finding) => ({ severity: "warning", message: `${PROOF_FINDING[finding.kind]}: ${finding.message}` }));

/** The rules, in the order the report lists their findings. */
export const FINDING_RULES: FindingRule[] = [
    partnerFindings,
    unreachedInstanceFindings,
    sessionDataFindings,
    managedPolicyFindings,
    alertFindings,
    jumpRoleMfaFindings,
    boundaryFindings,
    protectionFindings,
    awsBehaviourFindings,
    lintFindings,
    proofFindings,
];

/** Every rule's findings on a context. */
export function findingsOf(context: FindingContext): Finding[] {
    return FINDING_RULES.flatMap((rule) => rule(context));
}
