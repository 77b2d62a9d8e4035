// What the live check needs from the two stacks: from each stack's config file, the
// accounts it may touch (`aws:allowedAccountIds`) and its region; from each deployed
// stack, its outputs (`pulumi stack output --json --show-secrets`, or a file saved from
// it). Anything missing or malformed is a SetupError: the check refuses to run.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { SessionPreferenceValues } from "../../components/session-preferences";
import { outputProblem, theirOutputsSchema, yoursOutputsSchema, type TheirOutputs, type YoursOutputs as YoursStackOutputs } from "../../stacks/outputs";
import { PROJECT, PROJECT_ROOT, readStackConfig } from "../mock-engine";

/** A problem with the command line, the stacks or the accounts: nothing is checked (exit code 2). */
export class SetupError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SetupError";
    }
}

/** The facts of a stack config file the live check relies on. */
export interface StackConfigFacts {
    file: string;
    allowedAccountIds: string[];
    region: string;
    /** The their stack's `partnerName`. */
    partnerName?: string;
}

/** `Pulumi.<stack>.yaml` in the project directory, for a stack name that may be fully qualified (org/project/stack). */
export function defaultConfigFile(stackName: string, directory = PROJECT_ROOT): string {
    return path.join(directory, `Pulumi.${stackName.split("/").pop()}.yaml`);
}

/** Reads a stack's config file: `aws:allowedAccountIds` and `aws:region` are required. */
export function readStackFacts(file: string): StackConfigFacts {
    if (!fs.existsSync(file)) throw new SetupError(`no stack config at ${file} (give --yours-config or --their-config)`);
    let config: Record<string, unknown>;
    try {
        config = readStackConfig(file);
    } catch (error) {
        throw new SetupError(error instanceof Error ? error.message : String(error));
    }
    // `pulumi config set aws:allowedAccountIds '["111111111111"]'` stores the list as a JSON string.
    let allowed = config["aws:allowedAccountIds"];
    if (typeof allowed === "string") {
        try {
            allowed = JSON.parse(allowed);
        } catch {
            allowed = [allowed];
        }
    }
    const allowedAccountIds = Array.isArray(allowed) ? allowed.map(String).filter((id) => /^\d{12}$/.test(id)) : [];
    if (allowedAccountIds.length === 0) {
        throw new SetupError(`${file}: no aws:allowedAccountIds; the live check runs only against accounts a stack pins`);
    }
    const region = config["aws:region"];
    if (typeof region !== "string" || region === "") throw new SetupError(`${file}: no aws:region`);
    const partnerName = config[`${PROJECT}:partnerName`];
    return { file, allowedAccountIds, region, partnerName: typeof partnerName === "string" ? partnerName : undefined };
}

/** Runs the Pulumi CLI with arguments and returns its standard output. */
export type PulumiRunner = (args: string[]) => Promise<string>;

export const runPulumi: PulumiRunner = (args) =>
    new Promise((resolve, reject) => {
        execFile("pulumi", args, { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) reject(new Error(`pulumi ${args.join(" ")}: ${String(stderr).trim() || error.message}`));
            else resolve(String(stdout));
        });
    });

/** A stack's outputs: from a saved file when given, else from `pulumi stack output` (with secrets: the external id is one). */
export async function loadOutputs(stack: string, file: string | undefined, pulumi: PulumiRunner): Promise<Record<string, unknown>> {
    let text: string;
    let source: string;
    if (file !== undefined) {
        source = file;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (error) {
            throw new SetupError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
        }
    } else {
        source = `pulumi stack output --stack ${stack}`;
        try {
            text = await pulumi(["stack", "output", "--json", "--show-secrets", "--stack", stack]);
        } catch (error) {
            throw new SetupError(`${error instanceof Error ? error.message : String(error)} (or give the outputs as a file saved from it)`);
        }
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new SetupError(`${source}: not JSON`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new SetupError(`${source}: not a map of outputs`);
    return parsed as Record<string, unknown>;
}

export type { GrantOutput, TheirOutputs } from "../../stacks/outputs";

/** The yours stack's outputs as the live check uses them: the contract, with the preferences document's settings gathered. */
export type YoursOutputs = Omit<YoursStackOutputs, "sessionPreferenceSettings" | "sessionKmsKeyArn" | "sessionArchiveBucket"> & {
    /** What the preferences document is built from; undefined when the stack predates output sessionPreferenceSettings. */
    sessionPreferences?: SessionPreferenceValues;
};

/** The yours stack outputs the live check uses; refuses outputs saved without --show-secrets. */
export function parseYoursOutputs(outputs: Record<string, unknown>, stack: string): YoursOutputs {
    const where = `stack ${stack}`;
    for (const key of ["region", "accessTagKey", "sessionLogGroupName"]) {
        if (typeof outputs[key] !== "string" || outputs[key] === "")
            throw new SetupError(`${where}: output ${key} is missing (is this the yours stack, deployed?)`);
    }
    if (outputs.grants === "[secret]") throw new SetupError(`${where}: output grants is "[secret]": save the outputs with --show-secrets`);
    const parsed = yoursOutputsSchema.safeParse(outputs);
    if (!parsed.success) throw new SetupError(`${where}: ${outputProblem(parsed.error, outputs)}`);
    const { sessionPreferenceSettings: settings, sessionKmsKeyArn, sessionArchiveBucket, ...rest } = parsed.data;
    return {
        ...rest,
        sessionPreferences: settings && {
            logGroupName: rest.sessionLogGroupName,
            ...settings,
            kmsKeyArn: sessionKmsKeyArn,
            archiveBucketName: sessionArchiveBucket,
        },
    };
}

export function parseTheirOutputs(outputs: Record<string, unknown>, stack: string): TheirOutputs {
    const parsed = theirOutputsSchema.safeParse(outputs);
    if (!parsed.success) {
        const problem = outputProblem(parsed.error, outputs);
        throw new SetupError(`stack ${stack}: ${problem}${problem.startsWith("output jumpRoleArn") ? " (is this the their stack, deployed?)" : ""}`);
    }
    return parsed.data;
}
