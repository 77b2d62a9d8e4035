// `npm run bench [-- --before REF] [--repeats N] [--out FILE]`: plan cost and quotas from 1
// to 1,000 partners. Every measurement runs in a fresh process (tools/bench/run-one.ts),
// variants interleaved within each round so that a change in the machine's load falls
// on all of them alike, at least three rounds at every size; medians of wall and CPU time
// and peak memory are reported. Variants:
//   ours           the yours program, as `pulumi up` runs a TypeScript program (ts-node,
//                  source-mapped stack traces)
//   ours (no maps) the same without the source-map formatter, as the bench measured before
//   baseline       the same custom resources registered flat (no components, Outputs or
//                  invokes), with the program's SDK stack-trace filter, and without it
//   at REF         the program as it was at a git ref (--before), e.g. before a change
// Targets are checked and printed, never asserted as timings in tests.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkOutRef, type CommittedTree } from "../access/sides";
import { readOptions } from "../command-line";
import { PROJECT_ROOT } from "../mock-engine";
import { median } from "./median";
import { benchReviews, reviewTables, REVIEW_SIZES } from "./review-bench";

const SIZES = (process.env.BENCH_SIZES ?? "1,10,100,500,1000").split(",").map(Number);
const DIFF_SIZE = 100;

const USAGE = `usage: npm run bench [-- --review] [--before REF] [--repeats N] [--out FILE]
  Measures a plan of the yours stack with ${SIZES.join(", ")} generated partners (BENCH_SIZES=1,10,100 for a quick look),
  each partner with an instance, encryption and the archive on, against a flat baseline; prints the tables, the quotas
  and the targets, and exits 1 if a target is missed.
  --review      measure the review and the access diff (one partner added) instead, at ${REVIEW_SIZES.join(", ")} partners
                (BENCH_REVIEW_SIZES to choose), as \`npm run review\` runs them
  --before REF  also measure the program as it was at this git ref (the "before" of a change), and check that both
                build the same resources and outputs; with --review, that ref's review command (up to
                BENCH_REVIEW_BEFORE_MAX partners, default 10: a review before issue 25 is quadratic)
  --repeats N   rounds at every size (default 3, at least 3)
  --out FILE    also write the results as JSON to FILE (e.g. bench-results.json to update the committed copy)`;

interface Args {
    review: boolean;
    before?: string;
    repeats: number;
    out?: string;
}

function parseArgs(argv: string[]): Args | "help" {
    if (argv.includes("--help") || argv.includes("-h")) return "help";
    const values = readOptions(
        argv,
        { review: { type: "boolean" }, before: { type: "string" }, repeats: { type: "string" }, out: { type: "string" } },
        (message) => new Error(`${message}\n${USAGE}`),
    ) as { review?: boolean; before?: string; repeats?: string; out?: string };
    const args: Args = {
        review: values.review === true,
        before: values.before,
        repeats: values.repeats === undefined ? 3 : Number(values.repeats),
        out: values.out === undefined ? undefined : path.resolve(values.out),
    };
    if (!Number.isInteger(args.repeats) || args.repeats < 3) throw new Error(`--repeats is a whole number of at least 3, not ${args.repeats}`);
    return args;
}

function child(args: string[]): any {
    const out = execFileSync(
        process.execPath,
        ["--max-old-space-size=8192", "-r", "ts-node/register/transpile-only", path.join(__dirname, "run-one.ts"), ...args],
        { cwd: PROJECT_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 },
    );
    return JSON.parse(out.trim().split("\n").pop()!);
}

interface Variant {
    key: string;
    label: string;
    args: (partners: number, dump: string) => string[];
}

