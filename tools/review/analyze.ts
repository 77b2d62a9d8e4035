// Turns the runs of a stack (and the stacks it references) into the access review:
// resources by component, the partner-by-instance access matrix decided by evaluating
// the produced policies, the chain each partner uses, findings, and the fixed cost.
// Everything here is read from what the programs registered, never from config, except
// the intended access the exhaustive proof holds it against (tools/access/proof.ts).

import { awsBehaviourFindings } from "../access/aws-behaviour";
import { requestCount } from "../access/enumerate";
import { proveAccess, type ProofFinding } from "../access/proof";
import { SESSION_PREFERENCES_DOCUMENT } from "../../components/constants";
import { asList } from "../../components/policies";
import { componentType } from "../../components/type-tokens";
import { decide, partnerControlled, type Decision } from "../iam/evaluate";
import { lintPicture } from "../iam/lint";
import { REVIEW_IDENTITY, SIGNED_IN_WITH_MFA } from "../iam/probes";
import { buildIamPicture, findPrincipal, type IamPicture, type IamPrincipal, type PictureInstance } from "../iam/picture";
import { cloudResources, resolve, type ProgramRun } from "../mock-engine";
import {
    accessTagKeyOf,
    auditLogGroupOf,
    defaultRunAsOf,
    grantsOf,
    preferencesOf,
    revocationOf,
    runAsOf,
    trustFacts,
    yoursRunOf,
    type TrustFacts,
} from "../iam/facts";
import { PRICES } from "./prices";
import { groupBy } from "../grouping";
import { modelOf } from "../access/model";
import { protectionChecks, type ProtectionCheck } from "./protections";
import type { ReviewRuns } from "../stack-runs";

export interface ComponentSummary {
    type: string;
    name: string;
    /** Child resources by type. */
    children: Record<string, number>;
}

export interface MatrixCell {
    partner: string;
    instance: string;
    instanceId: string;
    decision: Decision;
    allowed: boolean;
    runAs: string;
    expiresAt: string | null;
    /** The partner's access had expired at the evaluation time. */
    expired: boolean;
    reason: string;
}

export interface ChainLink {
    from: string;
    to: string;
    decision: Decision;
    note: string;
}

export interface PartnerSummary {
    name: string;
    grantRoleArn: string;
    runAs: string;
    expiresAt: string | null;
    requiresSourceIdentity: boolean;
    /** Credentials issued before this instant are refused, when a revocation is set. */
    revokeSessionsIssuedBefore: string | null;
    trustedPrincipals: string[];
    /** Which instances the grant reaches: by tag, in the whole account and region, not only this stack's. */
    reach: string;
    /** Who can get to the grant role, link by link, evaluated now. */
    chain: ChainLink[];
}

export interface Finding {
    severity: "warning" | "info";
    message: string;
}

export interface CostLine {
    item: string;
    quantity: number;
    unit: string;
    unitPrice: number;
    monthly: number;
}

export interface ReviewReport {
    stack: string;
    side: string;
    account: string;
    region: string;
    evaluatedAt: string;
    resourceCount: number;
    components: ComponentSummary[];
    accessTagKey: string;
    defaultRunAs: string | null;
    partners: PartnerSummary[];
    instances: Array<{ name: string; id: string; tags: Record<string, string> }>;
    /**
     * The pairs of partner and instance that matter, each decided by evaluation: every pair the
     * access model finds allowed, and every partner with each instance tagged for it. Every other
     * pair is refused (the model asked about each, in classes); `matrixSummary` counts them.
     */
    matrix: MatrixCell[];
    /** The matrix in one sentence: who reaches what, and how many pairs are refused. */
    matrixSummary: string;
    /** Each protection, probed by evaluation; one that does not hold is also a finding. */
    protections: ProtectionCheck[];
    diagram: string;
    /** The exhaustive proof: the intended access from the config, and how much was enumerated (absent without the config files). */
    proof?: { intended: string[]; allowedRequests: number; evaluations: number };
    findings: Finding[];
    cost: { asOf: string; region: string; currency: string; lines: CostLine[]; totalMonthly: number; note: string };
}

