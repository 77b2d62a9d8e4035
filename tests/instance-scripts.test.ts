// The shell scripts this project runs on instances, executed for real: each scenario runs
// the script text the documents carry with bash, in a temporary directory whose PATH holds
// only fake system commands (id, useradd, sudo, dscl, nft, iptables, ...) that log their
// arguments and answer as the scenario needs, plus a few harmless real tools (mktemp, cat).

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OS_USER_NAME_PATTERN, RESERVED_OS_USERS } from "../components/constants";
import {
    createOsUserDocument,
    INSTANCE_METADATA_ADDRESSES,
    METADATA_GUARD_NFT_TABLE,
    METADATA_GUARD_PATHS,
    METADATA_GUARD_SCRIPT,
    metadataGuardDocument,
    metadataGuardUserData,
} from "../components/documents";

// ---------------------------------------------------------------------------------------
// Sandbox: fake commands, state, and a log of every call.

/** Real tools the scripts (and the fakes) may use; everything else on PATH is a fake. */
const REAL_TOOLS = ["mktemp", "rm", "cat", "cp", "chmod", "mkdir", "awk", "sort", "tail"];

/** Every fake starts by logging its name and arguments, tab-separated, one call a line. */
const FAKE_PRELUDE = ["#!/bin/bash", `(IFS=$'\\t'; printf '%s\\n' "\${0##*/}"$'\\t'"$*" >> "$FAKE_LOG")`];

const FAKES: Record<string, string> = {
    // id -u USER / id -Gn USER, answered from $FAKE_STATE/users/USER (shell assignments uid=, groups=).
    id: `
f="$FAKE_STATE/users/$2"
[ -f "$f" ] || { echo "id: '$2': no such user" >&2; exit 1; }
. "$f"
case "$1" in -u) echo "$uid";; -Gn|-nG) echo "$groups";; *) echo "fake id: unexpected $*" >&2; exit 2;; esac`,
    // useradd ... --gid GROUP ... NAME: records the user with UID 1001 and only its primary group.
    useradd: `
gid=""; prev=""
for a in "$@"; do [ "$prev" = --gid ] && gid=$a; prev=$a; done
for name; do :; done
printf 'uid=1001\\ngroups=%s\\n' "$gid" > "$FAKE_STATE/users/$name"`,
    // sudo -n -l -U USER: prints $FAKE_STATE/sudo/USER if present, else the "not allowed" answer.
    sudo: `
[ "$1 $2 $3" = "-n -l -U" ] || { echo "fake sudo: unexpected $*" >&2; exit 2; }
if [ -f "$FAKE_STATE/sudo/$4" ]; then cat "$FAKE_STATE/sudo/$4"; exit 0; fi
echo "User $4 is not allowed to run sudo on fakehost."; exit 1`,
    // nft -f FILE: keeps a copy of every ruleset it is given, in order; fails if $FAKE_STATE/nft-fails exists.
    nft: `
[ "$1" = -f ] || { echo "fake nft: unexpected $*" >&2; exit 2; }
[ -f "$FAKE_STATE/nft-fails" ] && { echo "Error: Could not process rule: Operation not supported" >&2; exit 1; }
n=0; [ -f "$FAKE_STATE/nft-count" ] && n=$(cat "$FAKE_STATE/nft-count")
n=$((n + 1)); echo "$n" > "$FAKE_STATE/nft-count"
cp "$2" "$FAKE_STATE/nft-load-$n.nft"`,
    // iptables/ip6tables [-w] -C|-A|-I CHAIN [N] SPEC...: a rule list in $FAKE_STATE/<tool>.rules;
    // -C answers 0 when the rule is there, 1 when not (so 1 the first time, 0 after an insert).
    iptables: `
args=("$@"); [ "\${args[0]}" = -w ] && args=("\${args[@]:1}")
op=\${args[0]}; chain=\${args[1]}; rest=("\${args[@]:2}")
if [ "$op" = -I ] && [[ "\${rest[0]}" =~ ^[0-9]+$ ]]; then rest=("\${rest[@]:1}"); fi
spec="$chain \${rest[*]}"; rules="$FAKE_STATE/\${0##*/}.rules"
case "$op" in
  -C) if [ -f "$rules" ]; then while IFS= read -r line; do [ "$line" = "$spec" ] && exit 0; done < "$rules"; fi
      echo "iptables: Bad rule (does a matching rule exist in that chain?)." >&2; exit 1;;
  -A|-I) printf '%s\\n' "$spec" >> "$rules";;
  *) echo "fake iptables: unexpected $*" >&2; exit 2;;
esac`,
    // macOS: dscl . -list /Users UniqueID, and dscl . -create /Users/NAME [key value].
    dscl: `
if [ "$2" = -list ]; then
  for f in "$FAKE_STATE"/users/*; do [ -f "$f" ] || continue; ( . "$f"; echo "\${f##*/} $uid" ); done; exit 0
fi
name=\${3#/Users/}
[ "$4" = UniqueID ] && printf 'uid=%s\\ngroups=staff\\n' "$5" > "$FAKE_STATE/users/$name"
exit 0`,
    // dseditgroup -o checkmember -m USER GROUP: yes when GROUP is among USER's groups.
    dseditgroup: `
f="$FAKE_STATE/users/$4"; [ -f "$f" ] && . "$f"
for g in \${groups:-}; do [ "$g" = "$5" ] && { echo "yes $4 is a member of $5"; exit 0; }; done
echo "no $4 is NOT a member of $5"; exit 1`,
    createhomedir: "exit 0",
    systemctl: "exit 0",
};
FAKES.ip6tables = FAKES.iptables;

