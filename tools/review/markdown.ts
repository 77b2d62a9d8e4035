// Renders a review report as Markdown. The JSON format is the report itself, so
// rendering the parsed JSON gives this same text.

import type { ReviewReport } from "./analyze";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const money = (n: number) => n.toFixed(2);

/** The largest partner-by-instance grid printed (20 partners by 20 instances). */
const GRID_CELLS = 400;

/** The most partners given a section each (and a diagram). */
const DETAILED_PARTNERS = 20;

export function renderMarkdown(report: ReviewReport): string {
    const out: string[] = [];
    out.push(`# Access review: stack \`${report.stack}\` (${report.side})`, "");
    out.push(
        `Account ${report.account}, region ${report.region}. Evaluated at ${report.evaluatedAt} by running the program under the mock engine and evaluating the policies it produces with an IAM policy evaluator. Nothing was deployed.`,
        "",
    );

    out.push("## Access matrix", "");
    if (report.partners.length === 0 || report.instances.length === 0) {
        out.push(
            report.partners.length === 0 ? "No grant roles in this review." : "No instances in this review: grants apply to instances you tag yourself.",
            "",
        );
    }
    if (report.partners.length > 0 && report.instances.length > 0) {
        out.push(report.matrixSummary, "");
        // A grid while it fits on a screen; beyond, the summary and the pairs that matter.
        if (report.partners.length * report.instances.length <= GRID_CELLS) {
            const listed = new Map(report.matrix.map((c) => [`${c.partner}|${c.instanceId}`, c]));
            out.push(`| partner \\ instance | ${report.instances.map((i) => `${cell(i.name)} (\`${i.id}\`)`).join(" | ")} |`);
            out.push(`|---|${report.instances.map(() => "---").join("|")}|`);
            for (const partner of report.partners) {
                const expired = partner.expiresAt !== null && Date.parse(partner.expiresAt) <= Date.parse(report.evaluatedAt);
                const cells = report.instances.map((instance) => {
                    const c = listed.get(`${partner.name}|${instance.id}`);
                    return c?.allowed ? `**allowed** as \`${c.runAs}\`` : expired ? "expired" : "denied";
                });
                out.push(`| ${cell(partner.name)} | ${cells.join(" | ")} |`);
            }
            out.push("");
        }
        out.push("| partner | instance | decision | run as | expires | reason |", "|---|---|---|---|---|---|");
        for (const c of report.matrix) {
            out.push(
                `| ${cell(c.partner)} | ${cell(c.instance)} | ${c.decision} | ${c.allowed ? `\`${c.runAs}\`` : "-"} | ${c.expiresAt ?? "never"} | ${cell(c.reason)} |`,
            );
        }
        out.push("");
    }

    out.push("## Partners and their chains", "");
    // Beyond a screenful of partners, one row each; the JSON report holds every link.
    if (report.partners.length > DETAILED_PARTNERS) {
        out.push("| partner | grant role | runs as | expires | source identity | chain |", "|---|---|---|---|---|---|");
        for (const p of report.partners) {
            const refused = p.chain.filter((l) => l.decision !== "Allowed");
            const chain = refused.length === 0 ? `${p.chain.length} links allowed` : refused.map((l) => `${l.from} -> ${l.to}: ${l.decision}`).join("; ");
            out.push(
                `| ${cell(p.name)} | \`${p.grantRoleArn.split("/").pop()}\` | \`${p.runAs}\` | ${p.expiresAt ?? "never"} | ${p.requiresSourceIdentity ? "required" : "**not required**"} | ${cell(chain)} |`,
            );
        }
        out.push("");
    }
    for (const partner of report.partners.length > DETAILED_PARTNERS ? [] : report.partners) {
        out.push(`### ${partner.name}`, "");
        out.push(`- grant role: \`${partner.grantRoleArn}\``);
        out.push(`- runs as: \`${partner.runAs}\`${report.defaultRunAs ? ` (default for untagged principals: \`${report.defaultRunAs}\`)` : ""}`);
        out.push(`- expires: ${partner.expiresAt ?? "never"}`);
        if (partner.revokeSessionsIssuedBefore) out.push(`- credentials issued before ${partner.revokeSessionsIssuedBefore} are refused`);
        out.push(`- reaches: ${partner.reach}`);
        out.push(`- source identity required: ${partner.requiresSourceIdentity ? "yes" : "no"}`);
        out.push(`- trusted principals: ${partner.trustedPrincipals.map((p) => `\`${p}\``).join(", ") || "none"}`);
        for (const link of partner.chain) out.push(`- \`${link.from}\` -> \`${link.to}\`: **${link.decision}** (${link.note})`);
        out.push("");
    }

    if (report.partners.length > DETAILED_PARTNERS)
        out.push("## Chain", "", `The diagram of ${report.partners.length} partners' chains is in the JSON report (\`diagram\`).`, "");
    else out.push("## Chain", "", "```mermaid", report.diagram, "```", "");

    out.push("## Protections, evaluated", "");
    if (report.protections.length === 0) out.push("None apply to this stack.", "");
    else {
        out.push("| subject | request or fact | expected | evaluated | |", "|---|---|---|---|---|");
        for (const p of report.protections)
            out.push(`| ${cell(p.subject)} | ${cell(p.check)} | ${p.expected} | ${p.decision} | ${p.holds ? "holds" : "**REGRESSED**"} |`);
        out.push("");
    }

    if (report.proof) {
        out.push(
            "## Intended access (from the config), proven",
            "",
            `Every request the stacks allow (${report.proof.allowedRequests} allowed, of ${report.proof.evaluations} evaluated) was held against this; anything outside it, or anything in it refused, is a finding below.`,
            "",
        );
        for (const line of report.proof.intended) out.push(`- ${line}`);
        out.push("");
    }
    out.push("## Findings", "");
    if (report.findings.length === 0) out.push("None.");
    for (const finding of report.findings) out.push(`- **${finding.severity}**: ${finding.message}`);
    out.push("");

    out.push("## Resources by component", "", `${report.resourceCount} resources.`, "", "| component | resources |", "|---|---|");
    for (const component of report.components) {
        const children = Object.entries(component.children)
            .map(([type, n]) => `${n} ${type.split(":").pop()}`)
            .join(", ");
        out.push(`| ${cell(component.name)} (\`${component.type}\`) | ${cell(children)} |`);
    }
    out.push("");

    const { cost } = report;
    out.push(
        `## Estimated fixed monthly cost (${cost.region}, list prices as of ${cost.asOf})`,
        "",
        "| item | quantity | unit price / month | monthly |",
        "|---|---|---|---|",
    );
    for (const line of cost.lines) out.push(`| ${cell(line.item)} | ${line.quantity} ${line.unit} | ${money(line.unitPrice)} | ${money(line.monthly)} |`);
    out.push(`| **total** | | | **${money(cost.totalMonthly)} ${cost.currency}** |`, "", cost.note, "");
    return out.join("\n");
}
