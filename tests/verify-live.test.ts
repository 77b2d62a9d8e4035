// `npm run verify:live` against a mocked AWS SDK (aws-sdk-client-mock): a fake AWS that
// answers as the deployed stacks are designed to (the partner's person, its jump role,
// its grant role, the instances), bent per test. Checks the calls made (command inputs
// and whose credentials signed them), the verdicts drawn from AWS errors, the log
// stream polling on a fake clock, and the refusal to run against an account the
// stacks do not allow. Nothing here reaches AWS.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CancelCommandCommand, SendCommandCommand, SSMClient, StartSessionCommand, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { iamUserName } from "../tools/live/accounts";
import { sdkClients } from "../tools/live/aws";
import { runLiveCheck, type CliDeps } from "../tools/live/cli";
import { CHECKS, PORT_FORWARDING_DOCUMENT, RUN_COMMAND_DOCUMENT, type CheckId } from "../tools/live/plan";
import { findOnPath, spawnPlugin, type PluginSession } from "../tools/live/plugin";
import { defaultConfigFile, readStackFacts } from "../tools/live/stacks";
import { FIXTURES_DIR } from "../tools/mock-engine";

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
    override: Override = () => undefined;
    /** Which look at the log group first finds the session's stream (Infinity: never). */
    streamOnLook = 1;
    /** Every request, in order: command, input, signer. */
    readonly requests: Array<{ command: string; input: any; signer: string }> = [];
    readonly openSessions = new Set<string>();
    private sessionCount = 0;
    private looks = 0;

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
    }

    /** A session as SSM answers StartSession; opened until terminated. */
    newSession(): { SessionId: string; StreamUrl: string; TokenValue: string } {
        const id = `alice-0${++this.sessionCount}abcdef0123456789`;
        this.openSessions.add(id);
        return { SessionId: id, StreamUrl: `wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/${id}`, TokenValue: `token-${id}` };
    }

    restore(): void {
        for (const mock of [this.sts, this.ssm, this.ec2, this.logs]) mock.restore();
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
            input.SourceIdentity === undefined
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

/** Runs the CLI against the fake AWS, on a fake clock. */
async function run(aws: FakeAws, args: string[] = [], deps: Partial<CliDeps> = {}): Promise<Run> {
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
            return JSON.stringify(stack === "yours" ? YOURS_OUTPUTS : THEIR_OUTPUTS);
        },
        now: () => clock,
        sleep: async (ms) => {
            sleeps.push(ms);
            clock += ms;
        },
        findPlugin: () => undefined,
        runPlugin: async (_path, session) => {
            pluginSessions.push(session);
            return { exitCode: 0, timedOut: false, stderr: "" };
        },
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
        ...deps,
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

const verdicts = (result: Run) => Object.fromEntries((Object.keys(CHECKS) as CheckId[]).map((id) => [id, row(result, id).verdict]));

describe("verify:live against a mocked AWS", () => {
    let aws: FakeAws;
    beforeEach(() => (aws = new FakeAws()));
    afterEach(() => aws.restore());

    describe("stacks as designed", () => {
        let result: Run;
        beforeEach(async () => (result = await run(aws)));

        it("passes every check and exits 0", () => {
            expect(verdicts(result)).to.deep.equal(Object.fromEntries(Object.keys(CHECKS).map((id) => [id, "pass"])));
            expect(result.code).to.equal(0);
            expect(result.stdout).to.contain("15 passed, 0 failed, 0 skipped");
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
            const commands = new Set(aws.requests.map((r) => r.command));
            expect([...commands].sort()).to.deep.equal(
                ["AssumeRole", "DescribeInstances", "DescribeLogStreams", "GetCallerIdentity", "SendCommand", "StartSession", "TerminateSession"].sort(),
            );
            // The yours profile only reads.
            expect([...new Set(aws.requests.filter((r) => r.signer === KEY.yours).map((r) => r.command))].sort()).to.deep.equal([
                "DescribeInstances",
                "DescribeLogStreams",
                "GetCallerIdentity",
            ]);
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
            expect(all.stacksAgree).to.equal("pass");
            expect(all.jumpRole).to.equal("fail");
            expect(Object.entries(all).filter(([id]) => id !== "stacksAgree" && id !== "jumpRole")).to.satisfy((rows: string[][]) =>
                rows.every(([, verdict]) => verdict === "skipped"),
            );
            expect(aws.calls("AssumeRole")).to.have.length(1);
            expect(aws.requests.filter((r) => r.command !== "AssumeRole" && r.command !== "GetCallerIdentity")).to.deep.equal([]);
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

    describe("the session's log stream", () => {
        it("without session-manager-plugin, no stream within the timeout is skipped (needs the plugin), after a bounded number of looks", async () => {
            aws.streamOnLook = Infinity;
            const result = await run(aws, ["--log-timeout", "60"]);
            expect(row(result, "logStream").verdict).to.equal("skipped");
            expect(row(result, "logStream").detail).to.match(
                /^needs session-manager-plugin: no stream named alice-01abcdef0123456789 in SSMSessionManager_LogGroup after 60 s/,
            );
            // One look at 0 s, then one every 5 s up to 60 s.
            expect(aws.calls("DescribeLogStreams", KEY.yours)).to.have.length(13);
            expect(result.sleeps.reduce((a, b) => a + b, 0)).to.equal(60000);
            expect(result.code).to.equal(0);
            expect(result.stdout).to.contain("14 passed, 0 failed, 1 skipped (skipped: logStream)");
        });

        it("with session-manager-plugin, the plugin gets the session and the grant's credentials before it is terminated", async () => {
            aws.streamOnLook = 3;
            const result = await run(aws, [], { findPlugin: () => "/usr/local/bin/session-manager-plugin" });
            expect(result.pluginSessions).to.have.length(1);
            const [session] = result.pluginSessions;
            expect(session).to.include({
                sessionId: "alice-01abcdef0123456789",
                tokenValue: "token-alice-01abcdef0123456789",
                target: OWN,
                documentName: SESSION_PREFERENCES_DOCUMENT,
                region: "us-east-1",
                endpoint: "https://ssm.us-east-1.amazonaws.com",
                input: "exit\n",
            });
            expect(session.credentials.accessKeyId).to.equal(KEY.grant);
            expect(aws.calls("TerminateSession")).to.have.length(1);
            expect(row(result, "logStream")).to.deep.equal({ verdict: "pass", detail: "stream alice-01abcdef0123456789 in SSMSessionManager_LogGroup" });
            expect(aws.calls("DescribeLogStreams", KEY.yours)).to.have.length(3);
        });

        it("with session-manager-plugin, no stream within the timeout fails and says how the plugin ended", async () => {
            aws.streamOnLook = Infinity;
            const result = await run(aws, ["--log-timeout", "10"], {
                findPlugin: () => "/usr/local/bin/session-manager-plugin",
                runPlugin: async () => ({ exitCode: 255, timedOut: false, stderr: "Cannot perform start session: EOF" }),
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

        it("runs session-manager-plugin as the AWS CLI does: the session in an environment variable, the grant's keys, `exit` typed", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-plugin-"));
            const seen = path.join(dir, "seen.json");
            const plugin = path.join(dir, "session-manager-plugin");
            // A stand-in plugin: records its arguments, the variables it was given, and what it was typed.
            fs.writeFileSync(
                plugin,
                `#!/usr/bin/env node\nconst input = require("fs").readFileSync(0, "utf8");\n` +
                    `require("fs").writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ args: process.argv.slice(2), response: process.env[process.argv[2]], ` +
                    `key: process.env.AWS_ACCESS_KEY_ID, token: process.env.AWS_SESSION_TOKEN, profile: process.env.AWS_PROFILE ?? null, input }));\n` +
                    `process.stderr.write("done\\n");\n`,
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
                input: "exit\n",
                timeoutMs: 60000,
            }).finally(() => {
                if (profileBefore === undefined) delete process.env.AWS_PROFILE;
                else process.env.AWS_PROFILE = profileBefore;
            });
            expect(outcome).to.deep.equal({ exitCode: 0, timedOut: false, stderr: "done" });
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
            expect(recorded).to.include({ key: KEY.grant, token: "token", profile: null, input: "exit\n" });
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
