// The command line of `npm run verify:live`.

import * as path from "path";
import { readOptions } from "../command-line";
import { SetupError } from "./stacks";

export const USAGE = `usage: npm run verify:live -- --yours-profile P --partner-profile Q [options]

Runs the blog post's test plan against the deployed yours and their stacks with the AWS
SDK: the preferences in effect, the endpoint policies, the role chain, a session on the
partner's instance (terminated at once, the metadata probe typed into it), the refusals,
the session's log stream, and its alert. Changes nothing that persists. Refuses to run
when a profile's account is not in its stack's aws:allowedAccountIds.

  --yours-profile P        AWS profile of the account that owns the instances; used read-only
                           (sts:GetCallerIdentity, ec2:DescribeInstances, logs:DescribeLogStreams,
                           ssm:DescribeDocument, ssm:GetDocument, ec2:DescribeVpcEndpointServices,
                           ec2:DescribeVpcEndpoints, cloudwatch:GetMetricData)
  --partner-profile Q      AWS profile holding one partner person's own credentials (an IAM user
                           of the remote-access group, or a federated session with --person)
  --partner NAME           the partner as the yours stack names it (default: the their stack's partnerName)
  --person NAME            the person's source identity and session name (default: the IAM user name
                           of --partner-profile)
  --yours-stack NAME       Pulumi stack of your account (default: yours)
  --their-stack NAME       Pulumi stack of the partner's account (default: their)
  --yours-config FILE      its stack config, for aws:allowedAccountIds and aws:region
                           (default: Pulumi.<stack>.yaml in the project directory)
  --their-config FILE      likewise for the their stack
  --yours-outputs FILE     the yours stack's outputs, saved with
                           pulumi stack output --json --show-secrets (default: run that command)
  --their-outputs FILE     likewise for the their stack (e.g. when it is on the partner's backend)
  --instance ID            the partner's instance to open a session on (default: a running one of
                           its grant's instanceIds, else the first it lists)
  --other-instance ID      another partner's instance (default: from the other grants, else found by tag)
  --untagged-instance ID   an instance without the access tag (default: found with --yours-profile)
  --log-timeout SECONDS    how long to wait for the session's log stream (default: 60)
  --alert-timeout SECONDS  how long after the session started to wait for the alert rule's
                           metrics, looking once a minute (default: 600, at most 1800)
  --session-manager-plugin PATH
                           the plugin that opens the session's data channel (default: session-manager-plugin
                           on PATH; without it the metadata probe is skipped, and so is the log
                           stream check if no stream appears)
  --no-plugin              never run session-manager-plugin
  --help                   print this and exit

Exit code: 0 when every check passed (skipped checks are listed), 1 when any failed, 2 when
nothing was checked (usage, stacks, or an account not allowed).`;

export interface LiveOptions {
    yoursProfile: string;
    partnerProfile: string;
    partner?: string;
    person?: string;
    yoursStack: string;
    theirStack: string;
    yoursConfig?: string;
    theirConfig?: string;
    yoursOutputs?: string;
    theirOutputs?: string;
    instance?: string;
    otherInstance?: string;
    untaggedInstance?: string;
    logTimeoutSeconds: number;
    alertTimeoutSeconds: number;
    plugin?: string;
    noPlugin: boolean;
}

export class HelpRequested extends Error {}

const VALUED = {
    "--yours-profile": "yoursProfile",
    "--partner-profile": "partnerProfile",
    "--partner": "partner",
    "--person": "person",
    "--yours-stack": "yoursStack",
    "--their-stack": "theirStack",
    "--yours-config": "yoursConfig",
    "--their-config": "theirConfig",
    "--yours-outputs": "yoursOutputs",
    "--their-outputs": "theirOutputs",
    "--instance": "instance",
    "--other-instance": "otherInstance",
    "--untagged-instance": "untaggedInstance",
    "--log-timeout": "logTimeout",
    "--alert-timeout": "alertTimeout",
    "--session-manager-plugin": "plugin",
} as const;

const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;

/** Parses the arguments after `--`; throws HelpRequested or SetupError. */
export function parseArgs(argv: string[]): LiveOptions {
    if (argv.includes("--help") || argv.includes("-h")) throw new HelpRequested();
    const read = readOptions(
        argv,
        {
            ...Object.fromEntries(Object.keys(VALUED).map((flag) => [flag.slice(2), { type: "string" as const }])),
            "no-plugin": { type: "boolean" },
        },
        (message) => new SetupError(message),
    );
    const values: Partial<Record<(typeof VALUED)[keyof typeof VALUED], string>> = {};
    for (const [flag, key] of Object.entries(VALUED)) {
        const value = read[flag.slice(2)];
        if (value === "") throw new SetupError(`${flag} needs a value`);
        if (typeof value === "string") values[key] = value;
    }
    const noPlugin = read["no-plugin"] === true;
    if (!values.yoursProfile || !values.partnerProfile) throw new SetupError("give both --yours-profile and --partner-profile");
    if (values.yoursProfile === values.partnerProfile) throw new SetupError("--yours-profile and --partner-profile must be two profiles, in two accounts");
    for (const flag of ["instance", "otherInstance", "untaggedInstance"] as const) {
        const id = values[flag];
        if (id !== undefined && !INSTANCE_ID.test(id))
            throw new SetupError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is not an instance id: ${id}`);
    }
    const logTimeoutSeconds = values.logTimeout === undefined ? 60 : Number(values.logTimeout);
    if (!Number.isFinite(logTimeoutSeconds) || logTimeoutSeconds < 0 || logTimeoutSeconds > 900) throw new SetupError("--log-timeout is seconds, 0 to 900");
    const alertTimeoutSeconds = values.alertTimeout === undefined ? 600 : Number(values.alertTimeout);
    if (!Number.isFinite(alertTimeoutSeconds) || alertTimeoutSeconds < 0 || alertTimeoutSeconds > 1800)
        throw new SetupError("--alert-timeout is seconds, 0 to 1800");
    if (noPlugin && values.plugin !== undefined) throw new SetupError("give --session-manager-plugin or --no-plugin, not both");
    const resolved = (file: string | undefined) => (file === undefined ? undefined : path.resolve(file));
    return {
        yoursProfile: values.yoursProfile,
        partnerProfile: values.partnerProfile,
        partner: values.partner,
        person: values.person,
        yoursStack: values.yoursStack ?? "yours",
        theirStack: values.theirStack ?? "their",
        yoursConfig: resolved(values.yoursConfig),
        theirConfig: resolved(values.theirConfig),
        yoursOutputs: resolved(values.yoursOutputs),
        theirOutputs: resolved(values.theirOutputs),
        instance: values.instance,
        otherInstance: values.otherInstance,
        untaggedInstance: values.untaggedInstance,
        logTimeoutSeconds,
        alertTimeoutSeconds,
        plugin: values.plugin,
        noPlugin,
    };
}
