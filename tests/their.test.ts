// The third party's stack and the stack references between the two accounts: the
// three bootstrap phases run with each phase's real outputs fed to the next, the
// plain-config fallbacks, the errors, the CLI profile, and what the identities allow.

import { expect } from "chai";
import { statementsOf } from "../components/policies";
import { ofType, only, resolve, runProgram, SAMPLE_STACKS, type FakeStack, type ProgramRun } from "../tools/mock-engine";

const YOURS_STACK = "organization/third-party-ssm-access/yours";
const THEIR_STACK = "organization/third-party-ssm-access/their";
const JUMP_ARN = "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role";
const GRANT_ARN = "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Third_Party_A";

async function their(options: { set?: Record<string, unknown>; secretKeys?: string[]; stacks?: Record<string, FakeStack> } = {}): Promise<ProgramRun> {
    const run = await runProgram({ stack: "their", ...options });
    if (run.error) throw run.error;
    return run;
}

const value = async <T>(output: unknown) => (await resolve(output as T)).value;
const jumpPolicy = (run: ProgramRun) => statementsOf(only(run, "aws:iam/rolePolicy:RolePolicy", "remote-access-assume-grant").inputs.policy);

describe("their stack and stack references: the three bootstrap phases", () => {
    const phase1Config = { yoursStack: undefined };

    it("phase 1, their stack alone: group, user, jump role; grant ARN computed, no external id yet", async () => {
        const run = await their({ set: phase1Config });
        expect(ofType(run, "pulumi:pulumi:StackReference")).to.deep.equal([]);
        expect(await value(run.outputs.jumpRoleArn)).to.equal(JUMP_ARN);
        expect(await value(run.outputs.grantRoleArn)).to.equal(GRANT_ARN);
        const [assume] = jumpPolicy(run);
        expect(assume).to.deep.equal({
            Sid: "AssumeTheRole",
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Resource: GRANT_ARN,
            Condition: { StringEquals: { "sts:RoleSessionName": "${aws:SourceIdentity}" } },
        });
        expect(await value(run.outputs.awsCliConfig)).to.match(/external id is not known yet/);
    });

    it("phase 2, yours reads their jumpRoleArn; phase 3, their reads yours' grants: the chain closes with real outputs", async () => {
        const phase1 = await their({ set: phase1Config });
        const theirOutputs = { jumpRoleArn: await value(phase1.outputs.jumpRoleArn) };

        const phase2 = await runProgram({ stack: "yours", stacks: { [THEIR_STACK]: { outputs: theirOutputs } } });
        expect(phase2.error).to.equal(undefined);
        const trust = statementsOf(only(phase2, "aws:iam/role:Role", "grant-Third_Party_A-role").inputs.assumeRolePolicy);
        expect(trust[0].Condition!.ArnEquals).to.deep.equal({ "aws:PrincipalArn": [JUMP_ARN] });
        const grants = await resolve(phase2.outputs.grants as any);
        const externalId: string = (grants.value as any).Third_Party_A.externalId;

        const phase3 = await their({
            stacks: { [YOURS_STACK]: { outputs: { grants: grants.value, region: await value(phase2.outputs.region) }, secretOutputNames: ["grants"] } },
        });
        expect(only(phase3, "pulumi:pulumi:StackReference").inputs.name).to.equal(YOURS_STACK);
        expect(await value(phase3.outputs.grantRoleArn)).to.equal(GRANT_ARN);
        expect(jumpPolicy(phase3)[0].Condition).to.deep.equal({
            StringEquals: { "sts:ExternalId": externalId, "sts:RoleSessionName": "${aws:SourceIdentity}" },
        });
        expect(await value(phase3.outputs.awsCliConfig)).to.include(`external_id = ${externalId}`);
        expect(await value(phase3.outputs.startSessionCommands)).to.deep.equal([
            "aws ssm start-session --target instances-instance-third-party-a-id --document-name SSM-SessionManagerRunShell --profile third_party_a-alice",
        ]);
    });
});

