// The components as a Pulumi component package (components/): the schema Pulumi's own
// ComponentProvider infers from the TypeScript, a ThirdPartyGrant constructed through
// the provider as a program in another language has it constructed, and the aliases that
// keep stacks deployed before the move to the `index` module free of replacements.

import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { PACKAGE_NAME, componentType } from "../components/type-tokens";
import { PROJECT, PROJECT_ROOT, only, resolve, runProgram, type ProgramRun, type RecordedResource, type RunOptions } from "../tools/mock-engine";

const PACKAGE_DIR = path.join(PROJECT_ROOT, "components");
const packageJson = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8"));
const rootPackageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));

// What `pulumi package add` runs: the entry's exported components, served under the package.json name.
function packageProvider(): ComponentProvider {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const components = getPulumiComponents(require(PACKAGE_DIR));
    return new ComponentProvider({ name: packageJson.name, dirname: PACKAGE_DIR, components });
}

interface SchemaProperty {
    type?: string;
    $ref?: string;
    description?: string;
    items?: SchemaProperty;
    additionalProperties?: SchemaProperty;
}
interface SchemaResource {
    isComponent?: boolean;
    description?: string;
    inputProperties?: Record<string, SchemaProperty>;
    requiredInputs?: string[];
    properties?: Record<string, SchemaProperty>;
}

// Every argument and output each component offers other languages. A test that fails when
// one disappears or appears without anyone deciding it.
const EXPECTED: Record<string, { inputs: string[]; required: string[]; outputs: string[] }> = {
    ThirdPartyGrant: {
        inputs: [
            "partnerName",
            "accessTagKey",
            "partnerAccountId",
            "principalArns",
            "osUser",
            "people",
            "roleName",
            "expiresAt",
            "revokeSessionsIssuedBefore",
            "requireSourceIdentity",
            "externalId",
            "sessionKeyArn",
            "osUserDocumentName",
            "osUsersDocumentName",
            "permissionsBoundary",
            "scope",
            "tags",
        ],
        required: ["accessTagKey", "osUser", "partnerAccountId", "partnerName", "principalArns"],
        outputs: [
            "roleArn",
            "roleName",
            "externalId",
            "osUser",
            "partnerName",
            "expiresAt",
            "revokeSessionsIssuedBefore",
            "trustedPrincipalArns",
            "requiresSourceIdentity",
            "personOsUsers",
        ],
    },
    RemoteAccessIdentity: {
        inputs: [
            "partnerName",
            "grantRoleArn",
            "externalId",
            "users",
            "federatedPrincipalArn",
            "requireMfa",
            "credentialAdministratorArns",
            "mfaMaxAgeSeconds",
            "groupName",
            "jumpRoleName",
            "perPersonOsUserBase",
            "permissionsBoundary",
            "scope",
            "tags",
        ],
        required: ["grantRoleArn", "partnerName"],
        outputs: ["jumpRoleArn", "jumpRoleName", "groupName", "credentialSecretArns", "federatedPrincipalPolicy", "credentialAdministratorArns"],
    },
    SessionPreferences: {
        inputs: [
            "logGroupName",
            "logRetentionDays",
            "defaultOsUser",
            "idleTimeoutMinutes",
            "maxSessionDurationMinutes",
            "shellProfile",
            "kmsEncryption",
            "s3Archive",
            "archiveRetentionDays",
            "archiveRetentionMode",
            "archiveTransitionDays",
            "archiveTransitionStorageClass",
            "archiveExpirationDays",
            "existingKmsKeyArn",
            "existingArchiveBucketName",
            "adoptExistingDocument",
            "instanceRoleArns",
            "sessionRoleTagKey",
            "scope",
            "tags",
        ],
        required: ["defaultOsUser", "logGroupName", "logRetentionDays", "sessionRoleTagKey"],
        outputs: [
            "logGroupName",
            "logGroupArn",
            "documentName",
            "kmsKeyArn",
            "archiveBucketName",
            "archiveAccessLogBucketName",
            "kmsKeyPolicyStatements",
            "archiveBucketPolicyStatements",
            "instancePolicy",
        ],
    },
    OsUserProvisioning: {
        inputs: ["accessTagKey", "defaultOsUser", "usersDocument", "tags"],
        required: ["accessTagKey", "defaultOsUser"],
        outputs: ["documentName", "usersDocumentName"],
    },
    MetadataGuard: { inputs: ["accessTagKey", "tags"], required: ["accessTagKey"], outputs: ["documentName", "associationName"] },
    PartnerOffboarding: {
        inputs: ["accessTagKey", "partners", "now", "permissionsBoundary", "scope", "tags"],
        required: ["accessTagKey", "partners"],
        outputs: ["endDocumentName", "keepDocumentName", "schedulerRoleArn"],
    },
    ManagedInstances: {
        inputs: [
            "instances",
            "subnetIds",
            "securityGroupIds",
            "vpcId",
            "credentialsPerimeter",
            "accessTagKey",
            "defaultAmiId",
            "permissionsBoundary",
            "scope",
            "tags",
        ],
        required: ["accessTagKey", "defaultAmiId", "instances", "subnetIds"],
        outputs: ["roleArn", "roleName", "instanceProfileName", "instanceIds", "securityGroupIds"],
    },
    SessionAlerts: {
        inputs: ["grantRoleArns", "endAccessDocumentName", "failureWatchedDocumentNames", "emailAddresses", "httpsEndpoints", "scope", "tags"],
        required: ["grantRoleArns"],
        outputs: ["topicArn", "keyArn", "ruleName"],
    },
    PrivateSsmNetwork: {
        inputs: [
            "vpcCidr",
            "availabilityZones",
            "kmsEndpoint",
            "archiveBucketName",
            "archiveBucketAccountId",
            "flowLogRetentionDays",
            "permissionsBoundary",
            "scope",
            "tags",
        ],
        required: ["availabilityZones", "vpcCidr"],
        outputs: ["vpcId", "subnetIds", "routeTableId", "instanceSecurityGroupId", "endpointSecurityGroupId", "interfaceEndpointServices", "flowLogGroupName"],
    },
};

