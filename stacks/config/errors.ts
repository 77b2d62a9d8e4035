// The one error a stack config can produce: every problem at once, each naming the key
// as a user types it for `pulumi config set --path`.

import * as pulumi from "@pulumi/pulumi";

/** One problem in the stack config: the key path as typed for `pulumi config set --path`, and what is wrong. */
export interface ConfigIssue {
    /** Key path without the project namespace, e.g. `partners[1].accountId`. */
    path: string;
    /** What was wrong and what is accepted. */
    message: string;
}

/**
 * Invalid stack config. A RunError, so `pulumi up` prints the message without a
 * stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly issues: ConfigIssue[]) {
        super(
            `Invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n") +
                "\nFix with `pulumi config set --path <key> <value>` (add --secret for secrets), remove a key with `pulumi config rm --path <key>`, or edit Pulumi.<stack>.yaml.",
        );
        this.name = "ConfigError";
    }
}
