// The difference in access between two access models of one stack (before and after a
// change): partners added or removed as a whole, what each remaining partner gains or
// loses (instances, OS user, session documents, expiry, revocation, who may assume its
// grant, the external id), and the actions every other principal gains or loses.
// Lines that add access come first.

import type { AllowedAccess } from "./enumerate";
import type { AccessModel, ModelPrincipal } from "./model";
import type { PartnerAccess, Reached } from "./partners";

/** Whether a line adds access, takes it away, or changes it in another way (an external id rotated). */
export type Effect = "adds" | "removes" | "changes";

export interface DiffLine {
    effect: Effect;
    /** Who it is about: a partner's name, or "role X" / "user Y". */
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
    /** Every (principal, action, resource) allowed after and not before, and the reverse. */
    gained: AllowedAccess[];
    lost: AllowedAccess[];
    /** Resources of the stack added, removed, or with changed inputs, whether or not access changed. */
    resources: { added: number; removed: number; changed: number };
    evaluations: { before: number; after: number };
}

const EFFECT_ORDER: Effect[] = ["adds", "removes", "changes"];

const list = (items: string[]) => (items.length === 0 ? "nothing" : items.join(", "));
const roleName = (arn: string) => arn.split("/").pop()!;
const tupleKey = (a: AllowedAccess) => `${a.principal}|${a.action}|${a.resource}`;
const expiry = (at: string | null) => (at === null ? "no expiry" : `until ${at}`);

function keysOf(items: Reached[]): Set<string> {
    return new Set(items.map((i) => i.key));
}

/** The items of `a` not in `b`, by key. */
function minus(a: Reached[], b: Reached[]): Reached[] {
    const keys = keysOf(b);
    return a.filter((i) => !keys.has(i.key));
}

// What a partner's grant holds, in one line.
function partnerSummary(p: PartnerAccess): string {
    return (
        `sessions on ${list(p.instances.map((i) => i.label))} as ${p.runAs} with ${list(p.documents.map((d) => d.label))}, ${expiry(p.expiresAt)}; ` +
        `its grant ${roleName(p.grantRoleArn)} may be assumed by ${list(p.assumableBy.map((a) => a.label))}` +
        `${p.requiresSourceIdentity ? ", naming the person (source identity)" : ", without a source identity"}`
    );
}

function partnerLines(before: PartnerAccess, after: PartnerAccess): DiffLine[] {
    const lines: DiffLine[] = [];
    const line = (effect: Effect, text: string) => lines.push({ effect, subject: after.name, text });
    for (const gained of minus(after.instances, before.instances)) line("adds", `may now start sessions on ${gained.label}`);
    for (const lost of minus(before.instances, after.instances)) line("removes", `may no longer start sessions on ${lost.label}`);
    if (before.runAs !== after.runAs) line("adds", `sessions now run as ${after.runAs} (were ${before.runAs}): the partner acts as that OS user`);
    for (const gained of minus(after.documents, before.documents)) line("adds", `may now start sessions with ${gained.label}`);
    for (const lost of minus(before.documents, after.documents)) line("removes", `may no longer start sessions with ${lost.label}`);
    if (before.expiresAt !== after.expiresAt) {
        const later = after.expiresAt === null || (before.expiresAt !== null && Date.parse(after.expiresAt) > Date.parse(before.expiresAt));
        line(later ? "adds" : "removes", `access now ends ${after.expiresAt === null ? "never" : `at ${after.expiresAt}`} (was ${expiry(before.expiresAt)})`);
    }
    if (before.revokeSessionsIssuedBefore !== after.revokeSessionsIssuedBefore) {
        const b = before.revokeSessionsIssuedBefore;
        const a = after.revokeSessionsIssuedBefore;
        const readmits = a === null || (b !== null && Date.parse(a) < Date.parse(b));
        line(
            readmits ? "adds" : "removes",
            a === null
                ? `credentials issued before ${b} are accepted again (revocation removed)`
                : `credentials issued before ${a} are refused (was ${b === null ? "no revocation" : `before ${b}`})`,
        );
    }
    if (before.requiresSourceIdentity && !after.requiresSourceIdentity)
        line("adds", "its grant no longer requires a source identity: CloudTrail shows the role session, not the person");
    if (!before.requiresSourceIdentity && after.requiresSourceIdentity) line("removes", "its grant now requires a source identity naming the person");
    for (const gained of minus(after.assumableBy, before.assumableBy)) line("adds", `its grant may now be assumed by ${gained.label}`);
    for (const lost of minus(before.assumableBy, after.assumableBy)) line("removes", `its grant may no longer be assumed by ${lost.label}`);
    if (before.externalIdDigest !== after.externalIdDigest) {
        line(
            "changes",
            after.externalIdDigest === null
                ? "its grant no longer requires an external id"
                : "external id rotated: the partner's CLI profile needs the new one (a secret re-encrypted with the same value also shows as rotated)",
        );
    }
    return lines;
}

