// The stack-output contract: what each side's program exports that tools outside the
// program (the live check) read back from `pulumi stack output --json --show-secrets`.
// The programs are typed against it (every key here is one they export) and the live
// check parses with it, so the two cannot drift apart silently. Outputs that stacks
// deployed before a key existed do not have are optional; null (the program's "none")
// reads as absent.

import { z } from "zod";

const text = z.string().min(1);
/** A value the program exports as null when there is none, and an older stack may lack. */
const optionalText = text
    .nullish()
    .catch(undefined)
    .transform((value) => value ?? undefined);
/** A list of names or ids; anything that is not a non-empty string is left out, as before this contract. */
const texts = z
    .array(z.unknown())
    .nullish()
    .catch(undefined)
    .transform((values) => (values ?? []).filter((value): value is string => typeof value === "string" && value !== ""));

/** A partner's grant, as the yours stack's `grants` output gives it (secret as a whole: the external id). */
export const grantOutputSchema = z.object({
    roleArn: text,
    externalId: text,
    /** The document sessions must name; absent in stacks from before the grant checked it. */
    sessionDocument: optionalText,
    instanceIds: texts,
    /** ISO time the grant ends; absent when it does not. */
    expiresAt: optionalText,
    /** The OS user its sessions run as; with per-person Run As, the base of its people's. */
    runAsUser: optionalText,
    /** Per-person Run As: each person's OS user, by source identity; absent per partner. */
    personOsUsers: z.record(z.string(), text).optional().catch(undefined),
    /** ISO time before which credentials are refused; null when none was set, absent in stacks from before the output. */
    revokeSessionsIssuedBefore: text.nullable().optional().catch(undefined),
    /** The partner's principals the grant's trust names; [] in stacks from before the output. */
    trustedPrincipalArns: texts,
    /** The trust requires a source identity and a session named after it; absent in stacks from before the output. */
    requiresSourceIdentity: z.boolean().optional().catch(undefined),
});

/** What the preferences document is built from (with the log group, key and bucket outputs). */
export const sessionPreferenceSettingsSchema = z.object({
    runAsDefaultUser: text,
    idleTimeoutMinutes: z.number(),
    maxSessionDurationMinutes: z.number(),
    shellProfile: z
        .record(z.string(), z.string())
        .nullish()
        .transform((value) => value ?? undefined),
});

/** The yours stack's outputs that tools read. */
export const yoursOutputsSchema = z.object({
    region: text,
    accessTagKey: text,
    sessionLogGroupName: text,
    instanceIds: z
        .record(z.string(), z.unknown())
        .nullish()
        .catch(undefined)
        .transform((ids) =>
            Object.fromEntries(Object.entries(ids ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== "")),
        ),
    grants: z.record(z.string(), grantOutputSchema),
    sessionPreferencesDocument: optionalText,
    /** Absent in stacks from before the output existed: the live check then skips rebuilding the document. */
    sessionPreferenceSettings: sessionPreferenceSettingsSchema.nullish().transform((value) => value ?? undefined),
    sessionKmsKeyArn: optionalText,
    sessionArchiveBucket: optionalText,
    /** Null with alerts off. */
    alertTopicArn: optionalText,
    alertRuleName: optionalText,
    vpcId: optionalText,
    /** Service names of the interface endpoints the stack made in vpcId ([] in a network of your own); absent in older stacks. */
    interfaceEndpointServiceNames: z
        .array(z.unknown())
        .nullish()
        .catch(undefined)
        .transform((values) => values?.filter((value): value is string => typeof value === "string" && value !== "")),
});

/** The their stack's outputs that tools read. */
export const theirOutputsSchema = z.object({
    jumpRoleArn: text,
    grantRoleArn: optionalText,
    userNames: texts,
});

export type GrantOutput = z.output<typeof grantOutputSchema>;
export type YoursOutputs = z.output<typeof yoursOutputsSchema>;
export type TheirOutputs = z.output<typeof theirOutputsSchema>;

/**
 * The first thing wrong with a value a schema refused, as `output <prefix><key> is missing`
 * or `... is malformed (<why>)`: the one wording the their stack and the live check use.
 */
export function outputProblem(error: z.ZodError, value: unknown, prefix = ""): string {
    const issue = error.issues[0];
    const found = issue.path.reduce<unknown>(
        (at, step) => (at !== null && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[step] : undefined),
        value,
    );
    return `output ${prefix}${issue.path.map(String).join(".")} ${found === undefined ? "is missing" : `is malformed (${issue.message})`}`;
}

/** Every key of a contract, for typing a program's export object (which may export more). */
export type ExportsOf<Schema extends z.ZodObject> = { [Key in keyof z.input<Schema>]-?: unknown } & Record<string, unknown>;
