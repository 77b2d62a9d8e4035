// Enumerates what every subject of the universe may do on one side: for every action some
// policy of that side could allow it (its identity policies, AWS managed policies by
// content, and the trust, key and bucket policies of the side), every resource the action
// may name, evaluated with the IAM policy evaluator under the context the subject really
// signs with, and under the variants that matter: in another region (or, assuming a role,
// through another region's STS endpoint); an instance role's
// credentials used away from its instance; assuming a role without its external id,
// without a source identity, or (a person) without an MFA sign-in. Actions no Allow
// statement admits are implicitly denied and need no evaluation. The result is the set of
// allowed requests.

import type { PolicyStatement } from "../../components/policies";
import { decide, partnerControlled, resourceSide as resourcePolicyOf, userIdOf, type AccessRequest } from "../iam/evaluate";
import { findPrincipal, instanceWithRole, type IamPicture, type IamPrincipal } from "../iam/picture";
import { chainedAs, REVIEW_IDENTITY, runAsTagged, SIGNED_IN_WITH_MFA, SOMEONE_ELSE, withInstanceCredentials, WRONG_EXTERNAL_ID } from "../iam/probes";
import { perPersonBaseOf, sessionIdentityOf } from "../iam/facts";
import { personOsUser } from "../../components/constants";
import { actionsAdmittedBy } from "./actions";
import { SharedDecisions } from "./shared-decisions";
import { classesOf, ResourceClass, type IntendedSelectors } from "./classes";
import { ANOTHER_PARTNER, SESSION_ID_TAG, tagsOn, type AccessUniverse, type Subject, type TypedResource } from "./universe";

/** A request made differently from the usual way, named in words ("" for the usual way). */
export type Variant =
    | ""
    | "in another region"
    | "through another region's STS endpoint"
    | "with its credentials used away from its instance"
    | "without the external id"
    | "with a wrong external id"
    | "without a source identity"
    | "without MFA"
    | "once its account's administrator widens its own policies"
    | "without the Run As tag"
    | "with another person's Run As tag"
    | "with a privileged Run As tag"
    | "as someone its grant does not list"
    | "carrying another partner's access tag";

/**
 * Per-person Run As: the ways a session of a per-person grant may be tagged other than with its
 * own person's OS user. Asked as the partner's administrator makes its principal (any identity
 * policy), since only the grant's trust then stands in the way.
 */
export const RUN_AS_TAG_VARIANTS: readonly Variant[] = ["without the Run As tag", "with another person's Run As tag", "with a privileged Run As tag"];

/** The privileged user "with a privileged Run As tag" names (another person's is SOMEONE_ELSE's). */
const PRIVILEGED_OS_USER = "root";

/**
 * An AssumeRole sent to another region's STS endpoint: CloudTrail records it in that region,
 * out of sight of an alert rule in the stack's region (see grantTrustPolicy).
 */
export const ANOTHER_STS_REGION: Variant = "through another region's STS endpoint";

/** The variant for a principal of another account (a partner's): its administrator may give it any permission. */
export const WIDENED_BY_ITS_ADMINISTRATOR: Variant = "once its account's administrator widens its own policies";

/** One allowed request. */
export interface AllowedAccess {
    /** The subject's key (a principal's ARN, or a representative's). */
    subject: string;
    variant: Variant;
    action: string;
    resource: string;
    /** The resource in words. */
    resourceLabel: string;
    resourceOrigin: TypedResource["origin"];
    /** Which of the action's resource types it is ("*" for an action that takes none). */
    resourceType: string;
    /** The tags the request presented for the resource. */
    resourceTags?: Record<string, string>;
    /** Statements that allowed it (Sid, or place in its policy). */
    allowedBy: string[];
    /**
     * The resources no policy or intended access tells apart from `resource` (it among them):
     * the same request is allowed on each, and is counted once per resource. See `requestsOf`.
     */
    alike?: { resources: ResourceClass; side: number };
}

export interface Enumeration {
    allowed: AllowedAccess[];
    /** Requests evaluated. */
    evaluations: number;
}

