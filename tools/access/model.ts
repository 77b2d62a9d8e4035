// The access model of one side of a comparison: from the runs of the stack and the stacks
// it references, every allowed request of every subject of the universe (enumerated and
// evaluated), what each partner holds, and the AWS managed policies attached by ARN.
// Built from what the programs registered, never from config.

import { createHash } from "crypto";
import { managedPolicySnapshot } from "../iam/aws-managed-policies";
import * as path from "path";
import { buildIamPicture, guardScriptsOf, type GuardScripts, type IamPicture } from "../iam/picture";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT, resolve, type ProgramRun } from "../mock-engine";
import { accessTagKeyOf, grantsOf, preferencesOf, yoursOutputsOf, yoursRunOf } from "../iam/facts";
import type { GrantOutput } from "../../stacks/outputs";
import type { ReviewRuns } from "../stack-runs";
import { enumerateSide, type AllowedAccess, type EnumerationOptions } from "./enumerate";
import { indexAllowed, partnerAccess, type PartnerAccess } from "./partners";
import { AccessUniverse } from "./universe";

export interface ModelPrincipal {
    arn: string;
    kind: "role" | "user";
    name: string;
    /** AWS managed policies attached by ARN, and whether the model evaluated each (from a dated snapshot of its text). */
    awsManagedPolicies: Array<{ arn: string; evaluated: string | null }>;
}

export interface AccessModel {
    stack: string;
    evaluatedAt: string;
    accessTagKey: string;
    /** The one picture every question about this side is asked of (prepareSide): the review's matrix, chains and protections too. */
    picture: IamPicture;
    /** Each grant as the yours stack states it (its typed outputs), by role ARN. */
    statedGrants: ReadonlyMap<string, GrantOutput>;
    principals: ModelPrincipal[];
    partners: PartnerAccess[];
    /** Every allowed request: one entry per class of resources alike (`requestsOf` lists each). */
    allowed: AllowedAccess[];
    /** The stack's own resources by URN, with a digest of their inputs: to tell resource changes from access changes. */
    resourceDigests: Record<string, string>;
    /** A digest of the metadata guard this side's program installs (null when it has none to compare). */
    guardDigest: string | null;
    /** Requests evaluated to build the model. */
    evaluations: number;
}

/** A side, ready to be modelled: its picture (AWS managed policies with a snapshot included by content) and its facts. */
export interface PreparedSide {
    runs: ReviewRuns;
    picture: IamPicture;
    accessTagKey: string;
    /** Each grant as the side's yours stack states it (its typed outputs), by role ARN: the produced policies are held to it. */
    statedGrants: ReadonlyMap<string, GrantOutput>;
    guard: GuardScripts;
}

/**
 * Builds the side's picture, with the AWS managed policies this project has a snapshot of
 * evaluated by content, and a key or bucket of your own under the statements printed for it.
 */
export async function prepareSide(runs: ReviewRuns, guard: GuardScripts = guardOf(PROJECT_ROOT)): Promise<PreparedSide> {
    const picture = buildIamPicture([runs.main, ...runs.referenced], guard);
    for (const principal of picture.principals) {
        for (const arn of principal.awsManagedPolicies) {
            const snapshot = managedPolicySnapshot(arn);
            if (snapshot) principal.policies.push({ name: snapshot.name, document: snapshot.document, kind: "managed", snapshotTakenOn: snapshot.takenOn });
        }
    }
    await assumeOwnersApplyTheStatements(runs, picture);
    const stated = await yoursOutputsOf([runs.main, ...runs.referenced]);
    const statedGrants = new Map(Object.values(stated?.grants ?? {}).map((grant) => [grant.roleArn, grant]));
    return { runs, picture, accessTagKey: await accessTagKeyOf(runs.main), statedGrants, guard };
}

/**
 * A key or bucket of your own has its policy outside the stack: the model takes it to be
 * exactly the statements the stack prints for its owner (outputs sessionKeyPolicyStatements,
 * archiveBucketPolicyStatements), so the proof holds those to the intent like any other.
 */
