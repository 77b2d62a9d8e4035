// The AWS behaviour rules (tools/access/aws-behaviour.ts): the stacks as the program
// produces them contradict none; each fix, undone in what the program registered, is
// reported by its rule, and by the review.

import { expect } from "chai";
import { metadataGuardDocument, FIREWALL_SERVICES, firewallDropInPath, METADATA_GUARD_PATHS } from "../components/metadata-guard-scripts";
import { AWS_BEHAVIOUR_RULES, awsBehaviourFindings } from "../tools/access/aws-behaviour";
import { only, resolve, runProgram, SAMPLE_STACKS, PROJECT, type ProgramRun, type RecordedResource } from "../tools/mock-engine";
import { analyze } from "../tools/review/analyze";

// Far ahead: a schedule is made only for an end still ahead when the program runs.
const A_ENDS = "2099-03-31T23:59:59Z";

async function run(stack: "yours" | "their", set?: Record<string, unknown>, stacks = SAMPLE_STACKS): Promise<ProgramRun> {
    const result = await runProgram({ stack, set, stacks });
    if (result.error) throw result.error;
    return result;
}

// A copy of a run whose resources' inputs may be changed without leaking into another test.
const copy = (r: ProgramRun): ProgramRun => ({ ...r, resources: r.resources.map((x) => ({ ...x, inputs: structuredClone(x.inputs) })) });
const findingsOf = async (runs: ProgramRun[], rule: string) => (await awsBehaviourFindings(runs)).filter((f) => f.rule.id === rule).map((f) => f.message);
const changePolicy = (resource: RecordedResource, key: string, change: (document: { Statement: any[] }) => void) => {
    const document = JSON.parse(resource.inputs[key]);
    change(document);
    resource.inputs[key] = JSON.stringify(document);
};

