// Per-person Run As (issue 26): Third_Party_A opts in with two people, alice and bob. What the
// program registers (no Run As tag on the grant, an OS user per person on the partner's
// instances, a kept list per person, a trust of one size however many people), and, by IAM
// evaluation of the policies it produced, who may obtain which OS user: each person their
// own, nobody another person's, another partner's, the default or a privileged one, with or
// without the tag. Every refusal is tied to the condition that makes it: the same request
// against a trust with that condition removed is allowed.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { expect } from "chai";
import { proveAccess, type AccessProof } from "../tools/access/proof";
import { analyze } from "../tools/review/analyze";
import { renderMarkdown } from "../tools/review/markdown";
import { runForReview, type ReviewRuns } from "../tools/stack-runs";
import { diffStacks } from "../tools/access/sides";
import { changedFixture } from "./fixture-copies";
import { ONLY_ITS_PEOPLE_SID, PERSON_TAGS_OWN_OS_USER_SID, statementsOf, type PolicyDocument, type PolicyStatement } from "../components/policies";
import { RUN_AS_TAG_KEY } from "../components/constants";
import { createOsUsersDocument, linuxOsUsersScript } from "../components/os-user-document";
import { parameterVariable } from "../components/command-parameters";
import { realSystemUnavailable, skipUnlessRealSystem, treeFingerprint } from "./real-system";
import { perPersonAgreementProblem } from "../stacks/their";
import { prepareSide } from "../tools/access/model";
import { diffRuns } from "../tools/diff";
import { decide, partnerControlled, type AccessRequest } from "../tools/iam/evaluate";
import type { IamPicture, IamPrincipal, PictureInstance } from "../tools/iam/picture";
import { chainedAs } from "../tools/iam/probes";
import { FIXTURES_DIR, ofType, only, PROJECT, PROJECT_ROOT, resolve, runProgram, SAMPLE_STACKS, type ProgramRun } from "../tools/mock-engine";

const ASSOCIATION = "aws:ssm/association:Association";
const BASE = "os_user_a";
const PER_PERSON = { "partners[0].runAs": "perPerson", "partners[0].osUser": BASE, "partners[0].people": ["alice", "bob"] };
const THEIR_PER_PERSON = { perPersonOsUserBase: BASE, users: [{ name: "alice" }, { name: "bob" }] };

async function yours(set: Record<string, unknown> = PER_PERSON): Promise<ProgramRun> {
    const run = await runProgram({ stack: "yours", set });
    if (run.error) throw run.error;
    return run;
}

/** The their stack fed with the yours stack's real grants, as `pulumi up` would read them. */
async function their(yoursRun: ProgramRun, set: Record<string, unknown> = THEIR_PER_PERSON): Promise<ProgramRun> {
    const grants = (await resolve(yoursRun.outputs.grants as object)).value;
    const region = (await resolve(yoursRun.outputs.region as string)).value;
    return runProgram({
        stack: "their",
        set,
        stacks: { ...SAMPLE_STACKS, [`organization/${PROJECT}/yours`]: { outputs: { grants, region }, secretOutputNames: ["grants"] } },
    });
}

const keptUsers = (run: ProgramRun) => String(only(run, ASSOCIATION, "offboarding-keep-os-users").inputs.parameters.grantedUsers).split(" ");
const grantRole = (run: ProgramRun) => only(run, "aws:iam/role:Role", "grant-Third_Party_A-role");

