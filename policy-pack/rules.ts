// The policy pack's rules as pure functions of a resource's type and inputs, so they
// can be unit-tested without starting a policy server. Each returns the violations
// it finds (empty: compliant). Values unknown at preview (not yet strings) are skipped;
// `pulumi up` checks them again once known.

import { SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { asList as list } from "../components/policies";

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

type Statement = { Effect?: string; Principal?: any; Action?: string | string[]; Condition?: Record<string, Record<string, unknown>> };

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

const allowsAction = (s: Statement, action: string) => list(s.Action).some((a) => a === "*" || a === "sts:*" || a.toLowerCase() === action.toLowerCase());

/** A role trusted by another account must require sts:ExternalId on every AssumeRole it allows (confused deputy). */
export function crossAccountTrustRequiresExternalId(resource: CheckedResource, context: RuleContext): string[] {
    if (resource.type !== "aws:iam/role:Role") return [];
    return (crossAccountAllows(resource.props, context) ?? [])
        .filter((s) => allowsAction(s, "sts:AssumeRole"))
        .filter(
            (s) =>
                !Object.entries(s.Condition ?? {}).some(
                    ([op, keys]) => op.startsWith("StringEquals") && Object.keys(keys).some((k) => k.toLowerCase() === "sts:externalid"),
                ),
        )
        .map(() => "cross-account trust allows sts:AssumeRole without a StringEquals condition on sts:ExternalId");
}

/** A role trusted by another account must never allow sts:TagSession: session tags override SSMSessionRunAs and the access tag. */
export function crossAccountTrustForbidsTagSession(resource: CheckedResource, context: RuleContext): string[] {
    if (resource.type !== "aws:iam/role:Role") return [];
    return (crossAccountAllows(resource.props, context) ?? [])
        .filter((s) => allowsAction(s, "sts:TagSession"))
        .map(() => "cross-account trust allows sts:TagSession, letting the other account override SSMSessionRunAs and the access tag");
}

/** The Session Manager preferences keep Run As on (with a non-root default user) and CloudWatch streaming on. */
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
    if (typeof inputs.runAsDefaultUser !== "string" || ["", "root"].includes(inputs.runAsDefaultUser))
        violations.push("runAsDefaultUser must name an unprivileged user");
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

/** In a stack with a PrivateSsmNetwork, nothing opens a path to the internet: no internet gateway, NAT, or default route. */
export function noInternetPathBesidePrivateNetwork(resources: CheckedResource[]): string[] {
    if (!resources.some((r) => r.type === "third-party-ssm-access:network:PrivateSsmNetwork")) return [];
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
