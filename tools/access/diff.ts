// The difference in access between two access models of one stack (before and after a
// change), asked the same questions: partners added or removed as a whole, what each
// remaining partner gains or loses (instances, session documents, OS user, who may assume
// its grant and how, instance roles its shell holds, when its access ends, revocation,
// the external id), AWS managed policies attached or detached, and the requests every
// subject gains or loses. Lines that add access come first.

import { groupBy } from "../grouping";
import { accessKey, requestsOf, type AllowedAccess } from "./enumerate";
import type { AccessModel, ModelPrincipal } from "./model";
import type { Reached } from "./moments";
import type { PartnerAccess } from "./partners";
import type { PersonRunAs } from "./people";
import type { AccessUniverse } from "./universe";

/** Whether a line adds access, takes it away, or changes it in another way (an external id rotated). */
export type Effect = "adds" | "removes" | "changes";

export interface DiffLine {
    effect: Effect;
    /** Who it is about: a partner's name, or a principal in words. */
    subject: string;
    text: string;
}

export interface AccessDiff {
    stack: string;
    /** The side the change brings, in words: "the working tree", "config file x.yaml". */
    side: string;
    /** What it was compared with, in words: "main (1a2b3c4)", "config file x.yaml". */
    against: string;
    evaluatedAt: string;
    /** Whether any access changed. */
    changed: boolean;
    /** Whether the change adds access (`--fail-on-added-access`). */
    addsAccess: boolean;
    lines: DiffLine[];
    /** Every request allowed after and not before, and the reverse. */
    gained: AllowedAccess[];
    lost: AllowedAccess[];
    /** Resources of the stack added, removed, or with changed inputs, whether or not access changed. */
    resources: { added: number; removed: number; changed: number };
    evaluations: { before: number; after: number };
}

const EFFECT_ORDER: Effect[] = ["adds", "removes", "changes"];
/** How many actions, and resources, a line names before it says how many more there are (the JSON has them all). */
const LISTED = 8;

const list = (items: string[]) => (items.length === 0 ? "nothing" : items.join(", "));
const roleName = (arn: string) => arn.split("/").pop()!;
const ends = (at: string | null) => (at === null ? "no expiry" : `until ${at}`);

/** The items of `a` not in `b`, by key. */
function minus(a: Reached[], b: Reached[]): Reached[] {
    const keys = new Set(b.map((i) => i.key));
    return a.filter((i) => !keys.has(i.key));
}

function some(items: string[]): string {
    return items.length <= LISTED ? items.join(", ") : `${items.slice(0, LISTED).join(", ")} and ${items.length - LISTED} more`;
}

// What a partner's grant holds, in one line.
function partnerSummary(p: PartnerAccess): string {
    const holds = p.holds.length > 0 ? `; a shell of its holds ${list(p.holds.map((h) => h.label))}` : "";
    return (
        `sessions on ${list(p.instances.map((i) => i.label))} as ${p.runAs} with ${list(p.documents.map((d) => d.label))}, ${ends(p.accessEnds)}; ` +
        `its grant ${roleName(p.grantRoleArn)} may be assumed by ${list(p.assumableBy.map((a) => a.label))}${holds}`
    );
}

// Per-person Run As: who of the partner's people may act, as whom, and what else they obtain.
function personLines(before: PersonRunAs[], after: PersonRunAs[], subject: string): DiffLine[] {
    const lines: DiffLine[] = [];
    const was = new Map(before.map((p) => [p.person, p]));
    const is = new Map(after.map((p) => [p.person, p]));
    const as = (p: PersonRunAs) => (p.osUser === null ? "no OS user (refused)" : p.osUser);
    for (const p of after) {
        const old = was.get(p.person);
        if (old === undefined) lines.push({ effect: "adds", subject, text: `${p.person} may now act through its grant, as ${as(p)}` });
        else if (old.osUser !== p.osUser) lines.push({ effect: "changes", subject, text: `${p.person} now runs as ${as(p)} (was ${as(old)})` });
        for (const other of p.alsoObtains.filter((o) => !(old?.alsoObtains ?? []).includes(o)))
            lines.push({
                effect: "adds",
                subject,
                text: `${p.person} now also obtains ${other}: the grant's trust does not bind the Run As tag to the person`,
            });
    }
    for (const p of before)
        if (!is.has(p.person)) lines.push({ effect: "removes", subject, text: `${p.person} may no longer act through its grant (was ${as(p)})` });
    return lines;
}