describe("AWS behaviour rules", () => {
    let yours: ProgramRun;
    let their: ProgramRun;
    before(async () => {
        yours = await run("yours", { "partners[0].expiresAt": A_ENDS });
        // The their stack fed the grants this yours stack really outputs.
        const grants = (await resolve(yours.outputs.grants as object)).value;
        their = await run("their", undefined, {
            ...SAMPLE_STACKS,
            [`organization/${PROJECT}/yours`]: { outputs: { grants, region: "us-east-1" }, secretOutputNames: ["grants"] },
        });
    });

    it("each names what AWS does and the document that says so", () => {
        expect(AWS_BEHAVIOUR_RULES.length).to.be.at.least(9);
        for (const rule of AWS_BEHAVIOUR_RULES) {
            expect(rule.behaviour.length, rule.id).to.be.greaterThan(60);
            expect(rule.source, rule.id).to.match(/Guide|Reference|amazon-ssm-agent|\(\d\)|issue/);
        }
        expect(new Set(AWS_BEHAVIOUR_RULES.map((r) => r.id)).size).to.equal(AWS_BEHAVIOUR_RULES.length);
    });

    it("the stacks as produced contradict none, an archive of your own included", async () => {
        expect((await awsBehaviourFindings([yours, their])).map((f) => `${f.rule.id}: ${f.message}`)).to.deep.equal([]);
        const archived = await run("yours", { "sessions.archiveBucketName": "log-archive-transcripts" });
        expect((await awsBehaviourFindings([archived])).map((f) => f.message)).to.deep.equal([]);
    });

    it("alerts: an EventBridge key statement conditioned on aws:SourceAccount (KMS refuses it, no alert is delivered)", async () => {
        const changed = copy(yours);
        changePolicy(only(changed, "aws:kms/keyPolicy:KeyPolicy", "alerts-key"), "policy", (d) => {
            for (const s of d.Statement.filter((s) => s.Principal?.Service)) s.Condition = { StringEquals: { "aws:SourceAccount": "111111111111" } };
        });
        expect(await findingsOf([changed], "eventbridge-encrypted-topic")).to.deep.equal([
            "topic alerts-topic: key alerts-key's statement EventBridgeEncryptsForTheAlertTopic conditions on aws:SourceAccount or aws:SourceArn",
        ]);
        changePolicy(
            only(changed, "aws:kms/keyPolicy:KeyPolicy", "alerts-key"),
            "policy",
            (d) => (d.Statement = d.Statement.filter((s) => !s.Principal?.Service)),
        );
        expect(await findingsOf([changed], "eventbridge-encrypted-topic")).to.deep.equal([
            "topic alerts-topic: its key alerts-key does not let EventBridge (events service principal) generate data keys and decrypt",
        ]);
    });

    it("is not fooled by trivially different inputs: wildcard actions, another topic, an allowing operator, a disabled schedule, a Deny", async () => {
        // A key statement for EventBridge that names another topic, or allows only Decrypt.
        const otherTopic = copy(yours);
        changePolicy(only(otherTopic, "aws:kms/keyPolicy:KeyPolicy", "alerts-key"), "policy", (d) => {
            for (const s of d.Statement.filter((s) => s.Principal?.Service))
                s.Condition = { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:111111111111:another" } };
        });
        expect(await findingsOf([otherTopic], "eventbridge-encrypted-topic")).to.deep.equal([
            "topic alerts-topic: key alerts-key's statement EventBridgeEncryptsForTheAlertTopic names another topic (arn:aws:sns:us-east-1:111111111111:another)",
        ]);
        const decryptOnly = copy(yours);
        changePolicy(only(decryptOnly, "aws:kms/keyPolicy:KeyPolicy", "alerts-key"), "policy", (d) => {
            for (const s of d.Statement.filter((s) => s.Principal?.Service)) s.Action = "kms:Decrypt";
        });
        expect(await findingsOf([decryptOnly], "eventbridge-encrypted-topic")).to.have.length(1);
        // A trust allowing sts:* without the region.
        const wildcard = copy(yours);
        changePolicy(only(wildcard, "aws:iam/role:Role", "grant-Third_Party_A-role"), "assumeRolePolicy", (d) => {
            for (const s of d.Statement) {
                s.Action = "sts:*";
                delete s.Condition.StringEquals["aws:RequestedRegion"];
            }
        });
        expect(await findingsOf([wildcard], "regional-sts")).to.have.length(1);
        // A secret "policy" whose condition allows instead of refusing.
        const allowing = copy(their);
        changePolicy(only(allowing, "aws:secretsmanager/secretPolicy:SecretPolicy"), "policy", (d) => {
            for (const s of d.Statement) s.Condition = { ArnEquals: s.Condition.ArnNotEquals };
        });
        expect(await findingsOf([allowing], "secrets-same-account")).to.have.length(1);
        // The end-of-access schedule disabled.
        const disabled = copy(yours);
        only(disabled, "aws:scheduler/schedule:Schedule").inputs.state = "DISABLED";
        expect(await findingsOf([disabled], "sessions-outlive-iam")).to.deep.equal([
            `Third_Party_A's access ends at ${A_ENDS}, and nothing ends its OS user os_user_a_alice then`,
        ]);
        // The kept list applied once, never again.
        const once = copy(yours);
        delete only(once, "aws:ssm/association:Association", "offboarding-keep-os-users").inputs.scheduleExpression;
        expect(await findingsOf([once], "sessions-outlive-iam")).to.deep.equal([
            "the association keeping the granted OS users runs once, not rate(30 minutes)",
        ]);
        // A Deny on the archive in the S3 endpoint's policy.
        const denied = copy(await run("yours", { "sessions.archiveBucketName": "log-archive-transcripts" }));
        const gateway = denied.resources.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && String(r.inputs.serviceName).endsWith(".s3"))!;
        changePolicy(gateway, "policy", (d) => d.Statement.push({ Effect: "Deny", Principal: "*", Action: "s3:Put*", Resource: "arn:aws:s3:::log-archive-*" }));
        expect(await findingsOf([denied], "gateway-endpoint-archive")).to.have.length(1);
    });

    it("regions: a grant trust that forgets aws:RequestedRegion", async () => {
        const changed = copy(yours);
        changePolicy(only(changed, "aws:iam/role:Role", "grant-Third_Party_A-role"), "assumeRolePolicy", (d) => {
            for (const s of d.Statement) delete s.Condition.StringEquals["aws:RequestedRegion"];
        });
        expect(await findingsOf([changed], "regional-sts")).to.deep.equal([
            "grant role SSMStartSession_IAM_Role_Third_Party_A may be assumed through another region's STS endpoint than us-east-1, where the alert rule listens",
        ]);
    });

    it("running sessions: no schedule at an expiry, a kept list that still holds a removed partner, no kept list at all", async () => {
        const noSchedule = copy(yours);
        noSchedule.resources = noSchedule.resources.filter((r) => r.type !== "aws:scheduler/schedule:Schedule");
        expect(await findingsOf([noSchedule], "sessions-outlive-iam")).to.deep.equal([
            `Third_Party_A's access ends at ${A_ENDS}, and nothing ends its OS user os_user_a_alice then`,
        ]);
        const stale = copy(yours);
        only(stale, "aws:ssm/association:Association", "offboarding-keep-os-users").inputs.parameters.grantedUsers += " os_user_z_gone";
        expect(await findingsOf([stale], "sessions-outlive-iam")).to.deep.equal([
            "the instances keep os_user_a_alice@4078684799, os_user_b_bob, os_user_z_gone, not the granted os_user_a_alice@4078684799, os_user_b_bob",
        ]);
        const none = copy(yours);
        none.resources = none.resources.filter((r) => r.name !== "offboarding-keep-os-users" || r.type !== "aws:ssm/association:Association");
        expect(await findingsOf([none], "sessions-outlive-iam")).to.deep.equal([
            "nothing ends the OS user of a partner removed from the config: no association keeps only the granted OS users",
        ]);
    });

    it("Run As: a grant running sessions as an account outside the program's namespace", async () => {
        const changed = copy(yours);
        only(changed, "aws:iam/role:Role", "grant-Third_Party_B-role").inputs.tags.SSMSessionRunAs = "deploy";
        expect(await findingsOf([changed], "run-as-existing-user")).to.deep.equal([
            "grant role SSMStartSession_IAM_Role_Third_Party_B runs sessions as deploy, outside the program's namespace (os_user_...)",
        ]);
    });

    it("firewall reloads: a guard installer without the re-apply hooks", async () => {
        const changed = copy(yours);
        const document = only(changed, "aws:ssm/document:Document", "metadata-guard-close-metadata");
        const content = metadataGuardDocument();
        content.mainSteps[0].inputs.runCommand = content.mainSteps[0].inputs.runCommand.map((l) =>
            l.split(METADATA_GUARD_PATHS.reapplyTimer).join("/tmp/elsewhere"),
        );
        document.inputs.content = JSON.stringify(content);
        expect(await findingsOf([changed], "firewall-reload")).to.deep.equal([
            `document metadata-guard-close-metadata installs the guard without re-applying it after a firewall reload (missing ${METADATA_GUARD_PATHS.reapplyTimer})`,
        ]);
        expect(FIREWALL_SERVICES.every((s) => JSON.stringify(metadataGuardDocument()).includes(firewallDropInPath(s)))).to.equal(true);
    });

    it("parameters: a parameter pasted into the script", async () => {
        const changed = copy(yours);
        const document = only(changed, "aws:ssm/document:Document", "os-users-create-os-user");
        const content = JSON.parse(document.inputs.content);
        delete content.parameters.userName.interpolationType;
        content.mainSteps[0].inputs.runCommand.push("echo '{{ userName }}'");
        document.inputs.content = JSON.stringify(content);
        expect(await findingsOf([changed], "parameter-interpolation")).to.deep.equal([
            "document os-users-create-os-user: parameter userName is pasted into the script",
            "document os-users-create-os-user: its steps substitute {{ }} into their text",
        ]);
    });

    it("stored keys: a secret without the policy refusing colleagues", async () => {
        const changed = copy(their);
        changed.resources = changed.resources.filter((r) => r.type !== "aws:secretsmanager/secretPolicy:SecretPolicy");
        expect(await findingsOf([changed], "secrets-same-account")).to.deep.equal([
            "secret remote-access-alice-access-key refuses nobody: any principal of account 222222222222 allowed secretsmanager:GetSecretValue reads it",
        ]);
    });

    it("own sessions: a person whose name has a comma", async () => {
        const changed = copy(their);
        only(changed, "aws:iam/user:User").inputs.name = "alice,ops";
        expect(await findingsOf([changed], "session-id-comma")).to.deep.equal([
            "IAM user alice,ops has a comma in its name, which becomes its role session name",
        ]);
    });

    it("an archive of your own: an S3 endpoint that admits only this account's buckets", async () => {
        const changed = copy(await run("yours", { "sessions.archiveBucketName": "log-archive-transcripts" }));
        const gateway = changed.resources.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && String(r.inputs.serviceName).endsWith(".s3"))!;
        changePolicy(gateway, "policy", (d) => (d.Statement = d.Statement.filter((s) => s.Sid !== "PrincipalsOfThisAccountArchiveTranscripts")));
        expect(await findingsOf([changed], "gateway-endpoint-archive")).to.deep.equal([
            "the S3 gateway endpoint refuses transcripts to log-archive-transcripts when that bucket is in another account",
        ]);
    });

    it("the review reports a contradiction as a warning, with what AWS does and the source", async () => {
        const changed = copy(yours);
        only(changed, "aws:iam/role:Role", "grant-Third_Party_B-role").inputs.tags.SSMSessionRunAs = "deploy";
        const report = await analyze({ main: changed, referenced: [] }, "2027-01-15T12:00:00Z");
        const warning = report.findings.find((f) => f.message.startsWith("AWS behaviour: partners run as users the program owns:"));
        expect(warning?.severity).to.equal("warning");
        expect(warning?.message).to.include("amazon-ssm-agent agent/session/shell/shell_unix.go");
        const clean = await analyze({ main: yours, referenced: [] }, "2027-01-15T12:00:00Z");
        expect(clean.findings.filter((f) => f.message.startsWith("AWS behaviour:"))).to.deep.equal([]);
    });
});
