// Runs a stack for the review, with its stack references answered by running the
// referenced stacks from their own config files in this directory (in their first
// deploy phase: without stack references of their own, which breaks the cycle), or
// from outputs the reviewer supplies.

import * as fs from "fs";
import * as path from "path";
import { cloudResources, PROJECT, PROJECT_ROOT, readStackConfig, resolve, runProgram, type FakeStack, type ProgramRun, type RunOptions } from "./mock-engine";
import type { TheirSettings, YoursSettings } from "../stacks/config";

/** The settings a stack's program read (its config, defaults applied), with its account: the access its config intends is built from them. */
export type StackSettings = { yours: YoursSettings; their?: never } | { their: TheirSettings; yours?: never; account: string; partition: string };

/**
 * Runs a stack's program and, in the same run and module scope, reads the settings it
 * read, so the proof's intended access needs no second run of the stack's config. A tree
 * whose config module has no such loaders (an old commit the access diff runs, which needs
 * no settings) runs as it is, without them.
 */
async function runReadingSettings(options: RunOptions): Promise<{ run: ProgramRun; settings?: StackSettings }> {
    const root = options.programRoot ?? PROJECT_ROOT;
    let read: { yours: YoursSettings } | { their: TheirSettings } | undefined;
    const run = await runProgram({
        ...options,
        program: async () => {
            // Loaded after the mock engine cleared the module cache, as it loads index itself.
            /* eslint-disable @typescript-eslint/no-require-imports */
            const program: (() => Promise<Record<string, unknown>>) | Record<string, unknown> = require(path.join(root, "index"));
            const outputs = await (typeof program === "function" ? program() : program);
            try {
                const config: typeof import("../stacks/config") = require(path.join(root, "stacks", "config"));
                read = config.readSide() === "yours" ? { yours: config.loadYoursSettings() } : { their: config.loadTheirSettings() };
            } catch (error) {
                // This tree's loader read the same config a moment ago: failing now is a defect to see, not to skip.
                if (root === PROJECT_ROOT) throw error;
                read = undefined;
            }
            /* eslint-enable @typescript-eslint/no-require-imports */
            return outputs;
        },
    });
    if (read === undefined || run.error !== undefined) return { run };
    return { run, settings: "yours" in read ? read : { ...read, account: run.account, partition: run.partition } };
}

/** A stack to review: its name and config file. */
export interface StackSource {
    stack: string;
    configFile: string;
}

/** The stack names a config file references, with the keys that set them (to drop them in a referenced run). */
export function referencesIn(configFile: string): Array<{ stackName: string; key: string }> {
    const config: Record<string, any> = readStackConfig(configFile);
    const found: Array<{ stackName: string; key: string }> = [];
    const yoursStack = config[`${PROJECT}:yoursStack`];
    if (typeof yoursStack === "string") found.push({ stackName: yoursStack, key: "yoursStack" });
    const partners = config[`${PROJECT}:partners`];
    if (Array.isArray(partners)) {
        partners.forEach((partner, i) => {
            if (typeof partner?.theirStack === "string") found.push({ stackName: partner.theirStack, key: `partners[${i}].theirStack` });
        });
    }
    return found;
}

/** The local config file of a referenced stack (`organization/<project>/<stack>` -> `Pulumi.<stack>.yaml`), if present. */
export function localConfigFor(stackName: string, directory = PROJECT_ROOT): StackSource | undefined {
    const parts = stackName.split("/");
    if (parts.length === 3 && parts[1] !== PROJECT) return undefined;
    const stack = parts[parts.length - 1];
    const configFile = path.join(directory, `Pulumi.${stack}.yaml`);
    return fs.existsSync(configFile) ? { stack, configFile } : undefined;
}

async function resolvedOutputs(run: ProgramRun): Promise<FakeStack> {
    const outputs: Record<string, unknown> = {};
    const secretOutputNames: string[] = [];
    for (const [name, value] of Object.entries(run.outputs)) {
        const { value: plain, secret } = await resolve(value);
        outputs[name] = plain;
        if (secret) secretOutputNames.push(name);
    }
    return { outputs, secretOutputNames };
}