function partnerLines(before: PartnerAccess, after: PartnerAccess, subject: string): DiffLine[] {
    const lines: DiffLine[] = [];
    const line = (effect: Effect, text: string) => lines.push({ effect, subject, text });
    for (const gained of minus(after.instances, before.instances)) line("adds", `may now start sessions on ${gained.label}`);
    for (const lost of minus(before.instances, after.instances)) line("removes", `may no longer start sessions on ${lost.label}`);
    if (before.runAs !== after.runAs) line("adds", `sessions now run as ${after.runAs} (were ${before.runAs}): the partner acts as that OS user`);
    for (const gained of minus(after.documents, before.documents)) line("adds", `may now start sessions with ${gained.label}`);
    for (const lost of minus(before.documents, after.documents)) line("removes", `may no longer start sessions with ${lost.label}`);
    for (const gained of minus(after.assumableBy, before.assumableBy)) line("adds", `its grant may now be assumed by ${gained.label}`);
    for (const lost of minus(before.assumableBy, after.assumableBy)) line("removes", `its grant may no longer be assumed by ${lost.label}`);
    for (const gained of minus(after.taggableBy, before.taggableBy))
        line(
            "adds",
            after.people !== null && after.people.every((p) => p.alsoObtains.length === 0)
                ? `its grant's sessions may now be tagged by ${gained.label}, each only with its person's own OS user (per-person Run As; the proof asks every other)`
                : `its grant's sessions may now be tagged by ${gained.label}: session tags override the grant's own, so the partner could pick its OS user and its instances`,
        );
    if (before.people === null && after.people !== null)
        line("removes", "its grant now acts only for the people it lists (per-person Run As): before, for anyone its trusted principal named");
    if (before.people !== null && after.people === null)
        line("adds", "its grant now acts for anyone its trusted principal names, no longer only the people it listed (per-person Run As is off)");
    lines.push(...personLines(before.people ?? [], after.people ?? [], subject));
    for (const lost of minus(before.taggableBy, after.taggableBy)) line("removes", `its grant's sessions may no longer be tagged by ${lost.label}`);
    for (const gained of minus(after.holds, before.holds)) line("adds", `its shell now holds ${gained.label}`);
    for (const lost of minus(before.holds, after.holds)) line("removes", `its shell no longer holds ${lost.label}`);
    // Sessions at moments the policies name, beyond what the change of the end of access explains.
    // A side whose stack states no revocation either way (its outputs are from before the key existed) compares nothing.
    const revocationChanged =
        before.revokeSessionsIssuedBefore !== undefined &&
        after.revokeSessionsIssuedBefore !== undefined &&
        before.revokeSessionsIssuedBefore !== after.revokeSessionsIssuedBefore;
    const explained = (r: Reached) => {
        const [kind, instant] = r.key.split("@");
        if (kind === "fresh") {
            const bounds = [before.accessEnds, after.accessEnds].filter((e): e is string => e !== null).sort();
            return before.accessEnds !== after.accessEnds && bounds.length > 0 && instant >= bounds[0];
        }
        // Credentials issued just before an expiry or a revocation whose change has a line of its own.
        const moved = [
            ...(before.accessEnds !== after.accessEnds ? [before.accessEnds, after.accessEnds] : []),
            ...(revocationChanged ? [before.revokeSessionsIssuedBefore, after.revokeSessionsIssuedBefore] : []),
        ];
        return moved.some((m) => typeof m === "string" && Date.parse(m) === Date.parse(instant));
    };
    for (const gained of minus(after.sessionsAt, before.sessionsAt).filter((r) => !explained(r))) line("adds", `may now start a session ${gained.label}`);
    for (const lost of minus(before.sessionsAt, after.sessionsAt).filter((r) => !explained(r))) line("removes", `may no longer start a session ${lost.label}`);
    if (before.accessEnds !== after.accessEnds) {
        const later = after.accessEnds === null || (before.accessEnds !== null && after.accessEnds > before.accessEnds);
        line(later ? "adds" : "removes", `access now ends ${after.accessEnds === null ? "never" : `at ${after.accessEnds}`} (was ${ends(before.accessEnds)})`);
    }
    if (revocationChanged) {
        const b = before.revokeSessionsIssuedBefore ?? null;
        const a = after.revokeSessionsIssuedBefore ?? null;
        const readmits = a === null || (b !== null && a < b);
        line(
            readmits ? "adds" : "removes",
            a === null
                ? `credentials issued before ${b} are accepted again (revocation removed)`
                : `credentials issued before ${a} are refused (was ${b === null ? "no revocation" : `before ${b}`})`,
        );
    }
    if (before.externalIdDigest !== null && after.externalIdDigest !== null && before.externalIdDigest !== after.externalIdDigest) {
        line("changes", "external id rotated: the partner's CLI profile needs the new one (a secret re-encrypted with the same value also shows as rotated)");
    }
    return lines;
}

