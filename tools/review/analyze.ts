// Turns the runs of a stack (and the stacks it references) into the access review:
// resources by component, the partner-by-instance access matrix decided by evaluating
// the produced policies, the chain each partner uses, findings, and the fixed cost.
// Everything here is read from what the programs registered, never from config, except
// the intended access the exhaustive proof holds it against (tools/access/proof.ts).

import { awsBehaviourFindings } from "../access/aws-behaviour";
import { requestCount } from "../access/enumerate";
import { proveAccess } from "../access/proof";
import { decide, partnerControlled } from "../iam/evaluate";
import { lintPicture } from "../iam/lint";
import { chainedAs, REVIEW_IDENTITY, runAsTagged, SIGNED_IN_WITH_MFA } from "../iam/probes";
import { RUN_AS_TAG_KEY, personOsUser } from "../../components/constants";
import { findPrincipal, type IamPicture, type IamPrincipal, type PictureInstance } from "../iam/picture";
import { cloudResources, resolve, type ProgramRun } from "../mock-engine";
import { grantsOf, listedPersonOf, perPersonBaseOf, preferencesOf, runAsOf, yoursRunOf } from "../iam/facts";
import type { GrantOutput } from "../../stacks/outputs";
import { PRICES } from "./prices";
import { groupBy } from "../grouping";
import { modelOf } from "../access/model";
import { protectionChecks } from "./protections";
import type { ReviewRuns } from "../stack-runs";
import { findingsOf } from "./findings";
import type { ChainLink, ComponentSummary, CostLine, MatrixCell, PartnerSummary, PersonRow, ReviewReport } from "./report";
import type { PersonRunAs } from "../access/people";

