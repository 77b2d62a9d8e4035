// The stack-output contract (stacks/outputs.ts) against what the programs really export:
// the outputs of the fixture stacks, as `pulumi stack output --json --show-secrets` would
// print them, parse with the live check's reader and say what the program registered.

import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { RUN_AS_TAG_KEY } from "../components/constants";
import { parseTheirOutputs, parseYoursOutputs, SetupError } from "../tools/live/stacks";
import { ofType, resolve, runProgram, type ProgramRun } from "../tools/mock-engine";

/** The outputs as JSON, the way the CLI prints them: Outputs resolved, nulls kept, undefined dropped. */
async function printedOutputs(run: ProgramRun): Promise<Record<string, unknown>> {
    if (run.error !== undefined) throw run.error;
    const { value } = await resolve(pulumi.output(run.outputs));
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

describe("stack-output contract", () => {
    it("the yours program's outputs parse, and each grant names the role, OS user, trusted principals and instances the program registered", async () => {
        const run = await runProgram({ stack: "yours" });
        const outputs = parseYoursOutputs(await printedOutputs(run), "yours");
        expect(outputs.region).to.equal(run.region);
        const grantRoles = ofType(run, "aws:iam/role:Role").filter((role) => role.inputs.tags?.[RUN_AS_TAG_KEY] !== undefined);
        expect(Object.keys(outputs.grants)).to.have.length(grantRoles.length).and.to.have.length.greaterThan(1);
        for (const role of grantRoles) {
            const partner = role.inputs.tags[outputs.accessTagKey] as string;
            const grant = outputs.grants[partner];
            expect(grant, partner).to.not.equal(undefined);
            expect(grant.roleArn).to.match(new RegExp(`:role/${role.inputs.name}$`));
            expect(grant.runAsUser).to.equal(role.inputs.tags[RUN_AS_TAG_KEY]);
            // What the review holds the trust to is what the trust the program registered names and requires.
            const statements = JSON.parse(role.inputs.assumeRolePolicy).Statement as Array<{
                Action: string;
                Condition?: Record<string, Record<string, unknown>>;
            }>;
            expect(grant.trustedPrincipalArns).to.have.length.greaterThan(0);
            for (const { Condition } of statements) expect([Condition?.ArnEquals?.["aws:PrincipalArn"]].flat()).to.deep.equal(grant.trustedPrincipalArns);
            const assume = statements.filter((statement) => statement.Action === "sts:AssumeRole");
            expect(assume).to.have.length.greaterThan(0);
            expect(grant.requiresSourceIdentity).to.equal(assume.every((statement) => statement.Condition?.Null?.["sts:SourceIdentity"] === "false"));
            const tagged = ofType(run, "aws:ec2/instance:Instance").filter((instance) => instance.inputs.tags?.[outputs.accessTagKey] === partner);
            expect(grant.instanceIds).to.have.length(tagged.length);
        }
        // Not a comparison of two empty lists: the fixture launches instances for its partners.
        expect(Object.values(outputs.grants).flatMap((grant) => grant.instanceIds)).to.have.length.greaterThan(0);
        expect(outputs.sessionPreferences?.logGroupName).to.equal(outputs.sessionLogGroupName);
    });

    it("the their program's outputs parse, naming the IAM users it registers", async () => {
        const run = await runProgram({ stack: "their" });
        const outputs = parseTheirOutputs(await printedOutputs(run), "their");
        expect(outputs.jumpRoleArn).to.match(/:role\//);
        expect(outputs.userNames).to.deep.equal(ofType(run, "aws:iam/user:User").map((user) => user.inputs.name));
    });

    it("outputs that break the contract are refused, naming the output", async () => {
        const printed = await printedOutputs(await runProgram({ stack: "yours" }));
        const grants = printed.grants as Record<string, Record<string, unknown>>;
        const [first] = Object.keys(grants);
        const broken = { ...printed, grants: { ...grants, [first]: { ...grants[first], roleArn: 42 } } };
        expect(() => parseYoursOutputs(broken, "yours"))
            .to.throw(SetupError)
            .with.property("message")
            .that.contains(`output grants.${first}.roleArn is malformed`);
        expect(() => parseYoursOutputs({ ...printed, grants: { ...grants, [first]: { ...grants[first], externalId: undefined } } }, "yours")).to.throw(
            SetupError,
            `output grants.${first}.externalId is missing`,
        );
        expect(() => parseTheirOutputs({ userNames: [] }, "their")).to.throw(SetupError, "output jumpRoleArn is missing (is this the their stack, deployed?)");
    });
});
