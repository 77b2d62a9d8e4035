// The access review: `npm run review -- --stack yours` (or --stack their, or
// --config <file>). Runs the real program on the stack's own config under the mock
// engine, evaluates the produced policies, and prints a report: Markdown on stdout
// (or --out FILE), --format json for machines. Progress and timing go to stderr.
// With --against <git ref> (or --against-config <file>) it prints the access diff
// instead: what the working tree's stack grants or takes away compared with that side.
// With --who-can or --what-can it answers that question from the exhaustive enumeration.

import * as fs from "fs";
import * as path from "path";
import { requestCount } from "../access/enumerate";
import { proveAccess } from "../access/proof";
import { renderAnswers, whatCan, whoCan } from "../access/queries";
import { diffStacks, checkOutRef, SideError, type CommittedTree, type Side } from "../access/sides";
import { PROJECT, PROJECT_ROOT, type FakeStack } from "../mock-engine";
import { analyze } from "./analyze";
import { renderDiffMarkdown } from "./diff-markdown";
import { renderMarkdown } from "./markdown";
import { runForReview, type StackSource } from "../stack-runs";
import { utcTimestamp } from "../../components/rules";
import { readOptions } from "../command-line";

const USAGE = `usage: npm run review -- (--stack <name> | --config <Pulumi.<stack>.yaml>) [--format markdown|json] [--out FILE]
                        [--stack-outputs FILE.json] [--at ISO-TIME]
                        [--against <git ref> | --against-config <file>] [--fail-on-added-access]
                        [--who-can <ARN, pattern or name> [--action <action or pattern>] | --what-can <principal>]
  --stack          review Pulumi.<name>.yaml in the project directory (e.g. yours, their); encrypted
                   values need no passphrase: each is reviewed as an opaque secret
  --config         review another stack config file
  --format         markdown (default) or json
  --out            write the report to FILE instead of stdout
  --stack-outputs  outputs of referenced stacks that are not in this directory: {"org/project/stack": {"outputs": {...}}}
  --at             evaluate as of this time (default: now)
  --against        print the access diff instead: what the stack in the working tree grants or takes away
                   compared with the same stack at this git ref (its config, components and policies)
  --against-config the access diff against another config file, with the working tree's components
  --fail-on-added-access
                   with --against or --against-config: exit 3 when the change adds access (for CI)
  --who-can        list every allowed request on the resources matching an ARN, an ARN pattern
                   (arn:aws:ec2:*:*:instance/*) or words of their name, from the exhaustive enumeration
  --action         with --who-can: only this action (or pattern, ssm:*)
  --what-can       list every allowed request of the principals matching an ARN, a pattern or words of their name
  --help           print this and exit
exit codes: 0 done; 1 a stack's program failed (the error is printed as pulumi up prints it);
            2 usage error; 3 access added, with --fail-on-added-access`;

interface Options {
    source: StackSource;
    format: "markdown" | "json";
    out?: string;
    stackOutputs: Record<string, FakeStack>;
    at: string;
    /** The other side of an access diff, when one is asked for. */
    against?: { ref: string } | { configFile: string };
    failOnAddedAccess: boolean;
    /** The stack config came from --config, not --stack. */
    configGiven: boolean;
    /** A question about the access model instead of the review. */
    query?: { whoCan: string; action?: string } | { whatCan: string };
}

// A file as the user would name it: relative to where the command runs, when inside it.
const shown = (file: string) => (path.relative(process.cwd(), file).startsWith("..") ? file : path.relative(process.cwd(), file));

/** Exit code when --fail-on-added-access finds access added. */
const ACCESS_ADDED = 3;

class UsageError extends Error {}
class HelpRequested extends Error {}

function parseArgs(argv: string[]): Options {
    if (argv.includes("--help") || argv.includes("-h")) throw new HelpRequested();
    const text = { type: "string" } as const;
    const read = readOptions(
        argv,
        {
            stack: text,
            config: text,
            format: text,
            out: text,
            "stack-outputs": text,
            at: text,
            against: text,
            "against-config": text,
            "who-can": text,
            action: text,
            "what-can": text,
            "fail-on-added-access": { type: "boolean" },
        },
        (message) => new UsageError(message),
    );
    const values = new Map(
        Object.entries(read)
            .filter((entry): entry is [string, string] => typeof entry[1] === "string")
            .map(([key, value]) => [`--${key}`, value]),
    );
    const failOnAddedAccess = read["fail-on-added-access"] === true;
    const stack = values.get("--stack");
    const config = values.get("--config");
    if ((stack === undefined) === (config === undefined)) throw new UsageError("give one of --stack or --config");
    const configFile = config !== undefined ? path.resolve(config) : path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(configFile)) throw new UsageError(`no stack config at ${configFile}`);
    const format = values.get("--format") ?? "markdown";
    if (format !== "markdown" && format !== "json") throw new UsageError(`--format is markdown or json, not ${format}`);
    const at = values.get("--at") ?? utcTimestamp(Date.now());
    if (Number.isNaN(Date.parse(at))) throw new UsageError(`--at is not an ISO time: ${at}`);
    const outputsFile = values.get("--stack-outputs");
    const ref = values.get("--against");
    const againstConfig = values.get("--against-config");
    if (ref !== undefined && againstConfig !== undefined) throw new UsageError("give one of --against or --against-config");
    if (againstConfig !== undefined && !fs.existsSync(againstConfig)) throw new UsageError(`no stack config at ${path.resolve(againstConfig)}`);
    if (failOnAddedAccess && ref === undefined && againstConfig === undefined)
        throw new UsageError("--fail-on-added-access needs --against <git ref> or --against-config <file>");
    const whoCanArg = values.get("--who-can");
    const whatCanArg = values.get("--what-can");
    const action = values.get("--action");
    if (whoCanArg !== undefined && whatCanArg !== undefined) throw new UsageError("give one of --who-can or --what-can");
    if (action !== undefined && whoCanArg === undefined) throw new UsageError("--action goes with --who-can");
    if ((whoCanArg ?? whatCanArg) !== undefined && (ref !== undefined || againstConfig !== undefined))
        throw new UsageError("--who-can and --what-can ask about one stack, not a diff");
    return {
        query: whoCanArg !== undefined ? { whoCan: whoCanArg, action } : whatCanArg !== undefined ? { whatCan: whatCanArg } : undefined,
        source: { stack: stack ?? path.basename(configFile).replace(/^Pulumi\.|\.ya?ml$/g, ""), configFile },
        format,
        out: values.get("--out"),
        stackOutputs: outputsFile ? JSON.parse(fs.readFileSync(outputsFile, "utf8")) : {},
        at,
        against: ref !== undefined ? { ref } : againstConfig !== undefined ? { configFile: path.resolve(againstConfig) } : undefined,
        failOnAddedAccess,
        configGiven: config !== undefined,
    };
}

