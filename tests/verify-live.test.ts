// `npm run verify:live` against a mocked AWS SDK (aws-sdk-client-mock): a fake AWS that
// answers as the deployed stacks are designed to (the partner's person, its jump role,
// its grant role, the instances, the preferences document, the endpoints, the alert
// rule's metrics), bent per test. Checks the calls made (command inputs and whose
// credentials signed them), the verdicts drawn from AWS errors, the log stream and
// alert polling on a fake clock, the metadata probe's answer read from a fake plugin,
// and the refusal to run against an account the stacks do not allow. Nothing here
// reaches AWS.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeInstancesCommand, DescribeVpcEndpointServicesCommand, DescribeVpcEndpointsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
    CancelCommandCommand,
    DescribeDocumentCommand,
    GetDocumentCommand,
    SendCommandCommand,
    SSMClient,
    StartSessionCommand,
    TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { sessionPreferencesDocument } from "../components/documents";
import { iamUserName } from "../tools/live/accounts";
import { sdkClients } from "../tools/live/aws";
import { reviewModel, runLiveCheck, type CliDeps } from "../tools/live/cli";
import { CHECKS, PORT_FORWARDING_DOCUMENT, RUN_COMMAND_DOCUMENT, type CheckId } from "../tools/live/plan";
import { PER_PERSON_CHECKS } from "../tools/live/checks";
import { findOnPath, spawnPlugin, type PluginOutcome, type PluginSession } from "../tools/live/plugin";
import { METADATA_PROBE, PROBE_ANSWER } from "../tools/live/probe";
import { defaultConfigFile, readStackFacts } from "../tools/live/stacks";
import { FIXTURES_DIR } from "../tools/mock-engine";
import { modelOf, type AccessModel } from "../tools/access/model";
import { runForReview } from "../tools/stack-runs";

const YOURS = "111111111111";
const PARTNER = "222222222222";
const JUMP_ARN = `arn:aws:iam::${PARTNER}:role/3P_IAM_Assume_Role`;
const GRANT_A = `arn:aws:iam::${YOURS}:role/SSMStartSession_IAM_Role_Third_Party_A`;
const GRANT_B = `arn:aws:iam::${YOURS}:role/SSMStartSession_IAM_Role_Third_Party_B`;
const EXTERNAL_ID = "ExternalIdOfThirdPartyA0123456789abcdef";
const OWN = "i-0aaaaaaaaaaaaaaa1";
const OTHER = "i-0bbbbbbbbbbbbbbb2";
const UNTAGGED = "i-0ccccccccccccccc3";
const TAG = "ExternalAccessGrantedTo";
const LOG_GROUP = "SSMSessionManager_LogGroup";
const VPC = "vpc-0123456789abcdef0";
const ALERT_RULE = "alerts-rule-4f3a2b1";
const ALERT_TOPIC = `arn:aws:sns:us-east-1:${YOURS}:alerts-topic-9c8d7e6`;
const PLUGIN = "/usr/local/bin/session-manager-plugin";
/** The interface endpoints the yours stack makes, and whether AWS says each service supports an endpoint policy. */
const ENDPOINT_POLICY_SUPPORT: Record<string, boolean> = { ssm: true, ssmmessages: true, ec2messages: false, logs: true };
const SERVICE_NAMES = Object.keys(ENDPOINT_POLICY_SUPPORT).map((service) => `com.amazonaws.us-east-1.${service}`);
/** The endpoint policy the program sets where AWS supports one. */
const PROGRAM_ENDPOINT_POLICY = {
    Version: "2012-10-17",
    Statement: [
        {
            Sid: "OnlyPrincipalsOfThisAccount",
            Effect: "Allow",
            Principal: "*",
            Action: "*",
            Resource: "*",
            Condition: { StringEquals: { "aws:PrincipalAccount": YOURS } },
        },
    ],
};
/** AWS's default endpoint policy, which it applies where none is given. */
const FULL_ACCESS_POLICY = { Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }] };
/** The preferences document as the yours stack sends it (components/session-preferences.ts), for the fixture's settings. */
const PREFERENCES = sessionPreferencesDocument({
    logGroupName: LOG_GROUP,
    logGroupEncrypted: false,
    runAsDefaultUser: "no_sudo_user",
    idleTimeoutMinutes: 20,
    maxSessionDurationMinutes: 60,
});
/** The probe's answer on an instance whose metadata guard rejects the partner's user: echo of the typed line, then the answer. */
const REFUSED_PROBE_OUTPUT = `\r\nStarting session with SessionId: alice-01abcdef0123456789\r\n$ ${METADATA_PROBE.trim()}\r\nVERIFYLIVE-IMDSPROBE user=os_user_a_alice uid=1001 curl=7 http=000 bytes=0\r\n\r\nExiting session with sessionId: alice-01abcdef0123456789.\r\n`;

/** Access key ids tell the fake AWS who signed a request. */
const KEY = { yours: "AKIDYOURSADMIN", alice: "AKIDALICE", jump: "ASIAJUMPALICE", grant: "ASIAGRANTALICE" } as const;
const PROFILES: Record<string, string> = { "yours-admin": KEY.yours, "alice-keys": KEY.alice };

const BASE_ARGS = [
    "--yours-profile",
    "yours-admin",
    "--partner-profile",
    "alice-keys",
    "--yours-config",
    path.join(FIXTURES_DIR, "Pulumi.yours.yaml"),
    "--their-config",
    path.join(FIXTURES_DIR, "Pulumi.their.yaml"),
];

const YOURS_OUTPUTS = {
    region: "us-east-1",
    accessTagKey: TAG,
    sessionLogGroupName: LOG_GROUP,
    sessionPreferencesDocument: SESSION_PREFERENCES_DOCUMENT,
    sessionPreferenceSettings: { runAsDefaultUser: "no_sudo_user", idleTimeoutMinutes: 20, maxSessionDurationMinutes: 60, shellProfile: null },
    sessionKmsKeyArn: null,
    sessionArchiveBucket: null,
    alertTopicArn: ALERT_TOPIC,
    alertRuleName: ALERT_RULE,
    vpcId: VPC,
    interfaceEndpointServiceNames: SERVICE_NAMES,
    instanceIds: { "instance-third-party-a": OWN, "instance-third-party-b": OTHER },
    grants: {
        Third_Party_A: {
            roleArn: GRANT_A,
            externalId: EXTERNAL_ID,
            runAsUser: "os_user_a_alice",
            accessTagValue: "Third_Party_A",
            expiresAt: null,
            sessionDocument: SESSION_PREFERENCES_DOCUMENT,
            instanceIds: [OWN],
        },
        Third_Party_B: { roleArn: GRANT_B, externalId: "ExternalIdOfThirdPartyB0123456789abcdef", instanceIds: [OTHER] },
    },
};
const THEIR_OUTPUTS = { jumpRoleArn: JUMP_ARN, grantRoleArn: GRANT_A, userNames: ["alice"] };

const INSTANCES = [
    { InstanceId: OWN, State: { Name: "running" }, Tags: [{ Key: TAG, Value: "Third_Party_A" }] },
    { InstanceId: OTHER, State: { Name: "running" }, Tags: [{ Key: TAG, Value: "Third_Party_B" }] },
    { InstanceId: UNTAGGED, State: { Name: "running" }, Tags: [{ Key: "Name", Value: "build-box" }] },
];

function awsError(name: string, message = `${name} (fake)`, httpStatusCode = 400): Error {
    return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}
const denied = (name: "AccessDenied" | "AccessDeniedException") => awsError(name, "User is not authorized to perform this action", 403);

const credentialsOf = (key: string) => ({ AccessKeyId: key, SecretAccessKey: "secret", SessionToken: "token", Expiration: new Date("2030-01-01T00:00:00Z") });

/** Who signed: the access key id of the client's credentials. */
async function caller(getClient: () => unknown): Promise<string> {
    const provider = (getClient() as { config: { credentials: () => Promise<{ accessKeyId: string }> } }).config.credentials;
    return (await provider()).accessKeyId;
}

/** Answers a request differently from the design; return undefined to keep the designed answer. */
type Override = (command: string, input: any, signer: string) => unknown;

/** A fake AWS behaving as the stacks are designed to, unless a test overrides a call. */
class FakeAws {
    readonly sts = mockClient(STSClient);
    readonly ssm = mockClient(SSMClient);
    readonly ec2 = mockClient(EC2Client);
    readonly logs = mockClient(CloudWatchLogsClient);
    readonly cloudwatch = mockClient(CloudWatchClient);
    override: Override = () => undefined;
    /** Which look at the log group first finds the session's stream (Infinity: never). */
    streamOnLook = 1;
    /** Which look at the alert rule's metrics first finds the session's alert (Infinity: never), and how many deliveries failed. */
    alertOnLook = 1;
    failedInvocations = 0;
    /** The session tags the grant's trust requires (per-person Run As: the person's own OS user); undefined: none allowed. */
    runAsTags: Array<{ Key: string; Value: string }> | undefined = undefined;
    /** The preferences document's versions: content by version, and which is the default. */
    documentVersions: Record<string, unknown> = { "1": { ...PREFERENCES, description: "the console's first version" }, "2": PREFERENCES };
    defaultVersion = "2";
    /** The interface endpoints in the VPC: service name to policy document (undefined: no endpoint). */
    endpointPolicies: Record<string, unknown> = Object.fromEntries(
        SERVICE_NAMES.map((name) => [name, ENDPOINT_POLICY_SUPPORT[name.split(".").pop()!] ? PROGRAM_ENDPOINT_POLICY : FULL_ACCESS_POLICY]),
    );
    /** Every request, in order: command, input, signer. */
    readonly requests: Array<{ command: string; input: any; signer: string }> = [];
    readonly openSessions = new Set<string>();
    private sessionCount = 0;
    private looks = 0;
    private metricLooks = 0;

