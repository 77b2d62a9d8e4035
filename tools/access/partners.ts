// What each partner holds, by evaluation: the instances (those the stacks launch, and
// representatives of those they do not) and the session documents its grant may start
// sessions with, who may assume its grant with its external id, and the facts its
// policies carry (OS user, expiry, revocation, source identity rule).

import { createHash } from "crypto";
import { AWS_SESSION_DOCUMENTS, SESSION_PREFERENCES_DOCUMENT } from "../../components/constants";
import { decide, partnerControlled, type AccessRequest } from "../iam/evaluate";
import type { IamPicture, IamPrincipal } from "../iam/picture";
import { revocationOf, runAsOf, trustedAccounts, trustFacts } from "../review/facts";
import { REVIEW_IDENTITY } from "./enumerate";
import { ANOTHER_PARTNER } from "./resources";

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
    expiresAt: string | null;
    revokeSessionsIssuedBefore: string | null;
    requiresSourceIdentity: boolean;
    /** Instances it may start sessions on. */
    instances: Reached[];
    /** Session documents it may start sessions with. */
    documents: Reached[];
    /** Principals that may assume its grant, with its external id. */
    assumableBy: Reached[];
    /** A digest of the external id its trust requires, to tell a rotation; never printed. */
    externalIdDigest: string | null;
}

/** Someone of an account that is neither yours nor the partner's, who may have learnt the external id. */
const OUTSIDER_ACCOUNT = "999999999999";

function sessionRequest(grant: IamPrincipal, resource: string, tags: Record<string, string> | undefined, at: string): AccessRequest {
    return {
        principal: grant.arn,
        sessionName: REVIEW_IDENTITY,
        action: "ssm:StartSession",
        resource,
        resourceTags: tags,
        at,
        context: { "ssm:SessionDocumentAccessCheck": "true", "aws:SourceIdentity": REVIEW_IDENTITY },
    };
}

/** What the partner behind `grant` holds, evaluated at `at`, and how many requests that took. */
export async function partnerAccess(
    picture: IamPicture,
    grant: IamPrincipal,
    accessTagKey: string,
    defaultRunAs: string | null,
    at: string,
): Promise<{ access: PartnerAccess; evaluations: number }> {
    let evaluations = 0;
    const reachable = async (candidates: Array<Reached & { request: AccessRequest }>): Promise<Reached[]> => {
        const reached: Reached[] = [];
        for (const { key, label, request } of candidates) {
            evaluations++;
            if ((await decide(picture, request)).decision === "Allowed") reached.push({ key, label });
        }
        return reached;
    };
    const { partition, region } = picture;
    const account = grant.accountId;
    const facts = trustFacts(grant);
    const externalId = facts.externalIds[0];
    const instanceArn = (id: string) => `arn:${partition}:ec2:${region}:${account}:instance/${id}`;
    const instances = await reachable([
        ...picture.instances
            .filter((i) => i.accountId === account)
            .map((i) => ({ key: i.arn, label: `instance ${i.name}`, request: sessionRequest(grant, i.arn, i.tags, at) })),
        { key: "untagged-instance", label: "an untagged instance", request: sessionRequest(grant, instanceArn("i-0untagged0000000"), {}, at) },
        {
            key: "another-partners-instance",
            label: "an instance tagged for another partner",
            request: sessionRequest(grant, instanceArn("i-0another00000000"), { [accessTagKey]: ANOTHER_PARTNER }, at),
        },
    ]);
    const documentArn = (name: string) => `arn:${partition}:ssm:${region}:${account}:document/${name}`;
    const documentNames = new Set([
        SESSION_PREFERENCES_DOCUMENT,
        ...picture.documents.filter((d) => d.accountId === account).map((d) => d.name),
        ...Object.values(AWS_SESSION_DOCUMENTS),
    ]);
    const documents = await reachable([
        ...[...documentNames].map((name) => ({ key: name, label: name, request: sessionRequest(grant, documentArn(name), undefined, at) })),
        {
            key: "another-document",
            label: "any other document of the account",
            request: sessionRequest(grant, documentArn("Another-Session-Document"), undefined, at),
        },
    ]);

    // Who may assume the grant: the principals of the picture with their own policies, the
    // principals its trust names and representatives of the partner's and an outsider's
    // accounts, each controlled by its own administrator (so only the grant's trust decides).
    const partnerAccounts = trustedAccounts(grant).filter((a) => a !== account);
    const outside = [
        ...facts.principals.map((arn) => ({ arn, label: arn })),
        ...partnerAccounts.map((a) => ({ arn: `arn:${partition}:iam::${a}:role/any-other-role`, label: `any other principal of account ${a}` })),
        { arn: `arn:${partition}:iam::${OUTSIDER_ACCOUNT}:role/outsider`, label: "a principal of an unrelated account that learnt the external id" },
    ].filter((o) => !picture.principals.some((p) => p.arn === o.arn));
    const identity = (arn: string) => picture.principals.find((p) => p.arn === arn && p.kind === "user")?.name ?? REVIEW_IDENTITY;
    const assumeRequest = (principal: AccessRequest["principal"], arn: string): AccessRequest => ({
        principal,
        sessionName: identity(arn),
        action: "sts:AssumeRole",
        resource: grant.arn,
        at,
        context: {
            ...(externalId !== undefined ? { "sts:ExternalId": externalId } : {}),
            "sts:SourceIdentity": identity(arn),
            "sts:RoleSessionName": identity(arn),
            ...(identity(arn) === REVIEW_IDENTITY ? { "aws:SourceIdentity": REVIEW_IDENTITY } : {}),
        },
    });
    const assumableBy = await reachable([
        ...picture.principals
            .filter((p) => p.arn !== grant.arn)
            .map((p) => ({ key: p.arn, label: `${p.kind} ${p.arn}`, request: assumeRequest(p.arn, p.arn) })),
        ...outside.map((o) => ({ key: o.arn, label: o.label, request: assumeRequest(partnerControlled(o.arn), o.arn) })),
    ]);

    const access: PartnerAccess = {
        name: grant.tags[accessTagKey],
        grantRoleArn: grant.arn,
        runAs: runAsOf(grant, defaultRunAs),
        expiresAt: facts.expiresAt,
        revokeSessionsIssuedBefore: revocationOf(grant),
        requiresSourceIdentity: facts.requiresSourceIdentity,
        instances,
        documents,
        assumableBy,
        externalIdDigest: externalId === undefined ? null : createHash("sha256").update(externalId).digest("hex"),
    };
    return { access, evaluations };
}