const allows = (statements: PolicyStatement[]) => statements.filter((s) => s.Effect === "Allow");

/** Every allowed request an entry stands for: one per resource of its class, each with that resource's own ARN, label and tags. */
export function requestsOf(access: AllowedAccess): AllowedAccess[] {
    if (access.alike === undefined) return [access];
    const { subject, variant, action, allowedBy, alike } = access;
    return alike.resources.members().map((r) => {
        const tags = tagsOn(r, alike.side);
        return {
            subject,
            variant,
            action,
            resource: r.arn,
            resourceLabel: r.label,
            resourceOrigin: r.origin,
            resourceType: r.type,
            ...(tags !== undefined && Object.keys(tags).length > 0 ? { resourceTags: tags } : {}),
            allowedBy,
        };
    });
}

/** How many requests the entries stand for. */
export const requestCount = (allowed: AllowedAccess[]) => allowed.reduce((sum, a) => sum + (a.alike?.resources.size ?? 1), 0);

/** The key of an allowed request: who, how, what, on what. */
export const accessKey = (a: Pick<AllowedAccess, "subject" | "variant" | "action" | "resource">) => `${a.subject}|${a.variant}|${a.action}|${a.resource}`;

/** How a session the subject started itself is called: the one session resource its own, not another's. */
export const OWN_SESSION_LABEL = "a session it started itself";

// A session the subject started itself: Session Manager tags it with the caller's ${aws:userid}.
function ownSession(picture: IamPicture, principalArn: string, sessionArn: string): TypedResource {
    const userId = userIdOf(picture, principalArn, principalArn.includes(":user/") ? "session" : REVIEW_IDENTITY);
    return {
        arn: sessionArn.replace(/[^/]+$/, `${userId}-0123456789abcdef0`),
        label: OWN_SESSION_LABEL,
        origin: "elsewhere",
        tags: { bySide: new Map(), default: { [SESSION_ID_TAG]: userId } },
        type: "session",
    };
}

/**
 * The base of a grant's per-person OS users on one side: as that side states the grant (a diff's
 * sides may differ), else as the universe was told (the proof, from the config).
 */
function runAsBaseOn(universe: AccessUniverse, side: number, roleArn: string): string | undefined {
    const stated = universe.statedGrant(side, roleArn);
    return stated !== undefined ? perPersonBaseOf(stated) : universe.assumeRequirements.get(roleArn)?.runAsBase;
}

/** The variants that exist because a grant is per person: its people, and the tags passed into its sessions. */
const PER_PERSON_SUBJECT_VARIANTS: readonly Variant[] = ["as someone its grant does not list", "carrying another partner's access tag"];

/**
 * Whether a variant means anything on one side: the per-person ones only where that side's
 * grant is per person (a diff may turn a partner per person; its other side asks none of
 * them, as a proof of a per-partner stack does not).
 */
function meaningfulOn(universe: AccessUniverse, side: number, subject: string, resource: string, variant: Variant): boolean {
    if (PER_PERSON_SUBJECT_VARIANTS.includes(variant)) return runAsBaseOn(universe, side, subject) !== undefined;
    if (RUN_AS_TAG_VARIANTS.includes(variant)) return runAsBaseOn(universe, side, resource) !== undefined;
    return true;
}