describe("their stack: fallbacks and errors", () => {
    it("takes the grant role ARN and a secret external id from plain config", async () => {
        const run = await their({
            set: { yoursStack: undefined, grantRoleArn: "arn:aws:iam::111111111111:role/CustomGrant", externalId: "given-by-the-owner-123" },
            secretKeys: ["externalId"],
        });
        expect(jumpPolicy(run)[0]).to.deep.include({
            Resource: "arn:aws:iam::111111111111:role/CustomGrant",
            Condition: { StringEquals: { "sts:ExternalId": "given-by-the-owner-123", "sts:RoleSessionName": "${aws:SourceIdentity}" } },
        });
        expect(only(run, "aws:iam/rolePolicy:RolePolicy", "remote-access-assume-grant").secretInputs).to.include("policy");
    });

    it("computes the grant role ARN from yoursAccountId and grantRoleName", async () => {
        const run = await their({ set: { yoursStack: undefined, grantRoleName: "VendorShell" } });
        expect(await value(run.outputs.grantRoleArn)).to.equal("arn:aws:iam::111111111111:role/VendorShell");
    });

    it("names the stack and the output when yours has no grants output", async () => {
        const run = await runProgram({ stack: "their", stacks: { [YOURS_STACK]: { outputs: {} } } });
        expect(String(run.error))
            .to.match(/grants/)
            .and.include(YOURS_STACK);
    });

    it("names the stack, the output and the partner when the grant is not there", async () => {
        const run = await runProgram({
            stack: "their",
            stacks: { [YOURS_STACK]: { outputs: { grants: { Someone_Else: { roleArn: GRANT_ARN, externalId: "x1" } } } } },
        });
        expect(String(run.error)).to.include(`stack ${YOURS_STACK}: output grants has no entry "Third_Party_A" (it has: Someone_Else)`);
    });

    it("names the field when the grant has no external id", async () => {
        const run = await runProgram({ stack: "their", stacks: { [YOURS_STACK]: { outputs: { grants: { Third_Party_A: { roleArn: GRANT_ARN } } } } } });
        expect(String(run.error)).to.include(`stack ${YOURS_STACK}: output grants.Third_Party_A.externalId is missing`);
    });
});

describe("their stack: the CLI configuration", () => {
    let run: ProgramRun;
    before(async () => (run = await their()));

    it("is a secret output with a jump profile (source identity) and a grant profile (role_arn, source_profile, external_id)", async () => {
        const cli = await resolve(run.outputs.awsCliConfig as string);
        expect(cli.secret).to.equal(true);
        const text = cli.value;
        const externalId = (SAMPLE_STACKS[YOURS_STACK].outputs.grants as any).Third_Party_A.externalId;
        expect(text).to.include("[profile third_party_a-alice-jump]");
        expect(text).to.match(
            new RegExp(
                `credential_process = aws sts assume-role --profile third_party_a-alice-mfa --role-arn ${JUMP_ARN} --role-session-name alice --source-identity alice `,
            ),
        );
        const grantProfile = text.slice(text.indexOf("[profile third_party_a-alice]"));
        expect(grantProfile).to.include(`role_arn = ${GRANT_ARN}`);
        expect(grantProfile).to.include("source_profile = third_party_a-alice-jump");
        expect(grantProfile).to.include(`external_id = ${externalId}`);
        expect(grantProfile).to.include("region = us-east-1");
        expect(text).to.include("aws secretsmanager get-secret-value --secret-id");
    });

    it("gives the blog's list-instances command filtered by the access tag, and start-session commands", async () => {
        expect(await value(run.outputs.listInstancesCommand)).to.match(
            /^aws ec2 describe-instances --profile third_party_a-alice --filters "Name=tag:ExternalAccessGrantedTo,Values=Third_Party_A" --query '.*' --output table$/,
        );
        expect(await value(run.outputs.startSessionCommands)).to.deep.equal([
            "aws ssm start-session --target instances-instance-third-party-a-id --document-name SSM-SessionManagerRunShell --profile third_party_a-alice",
        ]);
    });

    it("keeps every secret secret: CLI config, stored access key, jump role policy with the external id", async () => {
        expect((await resolve(run.outputs.awsCliConfig as string)).secret).to.equal(true);
        expect(only(run, "aws:secretsmanager/secretVersion:SecretVersion").secretInputs).to.include("secretString");
        expect(only(run, "aws:iam/rolePolicy:RolePolicy", "remote-access-assume-grant").secretInputs).to.include("policy");
        for (const name of ["jumpRoleArn", "grantRoleArn", "listInstancesCommand"]) {
            expect((await resolve(run.outputs[name] as string)).secret, name).to.equal(false);
        }
    });
});

