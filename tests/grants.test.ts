// One ThirdPartyGrant per configured partner: the trust and permission policies the
// program really registers, parsed as JSON; secrets; and stability of one partner's
// resources when another is added or removed.

import { expect } from "chai";
import { asList, GRANT_FENCE_SID, statementsOf } from "../components/policies";
import { componentType } from "../components/type-tokens";
import { diffRuns } from "../tools/diff";
import { ofType, only, resolve, runProgram, SAMPLE_STACKS, type ProgramRun } from "../tools/mock-engine";

const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const EXTERNAL_ID = "random:index/randomPassword:RandomPassword";
const JUMP_A = "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role";
const JUMP_B = "arn:aws:iam::333333333333:role/3P_IAM_Assume_Role";

async function yours(set?: Record<string, unknown>, secretKeys?: string[]): Promise<ProgramRun> {
    const run = await runProgram({ stack: "yours", set, secretKeys });
    if (run.error) throw run.error;
    return run;
}

const grantRole = (run: ProgramRun, partner: string) => only(run, ROLE, `grant-${partner}-role`);
const trustOf = (run: ProgramRun, partner: string) => statementsOf(grantRole(run, partner).inputs.assumeRolePolicy);
const permissionsOf = (run: ProgramRun, partner: string) => only(run, ROLE_POLICY, `grant-${partner}-session-access`).inputs.policy as string;
const assumeStatement = (run: ProgramRun, partner: string) => trustOf(run, partner).find((s) => s.Action === "sts:AssumeRole")!;

describe("grants: one grant role per partner", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("registers a ThirdPartyGrant for each configured partner", () => {
        expect(ofType(run, componentType("ThirdPartyGrant")).map((g) => g.name)).to.deep.equal(["grant-Third_Party_A", "grant-Third_Party_B"]);
    });

    it("names the role, tags it with the partner and its Run As user, and caps sessions at one hour", () => {
        for (const [partner, osUser] of [
            ["Third_Party_A", "os_user_a_alice"],
            ["Third_Party_B", "os_user_b_bob"],
        ]) {
            expect(grantRole(run, partner).inputs).to.deep.include({
                name: `SSMStartSession_IAM_Role_${partner}`,
                maxSessionDuration: 3600,
                tags: { ExternalAccessGrantedTo: partner, SSMSessionRunAs: osUser },
            });
        }
    });

    it("uses a configured role name", async () => {
        const renamed = await yours({ "partners[1].roleName": "VendorB-Shell" });
        expect(grantRole(renamed, "Third_Party_B").inputs.name).to.equal("VendorB-Shell");
    });
});

