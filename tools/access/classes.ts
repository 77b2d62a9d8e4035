// The resources a subject's request for an action is asked about, in classes: resources that no
// policy of any side, and no intended access, tells apart are decided alike, so one of them is
// asked for all. This is what keeps the access model linear in partners while it stays
// exhaustive.
//
// Why it is sound. The evaluator sees a resource only through its ARN (matched against
// Resource and NotResource patterns), its tags (resource-tag condition keys), its account, and
// its own policy (a trust, key or bucket policy). Two resources of the same account, without a
// policy of their own, on which every pattern and tag condition of the subject's statements
// (Allow and Deny, on every side), of the VPC endpoints' policies and of the subject's intended
// access gives the same result, get the same decision and are covered by the same intent. A
// class holds exactly such resources. Which resources are told apart is found through an
// index, not by testing every resource: a pattern with wildcards (the same for every partner:
// "instance/*") splits the list once, for whoever asks; an exact ARN or tag value (the one
// partner's own: "ExternalAccessGrantedTo=Acme") picks its few resources by lookup, and those
// are classed one by one. Resources with a policy of their own are asked about one by one,
// only where an Allow could reach them: their policy names the subject (or its account, or
// anyone), or one of the subject's own Allow statements selects them in its own account.
// Requests across accounts need the resource's policy, so a resource of another account
// without one is never asked about. A test compares the classes' answers with asking about
// every resource, on every fixture.

import { asList, type PolicyStatement } from "../../components/policies";
import { resourceSide } from "../iam/evaluate";
import { findPrincipal, type IamPicture } from "../iam/picture";
import { iamWildcard, statementAdmits } from "../iam/wildcards";
import { addTo } from "../grouping";
import type { AccessUniverse, Subject, TypedResource } from "./universe";

/** Resources no statement or intended access tells apart: `representative` is asked for all of them. */
export class ResourceClass {
    constructor(
        readonly representative: TypedResource,
        private readonly base: readonly TypedResource[],
        private readonly excluded: ReadonlySet<TypedResource>,
        /** How many resources it holds. */
        readonly size: number,
    ) {}

    /** Every resource of the class, the representative first. */
    members(): TypedResource[] {
        return this.excluded.size === 0 ? [...this.base] : this.base.filter((r) => !this.excluded.has(r));
    }

    /** In JSON, the resources it holds by ARN. */
    toJSON(): { size: number; resources: string[] } {
        return { size: this.size, resources: this.members().map((r) => r.arn) };
    }

    static of(resource: TypedResource): ResourceClass {
        return new ResourceClass(resource, [resource], new Set(), 1);
    }
}

/** Resources an intended access names: the selectors the proof must also tell apart. */
export interface IntendedSelectors {
    arns: string[];
    tag?: { key: string; value: string };
    tagKey?: string;
}

/** A subject's policies as a class needs them: its identity statements on each side ("everything": its administrator's). */
interface Asker {
    arn?: string;
    accountId: string;
    tags: Record<string, string>;
    identity: PolicyStatement[] | "everything";
}

// What tells resources apart: an ARN pattern; a tag compared as a string with values; a tag's
// presence; a tag's value itself (compared otherwise: as a number, a date, an address, or with
// another value through a variable); or, for a pattern holding a variable that cannot be
// filled here, each resource it may select on its own.
type Selector =
    | { kind: "arn"; pattern: string }
    | { kind: "tag"; key: string; values: string[] }
    | { kind: "has-tag"; key: string }
    | { kind: "tag-value"; key: string }
    | { kind: "each-arn"; pattern: string };

/** Condition operators that compare strings: a tag value none of the values matches is refused or admitted alike. */
const STRING_OPERATOR = /^(forallvalues:|foranyvalue:)?string(not)?(equals|equalsignorecase|like)(ifexists)?$/i;

const paddedPatterns = new Map<string, string>();