describe("component package (components/)", () => {
    let schema: {
        name: string;
        version: string;
        resources: Record<string, SchemaResource>;
        types: Record<string, { properties?: Record<string, SchemaProperty>; enum?: unknown[] }>;
    };
    before(async () => {
        schema = JSON.parse(await packageProvider().getSchema());
    });

    it("is a source-based plugin: PulumiPlugin.yaml for Node.js, a package.json naming the package, its entry and pinned dependencies", () => {
        expect(fs.readFileSync(path.join(PACKAGE_DIR, "PulumiPlugin.yaml"), "utf8")).to.match(/^runtime: nodejs$/m);
        expect(packageJson.name).to.equal(PACKAGE_NAME);
        expect(packageJson.main).to.equal("index.ts");
        expect(packageJson.version, "one version for the project and its package").to.equal(rootPackageJson.version);
        // The package installs on its own (`pulumi package add` runs npm in this folder), with the versions the project is tested with.
        for (const [name, version] of Object.entries(packageJson.dependencies)) expect(version, name).to.equal(rootPackageJson.dependencies[name]);
        expect(Object.keys(packageJson.dependencies).sort()).to.deep.equal(Object.keys(rootPackageJson.dependencies).sort());
        expect(fs.existsSync(path.join(PACKAGE_DIR, "package-lock.json")), "the package's own lockfile").to.equal(true);
    });

    it("offers every component, in the package's index module, under the package.json name and version", () => {
        expect(schema.name).to.equal(PACKAGE_NAME);
        expect(schema.version).to.equal(packageJson.version);
        expect(Object.keys(schema.resources).sort()).to.deep.equal(Object.keys(EXPECTED).map(componentType).sort());
        for (const resource of Object.values(schema.resources)) expect(resource.isComponent).to.equal(true);
    });

    for (const [component, expected] of Object.entries(EXPECTED)) {
        it(`${component}: the inputs and outputs other languages see, each documented`, () => {
            const resource = schema.resources[componentType(component)];
            expect(resource.description, `${component} has a description`).to.be.a("string").and.not.equal("");
            expect(Object.keys(resource.inputProperties ?? {})).to.have.members(expected.inputs);
            expect(resource.requiredInputs ?? []).to.have.members(expected.required);
            expect(Object.keys(resource.properties ?? {})).to.have.members(expected.outputs);
            for (const [kind, properties] of [
                ["input", resource.inputProperties],
                ["output", resource.properties],
            ] as const) {
                for (const [name, property] of Object.entries(properties ?? {})) {
                    expect(property.description, `${component} ${kind} ${name} is documented`).to.be.a("string").and.not.equal("");
                }
            }
        });
    }

    it("documents every property of the object types the components take, and offers the archive retention modes as an enum", () => {
        for (const [token, type] of Object.entries(schema.types)) {
            for (const [name, property] of Object.entries(type.properties ?? {})) {
                expect(property.description, `${token}.${name} is documented`).to.be.a("string").and.not.equal("");
            }
        }
        expect(schema.types[`${PACKAGE_NAME}:index:ArchiveRetentionMode`].enum).to.have.length(2);
    });

    describe("the examples for other languages use the package as its schema describes", () => {
        const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
        const inputsOf = (component: string) => schema.resources[componentType(component)];

        function checkArguments(component: string, given: string[], where: string) {
            const resource = inputsOf(component);
            expect(resource, `${where}: ${component} is a component of the package`).to.not.equal(undefined);
            expect(
                given.filter((name) => !(name in (resource.inputProperties ?? {}))),
                `${where}: arguments ${component} does not take`,
            ).to.deep.equal([]);
            expect(
                (resource.requiredInputs ?? []).filter((name) => !given.includes(name)),
                `${where}: required arguments missing`,
            ).to.deep.equal([]);
        }

        it("Python (examples/python-consumer): every call passes arguments the component takes, all it requires, and reads outputs it has", () => {
            const source = fs.readFileSync(path.join(PROJECT_ROOT, "examples", "python-consumer", "__main__.py"), "utf8");
            const calls = [...source.matchAll(/^(\w+) = ssm_access\.(\w+)\(\n\s+"[^"]+",\n([\s\S]*?)^\)/gm)];
            expect(calls.map((c) => c[2])).to.have.members(["SessionPreferences", "OsUserProvisioning", "MetadataGuard", "ThirdPartyGrant"]);
            for (const [, variable, component, body] of calls) {
                checkArguments(
                    component,
                    [...body.matchAll(/^\s+(\w+)=/gm)].map((m) => camel(m[1])),
                    `__main__.py ${variable}`,
                );
                for (const [, attribute] of source.matchAll(new RegExp(`\\b${variable}\\.(\\w+)`, "g"))) {
                    expect(inputsOf(component).properties, `__main__.py reads ${variable}.${attribute}`).to.have.property(camel(attribute));
                }
            }
        });

        it("YAML (examples/yaml-consumer): every resource is a component of the package with valid properties, and every output it reads exists", () => {
            const program = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "examples", "yaml-consumer", "Pulumi.yaml"), "utf8"));
            const text = JSON.stringify(program);
            for (const [name, resource] of Object.entries<{ type: string; properties: Record<string, unknown> }>(program.resources)) {
                const component = resource.type.replace(`${PACKAGE_NAME}:index:`, "");
                expect(resource.type).to.equal(componentType(component));
                checkArguments(component, Object.keys(resource.properties), `Pulumi.yaml ${name}`);
                for (const [, output] of text.matchAll(new RegExp(`\\$\\{${name}\\.(\\w+)\\}`, "g"))) {
                    expect(inputsOf(component).properties, `Pulumi.yaml reads ${name}.${output}`).to.have.property(output);
                }
            }
        });
    });

    describe("ThirdPartyGrant constructed through the provider, as a Python, Go or YAML program has it constructed", () => {
        // Inputs as the provider receives them: plain values, and the external id as a secret Output.
        const inputs = {
            partnerName: "Vendor_X",
            accessTagKey: "ExternalAccessGrantedTo",
            partnerAccountId: "444444444444",
            principalArns: ["arn:aws:iam::444444444444:role/3P_IAM_Assume_Role"],
            osUser: "os_user_vendor_x",
            externalId: pulumi.secret("VendorXExternalId0123456789"),
            expiresAt: "2027-03-31T23:59:59+02:00",
        };
        const construct = (overrides: Record<string, unknown> = {}): RunOptions => ({
            stack: "yours",
            program: async () => {
                const result = await packageProvider().construct("vendor", componentType("ThirdPartyGrant"), { ...inputs, ...overrides }, {});
                // Absent optional outputs are left out, as the engine leaves them out of the state.
                return Object.fromEntries(Object.entries({ urn: result.urn, ...result.state }).filter(([, value]) => value !== undefined));
            },
        });
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(construct());
            if (run.error !== undefined) throw run.error;
        });

        it("registers the component under its package token, with the grant role and its policy as children", () => {
            const component = only(run, componentType("ThirdPartyGrant"), "vendor");
            const role = only(run, "aws:iam/role:Role", "vendor-role");
            expect(role.parent).to.equal(component.urn);
            expect(only(run, "aws:iam/rolePolicy:RolePolicy", "vendor-session-access").parent).to.equal(component.urn);
            expect(role.inputs.name).to.equal("SSMStartSession_IAM_Role_Vendor_X");
            expect(role.inputs.tags).to.include({ ExternalAccessGrantedTo: "Vendor_X", SSMSessionRunAs: "os_user_vendor_x" });
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            expect(trust.Statement[0].Principal.AWS).to.equal("arn:aws:iam::444444444444:root");
            expect(trust.Statement[0].Condition.ArnEquals["aws:PrincipalArn"]).to.deep.equal(["arn:aws:iam::444444444444:role/3P_IAM_Assume_Role"]);
            expect(trust.Statement[0].Condition.StringEquals["sts:ExternalId"]).to.equal("VendorXExternalId0123456789");
            expect(role.secretInputs, "the trust carries the external id, so it stays a secret").to.include("assumeRolePolicy");
        });

        it("returns the outputs the schema declares, the external id still a secret, the expiry in UTC", async () => {
            const absent = ["revokeSessionsIssuedBefore", "personOsUsers"]; // not given, so not in the state
            expect(Object.keys(run.outputs).filter((k) => k !== "urn")).to.have.members(EXPECTED.ThirdPartyGrant.outputs.filter((k) => !absent.includes(k)));
            expect((await resolve(run.outputs.roleArn)).value).to.match(/:role\/SSMStartSession_IAM_Role_Vendor_X$/);
            expect((await resolve(run.outputs.osUser)).value).to.equal("os_user_vendor_x");
            expect((await resolve(run.outputs.expiresAt)).value).to.equal("2027-03-31T21:59:59Z");
            expect(await resolve(run.outputs.externalId)).to.deep.equal({ value: "VendorXExternalId0123456789", secret: true });
            // What the trust is built to enforce, so a review can hold the produced trust to it.
            expect((await resolve(run.outputs.trustedPrincipalArns)).value).to.deep.equal(["arn:aws:iam::444444444444:role/3P_IAM_Assume_Role"]);
            expect((await resolve(run.outputs.requiresSourceIdentity)).value).to.equal(true);
        });

        it("refuses a privileged OS user with a ResourceError naming the argument, before the grant role exists", async () => {
            const refused = await runProgram(construct({ osUser: "root" }));
            expect(refused.error).to.be.instanceOf(pulumi.ResourceError);
            expect(String((refused.error as Error).message)).to.match(/^osUser: got "root"; accepted: a Linux user name in this program.s namespace/);
            expect(refused.resources.filter((r: RecordedResource) => r.type === "aws:iam/role:Role")).to.deep.equal([]);
        });
    });

    describe("type tokens: stacks deployed before the move to the index module see no replacement", () => {
        // URNs the sample stacks had with the former tokens, recorded from the program before the change.
        const before: { runs: Record<string, string[]> } = JSON.parse(
            fs.readFileSync(path.join(PROJECT_ROOT, "tests", "fixtures", "urns-before-index-module.json"), "utf8"),
        );
        const variants: Record<string, RunOptions> = {
            yours: { stack: "yours" },
            "yours-kms-archive": { stack: "yours", set: { "sessions.kmsEncryption": true, "sessions.s3Archive": true } },
            their: { stack: "their" },
            "their-federated": { stack: "their", set: { users: undefined, federatedPrincipalArn: "arn:aws:iam::222222222222:role/Federated_Engineers" } },
        };

        // A URN as the engine under test makes it: the parent's type, `$`, the type; the name.
        const urnOf = (stack: string, parentUrn: string | undefined, type: string, name: string) =>
            `urn:pulumi:${stack}::${PROJECT}::${parentUrn ? `${parentUrn.split("::")[2].split("$").pop()}$${type}` : type}::${name}`;

        // Every URN a resource answers to: its own, and those the engine derives from the aliases it
        // received, its own and (inherited) its parent's, as the engine does for alias specs.
        function answeringUrns(run: ProgramRun): Set<string> {
            const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
            const memo = new Map<string, string[]>();
            const urnsOf = (resource: RecordedResource): string[] => {
                const known = memo.get(resource.urn);
                if (known) return known;
                const parent = resource.parent === undefined ? undefined : byUrn.get(resource.parent);
                const parents = parent === undefined ? [resource.parent] : urnsOf(parent);
                const forms = [
                    { type: resource.type, name: resource.name, parentUrn: undefined as string | undefined },
                    ...resource.aliases.filter((a) => a.urn === undefined),
                ];
                const urns = new Set<string>([resource.urn, ...resource.aliases.flatMap((a) => (a.urn === undefined ? [] : [a.urn]))]);
                for (const form of forms) {
                    for (const parentUrn of form.parentUrn === undefined ? parents : [form.parentUrn]) {
                        urns.add(urnOf(run.stack, parentUrn, form.type ?? resource.type, form.name ?? resource.name));
                    }
                }
                memo.set(resource.urn, [...urns]);
                return [...urns];
            };
            return new Set(run.resources.flatMap(urnsOf));
        }

        // Resources features added after the move: the archive's lifecycle, and its server access
        // logs (bucket, public access block, ownership, versioning, encryption, policy, logging).
        // And the alerts (component, key, key policy, topic, topic policy, rule, target); on their
        // side, the resource policy of the secret holding the user's key. And offboarding (component, two
        // documents, the kept-users association, the schedule group, the scheduler's role and its policy).
        // The alert on failed runs of those documents (rule, target).
        const ADDED_SINCE_THE_MOVE: Record<string, number> = { yours: 7 + 7 + 2, "yours-kms-archive": 8 + 7 + 7 + 2, their: 1 };

        for (const [variant, options] of Object.entries(variants)) {
            it(`${variant}: every former URN is a resource of today's program or one of its aliases, and the components carry the new tokens`, async () => {
                const run = await runProgram(options);
                if (run.error !== undefined) throw run.error;
                const answering = answeringUrns(run);
                const formerUrns = before.runs[variant];
                expect(formerUrns.length).to.be.greaterThan(0);
                expect(
                    formerUrns.filter((urn) => !answering.has(urn)),
                    "former URNs nothing answers to (they would be deleted and created anew)",
                ).to.deep.equal([]);
                expect(run.resources.length - formerUrns.length, "no resource added or lost but those added on purpose since").to.equal(
                    ADDED_SINCE_THE_MOVE[variant] ?? 0,
                );
                const components = run.resources.filter((r) => r.type.startsWith(`${PACKAGE_NAME}:`));
                expect(components.length).to.be.greaterThan(0);
                for (const component of components) {
                    expect(component.type).to.match(new RegExp(`^${PACKAGE_NAME}:index:`));
                    // Components added after the move have no former token to answer to.
                    const isNew = [componentType("SessionAlerts"), componentType("PartnerOffboarding")].includes(component.type);
                    expect(component.aliases.map((a) => a.type)).to.have.length(isNew ? 0 : 1);
                }
            });
        }

        it("keeps the caller's own aliases beside the former token", async () => {
            const run = await runProgram({
                stack: "yours",
                program: async () => {
                    const { MetadataGuard } = await import("../components/metadata-guard");
                    new MetadataGuard("guard", { accessTagKey: "ExternalAccessGrantedTo" }, { aliases: [{ name: "old-guard" }] });
                    return {};
                },
            });
            if (run.error !== undefined) throw run.error;
            const aliases = only(run, componentType("MetadataGuard"), "guard").aliases.map((a) => ({ name: a.name, type: a.type }));
            expect(aliases).to.deep.equal([
                { name: "old-guard", type: undefined },
                { name: undefined, type: `${PACKAGE_NAME}:instances:MetadataGuard` },
            ]);
        });
    });
});