// Validation errors look as they do in `pulumi up`.
function printAsPulumi(stack: string, error: unknown, side?: string): void {
    const message = error instanceof Error ? error.message : String(error);
    if (side !== undefined) process.stderr.write(`${side}:\n`);
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
    try {
        return await review(options);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        process.stderr.write(`${error.message}\n`);
        return 2;
    }
}

async function review(options: Options): Promise<number> {
    const started = Date.now();
    const log = (line: string) => process.stderr.write(`review: ${line}\n`);
    if (options.against !== undefined) return accessDiff(options, log);
    const runs = await runForReview(options.source, options.stackOutputs, log);
    if (runs.main.error) {
        printAsPulumi(options.source.stack, runs.main.error);
        return 1;
    }
    if (options.query !== undefined) {
        const proof = await proveAccess(runs, options.at, log);
        log(`enumerated ${proof.evaluations} requests (${requestCount(proof.model.allowed)} allowed) in ${proof.milliseconds} ms`);
        const query = options.query;
        const [question, answers] =
            "whoCan" in query
                ? [`Who can ${query.action ?? "act"} on ${query.whoCan}`, whoCan(proof.universe, proof.model.allowed, query.whoCan, query.action)]
                : [`What ${query.whatCan} can do`, whatCan(proof.universe, proof.model.allowed, query.whatCan)];
        write(options, options.format === "json" ? `${JSON.stringify({ question, answers }, null, 2)}\n` : renderAnswers(question, answers), log);
        return 0;
    }
    const report = await analyze(runs, options.at, log);
    log(
        `evaluated ${report.matrix.length} matrix cells, ${report.partners.reduce((n, p) => n + p.chain.length, 0)} chain links and ${report.proof?.evaluations ?? 0} requests of the exhaustive proof; ${Date.now() - started} ms in all`,
    );
    write(options, options.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report), log);
    return 0;
}

function write(options: Options, text: string, log: (line: string) => void): void {
    if (options.out) {
        fs.writeFileSync(options.out, text);
        log(`wrote ${options.out}`);
    } else {
        process.stdout.write(text);
    }
}

// The other side of the diff: the stack at a git ref (from a copy of that commit), or another config file.
function otherSide(options: Options): { side: Side; tree?: CommittedTree } {
    const against = options.against!;
    if ("configFile" in against)
        return { side: { name: `config file ${shown(against.configFile)}`, programRoot: PROJECT_ROOT, configFile: against.configFile } };
    const inProject = path.relative(PROJECT_ROOT, options.source.configFile);
    if (inProject.startsWith("..") || path.isAbsolute(inProject))
        throw new UsageError(`--against compares a stack config inside the project, not ${options.source.configFile}; use --against-config`);
    let tree: CommittedTree;
    try {
        tree = checkOutRef(PROJECT_ROOT, against.ref);
    } catch (error) {
        throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const configFile = path.join(tree.programRoot, inProject);
    return {
        side: {
            name: `${against.ref} (${tree.commit.slice(0, 7)})`,
            programRoot: tree.programRoot,
            configFile: fs.existsSync(configFile) ? configFile : undefined,
        },
        tree,
    };
}

async function accessDiff(options: Options, log: (line: string) => void): Promise<number> {
    const { side: before, tree } = otherSide(options);
    if (tree?.lockfileDiffers) log(`${before.name} pins other packages (package-lock.json differs): its program runs with the working tree's node_modules`);
    if (before.configFile === undefined)
        log(`${path.relative(PROJECT_ROOT, options.source.configFile)} did not exist at ${before.name}: all its access is new`);
    try {
        const diff = await diffStacks({
            stack: options.source.stack,
            before,
            after: {
                name: options.configGiven ? `config file ${shown(options.source.configFile)}` : "the working tree",
                programRoot: PROJECT_ROOT,
                configFile: options.source.configFile,
            },
            at: options.at,
            stackOutputs: options.stackOutputs,
            log,
        });
        write(options, options.format === "json" ? `${JSON.stringify(diff, null, 2)}\n` : renderDiffMarkdown(diff), log);
        return options.failOnAddedAccess && diff.addsAccess ? ACCESS_ADDED : 0;
    } catch (error) {
        if (!(error instanceof SideError)) throw error;
        printAsPulumi(options.source.stack, error.cause, error.side);
        return 1;
    } finally {
        tree?.dispose();
    }
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`review failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    },
);