interface Sample {
    ms: number;
    cpuMs: number;
    peakRssMb: number;
    resources: number;
    resourcesDigest: string;
    outputsDigest: string | null;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Account and region quotas that count resources: the default and the most AWS grants on request. */
const COUNTED_QUOTAS = [
    { key: "roles", label: "IAM roles per account", default: 1000, raised: 5000 },
    { key: "instanceProfiles", label: "IAM instance profiles per account", default: 1000, raised: 5000 },
    { key: "associations", label: "State Manager associations per account and region", default: 2000, raised: 2000 },
    { key: "kmsGrants", label: "KMS grants per key", default: 50000, raised: 50000 },
] as const;

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    if (args === "help") {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const started = Date.now();
    const loadBefore = os.loadavg();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    let tree: CommittedTree | undefined;
    if (args.before) {
        tree = checkOutRef(PROJECT_ROOT, args.before);
        log(`the program at ${args.before} (${tree.commit.slice(0, 7)}) is in ${tree.programRoot}`);
    }
    if (args.review) {
        try {
            benchAndPrintReviews(args, tree, started, loadBefore);
        } finally {
            tree?.dispose();
        }
        return;
    }
    const variants: Variant[] = [
        { key: "ours", label: "ours", args: (n) => ["--variant", "ours", "--partners", String(n), "--source-maps", "on"] },
        { key: "baseline", label: "baseline", args: (n, dump) => ["--variant", "baseline", "--partners", String(n), "--dump", dump, "--source-maps", "on"] },
        {
            key: "baselineNoFix",
            label: "baseline without the filter",
            args: (n, dump) => ["--variant", "baseline", "--partners", String(n), "--dump", dump, "--source-maps", "on", "--fix", "off"],
        },
        { key: "oursNoMaps", label: "ours, no source maps", args: (n) => ["--variant", "ours", "--partners", String(n), "--source-maps", "off"] },
        ...(tree
            ? [
                  {
                      key: "before",
                      label: `at ${args.before}`,
                      args: (n: number) => ["--variant", "ours", "--partners", String(n), "--source-maps", "on", "--program-root", tree!.programRoot],
                  },
                  {
                      key: "beforeNoMaps",
                      label: `at ${args.before}, no source maps`,
                      args: (n: number) => ["--variant", "ours", "--partners", String(n), "--source-maps", "off", "--program-root", tree!.programRoot],
                  },
              ]
            : []),
    ];

    const rows: any[] = [];
    try {
        for (const partners of SIZES) {
            const dump = path.join(dir, `resources-${partners}.json`);
            const facts = child(["--mode", "facts", "--partners", String(partners), "--dump", dump, "--source-maps", "off"]);
            const samples: Record<string, Sample[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
            for (let round = 0; round < args.repeats; round++) {
                // Interleaved: each round measures every variant once, in the same order.
                for (const variant of variants) samples[variant.key].push(child(["--mode", "time", ...variant.args(partners, dump)]));
            }
            const summary = Object.fromEntries(
                variants.map((v) => [
                    v.key,
                    {
                        ms: median(samples[v.key].map((s) => s.ms)),
                        cpuMs: median(samples[v.key].map((s) => s.cpuMs)),
                        peakRssMb: median(samples[v.key].map((s) => s.peakRssMb)),
                        samplesMs: samples[v.key].map((s) => Math.round(s.ms)),
                        resourcesDigest: samples[v.key][0].resourcesDigest,
                        outputsDigest: samples[v.key][0].outputsDigest,
                    },
                ]),
            );
            log(`${partners} partners: ${variants.map((v) => `${v.label} ${summary[v.key].ms.toFixed(0)} ms`).join(", ")}`);
            rows.push({ partners, resources: facts.resources, facts, ...summary });
        }
    } finally {
        tree?.dispose();
    }
    const diff = child(["--mode", "diff", "--partners", String(DIFF_SIZE), "--source-maps", "off"]);
    const loadAfter = os.loadavg();

    const at = (n: number) => rows.find((r) => r.partners === n);
    const largest = rows[rows.length - 1];
    const growth = at(1000) && at(100) ? at(1000).ours.ms / at(100).ours.ms : null;
    // Quotas: what the stack uses at each size, fitted to fixed + per-partner, and the most partners each allows.
    const first = rows[0];
    const quotas = COUNTED_QUOTAS.map((q) => {
        const fixed = first.facts.counts[q.key] - first.partners * perPartner(q.key);
        const each = perPartner(q.key);
        const most = (limit: number) => (each === 0 ? null : Math.floor((limit - fixed) / each));
        return { ...q, fixed, perPartner: each, mostPartnersDefault: most(q.default), mostPartnersRaised: most(q.raised) };
    });
    function perPartner(key: string): number {
        if (rows.length < 2) return 0;
        const [a, b] = [rows[0], rows[rows.length - 1]];
        return (b.facts.counts[key] - a.facts.counts[key]) / (b.partners - a.partners);
    }
    const ceilings = quotas.filter((q) => q.mostPartnersDefault !== null);
    const ceiling = (which: "mostPartnersDefault" | "mostPartnersRaised") =>
        ceilings.length === 0 ? null : ceilings.reduce((low, q) => (q[which]! < low[which]! ? q : low));

    const targets = [
        ...(tree && at(1000)
            ? [
                  {
                      target: `1,000 partners as Pulumi runs it: at most 0.5x the time at ${args.before}`,
                      value: `${(at(1000).ours.ms / at(1000).before.ms).toFixed(2)}x`,
                      met: at(1000).ours.ms <= 0.5 * at(1000).before.ms,
                  },
                  {
                      target: `1,000 partners without source maps: at most 0.5x the time at ${args.before}`,
                      value: `${(at(1000).oursNoMaps.ms / at(1000).beforeNoMaps.ms).toFixed(2)}x`,
                      met: at(1000).oursNoMaps.ms <= 0.5 * at(1000).beforeNoMaps.ms,
                  },
              ]
            : []),
        ...(tree
            ? [
                  {
                      target: `the same resources and outputs as at ${args.before}, at every size`,
                      value: rows.every((r) => r.ours.resourcesDigest === r.before.resourcesDigest && r.ours.outputsDigest === r.before.outputsDigest)
                          ? "the same"
                          : "DIFFERENT",
                      met: rows.every((r) => r.ours.resourcesDigest === r.before.resourcesDigest && r.ours.outputsDigest === r.before.outputsDigest),
                  },
              ]
            : []),
        ...(at(1000)
            ? [{ target: "1,000 partners: peak memory under 1 GB", value: `${at(1000).ours.peakRssMb} MB`, met: at(1000).ours.peakRssMb < 1024 }]
            : []),
        {
            target: "time grows linearly: t(1000)/t(100) at most 10.5",
            value: growth === null ? "n/a" : growth.toFixed(2),
            met: growth === null || growth <= 10.5,
        },
        {
            target: "per-partner policy sizes constant in the number of partners",
            value: `trust ${[...new Set(rows.map((r) => r.facts.trustPolicy.max))].join("/")}, grant inline ${[...new Set(rows.map((r) => r.facts.grantInline.max))].join("/")}`,
            met: new Set(rows.map((r) => r.facts.trustPolicy.max)).size === 1 && new Set(rows.map((r) => r.facts.grantInline.max)).size === 1,
        },
        {
            target: `every document inside the default size quotas at ${largest.partners} partners`,
            value: `${largest.facts.quotaProblems.length} problems`,
            met: largest.facts.quotaProblems.length === 0,
        },
        {
            target: "one new partner adds a critical path of at most 3 resources",
            value: String(diff.newPartnerCriticalPath),
            met: diff.newPartnerCriticalPath <= 3,
        },
        // One on purpose: the list of OS users the instances keep, which is how removing a partner ends its user.
        {
            target: `adding one partner to ${DIFF_SIZE} changes no existing resource but the kept OS users' list`,
            value: `${diff.changedInputs} changed (${(diff.changed as string[]).join(", ") || "none"})`,
            met: (diff.changed as string[]).every((name) => name === "offboarding-keep-os-users"),
        },
    ];

    const machine = machineLine();
    const load = `load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} at the start, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} at the end`;
    const cell = (v: { ms: number; cpuMs: number; peakRssMb: number } | undefined) => (v ? `${v.ms.toFixed(0)} / ${v.cpuMs.toFixed(0)} / ${v.peakRssMb}` : "-");
    const timeTable = [
        `| partners | resources | ${variants.map((v) => `${v.label} (ms wall / ms CPU / MB)`).join(" | ")} | ours / baseline |${tree ? " ours / before |" : ""}`,
        `|---:|---:|${variants.map(() => "---:").join("|")}|---:|${tree ? "---:|" : ""}`,
        ...rows.map(
            (r) =>
                `| ${r.partners} | ${r.resources} | ${variants.map((v) => cell(r[v.key])).join(" | ")} | ${(r.ours.ms / r.baseline.ms).toFixed(2)} |${tree ? ` ${(r.ours.ms / r.before.ms).toFixed(2)} |` : ""}`,
        ),
    ].join("\n");
    const factsTable = [
        "| partners | largest trust policy | grant inline policies | largest inline total | key policy | critical path | roles | instance profiles | associations |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map(
            (r) =>
                `| ${r.partners} | ${r.facts.trustPolicy.max} / ${r.facts.quotas.trustPolicy} | ${r.facts.grantInline.max} / ${r.facts.quotas.roleInlineTotal} | ${r.facts.largestInlineTotal} / ${r.facts.quotas.roleInlineTotal} | ${r.facts.keyPolicy} / ${r.facts.quotas.kmsKeyPolicy} | ${r.facts.criticalPath} | ${r.facts.counts.roles} | ${r.facts.counts.instanceProfiles} | ${r.facts.counts.associations} |`,
        ),
    ].join("\n");
    const quotaTable = [
        "| quota | default | raised | the stack uses | most partners (default) | most partners (raised) |",
        "|---|---:|---:|---|---:|---:|",
        ...quotas.map(
            (q) =>
                `| ${q.label} | ${q.default} | ${q.raised} | ${q.fixed} + ${q.perPartner} per partner | ${q.mostPartnersDefault ?? "no limit"} | ${q.mostPartnersRaised ?? "no limit"} |`,
        ),
    ].join("\n");
    const low = ceiling("mostPartnersDefault");
    const lowRaised = ceiling("mostPartnersRaised");
    const ceilingLine =
        low && lowRaised
            ? `Ceiling: ${low.mostPartnersDefault} partners per account (${low.label.toLowerCase()}, default quotas); ${lowRaised.mostPartnersRaised} with every quota raised (${lowRaised.label.toLowerCase()}).`
            : "No counted quota limits the number of partners.";
    const targetTable = ["| target | measured | met |", "|---|---|---|", ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? "yes" : "NO"} |`)].join(
        "\n",
    );
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const results = {
        date: new Date().toISOString(),
        machine,
        load: { before: loadBefore, after: loadAfter },
        repeats: args.repeats,
        sizes: SIZES,
        before: args.before ?? null,
        rows,
        diff,
        quotas,
        targets,
        minutes,
    };
    if (args.out !== undefined) {
        fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
        log(`wrote ${args.out}`);
    }
    process.stdout.write(
        [
            `Machine: ${machine}; ${load}. Medians of ${args.repeats} rounds, every measurement in a fresh process after a warm-up run; took ${minutes} minutes.`,
            "",
            timeTable,
            "",
            factsTable,
            "",
            quotaTable,
            "",
            ceilingLine,
            "",
            `Adding one partner to ${DIFF_SIZE}: ${diff.added} resources added, ${diff.removed} removed, ${diff.changedInputs} existing resources with changed inputs; the new partner's own critical path is ${diff.newPartnerCriticalPath}.`,
            "",
            targetTable,
            "",
        ].join("\n"),
    );
    if (targets.some((t) => !t.met)) process.exitCode = 1;
}

