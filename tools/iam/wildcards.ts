// IAM's wildcards (* any run of characters, ? one character) as a regular expression, for
// matching ARNs and action names the way a policy's Resource and Action elements do.

// Kept by the pattern itself, one map per case rule: a key built per call cost more than the match.
const compiled = { exact: new Map<string, RegExp>(), ignoringCase: new Map<string, RegExp>() };

/** The whole-string pattern for an IAM wildcard; action names compare case-insensitively, ARNs do not. */
export function iamWildcard(pattern: string, ignoreCase = false): RegExp {
    const kept = ignoreCase ? compiled.ignoringCase : compiled.exact;
    let re = kept.get(pattern);
    if (re === undefined) {
        re = new RegExp(
            `^${pattern
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, ".*")
                .replace(/\?/g, ".")}$`,
            ignoreCase ? "i" : "",
        );
        kept.set(pattern, re);
    }
    return re;
}

/** Whether a statement's Action (or, for NotAction, anything it does not list) admits `action`, as IAM matches them. */
export function statementAdmits(statement: { Action?: string | string[]; NotAction?: string | string[] }, action: string): boolean {
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    return statement.Action !== undefined
        ? list(statement.Action).some((a) => iamWildcard(a, true).test(action))
        : list(statement.NotAction).every((a) => !iamWildcard(a, true).test(action));
}
