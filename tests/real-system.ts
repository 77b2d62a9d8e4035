// What the tests that run scripts for real on this machine share: whether they can run
// here, skipping loudly where they cannot (or failing, where CI says they must run), and
// fingerprints of the host's /etc and firewall rules, to show they are left as they were.

import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * Set by `.ci/run` where the machine can run these tests (root, Linux, namespaces): a test
 * that would skip fails instead, so CI never passes with the real-system tests quietly off.
 */
export const REAL_SYSTEM_ENV = "THIRD_PARTY_SSM_REAL_SYSTEM";
const required = () => process.env[REAL_SYSTEM_ENV] === "required";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/**
 * Why scripts cannot run for real here, or undefined when they can: Linux, root, every
 * tool named, and the namespaces asked for (`unshare` flags such as `--net`).
 */
export function realSystemUnavailable(tools: readonly string[], namespaces: readonly string[] = []): string | undefined {
    if (process.platform !== "linux") return "not Linux";
    if (process.getuid?.() !== 0) return "not root";
    for (const tool of ["unshare", ...tools]) if (!has(tool)) return `${tool} is not installed`;
    const flags = ["--mount", "--pid", "--fork", "--mount-proc", ...namespaces];
    if (spawnSync("unshare", [...flags, "true"]).status !== 0) return `unshare ${flags.join(" ")} is refused (no such namespaces here)`;
    return undefined;
}

/**
 * In a `before` hook: skips the suite, saying so loudly, when `why` is set; where CI requires
 * the real-system tests (REAL_SYSTEM_ENV), fails instead.
 */
export function skipUnlessRealSystem(context: Mocha.Context, what: string, why: string | undefined): void {
    if (why === undefined) return;
    if (required()) throw new Error(`${what} must run here (${REAL_SYSTEM_ENV}=required), but cannot: ${why}`);
    console.warn(`      SKIPPED: ${what} cannot run here: ${why}`);
    context.skip();
}

/** `count` UIDs from `from` up, below login.defs' UID_MAX (60000), that no account of this machine holds. */
export function unusedUids(from: number, count: number): number[] {
    const uids: number[] = [];
    for (let uid = from; uid < 60000 && uids.length < count; uid++) if (spawnSync("getent", ["passwd", String(uid)]).status !== 0) uids.push(uid);
    return uids;
}

/** A hash of every file, link and directory under `root` (names, modes, owners, contents, link targets). */
export function treeFingerprint(root: string): string {
    const hash = crypto.createHash("sha256");
    const walk = (dir: string) => {
        for (const name of fs.readdirSync(dir).sort()) {
            const full = path.join(dir, name);
            const stat = fs.lstatSync(full);
            hash.update(`${path.relative(root, full)}\0${stat.mode}\0${stat.uid}\0${stat.gid}\0`);
            if (stat.isSymbolicLink()) hash.update(fs.readlinkSync(full));
            else if (stat.isDirectory()) walk(full);
            else if (stat.isFile()) hash.update(fs.readFileSync(full));
        }
    };
    walk(root);
    return hash.digest("hex");
}

/** The host's firewall rules as each tool installed here lists them (nft, iptables and ip6tables, legacy and nft). */
export function hostRulesetFingerprint(): string {
    const listings = [["nft", "list", "ruleset"], ["iptables-legacy-save"], ["ip6tables-legacy-save"], ["iptables-nft-save"], ["ip6tables-nft-save"]]
        .filter(([tool]) => has(tool))
        // The save commands print a timestamp comment: drop comments.
        .map(([tool, ...args]) => `${tool}\n${spawnSync(tool, args, { encoding: "utf8" }).stdout.replace(/^#.*\n/gm, "")}`);
    return crypto.createHash("sha256").update(listings.join("\n")).digest("hex");
}
