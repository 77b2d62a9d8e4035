// What each partner holds on one side, read off that side's enumeration and evaluated
// further: the instances and session documents its grant may start sessions with (of those
// that exist on that side), who may assume its grant (and whether without the external id,
// with a wrong one, or without a source identity) or tag its sessions, the instance roles a shell of its holds where
// an instance's metadata service answers non-root users, the OS user its sessions run as,
// and when it may act: a session evaluated at every instant the policies name, with fresh
// credentials and with credentials issued just before that instant.

import { createHash } from "crypto";
import { groupBy } from "../grouping";
import { decide, type AccessRequest } from "../iam/evaluate";
import type { IamPicture, IamPrincipal } from "../iam/picture";
import { metadataGuarded, REVIEW_IDENTITY } from "../iam/probes";
import { perPersonBaseOf, runAsOf, sessionIdentityOf } from "../iam/facts";
import { peopleOfGrant, type PersonRunAs } from "./people";
import { allowedAt, requestsOf, type AllowedAccess } from "./enumerate";
import type { Reached, SessionMoment } from "./moments";
import type { AccessUniverse } from "./universe";

export interface PartnerAccess {
    /** The partner's name (the grant's access tag). */
    name: string;
    grantRoleArn: string;
    /** The OS user its sessions run as (`<base>-<person>` per person). */
    runAs: string;
    /** Per-person Run As: each person its yours stack states, and the OS users they obtain; null for a grant per partner. */
    people: PersonRunAs[] | null;
    /** The first instant the policies name at which a session with fresh credentials is refused, or null when none is. */
    accessEnds: string | null;
    /** The revocation instant its grant is stated to have; null when none, undefined when its stack's outputs predate the statement. */
    revokeSessionsIssuedBefore: string | null | undefined;
    /** Instances it may start sessions on (in any region), of those that exist on this side or elsewhere. */
    instances: Reached[];
    /** Session documents it may start sessions with. */
    documents: Reached[];
    /** Who may assume its grant, and how (with its external id and a source identity, or without). */
    assumableBy: Reached[];
    /** Who may tag its grant's sessions: session tags override the grant's own tags, the Run As tag among them. */
    taggableBy: Reached[];
    /** Instance roles a shell of its holds: its instances' metadata service answers non-root users. */
    holds: Reached[];
    /** The moments at which it may start a session (see `sessionMoments`). */
    sessionsAt: Reached[];
    /** A digest of the external id its partner was given (the grants output), to tell a rotation; never printed. */
    externalIdDigest: string | null;
}

const SESSION_TARGETS = new Set(["instance", "managed-instance"]);

const existing = new WeakMap<IamPicture, Set<string>>();

// The instances and documents this side creates, by ARN.
function existingHere(picture: IamPicture): Set<string> {
    let found = existing.get(picture);
    if (found === undefined) {
        found = new Set([...picture.instances.map((i) => i.arn), ...picture.documents.map((d) => d.arn)]);
        existing.set(picture, found);
    }
    return found;
}

const withVariant = (label: string, variant: string) => (variant ? `${label}, ${variant}` : label);

/** The allowed requests of one side, found by who asks and by what they are on. */
export interface AllowedIndex {
    bySubject: Map<string, AllowedAccess[]>;
    byResource: Map<string, AllowedAccess[]>;
}

/** Groups allowed requests by subject and by resource, once, so each partner's share is a lookup. */
export function indexAllowed(allowed: AllowedAccess[]): AllowedIndex {
    return { bySubject: groupBy(allowed, (a) => a.subject), byResource: groupBy(allowed, (a) => a.resource) };
}