/** A short ARN pattern as the simulator reads one in an identity or endpoint policy: its missing segments are `*`. */
function padded(pattern: string): string {
    if (!pattern.startsWith("arn:")) return pattern;
    let full = paddedPatterns.get(pattern);
    if (full === undefined) {
        const segments = pattern.split(":");
        while (segments.length < 6) segments.push("*");
        paddedPatterns.set(pattern, (full = segments.join(":")));
    }
    return full;
}

const segmentRegexes = new Map<string, RegExp[]>();

// Whether an ARN matches a pattern segment by segment, ignoring case, as the simulator matches one.
function matchesBySegment(pattern: string, arn: string): boolean {
    let regexes = segmentRegexes.get(pattern);
    if (regexes === undefined) {
        const parts = pattern.split(":");
        const segments = [...parts.slice(0, 5), parts.slice(5).join(":")];
        regexes = segments.map(
            (segment) =>
                new RegExp(
                    `^${segment
                        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                        .replace(/\?/g, ".")
                        .replace(/\*/g, ".*?")}$`,
                    "is",
                ),
        );
        segmentRegexes.set(pattern, regexes);
    }
    const parts = arn.split(":");
    const segments = [...parts.slice(0, 5), parts.slice(5).join(":")];
    return parts.length >= 6 && regexes.every((re, i) => re.test(segments[i]));
}

/** How an ARN pattern sees a resource: by segment as the simulator does, and whole, with and without case. Resources alike get the same. */
function arnBits(pattern: string, arn: string): string {
    if (pattern === "*") return "111";
    const full = padded(pattern);
    return `${full.startsWith("arn:") && matchesBySegment(full, arn) ? 1 : 0}${iamWildcard(full).test(arn) ? 1 : 0}${iamWildcard(full, true).test(arn) ? 1 : 0}`;
}

const mayMatch = (pattern: string, arn: string) => arnBits(pattern, arn) !== "000";

const lower = (s: string) => s.toLowerCase();
const hasWildcard = (pattern: string) => /[*?]/.test(pattern);

/**
 * A policy value with the asker's variables filled (its principal tags, account and user name);
 * one it cannot fill (a session's, the request's) becomes `*`, and the caller is told (`unfilled`).
 */
function filled(value: string, asker: Asker, unfilled?: { any: boolean }): string {
    return value.replace(/\$\{([^}]*)\}/g, (_, variable: string) => {
        const name = lower(variable);
        if (name.startsWith("aws:principaltag/")) {
            const key = Object.keys(asker.tags).find((k) => lower(k) === name.slice("aws:principaltag/".length));
            if (key !== undefined) return asker.tags[key];
        }
        if (name === "aws:principalaccount" && asker.accountId) return asker.accountId;
        if (name === "aws:username" && asker.arn?.includes(":user/")) return asker.arn.split("/").pop()!;
        if (unfilled) unfilled.any = true;
        return "*";
    });
}

/** The principals a resource policy's Allow statement admits, as index keys: "*", "account:<id>", "arn:<arn>". */
function admittedKeys(statement: PolicyStatement): string[] {
    if ((statement as { NotPrincipal?: unknown }).NotPrincipal !== undefined) return ["*"];
    const principal = statement.Principal;
    if (principal === undefined) return [];
    if (principal === "*") return ["*"];
    return asList<string>(principal.AWS).map((p) => {
        if (p === "*") return "*";
        if (/^\d{12}$/.test(p)) return `account:${p}`;
        // An account root, or a session ARN: anyone of that account (more than it admits is safe).
        if (/:root$/.test(p) || p.includes(":assumed-role/")) return `account:${p.split(":")[4]}`;
        return `arn:${lower(p)}`;
    });
}