describe("per-person Run As: what the program registers", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("gives the grant role no Run As tag (a session without its person's tag gets the unprivileged default), and keeps its access tag", () => {
        expect(grantRole(run).inputs.tags).to.deep.equal({ ExternalAccessGrantedTo: "Third_Party_A" });
        // Third_Party_B stays per partner.
        expect(only(run, "aws:iam/role:Role", "grant-Third_Party_B-role").inputs.tags).to.deep.equal({
            ExternalAccessGrantedTo: "Third_Party_B",
            [RUN_AS_TAG_KEY]: "os_user_b_bob",
        });
    });

    it("creates each person's own OS user on the partner's instances, all in one association (State Manager allows 2,000), and no shared one", () => {
        const target = [{ key: "tag:ExternalAccessGrantedTo", values: ["Third_Party_A"] }];
        const associations = ofType(run, ASSOCIATION).filter((a) => a.name.startsWith("grant-Third_Party_A-os-user"));
        expect(associations.map((a) => ({ name: a.name, parameters: a.inputs.parameters, target: a.inputs.targets, document: a.inputs.name }))).to.deep.equal([
            { name: "grant-Third_Party_A-os-users", parameters: { userNames: "os_user_a-alice os_user_a-bob" }, target, document: "os-users-create-os-users" },
        ]);
        expect(JSON.parse(only(run, "aws:ssm/document:Document", "os-users-create-os-users").inputs.content)).to.deep.equal(createOsUsersDocument());
    });

    it("creates the list document only for a stack with a per-person partner", async () => {
        const perPartner = await yours({});
        expect(ofType(perPartner, "aws:ssm/document:Document").map((d) => d.name)).to.not.include("os-users-create-os-users");
    });

    it("keeps each person's OS user on the instances, and outputs who runs as which", async () => {
        expect(keptUsers(run)).to.have.members(["os_user_a-alice", "os_user_a-bob", "os_user_b_bob"]);
        const grants = (await resolve(run.outputs.grants as object)).value as Record<string, Record<string, unknown>>;
        expect(grants.Third_Party_A.personOsUsers).to.deep.equal({ alice: "os_user_a-alice", bob: "os_user_a-bob" });
        expect(grants.Third_Party_A.runAsUser).to.equal(BASE);
        expect(grants.Third_Party_B).to.not.have.property("personOsUsers");
    });

    it("offboarding one person (left out of people) refuses that person and ends their OS user only: the grant stops listing them, its association stops creating them, the kept list ends them", async () => {
        const after = await yours({ ...PER_PERSON, "partners[0].people": ["alice"] });
        const diff = diffRuns(run, after);
        expect(diff.removed).to.deep.equal([]);
        expect(diff.added).to.deep.equal([]);
        // The grant's list of people (who may act at all), the list its association creates, and the kept list (which OS users stay).
        expect(diff.changed.map((r) => r.name)).to.have.members([
            "offboarding-keep-os-users",
            "grant-Third_Party_A-session-access",
            "grant-Third_Party_A-os-users",
        ]);
        expect(only(after, ASSOCIATION, "grant-Third_Party_A-os-users").inputs.parameters).to.deep.equal({ userNames: "os_user_a-alice" });
        const people = statementsOf(only(after, "aws:iam/rolePolicy:RolePolicy", "grant-Third_Party_A-session-access").inputs.policy).find(
            (s) => s.Sid === ONLY_ITS_PEOPLE_SID,
        );
        expect(people?.Condition).to.deep.equal({ StringNotEquals: { "aws:SourceIdentity": ["alice"] } });
        expect(keptUsers(after)).to.have.members(["os_user_a-alice", "os_user_b_bob"]);
    });

    it("at the partner's end of access, the schedule ends every person's OS user", async () => {
        const ending = await yours({ ...PER_PERSON, "partners[0].expiresAt": "2099-03-31T23:59:59Z" });
        const schedule = only(ending, "aws:scheduler/schedule:Schedule", "offboarding-end-Third_Party_A");
        expect(JSON.parse(schedule.inputs.target.input).Parameters).to.deep.equal({ userNames: ["os_user_a-alice os_user_a-bob"] });
    });

    it("keeps the trust the same, byte for byte, with 2, 10 and 200 people: one condition, whatever their number", async () => {
        const trustWith = async (count: number) => {
            const people = Array.from({ length: count }, (_, i) => `p${i}`);
            return grantRole(await yours({ ...PER_PERSON, "partners[0].people": people })).inputs.assumeRolePolicy as string;
        };
        const [two, ten, many] = [await trustWith(2), await trustWith(10), await trustWith(200)];
        expect(ten).to.equal(two);
        expect(many).to.equal(two);
    });
});

describe("per-person Run As: the partner's side", () => {
    let yoursRun: ProgramRun;
    let run: ProgramRun;
    before(async () => {
        yoursRun = await yours();
        run = await their(yoursRun);
        if (run.error) throw run.error;
    });

    it("lets the jump role tag a session into the grant only with the person's own OS user, and no other key", () => {
        const policy = statementsOf(only(run, "aws:iam/rolePolicy:RolePolicy", "remote-access-assume-grant").inputs.policy);
        expect(policy.find((s) => s.Action === "sts:TagSession")).to.deep.include({
            Effect: "Allow",
            Condition: {
                StringEquals: { [`aws:RequestTag/${RUN_AS_TAG_KEY}`]: "os_user_a-${aws:SourceIdentity}" },
                "ForAllValues:StringEquals": { "aws:TagKeys": [RUN_AS_TAG_KEY] },
            },
        });
    });

    it("writes each person a profile that passes their own Run As tag (a role profile cannot pass session tags)", async () => {
        const config = (await resolve(run.outputs.awsCliConfig as string)).value as string;
        for (const person of ["alice", "bob"]) {
            const profile = config.split(`[profile third_party_a-${person}]`)[1].split("[profile")[0];
            expect(profile).to.match(new RegExp(`credential_process = aws sts assume-role --profile third_party_a-${person}-jump --region us-east-1 `));
            expect(profile).to.include(`--role-session-name ${person} --tags Key=${RUN_AS_TAG_KEY},Value=os_user_a-${person} --duration-seconds 3600`);
            expect(profile).to.not.include("role_arn");
            // The grant step signs through the jump profile: that profile asks for the regional STS endpoint.
            const jump = config.split(`[profile third_party_a-${person}-jump]`)[1].split("[profile")[0];
            expect(jump).to.include("sts_regional_endpoints = regional");
        }
    });

    it("fails, naming the key, when its config and the owner's grant disagree on per-person Run As", async () => {
        const perPartner = await their(yoursRun, { users: [{ name: "alice" }, { name: "bob" }] });
        expect(String(perPartner.error)).to.match(
            /gives per-person Run As with base "os_user_a", but perPersonOsUserBase is not set; accepted: perPersonOsUserBase set to "os_user_a"/,
        );
        expect(perPersonAgreementProblem("os_user_a", { runAsUser: "os_user_a_alice" } as never)).to.match(/gives per-partner Run As/);
        expect(perPersonAgreementProblem(undefined, { runAsUser: "os_user_a_alice" } as never)).to.equal(undefined);
    });
});

