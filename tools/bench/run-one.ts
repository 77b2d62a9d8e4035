// One measurement, in a fresh process (spawned by tools/bench/bench.ts). Prints one JSON line.
//   --mode time --variant ours|baseline --partners N [--program-root DIR] [--fix on|off]
//        [--source-maps on|off] [--dump FILE]
//        one warm-up run (1 partner, or the first resources), then one timed run: wall and
//        CPU milliseconds, the process's peak RSS, and digests of what it registered and
//        output (to tell two programs that build the same stack). `ours` is the yours
//        program (this project's, or the one under --program-root, e.g. the landed commit);
//        `baseline` registers the same custom resources flat (no components, Outputs or
//        invokes), with the SDK stack-trace filter (--fix on) or without.
//        --source-maps on keeps ts-node's source-mapped stack traces, as `pulumi up` runs a
//        TypeScript program; off removes the formatter, as the bench did before.
//   --mode facts --partners N --dump FILE   sizes, quotas and the critical path of one run,
//        and the resources the baseline registers
//   --mode diff --partners N                add one partner to N: changed inputs, what it adds

import { createHash } from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { installSdkStackTraceFilter } from "../../stacks/sdk-stack-traces";
import { criticalPath, diffRuns } from "../diff";
import { IAM_QUOTAS, lintPicture, policySize, quotaFindings } from "../iam/lint";
import { buildIamPicture } from "../iam/picture";
import { cloudResources, resolve, runProgram, type ProgramRun } from "../mock-engine";
import { readOptions } from "../command-line";
import { generatedConfig } from "./config";

/** KMS key policies may be 32 KB. */
const KMS_KEY_POLICY_QUOTA = 32768;

const text = { type: "string" } as const;
const given = readOptions(
    process.argv.slice(2),
    { mode: text, variant: text, partners: text, "program-root": text, fix: text, "source-maps": text, dump: text },
    (message) => new Error(message),
);

function arg(name: string): string | undefined {
    const value = given[name.replace(/^--/, "")];
    return typeof value === "string" ? value : undefined;
}

if (arg("--source-maps") === "off") delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;

type Dumped = Array<{ type: string; name: string; inputs: Record<string, unknown> }>;
type ResourceClass = new (name: string, args: Record<string, unknown>) => pulumi.CustomResource;

// The SDK class of a type token: "aws:iam/role:Role" -> aws.iam.Role. The same classes as
// the program uses, so both variants pay the same per-resource SDK cost.
function classOf(type: string): ResourceClass {
    const [pkg, path, name] = type.split(":");
    const module = path.split("/")[0];
    // The aws package by service module (as components/aws.ts imports it), read by name.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const library: Record<string, any> | undefined = pkg === "aws" ? { [module]: require(`@pulumi/aws/${module}`) } : pkg === "random" ? random : undefined;
    const found = module === "index" ? library?.[name] : library?.[module]?.[name];
    if (typeof found !== "function") throw new Error(`no SDK class for ${type}`);
    return found;
}

function runFlat(resources: Dumped): Promise<ProgramRun> {
    return runProgram({
        stack: "yours",
        program: () => {
            for (const r of resources) new (classOf(r.type))(r.name, r.inputs);
            return {};
        },
    });
}

// After the warm-up run, the program's modules stay loaded, as the baseline's do.
const runOurs = (partners: number, programRoot?: string) => runProgram({ stack: "yours", set: generatedConfig(partners), reuseModules: true, programRoot });

const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);

async function outputsOf(run: ProgramRun): Promise<Record<string, unknown>> {
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(run.outputs)) resolved[key] = (await resolve(value)).value;
    return resolved;
}

