// What the deployment is, read with the yours profile: facts no IAM evaluation shows and
// a deploy can leave wrong while reporting success. The Session Manager preferences in
// effect (an update can make a new version without making it the default), the
// interface endpoints' policies as AWS applies them (a service without endpoint-policy
// support is open whatever the program sets), and whether the alert rule delivered the
// session's alert to its topic (a key policy KMS refuses fails every publish, silently).
// Read-only: ssm:DescribeDocument, ssm:GetDocument, ec2:DescribeVpcEndpointServices,
// ec2:DescribeVpcEndpoints, cloudwatch:GetMetricData.

import { GetMetricDataCommand, type CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DescribeVpcEndpointServicesCommand, DescribeVpcEndpointsCommand, type EC2Client, type VpcEndpoint } from "@aws-sdk/client-ec2";
import { DescribeDocumentCommand, GetDocumentCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { interfaceEndpointPolicy } from "../../components/policies";
import { sessionPreferencesContent, type SessionPreferenceValues } from "../../components/session-preferences";
import type { AwsClients, CredentialsProvider } from "./aws";
import { CHECKS } from "./checks";
import { describeError, fail, pass, skipped, type CheckResult } from "./verdicts";

/** The yours profile in the stack's region. */
export interface YoursReader {
    clients: AwsClients;
    region: string;
    credentials: CredentialsProvider;
}

// ---------------------------------------------------------------------------
// Session Manager preferences

/**
 * The preferences document sessions use is its default version ("DescribeDocument",
 * "GetDocument", AWS Systems Manager API Reference). It must be the latest (pulumi-aws
 * issue 2555: an update that makes a new version without making it the default) and say
 * what the program produces for this stack, rebuilt from the stack's outputs with the
 * component's own pure function. Without `expected` (a stack whose outputs predate
 * sessionPreferenceSettings) only the versions are compared.
 */
export async function preferencesInEffect(reader: YoursReader, name: string, expected: SessionPreferenceValues | undefined): Promise<CheckResult> {
    const id = "preferencesInEffect";
    const title = CHECKS.preferencesInEffect;
    const ssm = reader.clients.ssm(reader.region, reader.credentials);
    let defaultVersion: string | undefined;
    let latestVersion: string | undefined;
    try {
        const answer = await ssm.send(new DescribeDocumentCommand({ Name: name }));
        defaultVersion = answer.Document?.DefaultVersion;
        latestVersion = answer.Document?.LatestVersion;
    } catch (error) {
        return fail(id, title, `ssm:DescribeDocument ${name} as the yours profile: ${describeError(error)}`);
    }
    if (!defaultVersion || !latestVersion) return fail(id, title, `ssm:DescribeDocument ${name} answered without DefaultVersion and LatestVersion`);
    const remedy = (version: string) => `aws ssm update-document-default-version --name ${name} --document-version ${version}`;
    const lags = defaultVersion !== latestVersion;
    const versions = lags
        ? `sessions use version ${defaultVersion}, but the latest is ${latestVersion} (an update that did not become the default, as in pulumi-aws issue 2555)`
        : `version ${defaultVersion} is the default and the latest`;

    if (expected === undefined) {
        if (lags) return fail(id, title, `${versions}; once you have checked version ${latestVersion}, make it the default: ${remedy(latestVersion)}`);
        return skipped(
            id,
            title,
            `${versions}; its content was not compared: the yours stack has no output sessionPreferenceSettings (run pulumi up with this version of the program)`,
        );
    }
    const program = sessionPreferencesContent(expected);
    const differences = async (version: string) => jsonDifferences(await documentContent(ssm, name, version), program);
    let inEffect: string[];
    let latest: string[] = [];
    try {
        inEffect = await differences(defaultVersion);
        if (lags) latest = await differences(latestVersion);
    } catch (error) {
        return fail(id, title, `${versions}; ${error instanceof ContentError ? error.message : `ssm:GetDocument ${name}: ${describeError(error)}`}`);
    }
    const inEffectSays =
        inEffect.length === 0
            ? `version ${defaultVersion} says what this stack sets`
            : `version ${defaultVersion} differs from what this stack sets: ${listed(inEffect)}`;
    if (!lags) {
        if (inEffect.length === 0) return pass(id, title, `${versions}, and says what this stack sets`);
        return fail(
            id,
            title,
            `${versions}, and differs from what this stack sets: ${listed(inEffect)}. Edited outside Pulumi (the console's Preferences page writes this document), or not deployed: pulumi up`,
        );
    }
    if (latest.length === 0)
        return fail(
            id,
            title,
            `${versions}; ${inEffectSays}; version ${latestVersion} says what this stack sets: make it the default: ${remedy(latestVersion)}`,
        );
    if (inEffect.length === 0) return fail(id, title, `${versions}; ${inEffectSays}; version ${latestVersion}, not in effect, differs: ${listed(latest)}`);
    return fail(
        id,
        title,
        `${versions}; ${inEffectSays}; version ${latestVersion} differs too: ${listed(latest)}. Run pulumi up, then make the version it makes the default: ${remedy("<the new LatestVersion>")}`,
    );
}

/** A document version's content that is not the JSON expected. */
class ContentError extends Error {}

async function documentContent(ssm: SSMClient, name: string, version: string): Promise<unknown> {
    const answer = await ssm.send(new GetDocumentCommand({ Name: name, DocumentVersion: version, DocumentFormat: "JSON" }));
    try {
        return JSON.parse(answer.Content ?? "");
    } catch {
        throw new ContentError(`ssm:GetDocument ${name} version ${version} answered content that is not JSON`);
    }
}

/** Where `actual` (what AWS holds) differs from `expected` (what the program produces): "path: AWS has X, the program Y". */
export function jsonDifferences(actual: unknown, expected: unknown, path = ""): string[] {
    const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);
    if (isObject(actual) && isObject(expected)) {
        const keys = [...Object.keys(expected), ...Object.keys(actual).filter((key) => !(key in expected))];
        return keys.flatMap((key) => jsonDifferences(actual[key], expected[key], path === "" ? key : `${path}.${key}`));
    }
    if (Array.isArray(actual) && Array.isArray(expected) && actual.length === expected.length) {
        return expected.flatMap((item, i) => jsonDifferences(actual[i], item, `${path}[${i}]`));
    }
    if (JSON.stringify(actual) === JSON.stringify(expected)) return [];
    const shown = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value).slice(0, 80));
    return [`${path === "" ? "the whole document" : path}: AWS has ${shown(actual)}, the program ${shown(expected)}`];
}