/** The selectors of statements, with the asker's variables filled: their Resource patterns and resource-tag conditions. */
function selectorsOf(statements: PolicyStatement[], asker: Asker): Selector[] {
    const selectors: Selector[] = [];
    for (const statement of statements) {
        for (const pattern of [...asList(statement.Resource), ...asList((statement as { NotResource?: string | string[] }).NotResource)]) {
            const unfilled = { any: false };
            const resolved = padded(filled(pattern, asker, unfilled));
            // A variable of the session or the request: which resource it names is not known here, so each is its own.
            selectors.push(unfilled.any ? { kind: "each-arn", pattern: resolved } : { kind: "arn", pattern: resolved });
        }
        for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
            for (const [key, values] of Object.entries(keys as Record<string, string | string[]>)) {
                const tag = /^[^:]+:resourcetag\/(.+)$/i.exec(key);
                if (tag === null) continue;
                const tagKey = lower(tag[1]);
                selectors.push({ kind: "has-tag", key: tagKey });
                const compared = asList<string>(values);
                // Null tests only the tag's presence; a string comparison with values of its own sees which values match;
                // anything else (numbers, dates, addresses, another value by variable) sees the value itself.
                if (/^null$/i.test(operator)) continue;
                if (STRING_OPERATOR.test(operator) && !compared.some((v) => /\$\{[^}]*resourcetag\//i.test(v)))
                    selectors.push({ kind: "tag", key: tagKey, values: compared.map((v) => filled(v, asker)) });
                else selectors.push({ kind: "tag-value", key: tagKey });
            }
        }
        // A resource tag read through a variable anywhere in the statement: its value tells resources apart.
        for (const match of JSON.stringify(statement).matchAll(/\$\{[^}]*?resourcetag\/([^}]+)\}/gi))
            selectors.push({ kind: "tag-value", key: lower(match[1]) });
    }
    return selectors;
}

// What one list of an action's resources looks like to every side, indexed.
class ListIndex {
    readonly position = new Map<TypedResource, number>();
    /** The resource's account on each side ("" is the caller's own). */
    readonly account = new Map<TypedResource, string>();
    /** Its tags by lower-case key, on each side. */
    private readonly tags = new Map<TypedResource, Array<Map<string, string>>>();
    readonly withPolicy = new Set<TypedResource>();
    /** Resources with a policy of their own, by account. */
    private readonly policyByAccount = new Map<string, TypedResource[]>();
    private readonly policyMatches = new Map<string, TypedResource[]>();
    /** Resources without a policy of their own, by account. */
    readonly plainByAccount = new Map<string, TypedResource[]>();
    readonly byAccount = new Map<string, TypedResource[]>();
    private readonly byArn = new Map<string, TypedResource[]>();
    private readonly byTag = new Map<string, Map<string, TypedResource[]>>();
    private readonly byAdmitted = new Map<string, Array<{ resource: TypedResource; statement: PolicyStatement }>>();
    private readonly groups = new Map<string, { groups: TypedResource[][]; groupOf: Map<TypedResource, number> }>();
    private readonly matches = new Map<string, TypedResource[]>();

    constructor(
        readonly resources: TypedResource[],
        pictures: IamPicture[],
        tagsOn: (resource: TypedResource, side: number) => Record<string, string> | undefined,
    ) {
        for (const resource of resources) {
            this.position.set(resource, this.position.size);
            const sides = pictures.map((picture) => resourceSide(picture, resource.arn));
            const account = sides[0].accountId;
            this.account.set(resource, account);
            addTo(this.byAccount, account, resource);
            addTo(this.byArn, lower(resource.arn), resource);
            const tags = pictures.map((_, side) => new Map(Object.entries(tagsOn(resource, side) ?? {}).map(([k, v]) => [lower(k), v])));
            this.tags.set(resource, tags);
            for (const [key, value] of tags.flatMap((t) => [...t])) {
                let values = this.byTag.get(key);
                if (values === undefined) this.byTag.set(key, (values = new Map()));
                if (!(values.get(lower(value)) ?? []).includes(resource)) addTo(values, lower(value), resource);
            }
            if (sides.some((s) => s.policy !== undefined)) {
                this.withPolicy.add(resource);
                addTo(this.policyByAccount, account, resource);
            } else addTo(this.plainByAccount, account, resource);
            for (const side of sides)
                for (const statement of side.policy?.Statement ?? [])
                    if (statement.Effect === "Allow") for (const key of admittedKeys(statement)) addTo(this.byAdmitted, key, { resource, statement });
        }
    }

