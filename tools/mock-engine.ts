// The project's one mock engine, shared by the tests and the access review.
// Runs the real program (index.ts) under Pulumi's mock engine, in-process, with a
// stack's own Pulumi.<stack>.yaml as config, and records what it registers.
//
// - Config: the stack file's `config:` map, plus overrides written as `pulumi config
//   set --path` keys (`partners[1].accountId`); `undefined` removes a key.
// - Every registered resource is recorded with type, name, URN, parent URN, inputs
//   and the resource options tests care about (import id, retainOnDelete).
// - Invokes the program uses (caller identity, region, partition, zones, SSM
//   parameters, VPC endpoint services) answer with values of the stack's account (aws:allowedAccountIds)
//   and region; any other invoke throws "Mock not implemented" instead of hanging.
// - Stack references answer with the outputs a test gives; an unknown stack throws.
// - Ids and ARNs are synthesized in the stack's account, region and partition.
// - Each run clears the program's modules from the require cache, so each stack
//   runs in its own module scope; `programRoot` runs another copy of the program (the
//   project as it was at a git ref) the same way.

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as runtimeSettingsModule from "@pulumi/pulumi/runtime/settings";
import * as YAML from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The project name in a program's Pulumi.yaml: the namespace of its config keys. */
export function projectNameAt(programRoot: string): string {
    return YAML.parse(fs.readFileSync(path.join(programRoot, "Pulumi.yaml"), "utf8")).name;
}

export const PROJECT: string = projectNameAt(PROJECT_ROOT);

const COMPILED = Symbol.for("third-party-ssm-access.compiledFiles");

/**
 * Every run loads the program's modules afresh (its own module scope), and ts-node would
 * compile each TypeScript file again for every run: keep what it compiled, by path and text.
 */
function keepCompiledFiles(): void {
    const service = (process as unknown as Record<symbol, { compile(code: string, fileName: string, lineOffset?: number): string } | undefined>)[
        Symbol.for("ts-node.register.instance")
    ];
    if (service === undefined || (service as unknown as Record<symbol, unknown>)[COMPILED]) return;
    const compile = service.compile.bind(service);
    const compiled = new Map<string, string>();
    service.compile = (code, fileName, lineOffset) => {
        const key = `${fileName}\0${lineOffset ?? 0}\0${createHash("sha1").update(code).digest("hex")}`;
        let output = compiled.get(key);
        if (output === undefined) {
            output = compile(code, fileName, lineOffset);
            compiled.set(key, output);
        }
        return output;
    };
    (service as unknown as Record<symbol, unknown>)[COMPILED] = true;
}
keepCompiledFiles();

/**
 * The sample stacks the tests, proofs and bench run: fixtures of their own, so that a user
 * editing Pulumi.<stack>.yaml in the project root (their stacks) never changes a test.
 */
export const FIXTURES_DIR = path.join(PROJECT_ROOT, "tests", "fixtures");

/** A resource the program registered, as the engine received it. */
export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    /** The id the mock engine gave it. */
    id: string;
    /** URN of the parent resource; the root stack for top-level resources. */
    parent?: string;
    /** Inputs as the engine received them, with secrets unwrapped (see `secretInputs`). */
    inputs: Record<string, any>;
    /** Paths of inputs that arrived as secrets, e.g. "assumeRolePolicy" or "tags.x". */
    secretInputs: string[];
    custom: boolean;
    /** Id given with the `import` resource option. */
    importId?: string;
    retainOnDelete: boolean;
    protect: boolean;
    ignoreChanges: string[];
    /** URNs of the resources it waits for (dependsOn and the resources behind its inputs). */
    dependencies: string[];
    /** Aliases the engine received: a former URN, or the parts of it that differ (the engine derives the rest). */
    aliases: RecordedAlias[];
    /** Where the program declared it, as the SDK told the engine (file URI and line). */
    sourcePosition?: { uri: string; line: number };
}

