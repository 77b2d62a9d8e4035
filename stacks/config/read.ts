// Reading the stack's config from the Pulumi runtime: the project's keys as structured
// values, which of them are secrets, and the one key every program needs first (`side`).

import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfigModule from "@pulumi/pulumi/runtime/config";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors";
import { sideSchema, type Side } from "./schema";

/** The project's config keys (namespace removed), parsed, and which top-level keys are secrets. */
export interface RawConfig {
    project: string;
    values: Record<string, unknown>;
    isSecret(key: string): boolean;
}

// The SDK knows which keys hold secrets but keeps the check internal (not in its typings); read it in one place.
const runtimeConfig = runtimeConfigModule as unknown as { isConfigSecret?: (fullKey: string) => boolean };

/** Edit distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
    }
    return previous[b.length];
}

// A namespace this close to the project's is a typo: its keys would be ignored, and on
// `pulumi up` every partner, say, would silently disappear and its grant be deleted.
const MISSPELT_NAMESPACE_DISTANCE = 3;

function misspeltNamespaceIssues(project: string, keys: string[]): ConfigIssue[] {
    return keys.flatMap((fullKey) => {
        const namespace = fullKey.split(":")[0];
        if (namespace === project || !fullKey.includes(":")) return [];
        if (editDistance(namespace.toLowerCase(), project.toLowerCase()) > MISSPELT_NAMESPACE_DISTANCE) return [];
        return [
            {
                path: fullKey,
                message: `is in the namespace "${namespace}", not this project's "${project}" (a typo?), so the program would never read it; accepted: ${project}:${fullKey.slice(namespace.length + 1)}`,
            },
        ];
    });
}

/** The project's config as the runtime holds it. */
export function readRawConfig(): RawConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const all = pulumi.runtime.allConfig();
    const misspelt = misspeltNamespaceIssues(project, Object.keys(all));
    if (misspelt.length > 0) throw new ConfigError(misspelt);
    const values: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (!fullKey.startsWith(prefix)) continue;
        values[fullKey.slice(prefix.length)] = parseStructured(value);
    }
    if (typeof runtimeConfig.isConfigSecret !== "function") {
        throw new Error("@pulumi/pulumi no longer exposes runtime/config.isConfigSecret; pin the version in package.json");
    }
    const isConfigSecret = runtimeConfig.isConfigSecret;
    return { project, values, isSecret: (key) => isConfigSecret(`${prefix}${key}`) };
}

// Pulumi hands objects and lists to the program as JSON text, scalars as plain text.
function parseStructured(value: string): unknown {
    if (!/^\s*[[{]/.test(value)) return value;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

function keyPath(path: readonly PropertyKey[]): string {
    return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

function issuesOf(error: z.ZodError): ConfigIssue[] {
    return error.issues.flatMap((issue) =>
        issue.code === "unrecognized_keys"
            ? issue.keys.map((key) => ({ path: keyPath([...issue.path, key]), message: issue.message }))
            : [{ path: keyPath(issue.path) || "(top level)", message: issue.message }],
    );
}

/** Parses `values` with `schema`, or throws a ConfigError listing every problem. */
export function parseWith<T>(schema: z.ZodType<T>, values: Record<string, unknown>): T {
    const result = schema.safeParse(values);
    if (!result.success) throw new ConfigError(issuesOf(result.error));
    return result.data;
}

/** Reads the `side` key: which program this stack runs. */
export function readSide(): Side {
    const { values } = readRawConfig();
    const result = sideSchema.safeParse(values.side);
    if (!result.success) {
        throw new ConfigError(issuesOf(result.error).map((issue) => ({ ...issue, path: "side" })));
    }
    return result.data;
}
