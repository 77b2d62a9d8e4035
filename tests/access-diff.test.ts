// The access diff: what a change to a stack's config, or to the components, grants or takes
// away, decided by evaluating the policies each side produces. Each change below is made to
// a copy of the sample stack (or of the program) and compared with the samples as they are.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import * as YAML from "yaml";
import type { AccessDiff } from "../tools/access/diff";
import { modelsOf, prepareSide, type PreparedSide } from "../tools/access/model";
import { checkOutRef, diffSides, diffStacks } from "../tools/access/sides";
import { FIXTURES_DIR, PROJECT, PROJECT_ROOT } from "../tools/mock-engine";
import { renderDiffMarkdown } from "../tools/review/diff-markdown";
import { runReferencedStacks, runWithReferences, type ReferencedStacks } from "../tools/stack-runs";
import { changedFixture } from "./fixture-copies";
import { runReviewCommand } from "./review-command";

const AT = "2027-01-15T12:00:00Z";
const SAMPLE = path.join(FIXTURES_DIR, "Pulumi.yours.yaml");
const key = (name: string) => `${PROJECT}:${name}`;
const lines = (diff: AccessDiff) => diff.lines.map((l) => `${l.effect} | ${l.subject} | ${l.text}`);

// A copy of the program (index.ts, its stacks and components) to change, with this project's packages.
function programCopy(change: (root: string) => void): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "program-"));
    for (const entry of ["index.ts", "Pulumi.yaml", "components", "stacks"])
        fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(root, entry), { recursive: true });
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
    change(root);
    return root;
}

function edit(file: string, from: string, to: string): void {
    const text = fs.readFileSync(file, "utf8");
    if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
    fs.writeFileSync(file, text.replace(from, to));
}

