// Your own stacks: every Pulumi.<stack>.yaml in the project root runs under the mock
// engine, as the access review runs it, so `npm test` also tells you whether the stacks
// you edit are valid. The other tests never read these files: they are yours.

import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { DEFAULT_JUMP_ROLE_NAME, defaultGrantRoleName } from "../components/constants";
import { PROJECT, PROJECT_ROOT, readStackConfig, type FakeStack } from "../tools/mock-engine";
import { localConfigFor, referencesIn, runForReview } from "../tools/stack-runs";

const stackFiles = fs
    .readdirSync(PROJECT_ROOT)
    .filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f))
    .sort();

function partitionOf(region: unknown): string {
    const name = String(region ?? "");
    return name.startsWith("cn-") ? "aws-cn" : name.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/**
 * Outputs for a referenced stack that is not in this directory (a partner in another
 * Pulumi organisation): what that stack would output, from what your config says of it.
 * Enough to run your program; nothing is claimed about the other stack.
 */
function standInOutputs(configFile: string): Record<string, FakeStack> {
    const config: Record<string, any> = readStackConfig(configFile);
    const partition = partitionOf(config["aws:region"]);
    const outputs: Record<string, FakeStack> = {};
    for (const { stackName, key } of referencesIn(configFile)) {
        if (localConfigFor(stackName, path.dirname(configFile))) continue;
        if (key === "yoursStack") {
            const partner = String(config[`${PROJECT}:partnerName`]);
            const account = String(config[`${PROJECT}:yoursAccountId`] ?? "123456789012");
            const roleName = String(config[`${PROJECT}:grantRoleName`] ?? defaultGrantRoleName(partner));
            outputs[stackName] = {
                outputs: {
                    grants: { [partner]: { roleArn: `arn:${partition}:iam::${account}:role/${roleName}`, externalId: "StandInExternalId", instanceIds: [] } },
                },
                secretOutputNames: ["grants"],
            };
        } else {
            const partner = config[`${PROJECT}:partners`][Number(/\[(\d+)\]/.exec(key)![1])];
            outputs[stackName] = {
                outputs: { jumpRoleArn: `arn:${partition}:iam::${partner.accountId}:role/${partner.jumpRoleName ?? DEFAULT_JUMP_ROLE_NAME}` },
            };
        }
    }
    return outputs;
}

describe("your stacks in the project root", () => {
    it("has at least one stack file to check", () => {
        expect(stackFiles.length, "Pulumi.<stack>.yaml files in the project root").to.be.greaterThan(0);
    });

    for (const file of stackFiles) {
        const stack = file.replace(/^Pulumi\.|\.ya?ml$/g, "");
        it(`${file} is a valid stack: its program runs under the mock engine and registers resources`, async function () {
            this.timeout(120_000);
            const configFile = path.join(PROJECT_ROOT, file);
            const runs = await runForReview({ stack, configFile }, standInOutputs(configFile));
            if (runs.main.error) throw runs.main.error;
            expect(runs.main.resources.filter((r) => r.custom).length, "resources registered").to.be.greaterThan(0);
        });
    }
});
