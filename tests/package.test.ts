// The components as a package: built output behind `exports`, no side effects on
// import, and only the components' real runtime needs as dependencies.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../tools/mock-engine";

const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));

describe("the component package", () => {
    it("resolves by name to the built output (npm run build), with declarations", () => {
        const resolved = require.resolve("third-party-ssm-access", { paths: [path.join(PROJECT_ROOT, "examples", "consumer")] });
        expect(path.relative(PROJECT_ROOT, resolved)).to.equal(path.join("dist", "index.js"));
        expect(fs.existsSync(path.join(PROJECT_ROOT, "dist", "index.d.ts"))).to.equal(true);
        expect(manifest.exports["."]).to.deep.equal({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    });

    it("imports outside any Pulumi run without reading config or creating resources", () => {
        // Outside the engine, registering a resource or reading required config would throw.
        const script = "const m = require('third-party-ssm-access'); process.stdout.write(Object.keys(m).sort().join(','))";
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
        const names = execFileSync(process.execPath, ["-e", script], { cwd: path.join(PROJECT_ROOT, "examples", "consumer"), env, encoding: "utf8" }).split(
            ",",
        );
        expect(names).to.include.members([
            "PrivateSsmNetwork",
            "ManagedInstances",
            "SessionPreferences",
            "OsUserProvisioning",
            "ThirdPartyGrant",
            "RemoteAccessIdentity",
            "grantTrustPolicy",
            "grantPermissionsPolicy",
        ]);
    });

    it("depends at run time only on what the built components require", () => {
        const required = new Set<string>();
        for (const file of fs.readdirSync(path.join(PROJECT_ROOT, "dist")).filter((f) => f.endsWith(".js"))) {
            const text = fs.readFileSync(path.join(PROJECT_ROOT, "dist", file), "utf8");
            for (const [, name] of text.matchAll(/require\("([^."][^"]*)"\)/g))
                required.add(name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0]);
        }
        expect([...required].sort()).to.deep.equal(Object.keys(manifest.dependencies).sort());
        // The IAM evaluator is AGPL: tests and tools only.
        expect(Object.keys(manifest.devDependencies)).to.include("@cloud-copilot/iam-simulate");
    });
});
