// Enumerates what each principal of a picture may do: for every action some policy could
// allow it (identity policies, and the resource and trust policies of the picture), every
// resource that action may name (see resources.ts), evaluated with the IAM policy
// evaluator under the context the principal really signs with. The result is the set of
// allowed (principal, action, resource) triples; actions no Allow statement admits are
// implicitly denied and need no evaluation.

import type { PolicyStatement } from "../../components/policies";
import { decide, userIdOf, type AccessRequest } from "../iam/evaluate";
import type { IamPicture, IamPrincipal } from "../iam/picture";
import { withInstanceCredentials } from "../iam/probes";
import { trustFacts } from "../review/facts";
import { actionsAdmittedBy } from "./actions";
import { ResourceCatalogue, SESSION_ID_TAG, type CandidateResource, type TypedResource } from "./resources";

/** One allowed request. */
export interface AllowedAccess {
    principal: string;
    action: string;
    resource: string;
    /** The resource in words. */
    resourceLabel: string;
    /** Where the resource comes from (see CandidateResource). */
    resourceOrigin: CandidateResource["origin"];
    /** Which of the action's resource types it is ("*" for an action that takes none). */
    resourceType: string;
    /** Statements that allowed it (Sid, or position). */
    allowedBy: string[];
}

export interface Enumeration {
    allowed: AllowedAccess[];
    /** The resources the stacks create or their policies name (what a change can add or remove). */
    knownResources: string[];
    /** Requests evaluated. */
    evaluations: number;
}

/** The identity a role session of the review carries: its source identity and session name. */
export const REVIEW_IDENTITY = "reviewer";

const allows = (statements: PolicyStatement[]) => statements.filter((s) => s.Effect === "Allow");

/** How a principal signs: where its credentials are used, and the names its session carries. */
function requestFor(picture: IamPicture, principal: IamPrincipal, action: string, resource: CandidateResource): AccessRequest {
    const tags = resource.tags;
    const base = { action, resource: resource.arn, resourceTags: tags };
    const context: Record<string, string> = {};
    if (action.toLowerCase() === "ssm:startsession") context["ssm:SessionDocumentAccessCheck"] = "true";
    // Assuming a role: present the external id its trust requires, as the intended caller does.
    const target = picture.principals.find((p) => p.kind === "role" && p.arn === resource.arn);
    const externalId = target ? trustFacts(target).externalIds[0] : undefined;
    if (externalId !== undefined && action.toLowerCase().startsWith("sts:")) context["sts:ExternalId"] = externalId;

    // An instance role signs from its instance (the agent), through the instance's VPC.
    const instance = picture.instances.find((i) => i.roleArn === principal.arn);
    if (instance !== undefined) return { ...withInstanceCredentials(instance, action, resource.arn), resourceTags: tags, context };
    if (principal.kind === "user") {
        // A person names the next session, and its source identity, after itself.
        return { ...base, principal: principal.arn, context: { ...context, "sts:SourceIdentity": principal.name, "sts:RoleSessionName": principal.name } };
    }
    // A role session along the chain: it carries a source identity and is named after it.
    return {
        ...base,
        principal: principal.arn,
        sessionName: REVIEW_IDENTITY,
        context: {
            ...context,
            "aws:SourceIdentity": REVIEW_IDENTITY,
            "sts:SourceIdentity": REVIEW_IDENTITY,
            "sts:RoleSessionName": REVIEW_IDENTITY,
        },
    };
}

// A session the principal started itself: Session Manager tags it with the caller's ${aws:userid}.
function ownSession(picture: IamPicture, principal: IamPrincipal, sessionArn: string): TypedResource {
    const userId = userIdOf(picture, principal.arn, principal.kind === "role" ? REVIEW_IDENTITY : "session");
    return {
        arn: sessionArn.replace(/[^/]+$/, `${userId}-0123456789abcdef0`),
        label: "a session it started itself",
        origin: "elsewhere",
        tags: { [SESSION_ID_TAG]: userId },
        type: "session",
    };
}

/** Everything each principal of the picture may do, at `at`. */
export async function enumerateAccess(picture: IamPicture, options: { at: string; accessTagKey: string }): Promise<Enumeration> {
    const catalogue = new ResourceCatalogue(picture, options.accessTagKey);
    // Resource and trust policies may allow on their own (within an account): their actions are candidates for everyone.
    const resourceSideStatements = allows([
        ...picture.resourcePolicies.flatMap((r) => r.document.Statement),
        ...picture.principals.flatMap((p) => p.trustPolicy?.Statement ?? []),
    ]);
    const resourceSideActions = new Set((await Promise.all(resourceSideStatements.map(actionsAdmittedBy))).flat());
    const allowed: AllowedAccess[] = [];
    let evaluations = 0;
    for (const principal of picture.principals) {
        const identityStatements = allows(principal.policies.flatMap((p) => p.document.Statement));
        const actions = new Set([...(await Promise.all(identityStatements.map(actionsAdmittedBy))).flat(), ...resourceSideActions]);
        for (const action of [...actions].sort()) {
            const resources = await catalogue.forAction(action, principal.accountId);
            const sessions = resources.filter((r) => r.type === "session");
            if (sessions.length > 0) resources.push(ownSession(picture, principal, sessions[0].arn));
            for (const resource of resources) {
                evaluations++;
                const detail = await decide(picture, { ...requestFor(picture, principal, action, resource), at: options.at });
                if (detail.decision !== "Allowed") continue;
                allowed.push({
                    principal: principal.arn,
                    action,
                    resource: resource.arn,
                    resourceLabel: resource.label,
                    resourceOrigin: resource.origin,
                    resourceType: resource.type,
                    allowedBy: detail.allowedBy ?? [],
                });
            }
        }
    }
    return { allowed, knownResources: catalogue.known.filter((r) => r.origin !== "elsewhere").map((r) => r.arn), evaluations };
}