describe("grants: trust policy", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("trusts only the partner's account, narrowed to its jump role (stack reference for A, plain config for B)", () => {
        expect(assumeStatement(run, "Third_Party_A").Principal).to.deep.equal({ AWS: "arn:aws:iam::222222222222:root" });
        expect(assumeStatement(run, "Third_Party_A").Condition!.ArnEquals).to.deep.equal({ "aws:PrincipalArn": [JUMP_A] });
        expect(assumeStatement(run, "Third_Party_B").Principal).to.deep.equal({ AWS: "arn:aws:iam::333333333333:root" });
        expect(assumeStatement(run, "Third_Party_B").Condition!.ArnEquals).to.deep.equal({ "aws:PrincipalArn": [JUMP_B] });
        for (const partner of ["Third_Party_A", "Third_Party_B"]) {
            for (const statement of trustOf(run, partner)) {
                expect(statement.Effect).to.equal("Allow");
                expect(statement.Condition?.ArnEquals, `${partner} ${statement.Sid} narrowed to the jump role`).to.not.equal(undefined);
            }
        }
    });

    it("computes the jump role ARN from the partner's account when neither a stack nor ARNs are given", async () => {
        const computed = await yours({ "partners[1].principalArns": undefined, "partners[1].jumpRoleName": "VendorJump" });
        expect(assumeStatement(computed, "Third_Party_B").Condition!.ArnEquals).to.deep.equal({
            "aws:PrincipalArn": ["arn:aws:iam::333333333333:role/VendorJump"],
        });
    });

    it("requires the partner's own generated external id on AssumeRole", async () => {
        const ids = ofType(run, EXTERNAL_ID);
        expect(ids.map((r) => r.name)).to.deep.equal(["grant-Third_Party_A-external-id", "grant-Third_Party_B-external-id"]);
        expect(ids.map((r) => r.inputs)).to.deep.equal([
            { length: 40, special: false },
            { length: 40, special: false },
        ]);
        const grants = (await resolve(run.outputs.grants as any)).value as Record<string, { externalId: string }>;
        const idA = grants.Third_Party_A.externalId;
        const idB = grants.Third_Party_B.externalId;
        expect(idA).to.match(/^[A-Za-z0-9]{40}$/);
        expect(idA).to.not.equal(idB);
        expect(assumeStatement(run, "Third_Party_A").Condition!.StringEquals).to.deep.equal({
            "aws:RequestedRegion": "us-east-1",
            "sts:ExternalId": idA,
            "sts:RoleSessionName": "${aws:SourceIdentity}",
        });
        expect(assumeStatement(run, "Third_Party_B").Condition!.StringEquals).to.deep.equal({
            "aws:RequestedRegion": "us-east-1",
            "sts:ExternalId": idB,
            "sts:RoleSessionName": "${aws:SourceIdentity}",
        });
    });

    it("never allows sts:TagSession, and allows nothing but AssumeRole and SetSourceIdentity", () => {
        for (const partner of ["Third_Party_A", "Third_Party_B"]) {
            const actions = trustOf(run, partner).flatMap((s) => asList(s.Action));
            expect(actions).to.have.members(["sts:AssumeRole", "sts:SetSourceIdentity"]);
            expect(trustOf(run, partner).every((s) => s.NotAction === undefined)).to.equal(true);
        }
    });

    it("requires a source identity, and a role session named after it, by default; neither when switched off", async () => {
        expect(assumeStatement(run, "Third_Party_A").Condition!.Null).to.deep.equal({ "sts:SourceIdentity": "false" });
        expect(assumeStatement(run, "Third_Party_A").Condition!.StringEquals).to.have.property("sts:RoleSessionName", "${aws:SourceIdentity}");
        const relaxed = await yours({ "partners[0].requireSourceIdentity": false });
        expect(assumeStatement(relaxed, "Third_Party_A").Condition!.Null).to.equal(undefined);
        expect(assumeStatement(relaxed, "Third_Party_A").Condition!.StringEquals).to.not.have.property("sts:RoleSessionName");
        expect(trustOf(relaxed, "Third_Party_A").map((s) => s.Action)).to.include("sts:SetSourceIdentity");
    });

    it("lets only the stack region's STS endpoint issue the grant, where the alert rule sees the call, on every trust statement", async () => {
        for (const partner of ["Third_Party_A", "Third_Party_B"])
            for (const statement of trustOf(run, partner)) expect(statement.Condition!.StringEquals).to.have.property("aws:RequestedRegion", "us-east-1");
        const elsewhere = await yours({ "aws:region": "eu-west-1" });
        expect(assumeStatement(elsewhere, "Third_Party_A").Condition!.StringEquals).to.have.property("aws:RequestedRegion", "eu-west-1");
    });

    it("refuses AssumeRole after a configured expiry, on every trust statement", async () => {
        expect(assumeStatement(run, "Third_Party_A").Condition!.DateLessThan).to.equal(undefined);
        const expiring = await yours({ "partners[0].expiresAt": "2027-03-31T23:59:59Z" });
        for (const statement of trustOf(expiring, "Third_Party_A")) {
            expect(statement.Condition!.DateLessThan).to.deep.equal({ "aws:CurrentTime": "2027-03-31T23:59:59Z" });
        }
        expect(assumeStatement(expiring, "Third_Party_B").Condition!.DateLessThan).to.equal(undefined);
    });

    it("uses a partner-supplied external id instead of generating one", async () => {
        const supplied = await yours({ "partners[1].externalId": "vendor-b-supplied-id-42" }, ["partners"]);
        expect(ofType(supplied, EXTERNAL_ID).map((r) => r.name)).to.deep.equal(["grant-Third_Party_A-external-id"]);
        expect(assumeStatement(supplied, "Third_Party_B").Condition!.StringEquals).to.have.property("sts:ExternalId", "vendor-b-supplied-id-42");
    });

    it("keeps the external id secret: in the trust policy input and in the stack outputs", async () => {
        expect(grantRole(run, "Third_Party_A").secretInputs).to.include("assumeRolePolicy");
        expect((await resolve(run.outputs.grants as any)).secret).to.equal(true);
        const plain = JSON.stringify((await resolve(run.outputs.grantRoleArns as any)).value);
        const ids = Object.values((await resolve(run.outputs.grants as any)).value as Record<string, { externalId: string }>).map((g) => g.externalId);
        for (const id of ids) expect(plain).to.not.include(id);
    });
});

