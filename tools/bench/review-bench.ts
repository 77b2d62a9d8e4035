// The review and the access diff at 1 to 1,000 generated partners (`npm run bench -- --review`),
// each measured in a fresh process exactly as `npm run review` runs it, this tree's command and,
// with --before, the command as it was at a git ref, interleaved in every round. The diff adds
// one partner to N. Wall time and the process's peak memory; medians of the rounds.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { median } from "./median";
import { PROJECT, PROJECT_ROOT } from "../mock-engine";
import { generatedConfig } from "./config";

export const REVIEW_SIZES = (process.env.BENCH_REVIEW_SIZES ?? "1,10,100,1000").split(",").map(Number);

/** The review at a ref before this change is quadratic: beyond this many partners it is not measured (309 s at 100 on the issue's machine). */
const BEFORE_AT_MOST = Number(process.env.BENCH_REVIEW_BEFORE_MAX ?? 10);

interface Sample {
    ms: number;
    peakRssMb: number;
}

export interface ReviewRow {
    partners: number;
    review: Record<string, { ms: number; peakRssMb: number; samplesMs: number[] }>;
    diff: Record<string, { ms: number; peakRssMb: number; samplesMs: number[] }>;
}

/** A yours stack config of N generated partners (each with its instance), written into `dir`. */
function configFile(dir: string, partners: number): string {
    const file = path.join(dir, `Pulumi.scale${partners}.yaml`);
    if (!fs.existsSync(file)) {
        const generated = generatedConfig(partners);
        const config = {
            "aws:region": "us-east-1",
            "aws:allowedAccountIds": ["111111111111"],
            [`${PROJECT}:side`]: "yours",
            [`${PROJECT}:sessions`]: { kmsEncryption: true, s3Archive: true },
            [`${PROJECT}:partners`]: generated.partners,
            [`${PROJECT}:instances`]: generated.instances,
        };
        fs.writeFileSync(file, YAML.stringify({ config }));
    }
    return file;
}

// One run of a tree's review command, as its package.json runs it, with its wall time and peak memory.
function timeReview(programRoot: string, args: string[]): Sample {
    const report = path.join(os.tmpdir(), `bench-review-${process.pid}-${Date.now()}.json`);
    const started = process.hrtime.bigint();
    execFileSync(
        process.execPath,
        [
            "--max-semi-space-size=128",
            "-r",
            require.resolve("ts-node/register/transpile-only"),
            "-r",
            path.join(__dirname, "peak-rss.js"),
            path.join(programRoot, "tools/review/cli.ts"),
            ...args,
            "--format",
            "json",
            "--out",
            report,
        ],
        { cwd: programRoot, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, BENCH_PEAK_RSS_FILE: `${report}.rss` }, maxBuffer: 64 * 1024 * 1024 },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const peakRssMb = Math.round(Number(fs.readFileSync(`${report}.rss`, "utf8")) / 1024);
    fs.rmSync(report, { force: true });
    fs.rmSync(`${report}.rss`, { force: true });
    return { ms, peakRssMb };
}

/** Measures the review and the diff at every size, this tree's and, when given, a ref's tree's. */
export function benchReviews(options: { repeats: number; before?: { label: string; programRoot: string }; log: (line: string) => void }): ReviewRow[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-review-"));
    const trees = [{ key: "ours", programRoot: PROJECT_ROOT }, ...(options.before ? [{ key: "before", programRoot: options.before.programRoot }] : [])];
    const rows: ReviewRow[] = [];
    try {
        for (const partners of REVIEW_SIZES) {
            const config = configFile(dir, partners);
            const grown = configFile(dir, partners + 1);
            const measured = trees.filter((t) => t.key === "ours" || partners <= BEFORE_AT_MOST);
            const samples = { review: new Map<string, Sample[]>(), diff: new Map<string, Sample[]>() };
            for (let round = 0; round < options.repeats; round++) {
                // Interleaved: each round runs every tree's review, then every tree's diff.
                for (const tree of measured) {
                    const review = timeReview(tree.programRoot, ["--config", config]);
                    samples.review.set(tree.key, [...(samples.review.get(tree.key) ?? []), review]);
                }
                for (const tree of measured) {
                    const diff = timeReview(tree.programRoot, ["--config", grown, "--against-config", config]);
                    samples.diff.set(tree.key, [...(samples.diff.get(tree.key) ?? []), diff]);
                }
            }
            const summary = (of: Map<string, Sample[]>) =>
                Object.fromEntries(
                    [...of].map(([key, s]) => [
                        key,
                        { ms: median(s.map((x) => x.ms)), peakRssMb: median(s.map((x) => x.peakRssMb)), samplesMs: s.map((x) => Math.round(x.ms)) },
                    ]),
                );
            const row = { partners, review: summary(samples.review), diff: summary(samples.diff) };
            options.log(
                `review at ${partners} partners: ${Object.entries(row.review)
                    .map(([k, v]) => `${k} ${v.ms.toFixed(0)} ms`)
                    .join(", ")}; diff: ${Object.entries(row.diff)
                    .map(([k, v]) => `${k} ${v.ms.toFixed(0)} ms`)
                    .join(", ")}`,
            );
            rows.push(row);
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return rows;
}

/** The review bench's table and targets, in Markdown. */
export function reviewTables(rows: ReviewRow[], beforeLabel?: string): { table: string; targets: Array<{ target: string; value: string; met: boolean }> } {
    const cell = (v: { ms: number; peakRssMb: number } | undefined) => (v ? `${v.ms.toFixed(0)} / ${v.peakRssMb}` : "not measured");
    const before = beforeLabel !== undefined;
    const table = [
        `| partners | review (ms / MB) |${before ? ` review at ${beforeLabel} |` : ""} diff, one partner added (ms / MB) |${before ? ` diff at ${beforeLabel} |` : ""}`,
        `|---:|---:|${before ? "---:|" : ""}---:|${before ? "---:|" : ""}`,
        ...rows.map(
            (r) =>
                `| ${r.partners} | ${cell(r.review.ours)} |${before ? ` ${cell(r.review.before)} |` : ""} ${cell(r.diff.ours)} |${before ? ` ${cell(r.diff.before)} |` : ""}`,
        ),
    ].join("\n");
    const at = (n: number) => rows.find((r) => r.partners === n);
    const targets = [];
    const thousand = at(1000);
    const hundred = at(100);
    if (thousand) {
        targets.push(
            {
                target: "review of 1,000 partners: at most 30 s",
                value: `${(thousand.review.ours.ms / 1000).toFixed(1)} s`,
                met: thousand.review.ours.ms <= 30_000,
            },
            {
                target: "review of 1,000 partners: at most 1.5 GB",
                value: `${thousand.review.ours.peakRssMb} MB`,
                met: thousand.review.ours.peakRssMb <= 1536,
            },
            {
                target: "diff of a 1,000-partner change: at most 60 s",
                value: `${(thousand.diff.ours.ms / 1000).toFixed(1)} s`,
                met: thousand.diff.ours.ms <= 60_000,
            },
        );
        if (hundred) {
            const growth = thousand.review.ours.ms / hundred.review.ours.ms;
            targets.push({ target: "review grows linearly: t(1000)/t(100) at most 12", value: growth.toFixed(2), met: growth <= 12 });
        }
    }
    return { table, targets };
}