const machineLine = () =>
    `${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, ${os.platform()} ${os.release()}`;

// The review bench: its table, targets, and the results as JSON with --out.
function benchAndPrintReviews(args: Args, tree: CommittedTree | undefined, started: number, loadBefore: number[]): void {
    const label = args.before;
    const rows = benchReviews({ repeats: args.repeats, before: tree && label ? { label, programRoot: tree.programRoot } : undefined, log });
    const loadAfter = os.loadavg();
    const { table, targets } = reviewTables(rows, label);
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    if (args.out !== undefined) {
        const results = {
            date: new Date().toISOString(),
            machine: machineLine(),
            load: { before: loadBefore, after: loadAfter },
            repeats: args.repeats,
            before: label ?? null,
            rows,
            targets,
            minutes,
        };
        fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
        log(`wrote ${args.out}`);
    }
    const targetTable = ["| target | measured | met |", "|---|---|---|", ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? "yes" : "NO"} |`)].join(
        "\n",
    );
    process.stdout.write(
        [
            `Machine: ${machineLine()}; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} at the start, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} at the end. Medians of ${args.repeats} rounds, every run a fresh \`npm run review\` process; took ${minutes} minutes.`,
            "",
            table,
            "",
            targetTable,
            "",
        ].join("\n"),
    );
    if (targets.some((t) => !t.met)) process.exitCode = 1;
}

main();