    /** Resources whose own policy has an Allow statement for `action` naming one of `keys`. */
    admitted(keys: string[], action: string): TypedResource[] {
        return keys.flatMap((key) => (this.byAdmitted.get(key) ?? []).filter((e) => statementAdmits(e.statement, action)).map((e) => e.resource));
    }

    /** Resources an ARN pattern may select (exact ARNs by lookup, ignoring case; a wildcard pattern by one pass, kept). */
    selectedBy(given: string): TypedResource[] {
        const pattern = padded(given);
        if (pattern === "*") return this.resources;
        if (!hasWildcard(pattern)) return this.byArn.get(lower(pattern)) ?? [];
        let found = this.matches.get(pattern);
        if (found === undefined) {
            found = this.resources.filter((r) => mayMatch(pattern, r.arn));
            this.matches.set(pattern, found);
        }
        return found;
    }

    /** Resources with a policy of their own, in `accounts`, that an ARN pattern may select (a wildcard pattern matched once, kept). */
    policyResourcesSelectedBy(given: string, accounts: string[]): TypedResource[] {
        const pattern = padded(given);
        const inAccounts = (r: TypedResource) => accounts.includes(this.account.get(r)!);
        if (!hasWildcard(pattern)) return (this.byArn.get(lower(pattern)) ?? []).filter((r) => this.withPolicy.has(r) && inAccounts(r));
        if (pattern === "*") return accounts.flatMap((a) => this.policyByAccount.get(a) ?? []);
        let found = this.policyMatches.get(pattern);
        if (found === undefined) {
            found = [...this.withPolicy].filter((r) => mayMatch(pattern, r.arn));
            this.policyMatches.set(pattern, found);
        }
        return found.filter(inAccounts);
    }

    /** Resources whose tag `key` has one of `values` on some side, ignoring case (values without wildcards, by lookup). */
    taggedWith(key: string, values: string[]): TypedResource[] {
        const tagged = this.byTag.get(key);
        return tagged === undefined ? [] : values.flatMap((v) => tagged.get(lower(v)) ?? []);
    }

    // One component of a resource's signature: how a selector sees it, on every side.
    component(resource: TypedResource, selector: Selector): string {
        if (selector.kind === "arn") return arnBits(selector.pattern, resource.arn);
        if (selector.kind === "each-arn") return mayMatch(selector.pattern, resource.arn) ? JSON.stringify(resource.arn) : "-";
        const values = this.tags.get(resource)!.map((t) => t.get(selector.key));
        if (selector.kind === "has-tag") return values.map((v) => (v === undefined ? 0 : 1)).join("");
        if (selector.kind === "tag-value") return JSON.stringify(values);
        // A value that one of the selector's values may match (in any case, as a wildcard) counts as itself; any other alike.
        return values
            .map((v) => (v !== undefined && selector.values.some((s) => iamWildcard(s, true).test(v) || lower(s) === lower(v)) ? JSON.stringify(v) : "-"))
            .join("");
    }

    /** The resources of `account` without a policy, grouped by how the (wildcard) selectors see them, and which group each is in; kept for whoever asks next. */
    groupsOf(account: string, selectors: Selector[], selectorsKey: string): { groups: TypedResource[][]; groupOf: Map<TypedResource, number> } {
        const key = `${account}\n${selectorsKey}`;
        let found = this.groups.get(key);
        if (found === undefined) {
            const bySignature = new Map<string, TypedResource[]>();
            for (const resource of this.plainByAccount.get(account) ?? [])
                addTo(bySignature, selectors.map((s) => this.component(resource, s)).join("|"), resource);
            const groups = [...bySignature.values()];
            found = { groups, groupOf: new Map(groups.flatMap((group, i) => group.map((r) => [r, i] as const))) };
            this.groups.set(key, found);
        }
        return found;
    }
}

