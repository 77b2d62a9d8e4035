// The access review's report: what `npm run review` prints as JSON, and the Markdown is written from.

import type { ProtectionCheck } from "./protections";
import type { Decision } from "../iam/evaluate";

export interface ComponentSummary {
    type: string;
    name: string;
    /** Child resources by type. */
    children: Record<string, number>;
}

export interface MatrixCell {
    partner: string;
    instance: string;
    instanceId: string;
    decision: Decision;
    allowed: boolean;
    runAs: string;
    expiresAt: string | null;
    /** The partner's access had expired at the evaluation time. */
    expired: boolean;
    reason: string;
}

export interface ChainLink {
    from: string;
    to: string;
    decision: Decision;
    note: string;
}

export interface PartnerSummary {
    name: string;
    grantRoleArn: string;
    runAs: string;
    expiresAt: string | null;
    requiresSourceIdentity: boolean;
    /** Credentials issued before this instant are refused, when a revocation is set. */
    revokeSessionsIssuedBefore: string | null;
    trustedPrincipals: string[];
    /** Which instances the grant reaches: by tag, in the whole account and region, not only this stack's. */
    reach: string;
    /** Who can get to the grant role, link by link, evaluated now. */
    chain: ChainLink[];
    /** Per-person Run As: each person, the source identity their chain carries, the OS user they obtain, and anything else they obtain (each a finding). */
    people?: PersonRow[];
}

/** One person of a per-person grant: person -> source identity -> grant -> OS user -> instances. */
export interface PersonRow {
    /** The person: the partner's IAM user when this review sees it, else their name. */
    person: string;
    sourceIdentity: string;
    /** The OS user they run as, null when they cannot obtain their own. */
    osUser: string | null;
    alsoObtains: string[];
    /** The instances their sessions reach: their partner's. */
    instances: string[];
    /** False when the partner's principal, with its own policies as produced, cannot obtain it (absent when the review does not see them). */
    asProduced?: boolean;
}

export interface Finding {
    severity: "warning" | "info";
    message: string;
}

export interface CostLine {
    item: string;
    quantity: number;
    unit: string;
    unitPrice: number;
    monthly: number;
}

export interface ReviewReport {
    stack: string;
    side: string;
    account: string;
    region: string;
    evaluatedAt: string;
    resourceCount: number;
    components: ComponentSummary[];
    accessTagKey: string;
    defaultRunAs: string | null;
    partners: PartnerSummary[];
    instances: Array<{ name: string; id: string; tags: Record<string, string> }>;
    /**
     * The pairs of partner and instance that matter, each decided by evaluation: every pair the
     * access model finds allowed, and every partner with each instance tagged for it. Every other
     * pair is refused (the model asked about each, in classes); `matrixSummary` counts them.
     */
    matrix: MatrixCell[];
    /** The matrix in one sentence: who reaches what, and how many pairs are refused. */
    matrixSummary: string;
    /** Each protection, probed by evaluation; one that does not hold is also a finding. */
    protections: ProtectionCheck[];
    diagram: string;
    /** The exhaustive proof: the intended access from the config, and how much was enumerated (absent without the config files). */
    proof?: { intended: string[]; allowedRequests: number; evaluations: number };
    findings: Finding[];
    cost: { asOf: string; region: string; currency: string; lines: CostLine[]; totalMonthly: number; note: string };
}
