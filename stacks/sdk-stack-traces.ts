// The Pulumi SDK takes a stack trace for every promise it makes (four per output property
// of every resource: about 530 per partner here) and keeps it on the promise, for one
// purpose: printing it beside a leaked promise when PULUMI_DEBUG_PROMISE_LEAKS is set
// (runtime/debuggable.js, `promiseDebugString`). Under ts-node, as Pulumi runs a
// TypeScript program, each trace is also mapped through source maps, frame by frame.
// Together that is most of a plan's CPU time and memory, and grows faster than the plan.
//
// installSdkStackTraceFilter() keeps every trace anyone reads and drops the others:
// - unless PULUMI_DEBUG_PROMISE_LEAKS is set, the SDK's per-promise traces are not taken
//   (the SDK's `debuggablePromise` runs with a stack trace limit of 0) and, should the SDK
//   take them some other way, not formatted;
// - a resource's registration trace (the SDK reads its files, lines and columns to tell the
//   engine where the resource was declared) is source-mapped as before, each distinct frame
//   once instead of once per resource;
// - every other trace, every error's among them, is formatted exactly as before.
// Set PULUMI_DEBUG_PROMISE_LEAKS to have the SDK's behaviour unchanged.

/** The formatter V8 calls for `error.stack` (the V8 stack trace API), source-map-support's under ts-node. */
type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;

const INSTALLED = Symbol.for("third-party-ssm-access.sdkStackTraceFilter");

interface Marked {
    [INSTALLED]?: true;
}

const SDK_FILE = /[\\/]@pulumi[\\/]pulumi[\\/](runtime[\\/]debuggable|resource)\.js$/;

/** Whether the SDK's per-promise traces are wanted: only its leak report prints them, and only then. */
const leakTracesWanted = () => Boolean(process.env.PULUMI_DEBUG_PROMISE_LEAKS);

// The frame that took the trace: where `new Error()` ran.
function takenBy(frames: NodeJS.CallSite[], functionName: string): boolean {
    const top = frames[0];
    return top !== undefined && top.getFunctionName() === functionName && SDK_FILE.test(top.getFileName() ?? "");
}

// V8's own format, for when no formatter is installed.
function plainFormat(error: Error, frames: NodeJS.CallSite[]): string {
    const header = error.message ? `${error.name}: ${error.message}` : error.name;
    return header + frames.map((frame) => `\n    at ${String(frame)}`).join("");
}

// Runs the SDK's debuggablePromise with no stack trace taken. Its callers look it up on the
// module's exports at each call, so replacing the export reaches them all.
function skipPromiseTraces(): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as Record<string, unknown>;
    const original = debuggable.debuggablePromise as ((...args: unknown[]) => unknown) & Marked;
    if (typeof original !== "function" || original[INSTALLED]) return;
    const withoutTrace = function (this: unknown, ...args: unknown[]) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original.apply(this, args);
        } finally {
            Error.stackTraceLimit = limit;
        }
    } as typeof original;
    withoutTrace[INSTALLED] = true;
    debuggable.debuggablePromise = withoutTrace;
}

function filterFormatter(): void {
    const current = Error.prepareStackTrace as (PrepareStackTrace & Marked) | undefined;
    if (current?.[INSTALLED]) return;
    const format: PrepareStackTrace = current ?? plainFormat;
    // Each distinct frame of a registration trace, formatted (and source-mapped) once.
    const frameLines = new Map<string, string>();
    const filter: PrepareStackTrace & Marked = (error, frames) => {
        if (takenBy(frames, "debuggablePromise") && !leakTracesWanted()) return "";
        if (!takenBy(frames, "callsites")) return format(error, frames);
        const header = String(format(error, []));
        let text = header;
        for (const frame of frames) {
            const key = `${frame.getFileName()}:${frame.getLineNumber()}:${frame.getColumnNumber()}:${frame.getFunctionName()}:${frame.getTypeName()}`;
            let line = frameLines.get(key);
            if (line === undefined) {
                line = String(format(error, [frame])).slice(header.length);
                frameLines.set(key, line);
            }
            text += line;
        }
        return text;
    };
    filter[INSTALLED] = true;
    Error.prepareStackTrace = filter as typeof Error.prepareStackTrace;
}

/** Installs the filter once per process (later calls do nothing), around the stack formatter installed now. */
export function installSdkStackTraceFilter(): void {
    if (!leakTracesWanted()) skipPromiseTraces();
    filterFormatter();
}
