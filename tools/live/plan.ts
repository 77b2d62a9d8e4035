// The blog post's test plan, run against deployed stacks with the AWS SDK v3: what the
// deployment is (the preferences in effect, the endpoint policies AWS applies), the role
// chain (jump role with a source identity, grant role with the external id), a session
// on the partner's own instance ended at once with the metadata probe typed into it, the
// refusals (another partner's instance, an untagged one, no session document, port
// forwarding, Run Command, the audit log), the session's log stream arriving in
// CloudWatch Logs, and its alert delivered to the alert topic.
//
// It changes nothing that persists: it reads, assumes roles, and opens sessions it
// terminates itself. A refusal is a pass only when AWS answers AccessDenied(Exception);
// an unexpected success is a fail, and any session it opened is terminated at once.

import { DescribeLogStreamsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeInstancesCommand, type EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { CancelCommandCommand, SendCommandCommand, StartSessionCommand, TerminateSessionCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, type AssumeRoleCommandOutput, type STSClient } from "@aws-sdk/client-sts";
import { AWS_SESSION_DOCUMENTS, RUN_AS_TAG_KEY, RUN_SHELL_SCRIPT_DOCUMENT, SESSION_PREFERENCES_DOCUMENT, personOsUser } from "../../components/constants";
import type { SessionPreferenceValues } from "../../components/session-preferences";
import { assumedCredentials, parseArn, type AwsClients, type Credentials, type CredentialsProvider } from "./aws";
import { CHECKS, type CheckId } from "./checks";
import { alertDelivered, endpointPolicies, preferencesInEffect, type YoursReader } from "./deployment";
import { pluginSummary, type PluginOutcome, type PluginRunner } from "./plugin";
import { judgeProbe, METADATA_PROBE, PROBE_ANSWER } from "./probe";
import { SOMEONE_ELSE } from "../iam/probes";
import type { GrantOutput } from "./stacks";
import { describeError, fail, isRefusal, pass, skipped, type CheckResult } from "./verdicts";

/** AWS documents the check tries, and must be refused. */
export const RUN_COMMAND_DOCUMENT = RUN_SHELL_SCRIPT_DOCUMENT;
export const PORT_FORWARDING_DOCUMENT = AWS_SESSION_DOCUMENTS.portForwarding;

/** The shortest credentials STS issues: the check needs minutes. */
const CREDENTIALS_SECONDS = 900;
const SESSION_REASON = "npm run verify:live: started and terminated at once";

export { CHECKS, type CheckId } from "./checks";

/** Everything the plan runs against, resolved from the stacks and the profiles. */
export interface PlanInput {
    partner: string;
    /** The person's name: role session name and source identity along the chain. */
    person: string;
    yoursAccount: string;
    yoursRegion: string;
    theirRegion: string;
    yoursCredentials: CredentialsProvider;
    partnerCredentials: CredentialsProvider;
    accessTagKey: string;
    sessionLogGroupName: string;
    jumpRoleArn: string;
    /** The grant role ARN the their stack uses, when its outputs say. */
    theirGrantRoleArn?: string;
    grant: GrantOutput;
    /** Instance ids of the other partners' grants. */
    otherPartnerInstanceIds: string[];
    /** Instance ids the yours stack launched, by name. */
    stackInstanceIds: Record<string, string>;
    /** Given on the command line. */
    instance?: string;
    otherInstance?: string;
    untaggedInstance?: string;
    /** The Session Manager preferences document, and what it should say (undefined when the stack's outputs do not say). */
    preferencesDocument: string;
    preferences?: SessionPreferenceValues;
    /** The alert topic (undefined with alerts off) and the rule feeding it. */
    alertTopicArn?: string;
    alertRuleName?: string;
    /** The VPC and the service names of the interface endpoints the yours stack made there. */
    vpcId?: string;
    interfaceEndpointServiceNames?: string[];
}

export interface PlanDeps {
    clients: AwsClients;
    /** Milliseconds since the epoch; injectable so tests never wait. */
    now(): number;
    sleep(ms: number): Promise<void>;
    /** How long to wait for the session's log stream, and between looks. */
    logTimeoutMs: number;
    logPollMs: number;
    /** How long after the session started to wait for the alert rule's metrics, and between looks. */
    alertTimeoutMs: number;
    alertPollMs: number;
    /** session-manager-plugin to open the session's data channel, when one is used. */
    plugin?: { path: string; run: PluginRunner; timeoutMs: number };
    /** Progress lines (stderr). */
    progress(line: string): void;
}

/** The session the plan opened on the partner's own instance. */
interface OwnSession {
    id: string;
    /** When StartSession was sent: alerts are looked for from then. */
    startedAt: number;
    plugin?: PluginOutcome;
}

/** Runs every check in order and returns one result per check. */
export async function runPlan(input: PlanInput, deps: PlanDeps): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    const record = (result: CheckResult) => {
        results.push(result);
        deps.progress(`${result.verdict.padEnd(7)} ${result.title}`);
        return result;
    };
    const { clients } = deps;
    const partnerSts = clients.sts(input.theirRegion, input.partnerCredentials);
    const document = input.grant.sessionDocument ?? SESSION_PREFERENCES_DOCUMENT;

    record(stacksAgree(input));

    // What the deployment is, read with the yours profile: needs nothing from the role chain.
    const yours: YoursReader = { clients, region: input.yoursRegion, credentials: input.yoursCredentials };
    record(await preferencesInEffect(yours, input.preferencesDocument, input.preferences));
    record(await endpointPolicies(yours, { accountId: input.yoursAccount, vpcId: input.vpcId, serviceNames: input.interfaceEndpointServiceNames }));

    // The role chain, as the partner's AWS CLI profile does it. Each refusal is tried only
    // once the same role was assumed with the right values: STS also answers AccessDenied
    // for a role that does not exist, and that refusal would prove nothing.
    const jump = await assumeJumpRole(input, partnerSts);
    record(jump.result);
    const jumpCredentials = jump.credentials;
    if (jumpCredentials) {
        record(
            await expectRefused("jumpOtherName", () =>
                partnerSts.send(
                    new AssumeRoleCommand({
                        RoleArn: input.jumpRoleArn,
                        RoleSessionName: otherName(input.person),
                        SourceIdentity: input.person,
                        DurationSeconds: CREDENTIALS_SECONDS,
                    }),
                ),
            ),
        );
    } else {
        record(skipped("jumpOtherName", CHECKS.jumpOtherName, "a refusal proves nothing while the jump role cannot be assumed as the person either"));
    }

    const jumpSts = jumpCredentials ? clients.sts(input.yoursRegion, jumpCredentials) : undefined;
    // Per-person Run As: the session is tagged with the person's own OS user, as their profile does (null: no tag).
    const ownRunAs = runAsOfPerson(input);
    const assumeGrant = (sts: STSClient, externalId: string | undefined, runAs: string | null | undefined = ownRunAs) =>
        sts.send(
            new AssumeRoleCommand({
                // The source identity set on the jump role carries along the chain; the grant requires the session name to equal it.
                RoleArn: input.grant.roleArn,
                RoleSessionName: input.person,
                ExternalId: externalId,
                DurationSeconds: CREDENTIALS_SECONDS,
                ...(runAs === undefined || runAs === null ? {} : { Tags: [{ Key: RUN_AS_TAG_KEY, Value: runAs }] }),
            }),
        );
    const needJump = (id: CheckId) => skipped(id, CHECKS[id], `needs the jump role's credentials (${CHECKS.jumpRole}: ${jump.result.verdict})`);

    let grantCredentials: Credentials | undefined;
    if (jumpSts) {
        const grant = await assumeGrantRole(input, deps, () => assumeGrant(jumpSts, input.grant.externalId), clients);
        record(grant.result);
        grantCredentials = grant.credentials;
        for (const [id, externalId] of [
            ["grantNoExternalId", undefined],
            ["grantWrongExternalId", wrongExternalId(input.grant.externalId)],
        ] as const) {
            record(
                grantCredentials
                    ? await expectRefused(id, () => assumeGrant(jumpSts, externalId))
                    : skipped(id, CHECKS[id], "a refusal proves nothing while the grant role cannot be assumed with the external id either"),
            );
        }
        // Per person: with the external id and the person's name right, only the Run As tag wrong.
        if (ownRunAs !== undefined)
            for (const [id, runAs] of [
                ["grantOtherPersonRunAs", anotherPersonsOsUser(input)],
                ["grantNoRunAsTag", null],
            ] as const)
                record(
                    grantCredentials
                        ? await expectRefused(id, () => assumeGrant(jumpSts, input.grant.externalId, runAs))
                        : skipped(id, CHECKS[id], "a refusal proves nothing while the grant role cannot be assumed with the person's own tag either"),
                );
    } else {
        for (const id of ["grantRole", "grantNoExternalId", "grantWrongExternalId"] as const) record(needJump(id));
    }

    const remaining: CheckId[] = [
        "listInstances",
        "sessionOwn",
        "metadataRefused",
        "sessionOtherPartner",
        "sessionUntagged",
        "sessionNoDocument",
        "portForwarding",
        "runCommand",
        "grantReadsLogs",
        "logStream",
        "alertDelivered",
    ];
    if (!grantCredentials) {
        const why = jumpCredentials ? `needs the grant role's credentials (${CHECKS.grantRole}: fail)` : "needs the jump role's credentials";
        for (const id of remaining) record(skipped(id, CHECKS[id], why));
        return results;
    }

    const grantSsm = clients.ssm(input.yoursRegion, grantCredentials);
    const listed = await listInstances(input, clients.ec2(input.yoursRegion, grantCredentials));
    record(listed.result);
    // A running instance of the grant's when there is one: a session needs a connected agent.
    const own = input.instance ?? listed.instanceIds.find((id) => input.grant.instanceIds.includes(id)) ?? input.grant.instanceIds[0] ?? listed.instanceIds[0];
    const needOwn = (id: CheckId) =>
        skipped(id, CHECKS[id], `no instance tagged ${input.accessTagKey}=${input.partner} known: give --instance <id>, or launch one for the partner`);

    let session: OwnSession | undefined;
    // Whether IAM refused the allowed session too: then every session refusal proves nothing.
    let ownRefused = false;
    if (own === undefined) {
        record(needOwn("sessionOwn"));
        record(needOwn("metadataRefused"));
    } else {
        const opened = await openAndEndOwnSession(input, deps, grantSsm, grantCredentials, own, document);
        record(opened.result);
        session = opened.session;
        ownRefused = opened.refused;
        record(metadataRefused(input, deps, session));
    }

    const yoursEc2 = clients.ec2(input.yoursRegion, input.yoursCredentials);
    const endUnexpected = (answer: { SessionId?: string }) => terminate(grantSsm, answer.SessionId);
    const sessionRefused = async (id: CheckId, target: string, documentName: string | undefined, what: string, parameters?: Record<string, string[]>) => {
        const result = await expectRefused(
            id,
            () => grantSsm.send(new StartSessionCommand({ Target: target, DocumentName: documentName, Parameters: parameters, Reason: SESSION_REASON })),
            endUnexpected,
            what,
        );
        if (result.verdict !== "pass") return result;
        if (ownRefused) return skipped(id, CHECKS[id], `${result.detail}; proves nothing: the session on the partner's own instance was refused too`);
        if (own === undefined) return { ...result, detail: `${result.detail} (no allowed session to compare with)` };
        return result;
    };

    const other = await otherPartnerInstance(input, yoursEc2);
    record(
        other.instanceId ? await sessionRefused("sessionOtherPartner", other.instanceId, document, `on ${other.instanceId} (${other.how})`) : other.problem!,
    );

    const untagged = await untaggedInstance(input, yoursEc2);
    record(
        untagged.instanceId
            ? await sessionRefused("sessionUntagged", untagged.instanceId, document, `on ${untagged.instanceId} (${untagged.how})`)
            : untagged.problem!,
    );

    if (own === undefined) {
        for (const id of ["sessionNoDocument", "portForwarding", "runCommand"] as const) record(needOwn(id));
    } else {
        // On the partner's own instance, so that only the document or the action can be what is refused.
        record(await sessionRefused("sessionNoDocument", own, undefined, `on ${own}`));
        record(await sessionRefused("portForwarding", own, PORT_FORWARDING_DOCUMENT, `${PORT_FORWARDING_DOCUMENT} on ${own}`, { portNumber: ["22"] }));
        record(
            await expectRefused(
                "runCommand",
                () =>
                    grantSsm.send(
                        new SendCommandCommand({
                            InstanceIds: [own],
                            DocumentName: RUN_COMMAND_DOCUMENT,
                            Parameters: { commands: ["true"] },
                            Comment: "npm run verify:live: must be refused",
                        }),
                    ),
                (answer) => cancelCommand(grantSsm, answer.Command?.CommandId),
                `${RUN_COMMAND_DOCUMENT} on ${own}`,
            ),
        );
    }

    record(
        await expectRefused(
            "grantReadsLogs",
            () => clients.logs(input.yoursRegion, grantCredentials).send(new DescribeLogStreamsCommand({ logGroupName: input.sessionLogGroupName, limit: 1 })),
            undefined,
            input.sessionLogGroupName,
        ),
    );

    record(
        session
            ? await logStreamArrives(input, deps, session)
            : skipped("logStream", CHECKS.logStream, "no session was opened, so there is no stream to wait for"),
    );
    record(
        session
            ? await alertDelivered(
                  yours,
                  { now: deps.now, sleep: deps.sleep, timeoutMs: deps.alertTimeoutMs, pollMs: deps.alertPollMs },
                  { topicArn: input.alertTopicArn, ruleName: input.alertRuleName, sessionStartedAt: session.startedAt },
              )
            : skipped("alertDelivered", CHECKS.alertDelivered, "no session was opened, so there is no alert to wait for"),
    );
    return results;
}