    constructor() {
        this.answer(this.sts, GetCallerIdentityCommand, "GetCallerIdentity", (_input, signer) => this.identity(signer));
        this.answer(this.sts, AssumeRoleCommand, "AssumeRole", (input, signer) => this.assumeRole(input, signer));
        this.answer(this.ssm, StartSessionCommand, "StartSession", (input, signer) => {
            if (signer === KEY.grant && input.Target === OWN && input.DocumentName === SESSION_PREFERENCES_DOCUMENT) return this.newSession();
            throw denied("AccessDeniedException");
        });
        this.answer(this.ssm, TerminateSessionCommand, "TerminateSession", (input, signer) => {
            if (signer !== KEY.grant || !String(input.SessionId).startsWith("alice-")) throw denied("AccessDeniedException");
            this.openSessions.delete(input.SessionId);
            return { SessionId: input.SessionId };
        });
        this.answer(this.ssm, SendCommandCommand, "SendCommand", () => {
            throw denied("AccessDeniedException");
        });
        this.answer(this.ssm, CancelCommandCommand, "CancelCommand", () => ({}));
        this.answer(this.ec2, DescribeInstancesCommand, "DescribeInstances", (input, signer) => this.describeInstances(input, signer));
        this.answer(this.logs, DescribeLogStreamsCommand, "DescribeLogStreams", (input, signer) => {
            if (signer !== KEY.yours) throw denied("AccessDeniedException");
            this.looks++;
            return { logStreams: this.looks >= this.streamOnLook ? [{ logStreamName: input.logStreamNamePrefix }] : [] };
        });
        this.answer(this.ssm, DescribeDocumentCommand, "DescribeDocument", (input, signer) => {
            if (signer !== KEY.yours) throw denied("AccessDeniedException");
            if (input.Name !== SESSION_PREFERENCES_DOCUMENT) throw awsError("InvalidDocument", "The specified document does not exist.");
            const latest = String(Math.max(...Object.keys(this.documentVersions).map(Number)));
            return { Document: { Name: input.Name, DocumentType: "Session", DefaultVersion: this.defaultVersion, LatestVersion: latest } };
        });
        this.answer(this.ssm, GetDocumentCommand, "GetDocument", (input, signer) => {
            if (signer !== KEY.yours) throw denied("AccessDeniedException");
            const content = this.documentVersions[input.DocumentVersion ?? this.defaultVersion];
            if (content === undefined) throw awsError("InvalidDocumentVersion", "The document version is not valid or does not exist.");
            return { Name: input.Name, DocumentVersion: input.DocumentVersion, DocumentFormat: "JSON", Content: JSON.stringify(content, null, 2) };
        });
        this.answer(this.ec2, DescribeVpcEndpointServicesCommand, "DescribeVpcEndpointServices", (input, signer) => {
            if (signer !== KEY.yours) throw awsError("UnauthorizedOperation", "not authorized", 403);
            const names: string[] = input.ServiceNames;
            return {
                ServiceNames: names,
                ServiceDetails: names.map((name) => ({
                    ServiceName: name,
                    ServiceType: [{ ServiceType: "Interface" }],
                    Owner: "amazon",
                    VpcEndpointPolicySupported: ENDPOINT_POLICY_SUPPORT[name.split(".").pop()!],
                })),
            };
        });
        this.answer(this.ec2, DescribeVpcEndpointsCommand, "DescribeVpcEndpoints", (input, signer) => {
            if (signer !== KEY.yours) throw awsError("UnauthorizedOperation", "not authorized", 403);
            const vpc = input.Filters?.find((f: { Name: string }) => f.Name === "vpc-id")?.Values?.[0];
            const endpoints = Object.entries(this.endpointPolicies)
                .filter(([, policy]) => policy !== undefined)
                .map(([name, policy], i) => ({
                    VpcEndpointId: `vpce-0${i}${name.split(".").pop()}`,
                    VpcEndpointType: "Interface",
                    VpcId: VPC,
                    ServiceName: name,
                    State: "available",
                    PolicyDocument: JSON.stringify(policy),
                }));
            return {
                VpcEndpoints: [
                    ...endpoints,
                    { VpcEndpointId: "vpce-0s3", VpcEndpointType: "Gateway", VpcId: VPC, ServiceName: "com.amazonaws.us-east-1.s3", State: "available" },
                ].filter((e) => e.VpcId === vpc),
            };
        });
        this.answer(this.cloudwatch, GetMetricDataCommand, "GetMetricData", (input, signer) => {
            if (signer !== KEY.yours) throw denied("AccessDenied");
            this.metricLooks++;
            const arrived = this.metricLooks >= this.alertOnLook;
            // EventBridge sends each metric only when it is not zero: no data point is an empty result.
            return {
                MetricDataResults: input.MetricDataQueries.map((query: any) => {
                    const rule = query.MetricStat.Metric.Dimensions.find((d: { Name: string }) => d.Name === "RuleName")?.Value;
                    const value =
                        rule !== ALERT_RULE || !arrived
                            ? 0
                            : query.MetricStat.Metric.MetricName === "Invocations"
                              ? 1 + this.failedInvocations
                              : this.failedInvocations;
                    return {
                        Id: query.Id,
                        Label: query.MetricStat.Metric.MetricName,
                        StatusCode: "Complete",
                        Timestamps: value ? [input.StartTime] : [],
                        Values: value ? [value] : [],
                    };
                }),
            };
        });
    }

    /** A session as SSM answers StartSession; opened until terminated. */
    newSession(): { SessionId: string; StreamUrl: string; TokenValue: string } {
        const id = `alice-0${++this.sessionCount}abcdef0123456789`;
        this.openSessions.add(id);
        return { SessionId: id, StreamUrl: `wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/${id}`, TokenValue: `token-${id}` };
    }

    restore(): void {
        for (const mock of [this.sts, this.ssm, this.ec2, this.logs, this.cloudwatch]) mock.restore();
    }

    calls(command: string, signer?: string): any[] {
        return this.requests.filter((r) => r.command === command && (signer === undefined || r.signer === signer)).map((r) => r.input);
    }

    private answer(
        mock: { on(command: any): { callsFake(fn: (input: any, getClient: () => unknown) => unknown): unknown } },
        type: any,
        name: string,
        designed: (input: any, signer: string) => unknown,
    ) {
        mock.on(type).callsFake(async (input: any, getClient: () => unknown) => {
            const signer = await caller(getClient);
            this.requests.push({ command: name, input, signer });
            const bent = this.override(name, input, signer);
            return bent !== undefined ? bent : designed(input, signer);
        });
    }

    private identity(signer: string) {
        const arns: Record<string, [string, string]> = {
            [KEY.yours]: [YOURS, `arn:aws:iam::${YOURS}:user/admin`],
            [KEY.alice]: [PARTNER, `arn:aws:iam::${PARTNER}:user/alice`],
            [KEY.jump]: [PARTNER, `arn:aws:sts::${PARTNER}:assumed-role/3P_IAM_Assume_Role/alice`],
            [KEY.grant]: [YOURS, `arn:aws:sts::${YOURS}:assumed-role/SSMStartSession_IAM_Role_Third_Party_A/alice`],
        };
        const [account, arn] = arns[signer];
        return { Account: account, Arn: arn, UserId: `AIDA${signer}` };
    }

    // The trusts as deployed: alice assumes the jump role as herself; the jump role assumes the grant with the external id.
    private assumeRole(input: any, signer: string) {
        if (signer === KEY.alice && input.RoleArn === JUMP_ARN && input.RoleSessionName === "alice" && input.SourceIdentity === "alice") {
            return {
                Credentials: credentialsOf(KEY.jump),
                SourceIdentity: "alice",
                AssumedRoleUser: { Arn: `arn:aws:sts::${PARTNER}:assumed-role/3P_IAM_Assume_Role/alice` },
            };
        }
        if (
            signer === KEY.jump &&
            input.RoleArn === GRANT_A &&
            input.ExternalId === EXTERNAL_ID &&
            input.RoleSessionName === "alice" &&
            input.SourceIdentity === undefined &&
            // Per-person Run As: the trust requires the person's own Run As tag, and takes no other.
            JSON.stringify(input.Tags) === JSON.stringify(this.runAsTags)
        ) {
            return { Credentials: credentialsOf(KEY.grant), SourceIdentity: "alice" };
        }
        throw denied("AccessDenied");
    }

