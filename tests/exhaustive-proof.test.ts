// The exhaustive proof: every request the sample stacks allow is access their config
// intends, and every intended access is allowed. No scenario lists the requests: they are
// enumerated (tools/access/enumerate.ts). The second half widens the program's policies
// the ways a careless change would, none of them named anywhere in the proof, and checks
// that each is caught with the statement that allows it.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { RUN_AS_TAG_KEY } from "../components/constants";
import { requestCount, requestsOf, type AllowedAccess } from "../tools/access/enumerate";
import { modelsOf, prepareSide } from "../tools/access/model";
import { generatedConfig } from "../tools/bench/config";
import { proveAccess, type AccessProof } from "../tools/access/proof";
import { whatCan, whoCan } from "../tools/access/queries";
import { analyze } from "../tools/review/analyze";
import { renderMarkdown } from "../tools/review/markdown";
import { runReviewCommand } from "./review-command";
import { FIXTURES_DIR, PROJECT_ROOT, type ProgramRun } from "../tools/mock-engine";
import { runForReview, runReferencedStacks, runWithReferences, type ReviewRuns } from "../tools/stack-runs";
import { changedFixture } from "./fixture-copies";

const AT = "2027-01-15T12:00:00Z";
const SAMPLE = path.join(FIXTURES_DIR, "Pulumi.yours.yaml");
const THEIR_SAMPLE = path.join(FIXTURES_DIR, "Pulumi.their.yaml");
const A_ENDS = "2027-03-31T23:59:59Z";

const summary = (proof: AccessProof) => proof.findings.map((f) => `${f.kind}: ${f.message}`);
const MUTATION = "WideningUnderTest";

// A copy of the runs whose resources' inputs may be changed without leaking into another test.
const runCopy = (run: ProgramRun): ProgramRun => ({ ...run, resources: run.resources.map((r) => ({ ...r, inputs: structuredClone(r.inputs) })) });
const copyOf = (runs: ReviewRuns): ReviewRuns => ({ main: runCopy(runs.main), referenced: runs.referenced.map(runCopy), settings: runs.settings });

// The inline policies of a role, each changed by `change` (given its parsed document).
function changePolicies(runs: ReviewRuns, role: string, change: (document: { Statement: any[] }) => void): ReviewRuns {
    const changed = copyOf(runs);
    const policies = [changed.main, ...changed.referenced]
        .flatMap((r: ProgramRun) => r.resources)
        .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === role);
    if (policies.length === 0) throw new Error(`no inline policy on role ${role}`);
    for (const policy of policies) {
        const document = JSON.parse(policy.inputs.policy);
        change(document);
        policy.inputs.policy = JSON.stringify(document);
    }
    return changed;
}

// Changes, in place, each statement of the inline policies of a role in runs already copied.
function changePoliciesIn(runs: ReviewRuns, role: string, change: (statement: any) => void): void {
    for (const policy of [runs.main, ...runs.referenced]
        .flatMap((r) => r.resources)
        .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === role)) {
        const document = JSON.parse(policy.inputs.policy);
        document.Statement.forEach(change);
        policy.inputs.policy = JSON.stringify(document);
    }
}

// Adds an Allow statement to a role's permissions as a change to its component would: the
// grant's fence (Deny NotAction) is derived from its allows, so it admits the new actions too.
function widen(runs: ReviewRuns, role: string, statement: { Action: string | string[]; Resource: string | string[] }): ReviewRuns {
    let added = false;
    return changePolicies(runs, role, (document) => {
        const actions = ([] as string[]).concat(statement.Action);
        for (const fence of document.Statement.filter((s) => s.Effect === "Deny" && s.NotAction !== undefined))
            fence.NotAction = [...([] as string[]).concat(fence.NotAction), ...actions];
        if (!added) document.Statement.push({ Sid: MUTATION, Effect: "Allow", ...statement });
        added = true;
    });
}

// The subjects the proof found allowed `action` by the mutation's statement, nobody having intended it.
const caughtBy = (proof: AccessProof, action: string) =>
    proof.findings
        .filter((f) => f.kind === "unintended" && f.access!.action === action && f.access!.allowedBy.includes(MUTATION))
        .map((f) => f.access!.subject);

// The unintended accesses the proof found that the mutation's statement allows.
const caught = (proof: AccessProof) =>
    proof.findings
        .filter((f) => f.kind === "unintended" && f.access!.allowedBy.includes(MUTATION))
        .map((f) => `${f.access!.action} ${f.access!.resourceLabel}`);