// Requests the partner lines already describe: a grant starting sessions, anyone assuming (or tagging) a grant.
function describedByPartners(access: AllowedAccess, grantArns: Set<string>): boolean {
    return (grantArns.has(access.principal) && access.action === "ssm:StartSession") || (grantArns.has(access.resource) && access.action.startsWith("sts:"));
}

// Actions (without resources) a grant holds beyond the partner lines' subject matter.
function grantActions(model: AccessModel, grantArn: string, grantArns: Set<string>): Set<string> {
    return new Set(model.allowed.filter((a) => a.principal === grantArn && !describedByPartners(a, grantArns)).map((a) => a.action));
}

// An added or removed partner in one line, with what its grant holds beyond another partner's grant of the same model.
function wholePartnerLine(effect: "adds" | "removes", partner: PartnerAccess, model: AccessModel, grantArns: Set<string>): DiffLine {
    const own = grantActions(model, partner.grantRoleArn, grantArns);
    const peer = model.partners.find((p) => p.grantRoleArn !== partner.grantRoleArn);
    const beyond = peer ? [...own].filter((a) => !grantActions(model, peer.grantRoleArn, grantArns).has(a)) : [...own];
    const extra =
        beyond.length === 0
            ? ""
            : `; its grant ${effect === "adds" ? "may also" : "could also"} ${beyond.sort().join(", ")}${peer ? `, which ${peer.name}'s may not` : ""}`;
    return effect === "adds"
        ? { effect, subject: partner.name, text: `new partner: ${partnerSummary(partner)}${extra}` }
        : { effect, subject: partner.name, text: `removed: no longer holds ${partnerSummary(partner)}${extra}` };
}

/**
 * Drops requests on a resource only one side has when the principal has the same action on
 * a resource of the same type that both sides have: a new instance is reached as the
 * others are, which is no news. Access unlike any it had before stays.
 */
function novel(changed: AllowedAccess[], sameSide: AllowedAccess[], onlyHere: Set<string>): AllowedAccess[] {
    const alike = new Set(sameSide.filter((a) => !onlyHere.has(a.resource)).map((a) => `${a.principal}|${a.action}|${a.resourceType}`));
    return changed.filter((a) => !onlyHere.has(a.resource) || !alike.has(`${a.principal}|${a.action}|${a.resourceType}`));
}

// One line per group of actions a principal gained (or lost) on the same resources.
function principalLines(effect: "adds" | "removes", principal: ModelPrincipal, accesses: AllowedAccess[], isNew: boolean): DiffLine[] {
    const byAction = new Map<string, { labels: Set<string>; by: Set<string> }>();
    for (const access of accesses) {
        const entry = byAction.get(access.action) ?? { labels: new Set(), by: new Set() };
        entry.labels.add(access.resourceLabel);
        access.allowedBy.forEach((s) => entry.by.add(s));
        byAction.set(access.action, entry);
    }
    const groups = new Map<string, { actions: string[]; labels: string[]; by: Set<string> }>();
    for (const [action, { labels, by }] of [...byAction].sort(([a], [b]) => a.localeCompare(b))) {
        const sorted = [...labels].sort();
        const key = sorted.join("\n");
        const group = groups.get(key) ?? { actions: [], labels: sorted, by: new Set() };
        group.actions.push(action);
        by.forEach((s) => group.by.add(s));
        groups.set(key, group);
    }
    const subject = `${principal.kind} ${principal.name}${isNew ? " (new)" : ""}`;
    return [...groups.values()].map(({ actions, labels, by }) => ({
        effect,
        subject,
        text:
            `${effect === "adds" ? (isNew ? "may" : "may now") : "may no longer"} ${actions.join(", ")} on ${labels.join("; ")}` +
            (effect === "adds" && by.size > 0 ? ` (allowed by ${[...by].sort().join(", ")})` : ""),
    }));
}