    private describeInstances(input: any, signer: string) {
        const filters: Array<{ Name: string; Values: string[] }> = input.Filters ?? [];
        const matches = (instance: (typeof INSTANCES)[number]) =>
            filters.every((f) => {
                if (f.Name === "instance-state-name") return f.Values.includes(instance.State.Name);
                if (f.Name === "tag-key") return instance.Tags.some((t) => f.Values.includes(t.Key));
                if (f.Name.startsWith("tag:")) return instance.Tags.some((t) => t.Key === f.Name.slice(4) && f.Values.includes(t.Value));
                throw awsError("InvalidParameterValue", `unknown filter ${f.Name}`);
            });
        // The grant lists instances in its region only; the policy does not narrow by tag, the filter does.
        if (signer !== KEY.yours && signer !== KEY.grant) throw awsError("UnauthorizedOperation", "not authorized", 403);
        return { Reservations: [{ Instances: INSTANCES.filter(matches) }] };
    }
}

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    pulumiCalls: string[][];
    pluginSessions: PluginSession[];
    sleeps: number[];
}

/** What the fake session-manager-plugin prints by default: a probe refused, as the metadata guard does. */
const designedPlugin = async (): Promise<PluginOutcome> => ({ exitCode: 0, timedOut: false, stderr: "", stdout: REFUSED_PROBE_OUTPUT });

/** Runs the CLI against the fake AWS, on a fake clock. */
async function run(aws: FakeAws, args: string[] = [], deps: Partial<CliDeps> = {}, yoursOutputs: object = YOURS_OUTPUTS): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const pulumiCalls: string[][] = [];
    const pluginSessions: PluginSession[] = [];
    const sleeps: number[] = [];
    let clock = Date.parse("2027-01-15T12:00:00Z");
    const code = await runLiveCheck([...BASE_ARGS, ...args], {
        clients: { ...sdkClients, profileCredentials: (profile) => async () => ({ accessKeyId: PROFILES[profile], secretAccessKey: "secret" }) },
        pulumi: async (pulumiArgs) => {
            pulumiCalls.push(pulumiArgs);
            const stack = pulumiArgs[pulumiArgs.indexOf("--stack") + 1];
            return JSON.stringify(stack === "yours" ? yoursOutputs : THEIR_OUTPUTS);
        },
        now: () => clock,
        sleep: async (ms) => {
            sleeps.push(ms);
            clock += ms;
        },
        findPlugin: () => PLUGIN,
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
        ...deps,
        runPlugin: async (pluginPath, session) => {
            pluginSessions.push(session);
            return (deps.runPlugin ?? designedPlugin)(pluginPath, session);
        },
    });
    return { code, stdout: out.join(""), stderr: err.join(""), pulumiCalls, pluginSessions, sleeps };
}

/** The verdict and detail of a check's row in the printed table. */
function row(result: Run, id: CheckId): { verdict: string; detail: string } {
    const line = result.stdout.split("\n").find((l) => l.startsWith(`${CHECKS[id]} `));
    if (line === undefined) throw new Error(`no row for ${id} in:\n${result.stdout}\n${result.stderr}`);
    const match = line.slice(CHECKS[id].length).match(/^\s+(PASS|FAIL|SKIPPED)\s*(.*)$/);
    if (!match) throw new Error(`cannot read the row for ${id}: ${line}`);
    return { verdict: match[1].toLowerCase(), detail: match[2] };
}

// Every check's verdict; the per-person ones only where the grant has per-person Run As.
const verdicts = (result: Run, perPerson = false) =>
    Object.fromEntries(
        (Object.keys(CHECKS) as CheckId[]).filter((id) => perPerson || !PER_PERSON_CHECKS.includes(id)).map((id) => [id, row(result, id).verdict]),
    );

