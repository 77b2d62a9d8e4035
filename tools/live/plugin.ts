// Opening a session's data channel with AWS's session-manager-plugin, as the AWS CLI
// does after ssm:StartSession. The live check needs it for two things: a session whose
// data channel no client opens may never produce output (and the SSM agent creates the
// session's CloudWatch Logs stream only once there is output to send), and the probe
// typed into the partner's shell, whose answer comes back on the plugin's stdout. The
// plugin is given the session (in an environment variable, as the CLI does, so the
// token is not on a command line) and the input to type, and is stopped after a timeout
// whatever happens.
//
// Its input stays open until the answer is seen: the plugin (src/sessionmanagerplugin/
// session/shellsession/shellsession_unix.go, handleKeyboardInput) ends the session as
// soon as its stdin ends, before the shell has answered.

import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Credentials } from "./aws";

export interface PluginSession {
    sessionId: string;
    streamUrl: string;
    tokenValue: string;
    target: string;
    documentName: string;
    region: string;
    /** The SSM endpoint URL the session was started at. */
    endpoint: string;
    /** The credentials that started the session (the plugin ends the session with them). */
    credentials: Credentials;
    /** What to type into the session. */
    input: string;
    /** Keep the input open until the output matches this (not global); without it, the input ends once typed. */
    endInputWhen?: RegExp;
    timeoutMs: number;
}

export interface PluginOutcome {
    exitCode: number | null;
    timedOut: boolean;
    /** The last part of what it wrote to stderr, for the report. */
    stderr: string;
    /** The last part of what it wrote to stdout: the session's output. */
    stdout: string;
}

/** Characters of stdout kept: the probe's answer is the session's last line but one. */
const STDOUT_KEPT = 16000;

export type PluginRunner = (pluginPath: string, session: PluginSession) => Promise<PluginOutcome>;

/** The plugin's path on PATH, or undefined. */
export function findOnPath(name: string, searchPath = process.env.PATH ?? ""): string | undefined {
    const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
    for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
        for (const candidate of names.map((n) => path.join(dir, n))) {
            try {
                fs.accessSync(candidate, fs.constants.X_OK);
                if (fs.statSync(candidate).isFile()) return candidate;
            } catch {
                // not here
            }
        }
    }
    return undefined;
}

const RESPONSE_VARIABLE = "AWS_SSM_START_SESSION_RESPONSE_VERIFY_LIVE";

/** Runs session-manager-plugin as the AWS CLI does (response, region, operation, profile, request, endpoint). */
export const spawnPlugin: PluginRunner = (pluginPath, session) =>
    new Promise((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env };
        // The session's own credentials, never a profile's.
        delete env.AWS_PROFILE;
        env.AWS_ACCESS_KEY_ID = session.credentials.accessKeyId;
        env.AWS_SECRET_ACCESS_KEY = session.credentials.secretAccessKey;
        if (session.credentials.sessionToken) env.AWS_SESSION_TOKEN = session.credentials.sessionToken;
        else delete env.AWS_SESSION_TOKEN;
        env.AWS_REGION = session.region;
        env[RESPONSE_VARIABLE] = JSON.stringify({ SessionId: session.sessionId, StreamUrl: session.streamUrl, TokenValue: session.tokenValue });
        const request = JSON.stringify({ Target: session.target, DocumentName: session.documentName });
        const child = spawn(pluginPath, [RESPONSE_VARIABLE, session.region, "StartSession", "", request, session.endpoint], {
            env,
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        let inputEnded = false;
        const endInput = () => {
            if (inputEnded) return;
            inputEnded = true;
            child.stdin?.end();
        };
        child.stdout?.setEncoding("utf8");
        child.stdout?.on("data", (chunk: string) => {
            stdout = (stdout + chunk).slice(-STDOUT_KEPT);
            if (session.endInputWhen?.test(stdout)) endInput();
        });
        child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
        }, session.timeoutMs);
        child.on("error", (error) => {
            clearTimeout(timer);
            resolve({ exitCode: null, timedOut, stderr: error.message, stdout });
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ exitCode: code, timedOut, stderr: stderr.trim(), stdout });
        });
        child.stdin?.on("error", () => undefined);
        child.stdin?.write(session.input);
        if (session.endInputWhen === undefined) endInput();
    });

/** How the plugin ended, for a report: "exited with 0", "was stopped after its timeout", and its last stderr line. */
export function pluginSummary(outcome: PluginOutcome): string {
    const how = outcome.timedOut ? "was stopped after its timeout" : `exited with ${outcome.exitCode ?? "an error"}`;
    const stderr = outcome.stderr ? ` (${outcome.stderr.split("\n").pop()})` : "";
    return `${how}${stderr}`;
}