/** The classes of a universe's resources, the same for every side: built once per universe (and intent). */
export class ResourceClasses {
    private readonly lists = new Map<TypedResource[], ListIndex>();
    private readonly endpointStatements: PolicyStatement[];

    constructor(
        private readonly universe: AccessUniverse,
        /** The resources each subject's intended access names (the proof's), so that classes never mix covered and uncovered resources. */
        private readonly intended: (subject: string) => IntendedSelectors[] = () => [],
    ) {
        this.endpointStatements = universe.pictures.flatMap((p) => p.endpoints.flatMap((e) => e.policy?.Statement ?? []));
    }

    private indexOf(resources: TypedResource[]): ListIndex {
        let index = this.lists.get(resources);
        if (index === undefined) {
            index = new ListIndex(resources, this.universe.pictures, (r, side) => this.universe.tagsOn(r, side));
            this.lists.set(resources, index);
        }
        return index;
    }

    private readonly selectorsOfSubject = new Map<string, { unique: Selector[]; exact: Selector[]; shared: Selector[]; sharedKey: string }>();

    // What tells resources apart for this subject and action: its statements', the endpoints' and its intended access's selectors.
    private selectorsFor(subject: Subject, action: string, sides: Asker[]) {
        const cacheKey = `${subject.key}\n${action.toLowerCase()}`;
        let found = this.selectorsOfSubject.get(cacheKey);
        if (found === undefined) {
            // Each side's statements with that side's tags filled in, and the endpoints' statements.
            const selectors = [
                ...sides.flatMap((side) =>
                    selectorsOf(
                        [...(side.identity as PolicyStatement[]), ...this.endpointStatements].filter((s) => statementAdmits(s, action)),
                        side,
                    ),
                ),
                ...this.intended(subject.key).flatMap((on): Selector[] => [
                    ...on.arns.map((pattern) => ({ kind: "arn" as const, pattern })),
                    ...(on.tag
                        ? [
                              { kind: "tag" as const, key: lower(on.tag.key), values: [on.tag.value] },
                              { kind: "has-tag" as const, key: lower(on.tag.key) },
                          ]
                        : []),
                    ...(on.tagKey ? [{ kind: "has-tag" as const, key: lower(on.tagKey) }] : []),
                ]),
            ];
            const byKey = new Map(selectors.map((s) => [JSON.stringify(s), s]));
            const unique = [...byKey.values()];
            // Exact ARNs and exact tag values are one partner's own: their few resources are classed one by one.
            const isExact = (s: Selector) => (s.kind === "arn" && !hasWildcard(padded(s.pattern))) || (s.kind === "tag" && !s.values.some(hasWildcard));
            const sharedKeys = [...byKey]
                .filter(([, s]) => !isExact(s))
                .map(([k]) => k)
                .sort();
            found = {
                unique,
                exact: unique.filter(isExact),
                shared: sharedKeys.map((k) => byKey.get(k)!),
                sharedKey: sharedKeys.join("\n"),
            };
            this.selectorsOfSubject.set(cacheKey, found);
        }
        return found;
    }

    // The subject as its policies present it on each side where it exists (its tags may differ between sides).
    private askerOf(subject: Subject, widened: boolean): { asker: Asker; sides: Asker[] } {
        if ("anonymous" in subject.principal) return { asker: { accountId: "", tags: {}, identity: [] }, sides: [] };
        const created = this.universe.pictures.map((p) => findPrincipal(p, subject.key)).filter((p) => p !== undefined);
        const everything = widened || !("created" in subject.principal);
        const sides: Asker[] = created.map((p) => ({
            arn: subject.key,
            accountId: subject.accountId,
            tags: p.tags,
            identity: p.policies.flatMap((policy) => policy.document.Statement),
        }));
        const statements = sides.flatMap((side) => side.identity as PolicyStatement[]);
        return {
            asker: { arn: subject.key, accountId: subject.accountId, tags: created[0]?.tags ?? {}, identity: everything ? "everything" : statements },
            sides,
        };
    }