// ---- Who obtains which OS user, by evaluation of the produced policies.

interface World {
    picture: IamPicture;
    grantA: IamPrincipal;
    jumpRoleA: IamPrincipal;
    externalIdA: string;
    instanceA: PictureInstance;
    instanceB: PictureInstance;
}

/** How the person asks: with the jump role as deployed, or as the partner's administrator, who can give it any permission. */
type Caller = "the jump role" | "the partner's administrator";

function asking(w: World, caller: Caller, action: string, person: string | undefined, tags: Record<string, string>): AccessRequest {
    const context: Record<string, string | string[]> = { "sts:ExternalId": w.externalIdA, ...(person === undefined ? {} : chainedAs(person)) };
    for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value;
    if (Object.keys(tags).length > 0) context["aws:TagKeys"] = Object.keys(tags);
    return {
        principal: caller === "the jump role" ? w.jumpRoleA.arn : partnerControlled(w.jumpRoleA.arn, w.jumpRoleA.tags),
        sessionName: person ?? "nobody",
        action,
        resource: w.grantA.arn,
        context,
    };
}

/** Whether the grant is obtained with these session tags: AssumeRole, and TagSession when tags are passed, both allowed. */
async function obtains(w: World, caller: Caller, person: string | undefined, tags: Record<string, string>): Promise<boolean> {
    const actions = Object.keys(tags).length > 0 ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"];
    for (const action of actions) if ((await decide(w.picture, asking(w, caller, action, person, tags))).decision !== "Allowed") return false;
    return true;
}

/** The same world with the grant's trust changed. */
function withTrust(w: World, change: (statements: PolicyStatement[]) => void): World {
    const trust = JSON.parse(JSON.stringify(w.grantA.trustPolicy)) as PolicyDocument;
    change(trust.Statement);
    const grantA = { ...w.grantA, trustPolicy: trust };
    return { ...w, grantA, picture: { ...w.picture, principals: w.picture.principals.map((p) => (p.arn === grantA.arn ? grantA : p)) } };
}

const RUN_AS_CONDITION = `aws:RequestTag/${RUN_AS_TAG_KEY}`;
// The protections, each removed on its own: what a widened trust would look like.
const TAG_CHOSEN_FREELY = (statements: PolicyStatement[]) => statements.forEach((s) => delete s.Condition?.StringEquals?.[RUN_AS_CONDITION]);
const ANY_TAG_KEYS = (statements: PolicyStatement[]) => statements.forEach((s) => delete s.Condition?.["ForAllValues:StringEquals"]);