/** The first few differences, and how many more. */
function listed(differences: string[], limit = 4): string {
    const more = differences.length > limit ? `; and ${differences.length - limit} more` : "";
    return `${differences.slice(0, limit).join("; ")}${more}`;
}

// ---------------------------------------------------------------------------
// Interface endpoint policies

/** Endpoint states in which an endpoint no longer carries traffic. */
const GONE_STATES = new Set(["deleting", "deleted", "rejected", "failed", "expired"]);

/**
 * The program gives an interface endpoint its policy (only this account's principals)
 * exactly when AWS says the service supports endpoint policies, asked at deploy; AWS
 * allows full access through the others ("Control access to VPC endpoints using endpoint
 * policies", AWS PrivateLink Guide). Asked again now (ec2:DescribeVpcEndpointServices,
 * `VpcEndpointPolicySupported`: "View endpoint policy support", same guide), and compared
 * with each endpoint as it is (ec2:DescribeVpcEndpoints, `PolicyDocument`).
 */
export async function endpointPolicies(reader: YoursReader, stack: { accountId: string; vpcId?: string; serviceNames?: string[] }): Promise<CheckResult> {
    const id = "endpointPolicies";
    const title = CHECKS.endpointPolicies;
    if (stack.serviceNames === undefined) {
        return skipped(id, title, "the yours stack has no output interfaceEndpointServiceNames (run pulumi up with this version of the program)");
    }
    if (stack.serviceNames.length === 0 || stack.vpcId === undefined) {
        return skipped(id, title, "the yours stack made no interface endpoints (a network of your own, or no instances): none of its to check");
    }
    const ec2 = reader.clients.ec2(reader.region, reader.credentials);
    let supported: Map<string, boolean>;
    try {
        const answer = await ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: stack.serviceNames }));
        supported = new Map((answer.ServiceDetails ?? []).map((detail) => [detail.ServiceName ?? "", detail.VpcEndpointPolicySupported === true]));
    } catch (error) {
        return fail(id, title, `ec2:DescribeVpcEndpointServices as the yours profile: ${describeError(error)}`);
    }
    let endpoints: VpcEndpoint[];
    try {
        endpoints = await vpcEndpoints(ec2, stack.vpcId);
    } catch (error) {
        return fail(id, title, `ec2:DescribeVpcEndpoints in ${stack.vpcId} as the yours profile: ${describeError(error)}`);
    }

    const programPolicy = interfaceEndpointPolicy({ accountId: stack.accountId });
    const restricted: string[] = [];
    const open: string[] = [];
    const problems: string[] = [];
    for (const serviceName of stack.serviceNames) {
        const inRegion = serviceName.indexOf(`.${reader.region}.`);
        const service = inRegion < 0 ? serviceName : serviceName.slice(inRegion + reader.region.length + 2);
        const endpoint = endpoints.find(
            (e) => e.ServiceName === serviceName && e.VpcEndpointType?.toLowerCase() === "interface" && !GONE_STATES.has(e.State?.toLowerCase() ?? ""),
        );
        if (!supported.has(serviceName)) {
            problems.push(`${service}: AWS lists no endpoint service ${serviceName} in ${reader.region}`);
            continue;
        }
        if (endpoint === undefined) {
            problems.push(`${service}: no interface endpoint for ${serviceName} in ${stack.vpcId}`);
            continue;
        }
        const policy = parsePolicy(endpoint.PolicyDocument);
        const isProgramPolicy = policy !== undefined && jsonDifferences(policy, programPolicy).length === 0;
        const named = `${service} (${endpoint.VpcEndpointId})`;
        if (supported.get(serviceName)) {
            if (isProgramPolicy) restricted.push(service);
            else if (policy === undefined || isFullAccess(policy))
                problems.push(
                    `${named}: AWS's default full-access policy, though AWS says ${service} supports endpoint policies (run pulumi up: the program asks AWS at deploy)`,
                );
            else problems.push(`${named}: a policy that is not the program's: ${listed(jsonDifferences(policy, programPolicy), 2)}`);
        } else if (isProgramPolicy) {
            problems.push(`${named}: carries the program's policy, but AWS says ${service} supports no endpoint policy, so it restricts nothing`);
        } else {
            open.push(service);
        }
    }
    const openNote =
        open.length === 0
            ? ""
            : `; open to principals of any account: ${open.join(", ")} (AWS says these support no endpoint policy, VpcEndpointPolicySupported false; only IAM and the security groups limit them)`;
    if (problems.length > 0) return fail(id, title, `${problems.join("; ")}${openNote}`);
    const restrictedNote = restricted.length === 0 ? "no endpoint takes a policy" : `${restricted.join(", ")}: only principals of account ${stack.accountId}`;
    return pass(id, title, `${restrictedNote}${openNote}`);
}

