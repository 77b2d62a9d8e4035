// Facts the review and the access diff read off what the programs produced: which roles
// are partner grants (the access tag), the Session Manager preferences that decide whom
// sessions run as, and what the yours stack states it built (its typed outputs).

import { RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, DEFAULT_ACCESS_TAG_KEY } from "../../components/constants";
import { outputProblem, yoursOutputsSchema, type YoursOutputs } from "../../stacks/outputs";
import type { IamPicture, IamPrincipal } from "./picture";
import { resolve, type ProgramRun } from "../mock-engine";

/**
 * What the yours stack among these runs states it built, read from its outputs with the
 * stack-output contract (stacks/outputs.ts): each grant's external id, expiry, revocation,
 * trusted principals and source-identity requirement, the log group, the archive. The
 * review holds the produced policies to these values instead of reading them back out of
 * the policies, so a policy that loses one shows as a regression rather than as a new fact.
 */
export async function yoursOutputsOf(runs: ProgramRun[]): Promise<YoursOutputs | undefined> {
    const run = yoursRunOf(runs);
    if (run === undefined) return undefined;
    const plain: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(run.outputs)) plain[name] = (await resolve(value)).value;
    const parsed = yoursOutputsSchema.safeParse(plain);
    if (!parsed.success) throw new Error(`stack ${run.stack}: ${outputProblem(parsed.error, plain)}`);
    return parsed.data;
}

/** The instance tag key a run's grants compare (its `accessTagKey` output), or the default. */
export async function accessTagKeyOf(run: ProgramRun): Promise<string> {
    return run.outputs.accessTagKey !== undefined ? (await resolve(run.outputs.accessTagKey as string)).value : DEFAULT_ACCESS_TAG_KEY;
}

/** The partner grants of a picture: roles carrying the access tag, whose value names the partner, by partner name. */
export function grantsOf(picture: IamPicture, accessTagKey: string): IamPrincipal[] {
    return picture.principals
        .filter((p) => p.kind === "role" && p.tags[accessTagKey] !== undefined)
        .sort((a, b) => a.tags[accessTagKey].localeCompare(b.tags[accessTagKey]));
}

/** The inputs of the Session Manager preferences document a run creates, if it creates one. */
export function preferencesOf(run: ProgramRun): Record<string, unknown> | null {
    const document = run.resources.find((r) => r.type === "aws:ssm/document:Document" && r.inputs.name === SESSION_PREFERENCES_DOCUMENT);
    return document ? (JSON.parse(document.inputs.content).inputs ?? null) : null;
}

/** The run of a yours stack among these (the one with a `grants` output). */
export function yoursRunOf(runs: ProgramRun[]): ProgramRun | undefined {
    return runs.find((r) => r.outputs.grants !== undefined);
}

/** The user the SSM agent runs sessions as when Run As is off: it has passwordless sudo. */
export const AGENT_OS_USER = "ssm-user";

/**
 * The OS user a grant's sessions run as, as Session Manager chooses it: with Run As on in
 * the preferences, the principal's Run As tag, else the preferences' default user; with Run
 * As off, or no preferences, the agent's own user.
 */
export function runAsOf(grant: IamPrincipal, preferences: Record<string, unknown> | null): string {
    if (preferences?.runAsEnabled !== true) return AGENT_OS_USER;
    const fallback = typeof preferences.runAsDefaultUser === "string" ? preferences.runAsDefaultUser : AGENT_OS_USER;
    return grant.tags[RUN_AS_TAG_KEY] ?? fallback;
}
