// The world the scenario catalogue runs against: the sample stacks run under mocks, the
// access model's picture of what they produced (the one the review and the proof ask),
// and the principals, instances and ARNs the scenarios name, found in that picture by
// what the program built and what its typed outputs state.

import { resolve, runProgram, SAMPLE_STACKS, PROJECT, type ProgramRun } from "../mock-engine";
import type { AccessRequest, Decision } from "../iam/evaluate";
import { yoursOutputsOf } from "../iam/facts";
import type { IamPicture, IamPrincipal, PictureInstance } from "../iam/picture";
import { prepareSide } from "./model";

export type Expected = "Allowed" | "Denied";

/** Third_Party_A's revocation instant in the catalogue: before the evaluation time. */
export const REVOKED_BEFORE = "2027-01-10T00:00:00Z";

/** What a scenario decides: a request the IAM evaluator decides, or a fact of the produced resources (what no policy evaluates, such as bucket versioning). */
export type ScenarioSubject =
    | { request: (world: CatalogueWorld) => AccessRequest; fact?: never }
    | { fact: (world: CatalogueWorld) => { decision: Decision; reason: string }; request?: never };

export type Scenario = {
    /** Stable id, used by tests that name scenarios. */
    id: string;
    group: "Blog test plan" | "Attacks" | "A shell on an instance";
    title: string;
    expected: Expected;
} & ScenarioSubject;

/**
 * Settings switched on for the catalogue beyond the sample config, so every mechanism
 * is exercised: an expiry and a revocation instant for Third_Party_A (before the
 * evaluation time, so only credentials issued earlier are refused), KMS session
 * encryption and the S3 archive.
 */
export const CATALOGUE_SETTINGS: Record<string, unknown> = {
    "partners[0].expiresAt": "2027-06-30T23:59:59Z",
    "partners[0].revokeSessionsIssuedBefore": REVOKED_BEFORE,
    "sessions.kmsEncryption": true,
    "sessions.s3Archive": true,
};

/** What scenarios refer to, found in the picture by what the program built. */
export interface CatalogueWorld {
    picture: IamPicture;
    accessTagKey: string;
    alice: IamPrincipal;
    jumpRoleA: IamPrincipal;
    grantA: IamPrincipal;
    grantB: IamPrincipal;
    instanceRole: IamPrincipal;
    instanceA: PictureInstance;
    instanceB: PictureInstance;
    externalIdA: string;
    externalIdB: string;
    auditLogGroupArn: string;
    sessionKeyArn: string;
    archiveBucketArn: string;
    aliceSecretArn: string;
    yoursAccount: string;
    theirAccount: string;
}

/** Runs the sample `yours` stack (with CATALOGUE_SETTINGS) and the sample `their` stack fed with its real `grants`. */
export async function runSampleChain(yoursSet: Record<string, unknown> = CATALOGUE_SETTINGS): Promise<{ yours: ProgramRun; their: ProgramRun }> {
    const yours = await runProgram({ stack: "yours", set: yoursSet });
    if (yours.error) throw yours.error;
    const grants = (await resolve(yours.outputs.grants as object)).value;
    const region = (await resolve(yours.outputs.region as string)).value;
    const their = await runProgram({
        stack: "their",
        stacks: { ...SAMPLE_STACKS, [`organization/${PROJECT}/yours`]: { outputs: { grants, region }, secretOutputNames: ["grants"] } },
    });
    if (their.error) throw their.error;
    return { yours, their };
}

function one<T>(items: T[], what: string): T {
    if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
    return items[0];
}

/** Finds the scenario actors in the access model's picture of a sample chain. */
export async function catalogueWorld(yours: ProgramRun, their: ProgramRun): Promise<CatalogueWorld> {
    const { picture, accessTagKey } = await prepareSide({ main: yours, referenced: [their] });
    const stated = (await yoursOutputsOf([yours]))!;
    const { grants } = stated;
    const grantFor = (partner: string) =>
        one(
            picture.principals.filter((p) => p.kind === "role" && p.tags[accessTagKey] === partner),
            `grant role for ${partner}`,
        );
    const instanceFor = (partner: string) =>
        one(
            picture.instances.filter((i) => i.tags[accessTagKey] === partner),
            `instance tagged for ${partner}`,
        );
    const jumpRoleArn = (await resolve(their.outputs.jumpRoleArn as string)).value;
    const instanceRoleName = (await resolve(yours.outputs.instanceRoleName as string)).value;
    const byArn = (arn: string) =>
        one(
            picture.principals.filter((p) => p.arn === arn),
            arn,
        );
    return {
        picture,
        accessTagKey,
        alice: one(
            picture.principals.filter((p) => p.kind === "user" && p.name === "alice"),
            "user alice",
        ),
        jumpRoleA: byArn(jumpRoleArn),
        grantA: grantFor("Third_Party_A"),
        grantB: grantFor("Third_Party_B"),
        instanceRole: one(
            picture.principals.filter((p) => p.accountId === yours.account && p.name === instanceRoleName),
            "instance role",
        ),
        instanceA: instanceFor("Third_Party_A"),
        instanceB: instanceFor("Third_Party_B"),
        externalIdA: grants.Third_Party_A.externalId,
        externalIdB: grants.Third_Party_B.externalId,
        auditLogGroupArn: one(
            picture.logGroups.filter((g) => g.name === stated.sessionLogGroupName),
            "audit log group",
        ).arn,
        // The key the preferences encrypt with (the alert topic has a key of its own).
        sessionKeyArn: one(
            picture.resourcePolicies.filter((r) => r.kind === "kms-key" && r.arn === stated.sessionKmsKeyArn),
            "session key",
        ).arn,
        // The bucket the preferences archive to (the archive's access logs have a bucket of their own).
        archiveBucketArn: one(
            picture.resourcePolicies.filter((r) => r.kind === "s3-bucket" && r.arn.endsWith(`:::${stated.sessionArchiveBucket}`)),
            "archive bucket",
        ).arn,
        aliceSecretArn: one(picture.secrets, "secret holding alice's key").arn,
        yoursAccount: yours.account,
        theirAccount: their.account,
    };
}

/** The same world on a changed copy of its picture: every actor is the copy's principal or instance of the same ARN. */
export function onPicture(world: CatalogueWorld, picture: IamPicture): CatalogueWorld {
    const principal = (p: IamPrincipal) =>
        one(
            picture.principals.filter((q) => q.arn === p.arn),
            p.arn,
        );
    const instance = (i: PictureInstance) =>
        one(
            picture.instances.filter((j) => j.arn === i.arn),
            i.arn,
        );
    return {
        ...world,
        picture,
        alice: principal(world.alice),
        jumpRoleA: principal(world.jumpRoleA),
        grantA: principal(world.grantA),
        grantB: principal(world.grantB),
        instanceRole: principal(world.instanceRole),
        instanceA: instance(world.instanceA),
        instanceB: instance(world.instanceB),
    };
}
