// `npm run verify:live -- --yours-profile P --partner-profile Q [--partner NAME]`: the
// blog post's test plan against the deployed stacks (see docs/live-check.md). Order
// matters: arguments and stack configs first, then who the two profiles are (and a
// refusal, exit code 2, if an account is not one its stack allows), and only then the
// stacks' outputs (secrets included) and the checks. The table goes to stdout,
// progress to stderr.

import * as fs from "fs";
import * as path from "path";
import { SESSION_PREFERENCES_DOCUMENT } from "../../components/constants";
import { utcTimestamp } from "../../components/rules";
import { modelOf, type AccessModel } from "../access/model";
import { runForReview } from "../stack-runs";
import { accountRefusals, identify, personOf } from "./accounts";
import { parseArn, sdkClients, type AwsClients } from "./aws";
import { HelpRequested, parseArgs, USAGE, type LiveOptions } from "./options";
import { modelAnswers, modelComparison } from "./model-answers";
import { runPlan, type PlanInput } from "./plan";
import { findOnPath, spawnPlugin, type PluginRunner } from "./plugin";
import { renderTable } from "./report";
import {
    defaultConfigFile,
    loadOutputs,
    parseTheirOutputs,
    parseYoursOutputs,
    readStackFacts,
    runPulumi,
    SetupError,
    type PulumiRunner,
    type StackConfigFacts,
} from "./stacks";
import { exitCodeFor, type CheckResult } from "./verdicts";

export interface CliDeps {
    clients: AwsClients;
    pulumi: PulumiRunner;
    now(): number;
    sleep(ms: number): Promise<void>;
    /** session-manager-plugin on PATH, if any. */
    findPlugin(): string | undefined;
    runPlugin: PluginRunner;
    stdout(text: string): void;
    stderr(text: string): void;
    /** The review's access model of the yours stack from its config, at an instant: the live check holds AWS's answers against it (none: not compared). */
    offlineModel?(stack: string, configFile: string, at: string): Promise<AccessModel>;
}

/** The access model `npm run review` builds of a stack, from its config file and the stacks it references. */
export async function reviewModel(stack: string, configFile: string, at: string): Promise<AccessModel> {
    const runs = await runForReview({ stack, configFile });
    if (runs.main.error !== undefined) throw runs.main.error;
    return modelOf(runs, at);
}

export const defaultDeps: CliDeps = {
    clients: sdkClients,
    pulumi: runPulumi,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    findPlugin: () => findOnPath("session-manager-plugin"),
    runPlugin: spawnPlugin,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    offlineModel: reviewModel,
};

const LOG_POLL_MS = 5000;
// EventBridge sends its metrics to CloudWatch once a minute: looking more often finds nothing new.
const ALERT_POLL_MS = 60000;
// Connecting, the shell starting, the probe (4 s at most) and `exit`.
const PLUGIN_TIMEOUT_MS = 30000;

