// Renders an access diff as Markdown fit to paste into a pull request: the lines that add
// access first, then those that remove it, then other changes (an external id rotated).

import type { AccessDiff, DiffLine, Effect } from "../access/diff";

const HEADINGS: Record<Effect, string> = { adds: "Access added", removes: "Access removed", changes: "Other changes" };

const bullet = (line: DiffLine) => `- **${line.subject}**: ${line.text}`;

/** Room for the lines: a pull-request comment holds 65,536 characters. */
const BUDGET = 60_000;

export function renderDiffMarkdown(diff: AccessDiff): string {
    const out: string[] = [`# Access diff: stack \`${diff.stack}\`, ${diff.side} against ${diff.against}`, ""];
    const { added, removed, changed } = diff.resources;
    const resources = `Resources: ${added} added, ${removed} removed, ${changed} changed.`;
    if (!diff.changed) {
        out.push(`**No change in access.** ${resources}`, "");
    } else {
        let room = BUDGET;
        let left = 0;
        for (const effect of ["adds", "removes", "changes"] as const) {
            const lines = diff.lines.filter((l) => l.effect === effect);
            if (lines.length === 0) continue;
            out.push(`## ${HEADINGS[effect]}`, "");
            for (const line of lines) {
                const text = bullet(line);
                if (text.length > room) left++;
                else {
                    out.push(text);
                    room -= text.length + 1;
                }
            }
            out.push("");
        }
        if (left > 0) out.push(`${left} more line${left === 1 ? "" : "s"} left out to fit a pull-request comment: see \`--format json\`.`, "");
        out.push(resources, "");
    }
    out.push(
        `Evaluated at ${diff.evaluatedAt}: both sides ran under Pulumi's mock engine with the same referenced stacks, and ` +
            `the policies each produced were evaluated with an IAM policy evaluator (${diff.evaluations.before + diff.evaluations.after} requests). Nothing was deployed.`,
        "",
    );
    return out.join("\n");
}
