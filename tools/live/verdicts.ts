// Verdicts of the live check, and how they are drawn from AWS errors: only an explicit
// access refusal counts as "refused as expected"; anything else (throttling, a network
// error, an unknown instance, an agent not connected) proves nothing and is not a pass.

export type Verdict = "pass" | "fail" | "skipped";

export interface CheckResult {
    /** Stable id, e.g. "session-other-partner". */
    id: string;
    /** What the check proves, as a row of the table. */
    title: string;
    verdict: Verdict;
    /** Why: what AWS answered, or why the check could not run. */
    detail: string;
}

/** Error names AWS uses for a request refused by IAM: STS and most query APIs say AccessDenied, JSON APIs (SSM, CloudWatch Logs) AccessDeniedException. */
const REFUSALS = new Set(["AccessDenied", "AccessDeniedException"]);

/** The name of an AWS SDK v3 error (its exception class, e.g. "ThrottlingException"), or of any other error. */
export function errorName(error: unknown): string {
    if (error instanceof Error) return error.name;
    if (error !== null && typeof error === "object" && typeof (error as { name?: unknown }).name === "string") return (error as { name: string }).name;
    return "Error";
}

/** True when AWS refused the request for lack of permission, and nothing else. */
export function isRefusal(error: unknown): boolean {
    return REFUSALS.has(errorName(error));
}

/** "Name: message (HTTP 403)", kept to one line and a readable length. */
export function describeError(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
    const text = `${errorName(error)}: ${message.replace(/\s+/g, " ").trim()}${status === undefined ? "" : ` (HTTP ${status})`}`;
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

export function pass(id: string, title: string, detail: string): CheckResult {
    return { id, title, verdict: "pass", detail };
}

export function fail(id: string, title: string, detail: string): CheckResult {
    return { id, title, verdict: "fail", detail };
}

export function skipped(id: string, title: string, detail: string): CheckResult {
    return { id, title, verdict: "skipped", detail };
}

/** 0 when nothing failed (skips allowed), 1 when any check failed. */
export function exitCodeFor(results: CheckResult[]): 0 | 1 {
    return results.some((r) => r.verdict === "fail") ? 1 : 0;
}