interface Call {
    command: string;
    args: string[];
}

interface Result {
    status: number | null;
    stdout: string;
    stderr: string;
    calls: Call[];
}

/** Every sandbox lives under this directory, removed when the run ends. */
const SANDBOXES = fs.mkdtempSync(path.join(os.tmpdir(), "instance-scripts-"));
after(() => fs.rmSync(SANDBOXES, { recursive: true, force: true }));

class Sandbox {
    readonly dir = fs.mkdtempSync(path.join(SANDBOXES, "sandbox-"));
    readonly bin = path.join(this.dir, "bin");
    readonly state = path.join(this.dir, "state");
    readonly log = path.join(this.dir, "calls.log");

    /** `fakes` names the fake commands present; a command not named is absent from PATH. */
    constructor(fakes: string[]) {
        fs.mkdirSync(this.bin);
        fs.mkdirSync(path.join(this.state, "users"), { recursive: true });
        fs.mkdirSync(path.join(this.state, "sudo"));
        fs.writeFileSync(this.log, "");
        for (const tool of REAL_TOOLS) {
            const real = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
            if (!real) throw new Error(`real ${tool} not found`);
            fs.symlinkSync(real, path.join(this.bin, tool));
        }
        for (const fake of fakes) {
            if (!(fake in FAKES)) throw new Error(`no fake ${fake}`);
            fs.writeFileSync(path.join(this.bin, fake), [...FAKE_PRELUDE, FAKES[fake]].join("\n") + "\n", { mode: 0o755 });
        }
    }

    /** An OS user as the fake id, sudo and dseditgroup see it. */
    user(name: string, uid: number, groups: string[], sudoList?: string): this {
        fs.writeFileSync(path.join(this.state, "users", name), `uid=${uid}\ngroups='${groups.join(" ")}'\n`);
        if (sudoList !== undefined) fs.writeFileSync(path.join(this.state, "sudo", name), sudoList);
        return this;
    }

    exists(name: string): boolean {
        return fs.existsSync(path.join(this.state, "users", name));
    }

    /** Rulesets the fake nft loaded, in order. */
    nftLoads(): string[] {
        return fs
            .readdirSync(this.state)
            .filter((f) => /^nft-load-\d+\.nft$/.test(f))
            .sort((a, b) => parseInt(a.slice(9)) - parseInt(b.slice(9)))
            .map((f) => fs.readFileSync(path.join(this.state, f), "utf8"));
    }

    iptablesRules(tool: "iptables" | "ip6tables"): string[][] {
        const file = path.join(this.state, `${tool}.rules`);
        return fs.existsSync(file)
            ? fs
                  .readFileSync(file, "utf8")
                  .trimEnd()
                  .split("\n")
                  .map((l) => l.split(" "))
            : [];
    }

    /** Runs `text` as a script file with `shell`; PATH is the sandbox's bin only. */
    run(text: string, shell = "/bin/bash"): Result {
        const before = fs.readFileSync(this.log, "utf8").length;
        const file = path.join(this.dir, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
        fs.writeFileSync(file, text);
        const r = spawnSync(shell, [file], {
            cwd: this.dir,
            encoding: "utf8",
            env: { PATH: this.bin, FAKE_STATE: this.state, FAKE_LOG: this.log, TMPDIR: this.dir, HOME: this.dir, LANG: "C" },
        });
        const calls = fs
            .readFileSync(this.log, "utf8")
            .slice(before)
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => {
                const [command, ...args] = l.split("\t");
                return { command, args: args.length === 1 && args[0] === "" ? [] : args };
            });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
    }

    /** Runs document lines, with `{{ userName }}` replaced as SSM does. */
    runLines(lines: readonly string[], userName?: string, shell?: string): Result {
        const text = lines.map((l) => (userName === undefined ? l : l.split("{{ userName }}").join(userName))).join("\n") + "\n";
        return this.run(text, shell);
    }
}