describe("access diff", () => {
    let references: ReferencedStacks;
    let sample: PreparedSide;
    before(async () => {
        references = await runReferencedStacks([SAMPLE]);
        const runs = await runWithReferences({ stack: "yours", configFile: SAMPLE }, references);
        if (runs.main.error) throw runs.main.error;
        sample = await prepareSide(runs);
    });

    // The sample stack with `change` applied to its config, diffed against the sample.
    async function changedBy(change: (config: Record<string, any>) => void): Promise<AccessDiff> {
        const runs = await runWithReferences({ stack: "yours", configFile: changedFixture("yours", change) }, references);
        if (runs.main.error) throw runs.main.error;
        return diffSides(sample, await prepareSide(runs), AT, { side: "changed", against: "sample" });
    }

    it("models the sample by evaluation: each partner on its own instance, as its own OS user, with the preferences document only", async () => {
        const [model] = (await modelsOf([sample], AT)).models;
        const a = model.partners.find((p) => p.name === "Third_Party_A")!;
        // Its own instance, and by its tag any other (ABAC): never another partner's, an untagged one, or one in another region.
        expect(a.instances.map((i) => i.label)).to.deep.equal([
            "instance instance-third-party-a",
            "any other instance tagged ExternalAccessGrantedTo=Third_Party_A",
            "any other managed instance tagged ExternalAccessGrantedTo=Third_Party_A",
        ]);
        expect(a.documents.map((d) => d.label)).to.deep.equal(["document SSM-SessionManagerRunShell"]);
        // Its jump role only, with the external id and a source identity (whatever the partner's administrator makes of
        // that role): not without either, not a colleague of the partner, not an outsider.
        expect(a.assumableBy.map((p) => p.key)).to.deep.equal([
            "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role|",
            "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role|once its account's administrator widens its own policies",
        ]);
        expect(a).to.include({ runAs: "os_user_a_alice", accessEnds: null });
        expect(a.holds).to.deep.equal([]);
        // A parameter, a bucket object, another partner's instance: nothing the grant was not written for.
        const grantActions = new Set(model.allowed.filter((x) => x.subject === a.grantRoleArn).map((x) => x.action));
        expect([...grantActions].sort()).to.deep.equal([
            "ec2:DescribeInstances",
            "ssm:DescribeInstanceProperties",
            "ssm:GetConnectionStatus",
            "ssm:ResumeSession",
            "ssm:StartSession",
            "ssm:TerminateSession",
        ]);
    });

    it("the same stack and program: no change in access", async () => {
        const diff = await changedBy(() => undefined);
        expect(diff).to.include({ changed: false, addsAccess: false });
        expect(diff.lines).to.deep.equal([]);
        expect(renderDiffMarkdown(diff)).to.include("**No change in access.** Resources: 0 added, 0 removed, 0 changed.");
    });

    it("a stack whose outputs predate the stated revocation: no revocation line where both sides' policies carry it", async () => {
        const runs = await runWithReferences(
            {
                stack: "yours",
                configFile: changedFixture("yours", (config) => (config[key("partners")][0].revokeSessionsIssuedBefore = "2027-01-10T00:00:00Z")),
            },
            references,
        );
        const revoking = await prepareSide(runs);
        // The same side as a stack deployed before the grants output stated a revocation would read.
        const older = {
            ...revoking,
            statedGrants: new Map([...revoking.statedGrants].map(([arn, grant]) => [arn, { ...grant, revokeSessionsIssuedBefore: undefined }])),
        };
        const diff = await diffSides(older, revoking, AT, { side: "changed", against: "older" });
        expect(lines(diff)).to.deep.equal([]);
        // Stated on both sides, a change still shows.
        const none = {
            ...revoking,
            statedGrants: new Map([...revoking.statedGrants].map(([arn, grant]) => [arn, { ...grant, revokeSessionsIssuedBefore: null }])),
        };
        expect(lines(await diffSides(none, revoking, AT, { side: "changed", against: "none" }))).to.include(
            "removes | Third_Party_A | credentials issued before 2027-01-10T00:00:00Z are refused (was no revocation)",
        );
    });

    it("a change that touches resources but not access: no change in access, the resources counted", async () => {
        const diff = await changedBy((config) => {
            config[key("sessions")].logRetentionDays = 30;
            config[key("network")].flowLogRetentionDays = 14;
            config[key("instances")][0].instanceType = "t3.small";
        });
        expect(diff.lines).to.deep.equal([]);
        expect(diff.resources).to.deep.equal({ added: 0, removed: 0, changed: 3 });
        expect(renderDiffMarkdown(diff)).to.include("**No change in access.** Resources: 0 added, 0 removed, 3 changed.");
    });

    it("adding a partner with an instance: one line, and nothing else", async () => {
        const diff = await changedBy((config) => {
            config[key("instances")].push({ name: "instance-third-party-c", partner: "Third_Party_C" });
            config[key("partners")].push({
                name: "Third_Party_C",
                accountId: "444444444444",
                osUser: "os_user_c_carol",
                principalArns: ["arn:aws:iam::444444444444:role/3P_IAM_Assume_Role"],
                expiresAt: "2027-06-30T00:00:00Z",
            });
        });
        expect(lines(diff)).to.deep.equal([
            "adds | Third_Party_C | new partner: sessions on instance instance-third-party-c, any other instance tagged ExternalAccessGrantedTo=Third_Party_C, " +
                "any other managed instance tagged ExternalAccessGrantedTo=Third_Party_C as os_user_c_carol with document SSM-SessionManagerRunShell, until 2027-06-30T00:00:00Z; " +
                "its grant SSMStartSession_IAM_Role_Third_Party_C may be assumed by arn:aws:iam::444444444444:role/3P_IAM_Assume_Role",
        ]);
        expect(diff.addsAccess).to.equal(true);
    });

    it("removing a partner and its instance: one line, and nothing else", async () => {
        const diff = await changedBy((config) => {
            config[key("instances")].splice(1, 1);
            config[key("partners")].splice(1, 1);
        });
        expect(lines(diff)).to.have.length(1);
        expect(lines(diff)[0]).to.match(
            /^removes \| Third_Party_B \| removed: no longer holds sessions on instance instance-third-party-b, any other instance tagged ExternalAccessGrantedTo=Third_Party_B, any other managed instance tagged ExternalAccessGrantedTo=Third_Party_B as os_user_b_bob/,
        );
        expect(diff.addsAccess).to.equal(false);
    });

    it("retagging an instance to another partner: one gains it, the other loses it", async () => {
        const diff = await changedBy((config) => {
            config[key("instances")][1].partner = "Third_Party_A";
        });
        expect(lines(diff)).to.deep.equal([
            "adds | Third_Party_A | may now start sessions on instance instance-third-party-b",
            "removes | Third_Party_B | may no longer start sessions on instance instance-third-party-b",
        ]);
    });

    it("rotating an external id: a change that is neither added nor removed access", async () => {
        const diff = await changedBy((config) => {
            config[key("partners")][1].externalId = { secure: "v1:c2FtcGxlIHJvdGF0ZWQgZXh0ZXJuYWwgaWQ=" };
        });
        expect(lines(diff)).to.deep.equal([
            "changes | Third_Party_B | external id rotated: the partner's CLI profile needs the new one (a secret re-encrypted with the same value also shows as rotated)",
        ]);
        expect(diff).to.include({ changed: true, addsAccess: false });
        // The new id (the mock engine's stand-in for the encrypted value) appears nowhere in the diff.
        expect(JSON.stringify(diff)).to.not.match(/encrypted[A-Za-z0-9]{24}/);
    });

    it("the OS user, the expiry, the revocation, the source identity rule and the trusted principal, each as added or removed access", async () => {
        const diff = await changedBy((config) => {
            const [a, b] = config[key("partners")];
            a.osUser = "os_user_a_support";
            a.expiresAt = "2027-03-31T23:59:59Z";
            a.revokeSessionsIssuedBefore = "2027-01-10T00:00:00Z";
            b.requireSourceIdentity = false;
            b.principalArns = ["arn:aws:iam::333333333333:role/Support_Jump"];
        });
        expect(lines(diff)).to.deep.equal([
            "adds | Third_Party_A | sessions now run as os_user_a_support (were os_user_a_alice): the partner acts as that OS user",
            "adds | Third_Party_B | its grant may now be assumed by arn:aws:iam::333333333333:role/Support_Jump",
            "adds | Third_Party_B | its grant may now be assumed by arn:aws:iam::333333333333:role/Support_Jump, without a source identity",
            "removes | Third_Party_A | access now ends at 2027-03-31T23:59:59Z (was no expiry)",
            "removes | Third_Party_A | credentials issued before 2027-01-10T00:00:00Z are refused (was no revocation)",
            "removes | Third_Party_B | its grant may no longer be assumed by arn:aws:iam::333333333333:role/3P_IAM_Assume_Role",
        ]);
    });

    it("another access tag key: instances already carrying the new key for a partner become reachable", async () => {
        const diff = await changedBy((config) => {
            config[key("accessTagKey")] = "Partner";
            config[key("instances")] = [];
        });
        expect(lines(diff)).to.include.members([
            "adds | Third_Party_A | may now start sessions on any other instance tagged Partner=Third_Party_A",
            "removes | Third_Party_A | may no longer start sessions on any other instance tagged ExternalAccessGrantedTo=Third_Party_A",
        ]);
    });

    it("the their stack trusting a federated role every person of the partner holds", async () => {
        const their = path.join(FIXTURES_DIR, "Pulumi.their.yaml");
        const diff = await diffStacks({
            stack: "their",
            before: { name: "the sample", programRoot: PROJECT_ROOT, configFile: their },
            after: {
                name: "changed",
                programRoot: PROJECT_ROOT,
                configFile: changedFixture("their", (config) => {
                    delete config[key("users")];
                    config[key("federatedPrincipalArn")] = "arn:aws:iam::222222222222:role/AWSReservedSSO_Everyone";
                }),
            },
            at: AT,
        });
        expect(lines(diff)).to.include(
            "adds | arn:aws:iam::222222222222:role/AWSReservedSSO_Everyone | may now sts:AssumeRole, sts:SetSourceIdentity on role 3P_IAM_Assume_Role (allowed by RemoteAccessPrincipalsAssumeAsThemselves, RemoteAccessPrincipalsSetTheirOwnSourceIdentity, statement 1 of its account's own policies (1))",
        );
    });

    it("widening a policy in a component: each grant gains the action, and a narrowed instance role loses one (the program itself changed)", async () => {
        const widened = programCopy((root) => {
            edit(
                path.join(root, "components", "policies.ts"),
                `            Sid: "OpenDataChannelOfOwnSessions",`,
                `            Sid: "ReadParameters",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: "*",
        },
        {
            Sid: "OpenDataChannelOfOwnSessions",`,
            );
            edit(
                path.join(root, "components", "policies.ts"),
                `{ Sid: "ListAssociations", Effect: "Allow", Action: "ssm:ListAssociations", Resource: "*" },`,
                "",
            );
        });
        const diff = await diffStacks({
            stack: "yours",
            before: { name: "the sample", programRoot: PROJECT_ROOT, configFile: SAMPLE },
            after: { name: "the widened program", programRoot: widened, configFile: SAMPLE },
            at: AT,
        });
        expect(lines(diff)).to.deep.equal([
            "adds | role SSMStartSession_IAM_Role_Third_Party_B | may now ssm:GetParameter, ssm:GetParameters on a parameter this stack does not create (allowed by ReadParameters)",
            "adds | role SSMStartSession_IAM_Role_Third_Party_A | may now ssm:GetParameter, ssm:GetParameters on a parameter this stack does not create (allowed by ReadParameters)",
            "removes | role instances-role | may no longer ssm:ListAssociations on *",
        ]);
        expect(renderDiffMarkdown(diff).indexOf("## Access added")).to.be.lessThan(renderDiffMarkdown(diff).indexOf("## Access removed"));
    });

    describe("changes meant to slip access past a reviewer", () => {
        // Several independent widenings in one copy of the program (each line is checked on its own).
        let diff: AccessDiff;
        before(async () => {
            const sneaky = programCopy((root) => {
                const policies = path.join(root, "components", "policies.ts");
                // A second trust statement on the grant, without the external id.
                edit(
                    policies,
                    `{ Sid: "PartnerSetsSourceIdentity"`,
                    `{ Sid: "AlsoWithoutExternalId", Effect: "Allow", Principal: principal, Action: "sts:AssumeRole", Condition: { ArnEquals: { "aws:PrincipalArn": args.principalArns } } },
        { Sid: "PartnerSetsSourceIdentity"`,
                );
                // The instance role trusts the partner's account too.
                edit(
                    policies,
                    `export function serviceTrustPolicy(service: string, scope: AwsScope, sourceArnPattern?: string): PolicyDocument {`,
                    `export function serviceTrustPolicy(service: string, scope: AwsScope, sourceArnPattern?: string): PolicyDocument {
    if (service === "ec2") return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }, { Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" }, Action: "sts:AssumeRole" }] };`,
                );
                // Sessions on one named instance, whatever its tags.
                edit(
                    policies,
                    `            Sid: "OpenDataChannelOfOwnSessions",`,
                    `            Sid: "ProductionDatabase", Effect: "Allow", Action: "ssm:StartSession", Resource: "arn:aws:ec2:us-east-1:111111111111:instance/i-0productiondb00001",
        },
        {
            Sid: "OpenDataChannelOfOwnSessions",`,
                );
                // Session tags on the grant: they override its Run As and access tags.
                edit(
                    policies,
                    `{ Sid: "PartnerSetsSourceIdentity"`,
                    `{ Sid: "PartnerTagsSessions", Effect: "Allow", Principal: principal, Action: "sts:TagSession", Condition: narrowed },
        { Sid: "PartnerSetsSourceIdentity"`,
                );
                // A policy given on the role itself rather than as a resource of its own.
                edit(
                    path.join(root, "components", "managed-instances.ts"),
                    `description: "Instance role of the Session Manager managed instances",`,
                    `description: "Instance role of the Session Manager managed instances",
                inlinePolicies: [{ name: "extra", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "ReadSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }] }) }],`,
                );
                // Run As off in the preferences, and the metadata guard gone.
                edit(path.join(root, "components", "documents.ts"), "runAsEnabled: true,", "runAsEnabled: false,");
                edit(path.join(root, "stacks", "yours.ts"), `new MetadataGuard("metadata-guard", { accessTagKey: settings.accessTagKey });`, "");
                edit(path.join(root, "components", "managed-instances.ts"), "userData: metadataGuardUserData(),", "");
                // AWS managed policies on the instance role (one evaluated from its snapshot, one not), no credentials perimeter, and a bucket for the partner.
                edit(
                    path.join(root, "components", "managed-instances.ts"),
                    "const securityGroupIds =",
                    `new aws.iam.RolePolicyAttachment(\`\${name}-core\`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }, parent);
        new aws.iam.RolePolicyAttachment(\`\${name}-read\`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }, parent);
        const securityGroupIds =`,
                );
                edit(
                    path.join(root, "stacks", "yours.ts"),
                    "credentialsPerimeter: network !== undefined || existing?.reachesAwsThroughEndpoints === true,",
                    "credentialsPerimeter: false,",
                );
                edit(
                    path.join(root, "stacks", "yours.ts"),
                    "const stackReferences = new Map",
                    `const shared = new aws.s3.Bucket("shared", { bucket: "shared-with-partner" });
    new aws.s3.BucketPolicy("shared", { bucket: shared.id, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::shared-with-partner/*" }] }) });
    const stackReferences = new Map`,
                );
            });
            diff = await diffStacks({
                stack: "yours",
                before: { name: "the sample", programRoot: PROJECT_ROOT, configFile: SAMPLE },
                after: { name: "the sneaky program", programRoot: sneaky, configFile: SAMPLE },
                at: AT,
            });
        });
        const expectLine = (pattern: RegExp) =>
            expect(
                lines(diff).filter((l) => pattern.test(l)),
                `a line matching ${pattern}`,
            ).to.not.deep.equal([]);

        it("a trust statement without the external id: the grant may be assumed without it", () =>
            expectLine(/^adds \| Third_Party_A \| its grant may now be assumed by role 3P_IAM_Assume_Role, without the external id$/));
        it("another trust on the instance role: the partner's account may assume it", () =>
            expectLine(/^adds \| any other role of account 222222222222 .* \| may now sts:AssumeRole on role instances-role/));
        it("a named instance whatever its tags", () =>
            expectLine(
                /^adds \| Third_Party_B \| may now start sessions on a resource matching arn:aws:ec2:us-east-1:111111111111:instance\/i-0productiondb00001$/,
            ));
        it("Run As off: sessions run as the agent's user, which has sudo", () =>
            expectLine(/^adds \| Third_Party_A \| sessions now run as ssm-user \(were os_user_a_alice\)/));
        it("the metadata guard gone: a partner's shell holds the instance role", () =>
            expectLine(/^adds \| Third_Party_B \| its shell now holds the instance role instances-role, through a shell on instance instance-third-party-b/));
        it("AWS managed policies: attached, evaluated from the snapshot where there is one, named where there is not", () => {
            expectLine(
                /^adds \| role instances-role \| now has the AWS managed policy arn:aws:iam::aws:policy\/AmazonSSMManagedInstanceCore attached \(evaluated from its text/,
            );
            expectLine(/^adds \| role instances-role \| now has the AWS managed policy arn:aws:iam::aws:policy\/ReadOnlyAccess attached \(not evaluated/);
            expectLine(/^adds \| role instances-role \| may now ssm:GetParameter, ssm:GetParameters on a parameter this stack does not create/);
        });
        it("no credentials perimeter: the instance role's credentials work away from the instance", () =>
            expectLine(/^adds \| role instances-role, with its credentials used away from its instance \| may now .*ssm:GetParameter/));
        it("a bucket shared with the partner's account", () =>
            expectLine(/^adds \| any other role of account 222222222222 .* \| may now s3:GetObject on .*an object in bucket shared-with-partner/));
        it("session tags on the grant, which would let the partner pick its OS user and instances", () =>
            expectLine(
                /^adds \| Third_Party_A \| its grant's sessions may now be tagged by role 3P_IAM_Assume_Role, once its account's administrator widens its own policies: session tags override/,
            ));
        it("a policy given inline on a role", () =>
            expectLine(
                /^adds \| role instances-role, with its credentials used away from its instance \| may now secretsmanager:GetSecretValue on .* \(allowed by ReadSecrets\)$/,
            ));
        it("and --fail-on-added-access would fail: every one of them adds access", () => expect(diff.addsAccess).to.equal(true));
    });

    describe("against a git ref", () => {
        // A repository holding the project (program, tools, the samples as its stacks) with one commit.
        let repo: string;
        before(() => {
            repo = fs.mkdtempSync(path.join(os.tmpdir(), "repo-"));
            for (const entry of ["index.ts", "Pulumi.yaml", "components", "stacks", "tools", "tsconfig.json", "package.json", "package-lock.json"])
                fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(repo, entry), { recursive: true });
            for (const stack of ["yours", "their"]) fs.copyFileSync(path.join(FIXTURES_DIR, `Pulumi.${stack}.yaml`), path.join(repo, `Pulumi.${stack}.yaml`));
            fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
            fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
            const git = (...args: string[]) =>
                execFileSync("git", ["-C", repo, "-c", "user.name=test", "-c", "user.email=test@example.com", ...args], { stdio: "pipe" });
            git("init", "--quiet");
            git("add", ".");
            git("commit", "--quiet", "-m", "the samples");
        });

        it("copies the commit's tree out of git with the packages linked in, and removes the copy (never the packages)", () => {
            const tree = checkOutRef(repo, "HEAD");
            expect(fs.readFileSync(path.join(tree.programRoot, "Pulumi.yours.yaml"), "utf8")).to.equal(fs.readFileSync(SAMPLE, "utf8"));
            expect(fs.realpathSync(path.join(tree.programRoot, "node_modules"))).to.equal(fs.realpathSync(path.join(PROJECT_ROOT, "node_modules")));
            expect(tree.lockfileDiffers).to.equal(false);
            tree.dispose();
            expect(fs.existsSync(tree.programRoot)).to.equal(false);
            expect(fs.existsSync(path.join(PROJECT_ROOT, "node_modules", "@pulumi", "pulumi"))).to.equal(true);
            expect(() => checkOutRef(repo, "no-such-branch")).to.throw(/"no-such-branch" is not a commit of this repository/);
        });

        it("as a command: an uncommitted change is the diff, --fail-on-added-access exits 3, and the JSON renders as the Markdown", async () => {
            const file = path.join(repo, "Pulumi.yours.yaml");
            const document = YAML.parse(fs.readFileSync(file, "utf8"));
            document.config[key("partners")][0].expiresAt = "2027-03-31T23:59:59Z";
            document.config[key("partners")][0].osUser = "os_user_a_support";
            fs.writeFileSync(file, YAML.stringify(document));
            const json = await runReviewCommand(["--stack", "yours", "--against", "HEAD", "--at", AT, "--format", "json", "--fail-on-added-access"], repo);
            expect(json.code, json.stderr).to.equal(3);
            const diff: AccessDiff = JSON.parse(json.stdout);
            expect(lines(diff)).to.deep.equal([
                "adds | Third_Party_A | sessions now run as os_user_a_support (were os_user_a_alice): the partner acts as that OS user",
                "removes | Third_Party_A | access now ends at 2027-03-31T23:59:59Z (was no expiry)",
            ]);
            const markdown = renderDiffMarkdown(diff);
            expect(markdown).to.match(/^# Access diff: stack `yours`, the working tree against HEAD \([0-9a-f]{7}\)\n/);
            expect(markdown).to.include("## Access added\n\n- **Third_Party_A**: sessions now run as os_user_a_support");

            const usage = await runReviewCommand(["--stack", "yours", "--against", "no-such-branch"], repo);
            expect(usage.code).to.equal(2);
            expect(usage.stderr).to.include('"no-such-branch" is not a commit of this repository');
        });
    });
});