describe("verify:live against a mocked AWS", () => {
    let aws: FakeAws;
    beforeEach(() => (aws = new FakeAws()));
    afterEach(() => aws.restore());

    describe("stacks as designed", () => {
        let result: Run;
        beforeEach(async () => (result = await run(aws)));

        it("passes every check and exits 0", () => {
            expect(verdicts(result)).to.deep.equal(
                Object.fromEntries((Object.keys(CHECKS) as CheckId[]).filter((id) => !PER_PERSON_CHECKS.includes(id)).map((id) => [id, "pass"])),
            );
            expect(result.code).to.equal(0);
            expect(result.stdout).to.contain("19 passed, 0 failed, 0 skipped");
        });

        it("walks the role chain: jump role with the person's source identity, then the grant with the external id", () => {
            const assumes = aws.requests.filter((r) => r.command === "AssumeRole");
            expect(assumes.map((r) => [r.signer, r.input])).to.deep.equal([
                [KEY.alice, { RoleArn: JUMP_ARN, RoleSessionName: "alice", SourceIdentity: "alice", DurationSeconds: 900 }],
                [KEY.alice, { RoleArn: JUMP_ARN, RoleSessionName: "not-alice", SourceIdentity: "alice", DurationSeconds: 900 }],
                // The source identity carries along the chain: the grant is assumed with the session named after it, and the external id.
                [KEY.jump, { RoleArn: GRANT_A, RoleSessionName: "alice", ExternalId: EXTERNAL_ID, DurationSeconds: 900 }],
                [KEY.jump, { RoleArn: GRANT_A, RoleSessionName: "alice", ExternalId: undefined, DurationSeconds: 900 }],
                [KEY.jump, { RoleArn: GRANT_A, RoleSessionName: "alice", ExternalId: "verify-live-wrong-external-id", DurationSeconds: 900 }],
            ]);
            expect(aws.calls("GetCallerIdentity", KEY.grant)).to.have.length(1);
            expect(row(result, "grantRole").detail).to.contain("assumed-role/SSMStartSession_IAM_Role_Third_Party_A/alice");
        });

        it("starts sessions as the grant only: the own one with the preferences document, then each that must be refused", () => {
            const sessions = aws.requests.filter((r) => r.command === "StartSession");
            expect(sessions.every((r) => r.signer === KEY.grant)).to.equal(true);
            expect(sessions.map((r) => [r.input.Target, r.input.DocumentName, r.input.Parameters])).to.deep.equal([
                [OWN, SESSION_PREFERENCES_DOCUMENT, undefined],
                [OTHER, SESSION_PREFERENCES_DOCUMENT, undefined],
                [UNTAGGED, SESSION_PREFERENCES_DOCUMENT, undefined],
                [OWN, undefined, undefined],
                [OWN, PORT_FORWARDING_DOCUMENT, { portNumber: ["22"] }],
            ]);
            expect(aws.calls("SendCommand", KEY.grant)).to.deep.equal([
                { InstanceIds: [OWN], DocumentName: RUN_COMMAND_DOCUMENT, Parameters: { commands: ["true"] }, Comment: "npm run verify:live: must be refused" },
            ]);
        });

        it("ends the session it opened at once, and leaves none open", () => {
            const terminated = aws.calls("TerminateSession", KEY.grant).map((i) => i.SessionId);
            expect(terminated).to.deep.equal(["alice-01abcdef0123456789"]);
            expect([...aws.openSessions]).to.deep.equal([]);
            const order = aws.requests.map((r) => r.command);
            expect(order.indexOf("TerminateSession")).to.equal(order.indexOf("StartSession") + 1);
        });

        it("changes nothing that persists: only reads, AssumeRole, and a session it terminates", () => {
            // The yours profile only reads.
            const yoursReads = [
                "DescribeDocument",
                "DescribeInstances",
                "DescribeLogStreams",
                "DescribeVpcEndpointServices",
                "DescribeVpcEndpoints",
                "GetCallerIdentity",
                "GetDocument",
                "GetMetricData",
            ];
            const commands = new Set(aws.requests.map((r) => r.command));
            expect([...commands].sort()).to.deep.equal([...yoursReads, "AssumeRole", "SendCommand", "StartSession", "TerminateSession"].sort());
            expect([...new Set(aws.requests.filter((r) => r.signer === KEY.yours).map((r) => r.command))].sort()).to.deep.equal(yoursReads);
        });

        it("finds the untagged instance with the yours profile, and reads the log stream as the yours profile", () => {
            expect(row(result, "sessionUntagged").detail).to.contain(`on ${UNTAGGED} (no ${TAG} tag)`);
            expect(aws.calls("DescribeLogStreams", KEY.yours)).to.deep.equal([{ logGroupName: LOG_GROUP, logStreamNamePrefix: "alice-01abcdef0123456789" }]);
            expect(aws.calls("DescribeLogStreams", KEY.grant)).to.deep.equal([{ logGroupName: LOG_GROUP, limit: 1 }]);
        });

        it("reads the outputs with pulumi, secrets shown, before nothing but the identity checks", () => {
            expect(result.pulumiCalls).to.deep.equal([
                ["stack", "output", "--json", "--show-secrets", "--stack", "yours"],
                ["stack", "output", "--json", "--show-secrets", "--stack", "their"],
            ]);
        });
    });

    describe("verdicts drawn from AWS errors", () => {
        it("a session allowed on another partner's instance fails, and that session is terminated at once", async () => {
            aws.override = (command, input) => (command === "StartSession" && input.Target === OTHER ? aws.newSession() : undefined);
            const result = await run(aws);
            expect(row(result, "sessionOtherPartner")).to.deep.equal({
                verdict: "fail",
                detail: `on ${OTHER} (another partner's grant): ALLOWED, expected a refusal; terminated alice-02abcdef0123456789`,
            });
            expect(aws.calls("TerminateSession").map((i) => i.SessionId)).to.include("alice-02abcdef0123456789");
            expect([...aws.openSessions]).to.deep.equal([]);
            expect(result.code).to.equal(1);
        });

        it("a port forwarding session allowed fails and is terminated; Run Command allowed fails and is cancelled", async () => {
            aws.override = (command, input) => {
                if (command === "StartSession" && input.DocumentName === PORT_FORWARDING_DOCUMENT) return aws.newSession();
                if (command === "SendCommand") return { Command: { CommandId: "cmd-1" } };
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "portForwarding").verdict).to.equal("fail");
            expect(row(result, "portForwarding").detail).to.match(/ALLOWED.*terminated alice-02/);
            expect(row(result, "runCommand")).to.deep.equal({
                verdict: "fail",
                detail: `${RUN_COMMAND_DOCUMENT} on ${OWN}: ALLOWED, expected a refusal; cancelled command cmd-1 (it runs \`true\`)`,
            });
            expect(aws.calls("CancelCommand", KEY.grant)).to.deep.equal([{ CommandId: "cmd-1" }]);
            expect([...aws.openSessions]).to.deep.equal([]);
        });

        it("throttling is not a refusal: the check fails, naming the error", async () => {
            aws.override = (command, input) => {
                if (command === "AssumeRole" && input.RoleArn === GRANT_A && input.ExternalId === undefined) throw awsError("Throttling", "Rate exceeded");
                if (command === "StartSession" && input.Target === UNTAGGED) throw awsError("ThrottlingException", "Rate exceeded");
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "grantNoExternalId")).to.deep.equal({
                verdict: "fail",
                detail: "expected AccessDenied, got Throttling: Rate exceeded (HTTP 400)",
            });
            expect(row(result, "sessionUntagged").verdict).to.equal("fail");
            expect(row(result, "sessionUntagged").detail).to.contain("got ThrottlingException: Rate exceeded");
            expect(result.code).to.equal(1);
        });

        it("an agent not connected fails the own session, naming the error, with nothing to terminate; the refusals still count", async () => {
            aws.override = (command, input) => {
                if (command === "StartSession" && input.Target === OWN && input.DocumentName === SESSION_PREFERENCES_DOCUMENT) {
                    throw awsError("TargetNotConnected", `${OWN} is not connected.`);
                }
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "sessionOwn").verdict).to.equal("fail");
            expect(row(result, "sessionOwn").detail).to.contain(`TargetNotConnected: ${OWN} is not connected.`);
            expect(aws.calls("TerminateSession")).to.deep.equal([]);
            expect(row(result, "logStream")).to.deep.equal({ verdict: "skipped", detail: "no session was opened, so there is no stream to wait for" });
            expect(row(result, "metadataRefused")).to.deep.equal({ verdict: "skipped", detail: "no session was opened, so there is no shell to probe from" });
            expect(row(result, "alertDelivered")).to.deep.equal({ verdict: "skipped", detail: "no session was opened, so there is no alert to wait for" });
            expect(aws.calls("GetMetricData")).to.deep.equal([]);
            expect(row(result, "sessionOtherPartner").verdict).to.equal("pass");
        });

        it("when even the own session is refused, the session refusals prove nothing and are skipped", async () => {
            aws.override = (command) => {
                if (command === "StartSession") throw denied("AccessDeniedException");
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "sessionOwn").verdict).to.equal("fail");
            for (const id of ["sessionOtherPartner", "sessionUntagged", "sessionNoDocument", "portForwarding"] as const) {
                expect(row(result, id).verdict, id).to.equal("skipped");
                expect(row(result, id).detail, id).to.contain("proves nothing");
            }
            expect(row(result, "runCommand").verdict).to.equal("pass");
        });

        it("a refused jump role fails, and everything that needs it is skipped, not passed", async () => {
            aws.override = (command, input) => {
                if (command === "AssumeRole" && input.RoleArn === JUMP_ARN) throw denied("AccessDenied");
                return undefined;
            };
            const result = await run(aws);
            const all = verdicts(result);
            // What the deployment is needs only the yours profile: those checks still run.
            const independent = ["stacksAgree", "preferencesInEffect", "endpointPolicies"];
            expect(independent.map((id) => all[id])).to.deep.equal(["pass", "pass", "pass"]);
            expect(all.jumpRole).to.equal("fail");
            expect(Object.entries(all).filter(([id]) => !independent.includes(id) && id !== "jumpRole")).to.satisfy((rows: string[][]) =>
                rows.every(([, verdict]) => verdict === "skipped"),
            );
            expect(aws.calls("AssumeRole")).to.have.length(1);
            expect(aws.requests.filter((r) => r.signer !== KEY.yours && r.command !== "AssumeRole" && r.command !== "GetCallerIdentity")).to.deep.equal([]);
            expect([...new Set(aws.requests.filter((r) => r.signer === KEY.yours).map((r) => r.command))].sort()).to.deep.equal([
                "DescribeDocument",
                "DescribeVpcEndpointServices",
                "DescribeVpcEndpoints",
                "GetCallerIdentity",
                "GetDocument",
            ]);
            expect(result.pluginSessions).to.deep.equal([]);
            expect(result.code).to.equal(1);
        });

        it("a grant session not named after the person fails the grant check", async () => {
            aws.override = (command, _input, signer) =>
                command === "GetCallerIdentity" && signer === KEY.grant
                    ? { Account: YOURS, Arn: `arn:aws:sts::${YOURS}:assumed-role/SSMStartSession_IAM_Role_Third_Party_A/bob`, UserId: "AROA:bob" }
                    : undefined;
            const result = await run(aws);
            expect(row(result, "grantRole").verdict).to.equal("fail");
            expect(row(result, "grantRole").detail).to.contain("expected assumed-role/SSMStartSession_IAM_Role_Third_Party_A/alice");
            expect(row(result, "grantNoExternalId").verdict).to.equal("skipped");
            expect(aws.calls("StartSession")).to.deep.equal([]);
        });

        it("a session that cannot be terminated fails, naming the error", async () => {
            aws.override = (command) => {
                if (command === "TerminateSession") throw awsError("InternalServerError", "try again", 500);
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "sessionOwn").verdict).to.equal("fail");
            expect(row(result, "sessionOwn").detail).to.contain("TerminateSession failed for alice-01abcdef0123456789");
            expect(row(result, "sessionOwn").detail).to.contain("InternalServerError: try again (HTTP 500)");
        });
    });

    describe("a grant with per-person Run As", () => {
        const PER_PERSON_OUTPUTS = {
            ...YOURS_OUTPUTS,
            grants: {
                ...YOURS_OUTPUTS.grants,
                Third_Party_A: {
                    ...YOURS_OUTPUTS.grants.Third_Party_A,
                    runAsUser: "os_user_a",
                    personOsUsers: { alice: "os_user_a-alice", bob: "os_user_a-bob" },
                },
            },
        };
        // The probe answered in a shell of alice's own OS user.
        const alicesShell = async (): Promise<PluginOutcome> => ({
            exitCode: 0,
            timedOut: false,
            stderr: "",
            stdout: REFUSED_PROBE_OUTPUT.replace("user=os_user_a_alice", "user=os_user_a-alice"),
        });
        let result: Run;
        beforeEach(async () => {
            aws.runAsTags = [{ Key: RUN_AS_TAG_KEY, Value: "os_user_a-alice" }];
            result = await run(aws, [], { runPlugin: alicesShell }, PER_PERSON_OUTPUTS);
        });

        it("assumes the grant tagged with the person's own OS user, and is refused with bob's or with none; every check passes", () => {
            const grantAssumes = aws.requests
                .filter((r) => r.command === "AssumeRole" && r.input.RoleArn === GRANT_A)
                .map((r) => [r.input.ExternalId, r.input.Tags]);
            const own = [{ Key: RUN_AS_TAG_KEY, Value: "os_user_a-alice" }];
            expect(grantAssumes).to.deep.equal([
                [EXTERNAL_ID, own],
                [undefined, own],
                ["verify-live-wrong-external-id", own],
                [EXTERNAL_ID, [{ Key: RUN_AS_TAG_KEY, Value: "os_user_a-bob" }]],
                [EXTERNAL_ID, undefined],
            ]);
            expect(verdicts(result, true)).to.deep.equal(Object.fromEntries(Object.keys(CHECKS).map((id) => [id, "pass"])));
            expect(result.code).to.equal(0);
        });

        it("holds the shell to the person's own OS user: a shell of the partner's base name fails the probe", async () => {
            const shared = await run(aws, [], { runPlugin: designedPlugin }, PER_PERSON_OUTPUTS);
            expect(row(shared, "metadataRefused")).to.deep.include({ verdict: "fail" });
            expect(row(shared, "metadataRefused").detail).to.contain("not the grant's Run As user os_user_a-alice");
        });
    });

    describe("AWS's answers beside the offline access model's", () => {
        // The review's model of the fixture yours stack (its their stack beside it), as `npm run verify:live` builds it.
        let sample: AccessModel;
        let widened: AccessModel;
        before(async () => {
            sample = await reviewModel("yours", path.join(FIXTURES_DIR, "Pulumi.yours.yaml"), "2027-01-15T12:00:00Z");
            const runs = await runForReview({ stack: "yours", configFile: path.join(FIXTURES_DIR, "Pulumi.yours.yaml") });
            // The grant's document statement opened to every document: port forwarding included.
            const policy = runs.main.resources.find((r) => r.name === "grant-Third_Party_A-session-access")!;
            const document = JSON.parse(policy.inputs.policy);
            for (const statement of document.Statement.filter((st: { Sid?: string }) => st.Sid === "StartSessionWithThePreferencesDocumentOnly"))
                statement.Resource = statement.Resource.replace(/document\/.*$/, "document/*");
            policy.inputs.policy = JSON.stringify(document);
            widened = await modelOf(runs, "2027-01-15T12:00:00Z");
        });

        it("as designed, the model predicts every answer AWS gave to a request it models", async () => {
            const models: string[] = [];
            const result = await run(aws, [], { offlineModel: async (stack, configFile, at) => (models.push(`${stack} ${configFile} ${at}`), sample) });
            expect(models).to.deep.equal([`yours ${path.join(FIXTURES_DIR, "Pulumi.yours.yaml")} 2027-01-15T12:00:00Z`]);
            expect(result.stdout).to.contain(
                "\nOffline model (stack yours from Pulumi.yours.yaml, at 2027-01-15T12:00:00Z): agrees with AWS on 12 of the 12 passed checks it answers.\n",
            );
            expect(result.code).to.equal(0);
        });

        it("a refusal AWS gives that the model does not predict is named, and changes no verdict", async () => {
            const result = await run(aws, [], { offlineModel: async () => widened });
            expect(row(result, "portForwarding").verdict).to.equal("pass");
            expect(result.stdout).to.contain(
                "agrees with AWS on 11 of the 12 passed checks it answers:\n- port forwarding session refused: AWS refused it, the offline model allowed it",
            );
            expect(result.code).to.equal(0);
        });

        it("a failure the model predicted says the program does it", async () => {
            aws.override = (command, input) => (command === "StartSession" && input.DocumentName === PORT_FORWARDING_DOCUMENT ? aws.newSession() : undefined);
            const result = await run(aws, [], { offlineModel: async () => widened });
            expect(row(result, "portForwarding").verdict).to.equal("fail");
            expect(result.stdout).to.contain("- port forwarding session refused: failed as the offline model predicted (it allowed it): the program does this");
        });

        it("a failure the model did not predict is put down to AWS answering unlike the model", async () => {
            aws.override = (command, input) => (command === "StartSession" && input.DocumentName === PORT_FORWARDING_DOCUMENT ? aws.newSession() : undefined);
            const result = await run(aws, [], { offlineModel: async () => sample });
            expect(row(result, "portForwarding").verdict).to.equal("fail");
            expect(result.stdout).to.contain(
                "- port forwarding session refused: failed, where the offline model refused it as promised: AWS answered unlike the model",
            );
        });

        it("a model that cannot be built is said, and compares nothing", async () => {
            const result = await run(aws, [], {
                offlineModel: async () => {
                    throw new Error('partners[0].accountId: got "x"');
                },
            });
            expect(result.stdout).to.contain('Offline model: not built (partners[0].accountId: got "x"); nothing compared.');
            expect(result.code).to.equal(0);
        });
    });

    describe("the session's log stream", () => {
        it("without session-manager-plugin, no stream within the timeout is skipped (needs the plugin), after a bounded number of looks", async () => {
            aws.streamOnLook = Infinity;
            const result = await run(aws, ["--log-timeout", "60", "--no-plugin"]);
            expect(row(result, "logStream").verdict).to.equal("skipped");
            expect(row(result, "logStream").detail).to.match(
                /^needs session-manager-plugin: no stream named alice-01abcdef0123456789 in SSMSessionManager_LogGroup after 60 s/,
            );
            // One look at 0 s, then one every 5 s up to 60 s.
            expect(aws.calls("DescribeLogStreams", KEY.yours)).to.have.length(13);
            expect(result.sleeps.reduce((a, b) => a + b, 0)).to.equal(60000);
            expect(result.code).to.equal(0);
            expect(result.stdout).to.contain("17 passed, 0 failed, 2 skipped (skipped: metadataRefused; skipped: logStream)");
            expect(result.pluginSessions).to.deep.equal([]);
        });

        it("with session-manager-plugin, the plugin gets the session and the grant's credentials before it is terminated", async () => {
            aws.streamOnLook = 3;
            const result = await run(aws);
            expect(result.pluginSessions).to.have.length(1);
            const [session] = result.pluginSessions;
            expect(session).to.include({
                sessionId: "alice-01abcdef0123456789",
                tokenValue: "token-alice-01abcdef0123456789",
                target: OWN,
                documentName: SESSION_PREFERENCES_DOCUMENT,
                region: "us-east-1",
                endpoint: "https://ssm.us-east-1.amazonaws.com",
                input: METADATA_PROBE,
                endInputWhen: PROBE_ANSWER,
            });
            expect(session.credentials.accessKeyId).to.equal(KEY.grant);
            expect(aws.calls("TerminateSession")).to.have.length(1);
            expect(row(result, "logStream")).to.deep.equal({ verdict: "pass", detail: "stream alice-01abcdef0123456789 in SSMSessionManager_LogGroup" });
            expect(aws.calls("DescribeLogStreams", KEY.yours)).to.have.length(3);
        });

        it("with session-manager-plugin, no stream within the timeout fails and says how the plugin ended", async () => {
            aws.streamOnLook = Infinity;
            const result = await run(aws, ["--log-timeout", "10"], {
                runPlugin: async () => ({ exitCode: 255, timedOut: false, stderr: "Cannot perform start session: EOF", stdout: "" }),
            });
            expect(row(result, "logStream").verdict).to.equal("fail");
            expect(row(result, "logStream").detail).to.contain("session-manager-plugin exited with 255 (Cannot perform start session: EOF)");
            expect(aws.calls("DescribeLogStreams", KEY.yours)).to.have.length(3);
            expect(result.code).to.equal(1);
        });

        it("an error reading the log group fails, naming it", async () => {
            aws.override = (command, _input, signer) => {
                if (command === "DescribeLogStreams" && signer === KEY.yours)
                    throw awsError("ResourceNotFoundException", "The specified log group does not exist.");
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "logStream").verdict).to.equal("fail");
            expect(row(result, "logStream").detail).to.contain("ResourceNotFoundException: The specified log group does not exist.");
        });
    });

    describe("the Session Manager preferences in effect", () => {
        it("reads the default version's content as the yours profile and finds what the stack sets", async () => {
            const result = await run(aws);
            expect(row(result, "preferencesInEffect")).to.deep.equal({
                verdict: "pass",
                detail: "version 2 is the default and the latest, and says what this stack sets",
            });
            expect(aws.calls("DescribeDocument", KEY.yours)).to.deep.equal([{ Name: SESSION_PREFERENCES_DOCUMENT }]);
            expect(aws.calls("GetDocument", KEY.yours)).to.deep.equal([{ Name: SESSION_PREFERENCES_DOCUMENT, DocumentVersion: "2", DocumentFormat: "JSON" }]);
            expect(aws.requests.filter((r) => r.command === "DescribeDocument" || r.command === "GetDocument").every((r) => r.signer === KEY.yours)).to.equal(
                true,
            );
        });

        it("a default version behind the latest fails, names what sessions get, and gives the command making the latest the default", async () => {
            aws.documentVersions = {
                "3": { ...PREFERENCES, inputs: { ...PREFERENCES.inputs, runAsDefaultUser: "ssm-user" } },
                "4": PREFERENCES,
            };
            aws.defaultVersion = "3";
            const result = await run(aws);
            expect(row(result, "preferencesInEffect")).to.deep.equal({
                verdict: "fail",
                detail:
                    "sessions use version 3, but the latest is 4 (an update that did not become the default, as in pulumi-aws issue 2555); " +
                    'version 3 differs from what this stack sets: inputs.runAsDefaultUser: AWS has "ssm-user", the program "no_sudo_user"; ' +
                    "version 4 says what this stack sets: make it the default: aws ssm update-document-default-version --name SSM-SessionManagerRunShell --document-version 4",
            });
            expect(aws.calls("GetDocument").map((i) => i.DocumentVersion)).to.deep.equal(["3", "4"]);
            expect(result.code).to.equal(1);
        });

        it("a lagging default whose latest version differs too does not suggest making the latest the default", async () => {
            aws.documentVersions = { "3": PREFERENCES, "4": { ...PREFERENCES, inputs: { ...PREFERENCES.inputs, cloudWatchStreamingEnabled: false } } };
            aws.defaultVersion = "3";
            const result = await run(aws);
            expect(row(result, "preferencesInEffect").verdict).to.equal("fail");
            expect(row(result, "preferencesInEffect").detail).to.contain(
                "version 3 says what this stack sets; version 4, not in effect, differs: inputs.cloudWatchStreamingEnabled: AWS has false, the program true",
            );
            expect(row(result, "preferencesInEffect").detail).to.not.contain("update-document-default-version");
        });

        it("content that differs from what the stack sets fails, naming each field", async () => {
            aws.documentVersions = { "2": { ...PREFERENCES, inputs: { ...PREFERENCES.inputs, runAsEnabled: false, idleSessionTimeout: "60" } } };
            const result = await run(aws);
            expect(row(result, "preferencesInEffect")).to.deep.equal({
                verdict: "fail",
                detail:
                    "version 2 is the default and the latest, and differs from what this stack sets: " +
                    'inputs.runAsEnabled: AWS has false, the program true; inputs.idleSessionTimeout: AWS has "60", the program "20". ' +
                    "Edited outside Pulumi (the console's Preferences page writes this document), or not deployed: pulumi up",
            });
        });

        it("rebuilds what the stack sets from its outputs: an encrypted stack's document must name its key", async () => {
            const KEY_ARN = `arn:aws:kms:us-east-1:${YOURS}:key/0b6f2c3e-1111-2222-3333-444455556666`;
            const outputs = { ...YOURS_OUTPUTS, sessionKmsKeyArn: KEY_ARN };
            const result = await run(aws, [], { pulumi: async (args) => JSON.stringify(args[args.length - 1] === "yours" ? outputs : THEIR_OUTPUTS) });
            expect(row(result, "preferencesInEffect").verdict).to.equal("fail");
            expect(row(result, "preferencesInEffect").detail).to.contain(
                "inputs.cloudWatchEncryptionEnabled: AWS has false, the program true; " + `inputs.kmsKeyId: AWS has "", the program "${KEY_ARN}"`,
            );
        });

        it("outputs from before sessionPreferenceSettings: the versions are still compared, the content is skipped, not passed", async () => {
            const outputs: Record<string, unknown> = { ...YOURS_OUTPUTS };
            delete outputs.sessionPreferenceSettings;
            const pulumi = async (args: string[]) => JSON.stringify(args[args.length - 1] === "yours" ? outputs : THEIR_OUTPUTS);
            const result = await run(aws, [], { pulumi });
            expect(row(result, "preferencesInEffect")).to.deep.equal({
                verdict: "skipped",
                detail:
                    "version 2 is the default and the latest; its content was not compared: the yours stack has no output sessionPreferenceSettings " +
                    "(run pulumi up with this version of the program)",
            });
            expect(aws.calls("GetDocument")).to.deep.equal([]);
            aws.defaultVersion = "1";
            expect(row(await run(aws, [], { pulumi }), "preferencesInEffect").verdict).to.equal("fail");
        });

        it("an error reading the document fails, naming the call and the error", async () => {
            aws.override = (command) => {
                if (command === "DescribeDocument") throw denied("AccessDeniedException");
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "preferencesInEffect")).to.deep.equal({
                verdict: "fail",
                detail: "ssm:DescribeDocument SSM-SessionManagerRunShell as the yours profile: AccessDeniedException: User is not authorized to perform this action (HTTP 403)",
            });
        });
    });

    describe("the interface endpoints' policies", () => {
        it("asks AWS which services take a policy, and reports the endpoints that are therefore open", async () => {
            const result = await run(aws);
            expect(row(result, "endpointPolicies")).to.deep.equal({
                verdict: "pass",
                detail:
                    `ssm, ssmmessages, logs: only principals of account ${YOURS}; open to principals of any account: ec2messages ` +
                    "(AWS says these support no endpoint policy, VpcEndpointPolicySupported false; only IAM and the security groups limit them)",
            });
            expect(aws.calls("DescribeVpcEndpointServices", KEY.yours)).to.deep.equal([{ ServiceNames: SERVICE_NAMES }]);
            expect(aws.calls("DescribeVpcEndpoints", KEY.yours)).to.deep.equal([
                { Filters: [{ Name: "vpc-id", Values: [VPC] }], NextToken: undefined, MaxResults: 1000 },
            ]);
        });

        it("an endpoint left with AWS's full-access policy where AWS supports one fails", async () => {
            aws.endpointPolicies["com.amazonaws.us-east-1.logs"] = FULL_ACCESS_POLICY;
            const result = await run(aws);
            expect(row(result, "endpointPolicies").verdict).to.equal("fail");
            expect(row(result, "endpointPolicies").detail).to.match(
                /^logs \(vpce-03logs\): AWS's default full-access policy, though AWS says logs supports endpoint policies \(run pulumi up: the program asks AWS at deploy\); open to principals of any account: ec2messages/,
            );
        });

        it("the program's policy on a service AWS says takes none fails: it restricts nothing", async () => {
            aws.endpointPolicies["com.amazonaws.us-east-1.ec2messages"] = PROGRAM_ENDPOINT_POLICY;
            const result = await run(aws);
            expect(row(result, "endpointPolicies")).to.deep.equal({
                verdict: "fail",
                detail: "ec2messages (vpce-02ec2messages): carries the program's policy, but AWS says ec2messages supports no endpoint policy, so it restricts nothing",
            });
        });

        it("another account in the policy, or a missing endpoint, fails and says which", async () => {
            aws.endpointPolicies["com.amazonaws.us-east-1.ssm"] = {
                ...PROGRAM_ENDPOINT_POLICY,
                Statement: [{ ...PROGRAM_ENDPOINT_POLICY.Statement[0], Condition: { StringEquals: { "aws:PrincipalAccount": PARTNER } } }],
            };
            aws.endpointPolicies["com.amazonaws.us-east-1.ssmmessages"] = undefined;
            const result = await run(aws);
            expect(row(result, "endpointPolicies").detail).to.contain(
                `ssm (vpce-00ssm): a policy that is not the program's: Statement[0].Condition.StringEquals.aws:PrincipalAccount: AWS has "${PARTNER}", the program "${YOURS}"`,
            );
            expect(row(result, "endpointPolicies").detail).to.contain(`ssmmessages: no interface endpoint for com.amazonaws.us-east-1.ssmmessages in ${VPC}`);
            expect(row(result, "endpointPolicies").verdict).to.equal("fail");
        });

        it("in a network of your own the stack made no endpoints: skipped, and nothing asked", async () => {
            const outputs = { ...YOURS_OUTPUTS, interfaceEndpointServiceNames: [] };
            const result = await run(aws, [], { pulumi: async (args) => JSON.stringify(args[args.length - 1] === "yours" ? outputs : THEIR_OUTPUTS) });
            expect(row(result, "endpointPolicies")).to.deep.equal({
                verdict: "skipped",
                detail: "the yours stack made no interface endpoints (a network of your own, or no instances): none of its to check",
            });
            expect(aws.calls("DescribeVpcEndpointServices")).to.deep.equal([]);
        });
    });

    describe("the session's alert", () => {
        it("reads the rule's Invocations and FailedInvocations from the minute the session started, as the yours profile", async () => {
            const result = await run(aws);
            expect(row(result, "alertDelivered")).to.deep.equal({
                verdict: "pass",
                detail: `rule ${ALERT_RULE}: Invocations 1, FailedInvocations 0 since 2027-01-15T12:00:00.000Z, to ${ALERT_TOPIC}`,
            });
            const [query] = aws.calls("GetMetricData", KEY.yours);
            expect(query.StartTime.toISOString()).to.equal("2027-01-15T12:00:00.000Z");
            expect(query.EndTime.toISOString()).to.equal("2027-01-15T12:01:00.000Z");
            expect(query.MetricDataQueries).to.deep.equal(
                ["Invocations", "FailedInvocations"].map((name, i) => ({
                    Id: ["invocations", "failed"][i],
                    MetricStat: {
                        Metric: { Namespace: "AWS/Events", MetricName: name, Dimensions: [{ Name: "RuleName", Value: ALERT_RULE }] },
                        Period: 60,
                        Stat: "Sum",
                    },
                    ReturnData: true,
                })),
            );
        });

        it("failed deliveries fail the check, naming the rule and the topic", async () => {
            aws.failedInvocations = 2;
            const result = await run(aws);
            expect(row(result, "alertDelivered").verdict).to.equal("fail");
            expect(row(result, "alertDelivered").detail).to.match(
                new RegExp(
                    `^rule ${ALERT_RULE}: FailedInvocations 2 \\(Invocations 3\\) since 2027-01-15T12:00:00.000Z: EventBridge could not publish to ${ALERT_TOPIC}`,
                ),
            );
            expect(result.code).to.equal(1);
        });

        it("waits, looking once a minute, for CloudTrail's minutes of delay", async () => {
            aws.alertOnLook = 4;
            const result = await run(aws);
            expect(row(result, "alertDelivered").verdict).to.equal("pass");
            expect(aws.calls("GetMetricData")).to.have.length(4);
            expect(result.sleeps).to.deep.equal([60000, 60000, 60000]);
            expect(aws.calls("GetMetricData")[3].EndTime.toISOString()).to.equal("2027-01-15T12:04:00.000Z");
        });

        it("nothing within --alert-timeout fails after a bounded number of looks", async () => {
            aws.alertOnLook = Infinity;
            const result = await run(aws, ["--alert-timeout", "300"]);
            expect(row(result, "alertDelivered")).to.deep.equal({
                verdict: "fail",
                detail:
                    `rule ${ALERT_RULE}: no Invocations since 2027-01-15T12:00:00.000Z, 300 s after the session started: no alert went out. ` +
                    "The rule sees StartSession only through CloudTrail: a trail logging management events in us-east-1 is needed",
            });
            // One look at 0 s, then one a minute up to 300 s.
            expect(aws.calls("GetMetricData")).to.have.length(6);
            expect(result.sleeps.reduce((a, b) => a + b, 0)).to.equal(300000);
        });

        it("with alerts off, or before output alertRuleName, it is skipped and reads no metric", async () => {
            const off = { ...YOURS_OUTPUTS, alertTopicArn: null, alertRuleName: null };
            const result = await run(aws, [], { pulumi: async (args) => JSON.stringify(args[args.length - 1] === "yours" ? off : THEIR_OUTPUTS) });
            expect(row(result, "alertDelivered")).to.deep.equal({
                verdict: "skipped",
                detail: "alerts are off in the yours stack (alerts.enabled false: output alertTopicArn is null)",
            });
            const older: Record<string, unknown> = { ...YOURS_OUTPUTS };
            delete older.alertRuleName;
            const before = await run(aws, [], { pulumi: async (args) => JSON.stringify(args[args.length - 1] === "yours" ? older : THEIR_OUTPUTS) });
            expect(row(before, "alertDelivered").verdict).to.equal("skipped");
            expect(aws.calls("GetMetricData")).to.deep.equal([]);
        });

        it("a refused metrics read fails, naming the call", async () => {
            aws.override = (command) => {
                if (command === "GetMetricData") throw denied("AccessDenied");
                return undefined;
            };
            const result = await run(aws);
            expect(row(result, "alertDelivered").detail).to.equal(
                `cloudwatch:GetMetricData (AWS/Events, rule ${ALERT_RULE}) as the yours profile: AccessDenied: User is not authorized to perform this action (HTTP 403)`,
            );
        });

        it("rejects an --alert-timeout out of range", async () => {
            const result = await run(aws, ["--alert-timeout", "3600"]);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain("--alert-timeout is seconds, 0 to 1800");
        });
    });

    describe("the metadata probe in the partner's session", () => {
        const answering = (line: string) => async (): Promise<PluginOutcome> => ({
            exitCode: 0,
            timedOut: false,
            stderr: "",
            stdout: `$ ${METADATA_PROBE.trim()}\r\n${line}\r\n`,
        });

        it("types the probe and passes when the metadata service refuses the grant's Run As user", async () => {
            const result = await run(aws);
            expect(row(result, "metadataRefused")).to.deep.equal({
                verdict: "pass",
                detail: "as os_user_a_alice (uid 1001): metadata token request connection refused or not permitted (curl exit 7)",
            });
            expect(result.pluginSessions.map((s) => [s.input, s.endInputWhen])).to.deep.equal([[METADATA_PROBE, PROBE_ANSWER]]);
            // The terminal echoes the typed line: it must not read as an answer.
            expect(PROBE_ANSWER.test(METADATA_PROBE)).to.equal(false);
            expect(METADATA_PROBE).to.match(/^c=\$\(curl .* -X PUT .*http:\/\/169\.254\.169\.254\/latest\/api\/token\).* exit\n$/);
        });

        it("a token coming back fails", async () => {
            const result = await run(aws, [], { runPlugin: answering("VERIFYLIVE-IMDSPROBE user=os_user_a_alice uid=1001 curl=0 http=200 bytes=56") });
            expect(row(result, "metadataRefused")).to.deep.equal({
                verdict: "fail",
                detail: "os_user_a_alice got a metadata token (HTTP 200, 56 bytes): the metadata guard is not in effect on this instance",
            });
            expect(result.code).to.equal(1);
        });

        it("an answer from the metadata service, even without a token, fails: the guard refuses the connection itself", async () => {
            const result = await run(aws, [], { runPlugin: answering("VERIFYLIVE-IMDSPROBE user=os_user_a_alice uid=1001 curl=0 http=403 bytes=0") });
            expect(row(result, "metadataRefused").verdict).to.equal("fail");
            expect(row(result, "metadataRefused").detail).to.equal(
                "the metadata service answered HTTP 403 without a token: os_user_a_alice reached it, so the metadata guard is not in effect on this instance",
            );
        });

        it("a shell as root, or as another user than the grant's, fails even when refused; a timeout counts as refused", async () => {
            const root = await run(aws, [], { runPlugin: answering("VERIFYLIVE-IMDSPROBE user=root uid=0 curl=7 http=000 bytes=0") });
            expect(row(root, "metadataRefused")).to.deep.equal({ verdict: "fail", detail: "the shell runs as root (uid 0)" });
            const other = await run(aws, [], { runPlugin: answering("VERIFYLIVE-IMDSPROBE user=no_sudo_user uid=1002 curl=28 http=000 bytes=0") });
            expect(row(other, "metadataRefused")).to.deep.equal({
                verdict: "fail",
                detail: "the shell runs as no_sudo_user, not the grant's Run As user os_user_a_alice",
            });
        });

        it("no answer in the output fails and says how the plugin ended; curl missing proves nothing and fails", async () => {
            const eof = await run(aws, [], {
                runPlugin: async () => ({ exitCode: 255, timedOut: false, stderr: "Cannot perform start session: EOF", stdout: "" }),
            });
            expect(row(eof, "metadataRefused")).to.deep.equal({
                verdict: "fail",
                detail: "no probe answer in the session's output; session-manager-plugin exited with 255 (Cannot perform start session: EOF)",
            });
            const noCurl = await run(aws, [], { runPlugin: answering("VERIFYLIVE-IMDSPROBE user=os_user_a_alice uid=1001 curl=127 http=none bytes=none") });
            expect(row(noCurl, "metadataRefused").detail).to.equal(
                "the token request proved nothing: curl is not on the instance, neither a refusal nor a token",
            );
        });

        it("without session-manager-plugin it is skipped, not passed", async () => {
            const result = await run(aws, ["--no-plugin"]);
            expect(row(result, "metadataRefused")).to.deep.equal({
                verdict: "skipped",
                detail: "needs session-manager-plugin: the probe is typed into the session's shell (no session-manager-plugin on PATH, or --no-plugin)",
            });
        });
    });

    describe("refusing to run", () => {
        it("refuses a partner profile in an account the their stack does not allow, before any other call", async () => {
            aws.override = (command, _input, signer) =>
                command === "GetCallerIdentity" && signer === KEY.alice
                    ? { Account: "999999999999", Arn: "arn:aws:iam::999999999999:user/alice", UserId: "AIDAX" }
                    : undefined;
            const result = await run(aws);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain("--partner-profile alice-keys is account 999999999999");
            expect(result.stderr).to.contain(`aws:allowedAccountIds in ${path.join(FIXTURES_DIR, "Pulumi.their.yaml")} is ${PARTNER}`);
            expect(aws.requests.map((r) => r.command)).to.deep.equal(["GetCallerIdentity", "GetCallerIdentity"]);
            expect(result.pulumiCalls).to.deep.equal([]);
            expect(result.stdout).to.equal("");
        });

        it("refuses a yours profile in another account (the partner's, say)", async () => {
            aws.override = (command, _input, signer) =>
                command === "GetCallerIdentity" && signer === KEY.yours
                    ? { Account: PARTNER, Arn: `arn:aws:iam::${PARTNER}:user/x`, UserId: "AIDAY" }
                    : undefined;
            const result = await run(aws);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain(`--yours-profile yours-admin is account ${PARTNER}`);
            expect(aws.requests.every((r) => r.command === "GetCallerIdentity")).to.equal(true);
        });

        it("refuses a stack config without aws:allowedAccountIds, before any AWS call", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-"));
            const config = path.join(dir, "Pulumi.yours.yaml");
            fs.writeFileSync(config, "config:\n  aws:region: us-east-1\n  third-party-ssm-access:side: yours\n");
            const result = await run(aws, ["--yours-config", config]);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain("no aws:allowedAccountIds");
            expect(aws.requests).to.deep.equal([]);
        });

        it("refuses outputs saved without --show-secrets", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-"));
            const file = path.join(dir, "yours.json");
            fs.writeFileSync(file, JSON.stringify({ ...YOURS_OUTPUTS, grants: "[secret]" }));
            const result = await run(aws, ["--yours-outputs", file]);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain('output grants is "[secret]": save the outputs with --show-secrets');
            expect(result.pulumiCalls).to.deep.equal([]);
        });

        it("needs --person for a partner profile that is not an IAM user", async () => {
            aws.override = (command, _input, signer) =>
                command === "GetCallerIdentity" && signer === KEY.alice
                    ? {
                          Account: PARTNER,
                          Arn: `arn:aws:sts::${PARTNER}:assumed-role/AWSReservedSSO_Partner/alice@example.com`,
                          UserId: "AROA:alice@example.com",
                      }
                    : undefined;
            const result = await run(aws);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain("give --person <name>");
        });

        it("--help prints the usage and exits 0; an unknown argument exits 2; neither calls AWS", async () => {
            const help = await run(aws, ["--help"]);
            expect(help.code).to.equal(0);
            expect(help.stdout).to.match(/^usage: npm run verify:live -- --yours-profile P --partner-profile Q/);
            const unknown = await run(aws, ["--yours-stak", "x"]);
            expect(unknown.code).to.equal(2);
            expect(unknown.stderr).to.contain("unknown argument --yours-stak");
            expect(aws.requests).to.deep.equal([]);
        });
    });

    describe("pieces", () => {
        it("reads aws:allowedAccountIds as a list or as the JSON string `pulumi config set` stores", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-"));
            const file = path.join(dir, "Pulumi.prod.yaml");
            fs.writeFileSync(file, `config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: '["${YOURS}"]'\n`);
            expect(readStackFacts(file)).to.deep.equal({ file, allowedAccountIds: [YOURS], region: "eu-west-1", partnerName: undefined });
            expect(readStackFacts(path.join(FIXTURES_DIR, "Pulumi.their.yaml"))).to.include({ region: "us-east-1", partnerName: "Third_Party_A" });
        });

        it("finds a fully qualified stack's config file by its short name, and an IAM user's name under a path", () => {
            expect(path.basename(defaultConfigFile("organization/third-party-ssm-access/their"))).to.equal("Pulumi.their.yaml");
            expect(iamUserName(`arn:aws-cn:iam::${PARTNER}:user/partners/alice`)).to.equal("alice");
            expect(iamUserName(`arn:aws:sts::${PARTNER}:assumed-role/Role/alice`)).to.equal(undefined);
        });

        it("refuses a partner the yours stack has no grant for, naming the grants it has", async () => {
            const result = await run(aws, ["--partner", "Third_Party_C"]);
            expect(result.code).to.equal(2);
            expect(result.stderr).to.contain("has no grant for Third_Party_C (it has: Third_Party_A, Third_Party_B)");
        });

        it("opens the session on a running instance of the grant's, or on the one given", async () => {
            const STOPPED = "i-0eeeeeeeeeeeeeee5";
            const outputs = {
                ...YOURS_OUTPUTS,
                grants: { ...YOURS_OUTPUTS.grants, Third_Party_A: { ...YOURS_OUTPUTS.grants.Third_Party_A, instanceIds: [STOPPED, OWN] } },
            };
            aws.override = (command, _input, signer) =>
                command === "DescribeInstances" && signer === KEY.grant
                    ? { Reservations: [{ Instances: [{ InstanceId: STOPPED, State: { Name: "stopped" } }, INSTANCES[0]] }] }
                    : undefined;
            const running = await run(aws, [], {
                pulumi: async (args) => JSON.stringify(args[args.length - 1] === "yours" ? outputs : THEIR_OUTPUTS),
            });
            expect(aws.calls("StartSession")[0].Target).to.equal(OWN);
            expect(row(running, "sessionOwn").verdict).to.equal("pass");

            aws.requests.length = 0;
            const given = await run(aws, ["--instance", "i-0ddddddddddddddd4"]);
            expect(aws.calls("StartSession")[0].Target).to.equal("i-0ddddddddddddddd4");
            expect(row(given, "sessionOwn").verdict).to.equal("fail");
            expect([...aws.openSessions]).to.deep.equal([]);
        });

        it("runs session-manager-plugin as the AWS CLI does: the session in an environment variable, the grant's keys, the probe typed, input open until it answers", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-plugin-"));
            const seen = path.join(dir, "seen.json");
            const plugin = path.join(dir, "session-manager-plugin");
            // A stand-in plugin: echoes what it is typed as a terminal does, answers 200 ms later as the shell would, and records
            // its arguments, the variables it was given, what it was typed, and whether its input ended only after the answer.
            fs.writeFileSync(
                plugin,
                `#!/usr/bin/env node\nlet input = "";\nlet answered = false;\nprocess.stdin.setEncoding("utf8");\n` +
                    `process.stdin.on("data", (chunk) => {\n  input += chunk;\n  process.stdout.write(chunk.replace(/\\n/g, "\\r\\n"));\n` +
                    `  setTimeout(() => { answered = true; process.stdout.write("VERIFYLIVE-IMDSPROBE user=os_user_a_alice uid=1001 curl=7 http=000 bytes=0\\r\\n"); }, 200);\n});\n` +
                    `process.stdin.on("end", () => {\n  require("fs").writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ args: process.argv.slice(2), response: process.env[process.argv[2]], ` +
                    `key: process.env.AWS_ACCESS_KEY_ID, token: process.env.AWS_SESSION_TOKEN, profile: process.env.AWS_PROFILE ?? null, input, endedAfterAnswer: answered }));\n` +
                    `  process.stderr.write("done\\n");\n});\n`,
                { mode: 0o755 },
            );
            expect(findOnPath("session-manager-plugin", dir)).to.equal(plugin);
            // A profile in the environment must not reach the plugin: it would sign as someone else.
            const profileBefore = process.env.AWS_PROFILE;
            process.env.AWS_PROFILE = "yours-admin";
            const outcome = await spawnPlugin(plugin, {
                sessionId: "alice-0123",
                streamUrl: "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/alice-0123",
                tokenValue: "secret-token",
                target: OWN,
                documentName: SESSION_PREFERENCES_DOCUMENT,
                region: "us-east-1",
                endpoint: "https://ssm.us-east-1.amazonaws.com",
                credentials: { accessKeyId: KEY.grant, secretAccessKey: "secret", sessionToken: "token" },
                input: METADATA_PROBE,
                endInputWhen: PROBE_ANSWER,
                timeoutMs: 60000,
            }).finally(() => {
                if (profileBefore === undefined) delete process.env.AWS_PROFILE;
                else process.env.AWS_PROFILE = profileBefore;
            });
            expect(outcome).to.include({ exitCode: 0, timedOut: false, stderr: "done" });
            expect(outcome.stdout).to.match(/bytes=0\r\n$/);
            expect(outcome.stdout.split("\r\n").filter((line) => PROBE_ANSWER.test(line))).to.deep.equal([
                "VERIFYLIVE-IMDSPROBE user=os_user_a_alice uid=1001 curl=7 http=000 bytes=0",
            ]);
            const recorded = JSON.parse(fs.readFileSync(seen, "utf8"));
            expect(recorded.args).to.deep.equal([
                "AWS_SSM_START_SESSION_RESPONSE_VERIFY_LIVE",
                "us-east-1",
                "StartSession",
                "",
                JSON.stringify({ Target: OWN, DocumentName: SESSION_PREFERENCES_DOCUMENT }),
                "https://ssm.us-east-1.amazonaws.com",
            ]);
            expect(JSON.parse(recorded.response)).to.deep.equal({
                SessionId: "alice-0123",
                StreamUrl: "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/alice-0123",
                TokenValue: "secret-token",
            });
            // The plugin ends its session at the end of its input: the input must stay open until the shell has answered.
            expect(recorded).to.include({ key: KEY.grant, token: "token", profile: null, input: METADATA_PROBE, endedAfterAnswer: true });
            expect(recorded.args.join(" ")).not.to.contain("secret-token");
        });

        it("stops a plugin that does not end by itself", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-plugin-"));
            const plugin = path.join(dir, "session-manager-plugin");
            fs.writeFileSync(plugin, "#!/usr/bin/env node\nsetInterval(() => undefined, 1000);\n", { mode: 0o755 });
            const outcome = await spawnPlugin(plugin, {
                sessionId: "s",
                streamUrl: "wss://x",
                tokenValue: "t",
                target: OWN,
                documentName: SESSION_PREFERENCES_DOCUMENT,
                region: "us-east-1",
                endpoint: "",
                credentials: { accessKeyId: KEY.grant, secretAccessKey: "secret" },
                input: "exit\n",
                timeoutMs: 300,
            });
            expect(outcome.timedOut).to.equal(true);
            expect(outcome.exitCode).to.equal(null);
        });
    });
});
