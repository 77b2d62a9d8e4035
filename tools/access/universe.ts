// What the access model asks about, the same for every side it compares: the resources
// (those the stacks create, those their policies name, and for each resource type
// representatives of the ones they do not create, in the stack's region and another) and
// the subjects (every principal the stacks create, and the principals outside them that
// their policies let in: any principal of an account a policy names, whose administrator
// can give it any permission; a principal a trust names; someone of an unrelated account;
// anyone without credentials). Asking both sides of a change the same questions is what
// makes their answers comparable.

import { AWS_SESSION_DOCUMENTS } from "../../components/constants";
import { asList, type PolicyDocument } from "../../components/policies";
import { partnerControlled, type OutsidePrincipal } from "../iam/evaluate";
import type { IamPicture, IamPrincipal } from "../iam/picture";
import { anotherRegion } from "../iam/probes";
import { perPersonBaseOf } from "../iam/facts";
import { statementAdmits } from "../iam/wildcards";
import type { GrantOutput } from "../../stacks/outputs";
import { sessionMoments, type SessionMoment } from "./moments";
import { fillArnPattern, resourcesOfAction, resourceTypesOfArn } from "./actions";
import { utcTimestamp } from "../../components/rules";

/** One resource a request may name. */
export interface UniverseResource {
    arn: string;
    /** What it is, in words: "instance web-a", "a parameter this stack does not create". */
    label: string;
    /** The stacks create it; a policy of theirs names it; or it stands for resources the stacks do not create. */
    origin: "stack" | "named" | "elsewhere";
    /** Tags a request on it presents, by the side that creates it (index into the sides); `default` for resources of no side. */
    tags: { bySide: Map<number, Record<string, string>>; default?: Record<string, string> };
}

/** A candidate resource as one action sees it: of which of the action's resource types ("*" for none). */
export interface TypedResource extends UniverseResource {
    type: string;
}

/** Someone who may send requests, described once for every side. */
export interface Subject {
    /** Stable key: the principal's ARN, or the representative's. */
    key: string;
    /** In words: "role SSMStartSession_IAM_Role_Third_Party_A", "any principal of account 222222222222". */
    label: string;
    /** A principal some side's stacks create (by ARN), one outside them, or nobody. */
    principal: { created: string } | { outside: OutsidePrincipal } | { anonymous: true };
    /** Its account ("" for anonymous). */
    accountId: string;
}

/** A side as the universe needs it. */
export interface UniverseSide {
    picture: IamPicture;
    accessTagKey: string;
    /** Each grant as the side's yours stack states it (its typed `grants` output), by role ARN. */
    statedGrants: ReadonlyMap<string, GrantOutput>;
}

/** The external ids a role's trust compares, and whether it requires a source identity: values to ask with and without. */
function trustMentions(role: IamPrincipal): { externalIds: string[]; sourceIdentity: boolean } {
    const conditions = (role.trustPolicy?.Statement ?? [])
        .filter((s) => s.Effect === "Allow" && statementAdmits(s, "sts:AssumeRole"))
        .map((s) => s.Condition ?? {});
    return {
        externalIds: conditions.flatMap((c) => Object.values(c).flatMap((operands) => asList(operands?.["sts:ExternalId"] as string | string[] | undefined))),
        sourceIdentity: conditions.length > 0 && conditions.every((c) => c.Null?.["sts:SourceIdentity"] === "false"),
    };
}

/** What assuming a role asks for: asked with it, and without it. */
export interface AssumeRequirements {
    externalId: boolean;
    sourceIdentity: boolean;
    /** Per-person Run As: each session is tagged with its person's OS user, `<this base>-<source identity>`. */
    runAsBase?: string;
}

/** Far enough ahead to stand for "no end". */
export const FAR_FUTURE = "2099-12-31T23:59:59Z";

// Every date literal a policy compares a time with.
function instantsIn(documents: Array<PolicyDocument | undefined>): string[] {
    const values = documents.flatMap((d) =>
        (d?.Statement ?? []).flatMap((s) =>
            Object.entries(s.Condition ?? {})
                .filter(([operator]) => operator.startsWith("Date"))
                .flatMap(([, keys]) => Object.values(keys as Record<string, string | string[]>).flat()),
        ),
    );
    return values.filter((v) => !Number.isNaN(Date.parse(v))).map((v) => utcTimestamp(v));
}