describe("their stack: what the identities allow", () => {
    let run: ProgramRun;
    before(async () => (run = await their()));

    it("creates GroupRemoteAccess with alice as its only member, and her key in Secrets Manager as JSON", () => {
        expect(only(run, "aws:iam/group:Group").inputs.name).to.equal("GroupRemoteAccess");
        expect(only(run, "aws:iam/groupMembership:GroupMembership").inputs).to.deep.include({ group: "GroupRemoteAccess", users: ["alice"] });
        expect(only(run, "aws:iam/user:User").inputs.name).to.equal("alice");
        const stored = JSON.parse(only(run, "aws:secretsmanager/secretVersion:SecretVersion").inputs.secretString);
        expect(Object.keys(stored)).to.deep.equal(["AccessKeyId", "SecretAccessKey"]);
        expect(stored.AccessKeyId).to.equal(only(run, "aws:iam/accessKey:AccessKey").id);
    });

    it("gives the group only sts:AssumeRole (and SetSourceIdentity) on the jump role, as each user's own name, and users nothing of their own", () => {
        const group = statementsOf(only(run, "aws:iam/groupPolicy:GroupPolicy").inputs.policy);
        expect(group).to.deep.equal([
            {
                Sid: "AssumeTheRole",
                Effect: "Allow",
                Action: "sts:AssumeRole",
                Resource: JUMP_ARN,
                Condition: { StringEquals: { "sts:SourceIdentity": "${aws:username}", "sts:RoleSessionName": "${aws:username}" } },
            },
            {
                Sid: "SetSourceIdentityOnTheRole",
                Effect: "Allow",
                Action: "sts:SetSourceIdentity",
                Resource: JUMP_ARN,
                Condition: { StringEquals: { "sts:SourceIdentity": "${aws:username}" } },
            },
        ]);
        for (const type of [
            "aws:iam/userPolicy:UserPolicy",
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:iam/policy:Policy",
        ]) {
            expect(ofType(run, type), type).to.deep.equal([]);
        }
    });

    it("trusts the jump role only to the group's users, each as itself, and lets it assume only the grant role with the external id", () => {
        const trust = statementsOf(only(run, "aws:iam/role:Role", "remote-access-jump-role").inputs.assumeRolePolicy);
        // MFA by default for IAM users: long-term keys alone do not open a shell.
        const users = {
            ArnEquals: { "aws:PrincipalArn": ["arn:aws:iam::222222222222:user/alice"] },
            Bool: { "aws:MultiFactorAuthPresent": "true" },
            NumericLessThan: { "aws:MultiFactorAuthAge": "43200" },
        };
        expect(trust).to.deep.equal([
            {
                Sid: "RemoteAccessPrincipalsAssumeAsThemselves",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::222222222222:root" },
                Action: "sts:AssumeRole",
                Condition: { ...users, StringEquals: { "sts:SourceIdentity": "${aws:username}", "sts:RoleSessionName": "${aws:username}" } },
            },
            {
                Sid: "RemoteAccessPrincipalsSetTheirOwnSourceIdentity",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::222222222222:root" },
                Action: "sts:SetSourceIdentity",
                Condition: { ...users, StringEquals: { "sts:SourceIdentity": "${aws:username}" } },
            },
        ]);
        const externalId = (SAMPLE_STACKS[YOURS_STACK].outputs.grants as any).Third_Party_A.externalId;
        expect(jumpPolicy(run)).to.deep.equal([
            {
                Sid: "AssumeTheRole",
                Effect: "Allow",
                Action: "sts:AssumeRole",
                Resource: GRANT_ARN,
                Condition: { StringEquals: { "sts:ExternalId": externalId, "sts:RoleSessionName": "${aws:SourceIdentity}" } },
            },
            { Sid: "SetSourceIdentityOnTheRole", Effect: "Allow", Action: "sts:SetSourceIdentity", Resource: GRANT_ARN },
        ]);
        expect(only(run, "aws:iam/role:Role", "remote-access-jump-role").inputs).to.include({ name: "3P_IAM_Assume_Role", maxSessionDuration: 3600 });
    });

    it("with MFA (the default for IAM users): the jump role's trust asks for a recent MFA sign-in, and the CLI profile signs the jump step with one", async () => {
        const mfa = await their({ set: { "mfa.maxAgeSeconds": 28800 } });
        const trust = statementsOf(only(mfa, "aws:iam/role:Role", "remote-access-jump-role").inputs.assumeRolePolicy);
        for (const statement of trust)
            expect(statement.Condition).to.deep.include({
                Bool: { "aws:MultiFactorAuthPresent": "true" },
                NumericLessThan: { "aws:MultiFactorAuthAge": "28800" },
            });
        const text = (await resolve(mfa.outputs.awsCliConfig as string)).value;
        expect(text).to.include(
            "aws sts get-session-token --profile third_party_a-alice-keys --serial-number arn:aws:iam::222222222222:mfa/alice --token-code 123456",
        );
        expect(text).to.include("--duration-seconds 28800");
        // The jump step (with the source identity) signs with the MFA session, not the long-term keys.
        expect(text).to.include("credential_process = aws sts assume-role --profile third_party_a-alice-mfa --role-arn");
        // Opted out (mfa.required false): nothing about MFA.
        const without = await their({ set: { "mfa.required": false } });
        expect(statementsOf(only(without, "aws:iam/role:Role", "remote-access-jump-role").inputs.assumeRolePolicy)[0].Condition).to.not.have.property("Bool");
        expect((await resolve(without.outputs.awsCliConfig as string)).value).to.not.include("get-session-token");
    });

    it("refuses each stored key to everyone but the named administrators, the deploying principal and the account root, before the key is stored", async () => {
        const admin = "arn:aws:iam::222222222222:role/SecurityAdmin";
        const named = await their({ set: { credentialAdministrators: [admin] } });
        const secret = only(named, "aws:secretsmanager/secret:Secret");
        const policy = only(named, "aws:secretsmanager/secretPolicy:SecretPolicy");
        expect(policy.inputs).to.include({ secretArn: `arn:aws:secretsmanager:us-east-1:222222222222:secret:${secret.name}-AbCdEf`, blockPublicPolicy: true });
        expect(statementsOf(policy.inputs.policy)).to.deep.equal([
            {
                Sid: "OnlyTheCredentialAdministrators",
                Effect: "Deny",
                Principal: "*",
                Action: "secretsmanager:*",
                Resource: "*",
                Condition: {
                    ArnNotEquals: { "aws:PrincipalArn": ["arn:aws:iam::222222222222:root", admin, "arn:aws:iam::222222222222:user/mock-deployer"] },
                },
            },
        ]);
        expect(only(named, "aws:secretsmanager/secretVersion:SecretVersion").dependencies).to.include(policy.urn);
        expect(await value<string[]>(named.outputs.credentialAdministratorArns)).to.deep.equal([admin, "arn:aws:iam::222222222222:user/mock-deployer"]);
        // Without any named: the deployer alone (and the root).
        expect(statementsOf(only(run, "aws:secretsmanager/secretPolicy:SecretPolicy").inputs.policy)[0].Condition).to.deep.equal({
            ArnNotEquals: { "aws:PrincipalArn": ["arn:aws:iam::222222222222:root", "arn:aws:iam::222222222222:user/mock-deployer"] },
        });
    });

    it("refuses a credential administrator of another account, before any resource", async () => {
        const refused = await runProgram({ stack: "their", set: { credentialAdministrators: ["arn:aws:iam::999999999999:role/SecurityAdmin"] } });
        expect(String(refused.error)).to.match(
            /credentialAdministrators\[0\]: got "arn:aws:iam::999999999999:role\/SecurityAdmin"; accepted: a role or user of this stack's account 222222222222/,
        );
        expect(refused.resources.filter((r) => r.custom)).to.deep.equal([]);
    });

    it("rotates an access key by bumping its serial: a new key resource replaces the old", async () => {
        const rotated = await their({ set: { "users[0].accessKeySerial": 2 } });
        expect(ofType(run, "aws:iam/accessKey:AccessKey").map((k) => k.name)).to.deep.equal(["remote-access-alice-key-1"]);
        expect(ofType(rotated, "aws:iam/accessKey:AccessKey").map((k) => k.name)).to.deep.equal(["remote-access-alice-key-2"]);
    });

    it("with a federated principal instead of users: no group, no users, the jump role trusts that role only, as the source identity its identity provider set", async () => {
        const sso = "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Vendor_0123456789abcdef";
        const federated = await their({ set: { users: undefined, federatedPrincipalArn: sso } });
        for (const type of ["aws:iam/group:Group", "aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:secretsmanager/secret:Secret"]) {
            expect(ofType(federated, type), type).to.deep.equal([]);
        }
        const trust = statementsOf(only(federated, "aws:iam/role:Role", "remote-access-jump-role").inputs.assumeRolePolicy);
        const upstream = { "sts:SourceIdentity": "${aws:SourceIdentity}", "sts:RoleSessionName": "${aws:SourceIdentity}" };
        expect(trust[0].Condition).to.deep.equal({ ArnEquals: { "aws:PrincipalArn": [sso] }, StringEquals: upstream });
        expect(statementsOf(await value<string>(federated.outputs.federatedPrincipalPolicy))).to.deep.equal([
            { Sid: "AssumeTheRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: JUMP_ARN, Condition: { StringEquals: upstream } },
            {
                Sid: "SetSourceIdentityOnTheRole",
                Effect: "Allow",
                Action: "sts:SetSourceIdentity",
                Resource: JUMP_ARN,
                Condition: { StringEquals: { "sts:SourceIdentity": "${aws:SourceIdentity}" } },
            },
        ]);
        expect(await value(federated.outputs.awsCliConfig)).to.include("--profile sso ");
    });

    it("refuses a federated principal outside this account before creating anything", async () => {
        const wrong = await runProgram({ stack: "their", set: { users: undefined, federatedPrincipalArn: "arn:aws:iam::999999999999:role/SSO" } });
        expect((wrong.error as any)?.issues?.[0]?.path).to.equal("federatedPrincipalArn");
        expect(wrong.resources).to.deep.equal([]);
    });
});
