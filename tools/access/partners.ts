// What each partner holds on one side, read off that side's enumeration and evaluated
// further: the instances and session documents its grant may start sessions with, who may
// assume its grant (and whether without the external id or a source identity), the
// instance roles a shell of its holds where an instance's metadata service answers
// non-root users, the OS user its sessions run as, and when its access ends, found by
// evaluating a session at every instant the grant's policies name.

import { createHash } from "crypto";
import { decide, type AccessRequest } from "../iam/evaluate";
import type { IamPicture, IamPrincipal } from "../iam/picture";
import { metadataGuarded } from "../iam/probes";
import { revocationOf, runAsOf, trustFacts } from "../review/facts";
import { allowedAt, REVIEW_IDENTITY, type AllowedAccess } from "./enumerate";
import type { AccessUniverse } from "./universe";

/** Something a partner may or may not reach, by a stable key and in words. */
export interface Reached {
    key: string;
    label: string;
}

export interface PartnerAccess {
    name: string;
    grantRoleArn: string;
    /** The OS user its sessions run as. */
    runAs: string;
    /** The first instant at which its access ends (a session on its instance is refused), or null when it never does. */
    accessEnds: string | null;
    revokeSessionsIssuedBefore: string | null;
    /** Instances it may start sessions on (in any region). */
    instances: Reached[];
    /** Session documents it may start sessions with. */
    documents: Reached[];
    /** Who may assume its grant, and how (with its external id and a source identity, or without). */
    assumableBy: Reached[];
    /** Instance roles a shell of its holds: its instances' metadata service answers non-root users. */
    holds: Reached[];
    /** A digest of the external id its trust requires, to tell a rotation; never printed. */
    externalIdDigest: string | null;
}

const FAR_FUTURE = "2099-12-31T23:59:59Z";
const SESSION_TARGETS = new Set(["instance", "managed-instance"]);

// Every date literal the grant's policies compare the time with.
function instantsNamed(grant: IamPrincipal): string[] {
    const documents = [grant.trustPolicy, ...grant.policies.map((p) => p.document)];
    const values = documents.flatMap((d) =>
        (d?.Statement ?? []).flatMap((s) =>
            Object.entries(s.Condition ?? {})
                .filter(([operator]) => operator.startsWith("Date"))
                .flatMap(([, keys]) => Object.values(keys as Record<string, string | string[]>).flat()),
        ),
    );
    return values.filter((v) => !Number.isNaN(Date.parse(v))).map((v) => new Date(v).toISOString().replace(/\.\d{3}Z$/, "Z"));
}

const withVariant = (label: string, variant: string) => (variant ? `${label}, ${variant}` : label);

/** What the partner behind `grant` holds on one side, and how many further requests that took. */
export async function partnerAccess(
    universe: AccessUniverse,
    side: number,
    picture: IamPicture,
    grant: IamPrincipal,
    accessTagKey: string,
    preferences: Record<string, unknown> | null,
    allowed: AllowedAccess[],
    at: string,
): Promise<{ access: PartnerAccess; evaluations: number }> {
    const own = allowed.filter((a) => a.subject === grant.arn && a.action === "ssm:StartSession");
    const instances = own
        .filter((a) => SESSION_TARGETS.has(a.resourceType))
        .map((a) => ({ key: `${a.resource}|${a.variant}`, label: withVariant(a.resourceLabel, a.variant) }));
    const documents = own
        .filter((a) => a.resourceType === "document")
        .map((a) => ({ key: `${a.resource}|${a.variant}`, label: withVariant(a.resourceLabel, a.variant) }));
    const subjectLabel = new Map(universe.subjects.map((s) => [s.key, s.label]));
    const assumers = allowed.filter((a) => a.resource === grant.arn && a.action === "sts:AssumeRole");
    const assumableBy = assumers.map((a) => ({ key: `${a.subject}|${a.variant}`, label: withVariant(subjectLabel.get(a.subject) ?? a.subject, a.variant) }));
    const reached = new Set(own.map((a) => a.resource));
    const holds = picture.instances
        .filter((i) => reached.has(i.arn) && i.roleArn !== undefined && !metadataGuarded(i))
        .map((i) => ({
            key: `${i.roleArn}|${i.arn}`,
            label: `the instance role ${i.roleArn!.split("/").pop()}, through a shell on instance ${i.name} (its metadata service answers non-root users)`,
        }));

    // When access ends: its grant assumed, and a session on an instance tagged for the partner with
    // credentials fresh at that instant, evaluated at each instant the grant's policies name.
    let evaluations = 0;
    const assumedAsIntended = assumers.find((a) => a.variant === "");
    const name = grant.tags[accessTagKey];
    const probe = `arn:${picture.partition}:ec2:${picture.region}:${grant.accountId}:instance/i-0accessprobe00000`;
    const sessionAt = async (instant: string) => {
        evaluations++;
        const request: AccessRequest = {
            principal: grant.arn,
            sessionName: REVIEW_IDENTITY,
            action: "ssm:StartSession",
            resource: probe,
            resourceTags: { [accessTagKey]: name },
            at: instant,
            context: { "ssm:SessionDocumentAccessCheck": "true", "aws:SourceIdentity": REVIEW_IDENTITY, "aws:TokenIssueTime": instant },
        };
        if ((await decide(picture, request)).decision !== "Allowed") return false;
        evaluations++;
        return assumedAsIntended === undefined || (await allowedAt(universe, side, picture, assumedAsIntended, instant));
    };
    let accessEnds: string | null = null;
    for (const instant of [...new Set([at, ...instantsNamed(grant).filter((i) => i > at), FAR_FUTURE])].sort()) {
        if (!(await sessionAt(instant))) {
            accessEnds = instant;
            break;
        }
    }
    const externalId = trustFacts(grant).externalIds[0];
    const access: PartnerAccess = {
        name,
        grantRoleArn: grant.arn,
        runAs: runAsOf(grant, preferences),
        accessEnds,
        revokeSessionsIssuedBefore: revocationOf(grant),
        instances,
        documents,
        assumableBy,
        holds,
        externalIdDigest: externalId === undefined ? null : createHash("sha256").update(externalId).digest("hex"),
    };
    return { access, evaluations };
}