// ---------------------------------------------------------------------------
// The checks

function stacksAgree(input: PlanInput): CheckResult {
    const { stacksAgree: title } = CHECKS;
    if (input.theirGrantRoleArn === undefined) return skipped("stacksAgree", title, "the their stack's outputs have no grantRoleArn");
    return input.theirGrantRoleArn === input.grant.roleArn
        ? pass("stacksAgree", title, input.grant.roleArn)
        : fail("stacksAgree", title, `their stack uses ${input.theirGrantRoleArn}, the yours stack's grant for ${input.partner} is ${input.grant.roleArn}`);
}

async function assumeJumpRole(input: PlanInput, partnerSts: STSClient): Promise<{ result: CheckResult; credentials?: Credentials }> {
    const title = CHECKS.jumpRole;
    try {
        const answer = await partnerSts.send(
            new AssumeRoleCommand({
                RoleArn: input.jumpRoleArn,
                RoleSessionName: input.person,
                SourceIdentity: input.person,
                DurationSeconds: CREDENTIALS_SECONDS,
            }),
        );
        const credentials = assumedCredentials(answer.Credentials);
        if (!credentials) return { result: fail("jumpRole", title, "sts:AssumeRole answered without credentials") };
        if (answer.SourceIdentity !== undefined && answer.SourceIdentity !== input.person) {
            return { result: fail("jumpRole", title, `source identity is ${answer.SourceIdentity}, expected ${input.person}`) };
        }
        return { result: pass("jumpRole", title, `${answer.AssumedRoleUser?.Arn ?? input.jumpRoleArn}, source identity ${input.person}`), credentials };
    } catch (error) {
        return { result: fail("jumpRole", title, `${input.jumpRoleArn} as ${input.person}: ${describeError(error)}`) };
    }
}