const DAY_MS = 86_400_000;

/** How each kind of proof finding reads in the review. */
const PROOF_FINDING: Record<ProofFinding["kind"], string> = {
    unintended: "access nobody intended",
    missing: "intended access refused",
    outlasts: "access outlasting its end",
    held: "instance role held by a partner",
    "runs-as": "sessions run as another OS user",
    unprovable: "not proven",
};

function componentsOf(run: ProgramRun): ComponentSummary[] {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const summaries = new Map<string, ComponentSummary>();
    for (const resource of cloudResources(run)) {
        const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
        const key = parent ? parent.urn : "(stack)";
        const summary = summaries.get(key) ?? { type: parent?.type ?? "pulumi:pulumi:Stack", name: parent?.name ?? run.stack, children: {} };
        summary.children[resource.type] = (summary.children[resource.type] ?? 0) + 1;
        summaries.set(key, summary);
    }
    return [...summaries.values()];
}

async function cellFor(
    picture: IamPicture,
    grant: IamPrincipal,
    partner: string,
    instance: PictureInstance,
    accessTagKey: string,
    runAs: string,
    expiresAt: string | null,
    at: string,
): Promise<MatrixCell> {
    const detail = await decide(picture, {
        principal: grant.arn,
        sessionName: "review",
        action: "ssm:StartSession",
        resource: instance.arn,
        resourceTags: instance.tags,
        at,
    });
    const tag = instance.tags[accessTagKey];
    const expired = expiresAt !== null && Date.parse(expiresAt) <= Date.parse(at);
    let reason: string;
    if (detail.errors) reason = `evaluator error: ${detail.errors}`;
    else if (expired && detail.decision !== "Allowed")
        reason = `expired at ${expiresAt}: ${detail.deniedBy ? `denied by ${detail.deniedBy.join(", ")}` : "no statement allows it"}`;
    else if (detail.decision === "Allowed") reason = `allowed by ${detail.allowedBy?.join(", ")}: instance ${accessTagKey}=${tag} equals the role's tag`;
    else if (detail.decision === "ExplicitlyDenied") reason = `denied by ${detail.deniedBy?.join(", ")}`;
    else
        reason =
            tag === undefined
                ? `no statement allows it: the instance has no ${accessTagKey} tag`
                : `no statement allows it: instance ${accessTagKey}=${tag}, role ${accessTagKey}=${grant.tags[accessTagKey]}`;
    return {
        partner,
        instance: instance.name,
        instanceId: instance.id,
        decision: detail.decision,
        allowed: detail.decision === "Allowed",
        runAs,
        expiresAt,
        expired,
        reason,
    };
}

/**
 * The identity a chain carries, as CloudTrail's `sourceIdentity` will show it: the
 * reviewer evaluates each link with a source identity and a role session name that the
 * policies require to agree (an IAM user's own name; then the same name hop by hop).
 */

async function chainFor(picture: IamPicture, grant: IamPrincipal, facts: TrustFacts, at: string, peopleOf: Map<string, IamPrincipal[]>): Promise<ChainLink[]> {
    const links: ChainLink[] = [];
    const externalId = facts.externalIds[0];
    for (const principalArn of facts.principals) {
        const inPicture = findPrincipal(picture, principalArn);
        const people = inPicture === undefined ? [] : (peopleOf.get(inPicture.accountId) ?? []);
        // The identity the jump session carries: a person's own name when this review sees the people.
        const identity = people[0]?.name ?? REVIEW_IDENTITY;
        const detail = await decide(picture, {
            principal: inPicture ? principalArn : partnerControlled(principalArn),
            sessionName: identity,
            action: "sts:AssumeRole",
            resource: grant.arn,
            context: {
                ...(externalId ? { "sts:ExternalId": externalId } : {}),
                "aws:SourceIdentity": identity,
                "sts:SourceIdentity": identity,
                "sts:RoleSessionName": identity,
            },
            at,
        });
        links.push({
            from: principalArn,
            to: grant.arn,
            decision: detail.decision,
            note:
                (inPicture
                    ? "with the external id, both sides' policies as produced"
                    : "with the external id; the partner's own policies are not in this review") +
                (facts.requiresSourceIdentity
                    ? "; carries the source identity set before it, and names the session after it"
                    : "; no source identity required"),
        });
        // Who may use that principal, when it is a jump role this review can see.
        for (const person of people) {
            const personDetail = await decide(picture, {
                principal: person.arn,
                sessionName: person.name,
                action: "sts:AssumeRole",
                resource: principalArn,
                context: { "sts:SourceIdentity": person.name, "sts:RoleSessionName": person.name, ...SIGNED_IN_WITH_MFA },
                at,
            });
            links.push({
                from: person.arn,
                to: principalArn,
                decision: personDetail.decision,
                note: `IAM user through its group, signed in with MFA; source identity and session name "${person.name}", its own user name`,
            });
        }
    }
    return links;
}

