// Compares what two runs registered, resource by resource (by URN): what was added,
// removed, or registered with different inputs. `pulumi preview` would show the same.

import type { ProgramRun, RecordedResource } from "./mock-engine";

export interface RunDiff {
    added: RecordedResource[];
    removed: RecordedResource[];
    /** Resources in both runs whose inputs differ. */
    changed: RecordedResource[];
}

export function diffRuns(before: ProgramRun, after: ProgramRun): RunDiff {
    const afterByUrn = new Map(after.resources.map((r) => [r.urn, r]));
    const beforeUrns = new Set(before.resources.map((r) => r.urn));
    return {
        added: after.resources.filter((r) => !beforeUrns.has(r.urn)),
        removed: before.resources.filter((r) => !afterByUrn.has(r.urn)),
        changed: before.resources.filter((r) => {
            const other = afterByUrn.get(r.urn);
            return other !== undefined && JSON.stringify(other.inputs) !== JSON.stringify(r.inputs);
        }),
    };
}

/** Longest chain of dependent custom resources, counting only `within` (default: all). */
export function criticalPath(run: ProgramRun, within?: Set<string>): number {
    const byUrn = new Map(run.resources.filter((r) => r.custom).map((r) => [r.urn, r]));
    const counted = within ?? new Set(byUrn.keys());
    const depth = new Map<string, number>();
    const visit = (urn: string): number => {
        const known = depth.get(urn);
        if (known !== undefined) return known;
        depth.set(urn, 0); // cycle guard; the engine refuses cycles anyway
        const resource = byUrn.get(urn)!;
        const deepest = Math.max(0, ...resource.dependencies.filter((d) => byUrn.has(d) && counted.has(d)).map(visit));
        const own = deepest + (counted.has(urn) ? 1 : 0);
        depth.set(urn, own);
        return own;
    };
    return Math.max(0, ...[...counted].filter((u) => byUrn.has(u)).map(visit));
}
