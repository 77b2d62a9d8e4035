// One measurement, in a fresh process (spawned by tools/bench/bench.ts). Prints one JSON line.
//   --mode ours --partners N [--dump FILE]   the yours program with N generated partners
//   --mode baseline --dump FILE              the same custom resources registered flat, with
//                                            plain inputs: no components, no Outputs, no invokes
//   --mode diff --partners N                 add one partner to N: changed inputs, what it adds
// Each timed run follows one warm-up run of the same mode in the same process; small sizes
// are repeated (5 times up to 10 partners, 3 up to 100) and the median taken, to damp noise.

import * as fs from "fs";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { IAM_QUOTAS, lintPicture, policySize, quotaFindings } from "../iam/lint";
import { buildIamPicture } from "../iam/picture";
import { criticalPath, diffRuns } from "../diff";
import { cloudResources, runProgram, type ProgramRun } from "../mock-engine";
import { generatedConfig } from "./config";

// ts-node source-maps every stack trace, and the Pulumi SDK takes one per promise; that
// cost is ts-node's, the same for both modes, and would dominate the measurement.
delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;

/** KMS key policies may be 32 KB. */
const KMS_KEY_POLICY_QUOTA = 32768;

function arg(name: string): string | undefined {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
}

async function timedOnce(run: () => Promise<ProgramRun>): Promise<{ run: ProgramRun; ms: number }> {
    const started = process.hrtime.bigint();
    const result = await run();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.error) throw result.error;
    return { run: result, ms };
}

async function timed(partners: number, run: () => Promise<ProgramRun>): Promise<{ run: ProgramRun; ms: number }> {
    const repeats = partners <= 10 ? 5 : partners <= 100 ? 3 : 1;
    const samples = [];
    for (let i = 0; i < repeats; i++) samples.push(await timedOnce(run));
    samples.sort((a, b) => a.ms - b.ms);
    return samples[Math.floor(repeats / 2)];
}

// After the warm-up run, the program's modules stay loaded, as the baseline's do.
const runOurs = (partners: number) => runProgram({ stack: "yours", set: generatedConfig(partners), reuseModules: true });

type Dumped = Array<{ type: string; name: string; inputs: Record<string, unknown> }>;

type ResourceClass = new (name: string, args: Record<string, unknown>) => pulumi.CustomResource;

// The SDK class of a type token: "aws:iam/role:Role" -> aws.iam.Role. The same classes as
// the program uses, so both modes pay the same per-resource SDK cost.
function classOf(type: string): ResourceClass {
    const [pkg, path, name] = type.split(":");
    const module = path.split("/")[0];
    const library = ({ aws, random } as Record<string, any>)[pkg];
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

const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function main(): Promise<void> {
    const mode = arg("--mode");
    const partners = Number(arg("--partners") ?? 0);
    if (mode === "diff") {
        const before = await runOurs(partners);
        const after = await runOurs(partners + 1);
        const diff = diffRuns(before, after);
        const added = new Set(diff.added.map((r) => r.urn));
        process.stdout.write(
            `${JSON.stringify({ mode, partners, changedInputs: diff.changed.length, changed: diff.changed.map((r) => r.name), removed: diff.removed.length, added: diff.added.length, newPartnerCriticalPath: criticalPath(after, added) })}\n`,
        );
        return;
    }
    if (mode === "baseline") {
        const resources = JSON.parse(fs.readFileSync(arg("--dump")!, "utf8")) as Dumped;
        await timedOnce(() => runFlat(resources.slice(0, 40)));
        const { run, ms } = await timed(partners, () => runFlat(resources));
        process.stdout.write(`${JSON.stringify({ mode, partners, resources: cloudResources(run).length, ms, peakRssMb: peakRssMb() })}\n`);
        return;
    }
    if (mode !== "ours") throw new Error(`unknown --mode ${mode}`);
    await timedOnce(() => runOurs(1));
    const { run, ms } = await timed(partners, () => runOurs(partners));
    const dump = arg("--dump");
    if (dump) fs.writeFileSync(dump, JSON.stringify(run.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }))));
    const picture = buildIamPicture([run]);
    const grants = picture.principals.filter((p) => p.kind === "role" && p.tags.SSMSessionRunAs !== undefined);
    const range = (values: number[]) => ({ min: Math.min(...values), max: Math.max(...values) });
    const inlineTotal = (p: (typeof picture.principals)[number]) =>
        p.policies.filter((x) => x.kind === "inline").reduce((n, x) => n + policySize(x.document), 0);
    const keyPolicies = picture.resourcePolicies.filter((r) => r.kind === "kms-key").map((r) => policySize(r.document));
    // The full lint reads AWS's data for every statement: run it on small sizes; quotas on all.
    const problems = partners <= 10 ? await lintPicture(picture) : quotaFindings(picture);
    process.stdout.write(
        `${JSON.stringify({
            mode,
            partners,
            ms,
            peakRssMb: peakRssMb(),
            resources: cloudResources(run).length,
            trustPolicy: range(grants.map((g) => policySize(g.trustPolicy!))),
            grantInline: range(grants.map(inlineTotal)),
            largestInlineTotal: Math.max(...picture.principals.map(inlineTotal)),
            managedPolicies: picture.principals.flatMap((p) => p.policies.filter((x) => x.kind === "managed")).map((x) => policySize(x.document)),
            keyPolicy: keyPolicies.length ? Math.max(...keyPolicies) : 0,
            quotas: { ...IAM_QUOTAS, kmsKeyPolicy: KMS_KEY_POLICY_QUOTA },
            quotaProblems: [
                ...problems.map((f) => `${f.document}: ${f.problem}`),
                ...keyPolicies.filter((n) => n > KMS_KEY_POLICY_QUOTA).map((n) => `key policy ${n} > ${KMS_KEY_POLICY_QUOTA}`),
            ],
            criticalPath: criticalPath(run),
        })}\n`,
    );
}

main().then(
    () => process.exit(0),
    (error) => {
        process.stderr.write(`${String(error?.stack ?? error)}\n`);
        process.exit(1);
    },
);
