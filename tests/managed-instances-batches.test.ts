// ManagedInstances registers many instances a batch at a time (so the SDK's bookkeeping
// stays small): every instance still exists, under the component, and each id it outputs
// carries the instance as a dependency, as an id taken straight from the instance would.

import { expect } from "chai";
import * as aws from "../components/aws";
import { ManagedInstances } from "../components/managed-instances";
import { only, resolve, runProgram, type ProgramRun } from "../tools/mock-engine";

const COUNT = 60; // more than two batches

describe("ManagedInstances with many instances", () => {
    let run: ProgramRun;
    let ids: Record<string, string>;
    before(async () => {
        run = await runProgram({
            stack: "yours",
            program: async () => {
                const instances = new ManagedInstances("fleet", {
                    instances: Array.from({ length: COUNT }, (_, i) => ({ name: `web-${i}`, partner: "Vendor", instanceType: "t3.micro" })),
                    subnetIds: ["subnet-1", "subnet-2"],
                    securityGroupIds: ["sg-1"],
                    accessTagKey: "ExternalAccessGrantedTo",
                    defaultAmiId: "ami-0123456789abcdef0",
                    scope: { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", region: "us-east-1", accountId: "111111111111" },
                });
                // Something of the user's that needs the last instance.
                new aws.ec2.Eip("last-ip", { instance: instances.instanceIds[`web-${COUNT - 1}`] });
                ids = Object.fromEntries(await Promise.all(Object.entries(instances.instanceIds).map(async ([name, id]) => [name, (await resolve(id)).value])));
                return {};
            },
        });
        if (run.error) throw run.error;
    });

    it("registers every instance, each under the component", () => {
        const component = only(run, "third-party-ssm-access:index:ManagedInstances", "fleet");
        const instances = run.resources.filter((r) => r.type === "aws:ec2/instance:Instance");
        expect(instances).to.have.length(COUNT);
        for (const instance of instances) expect(instance.parent).to.equal(component.urn);
    });

    it("outputs each instance's own id", () => {
        for (let i = 0; i < COUNT; i++) expect(ids[`web-${i}`]).to.equal(only(run, "aws:ec2/instance:Instance", `fleet-web-${i}`).id);
    });

    it("an id of a later batch still carries its instance as a dependency", () => {
        const last = only(run, "aws:ec2/instance:Instance", `fleet-web-${COUNT - 1}`);
        expect(only(run, "aws:ec2/eip:Eip", "last-ip").dependencies).to.include(last.urn);
    });
});