/** What the partner behind `grant` holds on one side, and how many further requests that took. */
export async function partnerAccess(
    universe: AccessUniverse,
    side: number,
    picture: IamPicture,
    grant: IamPrincipal,
    accessTagKey: string,
    preferences: Record<string, unknown> | null,
    allowed: AllowedIndex,
    at: string,
): Promise<{ access: PartnerAccess; evaluations: number }> {
    // A resource the other side creates does not exist here: reaching it means nothing.
    const exists = (a: AllowedAccess) => a.resourceOrigin !== "stack" || existingHere(picture).has(a.resource);
    // In the order the universe lists the resources, whichever class each was asked in.
    const order = await universe.orderOf("ssm:StartSession");
    const own = (allowed.bySubject.get(grant.arn) ?? [])
        .filter((a) => a.action === "ssm:StartSession")
        .flatMap(requestsOf)
        .filter(exists)
        .sort((a, b) => (order.get(a.resource) ?? Infinity) - (order.get(b.resource) ?? Infinity) || a.variant.localeCompare(b.variant));
    const reached = (accesses: AllowedAccess[]) => accesses.map((a) => ({ key: `${a.resource}|${a.variant}`, label: withVariant(a.resourceLabel, a.variant) }));
    const onGrant = allowed.byResource.get(grant.arn) ?? [];
    const by = (action: string) =>
        onGrant
            .filter((a) => a.action === action)
            .map((a) => ({ key: `${a.subject}|${a.variant}`, label: withVariant(universe.subject(a.subject)?.label ?? a.subject, a.variant) }));
    const assumers = onGrant.filter((a) => a.action === "sts:AssumeRole");
    const reachedArns = new Set(own.map((a) => a.resource));
    const holds = picture.instances
        .filter((i) => reachedArns.has(i.arn) && i.roleArn !== undefined && !metadataGuarded(i))
        .map((i) => ({
            key: `${i.roleArn}|${i.arn}`,
            label: `the instance role ${i.roleArn!.split("/").pop()}, through a shell on instance ${i.name} (its metadata service answers non-root users)`,
        }));

    // When it may act: its grant assumed as intended at that moment, and a session on an instance tagged for it.
    let evaluations = 0;
    const name = grant.tags[accessTagKey];
    const probe = `arn:${picture.partition}:ec2:${picture.region}:${grant.accountId}:instance/i-0accessprobe00000`;
    const assumedAsIntended = assumers.find((a) => a.variant === "");
    // The grant's session carries a person it lists (per person), else the review's identity.
    const stated = universe.statedGrant(side, grant.arn);
    const identity = sessionIdentityOf(stated);
    const sessionAt = async (moment: SessionMoment) => {
        evaluations++;
        const request: AccessRequest = {
            principal: grant.arn,
            sessionName: REVIEW_IDENTITY,
            action: "ssm:StartSession",
            resource: probe,
            resourceTags: { [accessTagKey]: name },
            at: moment.at,
            context: { "ssm:SessionDocumentAccessCheck": "true", "aws:SourceIdentity": identity, "aws:TokenIssueTime": moment.tokenIssuedAt },
        };
        if ((await decide(picture, request)).decision !== "Allowed") return false;
        evaluations++;
        return assumedAsIntended === undefined || (await allowedAt(universe, side, picture, assumedAsIntended, moment.tokenIssuedAt));
    };
    const sessionsAt: Reached[] = [];
    let accessEnds: string | null = null;
    const moments = universe.sessionMomentsFor(grant.arn);
    for (const moment of moments) {
        if (await sessionAt(moment)) sessionsAt.push({ key: moment.key, label: moment.label });
        else if (moment.fresh && accessEnds === null && moment.at !== moments[0].at) accessEnds = moment.at;
    }
    if (accessEnds === null && !sessionsAt.some((s) => s.key === moments[0].key)) accessEnds = at;
    const externalId = stated?.externalId;
    let people: PersonRunAs[] | null = null;
    if (perPersonBaseOf(stated) !== undefined) {
        const asked = await peopleOfGrant(picture, grant, stated!, at);
        people = asked.people;
        evaluations += asked.evaluations;
    }
    const access: PartnerAccess = {
        name,
        grantRoleArn: grant.arn,
        runAs: runAsOf(grant, preferences, stated),
        people,
        accessEnds,
        revokeSessionsIssuedBefore: stated === undefined ? null : stated.revokeSessionsIssuedBefore,
        instances: reached(own.filter((a) => SESSION_TARGETS.has(a.resourceType))),
        documents: reached(own.filter((a) => a.resourceType === "document")),
        assumableBy: by("sts:AssumeRole"),
        taggableBy: by("sts:TagSession"),
        holds,
        sessionsAt,
        externalIdDigest: externalId === undefined ? null : createHash("sha256").update(externalId).digest("hex"),
    };
    return { access, evaluations };
}
