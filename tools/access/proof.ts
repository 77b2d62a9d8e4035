// The exhaustive proof: every request the stacks allow (enumerated over every action of
// every service their policies admit, every resource those actions may name, every
// subject and variant: see enumerate.ts) must be access someone intended (intent.ts,
// from the config), and every intended access must be allowed. What falls outside is a
// finding that names the statements allowing it; what is missing, one that names the
// rule. The instance roles' holders and each partner's OS user are checked too, and an
// access that ends (a partner's expiry) must be refused just after its end. What the model
// cannot evaluate (provable.ts) is a finding too, never a silent pass.

import { asList } from "../../components/policies";
import { endOsUsersDocument } from "../../components/offboarding-documents";
import type { ProgramRun } from "../mock-engine";
import { EACH_PERSON, preferencesOf, yoursRunOf } from "../iam/facts";
import type { ReviewRuns } from "../stack-runs";
import { allowedAt, requestsOf, type AllowedAccess } from "./enumerate";
import { intendedAccess, intendedResourcesOf, intentsCovering, type IntendedAccess, type IntendedAccessSpec, type SystemSettings, type Wiring } from "./intent";
import { accessModel, prepareSide, type AccessModel, type PreparedSide } from "./model";
import { unprovable } from "./provable";
import { groupBy } from "../grouping";
import { AccessUniverse } from "./universe";
import { utcTimestamp } from "../../components/rules";
import { personOsUser } from "../../components/constants";
import type { PartnerSettings } from "../../stacks/config";
import type { PartnerAccess } from "./partners";
import { WITHOUT_THE_TAG } from "./people";

/** Something the proof found: an access nobody intended, or an intended one that is refused. */
export interface ProofFinding {
    kind: "unintended" | "missing" | "outlasts" | "held" | "runs-as" | "unprovable";
    message: string;
    /** The allowed request, for unintended and outlasting access. */
    access?: AllowedAccess;
}

export interface AccessProof {
    spec: IntendedAccessSpec;
    model: AccessModel;
    universe: AccessUniverse;
    findings: ProofFinding[];
    /** Requests evaluated, and how long the enumeration and checks took. */
    evaluations: number;
    milliseconds: number;
}

/** Which ARN the programs gave each part the config cannot name. */
function wiringOf(runs: ReviewRuns, prepared: PreparedSide, their: SystemSettings["their"]): Wiring {
    const all = [runs.main, ...runs.referenced];
    const yoursRun = yoursRunOf(all) ?? runs.main;
    const { picture } = prepared;
    const flowLog = yoursRun.resources.find((r) => r.type === "aws:ec2/flowLog:FlowLog");
    const preferences = preferencesOf(yoursRun) ?? {};
    const keyId = typeof preferences.kmsKeyId === "string" && preferences.kmsKeyId !== "" ? preferences.kmsKeyId : undefined;
    const bucket = typeof preferences.s3BucketName === "string" && preferences.s3BucketName !== "" ? preferences.s3BucketName : undefined;
    return {
        partition: yoursRun.partition,
        account: yoursRun.account,
        region: yoursRun.region,
        instanceRoles: [...new Set(picture.instances.map((i) => i.roleArn).filter((r): r is string => r !== undefined))],
        flowLogs: flowLog ? { roleArn: flowLog.inputs.iamRoleArn, logGroupArn: flowLog.inputs.logDestination } : undefined,
        // The preferences name the key by ARN, whether the stack created it or it is a key of your own.
        sessionKeyArn: keyId?.startsWith("arn:")
            ? keyId
            : keyId && picture.resourcePolicies.find((r) => r.kind === "kms-key" && r.arn.endsWith(`/${keyId}`))?.arn,
        archive: bucket
            ? { bucketArn: `arn:${yoursRun.partition}:s3:::${bucket}`, prefix: String(preferences.s3KeyPrefix ?? "").replace(/\/$/, "") }
            : undefined,
        jumpRoles: new Map(their.map((t) => [t.partnerName, `arn:${t.partition}:iam::${t.account}:role/${t.jumpRoleName}`])),
        endOfAccess: endOfAccessOf(yoursRun, picture),
    };
}