/** One alias as the engine receives it (`Alias` in the resource monitor protocol). */
export interface RecordedAlias {
    urn?: string;
    name?: string;
    type?: string;
    /** The former parent's URN, when the alias names one. */
    parentUrn?: string;
}

/** Outputs of a referenced stack, as `pulumi:pulumi:StackReference` returns them. */
export interface FakeStack {
    outputs: Record<string, unknown>;
    /** Names of outputs that are secrets in that stack. */
    secretOutputNames?: string[];
}

/**
 * What the sample stacks output to each other through stack references, used unless a
 * test gives `stacks`: the sample `their` stack's jump role, and the sample `yours`
 * stack's grant for Third_Party_A (its external id is a secret there).
 */
export const SAMPLE_STACKS: Record<string, FakeStack> = {
    [`organization/${PROJECT}/their`]: { outputs: { jumpRoleArn: "arn:aws:iam::222222222222:role/3P_IAM_Assume_Role" } },
    [`organization/${PROJECT}/yours`]: {
        outputs: {
            region: "us-east-1",
            grants: {
                Third_Party_A: {
                    roleArn: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Third_Party_A",
                    externalId: "SampleExternalIdForThirdPartyA0123456789",
                    runAsUser: "os_user_a_alice",
                    instanceIds: ["instances-instance-third-party-a-id"],
                },
            },
        },
        secretOutputNames: ["grants"],
    },
};

export interface RunOptions {
    /** Stack name; its `Pulumi.<stack>.yaml` in FIXTURES_DIR is the config unless `configFile` is given. */
    stack: string;
    /** Another stack config file to load instead. */
    configFile?: string;
    /** Config changes as `pulumi config set --path` keys; project keys may omit the namespace. `undefined` removes the key. */
    set?: Record<string, unknown>;
    /** Top-level project keys to treat as set with `--secret`. */
    secretKeys?: string[];
    /** Referenced stacks by fully qualified name; default SAMPLE_STACKS. */
    stacks?: Record<string, FakeStack>;
    /** SSM parameter values by name; AMI parameters under /aws/service/ami-* default to a fixed AMI id. */
    ssmParameters?: Record<string, string>;
    /** VPC endpoint services whose `getVpcEndpointService` answers that they support no endpoint policy (default: all support one). */
    servicesWithoutEndpointPolicies?: string[];
    /**
     * Keep the program's modules loaded from an earlier run instead of loading them afresh.
     * Safe for this program (it reads config when called, not when loaded); the benchmark
     * uses it so that timings exclude compiling TypeScript.
     */
    reuseModules?: boolean;
    /** A program to run instead of index.ts (for testing the harness itself, or a component alone). */
    program?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
    /**
     * The directory holding the program (index.ts, Pulumi.yaml) to run; default this project.
     * The access diff runs the project as it was at a git ref from a copy of that tree.
     */
    programRoot?: string;
}

export interface ProgramRun {
    stack: string;
    account: string;
    region: string;
    partition: string;
    /** Resources the program registered (the root stack itself is left out). */
    resources: RecordedResource[];
    /** Invokes the program made, in order. */
    invokes: Array<{ token: string; inputs: Record<string, any> }>;
    /** The exported stack outputs, unresolved (so secretness can be checked). */
    outputs: Record<string, unknown>;
    /** The error the program threw, if any. */
    error?: unknown;
}

