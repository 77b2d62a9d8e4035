// Facts the review and the access diff read off what the programs produced: which roles
// are partner grants (the access tag), the Session Manager preferences that decide whom
// sessions run as, and what the yours stack states it built (its typed outputs).

import { RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, DEFAULT_ACCESS_TAG_KEY, personOsUser } from "../../components/constants";
import { outputProblem, yoursOutputsSchema, type GrantOutput, type YoursOutputs } from "../../stacks/outputs";
import type { IamPicture, IamPrincipal } from "./picture";
import { REVIEW_IDENTITY } from "./probes";
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

/** Stands for each person's name in a per-person grant's Run As user: `os_user_a-<person>`. */
export const EACH_PERSON = "<person>";

/**
 * The OS user a grant's sessions run as, as Session Manager chooses it: with Run As on in
 * the preferences, the principal's Run As tag, else the preferences' default user; with Run
 * As off, or no preferences, the agent's own user. A per-person grant's sessions carry each
 * person's own tag (its trust requires it; tools/access/people.ts checks who obtains which),
 * which overrides the role's: `<base>-<person>`.
 */
export function runAsOf(grant: IamPrincipal, preferences: Record<string, unknown> | null, stated?: GrantOutput): string {
    if (preferences?.runAsEnabled !== true) return AGENT_OS_USER;
    const base = perPersonBaseOf(stated);
    if (base !== undefined) return personOsUser(base, EACH_PERSON);
    const fallback = typeof preferences.runAsDefaultUser === "string" ? preferences.runAsDefaultUser : AGENT_OS_USER;
    return grant.tags[RUN_AS_TAG_KEY] ?? fallback;
}

/** The base of a grant's per-person OS users, as its yours stack states it; undefined for a grant per partner. */
export function perPersonBaseOf(stated: GrantOutput | undefined): string | undefined {
    return stated?.personOsUsers === undefined ? undefined : stated.runAsUser;
}

/**
 * The source identity a grant's own session carries in the review and the model: with
 * per-person Run As, a person it lists (nobody else may act through it), else REVIEW_IDENTITY.
 */
export function sessionIdentityOf(stated: GrantOutput | undefined): string {
    return listedPersonOf(stated) ?? REVIEW_IDENTITY;
}

/** A person a per-person grant lists (the first); undefined for a grant per partner. */
export function listedPersonOf(stated: GrantOutput | undefined): string | undefined {
    return Object.keys(stated?.personOsUsers ?? {})[0];
}