describe("grants: permissions policy", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("is the same document for every partner: access follows the role's own tag", () => {
        expect(permissionsOf(run, "Third_Party_A")).to.equal(permissionsOf(run, "Third_Party_B"));
        expect(permissionsOf(run, "Third_Party_A")).to.not.include("Third_Party");
    });

    it("starts sessions only on instances whose access tag equals the role's own tag (ABAC)", () => {
        const start = statementsOf(permissionsOf(run, "Third_Party_A")).filter((s) => s.Effect === "Allow" && asList(s.Action).includes("ssm:StartSession"));
        const onInstances = start.find((s) => asList(s.Resource).some((r) => r.includes(":instance/")))!;
        expect(onInstances.Resource).to.deep.equal(["arn:aws:ec2:us-east-1:111111111111:instance/*", "arn:aws:ssm:us-east-1:111111111111:managed-instance/*"]);
        expect(onInstances.Condition!.StringEquals).to.deep.equal({ "ssm:resourceTag/ExternalAccessGrantedTo": "${aws:PrincipalTag/ExternalAccessGrantedTo}" });
    });

    it("allows the preferences document only, in a statement of its own with the document access check", () => {
        const start = statementsOf(permissionsOf(run, "Third_Party_A")).filter((s) => s.Effect === "Allow" && asList(s.Action).includes("ssm:StartSession"));
        const onDocument = start.find((s) => asList(s.Resource).some((r) => r.includes(":document/")))!;
        expect(onDocument.Resource).to.equal("arn:aws:ssm:us-east-1:111111111111:document/SSM-SessionManagerRunShell");
        expect(onDocument.Condition).to.deep.equal({ BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } });
        expect(start).to.have.length(2);
    });

    it("ends and resumes only the role's own sessions, by ${aws:userid}", () => {
        const end = statementsOf(permissionsOf(run, "Third_Party_A")).find((s) => asList(s.Action).includes("ssm:TerminateSession"))!;
        expect(end.Action).to.deep.equal(["ssm:TerminateSession", "ssm:ResumeSession"]);
        expect(end.Condition).to.deep.equal({ StringEquals: { "ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}" } });
    });

    it("denies every action it does not allow (the fence), derived from its allows, so no resource policy can widen it", () => {
        const statements = statementsOf(permissionsOf(run, "Third_Party_A"));
        const allowed = [...new Set(statements.filter((s) => s.Effect === "Allow").flatMap((s) => asList(s.Action)))];
        expect(statements.filter((s) => s.Effect === "Deny")).to.deep.equal([{ Sid: GRANT_FENCE_SID, Effect: "Deny", NotAction: allowed, Resource: "*" }]);
        expect(allowed).to.have.members([
            "ec2:DescribeInstances",
            "ssm:DescribeInstanceProperties",
            "ssm:GetConnectionStatus",
            "ssm:StartSession",
            "ssm:TerminateSession",
            "ssm:ResumeSession",
            "ssmmessages:OpenDataChannel",
        ]);
    });

    it("lists instances in the stack's region only, and opens only its own sessions' data channels", () => {
        const statements = statementsOf(permissionsOf(run, "Third_Party_A"));
        const list = statements.find((s) => asList(s.Action).includes("ec2:DescribeInstances"))!;
        expect(list.Condition).to.deep.equal({ StringEquals: { "aws:RequestedRegion": "us-east-1" } });
        const channel = statements.find((s) => asList(s.Action).includes("ssmmessages:OpenDataChannel"))!;
        expect(channel.Resource).to.equal("arn:aws:ssm:us-east-1:111111111111:session/${aws:userid}-*");
    });

    it("with an expiry or a revocation instant, denies everything to credentials used after the expiry or issued before the revocation", async () => {
        const timed = await yours({ "partners[0].expiresAt": "2027-03-31T23:59:59Z", "partners[0].revokeSessionsIssuedBefore": "2027-01-10T08:00:00+01:00" });
        const denies = statementsOf(permissionsOf(timed, "Third_Party_A")).filter((s) => s.Effect === "Deny" && s.Sid !== GRANT_FENCE_SID);
        expect(denies).to.deep.equal([
            {
                Sid: "NothingAfterExpiry",
                Effect: "Deny",
                Action: "*",
                Resource: "*",
                Condition: { DateGreaterThanEquals: { "aws:CurrentTime": "2027-03-31T23:59:59Z" } },
            },
            {
                Sid: "RevokeSessionsIssuedBefore",
                Effect: "Deny",
                Action: "*",
                Resource: "*",
                Condition: { DateLessThan: { "aws:TokenIssueTime": "2027-01-10T07:00:00Z" } },
            },
        ]);
        // Partner B's policy is untouched by A's dates.
        expect(
            statementsOf(permissionsOf(timed, "Third_Party_B"))
                .filter((s) => s.Effect === "Deny")
                .map((s) => s.Sid),
        ).to.deep.equal([GRANT_FENCE_SID]);
    });

    it("has no CloudWatch Logs action in any grant role policy", () => {
        for (const partner of ["Third_Party_A", "Third_Party_B"]) {
            const role = grantRole(run, partner);
            const attached = run.resources.filter((r) => r.inputs.role === role.inputs.name && r.type.startsWith("aws:iam/"));
            expect(attached.map((r) => r.type)).to.deep.equal([ROLE_POLICY]);
            const actions = attached.flatMap((r) => statementsOf(r.inputs.policy).flatMap((s) => asList(s.Action)));
            expect(actions.filter((a) => a.startsWith("logs:"))).to.deep.equal([]);
        }
    });

    it("adds kms:GenerateDataKey on the session key only when encryption is on", async () => {
        expect(
            statementsOf(permissionsOf(run, "Third_Party_A"))
                .flatMap((s) => asList(s.Action))
                .filter((a) => a.startsWith("kms:")),
        ).to.deep.equal([]);
        const encrypted = await yours({ "sessions.kmsEncryption": true });
        const key = only(encrypted, "aws:kms/key:Key", "sessions-key");
        const kms = statementsOf(permissionsOf(encrypted, "Third_Party_A")).filter((s) => asList(s.Action).some((a) => a.startsWith("kms:")));
        expect(kms).to.deep.equal([
            { Sid: "EncryptSessionData", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: `arn:aws:kms:us-east-1:111111111111:key/${key.id}` },
        ]);
    });
});