/** Runs the program for a stack under mocks and returns what it registered. Never throws for program errors: see `error`. */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
    const programRoot = options.programRoot ?? PROJECT_ROOT;
    const project = programRoot === PROJECT_ROOT ? PROJECT : projectNameAt(programRoot);
    const { config, secretKeys } = loadStackConfig(options, project);
    const region = parseConfigValue(config["aws:region"]) as string | undefined;
    if (!region) throw new Error(`harness: stack ${options.stack} has no aws:region`);
    const allowed = parseConfigValue(config["aws:allowedAccountIds"]) as string[] | undefined;
    if (!allowed?.length) throw new Error(`harness: stack ${options.stack} has no aws:allowedAccountIds to take its account from`);
    const env: MockEnvironment = {
        account: String(allowed[0]),
        region,
        partition: region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws",
        stacks: options.stacks ?? SAMPLE_STACKS,
        ssmParameters: options.ssmParameters ?? {},
        servicesWithoutEndpointPolicies: options.servicesWithoutEndpointPolicies ?? [],
    };
    const run: ProgramRun = { stack: options.stack, account: env.account, region, partition: env.partition, resources: [], invokes: [], outputs: {} };
    const mocks = new RecordingMocks(env, run);
    await pulumi.runtime.setMocks(mocks, project, options.stack, false);
    pulumi.runtime.setMockOptions(new RecordingMonitor(mocks, run), project, options.stack, false);
    pulumi.runtime.setAllConfig(config, secretKeys);
    if (!options.reuseModules) clearProgramModules(programRoot);
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            // Loaded by path at run time, after the cache was cleared: each stack in its own module scope.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = options.program ?? require(path.join(programRoot, "index"));
            run.outputs = { ...(await (typeof program === "function" ? program() : program)) };
            return run.outputs;
        });
    } catch (error) {
        run.error = error;
    }
    await runtimeSettings.waitForRPCs();
    run.resources = run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    return run;
}

/**
 * The cloud resources a run registers: what `pulumi up` would create, the one count the
 * review, the bench and the docs give (components and stack-reference reads left out).
 */
export function cloudResources(run: ProgramRun): RecordedResource[] {
    return run.resources.filter((r) => r.custom && r.type !== "pulumi:pulumi:StackReference");
}

/** The recorded resources of one type, in registration order. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one recorded resource of a type (and name, when given); fails if there is not exactly one. */
export function only(run: ProgramRun, type: string, name?: string): RecordedResource {
    const found = ofType(run, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1)
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

/** Resolves an Output (or plain value) and tells whether it is a secret. */
export async function resolve<T>(value: pulumi.Input<T>): Promise<{ value: T; secret: boolean }> {
    const output = pulumi.output(value);
    const [resolved, secret] = await Promise.all([promiseOf(output), pulumi.isSecret(output)]);
    return { value: resolved as T, secret };
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolvePromise) => output.apply((v) => resolvePromise(v as T)));
}

// ---------------------------------------------------------------------------
// Config

/** A stack file's `config:` map, or an error that names the file (a YAML syntax error among them). */
export function readStackConfig(file: string): Record<string, unknown> {
    let document: unknown;
    try {
        document = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        throw new Error(`${file}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
    }
    const config = (document as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) throw new Error(`${file}: "config" is not a map of keys to values`);
    return config as Record<string, unknown>;
}

function loadStackConfig(options: RunOptions, project: string): { config: Record<string, string>; secretKeys: string[] } {
    const file = options.configFile ?? path.join(FIXTURES_DIR, `Pulumi.${options.stack}.yaml`);
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries<unknown>(readStackConfig(file))) {
        // Encrypted values (`secure: v1:...`) need the stack's passphrase or key, which no
        // test or review should ask for: each becomes an opaque placeholder, and its key a
        // secret, as Pulumi makes it.
        if (containsSecure(value)) secretKeys.add(fullKey(key, project));
        values[fullKey(key, project)] = withSecurePlaceholders(value);
    }
    for (const [keyPath, value] of Object.entries(options.set ?? {})) setPath(values, keyPath, value, project);
    for (const key of options.secretKeys ?? []) secretKeys.add(fullKey(key, project));
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        config[key] = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    return { config, secretKeys: [...secretKeys] };
}

function isSecure(value: unknown): value is { secure: string } {
    return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

function containsSecure(value: unknown): boolean {
    if (value === null || typeof value !== "object") return false;
    return isSecure(value) || Object.values(value).some(containsSecure);
}

/**
 * The value with each encrypted leaf replaced by a placeholder: letters and digits (so it
 * passes the external id and name validators), the same for the same ciphertext and
 * different for different ones (so uniqueness checks still tell two secrets apart).
 */
function withSecurePlaceholders(value: unknown): unknown {
    if (isSecure(value)) return `encrypted${deterministicText(String(value.secure), 24)}`;
    if (Array.isArray(value)) return value.map(withSecurePlaceholders);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSecurePlaceholders(v)]));
    return value;
}

function fullKey(key: string, project: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

// `pulumi config set --path` semantics: `a.b[1].c`; the first segment is the top-level key.
function setPath(values: Record<string, unknown>, keyPath: string, value: unknown, project: string): void {
    const segments = keyPath.match(/[^.[\]]+|\[\d+\]/g);
    if (!segments) throw new Error(`harness: bad key path ${keyPath}`);
    const keys: Array<string | number> = [fullKey(segments[0], project), ...segments.slice(1).map((s) => (s.startsWith("[") ? Number(s.slice(1, -1)) : s))];
    let container: any = values;
    for (let i = 0; i < keys.length - 1; i++) {
        const key = keys[i];
        if (container[key] === undefined || container[key] === null) container[key] = typeof keys[i + 1] === "number" ? [] : {};
        container = container[key];
    }
    const last = keys[keys.length - 1];
    if (value === undefined) {
        if (Array.isArray(container) && typeof last === "number") container.splice(last, 1);
        else delete container[last];
    } else {
        container[last] = value;
    }
}

function parseConfigValue(value: string | undefined): unknown {
    if (value === undefined) return undefined;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

function clearProgramModules(programRoot: string): void {
    for (const file of Object.keys(require.cache)) {
        // The program's modules only: not dependencies, not the tests or tools driving the run.
        const driver = ["tests", "tools"].some((dir) => file.startsWith(path.join(PROJECT_ROOT, dir, path.sep)));
        if (file.startsWith(programRoot + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`) && !driver) {
            delete require.cache[file];
        }
    }
}