async function assumeGrantRole(
    input: PlanInput,
    deps: PlanDeps,
    assume: () => Promise<AssumeRoleCommandOutput>,
    clients: AwsClients,
): Promise<{ result: CheckResult; credentials?: Credentials }> {
    const title = CHECKS.grantRole;
    const expired =
        input.grant.expiresAt !== undefined && Date.parse(input.grant.expiresAt) <= deps.now() ? ` (the grant expired at ${input.grant.expiresAt})` : "";
    let credentials: Credentials | undefined;
    let sourceIdentity: string | undefined;
    try {
        const answer = await assume();
        credentials = assumedCredentials(answer.Credentials);
        sourceIdentity = answer.SourceIdentity;
    } catch (error) {
        return { result: fail("grantRole", title, `${input.grant.roleArn}: ${describeError(error)}${expired}`) };
    }
    if (!credentials) return { result: fail("grantRole", title, "sts:AssumeRole answered without credentials") };
    if (sourceIdentity !== undefined && sourceIdentity !== input.person) {
        return { result: fail("grantRole", title, `source identity is ${sourceIdentity}, expected ${input.person}`) };
    }
    // The session name is what Session Manager names sessions after (${aws:userid} is ROLEID:session-name).
    let arn: string | undefined;
    try {
        arn = (await clients.sts(input.yoursRegion, credentials).send(new GetCallerIdentityCommand({}))).Arn;
    } catch (error) {
        return { result: fail("grantRole", title, `assumed, but sts:GetCallerIdentity with its credentials failed: ${describeError(error)}`) };
    }
    const parsed = arn === undefined ? undefined : parseArn(arn);
    const [kind, roleName, sessionName] = parsed?.resource.split("/") ?? [];
    const expectedRole = parseArn(input.grant.roleArn)?.resource.split("/").pop();
    if (parsed?.account !== input.yoursAccount || kind !== "assumed-role" || roleName !== expectedRole || sessionName !== input.person) {
        return {
            result: fail(
                "grantRole",
                title,
                `caller is ${arn ?? "unknown"}; expected assumed-role/${expectedRole}/${input.person} in account ${input.yoursAccount}`,
            ),
        };
    }
    return { result: pass("grantRole", title, `${arn}${sourceIdentity ? `, source identity ${sourceIdentity}` : ""}`), credentials };
}