/** How a subject signs one request, in a variant. */
function requestFor(
    universe: AccessUniverse,
    side: number,
    picture: IamPicture,
    subject: Subject,
    action: string,
    resource: TypedResource,
    tags: Record<string, string> | undefined,
    variant: Variant,
): AccessRequest {
    const lower = action.toLowerCase();
    const context: Record<string, string | string[]> = {};
    if (lower === "ssm:startsession") context["ssm:SessionDocumentAccessCheck"] = "true";
    if (variant === "in another region" || variant === ANOTHER_STS_REGION) context["aws:RequestedRegion"] = universe.otherRegion;
    // Assuming a role: present the external id its intended caller was given; or none, or a wrong one.
    const externalId = universe.externalIdFor(side, resource.arn);
    if (externalId !== undefined && lower.startsWith("sts:") && variant !== "without the external id")
        context["sts:ExternalId"] = variant === "with a wrong external id" ? WRONG_EXTERNAL_ID : externalId;
    const base = { action, resource: resource.arn, resourceTags: tags };
    const userName = subject.key.includes(":user/") ? subject.key.split("/").pop()! : undefined;
    // A per-person grant: the session is tagged with the OS user of the person the chain carries, unless asked otherwise.
    const runAsBase = lower === "sts:assumerole" || lower === "sts:tagsession" ? runAsBaseOn(universe, side, resource.arn) : undefined;
    if (runAsBase !== undefined && variant !== "without the Run As tag") {
        const osUser =
            variant === "with a privileged Run As tag"
                ? PRIVILEGED_OS_USER
                : personOsUser(runAsBase, variant === "with another person's Run As tag" ? SOMEONE_ELSE : (userName ?? REVIEW_IDENTITY));
        Object.assign(context, runAsTagged(osUser));
    }

    if ("anonymous" in subject.principal) return { ...base, principal: { anonymous: true }, context };
    // A principal of another account as its administrator may make it: any identity policy.
    const byItsAdministrator =
        variant === WIDENED_BY_ITS_ADMINISTRATOR || (RUN_AS_TAG_VARIANTS.includes(variant) && !universe.ownerAccounts.has(subject.accountId));
    const widened = byItsAdministrator ? partnerControlled(subject.key, findPrincipal(picture, subject.key)?.tags) : undefined;
    if (userName !== undefined) {
        // A person names the next session, and its source identity, after itself; signs in with MFA a minute ago, unless asked without.
        const identity: Record<string, string> = variant === "without a source identity" ? {} : { "sts:SourceIdentity": userName };
        const mfa: Record<string, string> = variant === "without MFA" ? {} : SIGNED_IN_WITH_MFA;
        const principal = widened ?? ("outside" in subject.principal ? subject.principal.outside : subject.key);
        return { ...base, principal, context: { ...context, ...identity, ...mfa, "sts:RoleSessionName": userName } };
    }
    if ("created" in subject.principal && widened === undefined) {
        const principal = findPrincipal(picture, subject.key)!;
        // An instance role signs from its instance (the agent), through the instance's VPC, or wherever its credentials were taken.
        const instance = instanceWithRole(picture, principal.arn);
        if (instance !== undefined) {
            const from = variant === "with its credentials used away from its instance" ? "elsewhere" : "instance";
            return { ...withInstanceCredentials(instance, action, resource.arn, from), resourceTags: tags, context };
        }
    }
    // A role session along the chain: it carries a source identity (a per-person grant's, a person it lists) and is named after it.
    const carried = variant === "as someone its grant does not list" ? SOMEONE_ELSE : sessionIdentityOf(universe.statedGrant(side, subject.key));
    const identity = variant === "without a source identity" ? {} : chainedAs(carried, REVIEW_IDENTITY);
    // A per-person grant allows sts:TagSession: a transitive tag of the partner's session could carry an access tag in.
    if (variant === "carrying another partner's access tag") context[`aws:PrincipalTag/${universe.accessTagKeyOf(side)}`] = ANOTHER_PARTNER;
    return {
        ...base,
        principal: widened ?? ("outside" in subject.principal ? subject.principal.outside : subject.key),
        sessionName: REVIEW_IDENTITY,
        context: { ...context, ...identity },
    };
}

