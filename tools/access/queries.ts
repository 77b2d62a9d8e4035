// Questions people ask of the access model: who can reach this resource (optionally with
// this action), and what can this principal do. Answered from the enumeration, so they
// cover every action and resource it covers, not only the ones a scenario names.

import { iamWildcard } from "../iam/wildcards";
import { requestsOf, type AllowedAccess } from "./enumerate";
import type { AccessUniverse } from "./universe";

/** One answer: an allowed request, in words. */
export interface QueryAnswer {
    subject: string;
    subjectLabel: string;
    variant: string;
    action: string;
    resource: string;
    resourceLabel: string;
    allowedBy: string[];
}

// An ARN pattern with IAM wildcards, or words found in the label (case-insensitive).
function matcher(pattern: string): (arn: string, label: string) => boolean {
    if (pattern.includes("*") || pattern.includes("?") || pattern.startsWith("arn:")) {
        const re = iamWildcard(pattern);
        return (arn) => re.test(arn);
    }
    const words = pattern.toLowerCase();
    return (arn, label) => label.toLowerCase().includes(words) || arn.toLowerCase().endsWith(`/${words}`);
}

function answer(universe: AccessUniverse, access: AllowedAccess): QueryAnswer {
    return {
        subject: access.subject,
        subjectLabel: universe.subject(access.subject)?.label ?? access.subject,
        variant: access.variant,
        action: access.action,
        resource: access.resource,
        resourceLabel: access.resourceLabel,
        allowedBy: access.allowedBy,
    };
}

/** Every allowed request on a resource matching `resource` (an ARN, an ARN pattern, or words of its label), with `action` when given. */
export function whoCan(universe: AccessUniverse, allowed: AllowedAccess[], resource: string, action?: string): QueryAnswer[] {
    const matches = matcher(resource);
    const wanted = action === undefined ? undefined : matcher(action.toLowerCase());
    return allowed
        .flatMap(requestsOf)
        .filter((a) => matches(a.resource, a.resourceLabel) && (wanted === undefined || wanted(a.action.toLowerCase(), a.action.toLowerCase())))
        .map((a) => answer(universe, a));
}

/** Every allowed request of a principal matching `principal` (its ARN, an ARN pattern, or words of its name). */
export function whatCan(universe: AccessUniverse, allowed: AllowedAccess[], principal: string): QueryAnswer[] {
    const matches = matcher(principal);
    const subjects = new Set(universe.subjects.filter((s) => matches(s.key, s.label)).map((s) => s.key));
    return allowed
        .filter((a) => subjects.has(a.subject))
        .flatMap(requestsOf)
        .map((a) => answer(universe, a));
}

/** The answers as a Markdown table. */
export function renderAnswers(question: string, answers: QueryAnswer[]): string {
    const cell = (text: string) => text.replace(/\|/g, "\\|");
    const out = [`# ${question}`, "", `${answers.length} allowed request${answers.length === 1 ? "" : "s"}.`, ""];
    if (answers.length > 0) {
        out.push("| who | how | action | resource | allowed by |", "|---|---|---|---|---|");
        for (const a of answers)
            out.push(
                `| ${cell(a.subjectLabel)} | ${cell(a.variant || "as it is")} | ${a.action} | ${cell(a.resourceLabel === "*" ? "*" : `${a.resourceLabel} (${a.resource})`)} | ${cell(a.allowedBy.join(", "))} |`,
            );
    }
    return `${out.join("\n")}\n`;
}