// The bucket a yours run's preferences archive transcripts to (s3BucketName), by ARN.
function archiveBucketOf(run: ProgramRun | undefined): string | undefined {
    const name = run === undefined ? undefined : preferencesOf(run)?.s3BucketName;
    return typeof name === "string" && name !== "" ? `arn:${run!.partition}:s3:::${name}` : undefined;
}

/** The matrix in one sentence: each partner reaching exactly its own tagged instances, or how many pairs are allowed. */
function summaryOf(partners: PartnerSummary[], instances: number, matrix: MatrixCell[], taggedFor: Map<string, PictureInstance[]>): string {
    const pairs = partners.length * instances;
    const allowed = matrix.filter((c) => c.allowed);
    const refusals = pairs - allowed.length;
    const refused = `${refusals} of the ${pairs} pairs of partner and instance ${refusals === 1 ? "is" : "are"} refused`;
    if (partners.length === 0 || instances === 0) return `${refused}.`;
    const exactlyItsOwn = partners.every((p) => {
        const own = new Set((taggedFor.get(p.name) ?? []).map((i) => i.id));
        const reached = allowed.filter((c) => c.partner === p.name);
        return reached.length === own.size && reached.every((c) => own.has(c.instanceId));
    });
    const runsAs = new Set(partners.map((p) => p.runAs)).size === partners.length ? "each as its own OS user" : "not each as an OS user of its own";
    return exactlyItsOwn
        ? `Each of the ${partners.length} partners reaches exactly the instances tagged for it (${allowed.length} in all), ${runsAs}; ${refused}.`
        : `${allowed.length} pairs of partner and instance are allowed (listed below); ${refused}.`;
}

