// Facts the review and the access diff read off what the programs produced: which roles
// are partner grants, what a grant's trust policy says (who, until when, with which
// external id, whether a source identity is required), its revocation instant, and the
// Session Manager preferences (default Run As user, audit log group).

import { RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, DEFAULT_ACCESS_TAG_KEY } from "../../components/constants";
import { asList, type PolicyDocument, type PolicyStatement } from "../../components/policies";
import type { IamPicture, IamPrincipal } from "./picture";
import { resolve, type ProgramRun } from "../mock-engine";

function allowStatements(doc: PolicyDocument | undefined, action: string): PolicyStatement[] {
    return (doc?.Statement ?? []).filter((s) => s.Effect === "Allow" && asList(s.Action).includes(action));
}

/** What a grant's trust policy (as produced) says about who, until when, with what. */
export interface TrustFacts {
    /** The principals it names (aws:PrincipalArn). */
    principals: string[];
    /** External ids it requires: secrets, never to be printed. */
    externalIds: string[];
    expiresAt: string | null;
    requiresSourceIdentity: boolean;
}

/** Reads the trust facts of a grant role. */
export function trustFacts(grant: IamPrincipal): TrustFacts {
    const assume = allowStatements(grant.trustPolicy, "sts:AssumeRole");
    const conditions = assume.map((s) => s.Condition ?? {});
    const values = (op: string, key: string) => conditions.flatMap((c) => ([] as string[]).concat((c[op]?.[key] as string | string[] | undefined) ?? []));
    const expiries = values("DateLessThan", "aws:CurrentTime");
    return {
        principals: values("ArnEquals", "aws:PrincipalArn"),
        externalIds: values("StringEquals", "sts:ExternalId"),
        expiresAt: expiries.length > 0 ? expiries.sort()[0] : null,
        requiresSourceIdentity: assume.length > 0 && conditions.every((c) => c.Null?.["sts:SourceIdentity"] === "false"),
    };
}

/** The revocation instant the grant's permissions carry, if any. */
export function revocationOf(grant: IamPrincipal): string | null {
    for (const statement of grant.policies.flatMap((p) => p.document.Statement)) {
        const before = statement.Effect === "Deny" ? statement.Condition?.DateLessThan?.["aws:TokenIssueTime"] : undefined;
        if (typeof before === "string") return before;
    }
    return null;
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

/** The log group the preferences stream sessions to. */
export function auditLogGroupOf(run: ProgramRun): string | null {
    const name = preferencesOf(run)?.cloudWatchLogGroupName;
    return typeof name === "string" ? name : null;
}

/** The OS user sessions run as when the principal has no Run As tag. */
export function defaultRunAsOf(run: ProgramRun): string | null {
    const user = preferencesOf(run)?.runAsDefaultUser;
    return typeof user === "string" ? user : null;
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