// Requests the partner lines already describe: a grant starting sessions, anyone assuming a grant (setting its source identity, tagging it).
function describedByPartners(access: AllowedAccess, grantArns: Set<string>): boolean {
    return (
        (grantArns.has(access.subject) && access.action === "ssm:StartSession") ||
        (grantArns.has(access.resource) && ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"].includes(access.action))
    );
}

const bySubject = new WeakMap<AccessModel, Map<string, AllowedAccess[]>>();

// A model's allowed requests of one subject (grouped once per model).
function allowedOf(model: AccessModel, subject: string): AllowedAccess[] {
    let groups = bySubject.get(model);
    if (groups === undefined) bySubject.set(model, (groups = groupBy(model.allowed, (a) => a.subject)));
    return groups.get(subject) ?? [];
}

// An added or removed partner in one line, with what its grant may do beyond another partner's grant of the same model.
function wholePartnerLine(effect: "adds" | "removes", partner: PartnerAccess, model: AccessModel, grantArns: Set<string>, subject: string): DiffLine {
    const actions = (arn: string) =>
        new Set(
            allowedOf(model, arn)
                .filter((a) => !describedByPartners(a, grantArns))
                .map((a) => a.action),
        );
    const own = actions(partner.grantRoleArn);
    const peer = model.partners.find((p) => p.grantRoleArn !== partner.grantRoleArn);
    const peers = peer ? actions(peer.grantRoleArn) : new Set<string>();
    const beyond = [...own].filter((a) => !peers.has(a)).sort();
    const extra =
        beyond.length === 0
            ? ""
            : `; its grant ${effect === "adds" ? "may also" : "could also"} ${some(beyond)}${peer ? `, which ${peer.name}'s may not` : ""}`;
    return effect === "adds"
        ? { effect, subject, text: `new partner: ${partnerSummary(partner)}${extra}` }
        : { effect, subject, text: `removed: no longer holds ${partnerSummary(partner)}${extra}` };
}

// The requests a subject gained (or lost), grouped: per service, the actions on the same resources.
function accessLines(effect: "adds" | "removes", subject: string, accesses: AllowedAccess[]): DiffLine[] {
    const byService = groupBy(accesses, (access) => access.action.split(":")[0]);
    const lines: DiffLine[] = [];
    for (const [, service] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
        // Actions on the same set of resources share a line.
        const byAction = new Map<string, { labels: Set<string>; by: Set<string> }>();
        for (const access of service) {
            const entry = byAction.get(access.action) ?? { labels: new Set(), by: new Set() };
            entry.labels.add(access.resourceLabel);
            access.allowedBy.forEach((s) => entry.by.add(s));
            byAction.set(access.action, entry);
        }
        const groups = new Map<string, { actions: string[]; labels: string[]; by: Set<string> }>();
        for (const [action, { labels, by }] of [...byAction].sort(([a], [b]) => a.localeCompare(b))) {
            const sorted = [...labels].sort();
            const key = sorted.length > LISTED ? "many" : sorted.join("\n");
            const group = groups.get(key) ?? { actions: [], labels: [], by: new Set() };
            group.actions.push(action);
            group.labels = [...new Set([...group.labels, ...sorted])].sort();
            by.forEach((s) => group.by.add(s));
            groups.set(key, group);
        }
        for (const { actions, labels, by } of groups.values()) {
            lines.push({
                effect,
                subject,
                text:
                    `${effect === "adds" ? "may now" : "may no longer"} ${some(actions)} on ${some(labels)}` +
                    (effect === "adds" && by.size > 0 ? ` (allowed by ${some([...by].sort())})` : ""),
            });
        }
    }
    return lines;
}

function managedPolicyLines(before: ModelPrincipal | undefined, after: ModelPrincipal | undefined, subject: string): DiffLine[] {
    const lines: DiffLine[] = [];
    const arns = (p: ModelPrincipal | undefined) => new Set((p?.awsManagedPolicies ?? []).map((m) => m.arn));
    for (const policy of after?.awsManagedPolicies ?? []) {
        if (arns(before).has(policy.arn)) continue;
        lines.push({
            effect: "adds",
            subject,
            text: `now has the AWS managed policy ${policy.arn} attached (${policy.evaluated ? `evaluated from its text as of ${policy.evaluated}` : "not evaluated: its text is not in this project's snapshot; it allows what AWS publishes"})`,
        });
    }
    for (const policy of before?.awsManagedPolicies ?? []) {
        if (!arns(after).has(policy.arn)) lines.push({ effect: "removes", subject, text: `no longer has the AWS managed policy ${policy.arn} attached` });
    }
    return lines;
}

/** What changes in access from `before` to `after`: models of sides of the same universe, evaluated at the same time. */
export function diffAccess(universe: AccessUniverse, before: AccessModel, after: AccessModel, names: { side: string; against: string }): AccessDiff {
    const lines: DiffLine[] = [];
    if (before.guardDigest !== after.guardDigest && before.guardDigest !== null && after.guardDigest !== null)
        lines.push({
            effect: "changes",
            subject: "the metadata guard",
            text: "its script changed: each side is judged by its own guard, so read the change to components/metadata-guard-scripts.ts yourself",
        });
    // A partner is its grant role: two roles tagged for one partner are two grants.
    const beforePartners = new Map(before.partners.map((p) => [p.grantRoleArn, p]));
    const afterPartners = new Map(after.partners.map((p) => [p.grantRoleArn, p]));
    const grantArns = new Set([...before.partners, ...after.partners].map((p) => p.grantRoleArn));
    // A name several grants carry (on either side) is told apart by the role.
    const grantsNamed = new Map<string, Set<string>>();
    for (const p of [...before.partners, ...after.partners]) grantsNamed.set(p.name, (grantsNamed.get(p.name) ?? new Set()).add(p.grantRoleArn));
    const subjectOf = (p: PartnerAccess) => (grantsNamed.get(p.name)!.size > 1 ? `${p.name} (role ${roleName(p.grantRoleArn)})` : p.name);
    const wholeGrants = new Set<string>();
    for (const partner of after.partners) {
        const previous = beforePartners.get(partner.grantRoleArn);
        if (previous === undefined) {
            lines.push(wholePartnerLine("adds", partner, after, grantArns, subjectOf(partner)));
            wholeGrants.add(partner.grantRoleArn);
        } else lines.push(...partnerLines(previous, partner, subjectOf(partner)));
    }
    for (const partner of before.partners.filter((p) => !afterPartners.has(p.grantRoleArn))) {
        lines.push(wholePartnerLine("removes", partner, before, grantArns, subjectOf(partner)));
        wholeGrants.add(partner.grantRoleArn);
    }

    const beforeKeys = new Set(before.allowed.map(accessKey));
    const afterKeys = new Set(after.allowed.map(accessKey));
    const gained = after.allowed.filter((a) => !beforeKeys.has(accessKey(a)));
    const lost = before.allowed.filter((a) => !afterKeys.has(accessKey(a)));
    // In another region, only what differs from the change in this region is news.
    const here = (accesses: AllowedAccess[]) => new Set(accesses.filter((a) => a.variant === "").map((a) => `${a.subject}|${a.action}`));
    const gainedHere = here(gained);
    const lostHere = here(lost);
    const mirrored = (a: AllowedAccess, same: Set<string>) => a.variant === "in another region" && same.has(`${a.subject}|${a.action}`);
    const reported = (accesses: AllowedAccess[], same: Set<string>) =>
        accesses.filter((a) => !describedByPartners(a, grantArns) && !wholeGrants.has(a.subject) && !wholeGrants.has(a.resource) && !mirrored(a, same));

    const gainedOf = groupBy(gained, (a) => a.subject);
    const lostOf = groupBy(lost, (a) => a.subject);
    const beforePrincipals = new Map(before.principals.map((p) => [p.arn, p]));
    const afterPrincipals = new Map(after.principals.map((p) => [p.arn, p]));
    for (const subject of universe.subjects) {
        if (wholeGrants.has(subject.key)) continue;
        const created = beforePrincipals.has(subject.key) || afterPrincipals.has(subject.key);
        const isNew = created && !beforePrincipals.has(subject.key);
        const isGone = created && !afterPrincipals.has(subject.key);
        const label = `${subject.label}${isNew ? " (new)" : ""}`;
        lines.push(...managedPolicyLines(beforePrincipals.get(subject.key), afterPrincipals.get(subject.key), label));
        if (isGone) {
            const actions = new Set(allowedOf(before, subject.key).map((a) => a.action));
            lines.push({
                effect: "removes",
                subject: label,
                text: `removed, and with it all it could do (${actions.size} action${actions.size === 1 ? "" : "s"})`,
            });
            continue;
        }
        const mineGained = gainedOf.get(subject.key) ?? [];
        const mineLost = lostOf.get(subject.key) ?? [];
        for (const variant of [...new Set([...mineGained, ...mineLost].map((a) => a.variant))].sort()) {
            const who = variant ? `${label}, ${variant}` : label;
            const mine = (accesses: AllowedAccess[], same: Set<string>) =>
                reported(
                    accesses.filter((a) => a.variant === variant),
                    same,
                ).flatMap(requestsOf);
            lines.push(...accessLines("adds", who, mine(mineGained, gainedHere)), ...accessLines("removes", who, mine(mineLost, lostHere)));
        }
    }

    // Stable: partner lines first within each effect, then subjects in the universe's order.
    const ordered = EFFECT_ORDER.flatMap((effect) => lines.filter((l) => l.effect === effect));
    const beforeUrns = Object.keys(before.resourceDigests);
    const afterUrns = Object.keys(after.resourceDigests);
    return {
        stack: after.stack,
        ...names,
        evaluatedAt: after.evaluatedAt,
        changed: ordered.length > 0,
        addsAccess: ordered.some((l) => l.effect === "adds"),
        lines: ordered,
        gained,
        lost,
        resources: {
            added: afterUrns.filter((u) => !(u in before.resourceDigests)).length,
            removed: beforeUrns.filter((u) => !(u in after.resourceDigests)).length,
            changed: afterUrns.filter((u) => u in before.resourceDigests && before.resourceDigests[u] !== after.resourceDigests[u]).length,
        },
        evaluations: { before: before.evaluations, after: after.evaluations },
    };
}