/** A partner name no stack uses: the tag value of "an instance tagged for another partner". */
export const ANOTHER_PARTNER = "Another_Partner_Not_In_This_Stack";

/** Appended to a partner's name for a tag value that only begins with it ("Acme" and "AcmeCorp"). */
export const LONGER_NAME = "_Other";

/** The session-id tag Session Manager puts on a session: the `${aws:userid}` of whoever started it. */
export const SESSION_ID_TAG = "aws:ssmmessages:session-id";

/** An account no stack or policy names, for "someone who learnt the external id". */
export const UNRELATED_ACCOUNT = "999999999999";

// A resource name built from an ARN pattern's variable: "${ParameterNameWithoutLeadingSlash}" -> "other-parameter-name-without-leading-slash".
const kebab = (variable: string) => `other-${variable.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;

// Wildcards made concrete, so the resource a policy names can be asked about: "bucket/sessions/*" -> "bucket/sessions/any".
const concrete = (pattern: string) =>
    pattern
        .replace(/\$\{[^}]+\}/g, "any")
        .replace(/\*/g, "any")
        .replace(/\?/g, "x");

const article = (noun: string) => (/^([aeio]|u(?!s))/i.test(noun) ? "an" : "a");

// Accounts and principal ARNs a policy's Principal element names (AWS principals only).
function principalsNamed(document: PolicyDocument | undefined): string[] {
    return (document?.Statement ?? [])
        .filter((s) => s.Effect === "Allow")
        .flatMap((s) => (s.Principal === "*" ? ["*"] : asList<string>((s.Principal as { AWS?: string | string[] } | undefined)?.AWS)))
        .concat(
            (document?.Statement ?? []).flatMap((s) =>
                Object.values(s.Condition ?? {}).flatMap((c) => asList<string>((c as Record<string, string | string[]>)["aws:PrincipalArn"])),
            ),
        );
}

/** The tags a request on `resource` presents on side `side`: that side's, else another side's, else its default. */
export function tagsOn(resource: UniverseResource, side: number): Record<string, string> | undefined {
    return resource.tags.bySide.get(side) ?? resource.tags.bySide.values().next().value ?? resource.tags.default;
}

const accountOf = (principal: string) => (/^\d{12}$/.test(principal) ? principal : principal.split(":")[4]);

export class AccessUniverse {
    readonly subjects: Subject[] = [];
    /** The accounts that own grants: yours. Principals of any other account are their administrators' to widen. */
    readonly ownerAccounts: Set<string>;
    /** The instants each principal's policies and trust name, on any side. */
    private readonly instantsOf = new Map<string, Set<string>>();
    /** The principals each role's trust names, on any side. */
    private readonly trustedBy = new Map<string, Set<string>>();
    private readonly momentsOf = new Map<string, SessionMoment[]>();
    private readonly now: string;
    /** Roles whose trust, on some side, asks for an external id or a source identity, or binds a per-person Run As tag: assuming them is also asked without. */
    readonly assumeRequirements = new Map<string, AssumeRequirements>();
    /** An external id a role's trust compares (on the first side that has one), for roles no stated grant gives one. */
    private readonly trustExternalIds = new Map<string, string>();
    private readonly resources = new Map<string, UniverseResource>();
    private readonly elsewhere = new Map<string, UniverseResource[]>();
    private readonly byAction = new Map<string, Promise<TypedResource[]>>();
    private readonly orders = new Map<string, Promise<Map<string, number>>>();
    private readonly subjectByKey = new Map<string, Subject>();
    /** Accounts whose resources the stacks create: representatives of other resources are made in these. */
    readonly accounts: string[];
    readonly partition: string;
    readonly region: string;
    readonly otherRegion: string;
    /** Access tag keys of every side, and partner names: instances elsewhere are represented tagged with each. */
    private readonly accessTagKeys: string[];
    private readonly partnerNames: string[];

    constructor(
        private readonly sides: UniverseSide[],
        now: string,
    ) {
        const first = sides[0].picture;
        this.partition = first.partition;
        this.region = first.region;
        this.otherRegion = anotherRegion(first.region);
        this.accessTagKeys = [...new Set(sides.map((s) => s.accessTagKey))];
        this.partnerNames = [
            ...new Set(sides.flatMap((s) => s.picture.principals.map((p) => p.tags[s.accessTagKey]).filter((n): n is string => n !== undefined))),
            ANOTHER_PARTNER,
        ];
        this.accounts = [...new Set(sides.flatMap((s) => s.picture.principals.map((p) => p.accountId)))];
        this.ownerAccounts = new Set(sides.flatMap((s) => s.picture.principals.filter((p) => p.tags[s.accessTagKey] !== undefined).map((p) => p.accountId)));
        this.now = now;
        for (const side of sides) {
            for (const principal of side.picture.principals) {
                const instants = this.instantsOf.get(principal.arn) ?? new Set<string>();
                instantsIn([principal.trustPolicy, ...principal.policies.map((x) => x.document)]).forEach((i) => instants.add(i));
                // The end and revocation its grant is stated to have: asked about even where its policies dropped them.
                const stated = side.statedGrants.get(principal.arn);
                for (const instant of [stated?.expiresAt, stated?.revokeSessionsIssuedBefore]) if (typeof instant === "string") instants.add(instant);
                this.instantsOf.set(principal.arn, instants);
                const ofAccount = this.instantsOf.get(principal.accountId) ?? new Set<string>();
                instants.forEach((i) => ofAccount.add(i));
                this.instantsOf.set(principal.accountId, ofAccount);
                const trusted = this.trustedBy.get(principal.arn) ?? new Set<string>();
                principalsNamed(principal.trustPolicy).forEach((p) => trusted.add(p));
                this.trustedBy.set(principal.arn, trusted);
            }
        }
        sides.forEach((side, index) => this.addSide(side.picture, index));
        this.addSubjects();
        for (const subject of this.subjects) if (!this.subjectByKey.has(subject.key)) this.subjectByKey.set(subject.key, subject);
        for (const side of sides) {
            // A role is also asked without what either side's trust mentions or its grant is stated to require.
            for (const role of side.picture.principals.filter((p) => p.kind === "role")) {
                const mentioned = trustMentions(role);
                const stated = side.statedGrants.get(role.arn);
                const known = this.assumeRequirements.get(role.arn) ?? { externalId: false, sourceIdentity: false };
                this.assumeRequirements.set(role.arn, {
                    externalId: known.externalId || mentioned.externalIds.length > 0 || stated !== undefined,
                    sourceIdentity: known.sourceIdentity || mentioned.sourceIdentity || stated?.requiresSourceIdentity === true,
                    runAsBase: known.runAsBase ?? perPersonBaseOf(stated),
                });
                if (!this.trustExternalIds.has(role.arn) && mentioned.externalIds.length > 0) this.trustExternalIds.set(role.arn, mentioned.externalIds[0]);
            }
        }
    }

    private add(resource: Omit<UniverseResource, "tags">, side: number | undefined, tags?: Record<string, string>): void {
        let known = this.resources.get(resource.arn);
        if (known === undefined) {
            known = { ...resource, tags: { bySide: new Map() } };
            this.resources.set(resource.arn, known);
        } else if (known.origin !== "stack" && resource.origin === "stack") {
            Object.assign(known, { label: resource.label, origin: "stack" });
        }
        if (side !== undefined && tags !== undefined) known.tags.bySide.set(side, tags);
    }

    private addSide(picture: IamPicture, side: number): void {
        const { partition, region } = picture;
        for (const instance of picture.instances) this.add({ arn: instance.arn, label: `instance ${instance.name}`, origin: "stack" }, side, instance.tags);
        for (const principal of picture.principals) this.add({ arn: principal.arn, label: `${principal.kind} ${principal.name}`, origin: "stack" }, side);
        for (const group of picture.logGroups) {
            this.add({ arn: group.arn, label: `log group ${group.name}`, origin: "stack" }, side);
            this.add({ arn: `${group.arn}:log-stream:any-stream`, label: `a stream of log group ${group.name}`, origin: "stack" }, side);
        }
        for (const key of picture.resourcePolicies.filter((r) => r.kind === "kms-key"))
            this.add({ arn: key.arn, label: `KMS key ${key.arn.split("/").pop()}`, origin: "stack" }, side);
        for (const bucket of picture.buckets) {
            const name = bucket.arn.split(":::")[1];
            this.add({ arn: bucket.arn, label: `bucket ${name}`, origin: "stack" }, side);
            this.add({ arn: `${bucket.arn}/any-object`, label: `an object in bucket ${name}`, origin: "stack" }, side);
        }
        for (const secret of picture.secrets) this.add({ arn: secret.arn, label: `secret ${secret.name}`, origin: "stack" }, side);
        for (const document of picture.documents) this.add({ arn: document.arn, label: `document ${document.name}`, origin: "stack" }, side);
        // AWS-owned documents name no account; the evaluator needs one, so they are named in each account.
        for (const account of new Set(picture.principals.map((p) => p.accountId))) {
            for (const name of Object.values(AWS_SESSION_DOCUMENTS))
                this.add(
                    { arn: `arn:${partition}:ssm:${region}:${account}:document/${name}`, label: `AWS-owned document ${name}`, origin: "elsewhere" },
                    undefined,
                );
        }
        // What the policies name, made concrete ("log-group:x:*" becomes a stream of x).
        const documents = [
            ...picture.principals.flatMap((p) => p.policies.map((policy) => policy.document)),
            ...picture.resourcePolicies.map((r) => r.document),
        ];
        for (const statement of documents.flatMap((d) => d.Statement)) {
            for (const pattern of asList(statement.Resource)) {
                if (pattern === "*" || !pattern.startsWith("arn:")) continue;
                this.add({ arn: concrete(pattern), label: `a resource matching ${pattern}`, origin: "named" }, undefined);
            }
        }
    }

    // Principals outside the stacks that a side's policies let in, as their administrators can make them.
    private addSubjects(): void {
        const created = new Map<string, IamPrincipal>();
        for (const side of this.sides) for (const principal of side.picture.principals) if (!created.has(principal.arn)) created.set(principal.arn, principal);
        for (const principal of created.values())
            this.subjects.push({
                key: principal.arn,
                label: `${principal.kind} ${principal.name}`,
                principal: { created: principal.arn },
                accountId: principal.accountId,
            });

        const named = new Set<string>();
        for (const side of this.sides) {
            const picture = side.picture;
            for (const principal of picture.principals) principalsNamed(principal.trustPolicy).forEach((p) => named.add(p));
            for (const resource of picture.resourcePolicies) principalsNamed(resource.document).forEach((p) => named.add(p));
        }
        // The accounts that own grants are yours: your own administrators are not the threat here.
        const owners = this.ownerAccounts;
        const accounts = new Set<string>();
        for (const p of named) {
            if (p === "*") continue;
            const account = accountOf(p);
            if (account && /^\d{12}$/.test(account)) accounts.add(account);
            if (/^arn:[^:]+:iam::\d{12}:(role|user)\//.test(p) && !created.has(p)) {
                this.subjects.push({ key: p, label: p, principal: { outside: partnerControlled(p) }, accountId: account });
            }
        }
        // Accounts of the stacks that own no grant (a partner's) have colleagues too.
        for (const account of this.accounts) if (!owners.has(account)) accounts.add(account);
        for (const account of [...accounts].filter((a) => !owners.has(a)).sort()) {
            // A role and a person: some trusts admit only one kind (a user's own name as source identity).
            for (const [kind, noun] of [
                ["role", "role"],
                ["user", "IAM user"],
            ]) {
                const arn = `arn:${this.partition}:iam::${account}:${kind}/any-other-${kind}`;
                this.subjects.push({
                    key: arn,
                    label: `any other ${noun} of account ${account} (its administrator decides what it may do)`,
                    principal: { outside: partnerControlled(arn) },
                    accountId: account,
                });
            }
        }
        const outsider = `arn:${this.partition}:iam::${UNRELATED_ACCOUNT}:role/outsider`;
        this.subjects.push({
            key: outsider,
            label: "a principal of an unrelated account (who may have learnt an external id)",
            principal: { outside: partnerControlled(outsider) },
            accountId: UNRELATED_ACCOUNT,
        });
        this.subjects.push({ key: "anonymous", label: "anyone, without credentials", principal: { anonymous: true }, accountId: "" });
    }

    /**
     * When a grant's sessions are tried (see partners.ts), the same on every side: from the
     * instants its own policies and trust name, and those of the principals its trust names
     * (who assume it). A session's decision changes only at an instant some policy it passes
     * through names, so no other instant can tell anything more.
     */
    sessionMomentsFor(grantArn: string): SessionMoment[] {
        let found = this.momentsOf.get(grantArn);
        if (found === undefined) {
            const instants = new Set(this.instantsOf.get(grantArn));
            // A trust naming an account (its root) is assumed by any principal of it: their instants count too.
            for (const trusted of this.trustedBy.get(grantArn) ?? [])
                if (trusted === "*") for (const all of this.instantsOf.values()) all.forEach((i) => instants.add(i));
                else this.instantsOf.get(/:root$|^\d{12}$/.test(trusted) ? accountOf(trusted) : trusted)?.forEach((i) => instants.add(i));
            found = sessionMoments(this.now, [...instants].sort(), FAR_FUTURE);
            this.momentsOf.set(grantArn, found);
        }
        return found;
    }

    /** The instance tag key side `side`'s grants compare (ABAC). */
    accessTagKeyOf(side: number): string {
        return this.sides[side].accessTagKey;
    }

    /** Grant role `roleArn` as side `side`'s yours stack states it (its grants output): what its partner was given, and what it is built to enforce. */
    statedGrant(side: number, roleArn: string): GrantOutput | undefined {
        return this.sides[side]?.statedGrants.get(roleArn);
    }

    /**
     * The external id an intended caller of role `roleArn` presents on side `side`: the one its
     * partner was given (the grants output), or for a role no stated grant owns, one its trust
     * compares (whoever was told it may use it).
     */
    externalIdFor(side: number, roleArn: string): string | undefined {
        return this.statedGrant(side, roleArn)?.externalId ?? this.trustExternalIds.get(roleArn);
    }

    /** Each side's IAM picture, in the sides' order. */
    get pictures(): IamPicture[] {
        return this.sides.map((s) => s.picture);
    }

    /** The subject with this key, if the universe has it. */
    subject(key: string): Subject | undefined {
        return this.subjectByKey.get(key);
    }

    /** The tags a request on `resource` presents on side `side`. */
    tagsOn(resource: UniverseResource, side: number): Record<string, string> | undefined {
        return tagsOn(resource, side);
    }

    /** Every resource the stacks create or their policies name, on any side. */
    get known(): UniverseResource[] {
        return [...this.resources.values()];
    }

    /**
     * The resources a request for `action` may name, each with the resource type of the
     * action it is: in the stack's region, or with `otherRegion` only representatives in
     * another region. Actions that take only "*" get "*".
     */
    forAction(action: string, options: { otherRegion?: boolean } = {}): Promise<TypedResource[]> {
        // The same list for every subject that asks: built once per action and region, never changed by callers.
        const key = `${action.toLowerCase()}|${options.otherRegion === true}`;
        let found = this.byAction.get(key);
        if (found === undefined) {
            found = this.resourcesForAction(action, options);
            this.byAction.set(key, found);
        }
        return found;
    }

    /** Where each resource an action may name stands in the universe's list of them (this region's, then another's), by ARN. */
    orderOf(action: string): Promise<Map<string, number>> {
        let found = this.orders.get(action.toLowerCase());
        if (found === undefined) {
            found = (async () => {
                const order = new Map<string, number>();
                for (const resource of [...(await this.forAction(action)), ...(await this.forAction(action, { otherRegion: true }))])
                    if (!order.has(resource.arn)) order.set(resource.arn, order.size);
                return order;
            })();
            this.orders.set(action.toLowerCase(), found);
        }
        return found;
    }

    private async resourcesForAction(action: string, options: { otherRegion?: boolean }): Promise<TypedResource[]> {
        const { resourceTypes } = await resourcesOfAction(action);
        const star: TypedResource = { arn: "*", label: "*", origin: "elsewhere", tags: { bySide: new Map() }, type: "*" };
        if (resourceTypes.length === 0) return [star];
        const service = action.split(":")[0];
        const keys = new Set(resourceTypes.map((t) => t.key));
        const found: TypedResource[] = [];
        if (!options.otherRegion) {
            for (const resource of this.resources.values()) {
                const type = (await resourceTypesOfArn(service, resource.arn)).find((key) => keys.has(key));
                if (type !== undefined) found.push({ ...resource, type });
            }
        }
        const region = options.otherRegion ? this.otherRegion : this.region;
        for (const type of resourceTypes) {
            // A type whose ARN has no region is the same everywhere: asked once, in the stack's region.
            if (options.otherRegion && !type.arn.includes("${Region}")) continue;
            for (const account of this.accounts) found.push(...this.elsewhereOf(service, type, account, region).map((r) => ({ ...r, type: type.key })));
        }
        const seen = new Set<string>();
        return found.filter((r) => (seen.has(r.arn) ? false : (seen.add(r.arn), true)));
    }

    // Resources of a type the stacks do not create, in an account and region.
    private elsewhereOf(service: string, type: { key: string; arn: string }, accountId: string, region: string): UniverseResource[] {
        const key = `${service}|${type.key}|${accountId}|${region}`;
        let found = this.elsewhere.get(key);
        if (found === undefined) {
            const arn = fillArnPattern(type.arn, { partition: this.partition, region, accountId }, kebab);
            const where = region === this.region ? "" : ` in ${region}`;
            const of = (label: string, tags: Record<string, string>, name?: string): UniverseResource => ({
                arn: name === undefined ? arn : arn.replace(/[^/]+$/, name),
                label: `${label}${where}`,
                origin: "elsewhere",
                tags: { bySide: new Map(), default: tags },
            });
            if (type.key === "instance" || type.key === "managed-instance") {
                // Instances are reached by tag: one untagged, and one tagged for each partner under each access tag key.
                // The tags grant access only in the accounts that own grants; elsewhere (a partner's own account) one
                // tagged for a partner no stack names stands for them all, so the universe grows with partners, not their square.
                const noun = type.key === "instance" ? "instance" : "managed instance";
                const partners = this.ownerAccounts.has(accountId) ? this.partnerNames : [ANOTHER_PARTNER];
                found = [of(`an untagged ${noun}`, {})];
                for (const tagKey of this.accessTagKeys)
                    for (const partner of partners)
                        found.push(
                            of(`any other ${noun} tagged ${tagKey}=${partner}`, { [tagKey]: partner }, `other-${tagKey}-${partner}`.replace(/[^\w-]/g, "-")),
                        );
                // Values a loose comparison would also take for a partner's: one that only begins with its name, and its name in another case.
                for (const tagKey of this.accessTagKeys)
                    for (const partner of partners.filter((p) => p !== ANOTHER_PARTNER))
                        for (const value of new Set([
                            `${partner}${LONGER_NAME}`,
                            partner.toLowerCase() === partner ? partner.toUpperCase() : partner.toLowerCase(),
                        ]))
                            found.push(of(`an ${noun} tagged ${tagKey}=${value}`, { [tagKey]: value }, `near-${tagKey}-${value}`.replace(/[^\w-]/g, "-")));
            } else if (type.key === "session") {
                found = [of("a session someone else started", { [SESSION_ID_TAG]: "AROAOTHERPERSON0000000:someone-else" })];
            } else {
                const noun = type.key.toLowerCase();
                found = [of(`${article(noun)} ${noun} this stack does not create`, {})];
            }
            this.elsewhere.set(key, found);
        }
        return found;
    }
}