describe("per-person Run As: who obtains which OS user, by IAM evaluation", () => {
    let world: World;
    before(async () => {
        const yoursRun = await yours();
        const theirRun = await their(yoursRun);
        if (theirRun.error) throw theirRun.error;
        const { picture, accessTagKey } = await prepareSide({ main: yoursRun, referenced: [theirRun] });
        const grants = (await resolve(yoursRun.outputs.grants as object)).value as Record<string, { externalId: string }>;
        const jumpArn = (await resolve(theirRun.outputs.jumpRoleArn as string)).value as string;
        world = {
            picture,
            grantA: picture.principals.find((p) => p.kind === "role" && p.tags[accessTagKey] === "Third_Party_A")!,
            jumpRoleA: picture.principals.find((p) => p.arn === jumpArn)!,
            externalIdA: grants.Third_Party_A.externalId,
            instanceA: picture.instances.find((i) => i.tags[accessTagKey] === "Third_Party_A")!,
            instanceB: picture.instances.find((i) => i.tags[accessTagKey] === "Third_Party_B")!,
        };
    });

    it("the grant's trust allows sts:TagSession in one statement, bound to the source identity", () => {
        const tagging = (world.grantA.trustPolicy!.Statement as PolicyStatement[]).filter((s) => s.Action === "sts:TagSession");
        expect(tagging.map((s) => s.Sid)).to.deep.equal([PERSON_TAGS_OWN_OS_USER_SID]);
        expect(tagging[0].Condition!.StringEquals[RUN_AS_CONDITION]).to.equal("os_user_a-${aws:SourceIdentity}");
    });

    for (const caller of ["the jump role", "the partner's administrator"] as const) {
        it(`alice and bob, through ${caller}, each obtain their own OS user`, async () => {
            expect(await obtains(world, caller, "alice", { [RUN_AS_TAG_KEY]: "os_user_a-alice" })).to.equal(true);
            expect(await obtains(world, caller, "bob", { [RUN_AS_TAG_KEY]: "os_user_a-bob" })).to.equal(true);
        });
    }

    // Every other OS user alice might ask for, each refused, and allowed once the trust lets the tag be chosen freely.
    const others: Array<{ title: string; tag: string }> = [
        { title: "bob's OS user", tag: "os_user_a-bob" },
        { title: "root", tag: "root" },
        { title: "ec2-user (passwordless sudo on Amazon Linux)", tag: "ec2-user" },
        { title: "another partner's OS user", tag: "os_user_b_bob" },
        { title: "the unprivileged default user, shared with everyone without a tag", tag: "no_sudo_user" },
        { title: "her own name in capitals (another Linux user)", tag: "os_user_a-ALICE" },
        { title: "the partner's base name alone", tag: BASE },
    ];
    for (const caller of ["the jump role", "the partner's administrator"] as const) {
        for (const other of others) {
            const title =
                caller === "the jump role"
                    ? `alice, through ${caller}, asking for ${other.title} is refused`
                    : `alice, through ${caller}, asking for ${other.title} is refused; with the tag chosen freely she would get it`;
            it(title, async () => {
                expect(await obtains(world, caller, "alice", { [RUN_AS_TAG_KEY]: other.tag })).to.equal(false);
                // The partner's administrator gives the jump role any permission: only the grant's trust stands in the way.
                if (caller === "the partner's administrator")
                    expect(await obtains(withTrust(world, TAG_CHOSEN_FREELY), caller, "alice", { [RUN_AS_TAG_KEY]: other.tag })).to.equal(true);
            });
        }
    }

    it("without the tag the grant is refused (no session of a per-person grant runs as the shared default); without the requirement it would be obtained", async () => {
        const admin = "the partner's administrator";
        expect(await obtains(world, admin, "alice", {})).to.equal(false);
        expect(await obtains(world, "the jump role", "alice", {})).to.equal(false);
        expect(await obtains(withTrust(world, TAG_CHOSEN_FREELY), admin, "alice", {})).to.equal(true);
    });

    it("no second tag rides along (the access tag would override the grant's, reaching another partner's instances); without the key list it would", async () => {
        const tags = { [RUN_AS_TAG_KEY]: "os_user_a-alice", ExternalAccessGrantedTo: "Third_Party_B" };
        const admin = "the partner's administrator";
        expect(await obtains(world, admin, "alice", tags)).to.equal(false);
        expect(await obtains(withTrust(world, ANY_TAG_KEYS), admin, "alice", tags)).to.equal(true);
    });

    it("without a source identity no OS user is obtained, whatever the tag: the binding has nothing to bind to", async () => {
        for (const tag of ["os_user_a-alice", "os_user_a-", "os_user_a-${aws:SourceIdentity}"])
            expect(await obtains(world, "the partner's administrator", undefined, { [RUN_AS_TAG_KEY]: tag })).to.equal(false);
    });

    it("the partner's administrator, naming a session anything, obtains only users under the partner's own base, never another partner's or a privileged one", async () => {
        // Source identities the administrator may set (2-64 of letters, digits and _ + = , . @ -): the value is always <base>-<identity>.
        for (const identity of ["b_bob", "_b_bob", "root", "..", "x,y", "os_user_b_bob"]) {
            expect(await obtains(world, "the partner's administrator", identity, { [RUN_AS_TAG_KEY]: `${BASE}-${identity}` })).to.equal(true);
            for (const tag of ["os_user_b_bob", "root", "no_sudo_user"])
                expect(await obtains(world, "the partner's administrator", identity, { [RUN_AS_TAG_KEY]: tag })).to.equal(false);
        }
    });

    // A session of the grant: a person's chain, carrying their source identity, tagged with their OS user.
    const session = (w: World, person: string, instance: PictureInstance, tags: Record<string, string> = {}): AccessRequest => ({
        principal: w.grantA.arn,
        sessionName: person,
        action: "ssm:StartSession",
        resource: instance.arn,
        resourceTags: instance.tags,
        context: {
            ...chainedAs(person),
            "ssm:SessionDocumentAccessCheck": "true",
            [`aws:PrincipalTag/${RUN_AS_TAG_KEY}`]: `${BASE}-${person}`,
            ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        },
    });
    const withoutStatement = (w: World, sid: string): World => {
        const grantA = {
            ...w.grantA,
            policies: w.grantA.policies.map((p) => ({ ...p, document: { ...p.document, Statement: p.document.Statement.filter((s) => s.Sid !== sid) } })),
        };
        return { ...w, grantA, picture: { ...w.picture, principals: w.picture.principals.map((p) => (p.arn === grantA.arn ? grantA : p)) } };
    };

    it("a person taken off the list is refused, credentials already held included (the trust alone would still let them in as their own, locked, OS user)", async () => {
        // people: [alice, bob]; carol stands for bob once removed: the same trust, a name the grant does not list.
        expect((await decide(world.picture, session(world, "alice", world.instanceA))).decision).to.equal("Allowed");
        expect(await obtains(world, "the jump role", "carol", { [RUN_AS_TAG_KEY]: `${BASE}-carol` }), "the trust binds, it does not list").to.equal(true);
        expect((await decide(world.picture, session(world, "carol", world.instanceA))).decision).to.equal("ExplicitlyDenied");
        expect((await decide(withoutStatement(world, ONLY_ITS_PEOPLE_SID).picture, session(world, "carol", world.instanceA))).decision).to.equal("Allowed");
    });

    it("an access tag inherited from the partner's own session (a transitive tag) reaches no other partner's instance; without the guard it would", async () => {
        const inherited = { ExternalAccessGrantedTo: "Third_Party_B" };
        expect((await decide(world.picture, session(world, "alice", world.instanceB, inherited))).decision).to.equal("ExplicitlyDenied");
        expect((await decide(withoutStatement(world, "OnlyItsOwnAccessTag").picture, session(world, "alice", world.instanceB, inherited))).decision).to.equal(
            "Allowed",
        );
    });
});

