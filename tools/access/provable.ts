// What the exhaustive proof cannot decide, said out loud instead of passed in silence: an
// Allow whose conditions test a key the access model never sets (the evaluator judges the
// key absent, so what the statement allows where the key is present is never asked), a
// principal the model has no subject for (web identity, SAML, NotPrincipal), and a policy
// document, or another grant of access, on a resource the IAM picture does not read. Each
// is a finding: the proof holds only for what it can evaluate.

import { RUN_AS_TAG_KEY, personOsUser } from "../../components/constants";
import { asList, type PolicyDocument, type PolicyStatement } from "../../components/policies";
import { statementAdmits } from "../iam/wildcards";
import type { IamPicture } from "../iam/picture";
import type { ProgramRun } from "../mock-engine";

/** Condition keys the requests of the model carry (tools/iam/evaluate.ts, probes.ts, enumerate.ts), lower case. */
const MODELLED_KEYS = new Set(
    [
        "aws:CurrentTime",
        "aws:TokenIssueTime",
        "aws:SecureTransport",
        "aws:RequestedRegion",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:userid",
        "aws:username",
        "aws:ResourceAccount",
        "aws:SourceVpc",
        "aws:ViaAWSService",
        "aws:SourceIdentity",
        "aws:ec2InstanceSourceVPC",
        "aws:ec2InstanceSourcePrivateIPv4",
        "ec2:SourceInstanceARN",
        "sts:ExternalId",
        "sts:SourceIdentity",
        "sts:RoleSessionName",
        "ssm:SessionDocumentAccessCheck",
        "aws:MultiFactorAuthPresent",
        "aws:MultiFactorAuthAge",
    ].map((k) => k.toLowerCase()),
);

