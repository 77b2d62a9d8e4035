// The resources the access model asks about: every resource the stacks create, every
// resource a policy of theirs names (wildcards made concrete), and, for each resource type
// an action takes, a representative of the ones the stacks do not create (an untagged
// instance, an instance tagged for another partner, any parameter, any bucket, ...).
// Each carries the tags a request on it would present.

import { AWS_SESSION_DOCUMENTS } from "../../components/constants";
import { asList } from "../../components/policies";
import type { IamPicture } from "../iam/picture";
import { fillArnPattern, resourcesOfAction, resourceTypesOfArn } from "./actions";

/** One resource a request may name. */
export interface CandidateResource {
    arn: string;
    /** What it is, in words: "instance web-a", "a parameter this stack does not create". */
    label: string;
    /** The stacks create it; a policy of theirs names it; or it stands for resources the stacks do not create. */
    origin: "stack" | "named" | "elsewhere";
    /** Tags a request on it presents (`aws:ResourceTag/*`, `ssm:resourceTag/*`). */
    tags?: Record<string, string>;
}

/** A candidate resource as one action sees it: of which of the action's resource types ("*" for none). */
export interface TypedResource extends CandidateResource {
    type: string;
}

/** A partner name no stack uses: the tag value of "an instance tagged for another partner". */
export const ANOTHER_PARTNER = "Another_Partner_Not_In_This_Stack";

/** The session-id tag Session Manager puts on a session: the `${aws:userid}` of whoever started it. */
export const SESSION_ID_TAG = "aws:ssmmessages:session-id";

// A resource name built from an ARN pattern's variable: "${ParameterNameWithoutLeadingSlash}" -> "other-parameter-name-without-leading-slash".
const kebab = (variable: string) => `other-${variable.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;

// Wildcards made concrete, so the resource a policy names can be asked about: "bucket/sessions/*" -> "bucket/sessions/any".
const concrete = (pattern: string) =>
    pattern
        .replace(/\$\{[^}]+\}/g, "any")
        .replace(/\*/g, "any")
        .replace(/\?/g, "x");

/** The resources a picture holds, and how to find those an action on some account may name. */
export class ResourceCatalogue {
    private readonly pool = new Map<string, CandidateResource>();
    private readonly elsewhere = new Map<string, CandidateResource[]>();

    constructor(
        private readonly picture: IamPicture,
        private readonly accessTagKey: string,
    ) {
        const { partition, region } = picture;
        const add = (resource: CandidateResource) => {
            if (!this.pool.has(resource.arn)) this.pool.set(resource.arn, resource);
        };
        for (const instance of picture.instances) add({ arn: instance.arn, label: `instance ${instance.name}`, origin: "stack", tags: instance.tags });
        for (const principal of picture.principals) add({ arn: principal.arn, label: `${principal.kind} ${principal.name}`, origin: "stack" });
        for (const group of picture.logGroups) {
            add({ arn: group.arn, label: `log group ${group.name}`, origin: "stack" });
            add({ arn: `${group.arn}:log-stream:any-stream`, label: `a stream of log group ${group.name}`, origin: "stack" });
        }
        for (const policy of picture.resourcePolicies.filter((r) => r.kind === "kms-key"))
            add({ arn: policy.arn, label: `KMS key ${policy.arn.split("/").pop()}`, origin: "stack" });
        for (const bucket of picture.buckets) {
            const name = bucket.arn.split(":::")[1];
            add({ arn: bucket.arn, label: `bucket ${name}`, origin: "stack" });
            add({ arn: `${bucket.arn}/any-object`, label: `an object in bucket ${name}`, origin: "stack" });
        }
        for (const secret of picture.secrets) add({ arn: secret.arn, label: `secret ${secret.name}`, origin: "stack" });
        for (const document of picture.documents) add({ arn: document.arn, label: `document ${document.name}`, origin: "stack" });
        // Documents AWS owns name no account; the evaluator needs one, so they are named in each account that has grants.
        for (const account of new Set(picture.principals.map((p) => p.accountId))) {
            for (const name of Object.values(AWS_SESSION_DOCUMENTS)) {
                add({ arn: `arn:${partition}:ssm:${region}:${account}:document/${name}`, label: `AWS-owned document ${name}`, origin: "elsewhere" });
            }
        }
        // What the policies name, made concrete ("log-group:x:*" becomes a stream of x).
        const documents = [
            ...picture.principals.flatMap((p) => p.policies.map((policy) => policy.document)),
            ...picture.resourcePolicies.map((r) => r.document),
        ];
        for (const statement of documents.flatMap((d) => d.Statement)) {
            for (const pattern of asList(statement.Resource)) {
                if (pattern === "*" || !pattern.startsWith("arn:")) continue;
                add({ arn: concrete(pattern), label: `a resource matching ${pattern}`, origin: "named" });
            }
        }
    }

    /** Every resource of the picture and every resource its policies name. */
    get known(): CandidateResource[] {
        return [...this.pool.values()];
    }

    /**
     * The resources a request for `action` by a principal of `accountId` may name, each with
     * the resource type of the action it is; actions that take only "*" get "*".
     */
    async forAction(action: string, accountId: string): Promise<TypedResource[]> {
        const { resourceTypes } = await resourcesOfAction(action);
        if (resourceTypes.length === 0) return [{ arn: "*", label: "*", origin: "elsewhere", type: "*" }];
        const service = action.split(":")[0];
        const keys = new Set(resourceTypes.map((t) => t.key));
        const found: TypedResource[] = [];
        for (const resource of this.pool.values()) {
            const type = (await resourceTypesOfArn(service, resource.arn)).find((key) => keys.has(key));
            if (type !== undefined) found.push({ ...resource, type });
        }
        for (const type of resourceTypes) found.push(...this.elsewhereOf(service, type, accountId).map((r) => ({ ...r, type: type.key })));
        return dedupe(found);
    }

    // Resources of a type the stacks do not create, in the caller's account and the stack's region.
    private elsewhereOf(service: string, type: { key: string; arn: string }, accountId: string): CandidateResource[] {
        const key = `${service}|${type.key}|${accountId}`;
        let found = this.elsewhere.get(key);
        if (found === undefined) {
            const scope = { partition: this.picture.partition, region: this.picture.region, accountId };
            const arn = fillArnPattern(type.arn, scope, kebab);
            const label = `${/^[aeiou]/.test(type.key) ? "an" : "a"} ${type.key} this stack does not create`;
            found = [{ arn, label, origin: "elsewhere" }];
            if (type.key === "instance" || type.key === "managed-instance") {
                // Instances are reached by tag: one without the access tag, one tagged for someone else.
                found = [
                    { arn, label: `an untagged ${type.key} this stack does not create`, origin: "elsewhere", tags: {} },
                    {
                        arn: arn.replace(/[^/]+$/, "other-instance-of-another-partner"),
                        label: `${type.key === "instance" ? "an instance" : "a managed instance"} tagged ${this.accessTagKey}=${ANOTHER_PARTNER}`,
                        origin: "elsewhere",
                        tags: { [this.accessTagKey]: ANOTHER_PARTNER },
                    },
                ];
            }
            if (type.key === "session") {
                found = [
                    { arn, label: "a session someone else started", origin: "elsewhere", tags: { [SESSION_ID_TAG]: "AROAOTHERPERSON0000000:someone-else" } },
                ];
            }
            this.elsewhere.set(key, found);
        }
        return found;
    }
}

function dedupe<T extends CandidateResource>(resources: T[]): T[] {
    const seen = new Set<string>();
    return resources.filter((r) => {
        const key = `${r.arn}|${JSON.stringify(r.tags ?? {})}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}
