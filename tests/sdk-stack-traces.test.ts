// The program drops the stack traces the Pulumi SDK takes for its own bookkeeping
// (stacks/sdk-stack-traces.ts) and keeps every trace someone reads: an error's, and the
// source position the SDK tells the engine for each resource.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { installSdkStackTraceFilter } from "../stacks/sdk-stack-traces";
import { PROJECT_ROOT, only, runProgram, type ProgramRun } from "../tools/mock-engine";

// The SDK's per-promise helper, as its modules call it (an internal module, looked up on its exports).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise(p: Promise<unknown>, ctx: string): Promise<unknown> };

const lineOf = (file: string, text: string) =>
    fs
        .readFileSync(path.join(PROJECT_ROOT, file), "utf8")
        .split("\n")
        .findIndex((l) => l.includes(text)) + 1;

function thrownHere(): Error {
    return new Error("an unexpected exception in the program");
}

describe("the SDK's stack traces (stacks/sdk-stack-traces.ts)", () => {
    let run: ProgramRun;
    let traced: Promise<unknown> & { _debugStackTrace?: string };
    before(async () => {
        installSdkStackTraceFilter();
        run = await runProgram({
            stack: "yours",
            program: async () => {
                traced = Promise.resolve(1);
                await debuggable.debuggablePromise(traced, "a promise of the SDK's");
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                return require(path.join(PROJECT_ROOT, "index"))();
            },
        });
        if (run.error) throw run.error;
    });

    it("takes no trace for a promise of the SDK's (only its leak report would print one)", () => {
        expect(traced._debugStackTrace).to.be.a("string");
        expect(traced._debugStackTrace).to.not.include("\n    at ");
    });

    it("keeps an error's trace, source-mapped to the TypeScript that threw it", () => {
        const stack = String(thrownHere().stack);
        expect(stack).to.match(/^Error: an unexpected exception in the program\n {4}at thrownHere \(.*tests[\\/]sdk-stack-traces\.test\.ts:\d+:\d+\)/);
        expect(stack).to.include(`sdk-stack-traces.test.ts:${lineOf("tests/sdk-stack-traces.test.ts", 'return new Error("an unexpected exception')}:`);
    });

    it("tells the engine where each resource was declared, in the TypeScript source, as before", () => {
        const role = only(run, "aws:iam/role:Role", "grant-Third_Party_A-role");
        expect(role.sourcePosition?.uri).to.match(/components[\\/]third-party-grant\.ts$/);
        expect(role.sourcePosition?.line).to.equal(lineOf("components/third-party-grant.ts", "const role = new aws.iam.Role("));
        const policy = only(run, "aws:iam/rolePolicy:RolePolicy", "grant-Third_Party_A-session-access");
        expect(policy.sourcePosition?.line).to.equal(lineOf("components/third-party-grant.ts", "new aws.iam.RolePolicy("));
    });

    it("installs once: a second call leaves the formatter and the SDK's helper as they are", () => {
        const formatter = Error.prepareStackTrace;
        const helper = debuggable.debuggablePromise;
        installSdkStackTraceFilter();
        expect(Error.prepareStackTrace).to.equal(formatter);
        expect(debuggable.debuggablePromise).to.equal(helper);
    });

    it("is installed by the program itself (index.ts), as Pulumi loads it, not only by the tests", () => {
        // A fresh process without tests/setup.ts: loading the program is what installs the filter.
        const script = `
            require("ts-node").register({ transpileOnly: true });
            const before = Error.prepareStackTrace;
            require("./index");
            process.stdout.write(String(Error.prepareStackTrace !== before && Error.prepareStackTrace[Symbol.for("third-party-ssm-access.sdkStackTraceFilter")] === true));`;
        expect(execFileSync(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, encoding: "utf8" })).to.equal("true");
    });

    it("with PULUMI_DEBUG_PROMISE_LEAKS set, the SDK's traces are taken as before", () => {
        const script = `
            require("ts-node").register({ transpileOnly: true });
            require("./stacks/sdk-stack-traces").installSdkStackTraceFilter();
            const p = Promise.resolve(1);
            try { require("@pulumi/pulumi/runtime/debuggable").debuggablePromise(p, "x"); } catch (e) { /* no Pulumi run here: the trace is taken first */ }
            process.stdout.write(String(p._debugStackTrace));`;
        const trace = execFileSync(process.execPath, ["-e", script], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, PULUMI_DEBUG_PROMISE_LEAKS: "1" },
            encoding: "utf8",
        });
        expect(trace).to.match(/^Error\n {4}at (Object\.)?debuggablePromise /);
    });
});