// ---------------------------------------------------------------------------
// The mock engine

// The runtime keeps waiting for outstanding registrations internal; the pinned
// @pulumi/pulumi has it, and the harness needs it to know the program is done.
const runtimeSettings = runtimeSettingsModule as unknown as { waitForRPCs(): Promise<void> };

interface MockEnvironment {
    account: string;
    region: string;
    partition: string;
    stacks: Record<string, FakeStack>;
    ssmParameters: Record<string, string>;
    servicesWithoutEndpointPolicies: string[];
}

const MOCK_AMI = "ami-0123456789abcdef0";

class RecordingMocks implements pulumi.runtime.Mocks {
    constructor(
        private readonly env: MockEnvironment,
        private readonly run: ProgramRun,
    ) {}

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        this.run.invokes.push({ token: args.token, inputs: args.inputs });
        const { account, region, partition } = this.env;
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: account, arn: `arn:${partition}:iam::${account}:user/mock-deployer`, userId: "AIDAMOCKDEPLOYER", id: account };
            // An IAM user's ARN is its own issuer (an assumed role's would be its role's).
            case "aws:iam/getSessionContext:getSessionContext":
                return {
                    id: String(args.inputs.arn),
                    arn: String(args.inputs.arn),
                    issuerArn: String(args.inputs.arn),
                    issuerId: "AIDAMOCKDEPLOYER",
                    issuerName: "mock-deployer",
                };
            case "aws:index/getRegion:getRegion":
                return { name: region, region, id: region, endpoint: `ec2.${region}.${dnsSuffix(partition)}`, description: region };
            case "aws:index/getPartition:getPartition":
                return {
                    partition,
                    id: partition,
                    dnsSuffix: dnsSuffix(partition),
                    reverseDnsPrefix: partition === "aws-cn" ? "cn.com.amazonaws" : "com.amazonaws",
                };
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                const letters = ["a", "b", "c", "d", "e", "f"];
                return { id: region, names: letters.map((l) => `${region}${l}`), zoneIds: letters.map((_, i) => `use1-az${i + 1}`), groupNames: [region] };
            }
            case "aws:ec2/getVpcEndpointService:getVpcEndpointService": {
                const service = String(args.inputs.service);
                const prefix = partition === "aws-cn" ? "cn.com.amazonaws" : "com.amazonaws";
                return {
                    id: `${prefix}.${region}.${service}`,
                    service,
                    serviceName: `${prefix}.${region}.${service}`,
                    serviceType: String(args.inputs.serviceType ?? "Interface"),
                    vpcEndpointPolicySupported: !this.env.servicesWithoutEndpointPolicies.includes(service),
                    acceptanceRequired: false,
                    availabilityZones: [`${region}a`, `${region}b`],
                    baseEndpointDnsNames: [`${service}.${region}.${dnsSuffix(partition)}`],
                    owner: "amazon",
                    privateDnsName: `${service}.${region}.${dnsSuffix(partition)}`,
                    supportedIpAddressTypes: ["ipv4"],
                    tags: {},
                };
            }
            case "aws:ssm/getParameter:getParameter": {
                const name = String(args.inputs.name);
                const value = this.env.ssmParameters[name] ?? (name.startsWith("/aws/service/ami-") ? MOCK_AMI : undefined);
                if (value === undefined) throw mockError(`Mock not implemented: SSM parameter ${name}`);
                return { id: name, name, value, insecureValue: value, type: "String", version: 1, arn: `arn:${partition}:ssm:${region}::parameter${name}` };
            }
            default:
                throw mockError(`Mock not implemented: ${args.token}`);
        }
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        if (args.type === "pulumi:pulumi:StackReference") {
            const stackName = String(args.inputs.name ?? args.name);
            const stack = this.env.stacks[stackName];
            if (!stack) throw mockError(`harness: no outputs given for referenced stack ${stackName}`);
            return { id: stackName, state: { name: stackName, outputs: stack.outputs, secretOutputNames: stack.secretOutputNames ?? [] } };
        }
        // Ids follow from names, so runs of two configs can be compared resource by resource.
        const id = args.id || `${args.name}-id`;
        const physicalName = args.inputs.name ?? args.name;
        return { id, state: { ...args.inputs, id, name: physicalName, arn: this.arnFor(args.type, physicalName, id, args.inputs), ...this.extraState(args) } };
    }

    private arnFor(type: string, physicalName: string, id: string, inputs: Record<string, any>): string {
        const { account, region, partition } = this.env;
        const [pkg, module] = type.split(":");
        const service = module.split("/")[0];
        const kind = type.split(":")[2]?.replace(/^./, (c) => c.toLowerCase()) ?? "resource";
        if (pkg === "aws" && service === "iam") {
            const iamKinds: Record<string, string> = { Role: "role", User: "user", Group: "group", Policy: "policy", InstanceProfile: "instance-profile" };
            const iamKind = iamKinds[type.split(":")[2]];
            if (iamKind) return `arn:${partition}:iam::${account}:${iamKind}${inputs.path ?? "/"}${physicalName}`;
        }
        if (type === "aws:secretsmanager/secret:Secret") return `arn:${partition}:secretsmanager:${region}:${account}:secret:${physicalName}-AbCdEf`;
        if (type === "aws:cloudwatch/logGroup:LogGroup") return `arn:${partition}:logs:${region}:${account}:log-group:${physicalName}`;
        // SNS topics and EventBridge rules as AWS names them.
        if (type === "aws:sns/topic:Topic") return `arn:${partition}:sns:${region}:${account}:${physicalName}`;
        if (type === "aws:cloudwatch/eventRule:EventRule") return `arn:${partition}:events:${region}:${account}:rule/${physicalName}`;
        return `arn:${partition}:${service}:${region}:${account}:${kind}/${id}`;
    }

    private extraState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
        switch (args.type) {
            case "random:index/randomPassword:RandomPassword":
            case "random:index/randomString:RandomString":
                return { result: deterministicText(args.name, Number(args.inputs.length ?? 32)) };
            case "aws:kms/key:Key":
                return { keyId: `${args.name}-id` };
            case "aws:iam/accessKey:AccessKey":
                return { secret: `mock-secret-access-key-of-${args.inputs.user}` };
            case "aws:s3/bucket:Bucket":
                return { bucket: args.inputs.bucket ?? args.name };
            case "aws:ec2/vpcEndpoint:VpcEndpoint":
                return args.inputs.vpcEndpointType === "Gateway" ? { prefixListId: `pl-${args.name}` } : {};
            case "random:index/randomUuid:RandomUuid":
                return {
                    result:
                        "00000000-0000-4000-8000-" +
                        deterministicText(args.name, 12)
                            .toLowerCase()
                            .replace(/[^0-9a-f]/g, "0"),
                };
            default:
                return {};
        }
    }
}