describe("per-person Run As: the list of people fits IAM's policy size", () => {
    it("refuses, naming the key, people whose names would make the grant's permissions larger than IAM accepts", async () => {
        const people = Array.from({ length: 1000 }, (_, i) => `person_${i}`);
        const run = await runProgram({ stack: "yours", set: { ...PER_PERSON, "partners[0].people": people } });
        expect(String(run.error)).to.match(/partners\[0\]\.people: got 1000 people, whose names make the grant's permissions \d+ characters, over IAM's 10240/);
        expect(run.resources).to.deep.equal([]);
    });
});

// ---- The review and the exhaustive proof of a per-person stack, and what they catch.

describe("per-person Run As: the review shows each person, and the proof catches each widening", () => {
    const AT = "2027-01-15T12:00:00Z";
    let runs: ReviewRuns;
    let yoursFile: string;
    before(async () => {
        yoursFile = changedFixture("yours", (config) => {
            const partner = config["third-party-ssm-access:partners"][0];
            Object.assign(partner, { osUser: BASE, runAs: "perPerson", people: ["alice", "bob"] });
        });
        // The partner's stack beside it, per person too.
        const theirFile = path.join(path.dirname(yoursFile), "Pulumi.their.yaml");
        const their = YAML.parse(fs.readFileSync(theirFile, "utf8"));
        Object.assign(their.config, {
            "third-party-ssm-access:perPersonOsUserBase": BASE,
            "third-party-ssm-access:users": [{ name: "alice" }, { name: "bob" }],
        });
        fs.writeFileSync(theirFile, YAML.stringify(their));
        runs = await runForReview({ stack: "yours", configFile: yoursFile });
    });

    const problems = (proof: AccessProof) => proof.findings.filter((f) => f.kind !== "held").map((f) => `${f.kind}: ${f.message}`);

    it("proves the per-person stack: everything allowed is intended, each person runs as their own OS user, nothing unprovable", async () => {
        const proof = await proveAccess(runs, AT);
        expect(problems(proof)).to.deep.equal([]);
        const partnerA = proof.model.partners.find((p) => p.name === "Third_Party_A")!;
        expect(partnerA.runAs).to.equal("os_user_a-<person>");
        expect(partnerA.people).to.deep.equal([
            // asProduced: the partner's jump role, as its their stack made it, tags the session too.
            { person: "alice", osUser: "os_user_a-alice", alsoObtains: [], asProduced: true },
            { person: "bob", osUser: "os_user_a-bob", alsoObtains: [], asProduced: true },
        ]);
    });

    it("the review lists person -> source identity -> grant -> OS user -> instances, and its per-person protections hold", async () => {
        const report = await analyze(runs, AT);
        const partnerA = report.partners.find((p) => p.name === "Third_Party_A")!;
        expect(partnerA.people).to.deep.equal(
            ["alice", "bob"].map((name) => ({
                person: `arn:aws:iam::222222222222:user/${name}`,
                sourceIdentity: name,
                osUser: `os_user_a-${name}`,
                alsoObtains: [],
                instances: ["instance-third-party-a"],
                asProduced: true,
            })),
        );
        const checks = report.protections.filter((c) => c.subject === "partner Third_Party_A");
        for (const words of ["without the Run As tag", "another person's OS user", "with root", "(sts:TagSession)", "does not list"])
            expect(checks.find((c) => c.check.includes(words))?.holds, words).to.equal(true);
        expect(renderMarkdown(report)).to.include("Per-person Run As: each of 2 people runs as their own OS user, and as nobody else's.");
        // Third_Party_B stays per partner: no person rows.
        expect(report.partners.find((p) => p.name === "Third_Party_B")).to.not.have.property("people");
    });

    // The grant's trust with the Run As value left to the caller: the mutation the issue names.
    function tagChosenFreely(reviewRuns: ReviewRuns): ReviewRuns {
        const changed: ReviewRuns = {
            ...reviewRuns,
            main: { ...reviewRuns.main, resources: reviewRuns.main.resources.map((r) => ({ ...r, inputs: structuredClone(r.inputs) })) },
        };
        const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "grant-Third_Party_A-role")!;
        const trust = JSON.parse(role.inputs.assumeRolePolicy) as PolicyDocument;
        trust.Statement.forEach((s) => delete s.Condition?.StringEquals?.[RUN_AS_CONDITION]);
        role.inputs.assumeRolePolicy = JSON.stringify(trust);
        return changed;
    }

    it("a trust that lets the Run As tag be chosen freely is a finding naming the partner and each person, and every other OS user they obtain", async () => {
        const found = problems(await proveAccess(tagChosenFreely(runs), AT));
        for (const [person, other] of [
            ["alice", "os_user_a-bob"],
            ["bob", "os_user_a-alice"],
            ["alice", "root"],
        ])
            expect(found, `${person} as ${other}`).to.include(
                `runs-as: Third_Party_A's ${person} obtains a session as ${other}, not only as their own os_user_a-${person}, once the partner's administrator asks for it: the grant's trust does not bind the Run As tag to the person's source identity`,
            );
        expect(found.some((f) => f.startsWith("runs-as: Third_Party_A's alice obtains a session without the Run As tag"))).to.equal(true);
        expect(found.filter((f) => f.startsWith("unintended:") && f.includes("(with another person's Run As tag) may sts:AssumeRole"))).to.have.length.above(0);
        expect(found.filter((f) => f.startsWith("unintended:") && f.includes("(with a privileged Run As tag) may sts:TagSession"))).to.have.length.above(0);
    });

    it("the access diff names the person a change takes off the list, and the one it adds, each with their OS user", async () => {
        const withPeople = (people: string[]) =>
            changedFixture("yours", (config) => {
                Object.assign(config["third-party-ssm-access:partners"][0], { osUser: BASE, runAs: "perPerson", people });
            });
        const diff = await diffStacks({
            stack: "yours",
            before: { name: "alice and bob", programRoot: PROJECT_ROOT, configFile: withPeople(["alice", "bob"]) },
            after: { name: "alice and carol", programRoot: PROJECT_ROOT, configFile: withPeople(["alice", "carol"]) },
            at: AT,
        });
        expect(diff.lines.map((l) => `${l.effect} | ${l.subject} | ${l.text}`)).to.deep.equal([
            "adds | Third_Party_A | carol may now act through its grant, as os_user_a-carol",
            "removes | Third_Party_A | bob may no longer act through its grant (was os_user_a-bob)",
        ]);
    });

    // The grant's trust changed statement by statement, on a copy of the runs.
    function withGrantTrust(reviewRuns: ReviewRuns, change: (statement: PolicyStatement) => void): ReviewRuns {
        const changed: ReviewRuns = {
            ...reviewRuns,
            main: { ...reviewRuns.main, resources: reviewRuns.main.resources.map((r) => ({ ...r, inputs: structuredClone(r.inputs) })) },
        };
        const role = changed.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "grant-Third_Party_A-role")!;
        const trust = JSON.parse(role.inputs.assumeRolePolicy) as PolicyDocument;
        trust.Statement.forEach(change);
        role.inputs.assumeRolePolicy = JSON.stringify(trust);
        return changed;
    }

    it("a Run As binding of any other form is unproven, naming the statement: a pattern, another variable, another tag key let through", async () => {
        const widenings: Array<[string, (s: PolicyStatement) => void]> = [
            [
                "a pattern after the binding",
                (s) =>
                    s.Condition?.StringEquals?.[RUN_AS_CONDITION] &&
                    ((s.Condition.StringLike = { [RUN_AS_CONDITION]: "os_user_a-${aws:SourceIdentity}*" }), delete s.Condition.StringEquals[RUN_AS_CONDITION]),
            ],
            [
                "a principal tag the partner sets",
                (s) =>
                    s.Condition?.StringEquals?.[RUN_AS_CONDITION] &&
                    (s.Condition.StringEquals[RUN_AS_CONDITION] = ["os_user_a-${aws:SourceIdentity}", "${aws:PrincipalTag/runas}"]),
            ],
            [
                "the access tag key let through",
                (s) =>
                    s.Condition?.["ForAllValues:StringEquals"] &&
                    (s.Condition["ForAllValues:StringEquals"]["aws:TagKeys"] = [RUN_AS_TAG_KEY, "ExternalAccessGrantedTo"]),
            ],
        ];
        for (const [what, change] of widenings) {
            const found = problems(await proveAccess(withGrantTrust(runs, change), AT));
            expect(
                found.filter(
                    (f) =>
                        f.startsWith("unprovable: the trust of role SSMStartSession_IAM_Role_Third_Party_A, statement ") &&
                        f.includes("keeps the Run As tag bound to the person"),
                ),
                what,
            ).to.have.length.above(0);
        }
    });

    // The grant's permissions without one statement, on a copy of the runs.
    function withoutPermission(reviewRuns: ReviewRuns, sid: string): ReviewRuns {
        const changed: ReviewRuns = {
            ...reviewRuns,
            main: { ...reviewRuns.main, resources: reviewRuns.main.resources.map((r) => ({ ...r, inputs: structuredClone(r.inputs) })) },
        };
        const policy = changed.main.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "grant-Third_Party_A-session-access")!;
        const document = JSON.parse(policy.inputs.policy) as PolicyDocument;
        document.Statement = document.Statement.filter((s) => s.Sid !== sid);
        policy.inputs.policy = JSON.stringify(document);
        return changed;
    }

    it("without the guard on its own access tag, a session carrying another partner's (a transitive tag) is a finding", async () => {
        const widened = withoutPermission(runs, "OnlyItsOwnAccessTag");
        const found = problems(await proveAccess(widened, AT));
        expect(
            found.filter((f) => f.startsWith("unintended:") && f.includes("(carrying another partner's access tag) may ssm:StartSession")),
        ).to.have.length.above(0);
        expect(problems(await proveAccess(runs, AT)), "with the guard: nothing").to.deep.equal([]);
    });

    it("people and the partner's users that differ are a finding, naming who is on one list only", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "per-person-drift-"));
        for (const file of fs.readdirSync(path.dirname(yoursFile))) fs.copyFileSync(path.join(path.dirname(yoursFile), file), path.join(dir, file));
        const theirFile = path.join(dir, "Pulumi.their.yaml");
        const their = YAML.parse(fs.readFileSync(theirFile, "utf8"));
        their.config["third-party-ssm-access:users"] = [{ name: "alice" }, { name: "carol" }];
        fs.writeFileSync(theirFile, YAML.stringify(their));
        const found = problems(await proveAccess(await runForReview({ stack: "yours", configFile: path.join(dir, "Pulumi.yours.yaml") }), AT));
        expect(found).to.include(
            "runs-as: Third_Party_A's people (partners[].people) and its their stack's users differ: not among its users: bob; users the grant refuses: carol (the grant lists who may act, the partner's stack who can connect: keep the two lists the same)",
        );
    });

    it("a partner's stack that does not let its jump role tag the session is shown on each person's row, and in the chain", async () => {
        const dir = path.dirname(yoursFile);
        const theirFile = path.join(dir, "Pulumi.their.yaml");
        const their = YAML.parse(fs.readFileSync(theirFile, "utf8"));
        delete their.config["third-party-ssm-access:perPersonOsUserBase"];
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "per-person-forgotten-"));
        for (const file of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, file), path.join(copy, file));
        fs.writeFileSync(path.join(copy, "Pulumi.their.yaml"), YAML.stringify(their));
        const report = await analyze(await runForReview({ stack: "yours", configFile: path.join(copy, "Pulumi.yours.yaml") }), AT);
        const partnerA = report.partners.find((p) => p.name === "Third_Party_A")!;
        expect(partnerA.people!.map((p) => p.asProduced)).to.deep.equal([false, false]);
        expect(partnerA.chain.find((l) => l.to.endsWith("/SSMStartSession_IAM_Role_Third_Party_A"))?.decision).to.not.equal("Allowed");
        expect(renderMarkdown(report)).to.include("but refused through the partner's principal as its stack made it");
    });

    it("the access diff of turning a partner per person says who may act now, and asks the old grant nothing per person", async () => {
        const diff = await diffStacks({
            stack: "yours",
            before: { name: "per partner", programRoot: PROJECT_ROOT, configFile: path.join(FIXTURES_DIR, "Pulumi.yours.yaml") },
            after: { name: "per person", programRoot: PROJECT_ROOT, configFile: yoursFile },
            at: AT,
        });
        expect(diff.lines.map((l) => `${l.effect} | ${l.subject} | ${l.text}`)).to.have.members([
            "adds | Third_Party_A | sessions now run as os_user_a-<person> (were os_user_a_alice): the partner acts as that OS user",
            "adds | Third_Party_A | its grant's sessions may now be tagged by role 3P_IAM_Assume_Role, each only with its person's own OS user (per-person Run As; the proof asks every other)",
            "adds | Third_Party_A | its grant's sessions may now be tagged by role 3P_IAM_Assume_Role, once its account's administrator widens its own policies, each only with its person's own OS user (per-person Run As; the proof asks every other)",
            "removes | Third_Party_A | its grant now acts only for the people it lists (per-person Run As): before, for anyone its trusted principal named",
            "adds | Third_Party_A | alice may now act through its grant, as os_user_a-alice",
            "adds | Third_Party_A | bob may now act through its grant, as os_user_a-bob",
        ]);
    });

    it("a grant that does not refuse people it does not list is a finding: a person taken off the list still acts", async () => {
        const widened = withoutPermission(runs, ONLY_ITS_PEOPLE_SID);
        const found = problems(await proveAccess(widened, AT));
        expect(
            found.filter((f) => f.startsWith("unintended:") && f.includes("(as someone its grant does not list) may ssm:StartSession")),
        ).to.have.length.above(0);
    });
});