async function timeOne(): Promise<object> {
    const variant = arg("--variant");
    const partners = Number(arg("--partners"));
    let run: () => Promise<ProgramRun>;
    if (variant === "baseline") {
        if (arg("--fix") !== "off") installSdkStackTraceFilter();
        const resources = JSON.parse(fs.readFileSync(arg("--dump")!, "utf8")) as Dumped;
        const warm = await runFlat(resources.slice(0, 40));
        if (warm.error) throw warm.error;
        run = () => runFlat(resources);
    } else if (variant === "ours") {
        const root = arg("--program-root");
        const warm = await runProgram({ stack: "yours", set: generatedConfig(1), programRoot: root });
        if (warm.error) throw warm.error;
        run = () => runOurs(partners, root);
    } else throw new Error(`unknown --variant ${variant}`);
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const result = await run();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    if (result.error) throw result.error;
    // By URN: the order resources register in is no part of what the program builds.
    const registered = cloudResources(result)
        .map((r) => ({ urn: r.urn, inputs: r.inputs }))
        .sort((a, b) => a.urn.localeCompare(b.urn));
    return {
        variant,
        partners,
        ms,
        cpuMs: (used.user + used.system) / 1000,
        peakRssMb: peakRssMb(),
        resources: registered.length,
        resourcesDigest: digest(registered),
        outputsDigest: variant === "ours" ? digest(await outputsOf(result)) : null,
    };
}

async function facts(partners: number): Promise<object> {
    const run = await runOurs(partners);
    if (run.error) throw run.error;
    fs.writeFileSync(arg("--dump")!, JSON.stringify(run.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }))));
    const picture = buildIamPicture([run]);
    const grants = picture.principals.filter((p) => p.kind === "role" && p.tags.SSMSessionRunAs !== undefined);
    const range = (values: number[]) => ({ min: Math.min(...values), max: Math.max(...values) });
    const inlineTotal = (p: (typeof picture.principals)[number]) =>
        p.policies.filter((x) => x.kind === "inline").reduce((n, x) => n + policySize(x.document), 0);
    const keyPolicies = picture.resourcePolicies.filter((r) => r.kind === "kms-key").map((r) => policySize(r.document));
    // The full lint reads AWS's data for every statement: run it on small sizes; quotas on all.
    const problems = partners <= 10 ? await lintPicture(picture) : quotaFindings(picture);
    const count = (type: string) => run.resources.filter((r) => r.type === type).length;
    return {
        partners,
        resources: cloudResources(run).length,
        trustPolicy: range(grants.map((g) => policySize(g.trustPolicy!))),
        grantInline: range(grants.map(inlineTotal)),
        largestInlineTotal: Math.max(...picture.principals.map(inlineTotal)),
        keyPolicy: keyPolicies.length ? Math.max(...keyPolicies) : 0,
        quotas: { ...IAM_QUOTAS, kmsKeyPolicy: KMS_KEY_POLICY_QUOTA },
        quotaProblems: [
            ...problems.map((f) => `${f.document}: ${f.problem}`),
            ...keyPolicies.filter((n) => n > KMS_KEY_POLICY_QUOTA).map((n) => `key policy ${n} > ${KMS_KEY_POLICY_QUOTA}`),
        ],
        // Account and region quotas that count resources, not document sizes.
        counts: {
            roles: count("aws:iam/role:Role"),
            instanceProfiles: count("aws:iam/instanceProfile:InstanceProfile"),
            associations: count("aws:ssm/association:Association"),
            kmsGrants: count("aws:kms/grant:Grant"),
            kmsKeys: count("aws:kms/key:Key"),
        },
        criticalPath: criticalPath(run),
    };
}

async function main(): Promise<void> {
    const mode = arg("--mode");
    const partners = Number(arg("--partners") ?? 0);
    let result: object;
    if (mode === "time") result = await timeOne();
    else if (mode === "facts") result = await facts(partners);
    else if (mode === "diff") {
        const before = await runOurs(partners);
        const after = await runOurs(partners + 1);
        const diff = diffRuns(before, after);
        const added = new Set(diff.added.map((r) => r.urn));
        result = {
            partners,
            changedInputs: diff.changed.length,
            changed: diff.changed.map((r) => r.name),
            removed: diff.removed.length,
            added: diff.added.length,
            newPartnerCriticalPath: criticalPath(after, added),
        };
    } else throw new Error(`unknown --mode ${mode}`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
    () => process.exit(0),
    (error) => {
        process.stderr.write(`${String(error?.stack ?? error)}\n`);
        process.exit(1);
    },
);