describe("exhaustive proof of access", () => {
    let sample: ReviewRuns;
    let full: ReviewRuns;
    let sampleProof: AccessProof;
    let fullProof: AccessProof;
    before(async () => {
        sample = await runForReview({ stack: "yours", configFile: SAMPLE });
        // Every optional part on, and an end date: the session key, the archive bucket, Third_Party_A's expiry.
        const fullConfig = changedFixture("yours", (config) => {
            config["third-party-ssm-access:sessions"].kmsEncryption = true;
            config["third-party-ssm-access:sessions"].s3Archive = true;
            config["third-party-ssm-access:partners"][0].expiresAt = A_ENDS;
        });
        full = await runForReview({ stack: "yours", configFile: fullConfig });
        sampleProof = await proveAccess(sample, AT);
        fullProof = await proveAccess(full, AT);
    });

    describe("the sample stacks", () => {
        it("allow nothing their config does not intend, and refuse nothing it does (yours, with the their stack it references)", () => {
            expect(summary(sampleProof)).to.deep.equal([]);
            // Each allowed request counted once per resource, though a class of resources alike is asked about once.
            expect(requestCount(sampleProof.model.allowed)).to.be.greaterThan(100);
        });

        it("with the session key, the archive and an expiry: the same, and the expiring partner is refused just after its end", () => {
            expect(summary(fullProof)).to.deep.equal([]);
            const actions = new Set(fullProof.model.allowed.map((a) => a.action));
            for (const action of ["kms:GenerateDataKey", "kms:Decrypt", "s3:PutObject"]) expect(actions.has(action), action).to.equal(true);
        });

        it("the their stack, with the yours stack it references", async () => {
            const proof = await proveAccess(await runForReview({ stack: "their", configFile: THEIR_SAMPLE }), AT);
            expect(summary(proof)).to.deep.equal([]);
        });

        it("the their stack requiring MFA: its people assume the jump role only signed in with MFA, and a trust that forgets it is caught", async () => {
            const configFile = changedFixture("their", (config) => (config["third-party-ssm-access:mfa"] = { required: true }));
            const runs = await runForReview({ stack: "their", configFile });
            const proof = await proveAccess(runs, AT);
            expect(summary(proof)).to.deep.equal([]);
            expect(proof.spec.rules.map((r) => r.says)).to.include(
                "user/alice (in Third_Party_A's account 222222222222, whatever its administrator lets them do) may assume the jump role 3P_IAM_Assume_Role, each person with their own name as source identity, signed in with MFA within 43200 seconds",
            );
            const forgetful = copyOf(runs);
            const jump = forgetful.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === "3P_IAM_Assume_Role")!;
            const trust = JSON.parse(jump.inputs.assumeRolePolicy);
            for (const statement of trust.Statement) {
                delete statement.Condition.Bool;
                delete statement.Condition.NumericLessThan;
            }
            jump.inputs.assumeRolePolicy = JSON.stringify(trust);
            const unintended = (await proveAccess(forgetful, AT)).findings
                .filter((f) => f.kind === "unintended")
                .map((f) => `${f.access!.variant} ${f.access!.action}`);
            expect(unintended).to.include("without MFA sts:AssumeRole");
        });

        it("with a key and a bucket of your own: the same, the key's use intended, and the review names both", async () => {
            const keyArn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
            const configFile = changedFixture("yours", (config) => {
                config["third-party-ssm-access:sessions"].kmsKeyArn = keyArn;
                config["third-party-ssm-access:sessions"].archiveBucketName = "acme-session-archive";
            });
            const runs = await runForReview({ stack: "yours", configFile });
            const proof = await proveAccess(runs, AT);
            expect(summary(proof)).to.deep.equal([]);
            expect(proof.spec.rules.map((r) => r.says)).to.include("Third_Party_A may encrypt its session data with the session key");
            expect(
                proof.model.allowed.flatMap(requestsOf).some((a) => a.action === "s3:PutObject" && a.resource.startsWith("arn:aws:s3:::acme-session-archive/")),
            ).to.equal(true);
            const messages = (await analyze(runs, AT)).findings.map((f) => f.message);
            expect(messages.some((m) => m.startsWith(`Session data is encrypted with a key of your own, ${keyArn}`))).to.equal(true);
            expect(messages.some((m) => m.startsWith("Transcripts are archived to a bucket of your own, acme-session-archive"))).to.equal(true);
        });

        it("reads the intended access in plain terms, from the config", () => {
            const says = fullProof.spec.rules.map((r) => r.says);
            expect(says).to.include(
                `Third_Party_A may start sessions on instances of account 111111111111 tagged ExternalAccessGrantedTo=Third_Party_A in us-east-1, as os_user_a_alice, with SSM-SessionManagerRunShell, until ${A_ENDS}`,
            );
            expect(says).to.include("Third_Party_B may resume and end the sessions it started itself");
            expect(says).to.include(
                "Third_Party_A may list the instances of account 111111111111 in us-east-1 and their connection status, until 2027-03-31T23:59:59Z",
            );
            expect(says.some((s) => s.startsWith("the instance role (instances-role) may archive transcripts under"))).to.equal(true);
        });

        it("derives the intent from the config: a partner added there is intended, and a partner the program drops is missing", async () => {
            const withC = changedFixture("yours", (config) => {
                config["third-party-ssm-access:partners"].push({
                    name: "Third_Party_C",
                    accountId: "444444444444",
                    osUser: "os_user_c_carol",
                    principalArns: ["arn:aws:iam::444444444444:role/vendor-ops"],
                });
            });
            const runs = await runForReview({ stack: "yours", configFile: withC });
            const proof = await proveAccess(runs, AT);
            expect(summary(proof)).to.deep.equal([]);
            expect(proof.spec.rules.map((r) => r.says)).to.include(
                "Third_Party_C may start sessions on instances of account 111111111111 tagged ExternalAccessGrantedTo=Third_Party_C in us-east-1, as os_user_c_carol, with SSM-SessionManagerRunShell",
            );
            // The program without Third_Party_C's grant (the config still names it): everything C was meant to have is missing.
            const dropped = copyOf(runs);
            dropped.main.resources = dropped.main.resources.filter((r) => !JSON.stringify(r.inputs).includes("Third_Party_C"));
            const missing = (await proveAccess(dropped, AT)).findings.filter((f) => f.kind === "missing").map((f) => f.message.split(" (")[0]);
            expect(missing).to.include("arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Third_Party_C is meant to be able to ssm:StartSession");
            expect(missing).to.include("arn:aws:iam::444444444444:role/vendor-ops is meant to be able to sts:AssumeRole");
        });
    });

    describe("catches widenings no scenario names, with the statement that allows them", () => {
        const GRANT_A = "SSMStartSession_IAM_Role_Third_Party_A";
        const widenings: Array<{ title: string; role: string; statement: { Action: string | string[]; Resource: string | string[] }; expect: string[] }> = [
            {
                title: "read the archive bucket",
                role: GRANT_A,
                statement: { Action: ["s3:GetObject", "s3:ListBucket"], Resource: ["arn:aws:s3:::sessions-archive", "arn:aws:s3:::sessions-archive/*"] },
                expect: ["s3:GetObject a resource matching arn:aws:s3:::sessions-archive/*", "s3:ListBucket bucket sessions-archive"],
            },
            {
                title: "run commands",
                role: GRANT_A,
                statement: { Action: "ssm:SendCommand", Resource: "*" },
                expect: [
                    "ssm:SendCommand instance instance-third-party-b",
                    "ssm:SendCommand an untagged instance",
                    "ssm:SendCommand document SSM-SessionManagerRunShell",
                ],
            },
            {
                title: "retag instances",
                role: GRANT_A,
                statement: { Action: "ec2:CreateTags", Resource: "arn:aws:ec2:us-east-1:111111111111:instance/*" },
                expect: ["ec2:CreateTags instance instance-third-party-b", "ec2:CreateTags an untagged instance"],
            },
            {
                title: "edit the preferences document",
                role: GRANT_A,
                statement: { Action: "ssm:UpdateDocument", Resource: "arn:aws:ssm:us-east-1:111111111111:document/SSM-SessionManagerRunShell" },
                expect: ["ssm:UpdateDocument document SSM-SessionManagerRunShell"],
            },
            {
                title: "start a session with any session document",
                role: GRANT_A,
                statement: { Action: "ssm:StartSession", Resource: "arn:aws:ssm:us-east-1:111111111111:document/*" },
                expect: [
                    "ssm:StartSession AWS-owned document AWS-StartSSHSession",
                    "ssm:StartSession AWS-owned document AWS-StartPortForwardingSessionToRemoteHost",
                ],
            },
            {
                title: "launch an instance with a role",
                role: GRANT_A,
                statement: { Action: ["ec2:RunInstances", "iam:PassRole"], Resource: "*" },
                expect: ["iam:PassRole role instances-role", "ec2:RunInstances an untagged instance"],
            },
            {
                title: "delete the audit log (the instance role)",
                role: "instances-role",
                statement: {
                    Action: ["logs:DeleteLogGroup", "logs:DeleteLogStream"],
                    Resource: "arn:aws:logs:us-east-1:111111111111:log-group:SSMSessionManager_LogGroup*",
                },
                expect: ["logs:DeleteLogGroup log group SSMSessionManager_LogGroup", "logs:DeleteLogStream a stream of log group SSMSessionManager_LogGroup"],
            },
            {
                title: "read any parameter (the instance role)",
                role: "instances-role",
                statement: { Action: "ssm:GetParameter", Resource: "*" },
                expect: ["ssm:GetParameter a parameter this stack does not create"],
            },
        ];
        for (const w of widenings) {
            it(w.title, async () => {
                const proof = await proveAccess(widen(full, w.role, w.statement), AT);
                const found = caught(proof);
                for (const line of w.expect) expect(found, `${line} in\n${found.join("\n")}`).to.include(line);
                // Every finding names the statement: nothing the mutation allows passes unnamed.
                expect(proof.findings.every((f) => f.kind !== "unintended" || f.access!.allowedBy.length > 0)).to.equal(true);
            });
        }

        it("decrypt with the session key (the grant's permissions and the key policy's statement for session roles both widened)", async () => {
            const changed = widen(full, GRANT_A, { Action: "kms:Decrypt", Resource: "*" });
            const key = [changed.main, ...changed.referenced]
                .flatMap((r) => r.resources)
                .find((r) => typeof r.inputs.policy === "string" && r.inputs.policy.includes("SessionRolesGenerateDataKeys"))!;
            const document = JSON.parse(key.inputs.policy);
            for (const statement of document.Statement.filter((s: { Sid?: string }) => s.Sid === "SessionRolesGenerateDataKeys"))
                statement.Action = ["kms:GenerateDataKey", "kms:Decrypt"];
            key.inputs.policy = JSON.stringify(document);
            expect(caught(await proveAccess(changed, AT))).to.include("kms:Decrypt KMS key sessions-key-id");
        });

        it("an alert topic open to anyone: every subject may publish forged alerts", async () => {
            const changed = copyOf(full);
            const topicPolicy = changed.main.resources.find((r) => r.type === "aws:sns/topicPolicy:TopicPolicy")!;
            const document = JSON.parse(topicPolicy.inputs.policy);
            document.Statement.push({ Sid: MUTATION, Effect: "Allow", Principal: "*", Action: "sns:Publish", Resource: topicPolicy.inputs.arn });
            topicPolicy.inputs.policy = JSON.stringify(document);
            const subjects = new Set(caughtBy(await proveAccess(changed, AT), "sns:Publish"));
            expect(subjects).to.include("anonymous");
            expect(subjects).to.include("arn:aws:iam::999999999999:role/outsider");
            // As built, nobody may.
            expect(whoCan(fullProof.universe, fullProof.model.allowed, topicPolicy.inputs.arn)).to.deep.equal([]);
        });

        it("reading every parameter, added to the grant in the component's code (the program itself changed)", async () => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "program-"));
            for (const entry of ["index.ts", "Pulumi.yaml", "components", "stacks"])
                fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(root, entry), { recursive: true });
            fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
            const policies = path.join(root, "components", "policies.ts");
            const anchor = `            Sid: "ListInstancesAndConnectionStatusInThisRegion",`;
            const text = fs.readFileSync(policies, "utf8");
            expect(text).to.include(anchor);
            fs.writeFileSync(
                policies,
                text.replace(
                    anchor,
                    `            Sid: "ReadParameters",\n            Effect: "Allow",\n            Action: ["ssm:GetParameter", "ssm:GetParameters"],\n            Resource: "*",\n        },\n        {\n${anchor}`,
                ),
            );
            try {
                const references = await runReferencedStacks([SAMPLE]);
                const runs = await runWithReferences({ stack: "yours", configFile: SAMPLE }, references, undefined, root);
                const proof = await proveAccess(runs, AT);
                const lines = proof.findings.filter((f) => f.kind === "unintended").map((f) => f.message);
                for (const partner of ["Third_Party_A", "Third_Party_B"])
                    for (const action of ["ssm:GetParameter", "ssm:GetParameters"])
                        expect(lines).to.include(
                            `role SSMStartSession_IAM_Role_${partner} may ${action} on a parameter this stack does not create (arn:aws:ssm:us-east-1:111111111111:parameter/other-parameter-name-without-leading-slash): no intended access covers it; allowed by ReadParameters`,
                        );
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });

        it("a trust that no longer asks for the external id", async () => {
            const changed = copyOf(full);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === GRANT_A)!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement) delete statement.Condition?.StringEquals?.["sts:ExternalId"];
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const proof = await proveAccess(changed, AT);
            expect(proof.findings.filter((f) => f.kind === "unintended").map((f) => `${f.access!.variant} ${f.access!.action}`)).to.include(
                "without the external id sts:AssumeRole",
            );
        });

        it("a trust that compares the external id loosely (any value): assumed with a wrong one", async () => {
            const changed = copyOf(full);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === GRANT_A)!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement.filter((st: { Condition?: any }) => st.Condition?.StringEquals?.["sts:ExternalId"] !== undefined)) {
                delete statement.Condition.StringEquals["sts:ExternalId"];
                statement.Condition.StringLike = { "sts:ExternalId": "*" };
            }
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const unintended = (await proveAccess(changed, AT)).findings
                .filter((f) => f.kind === "unintended")
                .map((f) => `${f.access!.variant} ${f.access!.action} ${f.access!.resource}`);
            expect(unintended).to.include(`with a wrong external id sts:AssumeRole arn:aws:iam::111111111111:role/${GRANT_A}`);
        });

        it("a trust naming a principal beyond the stated ones: that principal may assume the grant, and nobody intended it", async () => {
            const changed = copyOf(full);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === GRANT_A)!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement) {
                const named = statement.Condition?.ArnEquals?.["aws:PrincipalArn"];
                if (named !== undefined) statement.Condition.ArnEquals["aws:PrincipalArn"] = [...[named].flat(), "arn:aws:iam::222222222222:role/other-role"];
            }
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const unintended = (await proveAccess(changed, AT)).findings.filter((f) => f.kind === "unintended").map((f) => f.message);
            expect(
                unintended.some((m) => m.includes("other-role") && m.includes(`sts:AssumeRole on role ${GRANT_A}`)),
                unintended.join("\n"),
            ).to.equal(true);
        });

        it("a role no grant states, whose trust lets the partner in with an external id of its own: asked with that id", async () => {
            // A careless "vendor debug" edit of the instance role's trust: whoever was told the id may assume it.
            const changed = copyOf(full);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "instances-role")!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            trust.Statement.push({
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::222222222222:root" },
                // Spelled with a wildcard, as IAM matches it: the trust still compares the id.
                Action: "sts:Assume*",
                Condition: { StringEquals: { "sts:ExternalId": "debug-3f9a7c" } },
            });
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const unintended = (await proveAccess(changed, AT)).findings
                .filter((f) => f.kind === "unintended")
                .map((f) => `${f.access!.variant} ${f.access!.action} ${f.access!.resource}`);
            expect(unintended).to.include(" sts:AssumeRole arn:aws:iam::111111111111:role/instances-role");
        });

        it("a trust that no longer names the region: AssumeRole through another region's STS endpoint, where no alert rule listens", async () => {
            const changed = copyOf(full);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === GRANT_A)!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement) delete statement.Condition?.StringEquals?.["aws:RequestedRegion"];
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const proof = await proveAccess(changed, AT);
            const unintended = proof.findings
                .filter((f) => f.kind === "unintended")
                .map((f) => `${f.access!.variant} ${f.access!.action} ${f.access!.resource}`);
            expect(unintended).to.include(`through another region's STS endpoint sts:AssumeRole arn:aws:iam::111111111111:role/${GRANT_A}`);
            // Only the widened grant: the other partner's trust still names the region.
            expect(unintended.filter((u) => u.includes("SSMStartSession_IAM_Role_Third_Party_B"))).to.deep.equal([]);
        });

        it("an instance whose metadata service answers a partner's shell: the partner holds the instance role", async () => {
            const changed = copyOf(full);
            for (const instance of changed.main.resources.filter((r) => r.type === "aws:ec2/instance:Instance")) instance.inputs.userData = "#!/bin/bash\n";
            const held = (await proveAccess(changed, AT)).findings.filter((f) => f.kind === "held").map((f) => f.message.split(";")[0]);
            expect(held, held.join("\n")).to.include(
                "Third_Party_A holds the instance role instances-role, through a shell on instance instance-third-party-a (its metadata service answers non-root users)",
            );
        });

        it("an expiry the grant's own permissions forget: a session after the end is caught", async () => {
            const changed = changePolicies(full, GRANT_A, (document) => {
                document.Statement = document.Statement.filter((s) => s.Sid !== "NothingAfterExpiry");
            });
            const outlasting = (await proveAccess(changed, AT)).findings.filter((f) => f.kind === "outlasts").map((f) => f.access!.action);
            expect(outlasting).to.include("ssm:StartSession");
        });

        it("the grant losing a statement the partner needs: the intended access is missing", async () => {
            const changed = changePolicies(full, GRANT_A, (document) => {
                document.Statement = document.Statement.filter((s) => s.Sid !== "EndOnlyOwnSessions");
            });
            const missing = (await proveAccess(changed, AT)).findings.filter((f) => f.kind === "missing").map((f) => f.message.split(" (")[0]);
            expect(missing).to.deep.equal([
                `arn:aws:iam::111111111111:role/${GRANT_A} is meant to be able to ssm:ResumeSession`,
                `arn:aws:iam::111111111111:role/${GRANT_A} is meant to be able to ssm:TerminateSession`,
            ]);
        });
    });

    describe("says what it cannot prove, instead of passing it", () => {
        const GRANT_A = "SSMStartSession_IAM_Role_Third_Party_A";
        const notProven = (proof: AccessProof) => proof.findings.filter((f) => f.kind === "unprovable").map((f) => f.message);
        const statementOf = (runs: ReviewRuns, sid: string) =>
            runs.main.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === GRANT_A && r.inputs.policy.includes(sid));

        it("an Allow on a condition key the model never sets (aws:SourceIp, aws:EpochTime), which it would judge absent", async () => {
            for (const [operator, key, value] of [
                ["IpAddress", "aws:SourceIp", "0.0.0.0/0"],
                ["NumericGreaterThan", "aws:EpochTime", "1800000000"],
            ]) {
                const changed = widen(full, GRANT_A, { Action: "ssm:SendCommand", Resource: "*" });
                changePoliciesIn(changed, GRANT_A, (statement) => {
                    if (statement.Sid === MUTATION) statement.Condition = { [operator]: { [key]: value } };
                });
                expect(notProven(await proveAccess(changed, AT))).to.include(
                    `policy grant-Third_Party_A-session-access of role ${GRANT_A}, statement ${MUTATION} allows on condition ${operator} ${key}, a key the model never sets: it is judged absent, so what the statement allows where it is present is unproven`,
                );
            }
        });

        it("a trust open to a whole organization (Principal *, aws:PrincipalOrgID) or to federated callers", async () => {
            const changed = copyOf(full);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === GRANT_A)!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            trust.Statement.push(
                { Sid: "Org", Effect: "Allow", Principal: "*", Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } } },
                {
                    Sid: "CI",
                    Effect: "Allow",
                    Principal: { Federated: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                },
            );
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const problems = notProven(await proveAccess(changed, AT));
            expect(
                problems.some((p) => p.startsWith(`the trust of role ${GRANT_A}, statement Org allows on condition StringEquals aws:PrincipalOrgID`)),
            ).to.equal(true);
            expect(problems).to.include(
                `the trust of role ${GRANT_A}, statement CI admits federated principals (arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com): web identity and SAML callers are not modelled`,
            );
        });

        it("a policy on a resource the model does not read (a CloudWatch Logs resource policy), and a shared SSM document", async () => {
            const changed = copyOf(full);
            const template = changed.main.resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup")!;
            changed.main.resources.push({
                ...template,
                type: "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
                name: "share-transcripts",
                urn: `${template.urn}-share`,
                inputs: {
                    policyName: "share",
                    policyDocument: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "logs:GetLogEvents", Resource: "*" }] }),
                },
            });
            const document = changed.main.resources.find((r) => r.type === "aws:ssm/document:Document")!;
            document.inputs.permissions = { type: "Share", accountIds: "All" };
            const problems = notProven(await proveAccess(changed, AT));
            expect(problems).to.include(
                "aws:cloudwatch/logResourcePolicy:LogResourcePolicy share-transcripts carries a policy document (policyDocument) the model does not read",
            );
            expect(problems).to.include(`aws:ssm/document:Document ${document.name} grants access in a way the model does not read`);
        });

        it("StartSession on instances without the document check: Session Manager then checks no document", async () => {
            const changed = copyOf(full);
            for (const policy of statementOf(changed, "StartSessionOnInstancesTaggedForThisPartner")) {
                const document = JSON.parse(policy.inputs.policy);
                for (const statement of document.Statement)
                    if (statement.Sid === "StartSessionOnInstancesTaggedForThisPartner") delete statement.Condition.BoolIfExists;
                policy.inputs.policy = JSON.stringify(document);
            }
            expect(notProven(await proveAccess(changed, AT))).to.include(
                `policy grant-Third_Party_A-session-access of role ${GRANT_A}, statement StartSessionOnInstancesTaggedForThisPartner allows ssm:StartSession on instances without ssm:SessionDocumentAccessCheck: Session Manager then checks no document, so any session document is usable`,
            );
        });

        it("a tag comparison loosened to a prefix: instances whose tag only begins with the partner's name", async () => {
            const changed = copyOf(full);
            for (const policy of statementOf(changed, "StartSessionOnInstancesTaggedForThisPartner")) {
                const document = JSON.parse(policy.inputs.policy);
                for (const statement of document.Statement)
                    if (statement.Sid === "StartSessionOnInstancesTaggedForThisPartner") {
                        const [key, value] = Object.entries(statement.Condition.StringEquals)[0] as [string, string];
                        delete statement.Condition.StringEquals;
                        statement.Condition.StringLike = { [key]: `${value}*` };
                    }
                policy.inputs.policy = JSON.stringify(document);
            }
            const unintended = (await proveAccess(changed, AT)).findings
                .filter((f) => f.kind === "unintended")
                .map((f) => `${f.access!.action} ${f.access!.resourceLabel}`);
            expect(unintended).to.include("ssm:StartSession an instance tagged ExternalAccessGrantedTo=Third_Party_A_Other");
        });
    });

    describe("for people: the review and the questions", () => {
        it("the review lists the intended access and, as findings, what falls outside it", async () => {
            const clean = await analyze(full, AT);
            expect(clean.proof!.intended).to.deep.equal(fullProof.spec.rules.map((r) => r.says));
            expect(renderMarkdown(clean)).to.include("## Intended access (from the config), proven");
            const widened = await analyze(widen(full, "SSMStartSession_IAM_Role_Third_Party_A", { Action: "ssm:SendCommand", Resource: "*" }), AT);
            const flagged = widened.findings.map((f) => f.message).filter((m) => m.startsWith("access nobody intended"));
            expect(flagged).to.include(
                "access nobody intended: role SSMStartSession_IAM_Role_Third_Party_A may ssm:SendCommand on an untagged instance (arn:aws:ec2:us-east-1:111111111111:instance/other-instance-id): no intended access covers it; allowed by WideningUnderTest",
            );
        });

        it("the matrix shows a grant reaching another partner's instance, found by the model, not only the pairs tagged alike", async () => {
            const widened = await analyze(
                changePolicies(sample, "SSMStartSession_IAM_Role_Third_Party_A", (document) => {
                    for (const statement of document.Statement) delete statement.Condition?.StringEquals;
                }),
                AT,
            );
            expect(widened.matrix.filter((c) => c.allowed).map((c) => `${c.partner} -> ${c.instance}`)).to.deep.equal([
                "Third_Party_A -> instance-third-party-a",
                "Third_Party_A -> instance-third-party-b",
                "Third_Party_B -> instance-third-party-b",
            ]);
            expect(widened.matrixSummary).to.equal(
                "3 pairs of partner and instance are allowed (listed below); 1 of the 4 pairs of partner and instance is refused.",
            );
        });

        it("who can start a session on an instance, and what a partner's jump role can do", () => {
            const who = whoCan(sampleProof.universe, sampleProof.model.allowed, "arn:aws:ec2:us-east-1:111111111111:instance/*", "ssm:StartSession");
            expect([...new Set(who.map((a) => `${a.subjectLabel} -> ${a.resourceLabel}`))]).to.deep.equal([
                "role SSMStartSession_IAM_Role_Third_Party_B -> instance instance-third-party-b",
                "role SSMStartSession_IAM_Role_Third_Party_B -> any other instance tagged ExternalAccessGrantedTo=Third_Party_B",
                "role SSMStartSession_IAM_Role_Third_Party_A -> instance instance-third-party-a",
                "role SSMStartSession_IAM_Role_Third_Party_A -> any other instance tagged ExternalAccessGrantedTo=Third_Party_A",
            ]);
            const what = whatCan(sampleProof.universe, sampleProof.model.allowed, "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role");
            expect([...new Set(what.map((a) => `${a.action} ${a.resourceLabel}`))]).to.deep.equal([
                "sts:AssumeRole role SSMStartSession_IAM_Role_Third_Party_A",
                "sts:SetSourceIdentity role SSMStartSession_IAM_Role_Third_Party_A",
            ]);
        });

        it("as a command: --who-can with --action, as JSON", async () => {
            const result = await runReviewCommand([
                "--config",
                SAMPLE,
                "--at",
                AT,
                "--who-can",
                "instance-third-party-b",
                "--action",
                "ssm:*",
                "--format",
                "json",
            ]);
            expect(result.code, result.stderr).to.equal(0);
            const { answers } = JSON.parse(result.stdout);
            expect(answers.map((a: { subjectLabel: string; action: string }) => `${a.subjectLabel} ${a.action}`)).to.deep.equal([
                "role instances-role ssm:DescribeAssociation",
                "role instances-role ssm:ListInstanceAssociations",
                "role instances-role ssm:PutComplianceItems",
                "role instances-role ssm:UpdateAssociationStatus",
                "role instances-role ssm:UpdateInstanceAssociationStatus",
                "role instances-role ssm:UpdateInstanceInformation",
                // At a partner's end of access, the schedule's role sends the document ending its OS user.
                "role offboarding-scheduler ssm:SendCommand",
                "role SSMStartSession_IAM_Role_Third_Party_B ssm:GetConnectionStatus",
                "role SSMStartSession_IAM_Role_Third_Party_B ssm:StartSession",
                "role SSMStartSession_IAM_Role_Third_Party_A ssm:GetConnectionStatus",
            ]);
            expect(result.stderr).to.match(/enumerated \d+ requests \(\d+ allowed\) in \d+ ms/);
        });
    });
});