    /**
     * The classes `subject` is asked about for `action` among `resources` (a list of the
     * universe's, as `forAction` gives it), in the list's order. `widened`: as its account's
     * administrator may make it, with any identity policy.
     */
    of(subject: Subject, action: string, resources: TypedResource[], widened = false): ResourceClass[] {
        const index = this.indexOf(resources);
        const { asker, sides } = this.askerOf(subject, widened);
        const classes: ResourceClass[] = [];
        const singles = new Set<TypedResource>();
        // Resources whose own policy may let it in, from any account.
        const keys = asker.arn === undefined ? ["*"] : ["*", `account:${asker.accountId}`, `arn:${lower(asker.arn)}`];
        index.admitted(keys, action).forEach((r) => singles.add(r));
        const own = (r: TypedResource) => index.account.get(r) === "" || index.account.get(r) === asker.accountId;
        if (asker.identity === "everything" && asker.arn !== undefined) {
            // Its administrator's principal may do anything in its own account: each of its resources is asked about.
            for (const account of new Set(["", asker.accountId])) for (const r of index.byAccount.get(account) ?? []) singles.add(r);
        } else if (asker.identity !== "everything") {
            const allows = asker.identity.filter((s) => s.Effect === "Allow" && statementAdmits(s, action));
            if (allows.length > 0) {
                // Its own Allow statements reach resources of its own account: those with a policy one by one where a statement selects them ...
                const accounts = [...new Set(["", asker.accountId])];
                for (const side of sides)
                    for (const statement of (side.identity as PolicyStatement[]).filter((s) => s.Effect === "Allow" && statementAdmits(s, action))) {
                        const patterns = statement.Resource === undefined ? ["*"] : asList(statement.Resource).map((p) => filled(p, side));
                        for (const pattern of patterns) for (const r of index.policyResourcesSelectedBy(pattern, accounts)) singles.add(r);
                    }
                // ... and those without, in classes.
                const { unique, exact, shared, sharedKey } = this.selectorsFor(subject, action, sides);
                const picked = new Set<TypedResource>();
                for (const s of exact)
                    for (const r of s.kind === "arn" ? index.selectedBy(s.pattern) : s.kind === "tag" ? index.taggedWith(s.key, s.values) : [])
                        if (!index.withPolicy.has(r) && own(r)) picked.add(r);
                const bySignature = new Map<string, TypedResource[]>();
                for (const r of picked) addTo(bySignature, `${index.account.get(r)}|${unique.map((s) => index.component(r, s)).join("|")}`, r);
                for (const members of bySignature.values()) {
                    members.sort((a, b) => index.position.get(a)! - index.position.get(b)!);
                    classes.push(new ResourceClass(members[0], members, new Set(), members.length));
                }
                // The rest of its account's resources, grouped once for everyone who shares these patterns, less the ones classed above.
                for (const account of new Set(["", asker.accountId])) {
                    const { groups, groupOf } = index.groupsOf(account, shared, sharedKey);
                    const taken = groups.map(() => 0);
                    for (const r of picked) if (groupOf.has(r)) taken[groupOf.get(r)!]++;
                    groups.forEach((group, i) => {
                        if (taken[i] === group.length) return;
                        const representative = group.find((r) => !picked.has(r))!;
                        classes.push(new ResourceClass(representative, group, picked, group.length - taken[i]));
                    });
                }
            }
        }
        for (const r of singles) classes.push(ResourceClass.of(r));
        return classes.sort((a, b) => index.position.get(a.representative)! - index.position.get(b.representative)!);
    }
}

const byUniverse = new WeakMap<AccessUniverse, ResourceClasses>();

/** The classes of a universe, shared by its sides (the first caller's intent, if any, is the one used). */
export function classesOf(universe: AccessUniverse, intended?: (subject: string) => IntendedSelectors[]): ResourceClasses {
    let classes = byUniverse.get(universe);
    if (classes === undefined) {
        classes = new ResourceClasses(universe, intended);
        byUniverse.set(universe, classes);
    }
    return classes;
}