/** The variants a request for `action` on `resource` is also asked in, for this subject: the same on every side. */
function variantsOf(universe: AccessUniverse, picture: IamPicture, subject: Subject, action: string, resource: TypedResource): Variant[] {
    const variants: Variant[] = [""];
    const principal = "created" in subject.principal ? findPrincipal(picture, subject.key) : undefined;
    if (principal !== undefined && instanceWithRole(picture, principal.arn) !== undefined) variants.push("with its credentials used away from its instance");
    // A per-person grant acts for the people it lists only.
    if (universe.assumeRequirements.get(subject.key)?.runAsBase !== undefined)
        variants.push("as someone its grant does not list", "carrying another partner's access tag");
    if (action.toLowerCase() === "sts:assumerole") {
        // A person's long-term keys, used without an MFA sign-in.
        if (subject.key.includes(":user/")) variants.push("without MFA");
        variants.push(ANOTHER_STS_REGION);
        const requires = universe.assumeRequirements.get(resource.arn);
        if (requires?.externalId) variants.push("without the external id", "with a wrong external id");
        if (requires?.sourceIdentity) variants.push("without a source identity");
        if (requires?.runAsBase !== undefined) variants.push(...RUN_AS_TAG_VARIANTS);
    }
    // Tagging a per-person grant's session with someone else's OS user (without a tag there is nothing to tag).
    if (action.toLowerCase() === "sts:tagsession" && universe.assumeRequirements.get(resource.arn)?.runAsBase !== undefined)
        variants.push(...RUN_AS_TAG_VARIANTS.filter((v) => v !== "without the Run As tag"));
    return variants;
}

/** Whether an allowed request of side `side` is still allowed at another instant. */
export async function allowedAt(universe: AccessUniverse, side: number, picture: IamPicture, access: AllowedAccess, at: string): Promise<boolean> {
    const subject = universe.subject(access.subject);
    if (subject === undefined) throw new Error(`no subject ${access.subject} in the universe`);
    // The resource as the enumeration asked about it, with the tags it presented then.
    const resource: TypedResource = {
        arn: access.resource,
        label: access.resourceLabel,
        origin: access.resourceOrigin,
        type: access.resourceType,
        tags: { bySide: new Map(), default: access.resourceTags },
    };
    const request = requestFor(universe, side, picture, subject, access.action, resource, access.resourceTags, access.variant);
    return (await decideTagged(picture, { ...request, at })).detail.decision === "Allowed";
}

/**
 * Decides a request; an AssumeRole that passes session tags needs sts:TagSession too, by the
 * same caller on the same role ("Pass session tags in AWS STS", IAM User Guide), so it is
 * allowed only when both are. Says how many evaluations that took.
 */
async function decideTagged(picture: IamPicture, request: AccessRequest): Promise<{ detail: Awaited<ReturnType<typeof decide>>; evaluations: number }> {
    const detail = await decide(picture, request);
    if (detail.decision !== "Allowed" || request.action.toLowerCase() !== "sts:assumerole" || request.context?.["aws:TagKeys"] === undefined)
        return { detail, evaluations: 1 };
    const tagging = await decide(picture, { ...request, action: "sts:TagSession" });
    return { detail: tagging.decision === "Allowed" ? detail : tagging, evaluations: 2 };
}

export interface EnumerationOptions {
    /** Evaluation time (ISO). */
    at: string;
    /** The resources each subject's intended access names: classes never mix what it covers with what it does not. */
    intended?: (subject: string) => IntendedSelectors[];
    /** Ask about every resource on its own, not one per class: to check that the classes change no answer. */
    exhaustive?: boolean;
    /** Told how far the enumeration is, every few seconds (for a command's stderr). */
    progress?: (line: string) => void;
}

/** How often a long enumeration says how far it is. */
const PROGRESS_EVERY_MS = 5000;

