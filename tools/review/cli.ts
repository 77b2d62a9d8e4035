// The access review: `npm run review -- --stack yours` (or --stack their, or
// --config <file>). Runs the real program on the stack's own config under the mock
// engine, evaluates the produced policies, and prints a report: Markdown on stdout
// (or --out FILE), --format json for machines. Progress and timing go to stderr.

import * as fs from "fs";
import * as path from "path";
import { PROJECT, PROJECT_ROOT, type FakeStack } from "../mock-engine";
import { analyze } from "./analyze";
import { renderMarkdown } from "./markdown";
import { runForReview, type StackSource } from "./stacks";

const USAGE = `usage: npm run review -- (--stack <name> | --config <Pulumi.<stack>.yaml>) [--format markdown|json] [--out FILE]
                        [--stack-outputs FILE.json] [--at ISO-TIME]
  --stack          review Pulumi.<name>.yaml in the project directory (e.g. yours, their); encrypted
                   values need no passphrase: each is reviewed as an opaque secret
  --config         review another stack config file
  --format         markdown (default) or json
  --out            write the report to FILE instead of stdout
  --stack-outputs  outputs of referenced stacks that are not in this directory: {"org/project/stack": {"outputs": {...}}}
  --at             evaluate as of this time (default: now)
  --help           print this and exit`;

interface Options {
    source: StackSource;
    format: "markdown" | "json";
    out?: string;
    stackOutputs: Record<string, FakeStack>;
    at: string;
}

class UsageError extends Error {}
class HelpRequested extends Error {}

function parseArgs(argv: string[]): Options {
    const values = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "--help" || flag === "-h") throw new HelpRequested();
        if (!["--stack", "--config", "--format", "--out", "--stack-outputs", "--at"].includes(flag)) throw new UsageError(`unknown argument ${flag}`);
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        values.set(flag, value);
    }
    const stack = values.get("--stack");
    const config = values.get("--config");
    if ((stack === undefined) === (config === undefined)) throw new UsageError("give one of --stack or --config");
    const configFile = config !== undefined ? path.resolve(config) : path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(configFile)) throw new UsageError(`no stack config at ${configFile}`);
    const format = values.get("--format") ?? "markdown";
    if (format !== "markdown" && format !== "json") throw new UsageError(`--format is markdown or json, not ${format}`);
    const at = values.get("--at") ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    if (Number.isNaN(Date.parse(at))) throw new UsageError(`--at is not an ISO time: ${at}`);
    const outputsFile = values.get("--stack-outputs");
    return {
        source: { stack: stack ?? path.basename(configFile).replace(/^Pulumi\.|\.ya?ml$/g, ""), configFile },
        format,
        out: values.get("--out"),
        stackOutputs: outputsFile ? JSON.parse(fs.readFileSync(outputsFile, "utf8")) : {},
        at,
    };
}

// Validation errors look as they do in `pulumi up`.
function printAsPulumi(stack: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
        `Diagnostics:\n  pulumi:pulumi:Stack (${PROJECT}-${stack}):\n${message
            .split("\n")
            .map((line) => `    ${line}`)
            .join("\n")
            .replace(/^ {4}/, "    error: ")}\n`,
    );
}

async function main(): Promise<number> {
    let options: Options;
    try {
        options = parseArgs(process.argv.slice(2));
    } catch (error) {
        if (error instanceof HelpRequested) {
            process.stdout.write(`${USAGE}\n`);
            return 0;
        }
        if (!(error instanceof UsageError)) throw error;
        process.stderr.write(`${error.message}\n${USAGE}\n`);
        return 2;
    }
    const started = Date.now();
    const log = (line: string) => process.stderr.write(`review: ${line}\n`);
    const runs = await runForReview(options.source, options.stackOutputs, log);
    if (runs.main.error) {
        printAsPulumi(options.source.stack, runs.main.error);
        return 1;
    }
    const report = await analyze(runs, options.at);
    log(
        `evaluated ${report.matrix.length} matrix cells and ${report.partners.reduce((n, p) => n + p.chain.length, 0)} chain links; ${Date.now() - started} ms in all`,
    );
    const text = options.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report);
    if (options.out) {
        fs.writeFileSync(options.out, text);
        log(`wrote ${options.out}`);
    } else {
        process.stdout.write(text);
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`review failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    },
);