/** Pages of ec2:DescribeVpcEndpoints in one VPC, bounded. */
async function vpcEndpoints(ec2: EC2Client, vpcId: string): Promise<VpcEndpoint[]> {
    const endpoints: VpcEndpoint[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
        const answer = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }], NextToken: token, MaxResults: 1000 }));
        endpoints.push(...(answer.VpcEndpoints ?? []));
        token = answer.NextToken;
        if (!token) break;
    }
    return endpoints;
}

/** An endpoint's policy document: JSON, or URL-encoded JSON; undefined when there is none or it cannot be read. */
function parsePolicy(document: string | undefined): unknown {
    if (!document) return undefined;
    for (const text of [document, safeDecode(document)]) {
        try {
            return JSON.parse(text);
        } catch {
            // try the next reading
        }
    }
    return undefined;
}

function safeDecode(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

/** AWS's default endpoint policy: one statement allowing everything to everyone. */
function isFullAccess(policy: unknown): boolean {
    const statements = (policy as { Statement?: unknown } | null)?.Statement;
    const list = Array.isArray(statements) ? statements : [statements];
    return list.length === 1 && jsonDifferences(list[0], { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }).length === 0;
}

// ---------------------------------------------------------------------------
// Alert delivery

const MINUTE_MS = 60_000;

export interface AlertWait {
    now(): number;
    sleep(ms: number): Promise<void>;
    /** How long after the session started to wait for the alert, and between looks. */
    timeoutMs: number;
    pollMs: number;
}

/**
 * The alert rule's own metrics (namespace AWS/Events, dimension RuleName, per minute:
 * "Monitoring Amazon EventBridge", EventBridge User Guide) from the minute the session
 * started: `Invocations` counts every delivery to the topic, failed ones included;
 * `FailedInvocations` the permanent failures (a topic key KMS refuses EventBridge). Both
 * are sent only when not zero, and CloudTrail takes minutes to hand the session's events
 * to EventBridge, so the check looks every `pollMs` until the timeout. One GetMetricData
 * per look reads both, at one instant.
 */
export async function alertDelivered(
    reader: YoursReader,
    wait: AlertWait,
    stack: { topicArn?: string; ruleName?: string; sessionStartedAt: number },
): Promise<CheckResult> {
    const id = "alertDelivered";
    const title = CHECKS.alertDelivered;
    if (stack.topicArn === undefined) return skipped(id, title, "alerts are off in the yours stack (alerts.enabled false: output alertTopicArn is null)");
    const rule = stack.ruleName;
    if (rule === undefined) return skipped(id, title, "the yours stack has no output alertRuleName (run pulumi up with this version of the program)");
    const cloudwatch = reader.clients.cloudwatch(reader.region, reader.credentials);
    // CloudWatch rounds a recent StartTime down to the minute anyway ("GetMetricData", CloudWatch API Reference).
    const from = Math.floor(stack.sessionStartedAt / MINUTE_MS) * MINUTE_MS;
    const deadline = stack.sessionStartedAt + wait.timeoutMs;
    const since = `since ${new Date(from).toISOString()}`;
    for (;;) {
        let sums: { invocations: number; failed: number };
        try {
            sums = await ruleMetrics(cloudwatch, rule, from, wait.now());
        } catch (error) {
            return fail(id, title, `cloudwatch:GetMetricData (AWS/Events, rule ${rule}) as the yours profile: ${describeError(error)}`);
        }
        if (sums.failed > 0) {
            return fail(
                id,
                title,
                `rule ${rule}: FailedInvocations ${sums.failed} (Invocations ${sums.invocations}) ${since}: EventBridge could not publish to ${stack.topicArn}, ` +
                    "so nobody was alerted (a topic key whose policy KMS refuses EventBridge is the known cause)",
            );
        }
        if (sums.invocations > 0) return pass(id, title, `rule ${rule}: Invocations ${sums.invocations}, FailedInvocations 0 ${since}, to ${stack.topicArn}`);
        if (wait.now() >= deadline) break;
        await wait.sleep(Math.min(wait.pollMs, Math.max(0, deadline - wait.now())));
    }
    return fail(
        id,
        title,
        `rule ${rule}: no Invocations ${since}, ${Math.round(wait.timeoutMs / 1000)} s after the session started: no alert went out. ` +
            `The rule sees StartSession only through CloudTrail: a trail logging management events in ${reader.region} is needed`,
    );
}

/** Sums of the rule's Invocations and FailedInvocations from `from` to the end of the current minute. */
async function ruleMetrics(cloudwatch: CloudWatchClient, rule: string, from: number, now: number): Promise<{ invocations: number; failed: number }> {
    const metric = (queryId: string, metricName: string) => ({
        Id: queryId,
        MetricStat: {
            Metric: { Namespace: "AWS/Events", MetricName: metricName, Dimensions: [{ Name: "RuleName", Value: rule }] },
            Period: 60,
            Stat: "Sum",
        },
        ReturnData: true,
    });
    const sums = { invocations: 0, failed: 0 };
    let token: string | undefined;
    for (let page = 0; page < 5; page++) {
        const answer = await cloudwatch.send(
            new GetMetricDataCommand({
                MetricDataQueries: [metric("invocations", "Invocations"), metric("failed", "FailedInvocations")],
                StartTime: new Date(from),
                EndTime: new Date(Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS),
                ScanBy: "TimestampAscending",
                NextToken: token,
            }),
        );
        for (const result of answer.MetricDataResults ?? []) {
            const total = (result.Values ?? []).reduce((sum, value) => sum + value, 0);
            if (result.Id === "invocations") sums.invocations += total;
            if (result.Id === "failed") sums.failed += total;
        }
        token = answer.NextToken;
        if (!token) break;
    }
    return sums;
}