// The runtime reports a failed invoke by the gRPC error's `details`, not its message.
function mockError(message: string): Error {
    return Object.assign(new Error(message), { details: message });
}

function dnsSuffix(partition: string): string {
    return partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

// A stable pseudo-random string per resource name, so runs are comparable.
function deterministicText(seed: string, length: number): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let hash = 2166136261;
    let out = "";
    for (let i = 0; i < length; i++) {
        for (const ch of `${seed}:${i}`) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
        out += alphabet[hash % alphabet.length];
    }
    return out;
}

// The runtime's wire marker of a secret value.
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function unwrapSecrets(value: any, path: string, secretPaths: string[]): any {
    if (value === null || typeof value !== "object") return value;
    if (value[SECRET_SIG_KEY] === SECRET_SIG) {
        secretPaths.push(path);
        return unwrapSecrets(value.value, path, []);
    }
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secretPaths));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secretPaths)]));
}

function sourcePositionOf(position: any): RecordedResource["sourcePosition"] {
    return position ? { uri: position.getUri(), line: position.getLine() } : undefined;
}

function recordedAlias(alias: any): RecordedAlias {
    const spec = alias.getSpec?.();
    if (spec === undefined) return { urn: alias.getUrn() };
    return { name: spec.getName() || undefined, type: spec.getType() || undefined, parentUrn: spec.getParenturn() || undefined };
}

