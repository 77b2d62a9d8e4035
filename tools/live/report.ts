// The live check's report: a plain pass/fail table for a terminal or a CI log, and a
// one-line summary that lists the skipped checks (a skip is not a pass).

import type { CheckResult } from "./verdicts";

const HEADINGS = { title: "check", verdict: "verdict", detail: "detail" };

/** The results as a fixed-width table, one row per check, then the summary. */
export function renderTable(results: CheckResult[]): string {
    const titleWidth = Math.max(HEADINGS.title.length, ...results.map((r) => r.title.length));
    const verdictWidth = Math.max(HEADINGS.verdict.length, ...results.map((r) => r.verdict.length));
    const row = (title: string, verdict: string, detail: string) => `${title.padEnd(titleWidth)}  ${verdict.padEnd(verdictWidth)}  ${detail}`.trimEnd();
    const lines = [
        row(HEADINGS.title, HEADINGS.verdict, HEADINGS.detail),
        row("-".repeat(titleWidth), "-".repeat(verdictWidth), "-".repeat(HEADINGS.detail.length)),
        ...results.map((r) => row(r.title, r.verdict.toUpperCase(), r.detail)),
        "",
        summary(results),
    ];
    return `${lines.join("\n")}\n`;
}

/** "12 passed, 1 failed, 2 skipped (ids)". */
export function summary(results: CheckResult[]): string {
    const count = (verdict: CheckResult["verdict"]) => results.filter((r) => r.verdict === verdict);
    const skips = count("skipped");
    const failures = count("fail");
    const parts = [`${count("pass").length} passed`, `${failures.length} failed`, `${skips.length} skipped`];
    const names = [...failures.map((r) => `failed: ${r.id}`), ...skips.map((r) => `skipped: ${r.id}`)];
    return `${parts.join(", ")}${names.length > 0 ? ` (${names.join("; ")})` : ""}`;
}
