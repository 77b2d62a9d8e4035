// The protections the review checks by evaluation, one probe each, so a change that
// weakens one shows as a regression: the instance role's reach (from the instance, from
// elsewhere, through a non-root shell), each grant's fence, region, expiry and session
// naming, the endpoints, and the archive. Each probe is a request the policies as
// produced must allow or refuse.

import { asList, GRANT_FENCE_SID } from "../../components/policies";
import { decide, partnerControlled, type AccessRequest, type Decision } from "../iam/evaluate";
import type { IamPicture, IamPrincipal, PictureInstance } from "../iam/picture";
import {
    anotherRegion,
    chainedAs,
    fromShellOn,
    invitesTheAccount,
    metadataGuarded,
    REVIEW_IDENTITY,
    SIGNED_IN_WITH_MFA,
    withInstanceCredentials,
    WRONG_EXTERNAL_ID,
    runAsTagged,
    SOMEONE_ELSE,
} from "../iam/probes";
import { personOsUser } from "../../components/constants";
import { utcTimestamp } from "../../components/rules";

export interface ProtectionCheck {
    /** What the check is about: an instance role, a partner, the network, the archive. */
    subject: string;
    /** The request or fact, in plain words. */
    check: string;
    expected: "Allowed" | "Denied";
    decision: Decision;
    /** The evaluation came out as expected. */
    holds: boolean;
    /** Why the check shows nothing: the same request made the intended way is refused too, so a refusal proves nothing. */
    notShown?: string;
}

/** What the checks need to know of the reviewed stack. */
export interface ProtectionInputs {
    picture: IamPicture;
    /** The reviewed stack's account: only its instances, roles and endpoints are checked. */
    account: string;
    /** The instance tag key the grants compare. */
    accessTagKey: string;
    at: string;
    /** The grants under review, with what the yours stack states each is built to enforce (its grants output). */
    grants: Array<{
        name: string;
        role: IamPrincipal;
        expiresAt: string | null;
        revokeSessionsIssuedBefore: string | null;
        requiresSourceIdentity: boolean;
        /** The principals its trust is stated to name. */
        trustedPrincipals: string[];
        externalId?: string;
        /** Per-person Run As: the base of its people's OS users (each session tagged `<base>-<source identity>`). */
        perPersonBase?: string;
        /** Per-person Run As: a person it lists, the source identity its own sessions carry in the checks. */
        sessionIdentity?: string;
    }>;
    /** ARN of the audit log group, when the stack has one. */
    auditLogGroupArn?: string;
    /** ARN of the bucket the preferences archive transcripts to, when the stack creates it. */
    archiveBucketArn?: string;
}

const MINUTE_MS = 60_000;

async function probe(
    picture: IamPicture,
    subject: string,
    check: string,
    expected: ProtectionCheck["expected"],
    request: AccessRequest,
): Promise<ProtectionCheck> {
    const { decision, errors } = await decide(picture, request);
    const outcome = decision === "Allowed" ? "Allowed" : "Denied";
    return {
        subject,
        check: errors ? `${check} (evaluator error: ${errors})` : check,
        expected,
        decision,
        holds: errors === undefined && outcome === expected,
    };
}

/**
 * A refusal that proves something only if the same request made the intended way (`control`)
 * is allowed: otherwise the refusal may come from anything else the request lacks.
 */
async function refusedUnlike(
    picture: IamPicture,
    subject: string,
    check: string,
    request: AccessRequest,
    control: { allowed: () => Promise<boolean>; words: string },
): Promise<ProtectionCheck> {
    const refused = await probe(picture, subject, check, "Denied", request);
    return (await control.allowed()) ? refused : { ...refused, holds: false, notShown: `${control.words} is refused too` };
}

/** A control request's answer, asked once however many checks it controls. */
function controlOf(picture: IamPicture, request: AccessRequest, words: string): { allowed: () => Promise<boolean>; words: string } {
    let answer: Promise<boolean> | undefined;
    return { allowed: () => (answer ??= decide(picture, request).then((d) => d.decision === "Allowed")), words };
}

/** An instance of the account tagged for the partner, for a grant that has none in the stack (ABAC reaches any so tagged). */
function probeInstance(picture: IamPicture, account: string, accessTagKey: string, partner: string): Pick<PictureInstance, "arn" | "tags"> {
    return { arn: `arn:${picture.partition}:ec2:${picture.region}:${account}:instance/i-0protectionprobe0`, tags: { [accessTagKey]: partner } };
}