/** Tag keys the model sets from the principals' and resources' own tags. */
const MODELLED_KEY_PATTERNS = [/^aws:principaltag\//, /^aws:resourcetag\//, /^[a-z0-9-]+:resourcetag\//];

const modelled = (key: string) => MODELLED_KEYS.has(key.toLowerCase()) || MODELLED_KEY_PATTERNS.some((p) => p.test(key.toLowerCase()));

/** Keys the model sets only on AssumeRole and TagSession requests to a per-person grant (enumerate.ts): the Run As session tag. */
const RUN_AS_REQUEST_KEYS = new Set([`aws:RequestTag/${RUN_AS_TAG_KEY}`, "aws:TagKeys"].map((k) => k.toLowerCase()));

/** Inputs holding a policy document that the IAM picture reads, by resource type. */
const READ_POLICY_INPUTS: Record<string, string[]> = {
    "aws:iam/role:Role": ["assumeRolePolicy", "inlinePolicies"],
    "aws:iam/policy:Policy": ["policy"],
    "aws:iam/rolePolicy:RolePolicy": ["policy"],
    "aws:iam/userPolicy:UserPolicy": ["policy"],
    "aws:iam/groupPolicy:GroupPolicy": ["policy"],
    "aws:ec2/vpcEndpoint:VpcEndpoint": ["policy"],
    "aws:kms/key:Key": ["policy"],
    "aws:kms/keyPolicy:KeyPolicy": ["policy"],
    "aws:s3/bucketPolicy:BucketPolicy": ["policy"],
    "aws:secretsmanager/secret:Secret": ["policy"],
    "aws:secretsmanager/secretPolicy:SecretPolicy": ["policy"],
    "aws:sns/topicPolicy:TopicPolicy": ["policy"],
};

/** Grants of access that are not policy documents: whoever they name gets in without the model seeing it. */
const UNMODELLED_GRANTS: Record<string, (inputs: Record<string, any>) => boolean> = {
    "aws:ssm/document:Document": (inputs) => inputs.permissions !== undefined,
    "aws:lambda/permission:Permission": () => true,
    "aws:ec2/amiLaunchPermission:AmiLaunchPermission": () => true,
    "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission": () => true,
    "aws:ram/principalAssociation:PrincipalAssociation": () => true,
    "aws:kms/grant:Grant": () => true,
};

function isPolicyDocument(value: unknown): boolean {
    if (typeof value !== "string" || !value.includes("Statement")) return false;
    try {
        return Array.isArray(JSON.parse(value)?.Statement);
    } catch {
        return false;
    }
}

// A statement only AWS services may use (a key policy's statement for CloudWatch Logs): outside the model, documented.
const servicesOnly = (s: PolicyStatement) => {
    const principal = s.Principal;
    return typeof principal === "object" && principal.Service !== undefined && principal.AWS === undefined && principal.Federated === undefined;
};

/**
 * What the proof cannot evaluate in one document. `tagged(statement)` says whether the model asks
 * the statement's requests with the Run As session tag: statements of a per-person grant's trust,
 * and statements on such grants alone.
 */
function statementProblems(where: string, document: PolicyDocument | undefined, tagged: (statement: PolicyStatement) => boolean = () => false): string[] {
    const problems: string[] = [];
    (document?.Statement ?? []).forEach((statement, index) => {
        if (statement.Effect !== "Allow" || servicesOnly(statement)) return;
        const name = `${where}, statement ${statement.Sid ?? index + 1}`;
        // The model always presents the document check; without the condition AWS checks no document at all.
        const onInstances = asList(statement.Resource).some((r) => r === "*" || /:(instance|managed-instance)\//.test(r));
        const checked = Object.values(statement.Condition ?? {}).some((keys) =>
            Object.keys(keys).some((k) => k.toLowerCase() === "ssm:sessiondocumentaccesscheck"),
        );
        if (statementAdmits(statement, "ssm:StartSession") && onInstances && !checked)
            problems.push(
                `${name} allows ssm:StartSession on instances without ssm:SessionDocumentAccessCheck: Session Manager then checks no document, so any session document is usable`,
            );
        const principal = statement.Principal;
        if (typeof principal === "object" && principal.Federated !== undefined)
            problems.push(`${name} admits federated principals (${asList(principal.Federated).join(", ")}): web identity and SAML callers are not modelled`);
        if ((statement as { NotPrincipal?: unknown }).NotPrincipal !== undefined) problems.push(`${name} uses NotPrincipal, which the model does not evaluate`);
        for (const [operator, keys] of Object.entries(statement.Condition ?? {}))
            for (const key of Object.keys(keys))
                if (!modelled(key) && !(RUN_AS_REQUEST_KEYS.has(key.toLowerCase()) && tagged(statement)))
                    problems.push(
                        `${name} allows on condition ${operator} ${key}, a key the model never sets: it is judged absent, so what the statement allows where it is present is unproven`,
                    );
    });
    return problems;
}

/**
 * A per-person grant's trust binds the Run As tag to the person in one form only: StringEquals
 * with `<base>-${aws:SourceIdentity}`, and aws:TagKeys limited by ForAllValues:StringEquals to
 * the Run As key. The model asks a few other values (another person's, root, every literal the
 * trust names, none); a comparison of another form (a pattern, another variable, another key
 * let through) may allow values it never asks, so it is said to be unproven.
 */
function runAsBindingProblems(where: string, document: PolicyDocument | undefined, base: string): string[] {
    const bound: Record<string, { operator: string; values: string[] }> = {
        [`aws:requesttag/${RUN_AS_TAG_KEY.toLowerCase()}`]: { operator: "StringEquals", values: [personOsUser(base, "${aws:SourceIdentity}")] },
        "aws:tagkeys": { operator: "ForAllValues:StringEquals", values: [RUN_AS_TAG_KEY] },
    };
    const problems: string[] = [];
    (document?.Statement ?? []).forEach((statement, index) => {
        if (statement.Effect !== "Allow") return;
        for (const [operator, keys] of Object.entries(statement.Condition ?? {}))
            for (const [key, value] of Object.entries(keys)) {
                const form = bound[key.toLowerCase()];
                const values = asList(value as string | string[]);
                if (form !== undefined && (operator !== form.operator || values.length !== 1 || values[0] !== form.values[0]))
                    problems.push(
                        `${where}, statement ${statement.Sid ?? index + 1} compares ${key} by ${operator} with ${JSON.stringify(values)}: per person only ${form.operator} with ${JSON.stringify(form.values[0])} keeps the Run As tag bound to the person and other tags out; the proof asks a few other values, so what this allows is unproven`,
                    );
            }
    });
    return problems;
}

/**
 * Everything in these runs and their picture that the proof cannot evaluate, in words.
 * `perPersonGrants`: the roles whose sessions the model tags with a person's Run As user, with the base of their people's OS users.
 */
export function unprovable(runs: ProgramRun[], picture: IamPicture, perPersonGrants: ReadonlyMap<string, string> = new Map()): string[] {
    const problems: string[] = [];
    const onPerPersonGrants = (statement: PolicyStatement) => {
        const resources = asList(statement.Resource);
        return (statement as { NotResource?: unknown }).NotResource === undefined && resources.length > 0 && resources.every((r) => perPersonGrants.has(r));
    };
    for (const principal of picture.principals) {
        const base = perPersonGrants.get(principal.arn);
        problems.push(...statementProblems(`the trust of ${principal.kind} ${principal.name}`, principal.trustPolicy, () => base !== undefined));
        if (base !== undefined) problems.push(...runAsBindingProblems(`the trust of ${principal.kind} ${principal.name}`, principal.trustPolicy, base));
        for (const policy of principal.policies)
            problems.push(...statementProblems(`policy ${policy.name} of ${principal.kind} ${principal.name}`, policy.document, onPerPersonGrants));
    }
    for (const resource of picture.resourcePolicies) problems.push(...statementProblems(`the ${resource.kind} policy of ${resource.arn}`, resource.document));
    for (const run of runs) {
        for (const resource of run.resources) {
            const read = READ_POLICY_INPUTS[resource.type] ?? [];
            for (const [input, value] of Object.entries(resource.inputs))
                if (!read.includes(input) && isPolicyDocument(value))
                    problems.push(`${resource.type} ${resource.name} carries a policy document (${input}) the model does not read`);
            if (UNMODELLED_GRANTS[resource.type]?.(resource.inputs))
                problems.push(`${resource.type} ${resource.name} grants access in a way the model does not read`);
        }
    }
    return problems;
}