/** What changes in access from `before` to `after` (models of the same stack, evaluated at the same time). */
export function diffAccess(before: AccessModel, after: AccessModel, names: { side: string; against: string }): AccessDiff {
    const lines: DiffLine[] = [];
    const beforePartners = new Map(before.partners.map((p) => [p.name, p]));
    const afterPartners = new Map(after.partners.map((p) => [p.name, p]));
    const grantArns = new Set([...before.partners, ...after.partners].map((p) => p.grantRoleArn));
    const wholeGrants = new Set<string>();
    for (const partner of after.partners) {
        const previous = beforePartners.get(partner.name);
        if (previous === undefined) {
            lines.push(wholePartnerLine("adds", partner, after, grantArns));
            wholeGrants.add(partner.grantRoleArn);
        } else lines.push(...partnerLines(previous, partner));
    }
    for (const partner of before.partners.filter((p) => !afterPartners.has(p.name))) {
        lines.push(wholePartnerLine("removes", partner, before, grantArns));
        wholeGrants.add(partner.grantRoleArn);
    }

    const beforeKeys = new Set(before.allowed.map(tupleKey));
    const afterKeys = new Set(after.allowed.map(tupleKey));
    const gained = after.allowed.filter((a) => !beforeKeys.has(tupleKey(a)));
    const lost = before.allowed.filter((a) => !afterKeys.has(tupleKey(a)));
    const afterKnown = new Set(after.knownResources);
    const beforeKnown = new Set(before.knownResources);
    const created = new Set(after.knownResources.filter((r) => !beforeKnown.has(r)));
    const destroyed = new Set(before.knownResources.filter((r) => !afterKnown.has(r)));
    const reported = (accesses: AllowedAccess[]) => accesses.filter((a) => !describedByPartners(a, grantArns) && !wholeGrants.has(a.principal));
    const newGains = novel(reported(gained), after.allowed, created);
    const newLosses = novel(reported(lost), before.allowed, destroyed);

    const beforePrincipals = new Set(before.principals.map((p) => p.arn));
    const afterPrincipals = new Set(after.principals.map((p) => p.arn));
    const byName = (a: ModelPrincipal, b: ModelPrincipal) => `${a.kind} ${a.name}`.localeCompare(`${b.kind} ${b.name}`);
    for (const principal of [...after.principals].sort(byName)) {
        const mine = newGains.filter((a) => a.principal === principal.arn);
        if (mine.length > 0) lines.push(...principalLines("adds", principal, mine, !beforePrincipals.has(principal.arn)));
    }
    for (const principal of [...before.principals].sort(byName)) {
        if (wholeGrants.has(principal.arn)) continue;
        if (!afterPrincipals.has(principal.arn)) {
            const actions = new Set(before.allowed.filter((a) => a.principal === principal.arn).map((a) => a.action));
            lines.push({
                effect: "removes",
                subject: `${principal.kind} ${principal.name}`,
                text: `removed, and with it everything it could do (${actions.size} action${actions.size === 1 ? "" : "s"})`,
            });
            continue;
        }
        const mine = newLosses.filter((a) => a.principal === principal.arn);
        if (mine.length > 0) lines.push(...principalLines("removes", principal, mine, false));
    }

    lines.sort((a, b) => EFFECT_ORDER.indexOf(a.effect) - EFFECT_ORDER.indexOf(b.effect));
    const beforeUrns = Object.keys(before.resourceDigests);
    const afterUrns = Object.keys(after.resourceDigests);
    return {
        stack: after.stack,
        ...names,
        evaluatedAt: after.evaluatedAt,
        changed: lines.length > 0,
        addsAccess: lines.some((l) => l.effect === "adds"),
        lines,
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
