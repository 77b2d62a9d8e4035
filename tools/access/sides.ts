// The two sides of an access diff: the stack as it is in the working tree, and as it was
// at a git ref (its config, components and policies, from a copy of that commit's tree)
// or with another config file. Both sides run under the mock engine with the same
// referenced stacks, each program in its own module scope, and are evaluated by this
// tree's access model.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { FakeStack, ProgramRun } from "../mock-engine";
import { runReferencedStacks, runWithReferences, type ReferencedStacks, type ReviewRuns } from "../stack-runs";
import { diffAccess, type AccessDiff } from "./diff";
import { guardOf, modelsOf, prepareSide, type PreparedSide } from "./model";

/** One side: the program to run and the stack config to run it with (absent: the stack does not exist on that side). */
export interface Side {
    /** What this side is, in words, for messages: "the working tree", "main (1a2b3c4)". */
    name: string;
    programRoot: string;
    configFile?: string;
}

export interface DiffOptions {
    stack: string;
    before: Side;
    after: Side;
    /** Evaluation time (ISO), the same for both sides. */
    at: string;
    /** Outputs of referenced stacks that have no config file here. */
    stackOutputs?: Record<string, FakeStack>;
    log?: (line: string) => void;
}

/** A side's program failed: its config or code is in error. */
export class SideError extends Error {
    constructor(
        readonly side: string,
        readonly cause: unknown,
    ) {
        super(`${side}: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "SideError";
    }
}

// A side on which the stack does not exist: only the referenced stacks hold access.
function absentRun(stack: string, like: ProgramRun | undefined): ProgramRun {
    return {
        stack,
        account: like?.account ?? "",
        region: like?.region ?? "",
        partition: like?.partition ?? "aws",
        resources: [],
        invokes: [],
        outputs: {},
    };
}

function prepared(side: Side, stack: string, runs: ReviewRuns | undefined, fallback: ReviewRuns): Promise<PreparedSide> {
    if (runs === undefined) return prepareSide({ main: absentRun(stack, fallback.main), referenced: fallback.referenced });
    if (runs.main.error !== undefined) throw new SideError(side.name, runs.main.error);
    return prepareSide(runs, guardOf(side.programRoot));
}

/** Runs both sides and returns the difference in access from `before` to `after`. */
export async function diffStacks(options: DiffOptions): Promise<AccessDiff> {
    const { stack, before, after, at } = options;
    const log = options.log ?? (() => undefined);
    if (before.configFile === undefined && after.configFile === undefined) throw new Error(`stack ${stack} exists on neither side`);
    // The same referenced stacks for both sides, from the working tree: only the stack under review differs.
    const configFiles = [after.configFile, before.configFile].filter((f): f is string => f !== undefined);
    let references: ReferencedStacks;
    try {
        references = await runReferencedStacks(configFiles, options.stackOutputs, log);
    } catch (error) {
        throw new SideError("a stack it references", error);
    }
    const run = async (side: Side) => {
        if (side.configFile === undefined) return undefined;
        try {
            return await runWithReferences({ stack, configFile: side.configFile }, references, (line) => log(`${side.name}: ${line}`), side.programRoot);
        } catch (error) {
            throw new SideError(side.name, error);
        }
    };
    const afterRuns = await run(after);
    const beforeRuns = await run(before);
    const fallback = (afterRuns ?? beforeRuns)!;
    const started = Date.now();
    const diff = await diffSides(await prepared(before, stack, beforeRuns, fallback), await prepared(after, stack, afterRuns, fallback), at, {
        side: after.name,
        against: before.name,
        log,
    });
    log(`evaluated ${diff.evaluations.before} + ${diff.evaluations.after} requests in ${Date.now() - started} ms`);
    return diff;
}

/** The difference in access from one prepared side to another, both asked the same questions (the resources and subjects of either). */
export async function diffSides(
    before: PreparedSide,
    after: PreparedSide,
    at: string,
    names: { side: string; against: string; log?: (line: string) => void },
): Promise<AccessDiff> {
    const sideName = [names.against, names.side];
    const { universe, models } = await modelsOf([before, after], at, { progress: (side, line) => names.log?.(`${sideName[side]}: ${line}`) });
    return diffAccess(universe, models[0], models[1], { side: names.side, against: names.against });
}

/** A commit's tree, copied out of git to run its program. */
export interface CommittedTree {
    /** The directory holding the project as it was at the commit (the project's own folder, when it is not the repository's root). */
    programRoot: string;
    commit: string;
    /** The commit's package-lock.json differs from the working tree's: its program runs with the working tree's packages. */
    lockfileDiffers: boolean;
    /** Removes the copy. */
    dispose(): void;
}

function git(projectRoot: string, args: string[]): string {
    return execFileSync("git", ["-C", projectRoot, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/**
 * Copies the project's tree at `ref` into a temporary directory (`git archive`), with the
 * working tree's node_modules linked in, so its program runs as it was at that commit.
 */
export function checkOutRef(projectRoot: string, ref: string): CommittedTree {
    let top: string;
    try {
        top = git(projectRoot, ["rev-parse", "--show-toplevel"]);
    } catch {
        throw new Error(
            `--against needs the project in a git repository (${projectRoot} is not in one); compare with a config file instead: --against-config <file>`,
        );
    }
    let commit: string;
    try {
        commit = git(projectRoot, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch {
        throw new Error(`--against: "${ref}" is not a commit of this repository (a branch, tag or commit hash; fetch it first if it is remote)`);
    }
    const prefix = git(projectRoot, ["rev-parse", "--show-prefix"]).replace(/\/$/, "");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "access-diff-"));
    const dispose = () => {
        fs.rmSync(path.join(dir, "node_modules"), { force: true }); // the link, never what it points to
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        const archive = execFileSync("git", ["-C", top, "archive", "--format=tar", prefix ? `${commit}:${prefix}` : commit], {
            maxBuffer: 1 << 30,
            stdio: ["ignore", "pipe", "pipe"],
        });
        execFileSync("tar", ["-x", "-C", dir], { input: archive, stdio: ["pipe", "ignore", "pipe"] });
        if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) throw new Error(`--against: the project at ${ref} has no Pulumi.yaml`);
        // A repository may track a node_modules link of its own: this checkout's packages replace it.
        fs.rmSync(path.join(dir, "node_modules"), { recursive: true, force: true });
        fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
    } catch (error) {
        dispose();
        throw error;
    }
    const lockfile = (root: string) =>
        fs.existsSync(path.join(root, "package-lock.json")) ? fs.readFileSync(path.join(root, "package-lock.json"), "utf8") : "";
    return { programRoot: dir, commit, lockfileDiffers: lockfile(dir) !== lockfile(projectRoot), dispose };
}