const nodeId = (value: string) => `n_${value.replace(/[^A-Za-z0-9]/g, "_")}`;
const label = (value: string) => value.replace(/"/g, "'");

function diagramOf(report: Pick<ReviewReport, "partners" | "matrix" | "account">): string {
    const lines = ["flowchart LR"];
    const edges: string[] = [];
    for (const partner of report.partners) {
        const grantId = nodeId(partner.grantRoleArn);
        lines.push(`  ${grantId}["grant role ${label(partner.grantRoleArn.split("/").pop()!)}"]`);
        for (const link of partner.chain.filter((l) => l.decision === "Allowed")) {
            const kind = link.from.includes(":user/") ? "IAM user" : "role";
            lines.push(`  ${nodeId(link.from)}["${kind} ${label(link.from.split("/").pop()!)} (${link.from.split(":")[4]})"]`);
            edges.push(`  ${nodeId(link.from)} -->|"${link.to === partner.grantRoleArn ? "AssumeRole + external id" : "AssumeRole"}"| ${nodeId(link.to)}`);
        }
        const osUserId = nodeId(`os-${partner.runAs}`);
        let reachesInstance = false;
        for (const cell of report.matrix.filter((c) => c.partner === partner.name && c.allowed)) {
            reachesInstance = true;
            lines.push(`  ${nodeId(cell.instanceId)}["instance ${label(cell.instance)}"]`);
            edges.push(`  ${grantId} -->|"StartSession"| ${nodeId(cell.instanceId)}`);
            edges.push(`  ${nodeId(cell.instanceId)} -->|"runs as"| ${osUserId}`);
        }
        if (reachesInstance) lines.push(`  ${osUserId}(["OS user ${label(partner.runAs)}"])`);
    }
    return [...new Set(lines), ...new Set(edges)].join("\n");
}

function costOf(run: ProgramRun): ReviewReport["cost"] {
    const hours = PRICES.hoursPerMonth;
    const lines: CostLine[] = [];
    const endpoints = run.resources.filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Interface");
    const endpointZones = endpoints.reduce((sum, e) => sum + (e.inputs.subnetIds?.length ?? 0), 0);
    if (endpointZones > 0) {
        lines.push({
            item: `interface endpoints (${endpoints.length} services x zones)`,
            quantity: endpointZones,
            unit: "endpoint-zone",
            unitPrice: PRICES.interfaceEndpointHour * hours,
            monthly: endpointZones * PRICES.interfaceEndpointHour * hours,
        });
    }
    const instances = run.resources.filter((r) => r.type === "aws:ec2/instance:Instance");
    const byType = new Map<string, number>();
    for (const instance of instances) byType.set(instance.inputs.instanceType, (byType.get(instance.inputs.instanceType) ?? 0) + 1);
    for (const [type, count] of byType) {
        const price = PRICES.instanceHour[type];
        if (price !== undefined)
            lines.push({ item: `EC2 ${type}`, quantity: count, unit: "instance", unitPrice: price * hours, monthly: count * price * hours });
        else lines.push({ item: `EC2 ${type} (not in the price table)`, quantity: count, unit: "instance", unitPrice: 0, monthly: 0 });
    }
    if (instances.length > 0) {
        lines.push({
            item: `EBS gp3 root volumes (${PRICES.defaultRootVolumeGb} GB)`,
            quantity: instances.length,
            unit: "volume",
            unitPrice: PRICES.gp3GbMonth * PRICES.defaultRootVolumeGb,
            monthly: instances.length * PRICES.gp3GbMonth * PRICES.defaultRootVolumeGb,
        });
    }
    const keys = run.resources.filter((r) => r.type === "aws:kms/key:Key").length;
    if (keys > 0)
        lines.push({ item: "KMS customer-managed key", quantity: keys, unit: "key", unitPrice: PRICES.kmsKeyMonth, monthly: keys * PRICES.kmsKeyMonth });
    const secrets = run.resources.filter((r) => r.type === "aws:secretsmanager/secret:Secret").length;
    if (secrets > 0)
        lines.push({ item: "Secrets Manager secret", quantity: secrets, unit: "secret", unitPrice: PRICES.secretMonth, monthly: secrets * PRICES.secretMonth });
    const round = (n: number) => Math.round(n * 100) / 100;
    const rounded = lines.map((l) => ({ ...l, unitPrice: round(l.unitPrice), monthly: round(l.monthly) }));
    return {
        asOf: PRICES.asOf,
        region: PRICES.region,
        currency: PRICES.currency,
        lines: rounded,
        totalMonthly: round(lines.reduce((sum, l) => sum + l.monthly, 0)),
        note:
            "Fixed monthly charges at on-demand list prices. " +
            (endpointZones > 0
                ? "Interface endpoints are billed per service and per zone, so they dominate; fewer zones cut them, at the cost of availability. "
                : "") +
            "Not included: usage-based charges (endpoint data processing, CloudWatch Logs ingestion and storage, flow logs, KMS and API requests).",
    };
}

/** Builds the review of `runs.main`, evaluating at `at` (ISO time). */
export async function analyze(runs: ReviewRuns, at: string, progress?: (line: string) => void): Promise<ReviewReport> {
    const { main } = runs;
    const picture = buildIamPicture([main, ...runs.referenced]);
    const accessTagKey = await accessTagKeyOf(main);
    let grants = grantsOf(picture, accessTagKey);
    if (main.outputs.jumpRoleArn !== undefined) {
        // A their stack: review only the grant its jump role is meant for.
        const grantArn = (await resolve(main.outputs.grantRoleArn as string)).value;
        grants = grants.filter((g) => g.arn === grantArn);
    }
    const yoursRun = yoursRunOf([main, ...runs.referenced]);
    const defaultRunAs = yoursRun ? defaultRunAsOf(yoursRun) : null;
    const auditLogGroupName = yoursRun ? auditLogGroupOf(yoursRun) : null;
    const auditLogGroupArn = picture.logGroups.find((g) => g.name === auditLogGroupName)?.arn;
    const findings: Finding[] = [];

    // The access model, built once: the proof's when the config files are known, else the model alone.
    const proven = runs.sources !== undefined && runs.sources.length > 0 ? await proveAccess(runs, at, progress) : undefined;
    const model = proven?.model ?? (await modelOf(runs, at, progress));
    const reachedBy = new Map(
        model.partners.map((p) => [p.grantRoleArn, new Set(p.instances.filter((i) => i.key.endsWith("|")).map((i) => i.key.slice(0, -1)))]),
    );
    const taggedFor = groupBy(
        picture.instances.filter((i) => i.tags[accessTagKey] !== undefined),
        (i) => i.tags[accessTagKey],
    );
    const peopleOf = groupBy(
        picture.principals.filter((p) => p.kind === "user"),
        (p) => p.accountId,
    );

    const partners: PartnerSummary[] = [];
    const externalIds = new Map<string, string | undefined>();
    const matrix: MatrixCell[] = [];
    for (const grant of grants) {
        const name = grant.tags[accessTagKey];
        const facts = trustFacts(grant);
        externalIds.set(grant.arn, facts.externalIds[0]);
        const runAs = runAsOf(grant, yoursRun ? preferencesOf(yoursRun) : null);
        partners.push({
            name,
            grantRoleArn: grant.arn,
            runAs,
            expiresAt: facts.expiresAt,
            requiresSourceIdentity: facts.requiresSourceIdentity,
            revokeSessionsIssuedBefore: revocationOf(grant),
            trustedPrincipals: facts.principals,
            // ABAC reaches by tag: any instance the owner's account tags so, in the region, is in reach.
            reach: `every instance (and hybrid managed instance) of account ${grant.accountId} in ${picture.region} tagged ${accessTagKey}=${name}, whether this stack launched it or not`,
            chain: await chainFor(picture, grant, facts, at, peopleOf),
        });
        // The pairs that matter: the instances tagged for the partner, and any other the model finds it reaches.
        // Every other pair the model asked about and found refused: the summary counts them.
        const reached = reachedBy.get(grant.arn) ?? new Set<string>();
        for (const instance of picture.instances)
            if (instance.tags[accessTagKey] === name || reached.has(instance.arn))
                matrix.push(await cellFor(picture, grant, name, instance, accessTagKey, runAs, facts.expiresAt, at));
    }
    const matrixSummary = summaryOf(partners, picture.instances.length, matrix, taggedFor);

    for (const partner of partners) {
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
    // Instances of the reviewed stack only: on a their stack, other partners' instances are none of its business.
    for (const instance of picture.instances.filter((i) => i.accountId === main.account)) {
        const tag = instance.tags[accessTagKey];
        if (tag !== undefined && !matrix.some((c) => c.instanceId === instance.id && c.allowed)) {
            findings.push({
                severity: "warning",
                message: `instance ${instance.name} is tagged ${accessTagKey}=${tag}, but no partner in this review can reach it.`,
            });
        }
    }
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
        const inputs = JSON.parse(document.inputs.content).inputs ?? {};
        if (!inputs.kmsKeyId)
            findings.push({
                severity: "info",
                message:
                    "Session data is not encrypted with a customer-managed KMS key (sessions.kmsEncryption is off); transcripts use CloudWatch Logs' default encryption.",
            });
        // A key or bucket of your own: its policy is not in the stack, so its owner applies what the stack needs.
        if (inputs.kmsKeyId && !picture.resourcePolicies.some((r) => r.kind === "kms-key" && r.arn === inputs.kmsKeyId))
            findings.push({
                severity: "info",
                message: `Session data is encrypted with a key of your own, ${inputs.kmsKeyId}: its key policy must carry the statements of stack output sessionKeyPolicyStatements, or sessions fail to start.`,
            });
        // The archive as the preferences name it: one this stack creates (its lock, lifecycle and logging), or one of your own.
        const archiveArn = archiveBucketOf(main);
        const archive = archiveArn === undefined ? undefined : picture.buckets.find((b) => b.arn === archiveArn);
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
    for (const principal of picture.principals.filter((p) => p.awsManagedPolicies.length > 0 && p.stack === main.stack)) {
        findings.push({
            severity: "info",
            message: `${principal.name} also has ${principal.awsManagedPolicies.map((a) => a.split("/").pop()).join(", ")}, which this review lists but does not evaluate (its text is not available offline).`,
        });
    }
    // Alerts: what raises one and who hears it.
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
    for (const role of picture.principals.filter(
        (p) =>
            p.kind === "role" &&
            (p.trustPolicy?.Statement ?? []).some((s) => asList(s.Action).includes("sts:SetSourceIdentity")) &&
            // Every partner's grant, not only the reviewed one: a their stack's review sees the others too.
            !grantsOf(picture, accessTagKey).includes(p),
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
    // Permissions boundaries: their text is in the owner's account, so they are named, not evaluated (they can only narrow).
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
    const protections = await protectionChecks({
        picture,
        account: main.account,
        at,
        auditLogGroupArn,
        archiveBucketArn: archiveBucketOf(yoursRun),
        grants: grants.map((role) => {
            const partner = partners.find((p) => p.grantRoleArn === role.arn)!;
            return {
                name: partner.name,
                role,
                expiresAt: partner.expiresAt,
                requiresSourceIdentity: partner.requiresSourceIdentity,
                trustedPrincipals: partner.trustedPrincipals,
                externalId: externalIds.get(role.arn),
            };
        }),
    });
    for (const check of protections.filter((c) => !c.holds)) {
        findings.push({
            severity: "warning",
            message: `protection regressed: ${check.subject}: ${check.check} should be ${check.expected === "Denied" ? "refused" : "allowed"}, and is ${check.decision === "Allowed" ? "allowed" : "refused"}.`,
        });
    }
    // What AWS does besides evaluating policies: delivery, regions, running sessions, reloads (tools/access/aws-behaviour.ts).
    for (const { rule, message } of await awsBehaviourFindings([main, ...runs.referenced]))
        findings.push({ severity: "warning", message: `AWS behaviour: ${rule.title}: ${message}. ${rule.behaviour} (${rule.source})` });
    for (const problem of await lintPicture(picture))
        findings.push({
            severity: "warning",
            message: `policy lint: ${problem.document}${problem.statement ? ` (${problem.statement})` : ""}: ${problem.problem}`,
        });

    // Every allowed request against the access the config intends (tools/access/proof.ts).
    let proof: ReviewReport["proof"];
    if (proven !== undefined) {
        proof = {
            intended: proven.spec.rules.map((r) => r.says),
            allowedRequests: requestCount(proven.model.allowed),
            evaluations: proven.evaluations,
        };
        for (const finding of proven.findings) findings.push({ severity: "warning", message: `${PROOF_FINDING[finding.kind]}: ${finding.message}` });
    }

    const report: ReviewReport = {
        stack: main.stack,
        side: main.outputs.jumpRoleArn !== undefined ? "their" : "yours",
        account: main.account,
        region: main.region,
        evaluatedAt: at,
        resourceCount: cloudResources(main).length,
        components: componentsOf(main),
        accessTagKey,
        defaultRunAs,
        partners,
        instances: picture.instances.map((i) => ({ name: i.name, id: i.id, tags: i.tags })),
        matrix,
        matrixSummary,
        protections,
        diagram: "",
        ...(proof ? { proof } : {}),
        findings,
        cost: costOf(main),
    };
    report.diagram = diagramOf(report);
    return report;
}
