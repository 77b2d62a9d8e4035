// Decides requests against an IAM picture with a real IAM policy evaluator
// (@cloud-copilot/iam-simulate): identity policies of the caller, the trust policy of
// a role being assumed, the key policy of a KMS key. The evaluator is AGPL and a
// devDependency: it is used here, by tests and tools, never by the components.

import { anonymousPrincipal, runSimulation } from "@cloud-copilot/iam-simulate";
import {
    createValidatedPolicy,
    validateEndpointPolicy,
    validateIdentityPolicy,
    validateResourcePolicy,
    type ValidatedPolicy,
    type ValidationError,
} from "@cloud-copilot/iam-policy";
import type { PolicyDocument } from "../../components/policies";
import { findPrincipal, principalByArn, type IamPicture, type IamPrincipal, type PictureInstance } from "./picture";
import { utcTimestamp } from "../../components/rules";
import { installSimulatorShortcuts } from "./simulator-shortcuts";

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/** Someone outside the picture: an attacker's or a bystander's principal, with the identity policy it would have. */
export interface OutsidePrincipal {
    arn: string;
    accountId: string;
    policies: PolicyDocument[];
    tags?: Record<string, string>;
}

/** Nobody: a request with no credentials (a shell user who cannot reach any). */
export const ANONYMOUS = { anonymous: true } as const;

/** Where a request signed with an instance role's credentials comes from. */
export interface InstanceCredentials {
    /** The instance the credentials were issued to. */
    instance: PictureInstance;
    /** From the instance itself (through its VPC's endpoints), from anywhere else, or by an AWS service on the role's behalf. */
    from: "instance" | "elsewhere" | "aws-service";
}

/** One request: who, what, on which resource, in which context. */
export interface AccessRequest {
    /** A role or user in the picture (by ARN), one outside it, or nobody. */
    principal: string | OutsidePrincipal | typeof ANONYMOUS;
    /** When the principal is an instance role: whose credentials, used from where. */
    instanceCredentials?: InstanceCredentials;
    /**
     * The request leaves this VPC: it must pass the VPC's endpoint for the action's service,
     * and without one it goes nowhere (the VPC has no other way out). Implied by instance
     * credentials used from the instance.
     */
    throughVpc?: string;
    /** A resource policy of a resource outside the picture (a bucket policy of your account, say). */
    resourcePolicy?: PolicyDocument;
    /** Role session name, when the principal is a role. */
    sessionName?: string;
    action: string;
    resource: string;
    /** Tags on the resource; become `aws:ResourceTag/*` and, for SSM, `ssm:resourceTag/*`. */
    resourceTags?: Record<string, string>;
    /** Request time; default the fixed evaluation time below. */
    at?: string;
    /** Any further request context (`sts:ExternalId`, `sts:SourceIdentity`, `aws:RequestTag/*`, ...). */
    context?: Record<string, string | string[]>;
}

export interface DecisionDetail {
    decision: Decision;
    /** Why no policy was evaluated at all (no route out of the VPC). */
    note?: string;
    /** The evaluator's validation errors, if the request or a policy was malformed. */
    errors?: string;
    /** Statements (Sid, or position) that allowed the request, when it was allowed. */
    allowedBy?: string[];
    /** Statements that denied it explicitly. */
    deniedBy?: string[];
}

/** Evaluations use a fixed clock, so results never depend on the day they run. */
export const EVALUATION_TIME = "2027-01-15T12:00:00Z";

/** How long before the request a role session's credentials were issued, unless the request says (`aws:TokenIssueTime`). */
const TOKEN_AGE_MS = 15 * 60_000;

/** A private address of the instance, and a public one elsewhere, for the perimeter's keys. */
const INSTANCE_PRIVATE_IP = "10.24.34.10";
const SOMEWHERE_ELSE_IP = "203.0.113.10";

/** The policy AWS attaches to an endpoint given none: full access. */
const DEFAULT_ENDPOINT_POLICY: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }],
};

// The simulator validates every policy on every request unless it is handed one it validated
// before (iam-policy's createValidatedPolicy, which runSimulation takes in place of the document
// and reuses the errors of). A picture's documents are parsed once and never changed, so each is
// validated once per kind of policy.
type Validate = (policy: unknown) => ValidationError[];
const validatedBy = new Map<Validate, WeakMap<object, ValidatedPolicy>>();

function validated(document: PolicyDocument, validate: Validate): ValidatedPolicy {
    let kept = validatedBy.get(validate);
    if (kept === undefined) validatedBy.set(validate, (kept = new WeakMap()));
    let policy = kept.get(document);
    if (policy === undefined) kept.set(document, (policy = createValidatedPolicy(document, validate)));
    return policy;
}