const commandsOf = (r: Result) => r.calls.map((c) => c.command);
const outputOf = (r: Result) => `exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

// ---------------------------------------------------------------------------------------
// OS-user provisioning

const userDocument = createOsUserDocument();
const stepNamed = (name: string) => userDocument.mainSteps.find((s) => s.name === name)!;
const LINUX = stepNamed("createLinuxUser").inputs.runCommand;
const MACOS = stepNamed("createMacOsUser").inputs.runCommand;
const LINUX_FAKES = ["id", "useradd", "sudo"];
const MACOS_FAKES = ["id", "sudo", "dscl", "dseditgroup", "createhomedir"];

const SUDO_LIST = (user: string) =>
    [
        `Matching Defaults entries for ${user} on fakehost:`,
        "    !visiblepw, always_set_home, match_group_by_gid, env_reset",
        "",
        `User ${user} may run the following commands on fakehost:`,
        "    (ALL) NOPASSWD: ALL",
        "",
    ].join("\n");

describe("instance scripts: OS-user provisioning (Linux step, run with bash)", () => {
    it("creates a missing user with useradd, in no group beyond users, then verifies it", () => {
        const sb = new Sandbox(LINUX_FAKES);
        const r = sb.runLines(LINUX, "no_sudo_user");
        expect(r.status, outputOf(r)).to.equal(0);
        const useradd = r.calls.filter((c) => c.command === "useradd");
        expect(useradd, "one useradd").to.have.length(1);
        const args = useradd[0].args;
        expect(args[args.length - 1]).to.equal("no_sudo_user");
        expect(args[args.indexOf("--gid") + 1]).to.equal("users");
        expect(
            args.filter((a) => /^(-G|--groups|-a|--append|-o|--non-unique|-u|--uid|-r|--system)$/.test(a)),
            "no extra group, UID or system account",
        ).to.deep.equal([]);
        expect(
            commandsOf(r).filter((c) => !["id", "useradd", "sudo"].includes(c)),
            "no usermod, gpasswd or other change",
        ).to.deep.equal([]);
        expect(r.calls).to.deep.include({ command: "sudo", args: ["-n", "-l", "-U", "no_sudo_user"] });
        expect(r.stdout)
            .to.match(/OS user no_sudo_user created/)
            .and.match(/no_sudo_user is unprivileged: UID 1001/);
    });

    it("leaves an existing unprivileged user (UID 1500, no sudo) unchanged", () => {
        const sb = new Sandbox(LINUX_FAKES).user("alice", 1500, ["users", "developers"]);
        const r = sb.runLines(LINUX, "alice");
        expect(r.status, outputOf(r)).to.equal(0);
        expect([...new Set(commandsOf(r))].sort(), "only read-only look-ups").to.deep.equal(["id", "sudo"]);
        expect(r.stdout)
            .to.match(/alice exists/)
            .and.match(/alice is unprivileged: UID 1500/);
    });

    it("refuses an existing user with a UID below 1000, naming it and why", () => {
        const sb = new Sandbox(LINUX_FAKES).user("daemonish", 999, ["daemonish"]);
        const r = sb.runLines(LINUX, "daemonish");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user daemonish: its UID 999 is below 1000/);
        expect(commandsOf(r)).to.not.include("useradd");
    });

    it("refuses an existing user that sudo -l -U says may run commands (a cloud-init style NOPASSWD rule)", () => {
        const sb = new Sandbox(LINUX_FAKES).user("deploy", 1001, ["deploy"], SUDO_LIST("deploy"));
        const r = sb.runLines(LINUX, "deploy");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user deploy: sudo -l -U deploy lists commands/);
        expect(commandsOf(r), "refused, not stripped").to.deep.equal(["id", "id", "id", "sudo"]);
    });

    for (const group of ["wheel", "sudo", "admin", "adm"]) {
        it(`refuses an existing member of ${group}, before asking sudo`, () => {
            const sb = new Sandbox(LINUX_FAKES).user("bob", 1501, ["users", group]);
            const r = sb.runLines(LINUX, "bob");
            expect(r.status, outputOf(r)).to.equal(1);
            expect(r.stderr).to.match(new RegExp(`refusing OS user bob: it is a member of the administrative group ${group}`));
            expect(commandsOf(r)).to.not.include("sudo");
        });
    }

    it("refuses when sudo gives no clear answer (fails closed)", () => {
        const sb = new Sandbox(LINUX_FAKES).user(
            "carol",
            1502,
            ["users"],
            ">>> /etc/sudoers: syntax error near line 12 <<<\nsudo: parse error in /etc/sudoers near line 12\n",
        );
        const r = sb.runLines(LINUX, "carol");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user carol: sudo -l -U carol gave no clear answer/);
    });

    it("accepts a user when sudo is not installed at all (nobody can have sudo rights)", () => {
        const sb = new Sandbox(["id", "useradd"]).user("dave", 1503, ["users"]);
        const r = sb.runLines(LINUX, "dave");
        expect(r.status, outputOf(r)).to.equal(0);
        expect(r.stdout).to.match(/sudo is not installed/);
    });

    it("refuses a user it has just created when sudoers already grants it rights", () => {
        // For example a rule for %users: the new account is checked like any other.
        const sb = new Sandbox(LINUX_FAKES);
        fs.writeFileSync(path.join(sb.state, "sudo", "erin"), SUDO_LIST("erin"));
        const r = sb.runLines(LINUX, "erin");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stdout).to.match(/erin created/);
        expect(r.stderr).to.match(/refusing OS user erin/);
    });

    it("refuses each reserved name before running any command", () => {
        for (const name of RESERVED_OS_USERS) {
            for (const [step, lines, fakes] of [
                ["Linux", LINUX, LINUX_FAKES],
                ["macOS", MACOS, MACOS_FAKES],
            ] as const) {
                const sb = new Sandbox([...fakes]).user(name, name === "root" ? 0 : 1000, ["users"]);
                const r = sb.runLines(lines, name);
                expect(r.status, `${step} ${name}: ${outputOf(r)}`).to.equal(1);
                expect(r.stderr, `${step} ${name}`).to.match(new RegExp(`refusing OS user ${name}: the name is reserved`));
                expect(r.calls, `${step} ${name}: no command at all`).to.deep.equal([]);
            }
        }
    });

    it("takes the reserved names from RESERVED_OS_USERS, the one definition", () => {
        for (const lines of [LINUX, MACOS]) {
            const caseLine = lines.find((l) => l.startsWith('case "$user" in '))!;
            const alternatives = caseLine.slice('case "$user" in '.length, caseLine.indexOf(")")).split("|");
            expect(alternatives).to.deep.equal([...RESERVED_OS_USERS]);
        }
    });

    it("keeps the parameter inert: single-quoted everywhere, and allowedPattern forbids quotes", () => {
        const pattern = new RegExp(userDocument.parameters.userName.allowedPattern);
        expect(userDocument.parameters.userName.allowedPattern).to.equal(OS_USER_NAME_PATTERN);
        for (const step of userDocument.mainSteps) {
            const text = step.inputs.runCommand.join("\n");
            const uses = text.match(/.?\{\{ ?userName ?\}\}.?/g) ?? [];
            expect(uses, step.name).to.have.length(1);
            expect(uses[0], step.name).to.equal("'{{ userName }}'");
        }
        for (const bad of ["a'b", 'a"b', "a b", "a$b", "a`b", "a\\b", "a;b"]) expect(pattern.test(bad), bad).to.equal(false);
    });

    it("runs under a POSIX sh (dash) too, whichever shell the agent picks", function () {
        if (!fs.existsSync("/bin/dash")) this.skip();
        const created = new Sandbox(LINUX_FAKES);
        expect(created.runLines(LINUX, "no_sudo_user", "/bin/dash").status).to.equal(0);
        expect(created.exists("no_sudo_user")).to.equal(true);
        const wheel = new Sandbox(LINUX_FAKES).user("bob", 1501, ["wheel"]);
        expect(wheel.runLines(LINUX, "bob", "/bin/dash").status).to.equal(1);
    });
});

