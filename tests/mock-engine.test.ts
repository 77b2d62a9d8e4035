// The mock engine itself: other tests rely on it recording faithfully, answering
// invokes in the stack's own account, region and partition, and refusing what it
// does not know instead of hanging.

import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { resolve, runProgram } from "../tools/mock-engine";

class Holder extends pulumi.ComponentResource {
    public readonly roleArn: pulumi.Output<string>;
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:harness:Holder", name, {}, opts);
        const role = new aws.iam.Role(`${name}-role`, { name: `${name}-role`, assumeRolePolicy: "{}" }, { parent: this });
        this.roleArn = role.arn;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}

describe("mock engine harness", () => {
    it("records type, name, inputs and parent of every resource, without the root stack", async () => {
        const run = await runProgram({ stack: "yours", program: () => ({ arn: new Holder("probe").roleArn }) });
        expect(run.error).to.equal(undefined);
        expect(run.resources.map((r) => r.type)).to.deep.equal(["test:harness:Holder", "aws:iam/role:Role"]);
        const [holder, role] = run.resources;
        expect(role.name).to.equal("probe-role");
        expect(role.inputs.assumeRolePolicy).to.equal("{}");
        expect(role.parent).to.equal(holder.urn);
        expect(role.custom).to.equal(true);
        expect(holder.custom).to.equal(false);
    });

    it("synthesizes ARNs in the stack's account and partition", async () => {
        const yours = await runProgram({ stack: "yours", program: () => ({ arn: new Holder("probe").roleArn }) });
        expect((await resolve(yours.outputs.arn as pulumi.Output<string>)).value).to.equal("arn:aws:iam::111111111111:role/probe-role");
        const their = await runProgram({ stack: "their", program: () => ({ arn: new Holder("probe").roleArn }) });
        expect((await resolve(their.outputs.arn as pulumi.Output<string>)).value).to.equal("arn:aws:iam::222222222222:role/probe-role");
        const china = await runProgram({ stack: "yours", set: { "aws:region": "cn-north-1" }, program: () => ({ arn: new Holder("probe").roleArn }) });
        expect((await resolve(china.outputs.arn as pulumi.Output<string>)).value).to.equal("arn:aws-cn:iam::111111111111:role/probe-role");
    });

    it("answers caller identity, region, partition and zones consistently with the stack", async () => {
        const run = await runProgram({
            stack: "yours",
            set: { "aws:region": "cn-north-1" },
            program: async () => ({
                identity: await aws.getCallerIdentity(),
                region: await aws.getRegion(),
                partition: await aws.getPartition(),
                zones: await aws.getAvailabilityZones({ state: "available" }),
                ami: await aws.ssm.getParameter({ name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" }),
            }),
        });
        expect(run.error).to.equal(undefined);
        const out = run.outputs as any;
        expect(out.identity.accountId).to.equal("111111111111");
        expect(out.region.region).to.equal("cn-north-1");
        expect(out.partition.partition).to.equal("aws-cn");
        expect(out.partition.dnsSuffix).to.equal("amazonaws.com.cn");
        expect(out.zones.names[0]).to.equal("cn-north-1a");
        expect(out.ami.value).to.match(/^ami-/);
        expect(run.invokes.map((i) => i.token)).to.include("aws:index/getCallerIdentity:getCallerIdentity");
    });

    it("throws for an invoke it does not implement instead of hanging", async () => {
        const run = await runProgram({ stack: "yours", program: async () => ({ vpc: await aws.ec2.getVpc({ default: true }) }) });
        expect(String(run.error)).to.include("Mock not implemented: aws:ec2/getVpc:getVpc");
    });

    it("fakes stack references with the given outputs and their secretness", async () => {
        const stackName = "organization/third-party-ssm-access/their";
        const run = await runProgram({
            stack: "yours",
            stacks: {
                [stackName]: { outputs: { jumpRoleArn: "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role", token: "s3cr3t" }, secretOutputNames: ["token"] },
            },
            program: () => {
                const ref = new pulumi.StackReference(stackName);
                return { jump: ref.getOutput("jumpRoleArn"), token: ref.getOutput("token") };
            },
        });
        expect(run.error).to.equal(undefined);
        expect(await resolve(run.outputs.jump as pulumi.Output<string>)).to.deep.equal({
            value: "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role",
            secret: false,
        });
        expect(await resolve(run.outputs.token as pulumi.Output<string>)).to.deep.equal({ value: "s3cr3t", secret: true });
    });

    it("refuses a stack reference to a stack the test did not describe", async () => {
        const run = await runProgram({
            stack: "yours",
            program: () => ({ out: new pulumi.StackReference("organization/nowhere/missing").getOutput("x") }),
        });
        expect(String(run.error)).to.include("no outputs given for referenced stack organization/nowhere/missing");
    });
});