/** The identity policy of a principal its other party controls: everything. */
const EVERYTHING: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/** A role outside the picture that trusts its whole account: the worst case for "may it assume other roles?". */
export function accountTrustingRole(partition: string, accountId: string): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "sts:AssumeRole" }] };
}

/**
 * A principal the other party controls: it administers its own account and can give the
 * principal any identity policy, so it gets one allowing everything, and only the
 * policies on your side decide.
 */
export function partnerControlled(arn: string, tags?: Record<string, string>): OutsidePrincipal {
    return { arn, accountId: arn.split(":")[4], tags, policies: [EVERYTHING] };
}

// A stable fake unique id per principal, for ${aws:userid}.
function uniqueId(principal: { arn: string }, prefix: string): string {
    let hash = 0;
    for (const ch of principal.arn) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
    return `${prefix}${hash.toString(36).toUpperCase().padStart(8, "0")}`;
}

/** `${aws:userid}` of a principal: `ROLEID:session` for a role session, the user id for a user. */
export function userIdOf(picture: IamPicture, principalArn: string, sessionName = "session"): string {
    const principal = findPrincipal(picture, principalArn) ?? { arn: principalArn, kind: principalArn.includes(":role/") ? "role" : "user" };
    return principal.kind === "role" ? `${uniqueId(principal, "AROA")}:${sessionName}` : uniqueId(principal, "AIDA");
}

function resolvePrincipal(
    picture: IamPicture,
    principal: Exclude<AccessRequest["principal"], typeof ANONYMOUS>,
): { arn: string; accountId: string; kind: "role" | "user"; policies: Array<{ name: string; policy: PolicyDocument }>; tags: Record<string, string> } {
    if (typeof principal !== "string") {
        return {
            arn: principal.arn,
            accountId: principal.accountId,
            kind: principal.arn.includes(":role/") ? "role" : "user",
            policies: principal.policies.map((policy, i) => ({ name: `its account's own policies (${i + 1})`, policy })),
            tags: principal.tags ?? {},
        };
    }
    const known: IamPrincipal = principalByArn(picture, principal);
    return {
        arn: known.arn,
        accountId: known.accountId,
        kind: known.kind,
        policies: known.policies.map((p) => ({ name: p.name, policy: p.document })),
        tags: known.tags,
    };
}

/** The resource policy that governs a resource ("" account: the caller's own), as `decide` evaluates it. */
export function resourceSide(picture: IamPicture, resource: string): { policy?: PolicyDocument; accountId: string } {
    const principal = findPrincipal(picture, resource);
    const role = principal?.kind === "role" ? principal : undefined;
    if (role) return { policy: role.trustPolicy, accountId: role.accountId };
    const owned = picture.resourcePolicies.find((r) => resource === r.arn || resource.startsWith(`${r.arn}/`));
    if (owned) return { policy: owned.document, accountId: owned.accountId };
    const parts = resource.split(":");
    const accountId = parts[4] || picture.secrets.find((s) => s.arn === resource)?.accountId || "";
    // A role this picture does not create: assume the worst, that it trusts its whole account.
    if (parts[2] === "iam" && parts[5]?.startsWith("role/")) return { policy: accountTrustingRole(parts[1], accountId), accountId };
    return { accountId };
}

/** The VPC endpoint policy a request from `vpcId` must pass, or why it goes nowhere. */
function endpointOf(picture: IamPicture, vpcId: string, service: string): { policy?: PolicyDocument } | undefined {
    return picture.endpoints.find((e) => e.vpcId === vpcId && e.service === service);
}

// The perimeter keys AWS sets on requests signed with instance credentials.
function instanceContext(credentials: InstanceCredentials): Record<string, string> {
    const { instance, from } = credentials;
    const context: Record<string, string> = {
        "ec2:SourceInstanceARN": instance.arn,
        "aws:ec2InstanceSourceVPC": instance.vpcId,
        "aws:ec2InstanceSourcePrivateIPv4": INSTANCE_PRIVATE_IP,
        "aws:ViaAWSService": from === "aws-service" ? "true" : "false",
    };
    if (from === "instance") Object.assign(context, { "aws:SourceVpc": instance.vpcId, "aws:VpcSourceIp": INSTANCE_PRIVATE_IP });
    if (from === "elsewhere") context["aws:SourceIp"] = SOMEWHERE_ELSE_IP;
    return context;
}