function fact(subject: string, check: string, holds: boolean): ProtectionCheck {
    return { subject, check, expected: "Denied", decision: holds ? "ImplicitlyDenied" : "Allowed", holds };
}

/** Every protection check for the reviewed stack. */
export async function protectionChecks(inputs: ProtectionInputs): Promise<ProtectionCheck[]> {
    const { picture, account, at } = inputs;
    const checks: ProtectionCheck[] = [];
    const instances = picture.instances.filter((i) => i.accountId === account);

    // The instance role, evaluated by content: what the agent needs, and nothing for a shell or a thief.
    const byRole = new Map<string, PictureInstance>();
    for (const instance of instances) if (instance.roleArn && !byRole.has(instance.roleArn)) byRole.set(instance.roleArn, instance);
    for (const [roleArn, instance] of byRole) {
        const subject = `instance role ${roleArn.split("/").pop()}`;
        const parameter = `arn:${picture.partition}:ssm:${picture.region}:${account}:parameter/any-parameter`;
        checks.push(
            await probe(
                picture,
                subject,
                "the SSM agent registers the instance, from the instance",
                "Allowed",
                withInstanceCredentials(instance, "ssm:UpdateInstanceInformation", instance.arn),
            ),
            await probe(picture, subject, "reads an SSM parameter of the account", "Denied", withInstanceCredentials(instance, "ssm:GetParameter", parameter)),
        );
        if (inputs.auditLogGroupArn !== undefined) {
            const stream = `${inputs.auditLogGroupArn}:log-stream:review-0123`;
            checks.push(
                await probe(
                    picture,
                    subject,
                    "streams a session transcript to the audit log group, from the instance",
                    "Allowed",
                    withInstanceCredentials(instance, "logs:PutLogEvents", stream),
                ),
                await probe(
                    picture,
                    subject,
                    picture.vpcs.includes(instance.vpcId)
                        ? "its credentials, taken off the instance, write the audit log group from elsewhere"
                        : "its credentials, taken off the instance, write the audit log group from elsewhere (in a network of your own the perimeter needs network.reachesAwsThroughEndpoints)",
                    "Denied",
                    withInstanceCredentials(instance, "logs:PutLogEvents", stream, "elsewhere"),
                ),
            );
        }
    }
    for (const instance of instances) {
        const subject = `instance ${instance.name}`;
        checks.push(
            fact(subject, "a non-root user reaches the metadata service (closed at every boot, re-applied by State Manager)", metadataGuarded(instance)),
        );
        if (inputs.auditLogGroupArn !== undefined) {
            checks.push(
                await probe(
                    picture,
                    subject,
                    "a partner's non-root shell writes another partner's audit log stream",
                    "Denied",
                    fromShellOn(instance, "logs:PutLogEvents", `${inputs.auditLogGroupArn}:log-stream:other-0123`),
                ),
            );
        }
    }

    // Each grant: nothing beyond its purpose, in this region, until its expiry, under the person's name.
    for (const grant of inputs.grants) {
        const subject = `partner ${grant.name}`;
        // A per-person grant acts only for the people it lists: one of them asks.
        const as = (action: string, resource: string, extra: Partial<AccessRequest> = {}): AccessRequest => ({
            principal: grant.role.arn,
            sessionName: "review",
            action,
            resource,
            at,
            ...extra,
            ...(grant.sessionIdentity === undefined ? {} : { context: { ...chainedAs(grant.sessionIdentity), ...extra.context } }),
        });
        const bucket = `arn:${picture.partition}:s3:::review-shared-bucket`;
        checks.push(
            await probe(
                picture,
                subject,
                "reads a bucket of yours whose policy invites every principal of the account",
                "Denied",
                as("s3:GetObject", `${bucket}/x`, { resourcePolicy: invitesTheAccount(account, "s3:GetObject", `${bucket}/*`) }),
            ),
            await probe(
                picture,
                subject,
                `lists instances in ${anotherRegion(picture.region)}, outside the stack's region`,
                "Denied",
                as("ec2:DescribeInstances", "*", { context: { "aws:RequestedRegion": anotherRegion(picture.region) } }),
            ),
        );
        if (grant.expiresAt !== null) {
            const after = Date.parse(grant.expiresAt) + MINUTE_MS;
            const instance = instances.find((i) => Object.values(i.tags).includes(grant.name)) ?? instances[0];
            if (instance) {
                checks.push(
                    await probe(
                        picture,
                        subject,
                        "starts a session after its expiry with credentials issued before it",
                        "Denied",
                        as("ssm:StartSession", instance.arn, {
                            resourceTags: instance.tags,
                            at: utcTimestamp(after),
                            context: { "aws:TokenIssueTime": utcTimestamp(after - 15 * MINUTE_MS) },
                        }),
                    ),
                );
            }
        }
        // Asked at a moment the grant is still open (a refusal after its end would prove nothing about what is checked).
        const ends = grant.expiresAt === null ? Infinity : Date.parse(grant.expiresAt);
        const open = (moment: number) => utcTimestamp(Math.min(moment, ends - MINUTE_MS));
        if (grant.revokeSessionsIssuedBefore !== null && Date.parse(grant.revokeSessionsIssuedBefore) + MINUTE_MS < ends) {
            const revoked = Date.parse(grant.revokeSessionsIssuedBefore);
            const instance =
                instances.find((i) => i.tags[inputs.accessTagKey] === grant.name) ?? probeInstance(picture, account, inputs.accessTagKey, grant.name);
            const when = open(Math.max(Date.parse(at), revoked + MINUTE_MS));
            const session = (issued: number) =>
                as("ssm:StartSession", instance.arn, { resourceTags: instance.tags, at: when, context: { "aws:TokenIssueTime": utcTimestamp(issued) } });
            checks.push(
                await refusedUnlike(
                    picture,
                    subject,
                    "starts a session with credentials issued before its revocation instant",
                    session(revoked - MINUTE_MS),
                    controlOf(picture, session(revoked + 1000), "the same session with credentials issued after it"),
                ),
            );
        }
        // Its trusted principal assuming it with the external id it was given, under a person's name, unless `change` says otherwise.
        const principal = grant.trustedPrincipals[0];
        // Per person, the session is tagged with the person's own OS user (`runAs`: another value, or null for no tag).
        const ownOsUser = grant.perPersonBase === undefined ? undefined : personOsUser(grant.perPersonBase, REVIEW_IDENTITY);
        const assume = (change: { externalId?: string; sessionName?: string; runAs?: string | null; action?: string } = {}): AccessRequest => {
            const externalId = change.externalId ?? grant.externalId;
            const sessionName = change.sessionName ?? REVIEW_IDENTITY;
            const runAs = change.runAs === undefined ? ownOsUser : (change.runAs ?? undefined);
            return {
                principal: partnerControlled(principal),
                sessionName,
                action: change.action ?? "sts:AssumeRole",
                resource: grant.role.arn,
                at: open(Date.parse(at)),
                context: {
                    ...chainedAs(REVIEW_IDENTITY, sessionName),
                    ...(externalId !== undefined ? { "sts:ExternalId": externalId } : {}),
                    ...(runAs === undefined ? {} : runAsTagged(runAs)),
                },
            };
        };
        if (principal !== undefined) {
            const asIntended = controlOf(picture, assume(), "the same request with the stated external id, named after its source identity,");
            if (grant.externalId !== undefined)
                checks.push(
                    await refusedUnlike(
                        picture,
                        subject,
                        "its trusted principal assumes the grant with a wrong external id",
                        assume({ externalId: WRONG_EXTERNAL_ID }),
                        asIntended,
                    ),
                );
            if (grant.requiresSourceIdentity)
                checks.push(
                    await refusedUnlike(
                        picture,
                        subject,
                        "its trusted principal names the grant session after someone other than its source identity",
                        assume({ sessionName: "someone-else" }),
                        asIntended,
                    ),
                );
            // Per person: its partner's administrator, naming the person, still gets only that person's OS user.
            if (grant.perPersonBase !== undefined) {
                const others: Array<[string, string | null]> = [
                    ["without the Run As tag (the grant role has none: no session runs as the shared default)", null],
                    [
                        `tagging its session with another person's OS user (${personOsUser(grant.perPersonBase, SOMEONE_ELSE)})`,
                        personOsUser(grant.perPersonBase, SOMEONE_ELSE),
                    ],
                    ["tagging its session with root", "root"],
                ];
                for (const [words, runAs] of others)
                    checks.push(await refusedUnlike(picture, subject, `its trusted principal assumes the grant ${words}`, assume({ runAs }), asIntended));
                checks.push(
                    await refusedUnlike(
                        picture,
                        subject,
                        `its trusted principal passes another person's OS user as the session tag (sts:TagSession)`,
                        assume({ action: "sts:TagSession", runAs: personOsUser(grant.perPersonBase, SOMEONE_ELSE) }),
                        controlOf(picture, assume({ action: "sts:TagSession" }), "tagging the session with the person's own OS user"),
                    ),
                );
            }
        }
        if (grant.sessionIdentity !== undefined) {
            // Taken off the list, a person's OS user is only locked, which Session Manager does not ask: IAM must refuse them.
            // An instance tagged for the partner in the grant's account (reviewing the partner's stack, that is not the reviewed account).
            const tagged =
                picture.instances.find((i) => i.accountId === grant.role.accountId && i.tags[inputs.accessTagKey] === grant.name) ??
                probeInstance(picture, grant.role.accountId, inputs.accessTagKey, grant.name);
            const start = (identity: string): AccessRequest => ({
                ...as("ssm:StartSession", tagged.arn, { resourceTags: tagged.tags, at: open(Date.parse(at)) }),
                context: { ...chainedAs(identity), "ssm:SessionDocumentAccessCheck": "true" },
            });
            checks.push(
                await refusedUnlike(
                    picture,
                    subject,
                    "someone its grant does not list (a person taken off it) starts a session",
                    start(SOMEONE_ELSE),
                    controlOf(picture, start(grant.sessionIdentity), `the same session by ${grant.sessionIdentity}, whom it lists,`),
                ),
            );
        }
        // Unconditional, on every resource: a fence with a condition is open wherever the condition does not hold.
        const fenced = grant.role.policies.some((p) =>
            p.document.Statement.some((s) => s.Sid === GRANT_FENCE_SID && s.Effect === "Deny" && s.Condition === undefined && asList(s.Resource).includes("*")),
        );
        if (!fenced) checks.push(fact(subject, `has no unconditional ${GRANT_FENCE_SID} statement denying, on every resource, what it does not allow`, false));
    }

    // The partner's side, when the review sees it: each person reaches the jump role only as itself.
    for (const person of picture.principals.filter((p) => p.kind === "user")) {
        const targets = person.policies
            .flatMap((p) => p.document.Statement)
            .filter((s) => s.Effect === "Allow" && asList(s.Action).includes("sts:AssumeRole"))
            .flatMap((s) => asList(s.Resource))
            .filter((arn) => picture.principals.some((p) => p.arn === arn));
        for (const role of [...new Set(targets)]) {
            checks.push(
                await probe(
                    picture,
                    `user ${person.name}`,
                    `assumes ${role.split("/").pop()} as someone else (source identity and session name "someone-else")`,
                    "Denied",
                    {
                        principal: person.arn,
                        sessionName: "someone-else",
                        action: "sts:AssumeRole",
                        resource: role,
                        at,
                        // Signed in with MFA, as the person would: only the name is wrong.
                        context: { "sts:SourceIdentity": "someone-else", "sts:RoleSessionName": "someone-else", ...SIGNED_IN_WITH_MFA },
                    },
                ),
            );
        }
    }

    // The VPC's way out: every endpoint carries a policy, and a shell's own credentials get nothing through them.
    const endpoints = picture.endpoints.filter((e) => instances.some((i) => i.vpcId === e.vpcId));
    for (const endpoint of endpoints)
        checks.push(fact(`${endpoint.service} endpoint`, "is open to principals of any account (no endpoint policy)", endpoint.policy !== undefined));
    const anyInstance = instances[0];
    if (anyInstance && endpoints.some((e) => e.service === "s3")) {
        checks.push(
            await probe(picture, "network", "a shell user uploads to a bucket of its own account through the S3 endpoint", "Denied", {
                principal: partnerControlled(`arn:${picture.partition}:iam::999999999999:user/outsider`),
                action: "s3:PutObject",
                resource: `arn:${picture.partition}:s3:::outsider-drop/x`,
                throughVpc: anyInstance.vpcId,
                at,
            }),
        );
    }

    // The archive keeps every version of a transcript, locked.
    // The archive only: the bucket its server access logs go to holds no transcript.
    for (const bucket of picture.buckets.filter((b) => b.accountId === account && b.arn === inputs.archiveBucketArn)) {
        checks.push(
            fact(
                `bucket ${bucket.arn.split(":::").pop()}`,
                "an upload replaces the only copy of an archived transcript (versioning and Object Lock)",
                bucket.versioned && bucket.objectLock !== undefined,
            ),
        );
    }
    return checks;
}
