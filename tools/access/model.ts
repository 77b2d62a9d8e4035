// The access model of a stack: from the runs of the stack and the stacks it references,
// every principal the programs create, everything each may do (enumerated and evaluated),
// and what each partner holds. Built from what the programs registered, never from config.

import { createHash } from "crypto";
import { buildIamPicture } from "../iam/picture";
import type { ProgramRun } from "../mock-engine";
import { accessTagKeyOf, defaultRunAsOf, grantsOf, yoursRunOf } from "../review/facts";
import type { ReviewRuns } from "../review/stacks";
import { enumerateAccess, type AllowedAccess } from "./enumerate";
import { partnerAccess, type PartnerAccess } from "./partners";

export interface ModelPrincipal {
    arn: string;
    kind: "role" | "user";
    name: string;
    /** The partner whose grant it is, when it is one. */
    partner?: string;
}

export interface AccessModel {
    stack: string;
    account: string;
    region: string;
    evaluatedAt: string;
    accessTagKey: string;
    principals: ModelPrincipal[];
    partners: PartnerAccess[];
    /** Every allowed (principal, action, resource). */
    allowed: AllowedAccess[];
    /** The resources the stacks create or their policies name, by ARN. */
    knownResources: string[];
    /** The stack's own resources by URN, with a digest of their inputs: to tell resource changes from access changes. */
    resourceDigests: Record<string, string>;
    /** Requests evaluated to build the model. */
    evaluations: number;
}

function resourceDigests(run: ProgramRun): Record<string, string> {
    const digests: Record<string, string> = {};
    for (const resource of run.resources) digests[resource.urn] = createHash("sha256").update(JSON.stringify(resource.inputs)).digest("hex");
    return digests;
}

/** The access model of `runs.main`, evaluated at `at` (ISO time). */
export async function accessModel(runs: ReviewRuns, at: string): Promise<AccessModel> {
    const all = [runs.main, ...runs.referenced];
    const picture = buildIamPicture(all);
    const accessTagKey = await accessTagKeyOf(runs.main);
    const yoursRun = yoursRunOf(all);
    const defaultRunAs = yoursRun ? defaultRunAsOf(yoursRun) : null;
    const grants = grantsOf(picture, accessTagKey);
    const partners: PartnerAccess[] = [];
    let evaluations = 0;
    for (const grant of grants) {
        const held = await partnerAccess(picture, grant, accessTagKey, defaultRunAs, at);
        partners.push(held.access);
        evaluations += held.evaluations;
    }
    const enumeration = await enumerateAccess(picture, { at, accessTagKey });
    const partnerOf = new Map(grants.map((g) => [g.arn, g.tags[accessTagKey]]));
    return {
        stack: runs.main.stack,
        account: runs.main.account,
        region: runs.main.region,
        evaluatedAt: at,
        accessTagKey,
        principals: picture.principals.map((p) => ({ arn: p.arn, kind: p.kind, name: p.name, partner: partnerOf.get(p.arn) })),
        partners,
        allowed: enumeration.allowed,
        knownResources: enumeration.knownResources,
        resourceDigests: resourceDigests(runs.main),
        evaluations: evaluations + enumeration.evaluations,
    };
}
