// Least privilege, proven by evaluation: the scenario catalogue is decided by a real
// IAM evaluator on the policies both sample stacks register; deliberately widened
// policies make named scenarios fail; every policy is linted against AWS's service
// authorization data and the IAM size quotas.

import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import type { PolicyDocument, PolicyStatement } from "../components/policies";
import { decide } from "../tools/iam/evaluate";
import { IAM_QUOTAS, lintPicture, lintPolicy, quotaFindings } from "../tools/iam/lint";
import { buildIamPicture, type IamPicture } from "../tools/iam/picture";
import { catalogueWorld, runSampleChain, runScenarios, SCENARIOS, scenarioTable, type CatalogueWorld, type ScenarioResult } from "../tools/iam/scenarios";
import { PROJECT_ROOT } from "../tools/mock-engine";
import { readmeScenarioSection, SCENARIO_TABLE_END, SCENARIO_TABLE_START } from "../tools/scenario-table";

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
        it("has at least 40 scenarios with unique ids, in both groups", () => {
            expect(SCENARIOS.length).to.be.at.least(40);
            expect(new Set(SCENARIOS.map((s) => s.id)).size).to.equal(SCENARIOS.length);
            expect(new Set(SCENARIOS.map((s) => s.group))).to.deep.equal(new Set(["Blog test plan", "Attacks"]));
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
        const widenedResults = await runScenarios({ ...world, picture });
        return widenedResults.filter((r) => !r.passed).map((r) => r.scenario.id);
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
            return { ...s, Condition: Object.keys(condition).length ? condition : undefined };
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

        it("putting the blog template's CloudWatch Logs statement on the grant role lets the partner forge audit entries", async () => {
            const blogStatement: PolicyStatement = {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                Resource: `${world.auditLogGroupArn}:*`,
            };
            const copy: IamPicture = JSON.parse(JSON.stringify(world.picture));
            copy.principals
                .find((p) => p.arn === world.grantA.arn)!
                .policies.push({ name: "blog-logs", kind: "inline", document: { Version: "2012-10-17", Statement: [blogStatement] } });
            expect(await failingAfter(copy)).to.include.members(["grant-a-writes-audit-log", "grant-a-creates-audit-stream"]);
        });

        it("dropping the expiry lets access continue after it", async () => {
            const failing = await failingAfter(widened(world.picture, world.grantA.arn, { trust: withoutCondition("aws:CurrentTime") }));
            expect(failing).to.deep.equal(["jump-after-expiry"]);
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
            expect(world.picture.resourcePolicies.map((r) => r.kind)).to.have.members(["kms-key", "s3-bucket"]);
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

    describe("the README's scenario table", () => {
        it("is the table generated from the catalogue (regenerate with `npm run docs:scenarios`)", () => {
            const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
            expect(readme).to.include(SCENARIO_TABLE_START).and.include(SCENARIO_TABLE_END);
            expect(readmeScenarioSection(readme)).to.equal(scenarioTable(results));
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