async function assumeOwnersApplyTheStatements(runs: ReviewRuns, picture: IamPicture): Promise<void> {
    const yoursRun = yoursRunOf([runs.main, ...runs.referenced]);
    if (yoursRun === undefined) return;
    const preferences = preferencesOf(yoursRun) ?? {};
    const printed = async (output: string) => {
        const value = yoursRun.outputs[output];
        return typeof value === "string" || pulumi.Output.isInstance(value) ? ((await resolve(value as pulumi.Input<string>)).value as string | null) : null;
    };
    const keyStatements = await printed("sessionKeyPolicyStatements");
    if (keyStatements && typeof preferences.kmsKeyId === "string")
        picture.resourcePolicies.push({
            arn: preferences.kmsKeyId,
            accountId: preferences.kmsKeyId.split(":")[4],
            kind: "kms-key",
            document: JSON.parse(keyStatements),
            assumedFromOutput: "sessionKeyPolicyStatements",
        });
    const bucketStatements = await printed("archiveBucketPolicyStatements");
    if (bucketStatements && typeof preferences.s3BucketName === "string")
        picture.resourcePolicies.push({
            arn: `arn:${yoursRun.partition}:s3:::${preferences.s3BucketName}`,
            accountId: yoursRun.account,
            kind: "s3-bucket",
            document: JSON.parse(bucketStatements),
            assumedFromOutput: "archiveBucketPolicyStatements",
        });
}

/**
 * The metadata guard a program installs, read from its own tree: each side of a comparison
 * is judged by its own guard (a newer guard must not make an older instance look unguarded).
 */
export function guardOf(programRoot: string): GuardScripts {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return guardScriptsOf(require(path.join(programRoot, "components", "metadata-guard-scripts")));
}

function resourceDigests(run: ProgramRun): Record<string, string> {
    const digests: Record<string, string> = {};
    for (const resource of run.resources) digests[resource.urn] = createHash("sha256").update(JSON.stringify(resource.inputs)).digest("hex");
    return digests;
}

/** The access model of side number `side` of the universe, evaluated at `at` (ISO time). */
export async function accessModel(
    universe: AccessUniverse,
    side: number,
    prepared: PreparedSide,
    at: string,
    options: Pick<EnumerationOptions, "intended" | "exhaustive" | "progress"> = {},
): Promise<AccessModel> {
    const { runs, picture, accessTagKey } = prepared;
    const enumeration = await enumerateSide(universe, side, picture, { at, ...options });
    const yoursRun = yoursRunOf([runs.main, ...runs.referenced]);
    const preferences = yoursRun ? preferencesOf(yoursRun) : null;
    const partners: PartnerAccess[] = [];
    let evaluations = enumeration.evaluations;
    const allowed = indexAllowed(enumeration.allowed);
    for (const grant of grantsOf(picture, accessTagKey)) {
        const held = await partnerAccess(universe, side, picture, grant, accessTagKey, preferences, allowed, at);
        partners.push(held.access);
        evaluations += held.evaluations;
    }
    return {
        stack: runs.main.stack,
        evaluatedAt: at,
        accessTagKey,
        picture,
        statedGrants: prepared.statedGrants,
        principals: picture.principals.map((p) => ({
            arn: p.arn,
            kind: p.kind,
            name: p.name,
            awsManagedPolicies: p.awsManagedPolicies.map((arn) => ({ arn, evaluated: managedPolicySnapshot(arn)?.takenOn ?? null })),
        })),
        partners,
        allowed: enumeration.allowed,
        resourceDigests: resourceDigests(runs.main),
        guardDigest: picture.instances.length > 0 ? createHash("sha256").update(prepared.guard.script).digest("hex") : null,
        evaluations,
    };
}

/**
 * The access models of prepared sides, every side asked the same questions (one universe,
 * so their answers compare), at `at`; `progress` is told how far each side is.
 */
export async function modelsOf(
    sides: PreparedSide[],
    at: string,
    options: Pick<EnumerationOptions, "exhaustive"> & { progress?: (side: number, line: string) => void } = {},
): Promise<{ universe: AccessUniverse; models: AccessModel[] }> {
    const universe = new AccessUniverse(sides, at);
    const models: AccessModel[] = [];
    for (const [index, side] of sides.entries())
        models.push(await accessModel(universe, index, side, at, { exhaustive: options.exhaustive, progress: (line) => options.progress?.(index, line) }));
    return { universe, models };
}

/** The access model of a stack's runs alone (no intended access to hold it against), at `at`. */
export async function modelOf(runs: ReviewRuns, at: string, progress?: (line: string) => void): Promise<AccessModel> {
    const { models } = await modelsOf([await prepareSide(runs)], at, { progress: (_, line) => progress?.(line) });
    return models[0];
}