describe("instance scripts: OS-user provisioning (macOS step, with fake dscl)", () => {
    it("creates a missing user with the next UniqueID, never below 501, outside admin", () => {
        const sb = new Sandbox(MACOS_FAKES).user("ec2-user", 501, ["staff", "admin"]).user("_www", 70, ["_www"]);
        const r = sb.runLines(MACOS, "no_sudo_user");
        expect(r.status, outputOf(r)).to.equal(0);
        expect(r.calls).to.deep.include({ command: "dscl", args: [".", "-create", "/Users/no_sudo_user", "UniqueID", "502"] });
        expect(r.calls).to.deep.include({ command: "dscl", args: [".", "-create", "/Users/no_sudo_user", "PrimaryGroupID", "20"] });
        expect(commandsOf(r)).to.include("dseditgroup");
        expect(
            r.calls.filter((c) => c.command === "dseditgroup").every((c) => c.args[1] === "checkmember"),
            "only checks membership",
        ).to.equal(true);

        const fresh = new Sandbox(MACOS_FAKES).user("_www", 70, ["_www"]);
        const first = fresh.runLines(MACOS, "no_sudo_user");
        expect(first.status, outputOf(first)).to.equal(0);
        expect(first.calls).to.deep.include({ command: "dscl", args: [".", "-create", "/Users/no_sudo_user", "UniqueID", "501"] });
    });

    it("refuses an existing user below UID 501, an administrator, or one with sudo rights", () => {
        const low = new Sandbox(MACOS_FAKES).user("svc", 500, ["staff"]);
        const lowRun = low.runLines(MACOS, "svc");
        expect(lowRun.status, outputOf(lowRun)).to.equal(1);
        expect(lowRun.stderr).to.match(/refusing OS user svc: its UID 500 is below 501/);

        const admin = new Sandbox(MACOS_FAKES).user("mallory", 503, ["staff", "admin"]);
        const adminRun = admin.runLines(MACOS, "mallory");
        expect(adminRun.status, outputOf(adminRun)).to.equal(1);
        expect(adminRun.stderr).to.match(/refusing OS user mallory: it is a member of the admin group/);
        expect(commandsOf(adminRun)).to.not.include("dscl");

        const sudoer = new Sandbox(MACOS_FAKES).user("trent", 504, ["staff"], SUDO_LIST("trent"));
        const sudoRun = sudoer.runLines(MACOS, "trent");
        expect(sudoRun.status, outputOf(sudoRun)).to.equal(1);
        expect(sudoRun.stderr).to.match(/refusing OS user trent: sudo -l -U trent lists commands/);

        const fine = new Sandbox(MACOS_FAKES).user("peggy", 505, ["staff"]);
        expect(fine.runLines(MACOS, "peggy").status).to.equal(0);
    });
});

