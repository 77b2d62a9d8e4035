// The policy pack's rules as pure functions of a resource's type and inputs, so they
// can be unit-tested without starting a policy server. Each returns the violations
// it finds (empty: compliant). Values unknown at preview (not yet strings) are skipped;
// `pulumi up` checks them again once known.

import { SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { asList as list } from "../components/policies";
import { OS_USER } from "../components/rules";

/** A resource as the policy engine presents it. */
export interface CheckedResource {
    type: string;
    props: Record<string, any>;
}

/** What a rule may know about the stack's own account(s). */
export interface RuleContext {
    /** Accounts the stack deploys to (its provider's allowedAccountIds, or the pack's config). */
    ownAccountIds: string[];
}

/** One statement of a policy document, as IAM reads it. */
export interface Statement {
    Sid?: string;
    Effect?: string;
    Principal?: any;
    Action?: string | string[];
    NotAction?: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
}

function statementsOf(json: unknown): Statement[] | undefined {
    if (typeof json !== "string") return undefined;
    try {
        return list(JSON.parse(json).Statement);
    } catch {
        return undefined;
    }
}

// Accounts an AWS principal names: "123456789012", "arn:aws:iam::123456789012:root", a role ARN, or "*".
function principalAccounts(principal: any): string[] {
    if (principal === "*") return ["*"];
    return list<string>(principal?.AWS).map((p) => (p === "*" ? "*" : /^\d{12}$/.test(p) ? p : (p.split(":")[4] ?? "*")));
}

function crossAccountAllows(props: Record<string, any>, context: RuleContext): Statement[] | undefined {
    const statements = statementsOf(props.assumeRolePolicy);
    return statements?.filter(
        (s) => s.Effect === "Allow" && principalAccounts(s.Principal).some((account) => account === "*" || !context.ownAccountIds.includes(account)),
    );
}

/**
 * Whether an IAM action pattern matches an action the way IAM matches them: `*` is any
 * run of characters, `?` exactly one, and the comparison ignores case. Comparing strings
 * instead misses `sts:Assume*`, `STS:*` or `sts:?ssumeRole`, which IAM honours.
 */
export function actionMatches(pattern: string, action: string): boolean {
    const source = Array.from(pattern, (c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
    return new RegExp(`^${source}$`, "i").test(action);
}

/**
 * Whether an Allow statement grants an action: one of its `Action` patterns matches it, or,
 * for a `NotAction` statement, none of the `NotAction` patterns does (`NotAction: "iam:*"`
 * allows every STS action). Deny statements and statements with neither grant nothing here.
 */
export function statementAllowsAction(statement: Statement, action: string): boolean {
    if (statement.Effect !== "Allow") return false;
    const patterns = (value: string | string[] | undefined) => list(value).filter((p): p is string => typeof p === "string");
    if (statement.Action !== undefined) return patterns(statement.Action).some((p) => actionMatches(p, action));
    if (statement.NotAction !== undefined) return !patterns(statement.NotAction).some((p) => actionMatches(p, action));
    return false;
}

// How a violation names the statement and the actions it lists, so the message points at the line to fix.
function describeStatement(s: Statement): string {
    const name = typeof s.Sid === "string" && s.Sid !== "" ? `statement "${s.Sid}"` : "a statement";
    const actions = s.Action !== undefined ? `Action ${JSON.stringify(s.Action)}` : `NotAction ${JSON.stringify(s.NotAction)}`;
    return `cross-account trust ${name} (${actions})`;
}

const EXTERNAL_ID_ACCEPTED = "accepted: a StringEquals condition on sts:ExternalId with a non-empty value";

// The condition operators that test sts:ExternalId in a statement, with their values. IAM compares
// condition keys case-insensitively ("STS:ExternalID" is the same key) but operators exactly.
function externalIdConditions(s: Statement): Array<{ operator: string; value: unknown }> {
    return Object.entries(s.Condition ?? {}).flatMap(([operator, keys]) =>
        typeof keys === "object" && keys !== null
            ? Object.entries(keys)
                  .filter(([key]) => key.toLowerCase() === "sts:externalid")
                  .map(([, value]) => ({ operator, value }))
            : [],
    );
}

const nonEmptyValue = (value: unknown) => {
    const values = list(value);
    return values.length > 0 && values.every((v) => typeof v === "string" && v !== "");
};

// Why a statement's external-id condition does not protect it, or undefined when it does. Only
// StringEquals counts: StringEqualsIfExists (and ForAllValues:*) pass when no external id is sent,
// StringLike accepts wildcards, and an empty value names no secret.
function externalIdProblem(s: Statement): string | undefined {
    const conditions = externalIdConditions(s);
    const equals = conditions.filter((c) => c.operator === "StringEquals");
    if (equals.some((c) => nonEmptyValue(c.value))) return undefined;
    if (equals.length > 0) return "has a StringEquals condition on sts:ExternalId with an empty value";
    const operators = [...new Set(conditions.map((c) => c.operator))];
    if (operators.includes("StringEqualsIfExists")) return "uses StringEqualsIfExists on sts:ExternalId, which passes when no external id is sent";
    if (operators.length > 0) return `tests sts:ExternalId only with ${operators.join(", ")}, not StringEquals`;
    return "has no condition on sts:ExternalId";
}

/** A role trusted by another account must require sts:ExternalId on every AssumeRole it allows (confused deputy). */
export function crossAccountTrustRequiresExternalId(resource: CheckedResource, context: RuleContext): string[] {
    if (resource.type !== "aws:iam/role:Role") return [];
    return (crossAccountAllows(resource.props, context) ?? [])
        .filter((s) => statementAllowsAction(s, "sts:AssumeRole"))
        .flatMap((s) => {
            const problem = externalIdProblem(s);
            return problem === undefined ? [] : [`${describeStatement(s)} allows sts:AssumeRole but ${problem}; ${EXTERNAL_ID_ACCEPTED}`];
        });
}

/** A role trusted by another account must never allow sts:TagSession: session tags override SSMSessionRunAs and the access tag. */
export function crossAccountTrustForbidsTagSession(resource: CheckedResource, context: RuleContext): string[] {
    if (resource.type !== "aws:iam/role:Role") return [];
    return (crossAccountAllows(resource.props, context) ?? [])
        .filter((s) => statementAllowsAction(s, "sts:TagSession"))
        .map(
            (s) =>
                `${describeStatement(s)} allows sts:TagSession, letting the other account override SSMSessionRunAs and the access tag; ` +
                "accepted: Action entries that do not match sts:TagSession (e.g. sts:AssumeRole, sts:SetSourceIdentity), or a NotAction that matches it (e.g. sts:*)",
        );
}

/** The Session Manager preferences keep Run As on (with an unprivileged default user) and CloudWatch streaming on. */
export function preferencesKeepRunAsAndStreaming(resource: CheckedResource): string[] {
    if (resource.type !== "aws:ssm/document:Document" || resource.props.name !== SESSION_PREFERENCES_DOCUMENT) return [];
    if (typeof resource.props.content !== "string") return [];
    let inputs: Record<string, unknown>;
    try {
        inputs = JSON.parse(resource.props.content).inputs ?? {};
    } catch {
        return [`${SESSION_PREFERENCES_DOCUMENT} content is not JSON`];
    }
    const violations: string[] = [];
    if (inputs.runAsEnabled !== true) violations.push("runAsEnabled must be the JSON boolean true: without Run As every session gets ssm-user, which has sudo");
    // The same rule the config and the components apply to the default Run As user.
    const userProblem = OS_USER.problem(inputs.runAsDefaultUser as string);
    if (userProblem !== undefined) violations.push(`runAsDefaultUser ${userProblem}`);
    if (inputs.cloudWatchStreamingEnabled !== true)
        violations.push("cloudWatchStreamingEnabled must be the JSON boolean true: sessions must be streamed to CloudWatch Logs");
    if (typeof inputs.cloudWatchLogGroupName !== "string" || inputs.cloudWatchLogGroupName === "")
        violations.push("cloudWatchLogGroupName must name the audit log group");
    return violations;
}

/** EC2 instances require IMDSv2 (session tokens). */
export function instancesRequireImdsV2(resource: CheckedResource): string[] {
    if (resource.type !== "aws:ec2/instance:Instance") return [];
    return resource.props.metadataOptions?.httpTokens === "required" ? [] : ['metadataOptions.httpTokens must be "required" (IMDSv2)'];
}

const INTERNET_PATHS = [
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
];
const DEFAULT_ROUTES = ["0.0.0.0/0", "::/0"];

// The component's type token since 0.2.0 (the package's index module), and before.
const PRIVATE_NETWORK_TYPES = ["third-party-ssm-access:index:PrivateSsmNetwork", "third-party-ssm-access:network:PrivateSsmNetwork"];

/** In a stack with a PrivateSsmNetwork, nothing opens a path to the internet: no internet gateway, NAT, or default route. */
export function noInternetPathBesidePrivateNetwork(resources: CheckedResource[]): string[] {
    if (!resources.some((r) => PRIVATE_NETWORK_TYPES.includes(r.type))) return [];
    const violations: string[] = [];
    for (const resource of resources) {
        if (INTERNET_PATHS.includes(resource.type)) violations.push(`${resource.type} opens a path to the internet beside the private subnets`);
        const routes =
            resource.type === "aws:ec2/route:Route" ? [resource.props] : resource.type === "aws:ec2/routeTable:RouteTable" ? list(resource.props.routes) : [];
        for (const route of routes) {
            if (
                DEFAULT_ROUTES.includes(route?.cidrBlock) ||
                DEFAULT_ROUTES.includes(route?.destinationCidrBlock) ||
                DEFAULT_ROUTES.includes(route?.ipv6CidrBlock) ||
                DEFAULT_ROUTES.includes(route?.destinationIpv6CidrBlock)
            ) {
                violations.push(`${resource.type} has a default route out of the VPC`);
            }
        }
    }
    return violations;
}