describe("one resource asked for each class of resources alike", () => {
    // The model, and asking about every resource on its own, allow the same requests (each with its own
    // resource's label and tags, and the statements allowing it) and give every partner the same access.
    // With two runs, both sides of a diff, each side compared.
    async function expectSameAnswers(runs: ReviewRuns, otherSide?: ReviewRuns): Promise<void> {
        const sides = [await prepareSide(runs), ...(otherSide ? [await prepareSide(otherSide)] : [])];
        const [byClass, oneByOne] = [(await modelsOf(sides, AT)).models, (await modelsOf(sides, AT, { exhaustive: true })).models];
        for (const side of sides.keys()) {
            const [classes, everything] = [byClass[side], oneByOne[side]];
            const requests = (allowed: AllowedAccess[]) =>
                allowed
                    .flatMap(requestsOf)
                    .map((a) => JSON.stringify(a))
                    .sort();
            expect(requests(classes.allowed), `side ${side}`).to.deep.equal(requests(everything.allowed));
            expect(classes.partners, `side ${side}`).to.deep.equal(everything.partners);
            expect(classes.evaluations).to.be.lessThan(everything.evaluations);
        }
    }

    let full: ReviewRuns;
    before(async () => {
        full = await runForReview({
            stack: "yours",
            configFile: changedFixture("yours", (config) => {
                config["third-party-ssm-access:sessions"].kmsEncryption = true;
                config["third-party-ssm-access:sessions"].s3Archive = true;
                config["third-party-ssm-access:partners"][0].expiresAt = A_ENDS;
            }),
        });
    });

    it("on the sample stacks, and with every optional part on", async () => {
        await expectSameAnswers(await runForReview({ stack: "yours", configFile: SAMPLE }));
        await expectSameAnswers(await runForReview({ stack: "their", configFile: THEIR_SAMPLE }));
        await expectSameAnswers(full);
    });

    it("on widened grants: commands anywhere, retagging, passing roles, a tag compared by prefix", async () => {
        const grant = "SSMStartSession_IAM_Role_Third_Party_A";
        await expectSameAnswers(widen(full, grant, { Action: "ssm:SendCommand", Resource: "*" }));
        await expectSameAnswers(widen(full, grant, { Action: "ec2:CreateTags", Resource: "arn:aws:ec2:us-east-1:111111111111:instance/*" }));
        await expectSameAnswers(widen(full, grant, { Action: ["ec2:RunInstances", "iam:PassRole"], Resource: "*" }));
        await expectSameAnswers(
            changePolicies(full, grant, (document) => {
                for (const statement of document.Statement.filter((s) => s.Condition?.StringEquals?.["ssm:resourceTag/ExternalAccessGrantedTo"])) {
                    statement.Condition.StringLike = { "ssm:resourceTag/ExternalAccessGrantedTo": "Third_Party_*" };
                    delete statement.Condition.StringEquals;
                }
            }),
        );
    });

    it("on the shapes an attack review found the classes mixing (each was wrong before it was fixed)", async () => {
        const grant = "SSMStartSession_IAM_Role_Third_Party_A";
        const instances = "arn:aws:ec2:us-east-1:111111111111:instance/*";
        // A tag compared as a number: values no string comparison names still differ.
        const levelled = copyOf(full);
        for (const r of levelled.main.resources.filter((r) => r.type === "aws:ec2/instance:Instance"))
            r.inputs.tags = { ...r.inputs.tags, Level: r.inputs.tags.Name === "instance-third-party-a" ? "3" : "7" };
        await expectSameAnswers(
            changePolicies(widen(levelled, grant, { Action: "ssm:SendCommand", Resource: instances }), grant, (document) => {
                document.Statement.find((s) => s.Sid === MUTATION).Condition = { NumericLessThan: { "aws:ResourceTag/Level": "5" } };
            }),
        );
        // A resource tag read through a variable (ABAC the other way round), in a Deny.
        await expectSameAnswers(
            changePolicies(widen(full, grant, { Action: "ssm:SendCommand", Resource: instances }), grant, (document) => {
                document.Statement.push({
                    Effect: "Deny",
                    Action: "ssm:SendCommand",
                    Resource: "*",
                    Condition: { StringEquals: { "aws:PrincipalTag/ExternalAccessGrantedTo": "${ssm:resourceTag/ExternalAccessGrantedTo}" } },
                });
            }),
        );
        // A short ARN, which the simulator pads with wildcards.
        await expectSameAnswers(widen(full, grant, { Action: "ssm:SendCommand", Resource: "arn:aws:ssm:us-east-1:111111111111" }));
        // A grant's tag changed between the two sides of a diff: each side's own value tells its resources apart.
        const retagged = copyOf(full);
        const role = retagged.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === grant)!;
        role.inputs.tags = { ...role.inputs.tags, ExternalAccessGrantedTo: "Third_Party_B" };
        await expectSameAnswers(full, retagged);
    });

    describe("among many partners, a widening of one is a finding naming that one", () => {
        const PARTNERS = 40;
        const ONE = "Partner_17";
        const grantOf = (partner: string) => `SSMStartSession_IAM_Role_${partner}`;
        const grantArn = (partner: string) => `arn:aws:iam::111111111111:role/${grantOf(partner)}`;
        let many: ReviewRuns;
        let proof: AccessProof;
        before(async () => {
            const generated = generatedConfig(PARTNERS);
            many = await runForReview({
                stack: "yours",
                configFile: changedFixture("yours", (config) => {
                    config["third-party-ssm-access:partners"] = generated.partners;
                    config["third-party-ssm-access:instances"] = generated.instances;
                }),
            });
            proof = await proveAccess(many, AT);
        });
        const unintendedOf = (found: AccessProof) => found.findings.filter((f) => f.kind === "unintended").map((f) => f.access!);

        it(`${PARTNERS} partners: nothing unintended, each reaches its own instance, in evaluations that grow with the partners, not their square`, async () => {
            expect(summary(proof)).to.deep.equal([]);
            for (const partner of proof.model.partners)
                expect(partner.instances.map((i) => i.label).filter((l) => l.startsWith("instance "))).to.deep.equal([
                    `instance instance-${partner.name.split("_")[1]}`,
                ]);
            const half = await proveAccess(
                await runForReview({
                    stack: "yours",
                    configFile: changedFixture("yours", (config) => {
                        const generated = generatedConfig(PARTNERS / 2);
                        config["third-party-ssm-access:partners"] = generated.partners;
                        config["third-party-ssm-access:instances"] = generated.instances;
                    }),
                }),
                AT,
            );
            // Twice the partners, about twice the evaluations (asking every resource, it was about four times).
            expect(proof.evaluations / half.evaluations).to.be.lessThan(2.2);
        });

        it("its grant reaching its neighbours' instances (the tag condition dropped)", async () => {
            const changed = changePolicies(many, grantOf(ONE), (document) => {
                for (const statement of document.Statement) delete statement.Condition?.StringEquals;
            });
            const unintended = unintendedOf(await proveAccess(changed, AT));
            expect([...new Set(unintended.map((a) => a.subject))]).to.deep.equal([grantArn(ONE)]);
            expect(unintended.filter((a) => a.action === "ssm:StartSession" && a.variant === "").map((a) => a.resourceLabel)).to.include.members([
                "instance instance-16",
                "instance instance-18",
                "an untagged instance",
            ]);
        });

        it("its trust losing the external id", async () => {
            const changed = copyOf(many);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === grantOf(ONE))!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement) delete statement.Condition?.StringEquals?.["sts:ExternalId"];
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const unintended = unintendedOf(await proveAccess(changed, AT));
            expect(unintended.map((a) => `${a.variant} ${a.action} ${a.resource}`)).to.include(`without the external id sts:AssumeRole ${grantArn(ONE)}`);
            expect(unintended.every((a) => a.resource === grantArn(ONE))).to.equal(true);
        });

        it("its Run As becoming a privileged user", async () => {
            const changed = copyOf(many);
            const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.inputs.name === grantOf(ONE))!;
            role.inputs.tags = { ...role.inputs.tags, [RUN_AS_TAG_KEY]: "root" };
            const runsAs = (await proveAccess(changed, AT)).findings.filter((f) => f.kind === "runs-as").map((f) => f.message);
            expect(runsAs).to.deep.equal([`${ONE}'s sessions run as root, not os_user_17 (partners[].osUser)`]);
        });

        it("its grant reading parameters", async () => {
            const unintended = unintendedOf(await proveAccess(widen(many, grantOf(ONE), { Action: "ssm:GetParameter", Resource: "*" }), AT));
            expect(unintended.map((a) => `${a.subject} ${a.action}`)).to.include(`${grantArn(ONE)} ssm:GetParameter`);
            expect(unintended.every((a) => a.subject === grantArn(ONE))).to.equal(true);
        });
    });
});