async function listInstances(input: PlanInput, grantEc2: EC2Client): Promise<{ result: CheckResult; instanceIds: string[] }> {
    const title = CHECKS.listInstances;
    let instances: Instance[];
    try {
        instances = await describeAll(grantEc2, [{ Name: `tag:${input.accessTagKey}`, Values: [input.partner] }]);
    } catch (error) {
        return { result: fail("listInstances", title, `ec2:DescribeInstances: ${describeError(error)}`), instanceIds: [] };
    }
    const live = instances.filter((i) => i.State?.Name !== "terminated" && i.InstanceId);
    // Running ones first: a session needs a connected agent.
    const instanceIds = [...live.filter((i) => i.State?.Name === "running"), ...live.filter((i) => i.State?.Name !== "running")].map((i) => i.InstanceId!);
    const missing = input.grant.instanceIds.filter((id) => !instanceIds.includes(id));
    if (missing.length > 0) return { result: fail("listInstances", title, `the grant's instances ${missing.join(", ")} are not listed`), instanceIds };
    if (instanceIds.length === 0) {
        return { result: skipped("listInstances", title, `no instance tagged ${input.accessTagKey}=${input.partner} in ${input.yoursRegion}`), instanceIds };
    }
    return { result: pass("listInstances", title, `${instanceIds.length} listed: ${instanceIds.join(", ")}`), instanceIds };
}