/** The reviewed run and the runs of the stacks it references. */
export interface ReviewRuns {
    main: ProgramRun;
    referenced: ProgramRun[];
    /** The settings each program read in its run, the reviewed stack's first: absent when it ran from another tree or failed. */
    settings?: StackSettings[];
}

/** The outputs of the stacks some config files reference, and the runs that produced them. */
export interface ReferencedStacks {
    stacks: Record<string, FakeStack>;
    runs: ProgramRun[];
    /** The settings each of those runs read. */
    settings: StackSettings[];
    /** References that could be answered neither locally nor from supplied outputs, with how to fix each. */
    missing: string[];
}

/**
 * Runs, under the mock engine, each stack the config files reference, from its local config
 * beside the first file (else in this directory), its own references dropped; unless
 * `suppliedOutputs` names it.
 */
export async function runReferencedStacks(
    configFiles: string[],
    suppliedOutputs: Record<string, FakeStack> = {},
    log: (line: string) => void = () => undefined,
): Promise<ReferencedStacks> {
    const stacks: Record<string, FakeStack> = { ...suppliedOutputs };
    const runs: ProgramRun[] = [];
    const settings: StackSettings[] = [];
    const missing: string[] = [];
    const seen = new Set(Object.keys(stacks));
    for (const { stackName, key } of configFiles.flatMap(referencesIn)) {
        if (seen.has(stackName)) continue;
        seen.add(stackName);
        const local = localConfigFor(stackName, path.dirname(configFiles[0])) ?? localConfigFor(stackName);
        if (!local) {
            missing.push(
                `${key} references stack ${stackName}, whose config (Pulumi.${stackName.split("/").pop()}.yaml) is not here; ` +
                    `give its outputs with --stack-outputs <file.json> ({"${stackName}": {"outputs": {...}}})`,
            );
            continue;
        }
        const drop = Object.fromEntries(referencesIn(local.configFile).map((r) => [r.key, undefined]));
        const started = Date.now();
        const { run, settings: read } = await runReadingSettings({ stack: local.stack, configFile: local.configFile, set: drop, stacks: {} });
        if (run.error) throw new Error(`referenced stack ${stackName} (${local.configFile}) failed under the mock engine: ${String(run.error)}`);
        log(`ran referenced stack ${stackName} from ${path.basename(local.configFile)} in ${Date.now() - started} ms`);
        stacks[stackName] = await resolvedOutputs(run);
        runs.push(run);
        if (read !== undefined) settings.push(read);
    }
    return { stacks, runs, settings, missing };
}

/** Runs a stack with the referenced stacks' outputs; a reference left unanswered fails it unless its config is itself in error. */
export async function runWithReferences(
    source: StackSource,
    references: ReferencedStacks,
    log: (line: string) => void = () => undefined,
    programRoot?: string,
): Promise<ReviewRuns> {
    const started = Date.now();
    const { run: main, settings } = await runReadingSettings({ stack: source.stack, configFile: source.configFile, stacks: references.stacks, programRoot });
    log(`ran ${source.stack} (${cloudResources(main).length} resources) in ${Date.now() - started} ms`);
    // A config error says more than a reference the review could not answer.
    if (references.missing.length > 0 && (main.error as Error | undefined)?.name !== "ConfigError") throw new Error(references.missing.join("\n"));
    return { main, referenced: references.runs, ...(settings !== undefined ? { settings: [settings, ...references.settings] } : {}) };
}

/**
 * Runs `source` under the mock engine. Each stack it references is run first from its
 * local config (its own references dropped), unless `suppliedOutputs` names it.
 */
export async function runForReview(
    source: StackSource,
    suppliedOutputs: Record<string, FakeStack> = {},
    log: (line: string) => void = () => undefined,
): Promise<ReviewRuns> {
    return runWithReferences(source, await runReferencedStacks([source.configFile], suppliedOutputs, log), log);
}
