// The example consumer's own small test, with Pulumi's mocks: the program builds the
// grant and the preferences from its own config, through the package's public API.

import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";

// Mocks receive secret inputs wrapped as { "4dabf18193072939515e22adb298388d": ..., value }.
const plain = (value: any) => (value !== null && typeof value === "object" && "value" in value ? value.value : value);

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

describe("example consumer (vendor-shell-access)", () => {
    const registered: Registered[] = [];
    let outputs: Record<string, pulumi.Output<string>>;

    before(async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                    const name = args.inputs.name ?? args.name;
                    const state: Record<string, unknown> = { ...args.inputs, name, arn: `arn:aws:iam::111111111111:role/${name}` };
                    if (args.type === "random:index/randomPassword:RandomPassword") state.result = "x".repeat(40);
                    return { id: `${args.name}-id`, state };
                },
                call: (args) => {
                    const answers: Record<string, Record<string, string>> = {
                        "aws:index/getPartition:getPartition": { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" },
                        "aws:index/getRegion:getRegion": { region: "eu-west-1", name: "eu-west-1" },
                        "aws:index/getCallerIdentity:getCallerIdentity": { accountId: "111111111111" },
                    };
                    const answer = answers[args.token];
                    if (!answer) throw new Error(`Mock not implemented: ${args.token}`);
                    return answer;
                },
            },
            "vendor-shell-access",
            "dev",
            false,
        );
        pulumi.runtime.setAllConfig({
            "vendor-shell-access:vendorName": "Acme_Support",
            "vendor-shell-access:vendorAccountId": "555555555555",
            "vendor-shell-access:vendorJumpRoleArn": "arn:aws:iam::555555555555:role/AcmeSupportJump",
            "vendor-shell-access:osUser": "os_user_acme_support",
        });
        outputs = await import(path.join(__dirname, "..", "index"));
        await new Promise<string>((resolve) => outputs.grantRoleArn.apply(resolve));
    });

    it("creates the vendor's grant role, tagged for ABAC and Run As, trusting only the vendor's jump role", () => {
        const role = registered.find((r) => r.type === "aws:iam/role:Role")!;
        expect(role.inputs.name).to.equal("SSMStartSession_IAM_Role_Acme_Support");
        expect(role.inputs.tags).to.deep.equal({ ExternalAccessGrantedTo: "Acme_Support", SSMSessionRunAs: "os_user_acme_support" });
        const trust = JSON.parse(plain(role.inputs.assumeRolePolicy));
        expect(trust.Statement[0].Principal).to.deep.equal({ AWS: "arn:aws:iam::555555555555:root" });
        expect(trust.Statement[0].Condition.ArnEquals).to.deep.equal({ "aws:PrincipalArn": ["arn:aws:iam::555555555555:role/AcmeSupportJump"] });
    });

    it("creates the Session Manager preferences with Run As and the project's own log group", () => {
        const document = registered.find((r) => r.type === "aws:ssm/document:Document" && r.inputs.documentType === "Session")!;
        expect(JSON.parse(document.inputs.content).inputs).to.include({ runAsEnabled: true, cloudWatchLogGroupName: "vendor-sessions" });
    });

    it("exports the external id as a secret", async () => {
        expect(await pulumi.isSecret(outputs.externalId)).to.equal(true);
    });
});