/** Runs the live check; returns the exit code (0 all passed, 1 a check failed, 2 nothing checked). */
export async function runLiveCheck(argv: string[], deps: CliDeps): Promise<number> {
    try {
        const options = parseArgs(argv);
        if (options.plugin !== undefined && !fs.existsSync(options.plugin)) throw new SetupError(`--session-manager-plugin ${options.plugin}: no such file`);
        const input = await prepare(options, deps);
        const pluginPath = options.noPlugin ? undefined : (options.plugin ?? deps.findPlugin());
        deps.stdout(
            `Live check of ${input.partner} as ${input.person}: your account ${input.yoursAccount} (${input.yoursRegion}, profile ${options.yoursProfile}), ` +
                `partner profile ${options.partnerProfile}; session-manager-plugin: ${pluginPath ?? "none"}\n\n`,
        );
        const results = await runPlan(input, {
            clients: deps.clients,
            now: deps.now,
            sleep: deps.sleep,
            logTimeoutMs: options.logTimeoutSeconds * 1000,
            logPollMs: LOG_POLL_MS,
            alertTimeoutMs: options.alertTimeoutSeconds * 1000,
            alertPollMs: ALERT_POLL_MS,
            plugin: pluginPath === undefined ? undefined : { path: pluginPath, run: deps.runPlugin, timeoutMs: PLUGIN_TIMEOUT_MS },
            progress: (line) => deps.stderr(`${line}\n`),
        });
        deps.stdout(renderTable(results));
        if (deps.offlineModel !== undefined) deps.stdout(`\n${await comparedWithModel(options, input, results, deps)}\n`);
        return exitCodeFor(results);
    } catch (error) {
        if (error instanceof HelpRequested) {
            deps.stdout(`${USAGE}\n`);
            return 0;
        }
        if (error instanceof SetupError) {
            deps.stderr(`verify:live: ${error.message}\nNothing was checked. npm run verify:live -- --help for usage.\n`);
            return 2;
        }
        deps.stderr(`verify:live: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        return 1;
    }
}

/** What the offline model answers beside what AWS answered; a model that cannot be built is said, and compares nothing. */
async function comparedWithModel(options: LiveOptions, input: PlanInput, results: CheckResult[], deps: CliDeps): Promise<string> {
    const configFile = options.yoursConfig ?? defaultConfigFile(options.yoursStack);
    const at = utcTimestamp(deps.now());
    deps.stderr(`building the offline access model of stack ${options.yoursStack} from ${configFile}\n`);
    try {
        const model = await deps.offlineModel!(options.yoursStack, configFile, at);
        const answers = modelAnswers(model, {
            partner: input.partner,
            jumpRoleArn: input.jumpRoleArn,
            person: input.person,
            sessionLogGroupName: input.sessionLogGroupName,
        });
        return modelComparison(results, answers, `stack ${options.yoursStack} from ${path.basename(configFile)}, at ${at}`);
    } catch (error) {
        return `Offline model: not built (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); nothing compared.`;
    }
}

/** Stack configs, identities (refusing accounts the stacks do not allow), then outputs: the plan's input. */
async function prepare(options: LiveOptions, deps: CliDeps): Promise<PlanInput> {
    const yoursConfig = readStackFacts(options.yoursConfig ?? defaultConfigFile(options.yoursStack));
    const theirConfig = readStackFacts(options.theirConfig ?? defaultConfigFile(options.theirStack));
    const partner = options.partner ?? theirConfig.partnerName;
    if (partner === undefined) throw new SetupError(`give --partner: ${theirConfig.file} has no partnerName`);

    // Nothing but sts:GetCallerIdentity until both accounts are known to be allowed.
    const yoursCredentials = deps.clients.profileCredentials(options.yoursProfile);
    const partnerCredentials = deps.clients.profileCredentials(options.partnerProfile);
    const yoursIdentity = await identify(deps.clients.sts(yoursConfig.region, yoursCredentials), options.yoursProfile);
    const partnerIdentity = await identify(deps.clients.sts(theirConfig.region, partnerCredentials), options.partnerProfile);
    const refusals = accountRefusals([
        expectation("--yours-profile", options.yoursProfile, yoursIdentity, options.yoursStack, yoursConfig),
        expectation("--partner-profile", options.partnerProfile, partnerIdentity, options.theirStack, theirConfig),
    ]);
    if (refusals.length > 0) throw new SetupError(`refusing to run:\n  ${refusals.join("\n  ")}`);
    const person = personOf(partnerIdentity, options.person);

    const yours = parseYoursOutputs(await loadOutputs(options.yoursStack, options.yoursOutputs, deps.pulumi), options.yoursStack);
    const their = parseTheirOutputs(await loadOutputs(options.theirStack, options.theirOutputs, deps.pulumi), options.theirStack);
    const grant = yours.grants[partner];
    if (grant === undefined) {
        throw new SetupError(
            `stack ${options.yoursStack} has no grant for ${partner} (it has: ${Object.keys(yours.grants).join(", ") || "none"}); check --partner`,
        );
    }
    // The roles the chain assumes must be in the two accounts just allowed, and nowhere else.
    const grantAccount = parseArn(grant.roleArn)?.account;
    if (grantAccount !== yoursIdentity.account) {
        throw new SetupError(`grants.${partner}.roleArn ${grant.roleArn} is not in the --yours-profile account ${yoursIdentity.account}`);
    }
    const jumpAccount = parseArn(their.jumpRoleArn)?.account;
    if (jumpAccount !== partnerIdentity.account) {
        throw new SetupError(`jumpRoleArn ${their.jumpRoleArn} is not in the --partner-profile account ${partnerIdentity.account}`);
    }
    if (their.userNames.length > 0 && parseArn(partnerIdentity.arn)?.service === "iam" && !their.userNames.includes(person)) {
        deps.stderr(`note: ${person} is not among the their stack's users (${their.userNames.join(", ")}); the jump role will refuse them\n`);
    }

    return {
        partner,
        person,
        yoursAccount: yoursIdentity.account,
        yoursRegion: yours.region,
        theirRegion: theirConfig.region,
        yoursCredentials,
        partnerCredentials,
        accessTagKey: yours.accessTagKey,
        sessionLogGroupName: yours.sessionLogGroupName,
        jumpRoleArn: their.jumpRoleArn,
        theirGrantRoleArn: their.grantRoleArn,
        grant,
        otherPartnerInstanceIds: Object.entries(yours.grants)
            .filter(([name]) => name !== partner)
            .flatMap(([, other]) => other.instanceIds),
        stackInstanceIds: yours.instanceIds,
        instance: options.instance,
        otherInstance: options.otherInstance,
        untaggedInstance: options.untaggedInstance,
        preferencesDocument: yours.sessionPreferencesDocument ?? SESSION_PREFERENCES_DOCUMENT,
        preferences: yours.sessionPreferences,
        alertTopicArn: yours.alertTopicArn,
        alertRuleName: yours.alertRuleName,
        vpcId: yours.vpcId,
        interfaceEndpointServiceNames: yours.interfaceEndpointServiceNames,
    };
}

function expectation(option: string, profile: string, identity: Awaited<ReturnType<typeof identify>>, stack: string, config: StackConfigFacts) {
    return { option, profile, identity, stack, configFile: config.file, allowedAccountIds: config.allowedAccountIds };
}

if (require.main === module) {
    void runLiveCheck(process.argv.slice(2), defaultDeps).then((code) => {
        process.exitCode = code;
    });
}
