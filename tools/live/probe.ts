// The metadata probe typed into the partner's shell through session-manager-plugin: an
// IMDSv2 token request as the session's own user, then who that user is, then `exit`.
// The metadata guard (components/metadata-guard-scripts.ts) rejects traffic to the
// metadata service from every user but root, so the request must find no connection.

import { INSTANCE_METADATA_ADDRESSES } from "../../components/metadata-guard-scripts";
import { CHECKS } from "./checks";
import { pluginSummary, type PluginOutcome } from "./plugin";
import { fail, pass, type CheckResult } from "./verdicts";

/**
 * The probe, one line of POSIX sh (sessions start `sh`). The token request (PUT, 2 s to
 * connect, 4 s in all) throws the body away: a token is never printed into the session's
 * transcript, only its HTTP status and size. The answer's marker is printed from two words,
 * so the terminal's echo of the typed line never matches it.
 */
export const METADATA_PROBE =
    `c=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --connect-timeout 2 -m 4 -X PUT ` +
    `-H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://${INSTANCE_METADATA_ADDRESSES.ipv4}/latest/api/token); r=$?; ` +
    `printf '%s-%s user=%s uid=%s curl=%s http=%s bytes=%s\\n' VERIFYLIVE IMDSPROBE "$(id -un)" "$(id -u)" "$r" \${c:-none none}; exit\n`;

/** The probe's answer in the session's output. Not global: the plugin runner tests it on every chunk. */
export const PROBE_ANSWER = /VERIFYLIVE-IMDSPROBE user=(\S*) uid=(\S*) curl=(\S*) http=(\S*) bytes=(\S*)/;

/** curl's exit codes that mean no connection was made: 7 refused (the guard's reject) or not permitted, 28 timed out (a drop). */
const NO_CONNECTION: Record<string, string> = { "7": "connection refused or not permitted (curl exit 7)", "28": "timed out (curl exit 28)" };

/** The verdict on the probe, from what the plugin printed; `runAsUser` is the OS user the grant's sessions must run as. */
export function judgeProbe(outcome: PluginOutcome, runAsUser: string | undefined): CheckResult {
    const id = "metadataRefused";
    const title = CHECKS.metadataRefused;
    const answers = [...outcome.stdout.replace(/\r/g, "").matchAll(new RegExp(PROBE_ANSWER.source, "g"))];
    const answer = answers.at(-1);
    if (answer === undefined) {
        const lastLine = outcome.stdout.replace(/\r/g, "").trim().split("\n").pop();
        return fail(
            id,
            title,
            `no probe answer in the session's output; session-manager-plugin ${pluginSummary(outcome)}${lastLine ? `; last output: ${lastLine}` : ""}`,
        );
    }
    const [, user, uid, curlExit, status, bytes] = answer;
    const problems: string[] = [];
    let metadata: string;
    if (curlExit === "0" && status === "200") {
        metadata = `a token came back (HTTP 200, ${bytes} bytes)`;
        problems.push(`${user} got a metadata token (HTTP 200, ${bytes} bytes): the metadata guard is not in effect on this instance`);
    } else if (curlExit === "0") {
        // No token, but a connection: the guard, which rejects the connection itself, is not what refused.
        metadata = `answered HTTP ${status} without a token`;
        problems.push(`the metadata service ${metadata}: ${user} reached it, so the metadata guard is not in effect on this instance`);
    } else if (NO_CONNECTION[curlExit] !== undefined) {
        metadata = NO_CONNECTION[curlExit];
    } else {
        metadata = curlExit === "127" ? "curl is not on the instance" : `curl exit ${curlExit}`;
        problems.push(`the token request proved nothing: ${metadata}, neither a refusal nor a token`);
    }
    if (user === "root" || uid === "0") problems.push(`the shell runs as ${user} (uid ${uid})`);
    else if (runAsUser !== undefined && user !== runAsUser) problems.push(`the shell runs as ${user}, not the grant's Run As user ${runAsUser}`);
    if (problems.length > 0) return fail(id, title, problems.join("; "));
    const expected = runAsUser === undefined ? " (the yours stack's outputs name no runAsUser: only checked it is not root)" : "";
    return pass(id, title, `as ${user} (uid ${uid})${expected}: metadata token request ${metadata}`);
}