describe("grants: OS users and outputs", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("creates each partner's OS user on the instances tagged for it, now and later", () => {
        const command = only(run, "aws:ssm/document:Document", "os-users-create-os-user");
        for (const [partner, osUser] of [
            ["Third_Party_A", "os_user_a_alice"],
            ["Third_Party_B", "os_user_b_bob"],
        ]) {
            const association = only(run, "aws:ssm/association:Association", `grant-${partner}-os-user`);
            expect(association.inputs).to.deep.include({
                name: command.name,
                parameters: { userName: osUser },
                targets: [{ key: "tag:ExternalAccessGrantedTo", values: [partner] }],
            });
        }
    });

    it("outputs each partner's role ARN, secret external id, Run As user, tag value, expiry and instances", async () => {
        const grants = await resolve(run.outputs.grants as any);
        expect(grants.secret).to.equal(true);
        const a = (grants.value as any).Third_Party_A;
        expect(a).to.deep.include({
            roleArn: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Third_Party_A",
            runAsUser: "os_user_a_alice",
            accessTagValue: "Third_Party_A",
            expiresAt: null,
            instanceIds: ["instances-instance-third-party-a-id"],
        });
        expect((await resolve(run.outputs.grantRoleArns as any)).value).to.deep.equal({
            Third_Party_A: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Third_Party_A",
            Third_Party_B: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Third_Party_B",
        });
    });

    it("fails with the stack and output named when the partner's stack has no jumpRoleArn", async () => {
        const missing = await runProgram({ stack: "yours", stacks: { ...SAMPLE_STACKS, "organization/third-party-ssm-access/their": { outputs: {} } } });
        expect(String(missing.error))
            .to.match(/jumpRoleArn/)
            .and.match(/organization\/third-party-ssm-access\/their/);
    });

    it("refuses a jump role ARN from the partner's stack that is not in the partner's account", async () => {
        const wrong = await runProgram({
            stack: "yours",
            stacks: {
                ...SAMPLE_STACKS,
                "organization/third-party-ssm-access/their": { outputs: { jumpRoleArn: "arn:aws:iam::999999999999:role/3P_IAM_Assume_Role" } },
            },
        });
        expect(String(wrong.error))
            .to.match(/organization\/third-party-ssm-access\/their: output jumpRoleArn/)
            .and.match(/222222222222/);
    });
});

