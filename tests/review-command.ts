// Runs `npm run review`'s script as the command does (ts-node, transpile-only), for tests
// of its output and exit codes.

import { execFile } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../tools/mock-engine";

export interface CommandResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the review command of the project in `root` (default this one) from that directory. */
export function runReviewCommand(args: string[], root = PROJECT_ROOT): Promise<CommandResult> {
    return new Promise((done) => {
        execFile(
            process.execPath,
            // As package.json's script: a larger young generation (the evaluator's short-lived objects), ts-node, transpile-only.
            ["--max-semi-space-size=128", "-r", require.resolve("ts-node/register/transpile-only"), path.join(root, "tools/review/cli.ts"), ...args],
            { cwd: root },
            (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
    });
}