/** The end-of-access machinery: the role EventBridge Scheduler assumes, and the document ending partners' OS users (by its content). */
function endOfAccessOf(run: ProgramRun, picture: PreparedSide["picture"]): Wiring["endOfAccess"] {
    const role = picture.principals.find((p) =>
        (p.trustPolicy?.Statement ?? []).some(
            (s) => typeof s.Principal === "object" && asList(s.Principal.Service).some((svc) => svc.startsWith("scheduler.")),
        ),
    );
    const content = JSON.stringify(endOsUsersDocument(), null, 2);
    const document = picture.documents.find((d) =>
        run.resources.some((r) => r.type === "aws:ssm/document:Document" && r.inputs.content === content && d.name === (r.inputs.name ?? r.name)),
    );
    return role && document ? { roleArn: role.arn, documentArn: document.arn } : undefined;
}

function describe(universe: AccessUniverse, access: AllowedAccess): string {
    const subject = universe.subject(access.subject)?.label ?? access.subject;
    const how = access.variant === "" ? "" : ` (${access.variant})`;
    return `${subject}${how} may ${access.action} on ${access.resourceLabel === "*" ? "*" : `${access.resourceLabel} (${access.resource})`}`;
}

const byStatements = (access: AllowedAccess) => `allowed by ${access.allowedBy.length > 0 ? access.allowedBy.join(" + ") : "no statement the evaluator named"}`;

/** Whether each of a partner's sessions runs as the OS user its config means: its own, or each person's own (and nobody else's). */
function runsAsFindings(partner: PartnerAccess, meant: PartnerSettings, at: string): ProofFinding[] {
    const runsAs = (message: string): ProofFinding => ({ kind: "runs-as", message });
    const expected = meant.people === undefined ? meant.osUser : personOsUser(meant.osUser, EACH_PERSON);
    const findings: ProofFinding[] = [];
    if (partner.runAs !== expected)
        findings.push(
            runsAs(`${partner.name}'s sessions run as ${partner.runAs}, not ${expected} (partners[].osUser${meant.people === undefined ? "" : ", runAs"})`),
        );
    if (meant.people === undefined || partner.people === null) return findings;
    const stated = new Set(partner.people.map((p) => p.person));
    const missing = meant.people.filter((person) => !stated.has(person));
    const extra = [...stated].filter((person) => !meant.people!.includes(person));
    if (missing.length > 0 || extra.length > 0)
        findings.push(
            runsAs(
                `${partner.name}'s grant states the people ${[...stated].join(", ") || "none"}, but its config lists ${meant.people.join(", ")} (partners[].people)`,
            ),
        );
    const live = meant.expiresAt === undefined || Date.parse(meant.expiresAt) > Date.parse(at);
    for (const person of partner.people) {
        const own = personOsUser(meant.osUser, person.person);
        if (person.osUser === null && live) findings.push(runsAs(`${partner.name}'s ${person.person} cannot obtain a session as their own OS user ${own}`));
        for (const other of person.alsoObtains)
            findings.push(
                runsAs(
                    `${partner.name}'s ${person.person} obtains ${other === WITHOUT_THE_TAG ? other : `a session as ${other}`}, not only as their own ${own}, ` +
                        "once the partner's administrator asks for it: the grant's trust does not bind the Run As tag to the person's source identity",
                ),
            );
    }
    return findings;
}

/**
 * Proves the access of a reviewed stack and the stacks it references (their runs, and the
 * settings each program read in its run) against the access their config intends, at `at`.
 */