async function openAndEndOwnSession(
    input: PlanInput,
    deps: PlanDeps,
    grantSsm: SSMClient,
    grantCredentials: Credentials,
    target: string,
    documentName: string,
): Promise<{ result: CheckResult; session?: OwnSession; refused: boolean }> {
    const title = CHECKS.sessionOwn;
    const startedAt = deps.now();
    let answer;
    try {
        answer = await grantSsm.send(new StartSessionCommand({ Target: target, DocumentName: documentName, Reason: SESSION_REASON }));
    } catch (error) {
        return { result: fail("sessionOwn", title, `ssm:StartSession on ${target} with ${documentName}: ${describeError(error)}`), refused: isRefusal(error) };
    }
    const sessionId = answer.SessionId;
    if (!sessionId) return { result: fail("sessionOwn", title, `ssm:StartSession on ${target} answered without a session id`), refused: false };
    let outcome: PluginOutcome | undefined;
    let terminated = "";
    try {
        if (deps.plugin && answer.StreamUrl && answer.TokenValue) {
            outcome = await deps.plugin
                .run(deps.plugin.path, {
                    sessionId,
                    streamUrl: answer.StreamUrl,
                    tokenValue: answer.TokenValue,
                    target,
                    documentName,
                    region: input.yoursRegion,
                    endpoint: ssmEndpoint(grantSsm, input.yoursRegion),
                    credentials: grantCredentials,
                    // Typed into the partner's shell: the metadata probe, ending with `exit` (the session ends from inside).
                    input: METADATA_PROBE,
                    endInputWhen: PROBE_ANSWER,
                    timeoutMs: deps.plugin.timeoutMs,
                })
                .catch((error: unknown) => ({ exitCode: null, timedOut: false, stderr: describeError(error), stdout: "" }));
        }
    } finally {
        // Whatever happened above: the session must not outlive the check.
        terminated = await terminate(grantSsm, sessionId);
    }
    const pluginNote = outcome ? `; session-manager-plugin ${pluginSummary(outcome)}` : "";
    const session = { id: sessionId, startedAt, plugin: outcome };
    if (!terminated.startsWith("terminated")) {
        return { result: fail("sessionOwn", title, `session ${sessionId} on ${target} started${pluginNote}, but ${terminated}`), session, refused: false };
    }
    return { result: pass("sessionOwn", title, `session ${sessionId} on ${target} with ${documentName}${pluginNote}; ${terminated}`), session, refused: false };
}

