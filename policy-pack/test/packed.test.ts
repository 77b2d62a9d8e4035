// The policy pack as `pulumi policy publish` uploads it: the tarball `npm pack` makes of
// this folder (prepack builds dist/). It must run on its own, from what it contains and
// the dependencies it declares, and its rules must work from there.

import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import { builtinModules } from "module";
import * as os from "os";
import * as path from "path";

const PACK_DIR = path.resolve(__dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8"));

function packed(): { root: string; files: string[] } {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "policy-pack-"));
    const [tarball] = JSON.parse(
        execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: PACK_DIR, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
    );
    execFileSync("tar", ["-xzf", path.join(work, tarball.filename), "-C", work]);
    return { root: path.join(work, "package"), files: tarball.files.map((f: { path: string }) => f.path).sort() };
}

describe("policy pack, as published", () => {
    let pack: { root: string; files: string[] };
    before(function () {
        this.timeout(120_000);
        pack = packed();
    });
    after(() => fs.rmSync(path.dirname(pack.root), { recursive: true, force: true }));

    it("contains the built pack, its manifest and nothing else (no sources from the rest of the repository)", () => {
        expect(pack.files).to.include.members(["PulumiPolicy.yaml", "package.json", manifest.main]);
        expect(pack.files.filter((f) => !f.startsWith("dist/") && !["PulumiPolicy.yaml", "package.json"].includes(f))).to.deep.equal([]);
        expect(pack.files.filter((f) => f.endsWith(".ts"))).to.deep.equal([]);
    });

    it("needs nothing it does not contain or declare: every require is a packed file, a Node built-in or a declared dependency", () => {
        const declared = Object.keys(manifest.dependencies);
        const unresolved: string[] = [];
        for (const file of pack.files.filter((f) => f.endsWith(".js"))) {
            const source = fs.readFileSync(path.join(pack.root, file), "utf8");
            for (const [, specifier] of source.matchAll(/require\("([^"]+)"\)/g)) {
                if (specifier.startsWith(".")) {
                    const target = path.relative(pack.root, path.resolve(path.dirname(path.join(pack.root, file)), specifier));
                    if (!pack.files.includes(`${target}.js`) && !pack.files.includes(target)) unresolved.push(`${file}: ${specifier}`);
                } else {
                    const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
                    if (!builtinModules.includes(name) && !declared.includes(name)) unresolved.push(`${file}: ${specifier}`);
                }
            }
        }
        expect(unresolved).to.deep.equal([]);
        expect(declared).to.include("@pulumi/policy");
        for (const version of Object.values<string>(manifest.dependencies)) expect(version, "pinned").to.match(/^\d+\.\d+\.\d+$/);
    });

    describe("its rules, loaded from the tarball", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const load = () => require(path.join(pack.root, "dist", "policy-pack", "rules.js"));
        const own = { ownAccountIds: ["111111111111"] };
        const trust = (condition: Record<string, unknown> | undefined, action: string | string[] = "sts:AssumeRole") => ({
            type: "aws:iam/role:Role",
            props: {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { AWS: "arn:aws:iam::222222222222:root" },
                            Action: action,
                            ...(condition ? { Condition: condition } : {}),
                        },
                    ],
                }),
            },
        });
        const preferences = (inputs: Record<string, unknown>) => ({
            type: "aws:ssm/document:Document",
            props: { name: "SSM-SessionManagerRunShell", content: JSON.stringify({ schemaVersion: "1.0", sessionType: "Standard_Stream", inputs }) },
        });

        it("pass a cross-account trust with an external id, and refuse one without it or with sts:TagSession", () => {
            const rules = load();
            const withId = trust({ StringEquals: { "sts:ExternalId": "0123456789abcdef" } });
            expect(rules.crossAccountTrustRequiresExternalId(withId, own)).to.deep.equal([]);
            expect(rules.crossAccountTrustRequiresExternalId(trust(undefined), own)).to.have.length(1);
            expect(rules.crossAccountTrustForbidsTagSession(withId, own)).to.deep.equal([]);
            expect(
                rules.crossAccountTrustForbidsTagSession(trust({ StringEquals: { "sts:ExternalId": "x1" } }, ["sts:AssumeRole", "sts:TagSession"]), own),
            ).to.have.length(1);
        });

        it("refuse preferences without Run As or streaming, or running sessions as root", () => {
            const rules = load();
            const safe = { runAsEnabled: true, runAsDefaultUser: "no_sudo_user", cloudWatchStreamingEnabled: true, cloudWatchLogGroupName: "sessions" };
            expect(rules.preferencesKeepRunAsAndStreaming(preferences(safe))).to.deep.equal([]);
            expect(rules.preferencesKeepRunAsAndStreaming(preferences({ ...safe, runAsDefaultUser: "root" }))[0]).to.match(
                /^runAsDefaultUser got "root", which has root or sudo/,
            );
            expect(rules.preferencesKeepRunAsAndStreaming(preferences({ ...safe, runAsEnabled: "true" }))).to.have.length(1);
            expect(rules.preferencesKeepRunAsAndStreaming(preferences({ ...safe, cloudWatchStreamingEnabled: false }))).to.have.length(1);
        });

        it("refuse an instance without IMDSv2, and an internet gateway beside a PrivateSsmNetwork of either type token", () => {
            const rules = load();
            expect(rules.instancesRequireImdsV2({ type: "aws:ec2/instance:Instance", props: { metadataOptions: { httpTokens: "required" } } })).to.deep.equal(
                [],
            );
            expect(rules.instancesRequireImdsV2({ type: "aws:ec2/instance:Instance", props: {} })).to.have.length(1);
            const gateway = { type: "aws:ec2/internetGateway:InternetGateway", props: {} };
            for (const token of ["third-party-ssm-access:index:PrivateSsmNetwork", "third-party-ssm-access:network:PrivateSsmNetwork"]) {
                expect(rules.noInternetPathBesidePrivateNetwork([{ type: token, props: {} }, gateway]), token).to.have.length(1);
            }
            expect(rules.noInternetPathBesidePrivateNetwork([gateway]), "no private network, no claim").to.deep.equal([]);
        });
    });
});