export async function proveAccess(runs: ReviewRuns, at: string, progress?: (line: string) => void): Promise<AccessProof> {
    const started = Date.now();
    // The settings each program read in its own run: what its config intends.
    if (runs.settings === undefined)
        throw new Error(`the proof needs the settings stack ${runs.main.stack}'s program read (runs made by runForReview or runWithReferences read them)`);
    const settings: SystemSettings = {
        yours: runs.settings.flatMap((s) => (s.yours ? [s.yours] : [])),
        their: runs.settings.flatMap((s) => (s.their ? [{ ...s.their, account: s.account, partition: s.partition }] : [])),
    };
    const prepared = await prepareSide(runs);
    const wiring = wiringOf(runs, prepared, settings.their);
    const spec = intendedAccess(settings, wiring);
    const universe = new AccessUniverse([prepared], at);
    // The config means every grant to require its external id (and a source identity, unless
    // it says not to, and with per-person Run As its person's own Run As tag): assuming each is
    // also asked without them, whatever its trust now says.
    for (const yours of settings.yours) {
        for (const partner of yours.partners) {
            const grant = `arn:${universe.partition}:iam::${wiring.account}:role/${partner.grantRoleName}`;
            const known = universe.assumeRequirements.get(grant) ?? { externalId: false, sourceIdentity: false };
            universe.assumeRequirements.set(grant, {
                externalId: true,
                sourceIdentity: known.sourceIdentity || partner.requireSourceIdentity,
                runAsBase: partner.people === undefined ? known.runAsBase : partner.osUser,
            });
        }
    }
    // Classes of resources alike never mix what a subject's intended access covers with what it does not,
    // so the intent that covers a class's representative covers each of its resources.
    const model = await accessModel(universe, 0, prepared, at, { intended: (subject) => intendedResourcesOf(spec, subject), progress });
    const findings: ProofFinding[] = [];
    let evaluations = model.evaluations;

    const ending = new Map<AllowedAccess, IntendedAccess[]>();
    for (const access of model.allowed) {
        const rules = intentsCovering(spec, access);
        if (rules.length === 0) {
            for (const one of requestsOf(access))
                findings.push({ kind: "unintended", access: one, message: `${describe(universe, one)}: no intended access covers it; ${byStatements(one)}` });
        } else if (rules.every((r) => r.until !== undefined)) {
            ending.set(access, rules);
        }
    }
    // An access that ends must be refused once it has ended (credentials issued before the end included).
    for (const [access, rules] of ending) {
        const end = rules.map((r) => r.until!).sort()[rules.length - 1];
        const after = utcTimestamp(Date.parse(end) + 1000);
        evaluations++;
        if (await allowedAt(universe, 0, prepared.picture, access, after))
            for (const one of requestsOf(access))
                findings.push({
                    kind: "outlasts",
                    access: one,
                    message: `${describe(universe, one)} is still allowed at ${after}, after its end (${end}); ${byStatements(one)}`,
                });
    }
    // Nothing intended is missing: each action of each rule, for each of its principals, allowed the usual way on a resource it covers.
    const allowedOf = groupBy(model.allowed, (a) => a.subject);
    for (const rule of spec.rules) {
        if (rule.until !== undefined && Date.parse(rule.until) <= Date.parse(at)) continue;
        for (const who of rule.who) {
            for (const action of rule.actions) {
                const found = (allowedOf.get(who) ?? []).some(
                    (a) => a.subject === who && a.variant === "" && a.action.toLowerCase() === action.toLowerCase() && intentsCovering(spec, a).includes(rule),
                );
                if (!found)
                    findings.push({
                        kind: "missing",
                        message: `${who} is meant to be able to ${action} (${rule.says}), and is refused on every resource the rule covers`,
                    });
            }
        }
    }
    for (const partner of model.partners) {
        for (const held of partner.holds) findings.push({ kind: "held", message: `${partner.name} holds ${held.label}; ${spec.instanceRoleHolders}` });
        const meant = settings.yours.flatMap((y) => y.partners).find((p) => p.name === partner.name);
        if (meant !== undefined) findings.push(...runsAsFindings(partner, meant, at));
    }
    // Per person, the grant lists who may act and the partner's stack who can connect: one list, kept in both.
    for (const partner of settings.yours.flatMap((y) => y.partners)) {
        const their = settings.their.find((t) => t.partnerName === partner.name && t.users.length > 0);
        if (partner.people === undefined || their === undefined) continue;
        const users = their.users.map((u) => u.name);
        const onlyPeople = partner.people.filter((p) => !users.includes(p));
        const onlyUsers = users.filter((u) => !partner.people!.includes(u));
        if (onlyPeople.length > 0 || onlyUsers.length > 0)
            findings.push({
                kind: "runs-as",
                message:
                    `${partner.name}'s people (partners[].people) and its their stack's users differ: ` +
                    [
                        onlyPeople.length > 0 ? `not among its users: ${onlyPeople.join(", ")}` : "",
                        onlyUsers.length > 0 ? `users the grant refuses: ${onlyUsers.join(", ")}` : "",
                    ]
                        .filter(Boolean)
                        .join("; ") +
                    " (the grant lists who may act, the partner's stack who can connect: keep the two lists the same)",
            });
    }
    const perPersonGrants = new Map(
        [...universe.assumeRequirements].flatMap(([role, r]) => (r.runAsBase === undefined ? [] : [[role, r.runAsBase] as [string, string]])),
    );
    for (const problem of unprovable([runs.main, ...runs.referenced], prepared.picture, perPersonGrants))
        findings.push({ kind: "unprovable", message: problem });
    return { spec, model, universe, findings, evaluations, milliseconds: Date.now() - started };
}