/** The metadata probe's verdict: it runs only where session-manager-plugin opened the session's data channel. */
function metadataRefused(input: PlanInput, deps: PlanDeps, session: OwnSession | undefined): CheckResult {
    const title = CHECKS.metadataRefused;
    if (session === undefined) return skipped("metadataRefused", title, "no session was opened, so there is no shell to probe from");
    if (!deps.plugin) {
        return skipped(
            "metadataRefused",
            title,
            "needs session-manager-plugin: the probe is typed into the session's shell (no session-manager-plugin on PATH, or --no-plugin)",
        );
    }
    if (!session.plugin) return fail("metadataRefused", title, "ssm:StartSession answered without a stream URL or token: no probe could be typed");
    return judgeProbe(session.plugin, runAsOfPerson(input) ?? input.grant.runAsUser);
}

async function logStreamArrives(input: PlanInput, deps: PlanDeps, session: OwnSession): Promise<CheckResult> {
    const title = CHECKS.logStream;
    const logs = deps.clients.logs(input.yoursRegion, input.yoursCredentials);
    const deadline = deps.now() + deps.logTimeoutMs;
    for (;;) {
        let names: string[];
        try {
            const answer = await logs.send(new DescribeLogStreamsCommand({ logGroupName: input.sessionLogGroupName, logStreamNamePrefix: session.id }));
            names = (answer.logStreams ?? []).map((s) => s.logStreamName ?? "");
        } catch (error) {
            return fail("logStream", title, `logs:DescribeLogStreams on ${input.sessionLogGroupName} as the yours profile: ${describeError(error)}`);
        }
        // The SSM agent names a session's stream after the session id.
        const stream = names.find((name) => name === session.id) ?? names.find((name) => name.startsWith(session.id));
        if (stream !== undefined) return pass("logStream", title, `stream ${stream} in ${input.sessionLogGroupName}`);
        if (deps.now() >= deadline) break;
        await deps.sleep(Math.min(deps.logPollMs, Math.max(0, deadline - deps.now())));
    }
    const waited = `no stream named ${session.id} in ${input.sessionLogGroupName} after ${Math.round(deps.logTimeoutMs / 1000)} s`;
    if (!deps.plugin) {
        return skipped(
            "logStream",
            title,
            `needs session-manager-plugin: ${waited}. The SSM agent creates a session's stream only once the session has output, ` +
                "and no client opened this session's data channel (no session-manager-plugin on PATH, or --no-plugin)",
        );
    }
    const plugin = session.plugin ? `; session-manager-plugin ${pluginSummary(session.plugin)}` : "; session-manager-plugin was not run (no stream URL)";
    return fail("logStream", title, `${waited}${plugin}`);
}