describe("instance scripts: OS-user document on Windows", () => {
    it("has a Windows step that writes why and exits 1 (Run As is Linux and macOS only)", () => {
        const step = stepNamed("refuseWindows");
        expect(step.action).to.equal("aws:runPowerShellScript");
        expect(step.precondition).to.deep.equal({ StringEquals: ["platformType", "Windows"] });
        const lines = step.inputs.runCommand;
        // No pwsh here: check that the script is straight-line (no branch can skip the exit)
        // and ends by failing, after writing the message to the error stream.
        expect(lines.join("\n").replace("'{{ userName }}'", "''")).to.not.match(/\b(if|try|trap|return|throw)\b|[{}]/i);
        expect(lines[lines.length - 1]).to.equal("exit 1");
        const message = lines.find((l) => l.includes("[Console]::Error.WriteLine("))!;
        expect(message).to.include("Run As is Linux and macOS only: this Windows instance gets no OS user $user");
        expect(userDocument.mainSteps.map((s) => s.precondition.StringEquals[1])).to.deep.equal(["Linux", "MacOS", "Windows"]);
    });
});

// ---------------------------------------------------------------------------------------
// The metadata guard

/** A rule of the guard's chain, parsed: the matches it makes and its verdict. */
interface NftRule {
    skuid?: { op: "==" | "!="; value: number };
    daddr?: { family: "ip" | "ip6"; address: string };
    verdict: "accept" | "drop" | "reject";
    counter: boolean;
}

interface NftChain {
    type: string;
    hook: string;
    priority: string;
    policy: string;
    rules: NftRule[];
}

type NftState = Map<string, Map<string, NftChain>>;

function parseRule(text: string): NftRule {
    const tokens = text.match(/"[^"]*"|\S+/g)!;
    const rule: Partial<NftRule> = { counter: false };
    for (let i = 0; i < tokens.length;) {
        const t = tokens[i];
        if (t === "meta" && tokens[i + 1] === "skuid") {
            const op = tokens[i + 2] === "!=" ? "!=" : "==";
            const value = tokens[i + 2] === "!=" || tokens[i + 2] === "==" ? tokens[i + 3] : tokens[i + 2];
            rule.skuid = { op, value: Number(value) };
            i += tokens[i + 2] === "!=" || tokens[i + 2] === "==" ? 4 : 3;
        } else if ((t === "ip" || t === "ip6") && tokens[i + 1] === "daddr") {
            rule.daddr = { family: t, address: tokens[i + 2] };
            i += 3;
        } else if (t === "counter") {
            rule.counter = true;
            i += 1;
        } else if (t === "accept" || t === "drop" || t === "reject") {
            rule.verdict = t;
            i += 1;
        } else if (t === "comment") {
            i += 2;
        } else {
            throw new Error(`unparsed nft token "${t}" in: ${text}`);
        }
    }
    if (!rule.verdict) throw new Error(`nft rule without verdict: ${text}`);
    return rule as NftRule;
}

/**
 * Applies an `nft -f` file to a model of the kernel's tables with nft's semantics for the
 * statements the guard uses: a bare `table` creates (no-op if present), `delete table`
 * fails if absent, `flush table` empties, and a `table { chain { ... } }` block ADDS to an
 * existing table and chain (which is why a re-run without a delete would duplicate rules).
 * Like nft, the file is one transaction: an error leaves the state as it was.
 */