describe("grants: adding or removing a partner touches no other partner", () => {
    const partnerC = {
        "partners[2].name": "Third_Party_C",
        "partners[2].accountId": "444444444444",
        "partners[2].osUser": "os_user_c_carol",
        "partners[2].principalArns": ["arn:aws:iam::444444444444:role/3P_IAM_Assume_Role"],
    };

    function changes(before: ProgramRun, after: ProgramRun) {
        const diff = diffRuns(before, after);
        return { removed: diff.removed.map((r) => r.name), added: diff.added.map((r) => r.name), changed: diff.changed.map((r) => r.name) };
    }

    // An instance tagged for a partner that is not configured is a config error, so B comes and goes with its instance.
    const ofB = (name: string) => name.startsWith("grant-Third_Party_B") || name === "instances-instance-third-party-b";
    // The one shared resource a partner changes, on purpose: the list of OS users the instances keep (a removed partner's is ended).
    const KEEP_LIST = "offboarding-keep-os-users";
    const kept = (run: ProgramRun) =>
        String(only(run, "aws:ssm/association:Association", KEEP_LIST).inputs.parameters.grantedUsers)
            .split(" ")
            .filter(Boolean);

    it("adding partner B (with its instance) leaves every resource and input of partner A (and everything else) unchanged", async () => {
        const onlyA = await yours({ "partners[1]": undefined, "instances[1]": undefined });
        const both = await yours();
        const diff = changes(onlyA, both);
        expect(diff.changed).to.deep.equal([KEEP_LIST]);
        expect(kept(onlyA)).to.deep.equal(["os_user_a_alice"]);
        expect(kept(both)).to.deep.equal(["os_user_a_alice", "os_user_b_bob"]);
        expect(diff.removed).to.deep.equal([]);
        expect(diff.added.length).to.be.greaterThan(0);
        expect(diff.added.every(ofB), diff.added.join(", ")).to.equal(true);
    });

    it("removing partner B (and its instance) removes only B's resources", async () => {
        const both = await yours();
        const onlyA = await yours({ "partners[1]": undefined, "instances[1]": undefined });
        const diff = changes(both, onlyA);
        // B's OS user leaves the list the instances keep: State Manager ends it there as the update lands.
        expect(diff.changed).to.deep.equal([KEEP_LIST]);
        expect(kept(onlyA)).to.deep.equal(["os_user_a_alice"]);
        expect(diff.added).to.deep.equal([]);
        expect([...new Set(diff.removed.map(ofB))]).to.deep.equal([true]);
        expect(diff.removed).to.include.members([
            "grant-Third_Party_B-role",
            "grant-Third_Party_B-external-id",
            "grant-Third_Party_B-session-access",
            "grant-Third_Party_B-os-user",
        ]);
    });

    it("adding partner C with `config set --path` adds only C's grant", async () => {
        const diff = changes(await yours(), await yours(partnerC));
        expect(diff.changed).to.deep.equal([KEEP_LIST]);
        expect(diff.removed).to.deep.equal([]);
        expect(diff.added).to.include.members(["grant-Third_Party_C", "grant-Third_Party_C-role", "grant-Third_Party_C-session-access"]);
        expect(
            diff.added.every((name) => name.startsWith("grant-Third_Party_C")),
            diff.added.join(", "),
        ).to.equal(true);
    });
});