/** Evaluates one request with the IAM simulator. */
export async function decide(picture: IamPicture, request: AccessRequest): Promise<DecisionDetail> {
    installSimulatorShortcuts();
    const at = request.at ?? EVALUATION_TIME;
    const service = request.action.split(":")[0];
    const vpcId = request.throughVpc ?? (request.instanceCredentials?.from === "instance" ? request.instanceCredentials.instance.vpcId : undefined);
    const endpoint = vpcId === undefined ? undefined : endpointOf(picture, vpcId, service);
    // A VPC the stack builds has no way out but its endpoints; of a network of your own nothing is known, so the request passes.
    if (vpcId !== undefined && picture.vpcs.includes(vpcId) && endpoint === undefined) {
        return { decision: "ImplicitlyDenied", note: `${vpcId} has no endpoint for ${service} and no other way out` };
    }
    const context: Record<string, string | string[]> = {
        "aws:CurrentTime": at,
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": picture.region,
    };
    let requestPrincipal: string | typeof anonymousPrincipal = anonymousPrincipal;
    let identityPolicies: Array<{ name: string; policy: PolicyDocument }> = [];
    let callerAccount = "";
    const principal = request.principal;
    if (typeof principal === "string" || !("anonymous" in principal)) {
        const caller = resolvePrincipal(picture, principal);
        const session = request.sessionName ?? "session";
        requestPrincipal =
            caller.kind === "role" ? `arn:${picture.partition}:sts::${caller.accountId}:assumed-role/${caller.arn.split("/").pop()}/${session}` : caller.arn;
        identityPolicies = caller.policies;
        callerAccount = caller.accountId;
        Object.assign(context, {
            "aws:PrincipalArn": caller.arn,
            "aws:PrincipalAccount": caller.accountId,
            "aws:userid": userIdOf(picture, caller.arn, session),
        });
        if (caller.kind === "user") context["aws:username"] = caller.arn.split("/").pop()!;
        if (caller.kind === "role") context["aws:TokenIssueTime"] = utcTimestamp(Date.parse(at) - TOKEN_AGE_MS);
        for (const [key, value] of Object.entries(caller.tags)) context[`aws:PrincipalTag/${key}`] = value;
    }
    if (request.instanceCredentials) Object.assign(context, instanceContext(request.instanceCredentials));
    if (vpcId !== undefined) context["aws:SourceVpc"] = vpcId;
    for (const [key, value] of Object.entries(request.resourceTags ?? {})) {
        context[`aws:ResourceTag/${key}`] = value;
        if (service === "ssm") context[`ssm:resourceTag/${key}`] = value;
    }
    Object.assign(context, request.context);

    const resource = resourceSide(picture, request.resource);
    const resourcePolicy = request.resourcePolicy ?? resource.policy;
    const resourceAccount = resource.accountId || callerAccount;
    if (resourceAccount) context["aws:ResourceAccount"] = resourceAccount;
    const response = await runSimulation(
        {
            // "*" and ARNs without an account (S3 buckets not in the picture) are taken as the caller's own.
            request: {
                principal: requestPrincipal,
                action: request.action,
                resource: { resource: request.resource, accountId: resourceAccount },
                contextVariables: context,
            },
            identityPolicies: identityPolicies.map(({ name, policy }) => ({ name, policy: validated(policy, validateIdentityPolicy) })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: resourcePolicy && validated(resourcePolicy, validateResourcePolicy),
            vpcEndpointPolicies: endpoint
                ? [{ name: `${service} endpoint`, policy: validated(endpoint.policy ?? DEFAULT_ENDPOINT_POLICY, validateEndpointPolicy) }]
                : undefined,
        },
        {},
    );
    if (response.resultType === "error") return { decision: "ImplicitlyDenied", errors: JSON.stringify(response.errors) };
    const decision = response.overallResult as Decision;
    if (response.resultType !== "single") return { decision };
    const analysis = response.result.analysis;
    // A statement by its Sid, else by its place in its policy.
    const ids = (statements: Array<{ policyId: string; statement: { sid(): string | undefined; index(): number } }> | undefined, where = "") =>
        (statements ?? []).map((s) => s.statement.sid() ?? `${where}statement ${s.statement.index()}${s.policyId ? ` of ${s.policyId}` : ""}`);
    if (decision === "Allowed")
        return {
            decision,
            allowedBy: [...ids(analysis?.identityAnalysis?.allowStatements), ...ids(analysis?.resourceAnalysis?.allowStatements, "resource policy ")],
        };
    if (decision === "ExplicitlyDenied")
        return { decision, deniedBy: [...ids(analysis?.identityAnalysis?.denyStatements), ...ids(analysis?.resourceAnalysis?.denyStatements)] };
    return { decision };
}