function applyNft(state: NftState, file: string): NftState {
    const next: NftState = new Map([...state].map(([t, chains]) => [t, new Map([...chains].map(([c, ch]) => [c, { ...ch, rules: [...ch.rules] }]))]));
    const lines = file
        .split("\n")
        .map((l) => l.replace(/#.*$/, "").trim())
        .filter((l) => l !== "");
    let table: string | undefined;
    let chain: NftChain | undefined;
    for (const line of lines) {
        let m: RegExpMatchArray | null;
        if (chain) {
            if (line === "}") chain = undefined;
            else if ((m = line.match(/^type (\S+) hook (\S+) priority (\S+); policy (\S+);$/)))
                Object.assign(chain, { type: m[1], hook: m[2], priority: m[3], policy: m[4] });
            else chain.rules.push(parseRule(line));
        } else if (table) {
            if (line === "}") table = undefined;
            else if ((m = line.match(/^chain (\S+) \{$/))) {
                const chains = next.get(table)!;
                if (!chains.has(m[1])) chains.set(m[1], { type: "", hook: "", priority: "", policy: "accept", rules: [] });
                chain = chains.get(m[1]);
            } else throw new Error(`unparsed nft line in table: ${line}`);
        } else if ((m = line.match(/^table (\S+ \S+)( \{)?$/))) {
            if (!next.has(m[1])) next.set(m[1], new Map());
            if (m[2]) table = m[1];
        } else if ((m = line.match(/^delete table (\S+ \S+)$/))) {
            if (!next.delete(m[1])) throw new Error(`Error: No such file or directory: delete table ${m[1]}`);
        } else if ((m = line.match(/^flush table (\S+ \S+)$/))) {
            for (const ch of next.get(m[1])?.values() ?? []) ch.rules = [];
        } else throw new Error(`unparsed nft line: ${line}`);
    }
    return next;
}

/** The verdict the output hook gives a packet from `uid` to `address`, across all tables. */
function verdictFor(state: NftState, uid: number, address: string): string {
    const family = address.includes(":") ? "ip6" : "ip";
    for (const chains of state.values()) {
        for (const chain of chains.values()) {
            if (chain.hook !== "output") continue;
            let verdict = chain.policy;
            for (const rule of chain.rules) {
                if (rule.skuid && (rule.skuid.op === "!=" ? uid === rule.skuid.value : uid !== rule.skuid.value)) continue;
                if (rule.daddr && (rule.daddr.family !== family || rule.daddr.address !== address)) continue;
                verdict = rule.verdict;
                break;
            }
            // A drop or reject in any base chain is final; an accept only ends this chain.
            if (verdict !== "accept") return verdict;
        }
    }
    return "accept";
}

const GUARD = `${METADATA_GUARD_SCRIPT.join("\n")}\n`;
const TABLE = `inet ${METADATA_GUARD_NFT_TABLE}`;
const { ipv4: IMDS4, ipv6: IMDS6 } = INSTANCE_METADATA_ADDRESSES;

describe("instance scripts: metadata guard (nftables)", () => {
    it("loads a table whose output chain rejects both metadata addresses for every UID but 0", () => {
        const sb = new Sandbox(["nft", "iptables", "ip6tables"]);
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.equal(0);
        expect(commandsOf(r), "nft preferred; iptables untouched").to.deep.equal(["nft"]);
        const loads = sb.nftLoads();
        expect(loads).to.have.length(1);
        const state = applyNft(new Map(), loads[0]);
        expect([...state.keys()]).to.deep.equal([TABLE]);
        const chains = [...state.get(TABLE)!.values()];
        expect(chains).to.have.length(1);
        expect(chains[0]).to.include({ type: "filter", hook: "output", policy: "accept" });
        expect(chains[0].rules).to.have.length(2);
        for (const rule of chains[0].rules) {
            expect(rule.skuid, "every rule spares root").to.deep.equal({ op: "!=", value: 0 });
            expect(rule.verdict).to.be.oneOf(["reject", "drop"]);
        }
        expect(chains[0].rules.map((rule) => rule.daddr)).to.have.deep.members([
            { family: "ip", address: IMDS4 },
            { family: "ip6", address: IMDS6 },
        ]);
        for (const address of [IMDS4, IMDS6]) {
            expect(verdictFor(state, 0, address), `root to ${address}`).to.equal("accept");
            for (const uid of [1, 999, 1000, 1500, 65534]) expect(verdictFor(state, uid, address), `UID ${uid} to ${address}`).to.equal("reject");
        }
        for (const other of ["169.254.169.253", "169.254.169.123", "10.0.0.1", "fd00:ec2::253"])
            expect(verdictFor(state, 1500, other), other).to.equal("accept");
        expect(r.stdout).to.include(`loaded nftables table ${TABLE}`).and.include(IMDS4).and.include(IMDS6);
    });

    it("run twice (or over a stale copy), leaves exactly one table with one copy of the rules", () => {
        const sb = new Sandbox(["nft"]);
        expect(sb.run(GUARD).status).to.equal(0);
        expect(sb.run(GUARD).status).to.equal(0);
        const [first, second] = sb.nftLoads();
        const once = applyNft(new Map(), first);
        const twice = applyNft(once, second);
        expect(twice).to.deep.equal(once);
        expect([...twice.get(TABLE)!.values()].flatMap((c) => c.rules)).to.have.length(2);

        // A stale table (an older rule, an extra chain) is replaced, not added to.
        const stale = applyNft(
            new Map(),
            `table ${TABLE} {\n chain old {\n type filter hook output priority 0; policy accept;\n ip daddr 1.2.3.4 drop\n }\n}\n`,
        );
        expect(applyNft(stale, first)).to.deep.equal(once);
        // Without the delete line, the model shows the duplication the delete prevents.
        const naive = first.replace(/^delete table .*$/m, "");
        expect([...applyNft(once, naive).get(TABLE)!.values()][0].rules).to.have.length(4);
    });

    it("fails (non-zero) when nft refuses the ruleset", () => {
        const sb = new Sandbox(["nft"]);
        fs.writeFileSync(path.join(sb.state, "nft-fails"), "");
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.not.equal(0);
        expect(r.stdout).to.not.include("loaded");
    });

    it("passes the real nft's check mode (nft -c -f); skipped when nft is not installed here", function () {
        const nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].find((p) => fs.existsSync(p));
        if (!nft) {
            console.log("      (skipped: nft is not installed on this machine; apt-get install nftables enables this check)");
            this.skip();
        }
        const sb = new Sandbox(["nft"]);
        expect(sb.run(GUARD).status).to.equal(0);
        const file = path.join(sb.dir, "loaded.nft");
        fs.writeFileSync(file, sb.nftLoads()[0]);
        const check = spawnSync(nft!, ["-c", "-f", file], { encoding: "utf8" });
        if (check.status !== 0 && /Operation not permitted|Permission denied/.test(check.stderr)) {
            console.log(`      (skipped: nft -c needs CAP_NET_ADMIN: ${check.stderr.trim()})`);
            this.skip();
        }
        expect(check.status, check.stderr).to.equal(0);
    });
});

describe("instance scripts: metadata guard (iptables fallback, and neither)", () => {
    it("without nft, adds one owner-match REJECT for IPv4 and one for IPv6, only once when run twice", () => {
        const sb = new Sandbox(["iptables", "ip6tables"]);
        const first = sb.run(GUARD);
        expect(first.status, outputOf(first)).to.equal(0);
        expect(first.calls.map((c) => [c.command, c.args[1]])).to.deep.equal([
            ["iptables", "-C"],
            ["iptables", "-I"],
            ["ip6tables", "-C"],
            ["ip6tables", "-I"],
        ]);
        const second = sb.run(GUARD);
        expect(second.status, outputOf(second)).to.equal(0);
        expect(
            second.calls.map((c) => [c.command, c.args[1]]),
            "second run only checks",
        ).to.deep.equal([
            ["iptables", "-C"],
            ["ip6tables", "-C"],
        ]);
        expect(second.stdout)
            .to.match(/iptables already rejects/)
            .and.match(/ip6tables already rejects/);

        for (const [tool, address] of [
            ["iptables", IMDS4],
            ["ip6tables", IMDS6],
        ] as const) {
            const rules = sb.iptablesRules(tool);
            expect(rules, tool).to.have.length(1);
            const rule = rules[0];
            expect(rule[0], `${tool} chain`).to.equal("OUTPUT");
            expect(rule[rule.indexOf("-d") + 1]).to.equal(address);
            expect(rule[rule.indexOf("-m") + 1]).to.equal("owner");
            const uidOwner = rule.indexOf("--uid-owner");
            expect([rule[uidOwner - 1], rule[uidOwner + 1]], "negated: every owner but UID 0").to.deep.equal(["!", "0"]);
            expect(rule[rule.indexOf("-j") + 1]).to.be.oneOf(["REJECT", "DROP"]);
        }
        // Inserted at the top, so an earlier ACCEPT in OUTPUT cannot bypass it; -w waits for the xtables lock.
        for (const insert of first.calls.filter((c) => c.args[1] === "-I")) expect(insert.args.slice(0, 4)).to.deep.equal(["-w", "-I", "OUTPUT", "1"]);
    });

    it("fails loudly when neither nft nor iptables is installed", () => {
        for (const fakes of [[], ["iptables"]]) {
            const sb = new Sandbox(fakes);
            const r = sb.run(GUARD);
            expect(r.status, `${fakes}: ${outputOf(r)}`).to.equal(1);
            expect(r.stderr).to.match(/imds-guard: FAILED: neither nft nor iptables and ip6tables is installed/);
            expect(r.stderr).to.include(IMDS4).and.include(IMDS6);
            expect(r.calls).to.deep.equal([]);
        }
    });
});

describe("instance scripts: metadata guard document and user data", () => {
    it("the document runs the guard script on Linux, with no parameters", () => {
        const doc = metadataGuardDocument();
        expect(doc.schemaVersion).to.equal("2.2");
        expect(doc).to.not.have.property("parameters");
        expect(doc.mainSteps).to.have.length(1);
        const step = doc.mainSteps[0];
        expect(step).to.deep.include({
            action: "aws:runShellScript",
            name: "closeMetadataToNonRoot",
            precondition: { StringEquals: ["platformType", "Linux"] },
        });
        expect(step.inputs.runCommand).to.deep.equal([...METADATA_GUARD_SCRIPT]);
        expect(METADATA_GUARD_SCRIPT[0]).to.equal("set -eu");
    });

    it("the user data holds exactly METADATA_GUARD_SCRIPT in a quoted heredoc", () => {
        const userData = metadataGuardUserData();
        expect(userData.startsWith("#!/bin/bash\n")).to.equal(true);
        const lines = userData.split("\n");
        const start = lines.indexOf(`cat > ${METADATA_GUARD_PATHS.script} <<'IMDS_GUARD_SCRIPT'`);
        expect(start, "a quoted heredoc writing the script").to.be.greaterThan(0);
        const end = lines.indexOf("IMDS_GUARD_SCRIPT", start + 1);
        expect(lines.slice(start + 1, end)).to.deep.equal(["#!/bin/bash", ...METADATA_GUARD_SCRIPT]);
    });

    it("the user data, run in a sandbox, writes the script byte for byte, enables the unit and runs the guard", () => {
        const sb = new Sandbox(["nft", "systemctl"]);
        const scriptDir = path.dirname(METADATA_GUARD_PATHS.script);
        const unitDir = path.dirname(METADATA_GUARD_PATHS.unit);
        const userData = metadataGuardUserData().split(scriptDir).join(path.join(sb.dir, "sbin")).split(unitDir).join(path.join(sb.dir, "systemd"));
        fs.mkdirSync(path.join(sb.dir, "systemd"));
        const r = sb.run(userData);
        expect(r.status, outputOf(r)).to.equal(0);

        const installed = path.join(sb.dir, "sbin", path.basename(METADATA_GUARD_PATHS.script));
        expect(fs.readFileSync(installed, "utf8")).to.equal(`#!/bin/bash\n${GUARD}`);
        expect(fs.statSync(installed).mode & 0o777).to.equal(0o755);

        const unitName = path.basename(METADATA_GUARD_PATHS.unit);
        const unit = parseUnit(fs.readFileSync(path.join(sb.dir, "systemd", unitName), "utf8"));
        expect(unit.Service.Type).to.deep.equal(["oneshot"]);
        expect(unit.Service.RemainAfterExit).to.deep.equal(["yes"]);
        expect(unit.Service.ExecStart).to.deep.equal([installed]);
        expect(unit.Unit.Before).to.include("network-pre.target");
        expect(unit.Unit.Wants).to.include("network-pre.target");
        expect(unit.Unit.DefaultDependencies).to.deep.equal(["no"]);
        expect(unit.Install.WantedBy).to.include("multi-user.target");

        expect(r.calls.filter((c) => c.command === "systemctl").map((c) => c.args)).to.deep.equal([["daemon-reload"], ["enable", unitName]]);
        expect(sb.nftLoads(), "the guard ran once, now").to.have.length(1);
        expect(r.stdout).to.include(`loaded nftables table ${TABLE}`);
    });

    it("the user data fails when the guard fails", () => {
        const sb = new Sandbox(["systemctl"]);
        const scriptDir = path.dirname(METADATA_GUARD_PATHS.script);
        const unitDir = path.dirname(METADATA_GUARD_PATHS.unit);
        fs.mkdirSync(path.join(sb.dir, "systemd"));
        const r = sb.run(metadataGuardUserData().split(scriptDir).join(path.join(sb.dir, "sbin")).split(unitDir).join(path.join(sb.dir, "systemd")));
        expect(r.status, outputOf(r)).to.not.equal(0);
        expect(r.stderr).to.match(/imds-guard: FAILED/);
    });
});

/** A systemd unit file as section -> key -> values (a key may repeat; values split on spaces). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
    const unit: Record<string, Record<string, string[]>> = {};
    let section = "";
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
        const header = line.match(/^\[(.+)\]$/);
        if (header) {
            section = header[1];
            unit[section] = {};
            continue;
        }
        const eq = line.indexOf("=");
        const key = line.slice(0, eq);
        unit[section][key] = [...(unit[section][key] ?? []), ...line.slice(eq + 1).split(/\s+/)];
    }
    return unit;
}
