// What the live check needs from the two stacks: from each stack's config file, the
// accounts it may touch (`aws:allowedAccountIds`) and its region; from each deployed
// stack, its outputs (`pulumi stack output --json --show-secrets`, or a file saved from
// it). Anything missing or malformed is a SetupError: the check refuses to run.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { SessionPreferenceValues } from "../../components/session-preferences";
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

/** A partner's grant, as the yours stack's `grants` output gives it. */
export interface GrantOutput {
    roleArn: string;
    externalId: string;
    sessionDocument?: string;
    instanceIds: string[];
    expiresAt?: string;
    /** The OS user its sessions run as. */
    runAsUser?: string;
}

export interface YoursOutputs {
    region: string;
    accessTagKey: string;
    sessionLogGroupName: string;
    instanceIds: Record<string, string>;
    grants: Record<string, GrantOutput>;
    /** The preferences document's name. */
    sessionPreferencesDocument?: string;
    /** What the preferences document is built from; undefined when the stack predates output sessionPreferenceSettings. */
    sessionPreferences?: SessionPreferenceValues;
    /** The alert topic (undefined with alerts off) and the rule feeding it (undefined when the stack predates output alertRuleName). */
    alertTopicArn?: string;
    alertRuleName?: string;
    /** The VPC the instances are in, when the stack knows one. */
    vpcId?: string;
    /** Service names of the interface endpoints the stack made in vpcId ([] in a network of your own); undefined when the stack predates the output. */
    interfaceEndpointServiceNames?: string[];
}

export interface TheirOutputs {
    jumpRoleArn: string;
    grantRoleArn?: string;
    userNames: string[];
}

const isText = (value: unknown): value is string => typeof value === "string" && value !== "";
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter(isText) : []);

/** The yours stack outputs the live check uses; refuses outputs saved without --show-secrets. */
export function parseYoursOutputs(outputs: Record<string, unknown>, stack: string): YoursOutputs {
    const where = `stack ${stack}`;
    for (const key of ["region", "accessTagKey", "sessionLogGroupName"]) {
        if (!isText(outputs[key])) throw new SetupError(`${where}: output ${key} is missing (is this the yours stack, deployed?)`);
    }
    const rawGrants = outputs.grants;
    if (rawGrants === "[secret]") throw new SetupError(`${where}: output grants is "[secret]": save the outputs with --show-secrets`);
    if (rawGrants === null || typeof rawGrants !== "object" || Array.isArray(rawGrants)) throw new SetupError(`${where}: output grants is missing`);
    const grants: Record<string, GrantOutput> = {};
    for (const [name, raw] of Object.entries(rawGrants as Record<string, Record<string, unknown>>)) {
        if (!isText(raw?.roleArn) || !isText(raw?.externalId)) throw new SetupError(`${where}: output grants.${name} has no roleArn or externalId`);
        grants[name] = {
            roleArn: raw.roleArn,
            externalId: raw.externalId,
            sessionDocument: isText(raw.sessionDocument) ? raw.sessionDocument : undefined,
            instanceIds: texts(raw.instanceIds),
            expiresAt: isText(raw.expiresAt) ? raw.expiresAt : undefined,
            runAsUser: isText(raw.runAsUser) ? raw.runAsUser : undefined,
        };
    }
    const instanceIds: Record<string, string> = {};
    if (outputs.instanceIds !== null && typeof outputs.instanceIds === "object") {
        for (const [name, id] of Object.entries(outputs.instanceIds as Record<string, unknown>)) if (isText(id)) instanceIds[name] = id;
    }
    return {
        region: outputs.region as string,
        accessTagKey: outputs.accessTagKey as string,
        sessionLogGroupName: outputs.sessionLogGroupName as string,
        instanceIds,
        grants,
        sessionPreferencesDocument: isText(outputs.sessionPreferencesDocument) ? outputs.sessionPreferencesDocument : undefined,
        sessionPreferences: preferenceValues(outputs, where),
        alertTopicArn: isText(outputs.alertTopicArn) ? outputs.alertTopicArn : undefined,
        alertRuleName: isText(outputs.alertRuleName) ? outputs.alertRuleName : undefined,
        vpcId: isText(outputs.vpcId) ? outputs.vpcId : undefined,
        interfaceEndpointServiceNames: Array.isArray(outputs.interfaceEndpointServiceNames) ? texts(outputs.interfaceEndpointServiceNames) : undefined,
    };
}

/** The preferences document's settings, from outputs sessionPreferenceSettings, sessionLogGroupName, sessionKmsKeyArn and sessionArchiveBucket. */
function preferenceValues(outputs: Record<string, unknown>, where: string): SessionPreferenceValues | undefined {
    const raw = outputs.sessionPreferenceSettings;
    if (raw === undefined || raw === null) return undefined;
    const malformed = new SetupError(
        `${where}: output sessionPreferenceSettings is not { runAsDefaultUser, idleTimeoutMinutes, maxSessionDurationMinutes, shellProfile }`,
    );
    if (typeof raw !== "object" || Array.isArray(raw)) throw malformed;
    const settings = raw as Record<string, unknown>;
    const shellProfile = settings.shellProfile ?? undefined;
    const shellProfileOk =
        shellProfile === undefined ||
        (typeof shellProfile === "object" && !Array.isArray(shellProfile) && Object.values(shellProfile).every((commands) => typeof commands === "string"));
    if (
        !isText(settings.runAsDefaultUser) ||
        typeof settings.idleTimeoutMinutes !== "number" ||
        typeof settings.maxSessionDurationMinutes !== "number" ||
        !shellProfileOk
    ) {
        throw malformed;
    }
    return {
        logGroupName: outputs.sessionLogGroupName as string,
        runAsDefaultUser: settings.runAsDefaultUser,
        idleTimeoutMinutes: settings.idleTimeoutMinutes,
        maxSessionDurationMinutes: settings.maxSessionDurationMinutes,
        shellProfile: shellProfile as SessionPreferenceValues["shellProfile"],
        kmsKeyArn: isText(outputs.sessionKmsKeyArn) ? outputs.sessionKmsKeyArn : undefined,
        archiveBucketName: isText(outputs.sessionArchiveBucket) ? outputs.sessionArchiveBucket : undefined,
    };
}

export function parseTheirOutputs(outputs: Record<string, unknown>, stack: string): TheirOutputs {
    if (!isText(outputs.jumpRoleArn)) throw new SetupError(`stack ${stack}: output jumpRoleArn is missing (is this the their stack, deployed?)`);
    return {
        jumpRoleArn: outputs.jumpRoleArn,
        grantRoleArn: isText(outputs.grantRoleArn) ? outputs.grantRoleArn : undefined,
        userNames: texts(outputs.userNames),
    };
}