export type { ReviewReport } from "./report";

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
    sessionIdentity?: string,
): Promise<MatrixCell> {
    const detail = await decide(picture, {
        principal: grant.arn,
        sessionName: "review",
        action: "ssm:StartSession",
        resource: instance.arn,
        resourceTags: instance.tags,
        at,
        // A per-person grant acts only for the people it lists: one of them asks.
        ...(sessionIdentity === undefined ? {} : { context: chainedAs(sessionIdentity) }),
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

async function chainFor(
    picture: IamPicture,
    grant: IamPrincipal,
    stated: GrantOutput | undefined,
    at: string,
    peopleOf: Map<string, IamPrincipal[]>,
): Promise<ChainLink[]> {
    const links: ChainLink[] = [];
    const externalId = stated?.externalId;
    const perPersonBase = perPersonBaseOf(stated);
    for (const principalArn of stated?.trustedPrincipalArns ?? []) {
        const inPicture = findPrincipal(picture, principalArn);
        const people = inPicture === undefined ? [] : (peopleOf.get(inPicture.accountId) ?? []);
        // The identity the jump session carries: a person's own name when this review sees the people.
        const identity = people[0]?.name ?? REVIEW_IDENTITY;
        const assume = (action: string) => ({
            principal: inPicture ? principalArn : partnerControlled(principalArn),
            sessionName: identity,
            action,
            resource: grant.arn,
            context: {
                ...(externalId ? { "sts:ExternalId": externalId } : {}),
                "aws:SourceIdentity": identity,
                "sts:SourceIdentity": identity,
                "sts:RoleSessionName": identity,
                // Per person, tagged with that person's own OS user, as their profile does.
                ...(perPersonBase === undefined ? {} : runAsTagged(personOsUser(perPersonBase, identity))),
            },
            at,
        });
        // Per person, passing the tag needs sts:TagSession on both sides as well.
        let detail = await decide(picture, assume("sts:AssumeRole"));
        if (perPersonBase !== undefined && detail.decision === "Allowed") detail = await decide(picture, assume("sts:TagSession"));
        links.push({
            from: principalArn,
            to: grant.arn,
            decision: detail.decision,
            note:
                (inPicture
                    ? "with the external id, both sides' policies as produced"
                    : "with the external id; the partner's own policies are not in this review") +
                (stated?.requiresSourceIdentity
                    ? "; carries the source identity set before it, and names the session after it"
                    : "; no source identity required") +
                (perPersonBase === undefined ? "" : `; tags the session ${RUN_AS_TAG_KEY}=${personOsUser(perPersonBase, identity)} (sts:TagSession)`),
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

/** Per-person Run As: a row per person the grant states (none for a grant per partner). */
function personRows(
    people: PersonRunAs[] | null,
    picture: IamPicture,
    stated: GrantOutput | undefined,
    reached: Set<string> | undefined,
): { people?: PersonRow[] } {
    if (people === null) return {};
    const instances = picture.instances.filter((i) => reached?.has(i.arn)).map((i) => i.name);
    // The partner's IAM user of that name, when the review sees the partner's stack.
    const accountOfTrusted = stated?.trustedPrincipalArns[0]?.split(":")[4];
    const userArn = (name: string) => picture.principals.find((p) => p.kind === "user" && p.name === name && p.accountId === accountOfTrusted)?.arn;
    return {
        people: people.map((p) => ({
            person: userArn(p.person) ?? p.person,
            sourceIdentity: p.person,
            osUser: p.osUser,
            alsoObtains: p.alsoObtains,
            instances,
            ...(p.asProduced === undefined ? {} : { asProduced: p.asProduced }),
        })),
    };
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
    // The access model, built once: the proof's when the program's settings are known (it was run from its config), else the model alone.
    // Its picture is the one every section below asks: AWS managed policies by their snapshot, keys and buckets of your own by the statements printed for them.
    const proven = runs.settings !== undefined ? await proveAccess(runs, at, progress) : undefined;
    const model = proven?.model ?? (await modelOf(runs, at, progress));
    const { picture, accessTagKey } = model;
    let grants = grantsOf(picture, accessTagKey);
    if (main.outputs.jumpRoleArn !== undefined) {
        // A their stack: review only the grant its jump role is meant for.
        const grantArn = (await resolve(main.outputs.grantRoleArn as string)).value;
        grants = grants.filter((g) => g.arn === grantArn);
    }
    const yoursRun = yoursRunOf([main, ...runs.referenced]);
    // What Session Manager applies: the preferences document as produced (the default Run As user, where transcripts go).
    const preferences = yoursRun ? preferencesOf(yoursRun) : null;
    const defaultRunAs = typeof preferences?.runAsDefaultUser === "string" ? preferences.runAsDefaultUser : null;
    const auditLogGroupArn = picture.logGroups.find((g) => g.name === preferences?.cloudWatchLogGroupName)?.arn;
    const archiveBucketArn =
        typeof preferences?.s3BucketName === "string" && preferences.s3BucketName !== ""
            ? `arn:${yoursRun!.partition}:s3:::${preferences.s3BucketName}`
            : undefined;
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
    const matrix: MatrixCell[] = [];
    for (const grant of grants) {
        const name = grant.tags[accessTagKey];
        const declared = model.statedGrants.get(grant.arn);
        const runAs = runAsOf(grant, preferences, declared);
        const expiresAt = declared?.expiresAt ?? null;
        partners.push({
            name,
            grantRoleArn: grant.arn,
            runAs,
            expiresAt,
            requiresSourceIdentity: declared?.requiresSourceIdentity ?? false,
            revokeSessionsIssuedBefore: declared?.revokeSessionsIssuedBefore ?? null,
            trustedPrincipals: declared?.trustedPrincipalArns ?? [],
            // ABAC reaches by tag: any instance the owner's account tags so, in the region, is in reach.
            reach: `every instance (and hybrid managed instance) of account ${grant.accountId} in ${picture.region} tagged ${accessTagKey}=${name}, whether this stack launched it or not`,
            chain: await chainFor(picture, grant, declared, at, peopleOf),
            ...personRows(model.partners.find((p) => p.grantRoleArn === grant.arn)?.people ?? null, picture, declared, reachedBy.get(grant.arn)),
        });
        // The pairs that matter: the instances tagged for the partner, and any other the model finds it reaches.
        // Every other pair the model asked about and found refused: the summary counts them.
        const reached = reachedBy.get(grant.arn) ?? new Set<string>();
        for (const instance of picture.instances)
            if (instance.tags[accessTagKey] === name || reached.has(instance.arn))
                matrix.push(await cellFor(picture, grant, name, instance, accessTagKey, runAs, expiresAt, at, listedPersonOf(declared)));
    }
    const matrixSummary = summaryOf(partners, picture.instances.length, matrix, taggedFor);

    const protections = await protectionChecks({
        picture,
        account: main.account,
        accessTagKey,
        at,
        auditLogGroupArn,
        archiveBucketArn,
        grants: grants.map((role) => {
            const partner = partners.find((p) => p.grantRoleArn === role.arn)!;
            return {
                name: partner.name,
                role,
                expiresAt: partner.expiresAt,
                revokeSessionsIssuedBefore: partner.revokeSessionsIssuedBefore,
                requiresSourceIdentity: partner.requiresSourceIdentity,
                trustedPrincipals: partner.trustedPrincipals,
                externalId: model.statedGrants.get(role.arn)?.externalId,
                perPersonBase: perPersonBaseOf(model.statedGrants.get(role.arn)),
                sessionIdentity: listedPersonOf(model.statedGrants.get(role.arn)),
            };
        }),
    });
    const findings = findingsOf({
        main,
        picture,
        accessTagKey,
        partners,
        matrix,
        at,
        archiveBucketArn: main === yoursRun ? archiveBucketArn : undefined,
        grantRoles: new Set(grantsOf(picture, accessTagKey)),
        statedGrants: model.statedGrants,
        protections,
        awsBehaviour: await awsBehaviourFindings([main, ...runs.referenced]),
        lint: await lintPicture(picture),
        proof: proven?.findings ?? [],
    });
    // Every allowed request against the access the config intends (tools/access/proof.ts).
    const proof: ReviewReport["proof"] = proven && {
        intended: proven.spec.rules.map((r) => r.says),
        allowedRequests: requestCount(proven.model.allowed),
        evaluations: proven.evaluations,
    };

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
