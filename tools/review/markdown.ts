// Renders a review report as Markdown. The JSON format is the report itself, so
// rendering the parsed JSON gives this same text.

import { addTo } from "../grouping";
import type { ReviewReport } from "./analyze";
import type { PersonRow } from "./report";

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
        // Beyond a screenful of partners, only the exceptions: a pair allowed on an instance tagged for another, or refused on its own.
        const many = report.partners.length > DETAILED_PARTNERS;
        const tagOf = new Map(report.instances.map((i) => [i.id, i.tags[report.accessTagKey]]));
        const exceptional = (c: ReviewReport["matrix"][number]) => c.allowed !== (tagOf.get(c.instanceId) === c.partner);
        const rows = many ? report.matrix.filter(exceptional) : report.matrix;
        const exceptions = rows.length === 0 ? "No exceptions" : rows.length === 1 ? "The one exception" : `The ${rows.length} exceptions`;
        if (many) out.push(`${exceptions} (every pair that matters is in the JSON report):`, "");
        if (rows.length > 0) out.push("| partner | instance | decision | run as | expires | reason |", "|---|---|---|---|---|---|");
        for (const c of rows) {
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
        out.push(
            partner.people !== undefined
                ? `- runs as: \`${partner.runAs}\`, each person their own (per-person Run As: its grant refuses a session without the person's tag)`
                : `- runs as: \`${partner.runAs}\`${report.defaultRunAs ? ` (default for untagged principals: \`${report.defaultRunAs}\`)` : ""}`,
        );
        out.push(`- expires: ${partner.expiresAt ?? "never"}`);
        if (partner.revokeSessionsIssuedBefore) out.push(`- credentials issued before ${partner.revokeSessionsIssuedBefore} are refused`);
        out.push(`- reaches: ${partner.reach}`);
        out.push(`- source identity required: ${partner.requiresSourceIdentity ? "yes" : "no"}`);
        out.push(`- trusted principals: ${partner.trustedPrincipals.map((p) => `\`${p}\``).join(", ") || "none"}`);
        for (const link of partner.chain) out.push(`- \`${link.from}\` -> \`${link.to}\`: **${link.decision}** (${link.note})`);
        out.push("");
        if (partner.people !== undefined) out.push(...peopleLines(partner.name, partner.people));
    }

    if (report.partners.length > DETAILED_PARTNERS)
        out.push("## Chain", "", `The diagram of ${report.partners.length} partners' chains is in the JSON report (\`diagram\`).`, "");
    else out.push("## Chain", "", "```mermaid", report.diagram, "```", "");

    out.push("## Protections, evaluated", "");
    if (report.protections.length === 0) out.push("None apply to this stack.", "");
    else {
        out.push("| subject | request or fact | expected | evaluated | |", "|---|---|---|---|---|");
        for (const row of protectionRows(report.protections)) out.push(row);
        out.push("");
    }

    if (report.proof) {
        out.push(
            "## Intended access (from the config), proven",
            "",
            `Every request the stacks allow (${report.proof.allowedRequests} allowed, of ${report.proof.evaluations} evaluated) was held against this; anything outside it, or anything in it refused, is a finding below.`,
            "",
        );
        out.push(...intendedLines(report.proof.intended, report.partners), "");
    }
    out.push("## Findings", "");
    if (report.findings.length === 0) out.push("None.");
    for (const finding of report.findings) out.push(`- **${finding.severity}**: ${finding.message}`);
    out.push("");

    out.push("## Resources by component", "", `${report.resourceCount} resources.`, "", "| component | resources |", "|---|---|");
    // Components of one type with the same children are one row beyond a screenful (a partner's grant, say).
    const rows = new Map<string, string[]>();
    for (const component of report.components) {
        const children = Object.entries(component.children)
            .map(([type, n]) => `${n} ${type.split(":").pop()}`)
            .join(", ");
        addTo(rows, `${component.type}\n${children}`, component.name);
    }
    for (const [key, names] of rows) {
        const [type, children] = key.split("\n");
        const which = names.length > DETAILED_PARTNERS ? `${names.length} components, ${names[0]} to ${names[names.length - 1]}` : names.join(", ");
        for (const name of names.length > DETAILED_PARTNERS ? [which] : names) out.push(`| ${cell(name)} (\`${type}\`) | ${cell(children)} |`);
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

// The protections, one row each; beyond DETAILED_PARTNERS subjects of one kind (partners, instances),
// one row per check for all of them, naming those it does not hold for.
function protectionRows(protections: ReviewReport["protections"]): string[] {
    // "partner Partner_1" is a partner, "instance role instances-role" an instance role: the subject less its name.
    const kindOf = (subject: string) => subject.split(" ").slice(0, -1).join(" ") || subject;
    const subjectsOfKind = new Map<string, Set<string>>();
    for (const p of protections) subjectsOfKind.set(kindOf(p.subject), (subjectsOfKind.get(kindOf(p.subject)) ?? new Set()).add(p.subject));
    const many = (kind: string) => (subjectsOfKind.get(kind)?.size ?? 0) > DETAILED_PARTNERS;
    const rows: string[] = [];
    const grouped = new Map<string, ReviewReport["protections"]>();
    for (const p of protections) {
        if (!many(kindOf(p.subject))) {
            rows.push(
                `| ${cell(p.subject)} | ${cell(p.check)} | ${p.expected} | ${p.decision} | ${p.holds ? "holds" : p.notShown !== undefined ? "**not shown**" : "**REGRESSED**"} |`,
            );
            continue;
        }
        const key = `${kindOf(p.subject)}\n${p.check}\n${p.expected}`;
        if (!grouped.has(key)) {
            grouped.set(key, []);
            rows.push(key); // replaced below, in the place of the group's first row
        }
        grouped.get(key)!.push(p);
    }
    return rows.map((row) => {
        const group = grouped.get(row);
        if (group === undefined) return row;
        const [kind, check, expected] = row.split("\n");
        const failing = group.filter((p) => !p.holds).map((p) => p.subject);
        const decisions = [...new Set(group.map((p) => p.decision))].join(", ");
        const status =
            failing.length === 0
                ? `holds for all ${group.length}`
                : `**REGRESSED** for ${failing.length}: ${failing.slice(0, 10).join(", ")}${failing.length > 10 ? ", ..." : ""}`;
        return `| each of ${group.length} ${kind}s | ${cell(check)} | ${expected} | ${decisions} | ${cell(status)} |`;
    });
}

// The intended access, a line each; beyond DETAILED_PARTNERS partners, the first partner's lines
// stand for every partner's, with how many each has (the JSON report lists them all).
function intendedLines(intended: string[], partners: ReviewReport["partners"]): string[] {
    if (partners.length <= DETAILED_PARTNERS) return intended.map((line) => `- ${line}`);
    const names = new Set(partners.map((p) => p.name));
    const partnerOf = (line: string) => line.match(/[A-Za-z0-9_.-]+/g)?.find((word) => names.has(word) || names.has(word.replace(/'s$/, "")));
    const byPartner = new Map<string, string[]>();
    const others: string[] = [];
    for (const line of intended) {
        const partner = partnerOf(line)?.replace(/'s$/, "");
        if (partner === undefined) others.push(line);
        else addTo(byPartner, partner, line);
    }
    const first = partners.find((p) => byPartner.has(p.name));
    const counts = [...new Set([...byPartner.values()].map((l) => l.length))].sort((a, b) => a - b);
    return [
        ...(first === undefined
            ? []
            : [
                  `Each of the ${byPartner.size} partners has ${counts.join(" or ")} intended accesses like ${first.name}'s (the JSON report lists every partner's):`,
                  "",
                  ...byPartner.get(first.name)!.map((line) => `- ${line}`),
                  "",
                  "And for everyone else:",
                  "",
              ]),
        ...others.map((line) => `- ${line}`),
    ];
}

/** How many people a per-person partner lists one by one; beyond, a sentence and the exceptions (every row is in the JSON report). */
const LISTED_PEOPLE = 20;

// The OS user a person runs as, and whether the partner's own side lets them (its jump role must tag the session).
function osUserCell(p: PersonRow): string {
    if (p.osUser === null) return "**refused**";
    if (p.asProduced === false)
        return `\`${p.osUser}\`, **but refused through the partner's principal as its stack made it** (its jump role may not tag the session: is perPersonOsUserBase set in its their stack?)`;
    return `\`${p.osUser}\``;
}

// Per-person Run As: person -> source identity -> grant -> OS user -> instances.
function peopleLines(partner: string, people: PersonRow[]): string[] {
    const exceptions = people.filter((p) => p.osUser === null || p.alsoObtains.length > 0 || p.asProduced === false);
    const lines = [
        `Per-person Run As: ${exceptions.length === 0 ? `${people.length === 1 ? "its one person runs" : `each of ${people.length} people runs`} as their own OS user, and as nobody else's` : `${exceptions.length} of ${people.length} ${people.length === 1 ? "person does" : "people do"} not run as their own OS user alone`}.`,
        "",
    ];
    const listed = people.length > LISTED_PEOPLE ? exceptions : people;
    if (listed.length === 0) return lines;
    lines.push("| person | source identity | OS user | instances | also obtains |", "|---|---|---|---|---|");
    for (const p of listed)
        lines.push(
            `| \`${cell(p.person)}\` | ${cell(p.sourceIdentity)} | ${osUserCell(p)} | ${cell(p.instances.join(", ") || "none")} | ${p.alsoObtains.length === 0 ? "nothing else" : `**${cell(p.alsoObtains.join(", "))}**`} |`,
        );
    lines.push("");
    return lines;
}
