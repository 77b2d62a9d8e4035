// `npm run bench [-- --out FILE]`: plan cost and IAM limits from 1 to 1,000 partners.
// Each measurement runs in a fresh process (tools/bench/run-one.ts). Prints a table and
// the targets, and writes the results as JSON only where --out says (the committed
// bench-results.json is left alone unless named). Targets are checked here and
// reported, never asserted as timings in tests.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../mock-engine";

const SIZES = (process.env.BENCH_SIZES ?? "1,10,100,500,1000").split(",").map(Number);

const USAGE = `usage: npm run bench [-- --out FILE]
  Measures a plan of the yours sample stack at ${SIZES.join(", ")} partners (BENCH_SIZES=1,10,100 for a quick look)
  against a flat baseline, prints a table and the targets, and exits 1 if a target is missed.
  --out FILE   also write the results as JSON to FILE (e.g. bench-results.json to update the committed copy)`;

/** The arguments: --out FILE, or --help. */
function parseArgs(argv: string[]): { out?: string } | "help" {
    if (argv.includes("--help") || argv.includes("-h")) return "help";
    if (argv.length === 0) return {};
    if (argv.length === 2 && argv[0] === "--out") return { out: path.resolve(argv[1]) };
    throw new Error(`unknown arguments: ${argv.join(" ")}\n${USAGE}`);
}
const DIFF_SIZE = 100;

function child(args: string[]): any {
    const out = execFileSync(
        process.execPath,
        ["--max-old-space-size=8192", "-r", "ts-node/register/transpile-only", path.join(__dirname, "run-one.ts"), ...args],
        {
            cwd: PROJECT_ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            maxBuffer: 64 * 1024 * 1024,
        },
    );
    return JSON.parse(out.trim().split("\n").pop()!);
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    if (args === "help") {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const rows: any[] = [];
    for (const partners of SIZES) {
        const dump = path.join(dir, `resources-${partners}.json`);
        const ours = child(["--mode", "ours", "--partners", String(partners), "--dump", dump]);
        const baseline = child(["--mode", "baseline", "--partners", String(partners), "--dump", dump]);
        log(`${partners} partners: ours ${ours.ms.toFixed(0)} ms, baseline ${baseline.ms.toFixed(0)} ms`);
        rows.push({ ...ours, baselineMs: baseline.ms, ratio: ours.ms / baseline.ms });
    }
    const diff = child(["--mode", "diff", "--partners", String(DIFF_SIZE)]);
    const first = rows[0];
    for (const row of rows) (row as any).marginalMsPerPartner = row.partners === first.partners ? null : (row.ms - first.ms) / (row.partners - first.partners);

    const at = (n: number) => rows.find((r) => r.partners === n);
    const growth = at(1000) && at(100) ? at(1000)!.ms / at(100)!.ms : null;
    const largest = rows[rows.length - 1];
    const targets = [
        { target: "time grows linearly: t(1000)/t(100) < 12", value: growth === null ? "n/a" : growth.toFixed(2), met: growth === null || growth < 12 },
        {
            target: "our time within 1.5x of the baseline",
            value: `max ${Math.max(...rows.map((r) => r.ratio)).toFixed(2)}x`,
            met: rows.every((r) => r.ratio <= 1.5),
        },
        {
            target: "per-partner policy sizes constant in the number of partners",
            value: `trust ${[...new Set(rows.map((r) => r.trustPolicy.max))].join("/")}, grant inline ${[...new Set(rows.map((r) => r.grantInline.max))].join("/")}`,
            met: new Set(rows.map((r) => r.trustPolicy.max)).size === 1 && new Set(rows.map((r) => r.grantInline.max)).size === 1,
        },
        {
            target: `every document inside the default quotas at ${largest.partners} partners`,
            value: `${largest.quotaProblems.length} problems`,
            met: largest.quotaProblems.length === 0,
        },
        {
            target: "one new partner adds a critical path of at most 3 resources",
            value: String(diff.newPartnerCriticalPath),
            met: diff.newPartnerCriticalPath <= 3,
        },
        { target: `adding one partner to ${DIFF_SIZE} changes no existing resource`, value: `${diff.changedInputs} changed`, met: diff.changedInputs === 0 },
    ];

    const machine = `${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, ${os.platform()} ${os.release()}`;
    const table = [
        "| partners | resources | ours (ms) | baseline (ms) | ours / baseline | marginal ms per partner | peak RSS (MB) | largest trust policy | grant inline policies | largest inline total | key policy | critical path |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map(
            (r: any) =>
                `| ${r.partners} | ${r.resources} | ${r.ms.toFixed(0)} | ${r.baselineMs.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.marginalMsPerPartner === null ? "-" : r.marginalMsPerPartner.toFixed(2)} | ${r.peakRssMb} | ${r.trustPolicy.max} / ${r.quotas.trustPolicy} | ${r.grantInline.max} / ${r.quotas.roleInlineTotal} | ${r.largestInlineTotal} / ${r.quotas.roleInlineTotal} | ${r.keyPolicy} / ${r.quotas.kmsKeyPolicy} | ${r.criticalPath} |`,
        ),
    ].join("\n");
    const targetTable = ["| target | measured | met |", "|---|---|---|", ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? "yes" : "NO"} |`)].join(
        "\n",
    );
    const results = { date: new Date().toISOString(), machine, sizes: SIZES, rows, diff, targets };
    if (args.out !== undefined) {
        fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
        log(`wrote ${args.out}`);
    }
    process.stdout.write(
        `Machine: ${machine}\n\n${table}\n\nAdding one partner to ${DIFF_SIZE}: ${diff.added} resources added, ${diff.removed} removed, ${diff.changedInputs} existing resources with changed inputs; the new partner's own critical path is ${diff.newPartnerCriticalPath}.\n\n${targetTable}\n`,
    );
    if (targets.some((t) => !t.met)) process.exitCode = 1;
}

main();