// ---- On a real system: two people of one partner, two OS users on the same machine.

describe("per-person Run As: two people's OS users on one machine, made by the list step for real (root, private /etc and /home)", function () {
    const why = realSystemUnavailable(["useradd", "userdel", "runuser", "getent", "sudo"]);
    let work: string;
    let hostEtc: string;
    before(function () {
        skipUnlessRealSystem(this, "the real-system per-person tests", why);
        hostEtc = treeFingerprint("/etc");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "per-person-"));
        fs.writeFileSync(path.join(work, "users.sh"), linuxOsUsersScript().join("\n") + "\n");
    });
    after(() => {
        if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
        if (hostEtc !== undefined) expect(treeFingerprint("/etc"), "the host's /etc is byte for byte as before").to.equal(hostEtc);
    });

    // Runs `steps` as root with a private copy of /etc and an empty /home, after the list step made `userNames`.
    function inPrivateSystem(userNames: string, steps: string): { status: number | null; out: string } {
        const etc = fs.mkdtempSync(path.join(work, "etc-"));
        const home = fs.mkdtempSync(path.join(work, "home-"));
        const script = [
            "set -u",
            `cp -a /etc/. ${etc}/`,
            `mount --bind ${etc} /etc`,
            `mount --bind ${home} /home`,
            `${parameterVariable("userNames")}='${userNames}' sh ${work}/users.sh; echo "exit=$?"`,
            steps,
        ].join("\n");
        const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], { encoding: "utf8", timeout: 60_000 });
        return { status: r.status, out: `${r.stdout}${r.stderr}` };
    }

    it("alice and bob each get their own user: their shells run as two OS users, and neither reads the other's home", () => {
        const r = inPrivateSystem(
            "os_user_a-alice os_user_a-bob",
            [
                // What the agent does for a Run As session: start the shell as the user its tag names.
                'echo "alice-whoami=$(runuser -u os_user_a-alice -- whoami)"',
                'echo "bob-whoami=$(runuser -u os_user_a-bob -- whoami)"',
                'echo "uids=$(id -u os_user_a-alice) $(id -u os_user_a-bob)"',
                "runuser -u os_user_a-alice -- sh -c 'echo secret > ~/notes'",
                'if runuser -u os_user_a-bob -- cat /home/os_user_a-alice/notes 2>/dev/null; then echo "bob-reads-alice=yes"; else echo "bob-reads-alice=no"; fi',
                'echo "sudo-alice=$(LC_ALL=C sudo -n -l -U os_user_a-alice 2>&1 | grep -c "may run the following")"',
            ].join("\n"),
        );
        expect(r.out).to.include("exit=0");
        expect(r.out).to.include("alice-whoami=os_user_a-alice");
        expect(r.out).to.include("bob-whoami=os_user_a-bob");
        const [aliceUid, bobUid] = r.out.match(/uids=(\d+) (\d+)/)!.slice(1);
        expect(aliceUid).to.not.equal(bobUid);
        expect(r.out).to.include("bob-reads-alice=no");
        expect(r.out).to.include("sudo-alice=0");
    });

    it("a name of the list that belongs to an account with sudo is refused, and the others are made", () => {
        const r = inPrivateSystem(
            "os_user_a-alice os_user_a-mallory",
            // The first run made mallory; then someone gives that account sudo, and the next run must refuse it.
            [
                "echo 'os_user_a-mallory ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/mallory",
                `${parameterVariable("userNames")}='os_user_a-alice os_user_a-mallory os_user_a-bob' sh ${work}/users.sh; echo "second=$?"`,
                'getent passwd os_user_a-bob >/dev/null && echo "bob-made=yes"',
            ].join("\n"),
        );
        expect(r.out).to.include("second=1");
        expect(r.out).to.match(/refusing OS user os_user_a-mallory: sudo -l -U os_user_a-mallory lists commands/);
        expect(r.out).to.include("bob-made=yes");
    });
});
