// Two shortcuts into the IAM simulator (@cloud-copilot/iam-simulate and its @cloud-copilot/iam-policy,
// both pinned), each measured here as a large share of an evaluation's time, each giving exactly
// the answer the simulator's own code gives:
//
// - Which of an action's resource types a request's ARN is: worked out on every evaluation by
//   intersecting the ARN with every type's pattern (about 70% of an evaluation). It depends only
//   on the service, the action, the ARN and AWS's data, so it is kept per (service, action, ARN).
// - Comparing condition operator names without regard to case ("...IfExists",
//   "ForAnyValue"), done with localeCompare on every condition (about a quarter of what was left).
//   For names of ASCII letters and digits, comparing their lower case is the same comparison;
//   anything else still goes to the original.
//
// Both replace the module export the simulator's code calls through. If a later version moves
// either function, the simulator runs as it is, only slower (the bench shows it).

import * as path from "path";

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

function rememberResourceTypes(): void {
    const module = moduleOf<{ getResourceTypesForAction: ResourceTypesForAction }>("@cloud-copilot/iam-simulate", "simulation_engine", "resourceTypes.js");
    const original = module?.getResourceTypesForAction;
    if (module === undefined || typeof original !== "function") return;
    module.getResourceTypesForAction = keptPerRequest(original);
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

/** Installs both shortcuts, once. */
export function installSimulatorShortcuts(): void {
    if (installed) return;
    installed = true;
    rememberResourceTypes();
    compareNamesPlainly();
}
