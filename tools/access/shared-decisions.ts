// Principals alike: one decision shared by every principal that asks the same thing in the same
// way, where nothing in the policies can tell them apart. Every partner's grant carries the same
// permission text, so asked to administer the session key, or where instances stand, they all
// get the same answer; it is evaluated once.
//
// Why it is sound. The evaluator sees who asks through the principal's ARN, account, tags,
// unique id and session name: in a Principal element, in a condition on a key about the
// principal (aws:PrincipalArn, aws:PrincipalTag/..., aws:userid, sts:..., ...), or in a policy
// variable. A request is shared only when every statement that could apply (the asker's own
// that admit the action, and the resource's own policy's) compares only keys about the request
// and the resource (region, time, transport, the resource's tags and account, the document
// check: a fixed list, anything else is not shared), holds no variable, and names principals
// only by account or "*". Then the key of the decision is everything else the evaluator sees:
// the account and kind of principal, the text of those statements, the action, the resource
// and its tags, the time and the request's context. Instance credentials, principals of other
// accounts and principals whose administrator may widen them are never shared.

import { asList, type PolicyDocument, type PolicyStatement } from "../../components/policies";
import type { AccessRequest, DecisionDetail } from "../iam/evaluate";
import type { IamPrincipal } from "../iam/picture";
import { statementAdmits } from "../iam/wildcards";

/** Condition keys about the request and the resource only, never about who asks (lower case). */
const REQUEST_KEYS = new Set([
    "aws:requestedregion",
    "aws:currenttime",
    "aws:securetransport",
    "aws:resourceaccount",
    "aws:tokenissuetime",
    "ssm:sessiondocumentaccesscheck",
]);
const REQUEST_KEY_PATTERNS = [/^[^:]+:resourcetag\//, /^kms:encryptioncontext/];

const aboutTheRequest = (key: string) => REQUEST_KEYS.has(key.toLowerCase()) || REQUEST_KEY_PATTERNS.some((p) => p.test(key.toLowerCase()));

// Whether a statement cannot tell principals of one account apart.
function blind(statement: PolicyStatement): boolean {
    if (JSON.stringify(statement).includes("${")) return false;
    if ((statement as { NotPrincipal?: unknown }).NotPrincipal !== undefined) return false;
    const principal = statement.Principal;
    if (principal !== undefined && principal !== "*") {
        if (principal.Federated !== undefined) return false;
        if (!asList<string>(principal.AWS).every((p) => p === "*" || /^\d{12}$/.test(p) || /^arn:[^:]+:iam::\d{12}:root$/.test(p))) return false;
    }
    return Object.values(statement.Condition ?? {}).every((keys) => Object.keys(keys).every(aboutTheRequest));
}

/** Decisions shared by principals alike, for one side. */
export class SharedDecisions {
    private readonly decisions = new Map<string, Promise<DecisionDetail>>();
    private readonly statementsOf = new Map<string, string | null>();
    /** Each distinct text of applying statements, by a short number: the keys stay small. */
    private readonly texts = new Map<string, string>();

    /** The statements that could apply (a number standing for their text), or null if one of them can tell principals apart. */
    private applying(owner: string, statements: PolicyStatement[], action: string): string | null {
        const key = `${owner}\n${action}`;
        let found = this.statementsOf.get(key);
        if (found === undefined) {
            const applying = statements.filter((s) => statementAdmits(s, action));
            if (applying.every(blind)) {
                const text = JSON.stringify(applying);
                found = this.texts.get(text) ?? String(this.texts.size);
                this.texts.set(text, found);
            } else found = null;
            this.statementsOf.set(key, found);
        }
        return found;
    }

    /**
     * The decision of `request` by `asker` (a principal the stacks create, asking as it is), shared
     * with every principal alike; `decide` evaluates it when no principal alike has asked yet.
     */
    decide(
        asker: IamPrincipal,
        request: AccessRequest,
        resourcePolicy: { arn: string; document?: PolicyDocument },
        decide: () => Promise<DecisionDetail>,
    ): Promise<DecisionDetail> {
        if (request.instanceCredentials !== undefined || request.throughVpc !== undefined || request.resourcePolicy !== undefined) return decide();
        const own = this.applying(
            asker.arn,
            asker.policies.flatMap((p) => p.document.Statement),
            request.action,
        );
        const theirs = this.applying(resourcePolicy.arn, resourcePolicy.document?.Statement ?? [], request.action);
        if (own === null || theirs === null) return decide();
        const key = JSON.stringify([
            asker.accountId,
            asker.kind,
            own,
            resourcePolicy.arn,
            request.action,
            request.resource,
            request.resourceTags ?? {},
            request.at ?? "",
            request.sessionName ?? "",
            request.context ?? {},
        ]);
        let found = this.decisions.get(key);
        if (found === undefined) {
            found = decide();
            this.decisions.set(key, found);
        }
        return found;
    }
}