// ---------------------------------------------------------------------------
// Finding instances to be refused on

interface FoundInstance {
    instanceId?: string;
    how?: string;
    /** The check's result when no instance could be had. */
    problem?: CheckResult;
}

async function otherPartnerInstance(input: PlanInput, yoursEc2: EC2Client): Promise<FoundInstance> {
    if (input.otherInstance) return { instanceId: input.otherInstance, how: "--other-instance" };
    const fromGrants = input.otherPartnerInstanceIds[0];
    if (fromGrants) return { instanceId: fromGrants, how: "another partner's grant" };
    const title = CHECKS.sessionOtherPartner;
    try {
        const tagged = await describeAll(yoursEc2, [{ Name: "tag-key", Values: [input.accessTagKey] }]);
        const found = tagged.find((i) => i.State?.Name !== "terminated" && tagValue(i, input.accessTagKey) !== input.partner);
        if (found?.InstanceId) return { instanceId: found.InstanceId, how: `tagged ${input.accessTagKey}=${tagValue(found, input.accessTagKey)}` };
    } catch (error) {
        return {
            problem: fail("sessionOtherPartner", title, `could not look for one with the yours profile (ec2:DescribeInstances): ${describeError(error)}`),
        };
    }
    return { problem: skipped("sessionOtherPartner", title, `no instance tagged for another partner in ${input.yoursRegion}: give --other-instance <id>`) };
}

async function untaggedInstance(input: PlanInput, yoursEc2: EC2Client): Promise<FoundInstance> {
    if (input.untaggedInstance) return { instanceId: input.untaggedInstance, how: "--untagged-instance" };
    const title = CHECKS.sessionUntagged;
    try {
        const all = await describeAll(yoursEc2, [{ Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] }]);
        const untagged = all.filter((i) => i.InstanceId && tagValue(i, input.accessTagKey) === undefined);
        // One this stack launched when there is one, else any.
        const ours = new Set(Object.values(input.stackInstanceIds));
        const found = untagged.find((i) => ours.has(i.InstanceId!)) ?? untagged[0];
        if (found?.InstanceId) return { instanceId: found.InstanceId, how: `no ${input.accessTagKey} tag` };
    } catch (error) {
        return { problem: fail("sessionUntagged", title, `could not look for one with the yours profile (ec2:DescribeInstances): ${describeError(error)}`) };
    }
    return {
        problem: skipped("sessionUntagged", title, `no instance without a ${input.accessTagKey} tag in ${input.yoursRegion}: give --untagged-instance <id>`),
    };
}