/** Everything each subject may do on side `side` (whose picture is `picture`), at `at`. */
export async function enumerateSide(universe: AccessUniverse, side: number, picture: IamPicture, options: EnumerationOptions): Promise<Enumeration> {
    // Resource and trust policies may allow on their own: their actions are candidates for every subject.
    const resourceSide = allows([
        ...picture.resourcePolicies.flatMap((r) => r.document.Statement),
        ...picture.principals.flatMap((p) => p.trustPolicy?.Statement ?? []),
    ]);
    const resourceSideActions = new Set((await Promise.all(resourceSide.map(actionsAdmittedBy))).flat());
    const allowed: AllowedAccess[] = [];
    let evaluations = 0;
    const shared = new SharedDecisions();
    const ask = async (subject: Subject, action: string, resources: ResourceClass, variant: Variant) => {
        const resource = resources.representative;
        if (!meaningfulOn(universe, side, subject.key, resource.arn, variant)) return;
        const tags = universe.tagsOn(resource, side);
        const request = { ...requestFor(universe, side, picture, subject, action, resource, tags, variant), at: options.at };
        const evaluate = async () => {
            const decided = await decideTagged(picture, request);
            evaluations += decided.evaluations;
            return decided.detail;
        };
        // Principals alike share a decision (shared-decisions.ts): never with `exhaustive`, nor for one its administrator may widen.
        const created = "created" in subject.principal && variant !== WIDENED_BY_ITS_ADMINISTRATOR ? findPrincipal(picture, subject.key) : undefined;
        const detail =
            created === undefined || options.exhaustive
                ? await evaluate()
                : await shared.decide(created, request, { arn: resource.arn, document: resourcePolicyOf(picture, resource.arn).policy }, evaluate);
        if (detail.decision !== "Allowed") return;
        allowed.push({
            subject: subject.key,
            variant,
            action,
            resource: resource.arn,
            resourceLabel: resource.label,
            resourceOrigin: resource.origin,
            resourceType: resource.type,
            ...(tags !== undefined && Object.keys(tags).length > 0 ? { resourceTags: tags } : {}),
            allowedBy: detail.allowedBy ?? [],
            ...(resources.size > 1 ? { alike: { resources, side } } : {}),
        });
    };
    // One resource of each class is asked about for all of it (classes.ts); with `exhaustive`, every resource on its own.
    const classes = classesOf(universe, options.intended);
    const classesFor = (subject: Subject, action: string, resources: TypedResource[], widened = false): ResourceClass[] =>
        options.exhaustive ? resources.map(ResourceClass.of) : classes.of(subject, action, resources, widened);
    let told = Date.now();
    for (const [done, subject] of universe.subjects.entries()) {
        if (options.progress && Date.now() - told >= PROGRESS_EVERY_MS) {
            options.progress(`enumerating: ${done} of ${universe.subjects.length} subjects, ${evaluations} requests evaluated`);
            told = Date.now();
        }
        const created: IamPrincipal | undefined = "created" in subject.principal ? findPrincipal(picture, subject.key) : undefined;
        if ("created" in subject.principal && created === undefined) continue; // not on this side
        const identity = created ? allows(created.policies.flatMap((p) => p.document.Statement)) : [];
        const actions = new Set([...(await Promise.all(identity.map(actionsAdmittedBy))).flat(), ...resourceSideActions]);
        // Outside the stacks, a principal's own account and resources no stack creates are its administrator's business, not the stacks'.
        // (Its classes are single resources: whatever its administrator gives it tells every resource apart.)
        const inScope = (c: ResourceClass) => "created" in subject.principal || c.representative.origin !== "elsewhere";
        for (const action of [...actions].sort()) {
            const resources = await universe.forAction(action);
            const asked = classesFor(subject, action, resources).filter(inScope);
            const session = resources.find((r) => r.type === "session");
            if (session && subject.key !== "anonymous") asked.push(ResourceClass.of(ownSession(picture, subject.key, session.arn)));
            for (const resources of asked)
                for (const variant of variantsOf(universe, picture, subject, action, resources.representative)) await ask(subject, action, resources, variant);
            for (const resources of classesFor(subject, action, await universe.forAction(action, { otherRegion: true })).filter(inScope))
                await ask(subject, action, resources, "in another region");
        }
        // A principal the stacks create in another account (the partner's jump role, its people) is also
        // its administrator's to widen: what your side's policies then let it do.
        if (created !== undefined && !universe.ownerAccounts.has(created.accountId)) {
            for (const action of [...resourceSideActions].sort()) {
                for (const resources of classesFor(subject, action, await universe.forAction(action), true).filter(
                    (c) => c.representative.origin !== "elsewhere",
                )) {
                    await ask(subject, action, resources, WIDENED_BY_ITS_ADMINISTRATOR);
                }
            }
        }
    }
    return { allowed, evaluations };
}
