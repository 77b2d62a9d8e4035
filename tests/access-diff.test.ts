// The access diff: what a change to a stack's config, or to the components, grants or takes
// away, decided by evaluating the policies each side produces. Each change below is made to
// a copy of the sample stack (or of the program) and compared with the samples as they are.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import * as YAML from "yaml";
import { diffAccess, type AccessDiff } from "../tools/access/diff";
import { accessModel, type AccessModel } from "../tools/access/model";
import { checkOutRef, diffStacks } from "../tools/access/sides";
import { FIXTURES_DIR, PROJECT, PROJECT_ROOT } from "../tools/mock-engine";
import { renderDiffMarkdown } from "../tools/review/diff-markdown";
import { runReferencedStacks, runWithReferences, type ReferencedStacks } from "../tools/review/stacks";
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
    let sample: AccessModel;
    before(async () => {
        references = await runReferencedStacks([SAMPLE]);
        const runs = await runWithReferences({ stack: "yours", configFile: SAMPLE }, references);
        if (runs.main.error) throw runs.main.error;
        sample = await accessModel(runs, AT);
    });

    // The sample stack with `change` applied to its config, diffed against the sample.
    async function changedBy(change: (config: Record<string, any>) => void): Promise<AccessDiff> {
        const runs = await runWithReferences({ stack: "yours", configFile: changedFixture("yours", change) }, references);
        if (runs.main.error) throw runs.main.error;
        return diffAccess(sample, await accessModel(runs, AT), { side: "changed", against: "sample" });
    }

    it("models the sample by evaluation: each partner on its own instance, as its own OS user, with the preferences document only", () => {
        const a = sample.partners.find((p) => p.name === "Third_Party_A")!;
        expect(a.instances.map((i) => i.label)).to.deep.equal(["instance instance-third-party-a"]);
        expect(a.documents.map((d) => d.label)).to.deep.equal(["SSM-SessionManagerRunShell"]);
        expect(a.assumableBy.map((p) => p.key)).to.deep.equal(["arn:aws:iam::222222222222:role/3P_IAM_Assume_Role"]);
        expect(a).to.include({ runAs: "os_user_a_alice", expiresAt: null, requiresSourceIdentity: true });
        // A parameter, a bucket object, another partner's instance: nothing the grant was not written for.
        const grantActions = new Set(sample.allowed.filter((x) => x.principal === a.grantRoleArn).map((x) => x.action));
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
            "adds | Third_Party_C | new partner: sessions on instance instance-third-party-c as os_user_c_carol with SSM-SessionManagerRunShell, until 2027-06-30T00:00:00Z; " +
                "its grant SSMStartSession_IAM_Role_Third_Party_C may be assumed by arn:aws:iam::444444444444:role/3P_IAM_Assume_Role, naming the person (source identity)",
        ]);
        expect(diff.addsAccess).to.equal(true);
    });

    it("removing a partner and its instance: one line, and nothing else", async () => {
        const diff = await changedBy((config) => {
            config[key("instances")].splice(1, 1);
            config[key("partners")].splice(1, 1);
        });
        expect(lines(diff)).to.have.length(1);
        expect(lines(diff)[0]).to.match(/^removes \| Third_Party_B \| removed: no longer holds sessions on instance instance-third-party-b as os_user_b_bob/);
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
            "adds | Third_Party_B | its grant no longer requires a source identity: CloudTrail shows the role session, not the person",
            "adds | Third_Party_B | its grant may now be assumed by arn:aws:iam::333333333333:role/Support_Jump",
            "removes | Third_Party_A | access now ends at 2027-03-31T23:59:59Z (was no expiry)",
            "removes | Third_Party_A | credentials issued before 2027-01-10T00:00:00Z are refused (was no revocation)",
            "removes | Third_Party_B | its grant may no longer be assumed by arn:aws:iam::333333333333:role/3P_IAM_Assume_Role",
        ]);
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
            "adds | role SSMStartSession_IAM_Role_Third_Party_A | may now ssm:GetParameter, ssm:GetParameters on a parameter this stack does not create (allowed by ReadParameters)",
            "adds | role SSMStartSession_IAM_Role_Third_Party_B | may now ssm:GetParameter, ssm:GetParameters on a parameter this stack does not create (allowed by ReadParameters)",
            "removes | role instances-role | may no longer ssm:ListAssociations on *",
        ]);
        expect(renderDiffMarkdown(diff).indexOf("## Access added")).to.be.lessThan(renderDiffMarkdown(diff).indexOf("## Access removed"));
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