/** Pages of ec2:DescribeInstances, bounded: the check needs one instance, not an inventory. */
async function describeAll(ec2: EC2Client, filters: Array<{ Name: string; Values: string[] }>): Promise<Instance[]> {
    const instances: Instance[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
        const answer = await ec2.send(new DescribeInstancesCommand({ Filters: filters, NextToken: token, MaxResults: 1000 }));
        for (const reservation of answer.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
        token = answer.NextToken;
        if (!token) break;
    }
    return instances;
}

function tagValue(instance: Instance, key: string): string | undefined {
    return instance.Tags?.find((t) => t.Key === key)?.Value;
}

// ---------------------------------------------------------------------------
// Helpers

/**
 * A request that must be refused. AccessDenied(Exception) passes; success fails (and
 * `undo` ends whatever it started); any other error fails, named.
 */
async function expectRefused<T>(id: CheckId, attempt: () => Promise<T>, undo?: (answer: T) => Promise<string>, what?: string): Promise<CheckResult> {
    const title = CHECKS[id];
    const on = what ? `${what}: ` : "";
    let answer: T;
    try {
        answer = await attempt();
    } catch (error) {
        if (isRefusal(error)) return pass(id, title, `${on}refused, ${describeError(error)}`);
        return fail(id, title, `${on}expected AccessDenied, got ${describeError(error)}`);
    }
    const undone = undo ? `; ${await undo(answer)}` : "";
    return fail(id, title, `${on}ALLOWED, expected a refusal${undone}`);
}

/** ssm:TerminateSession, reported rather than thrown: "terminated ..." or "TerminateSession failed ...". */
async function terminate(ssm: SSMClient, sessionId: string | undefined): Promise<string> {
    if (!sessionId) return "no session id to terminate";
    try {
        await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
        return `terminated ${sessionId}`;
    } catch (error) {
        return `TerminateSession failed for ${sessionId}, end it in the Session Manager console: ${describeError(error)}`;
    }
}

async function cancelCommand(ssm: SSMClient, commandId: string | undefined): Promise<string> {
    if (!commandId) return "no command id to cancel";
    try {
        await ssm.send(new CancelCommandCommand({ CommandId: commandId }));
        return `cancelled command ${commandId} (it runs \`true\`)`;
    } catch (error) {
        return `CancelCommand failed for ${commandId} (it runs \`true\`): ${describeError(error)}`;
    }
}

/** The SSM endpoint the client calls, for the plugin (from the SDK's endpoint rules: right for every partition). */
function ssmEndpoint(ssm: SSMClient, region: string): string {
    try {
        return ssm.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false }).url.toString().replace(/\/$/, "");
    } catch {
        // The plugin then resolves the endpoint itself.
        return "";
    }
}

/** Per-person Run As: the OS user the person's sessions run as (their tag); undefined for a grant per partner. */
function runAsOfPerson(input: PlanInput): string | undefined {
    const people = input.grant.personOsUsers;
    return people === undefined ? undefined : (people[input.person] ?? personOsUser(input.grant.runAsUser ?? "", input.person));
}

/** Another person's OS user under the same grant: a person it lists, or one it does not. */
function anotherPersonsOsUser(input: PlanInput): string {
    const other = Object.entries(input.grant.personOsUsers ?? {}).find(([person]) => person !== input.person);
    return other?.[1] ?? personOsUser(input.grant.runAsUser ?? "", SOMEONE_ELSE);
}

/** A role session name that is valid and not the person's own. */
function otherName(person: string): string {
    return `not-${person}`.slice(0, 64);
}

/** An external id that is valid and certainly not the partner's. */
function wrongExternalId(externalId: string): string {
    const wrong = "verify-live-wrong-external-id";
    return wrong === externalId ? `${wrong}-2` : wrong;
}