class RecordingMonitor extends MockMonitor {
    constructor(
        mocks: pulumi.runtime.Mocks,
        private readonly run: ProgramRun,
    ) {
        super(mocks);
    }

    async registerResource(req: any, callback: (err: any, response: any) => void): Promise<void> {
        const inputs = req.getObject();
        return super.registerResource(req, (err, response) => {
            if (!err)
                this.record(req, inputs, { urn: response.getUrn(), id: response.getId(), custom: req.getCustom(), importId: req.getImportid() || undefined });
            callback(err, response);
        });
    }

    // Reads (stack references among them) are recorded like registrations.
    async readResource(req: any, callback: (err: any, response: any) => void): Promise<void> {
        const inputs = req.getProperties();
        return super.readResource(req, (err, response) => {
            if (!err) this.record(req, inputs, { urn: response.getUrn(), id: req.getId(), custom: true });
            callback(err, response);
        });
    }

    private record(req: any, inputStruct: any, result: { urn: string; id: string; custom: boolean; importId?: string }): void {
        const secretInputs: string[] = [];
        const option = (getter: string) => (typeof req[getter] === "function" ? req[getter]() : undefined);
        const dependencies = new Set<string>(option("getDependenciesList") ?? []);
        const propertyDependencies = option("getPropertydependenciesMap");
        propertyDependencies?.forEach((entry: any) => entry.getUrnsList().forEach((urn: string) => dependencies.add(urn)));
        this.run.resources.push({
            type: req.getType(),
            name: req.getName(),
            ...result,
            parent: req.getParent() || undefined,
            inputs: unwrapSecrets(pulumi.runtime.deserializeProperties(inputStruct), "", secretInputs),
            secretInputs,
            retainOnDelete: option("getRetainondelete") === true,
            protect: option("getProtect") === true,
            ignoreChanges: option("getIgnorechangesList") ?? [],
            dependencies: [...dependencies],
            aliases: (option("getAliasesList") ?? []).map(recordedAlias),
            sourcePosition: sourcePositionOf(option("getSourceposition")),
        });
    }
}
