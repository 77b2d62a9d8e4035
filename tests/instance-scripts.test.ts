// The shell scripts this project runs on instances, executed for real: each scenario runs
// the script text the documents carry with bash, in a temporary directory whose PATH holds
// only fake system commands (id, useradd, userdel, sudo, dscl, nft, iptables, dnf, systemctl,
// pfctl, ...) that log their arguments and answer as the scenario needs, plus a few harmless
// real tools (mktemp, cat, mv). The system directories the installers write to (/usr/local/sbin,
// /etc/systemd/system, /Library/LaunchDaemons) are mapped into the sandbox.

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OS_USER_NAME_PATTERN, RESERVED_OS_USERS } from "../components/constants";
import {
    INSTANCE_METADATA_ADDRESSES,
    MACOS_METADATA_GUARD_INSTALL,
    MACOS_METADATA_GUARD_LABEL,
    MACOS_METADATA_GUARD_PATHS,
    MACOS_METADATA_GUARD_PF_ANCHOR,
    MACOS_METADATA_GUARD_SCRIPT,
    METADATA_GUARD_INSTALL,
    METADATA_GUARD_IPTABLES_CHAIN,
    METADATA_GUARD_NFT_TABLE,
    METADATA_GUARD_PATHS,
    METADATA_GUARD_REAPPLY_SECONDS,
    SESSION_USER_PROCESS_LIMIT,
    METADATA_GUARD_SCRIPT,
    FIREWALL_SERVICES,
    firewallDropInPath,
    metadataGuardDocument,
    metadataGuardUserData,
} from "../components/metadata-guard-scripts";
import { MIN_AGENT_FOR_ENV_VAR_PARAMETERS, parameterVariable } from "../components/command-parameters";
import { createOsUserDocument, createOsUsersDocument } from "../components/os-user-document";
import { END_OS_USERS_PATTERN } from "../components/offboarding-documents";

// ---------------------------------------------------------------------------------------
// Sandbox: fake commands, state, and a log of every call.

/** Real tools the scripts (and the fakes) may use; everything else on PATH is a fake. */
const REAL_TOOLS = ["mktemp", "cat", "cp", "mv", "chmod", "mkdir", "awk", "sort", "tail", "cut", "grep", "sed"];

/** Every fake starts by logging its name and arguments, tab-separated, one call a line. */
const LOG_CALL = `(IFS=$'\\t'; printf '%s\\n' "\${0##*/}"$'\\t'"$*" >> "$FAKE_LOG")`;
const FAKE_PRELUDE = ["#!/bin/bash", LOG_CALL];

/** A user's primary GID as the fake id reports it, from the name of its primary group. */
const GIDS: Record<string, number> = { root: 0, wheel: 0, users: 100, staff: 20 };

const FAKES: Record<string, string> = {
    // id -u|-g|-gn|-Gn USER, answered from $FAKE_STATE/users/USER (shell assignments uid=, gid=, groups=;
    // the first group is the primary one).
    id: `
f="$FAKE_STATE/users/$2"
[ -f "$f" ] || { echo "id: '$2': no such user" >&2; exit 1; }
. "$f"
case "$1" in
  -u) echo "$uid";;
  -g) echo "$gid";;
  -gn|-ng) for g in $groups; do echo "$g"; break; done;;
  -Gn|-nG) echo "$groups";;
  *) echo "fake id: unexpected $*" >&2; exit 2;;
esac`,
    // useradd ... --gid GROUP ... NAME: records the user with UID 1001 and only its primary group.
    useradd: `
group=""; prev=""
for a in "$@"; do [ "$prev" = --gid ] && group=$a; prev=$a; done
for name; do :; done
gid=1001; [ "$group" = users ] && gid=100
printf 'uid=1001\\ngid=%s\\ngroups=%s\\n' "$gid" "$group" > "$FAKE_STATE/users/$name"
mkdir -p "$SANDBOX/home/$name"`,
    // getent passwd NAME: the fake user's entry, its home in the sandbox.
    getent: `
f="$FAKE_STATE/users/$2"
[ "$1" = passwd ] && [ -f "$f" ] || exit 2
. "$f"
echo "$2:x:$uid:$gid::$SANDBOX/home/$2:/bin/bash"`,
    // userdel [-r] NAME: forgets the user.
    userdel: `
for name; do :; done
[ -f "$FAKE_STATE/users/$name" ] || { echo "userdel: user '$name' does not exist" >&2; exit 6; }
rm -f "$FAKE_STATE/users/$name"`,
    // sudo -n -l -U USER: prints $FAKE_STATE/sudo/USER if present, else the "not allowed" answer.
    sudo: `
[ "$1 $2 $3" = "-n -l -U" ] || { echo "fake sudo: unexpected $*" >&2; exit 2; }
if [ -f "$FAKE_STATE/sudo/$4" ]; then cat "$FAKE_STATE/sudo/$4"; exit 0; fi
echo "User $4 is not allowed to run sudo on fakehost."; exit 1`,
    // nft -f FILE: keeps a copy of every ruleset it is given, in order; fails if $FAKE_STATE/nft-fails exists.
    // nft list table T: prints the last ruleset loaded, unless a flush came since; nft flush ruleset: drops it.
    nft: `
case "$1" in
  list) [ -f "$FAKE_STATE/nft-count" ] && [ ! -f "$FAKE_STATE/nft-flushed" ] && { cat "$FAKE_STATE/nft-load-$(cat "$FAKE_STATE/nft-count").nft"; exit 0; }
        echo "Error: No such file or directory" >&2; exit 1;;
  flush) : > "$FAKE_STATE/nft-flushed"; exit 0;;
  -f) rm -f "$FAKE_STATE/nft-flushed";;
  *) echo "fake nft: unexpected $*" >&2; exit 2;;
esac
[ -f "$FAKE_STATE/nft-fails" ] && { echo "Error: Could not process rule: Operation not supported" >&2; exit 1; }
n=0; [ -f "$FAKE_STATE/nft-count" ] && n=$(cat "$FAKE_STATE/nft-count")
n=$((n + 1)); echo "$n" > "$FAKE_STATE/nft-count"
if [ "$2" = - ]; then cat > "$FAKE_STATE/nft-load-$n.nft"; else cp "$2" "$FAKE_STATE/nft-load-$n.nft"; fi`,
    // iptables/ip6tables -w -S ...: an empty ruleset. The iptables path runs on a real kernel
    // (metadata-guard-kernel.test.ts); these fakes serve its failure branches only.
    iptables: `case "$*" in "-w -S"*) exit 0;; esac; echo "fake iptables: unexpected $*" >&2; exit 2`,
    // iptables-restore/ip6tables-restore: keeps its input; fails as on a rule it cannot apply when flagged.
    "iptables-restore": `cat > "$FAKE_STATE/\${0##*/}.in"
[ -f "$FAKE_STATE/\${0##*/}-fails" ] && { echo "\${0##*/}: line 3 failed: Bad rule" >&2; exit 1; }
exit 0`,
    // dnf/yum -y install nftables: "installs" the fake nft of $FAKE_STATE/repository into PATH,
    // or fails as dnf does when no repository answers.
    dnf: `
[ "$*" = "-y install nftables" ] || { echo "fake \${0##*/}: unexpected $*" >&2; exit 2; }
if [ -f "$FAKE_STATE/repository/nft" ]; then
  cp "$FAKE_STATE/repository/nft" "$FAKE_BIN/nft"; chmod 0755 "$FAKE_BIN/nft"
  echo "Installed: nftables-1:1.0.9-1.amzn2023.0.1.x86_64"; echo "Complete!"
else
  echo "Error: Failed to download metadata for repo 'amazonlinux': Cannot download repomd.xml" >&2; exit 1
fi`,
    systemctl: "exit 0",
    launchctl: "exit 0",
    // macOS: dscl . -list /Users UniqueID, dscl . -create /Users/NAME [key value], dscl . -delete /Users/NAME.
    dscl: `
if [ "$2" = -list ]; then
  for f in "$FAKE_STATE"/users/*; do [ -f "$f" ] || continue; ( . "$f"; echo "\${f##*/} $uid" ); done; exit 0
fi
name=\${3#/Users/}
if [ "$2" = -delete ]; then rm -f "$FAKE_STATE/users/$name"; exit 0; fi
[ "$4" = UniqueID ] && printf 'uid=%s\\ngid=20\\ngroups=staff\\n' "$5" > "$FAKE_STATE/users/$name"
exit 0`,
    // dseditgroup -o checkmember -m USER GROUP: yes when GROUP is among USER's groups.
    dseditgroup: `
f="$FAKE_STATE/users/$4"; [ -f "$f" ] && . "$f"
for g in \${groups:-}; do [ "$g" = "$5" ] && { echo "yes $4 is a member of $5"; exit 0; }; done
echo "no $4 is NOT a member of $5"; exit 1`,
    createhomedir: "exit 0",
    // macOS pfctl, with its state in $FAKE_STATE/pf:
    //   -a ANCHOR -f FILE  keeps a copy of every anchor load, in order (fails if $FAKE_STATE/pfctl-fails exists);
    //   -s rules           prints the main ruleset (empty until /etc/pf.conf is loaded);
    //   -f /etc/pf.conf    loads the main ruleset of macOS's pf.conf, which evaluates com.apple/*
    //                      (or, if $FAKE_STATE/pf-conf-edited exists, one that does not);
    //   -e                 enables pf, or answers "pf already enabled" with exit 1, as macOS does.
    pfctl: `
pf="$FAKE_STATE/pf"; mkdir -p "$pf"
echo "No ALTQ support in kernel" >&2; echo "ALTQ related functions disabled" >&2
case "$1" in
  -a) [ "$3" = -f ] || { echo "fake pfctl: unexpected $*" >&2; exit 2; }
      [ -f "$FAKE_STATE/pfctl-fails" ] && { echo "$4:2: syntax error" >&2; echo "pfctl: Syntax error in config file: pf rules not loaded" >&2; exit 1; }
      n=0; [ -f "$pf/count" ] && n=$(cat "$pf/count"); n=$((n + 1)); echo "$n" > "$pf/count"
      if [ "$4" = - ]; then cat > "$pf/load-$n.conf"; else cp "$4" "$pf/load-$n.conf"; fi; printf '%s' "$2" > "$pf/load-$n.anchor";;
  -s) [ "$2" = rules ] || { echo "fake pfctl: unexpected $*" >&2; exit 2; }
      [ -f "$pf/main" ] && cat "$pf/main"; exit 0;;
  -f) [ "$2" = /etc/pf.conf ] || { echo "fake pfctl: unexpected $*" >&2; exit 2; }
      if [ -f "$FAKE_STATE/pf-conf-edited" ]; then echo 'pass all' > "$pf/main"
      else printf '%s\\n' 'scrub-anchor "com.apple/*" all fragment reassemble' 'anchor "com.apple/*" all' > "$pf/main"; fi;;
  -e) [ -f "$pf/enabled" ] && { echo "pfctl: pf already enabled" >&2; exit 1; }
      : > "$pf/enabled"; echo "pf enabled" >&2;;
  *) echo "fake pfctl: unexpected $*" >&2; exit 2;;
esac`,
};
FAKES.ip6tables = FAKES.iptables;
FAKES["ip6tables-restore"] = FAKES["iptables-restore"];
FAKES.yum = FAKES.dnf;

/** The system directories the installers write to, mapped into each sandbox's `root`. */
const SYSTEM_DIRS = [
    ...new Set(
        [METADATA_GUARD_PATHS.script, METADATA_GUARD_PATHS.unit, MACOS_METADATA_GUARD_PATHS.script, MACOS_METADATA_GUARD_PATHS.launchDaemon].map(path.dirname),
    ),
];
const SYSTEM_DIR_PATTERN = new RegExp(SYSTEM_DIRS.map((d) => d.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|"), "g");

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
    readonly root = path.join(this.dir, "root");
    readonly log = path.join(this.dir, "calls.log");

    /** `fakes` names the fake commands present; a command not named is absent from PATH. */
    constructor(fakes: string[]) {
        fs.mkdirSync(this.bin);
        fs.mkdirSync(path.join(this.state, "users"), { recursive: true });
        fs.mkdirSync(path.join(this.state, "sudo"));
        // Present on every instance; /usr/local/sbin is left to the installers' mkdir -p.
        for (const dir of [path.dirname(METADATA_GUARD_PATHS.unit), path.dirname(MACOS_METADATA_GUARD_PATHS.launchDaemon)])
            fs.mkdirSync(this.path(dir), { recursive: true });
        fs.writeFileSync(this.log, "");
        for (const tool of REAL_TOOLS) fs.symlinkSync(realTool(tool), path.join(this.bin, tool));
        // rm is real inside the sandbox only: a path outside it (say the macOS home /Users/NAME)
        // is logged as a call and left alone.
        const rm = ["#!/bin/bash", 'for a in "$@"; do case "$a" in "$SANDBOX"/*) ;; /*) ' + LOG_CALL + "; exit 0;; esac; done", `exec ${realTool("rm")} "$@"`];
        fs.writeFileSync(path.join(this.bin, "rm"), rm.join("\n") + "\n", { mode: 0o755 });
        for (const fake of fakes) this.install(fake, this.bin);
    }

    /** Where the sandbox keeps the system path `p`. */
    path(p: string): string {
        return path.join(this.root, p);
    }

    private install(fake: string, dir: string) {
        if (!(fake in FAKES)) throw new Error(`no fake ${fake}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, fake), [...FAKE_PRELUDE, FAKES[fake]].join("\n") + "\n", { mode: 0o755 });
    }

    /** Makes the fake `tool` installable by the fake dnf and yum (absent from PATH until then). */
    repository(tool: string): this {
        this.install(tool, path.join(this.state, "repository"));
        return this;
    }

    /** An OS user as the fake id, sudo and dseditgroup see it; the first group is its primary group. */
    user(name: string, uid: number, groups: string[], sudoList?: string): this {
        const gid = GIDS[groups[0]] ?? uid;
        fs.writeFileSync(path.join(this.state, "users", name), `uid=${uid}\ngid=${gid}\ngroups='${groups.join(" ")}'\n`);
        if (sudoList !== undefined) fs.writeFileSync(path.join(this.state, "sudo", name), sudoList);
        return this;
    }

    /** Creates the file `name` in the state directory: a switch some fakes read. */
    flag(name: string): this {
        fs.writeFileSync(path.join(this.state, name), "");
        return this;
    }

    /** pf with macOS's /etc/pf.conf loaded, as after boot. */
    pfBooted(): this {
        fs.mkdirSync(path.join(this.state, "pf"), { recursive: true });
        fs.writeFileSync(path.join(this.state, "pf", "main"), 'anchor "com.apple/*" all\n');
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

    /** Anchor loads the fake pfctl received (`pfctl -a ANCHOR -f FILE`), in order, with the file's text. */
    pfAnchorLoads(): Array<{ anchor: string; rules: string }> {
        const dir = path.join(this.state, "pf");
        const count = fs.existsSync(path.join(dir, "count")) ? parseInt(fs.readFileSync(path.join(dir, "count"), "utf8")) : 0;
        return Array.from({ length: count }, (_, i) => ({
            anchor: fs.readFileSync(path.join(dir, `load-${i + 1}.anchor`), "utf8"),
            rules: fs.readFileSync(path.join(dir, `load-${i + 1}.conf`), "utf8"),
        }));
    }

    pfEnabled(): boolean {
        return fs.existsSync(path.join(this.state, "pf", "enabled"));
    }

    /** Runs `text` as a script file with `shell`; PATH is the sandbox's bin only, system directories are the sandbox's. */
    run(text: string, shell = "/bin/bash", parameters: Record<string, string> = {}): Result {
        const before = fs.readFileSync(this.log, "utf8").length;
        const file = path.join(this.dir, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
        fs.writeFileSync(
            file,
            text.replace(SYSTEM_DIR_PATTERN, (dir) => this.path(dir)),
        );
        const r = spawnSync(shell, [file], {
            cwd: this.dir,
            encoding: "utf8",
            env: {
                PATH: this.bin,
                FAKE_STATE: this.state,
                FAKE_LOG: this.log,
                FAKE_BIN: this.bin,
                SANDBOX: this.dir,
                TMPDIR: this.dir,
                HOME: this.dir,
                LANG: "C",
                // Document parameters, as the SSM agent passes them (interpolationType ENV_VAR).
                ...Object.fromEntries(Object.entries(parameters).map(([name, value]) => [parameterVariable(name), value])),
            },
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

    /** Runs document lines with the `userName` parameter, as the SSM agent does: an environment variable. */
    runLines(lines: readonly string[], userName?: string, shell?: string): Result {
        return this.run(lines.join("\n") + "\n", shell, userName === undefined ? {} : { userName });
    }
}

function realTool(tool: string): string {
    const real = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (!real) throw new Error(`real ${tool} not found`);
    return real;
}

/** Commands the metadata guard installers call, as opposed to the user look-ups and changes. */
const GUARD_COMMANDS = ["nft", "iptables", "ip6tables", "dnf", "yum", "systemctl", "pfctl", "launchctl"];

/** What the Linux installer runs, in order: systemd set up (reload, the unit, the timer, the agent's limits), then the guard. */
const INSTALLER_COMMANDS = [...Array(5).fill("systemctl"), "nft"];

const commandsOf = (r: Result) => r.calls.map((c) => c.command);
const userCommandsOf = (r: Result) => commandsOf(r).filter((c) => !GUARD_COMMANDS.includes(c));
const outputOf = (r: Result) => `exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

// ---------------------------------------------------------------------------------------
// OS-user provisioning

const userDocument = createOsUserDocument();
const stepNamed = (name: string) => userDocument.mainSteps.find((s) => s.name === name)!;
const LINUX = stepNamed("createLinuxUser").inputs.runCommand;
const MACOS = stepNamed("createMacOsUser").inputs.runCommand;
// The guard installers need nft and systemctl (Linux) or pfctl (macOS).
const LINUX_FAKES = ["id", "useradd", "userdel", "sudo", "nft", "systemctl", "getent"];
const MACOS_FAKES = ["id", "sudo", "dscl", "dseditgroup", "createhomedir", "pfctl", "launchctl"];

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
    it("closes the metadata service first: the step starts with METADATA_GUARD_INSTALL, which runs before any user command", () => {
        expect(LINUX.slice(0, METADATA_GUARD_INSTALL.length)).to.deep.equal([...METADATA_GUARD_INSTALL]);
        const sb = new Sandbox(LINUX_FAKES);
        const r = sb.runLines(LINUX, "no_sudo_user");
        expect(r.status, outputOf(r)).to.equal(0);
        const commands = commandsOf(r);
        const firstUserCommand = commands.findIndex((c) => !GUARD_COMMANDS.includes(c));
        expect(commands.slice(0, firstUserCommand), "systemd set up, then the guard loaded").to.deep.equal(INSTALLER_COMMANDS);
        expect(
            commands.slice(firstUserCommand).filter((c) => GUARD_COMMANDS.includes(c)),
            "nothing of the guard after",
        ).to.deep.equal([]);
        expect(sb.nftLoads()).to.have.length(1);
        expect(fs.existsSync(sb.path(METADATA_GUARD_PATHS.agentDropIn)), "the agent's drop-in is written").to.equal(true);
        expect(r.stdout.indexOf("imds-guard: loaded")).to.be.lessThan(r.stdout.indexOf("OS user no_sudo_user created"));
    });

    it("creates no user, and looks none up, when the guard fails (nft refuses the ruleset, or there is no firewall tool at all)", () => {
        const nftFails = new Sandbox(LINUX_FAKES).flag("nft-fails");
        const noTool = new Sandbox(["id", "useradd", "userdel", "sudo", "systemctl"]);
        for (const [why, sb] of [
            ["nft fails", nftFails],
            ["no firewall tool", noTool],
        ] as const) {
            const r = sb.runLines(LINUX, "no_sudo_user");
            expect(r.status, `${why}: ${outputOf(r)}`).to.not.equal(0);
            expect(commandsOf(r), why).to.not.include("useradd");
            expect(userCommandsOf(r), `${why}: no user command at all`).to.deep.equal([]);
            expect(sb.exists("no_sudo_user"), why).to.equal(false);
            expect(r.stdout, why).to.not.match(/OS user/);
        }
    });

    it("refuses an existing user with a UID of 60000 or above (nobody is 65534), and accepts 59999", () => {
        for (const uid of [65534, 60000, 4294967294]) {
            const sb = new Sandbox(LINUX_FAKES).user("nobody", uid, ["nobody"]);
            const r = sb.runLines(LINUX, "nobody");
            expect(r.status, `${uid}: ${outputOf(r)}`).to.equal(1);
            expect(r.stderr).to.match(new RegExp(`refusing OS user nobody: its UID ${uid} is 60000 or above`));
            expect(commandsOf(r), "refused, not removed").to.not.include("userdel");
            expect(sb.exists("nobody")).to.equal(true);
        }
        const edge = new Sandbox(LINUX_FAKES).user("edge", 59999, ["edge"]);
        expect(edge.runLines(LINUX, "edge").status).to.equal(0);
    });

    it("refuses an existing user whose primary group is GID 0", () => {
        const sb = new Sandbox(LINUX_FAKES).user("gary", 1505, ["root"]);
        const r = sb.runLines(LINUX, "gary");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user gary: its primary group is GID 0/);
        expect(commandsOf(r)).to.not.include("sudo");
    });

    it("refuses an existing user that sudo -l -U says may run commands (a cloud-init style NOPASSWD rule), and keeps it", () => {
        const sb = new Sandbox(LINUX_FAKES).user("deploy", 1001, ["deploy"], SUDO_LIST("deploy"));
        const r = sb.runLines(LINUX, "deploy");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user deploy: sudo -l -U deploy lists commands/);
        expect(userCommandsOf(r), "refused, not stripped or removed").to.deep.equal(["id", "id", "id", "id", "id", "sudo"]);
        expect(r.stderr).to.not.match(/removed/);
        expect(sb.exists("deploy")).to.equal(true);
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

    it("refuses any supplementary group (docker, lxd, disk, ...), naming it, before asking sudo", () => {
        for (const group of ["docker", "lxd", "disk", "root", "developers"]) {
            const sb = new Sandbox(LINUX_FAKES).user("dan", 1504, ["dan", group]);
            const r = sb.runLines(LINUX, "dan");
            expect(r.status, `${group}: ${outputOf(r)}`).to.equal(1);
            expect(r.stderr).to.match(new RegExp(`refusing OS user dan: it is a member of the group ${group} besides its primary group dan`));
            expect(commandsOf(r)).to.not.include("sudo");
        }
    });

    it("refuses a primary group other than users or the user's own (say docker)", () => {
        const sb = new Sandbox(LINUX_FAKES).user("pat", 1506, ["docker"]);
        const r = sb.runLines(LINUX, "pat");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user pat: its primary group is docker, neither users nor its own group pat/);
    });

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
        const sb = new Sandbox(["id", "useradd", "nft", "systemctl"]).user("dave", 1503, ["users"]);
        const r = sb.runLines(LINUX, "dave");
        expect(r.status, outputOf(r)).to.equal(0);
        expect(r.stdout).to.match(/sudo is not installed/);
    });

    it("says so loudly when it cannot remove a user it created and refused", () => {
        const sb = new Sandbox(["id", "useradd", "sudo", "nft", "systemctl", "getent"]); // no userdel
        fs.writeFileSync(path.join(sb.state, "sudo", "erin"), SUDO_LIST("erin"));
        const r = sb.runLines(LINUX, "erin");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/FAILED to remove OS user erin, which this run created/);
    });

    it("refuses each reserved name before running any user command", () => {
        for (const name of RESERVED_OS_USERS) {
            for (const [step, lines, fakes] of [
                ["Linux", LINUX, LINUX_FAKES],
                ["macOS", MACOS, MACOS_FAKES],
            ] as const) {
                const sb = new Sandbox([...fakes]).user(name, name === "root" ? 0 : 1000, ["users"]);
                const r = sb.runLines(lines, name);
                expect(r.status, `${step} ${name}: ${outputOf(r)}`).to.equal(1);
                expect(r.stderr, `${step} ${name}`).to.match(new RegExp(`refusing OS user ${name}: the name is reserved`));
                expect(userCommandsOf(r), `${step} ${name}: no user command at all`).to.deep.equal([]);
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

    it("keeps the parameter inert: an environment variable, never script text, and allowedPattern forbids quotes", () => {
        const pattern = new RegExp(userDocument.parameters.userName.allowedPattern);
        expect(userDocument.parameters.userName).to.include({ allowedPattern: OS_USER_NAME_PATTERN, interpolationType: "ENV_VAR" });
        for (const step of userDocument.mainSteps) expect(step.inputs.runCommand.join("\n"), step.name).to.not.include("{{");
        for (const bad of ["a'b", 'a"b', "a b", "a$b", "a`b", "a\\b", "a;b"]) expect(pattern.test(bad), bad).to.equal(false);
    });

    it("stops, naming the agent version, when the agent does not pass the parameter as an environment variable", () => {
        const r = new Sandbox(LINUX_FAKES).runLines(LINUX);
        expect(r.status, outputOf(r)).to.not.equal(0);
        expect(r.stderr).to.include(`SSM Agent ${MIN_AGENT_FOR_ENV_VAR_PARAMETERS} or later`);
        expect(userCommandsOf(r)).to.deep.equal([]);
    });

    it("runs under a POSIX sh (dash) too, whichever shell the agent picks", function () {
        if (!fs.existsSync("/bin/dash")) this.skip();
        const created = new Sandbox(LINUX_FAKES);
        const r = created.runLines(LINUX, "no_sudo_user", "/bin/dash");
        expect(r.status, outputOf(r)).to.equal(0);
        expect(created.exists("no_sudo_user")).to.equal(true);
        const wheel = new Sandbox(LINUX_FAKES).user("bob", 1501, ["wheel"]);
        expect(wheel.runLines(LINUX, "bob", "/bin/dash").status).to.equal(1);
        const refusedNew = new Sandbox(LINUX_FAKES);
        fs.writeFileSync(path.join(refusedNew.state, "sudo", "erin"), SUDO_LIST("erin"));
        expect(refusedNew.runLines(LINUX, "erin", "/bin/dash").status).to.equal(1);
        expect(refusedNew.exists("erin")).to.equal(false);
    });
});

describe("instance scripts: per-person Run As, a list of OS users in one step (Linux, run with bash)", () => {
    const usersDocument = createOsUsersDocument();
    const LINUX_LIST = usersDocument.mainSteps.find((s) => s.name === "createLinuxUser")!.inputs.runCommand;
    const runList = (sb: Sandbox, userNames: string) => sb.run(LINUX_LIST.join("\n") + "\n", "/bin/bash", { userNames });

    it("closes the metadata service once, then creates every user of the list with the same checks", () => {
        const sb = new Sandbox(LINUX_FAKES);
        const r = runList(sb, "os_user_a-alice os_user_a-bob");
        expect(r.status, outputOf(r)).to.equal(0);
        expect(sb.nftLoads()).to.have.length(1);
        for (const user of ["os_user_a-alice", "os_user_a-bob"]) {
            expect(sb.exists(user), user).to.equal(true);
            expect(r.stdout).to.include(`OS user ${user} is unprivileged`);
        }
        expect(r.stdout.indexOf("imds-guard: loaded")).to.be.lessThan(r.stdout.indexOf("OS user os_user_a-alice created"));
    });

    it("refuses a privileged user of the list, naming it, and still sees to the others; the step fails", () => {
        const sb = new Sandbox(LINUX_FAKES).user("os_user_a-mallory", 1001, ["users"], SUDO_LIST("os_user_a-mallory"));
        const r = runList(sb, "os_user_a-alice os_user_a-mallory os_user_a-bob");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr).to.match(/refusing OS user os_user_a-mallory: sudo -l -U os_user_a-mallory lists commands/);
        expect(sb.exists("os_user_a-alice")).to.equal(true);
        expect(sb.exists("os_user_a-bob")).to.equal(true);
    });

    it("splits the list on spaces and never expands a name as a file pattern", () => {
        const sb = new Sandbox(LINUX_FAKES);
        fs.writeFileSync(path.join(sb.dir, "os_user_a-zz"), "");
        runList(sb, "os_user_a-*");
        expect(sb.exists("os_user_a-zz"), "a file beside the script is no user name").to.equal(false);
    });

    it("creates no user when the guard fails", () => {
        const sb = new Sandbox(LINUX_FAKES).flag("nft-fails");
        const r = runList(sb, "os_user_a-alice os_user_a-bob");
        expect(r.status, outputOf(r)).to.not.equal(0);
        expect(userCommandsOf(r)).to.deep.equal([]);
        expect(sb.exists("os_user_a-alice")).to.equal(false);
    });

    it("takes only names of the partners' namespace, separated by single spaces, as an environment variable", () => {
        expect(usersDocument.parameters.userNames).to.deep.include({ allowedPattern: END_OS_USERS_PATTERN, interpolationType: "ENV_VAR" });
        const pattern = new RegExp(END_OS_USERS_PATTERN);
        expect(pattern.test("os_user_a-alice os_user_a-bob")).to.equal(true);
        for (const bad of ["root", "os_user_a-alice root", "os_user_a-alice;id", "os_user_a-alice  os_user_a-bob"])
            expect(pattern.test(bad), bad).to.equal(false);
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

    it("closes the metadata service first: the step starts with MACOS_METADATA_GUARD_INSTALL, and creates no user when pf refuses the rules", () => {
        expect(MACOS.slice(0, MACOS_METADATA_GUARD_INSTALL.length)).to.deep.equal([...MACOS_METADATA_GUARD_INSTALL]);
        const sb = new Sandbox(MACOS_FAKES).pfBooted();
        const r = sb.runLines(MACOS, "no_sudo_user");
        expect(r.status, outputOf(r)).to.equal(0);
        const commands = commandsOf(r);
        const firstUserCommand = commands.findIndex((c) => !GUARD_COMMANDS.includes(c));
        expect(firstUserCommand).to.be.greaterThan(0);
        expect(commands.slice(0, firstUserCommand).every((c) => c === "pfctl" || c === "launchctl")).to.equal(true);
        expect(commands.slice(firstUserCommand)).to.not.include("pfctl");
        expect(sb.pfAnchorLoads()).to.have.length(1);
        expect(fs.existsSync(sb.path(MACOS_METADATA_GUARD_PATHS.launchDaemon)), "the LaunchDaemon is written").to.equal(true);

        const failing = new Sandbox(MACOS_FAKES).pfBooted().flag("pfctl-fails");
        const f = failing.runLines(MACOS, "no_sudo_user");
        expect(f.status, outputOf(f)).to.not.equal(0);
        expect(userCommandsOf(f), "no dscl, no id: no user").to.deep.equal([]);
        expect(failing.exists("no_sudo_user")).to.equal(false);
    });

    it("refuses an existing user below UID 501, in GID 0, an administrator, or one with sudo rights", () => {
        const low = new Sandbox(MACOS_FAKES).user("svc", 500, ["staff"]);
        const lowRun = low.runLines(MACOS, "svc");
        expect(lowRun.status, outputOf(lowRun)).to.equal(1);
        expect(lowRun.stderr).to.match(/refusing OS user svc: its UID 500 is below 501/);

        const wheel = new Sandbox(MACOS_FAKES).user("walt", 506, ["wheel"]);
        const wheelRun = wheel.runLines(MACOS, "walt");
        expect(wheelRun.status, outputOf(wheelRun)).to.equal(1);
        expect(wheelRun.stderr).to.match(/refusing OS user walt: its primary group is GID 0/);

        const admin = new Sandbox(MACOS_FAKES).user("mallory", 503, ["staff", "admin"]);
        const adminRun = admin.runLines(MACOS, "mallory");
        expect(adminRun.status, outputOf(adminRun)).to.equal(1);
        expect(adminRun.stderr).to.match(/refusing OS user mallory: it is a member of the admin group/);
        expect(commandsOf(adminRun)).to.not.include("dscl");
        expect(admin.exists("mallory"), "refused, not removed").to.equal(true);

        const sudoer = new Sandbox(MACOS_FAKES).user("trent", 504, ["staff"], SUDO_LIST("trent"));
        const sudoRun = sudoer.runLines(MACOS, "trent");
        expect(sudoRun.status, outputOf(sudoRun)).to.equal(1);
        expect(sudoRun.stderr).to.match(/refusing OS user trent: sudo -l -U trent lists commands/);

        const fine = new Sandbox(MACOS_FAKES).user("peggy", 505, ["staff"]);
        expect(fine.runLines(MACOS, "peggy").status).to.equal(0);
    });

    it("removes a user it has just created and then refused: its record (dscl -delete) and its home", () => {
        const sb = new Sandbox(MACOS_FAKES);
        fs.writeFileSync(path.join(sb.state, "sudo", "erin"), SUDO_LIST("erin"));
        const r = sb.runLines(MACOS, "erin");
        expect(r.status, outputOf(r)).to.equal(1);
        expect(r.stderr)
            .to.match(/refusing OS user erin: sudo -l -U erin lists commands/)
            .and.match(/removed OS user erin again/);
        expect(r.calls).to.deep.include({ command: "dscl", args: [".", "-delete", "/Users/erin"] });
        // The sandbox's rm logs paths outside the sandbox instead of removing them.
        expect(r.calls).to.deep.include({ command: "rm", args: ["-rf", "/Users/erin"] });
        expect(sb.exists("erin")).to.equal(false);
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
        expect(lines.join("\n")).to.not.match(/\b(if|try|trap|return|throw)\b|[{}]/i);
        expect(lines[lines.length - 1]).to.equal("exit 1");
        const message = lines.find((l) => l.includes("[Console]::Error.WriteLine("))!;
        expect(message).to.include("Run As is Linux and macOS only: this Windows instance gets no OS user $user");
        expect(userDocument.mainSteps.map((s) => s.precondition.StringEquals[1])).to.deep.equal(["Linux", "MacOS", "Windows"]);
    });
});

// ---------------------------------------------------------------------------------------
// The metadata guard

const GUARD = `${METADATA_GUARD_SCRIPT.join("\n")}\n`;
const TABLE = `inet ${METADATA_GUARD_NFT_TABLE}`;
const { ipv4: IMDS4, ipv6: IMDS6 } = INSTANCE_METADATA_ADDRESSES;

// What the real-kernel test bed (metadata-guard-kernel.test.ts) cannot show: the failure branches,
// and the dnf and yum paths of Amazon Linux and RHEL.
describe("instance scripts: metadata guard (nftables refusing its ruleset)", () => {
    it("fails (non-zero) when nft refuses the ruleset", () => {
        const sb = new Sandbox(["nft"]);
        fs.writeFileSync(path.join(sb.state, "nft-fails"), "");
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.not.equal(0);
        expect(r.stdout).to.not.include("loaded");
    });
});

describe("instance scripts: metadata guard (installing nftables, and no firewall tool at all)", () => {
    it("with neither nft nor iptables, installs nftables with dnf and loads the table with the nft it installed", () => {
        const sb = new Sandbox(["dnf", "yum"]).repository("nft");
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.equal(0);
        expect(r.calls).to.deep.equal([
            { command: "dnf", args: ["-y", "install", "nftables"] },
            { command: "nft", args: ["-f", r.calls[1]?.args[1]] },
        ]);
        expect(r.stdout)
            .to.include("running dnf -y install nftables")
            .and.include("dnf -y install nftables succeeded")
            .and.include(`loaded nftables table ${TABLE}`);
        expect(sb.nftLoads()).to.have.length(1);
        expect(sb.nftLoads()[0]).to.include(`table ${TABLE} {`);

        // Installed once: the next run finds nft.
        const again = sb.run(GUARD);
        expect(commandsOf(again)).to.deep.equal(["nft"]);
    });

    it("falls back to yum where there is no dnf", () => {
        const sb = new Sandbox(["yum"]).repository("nft");
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.equal(0);
        expect(commandsOf(r)).to.deep.equal(["yum", "nft"]);
        expect(r.calls[0].args).to.deep.equal(["-y", "install", "nftables"]);
    });

    it("without nft, puts the IPv6 rule in place even when iptables-restore refuses the IPv4 one, then fails", () => {
        const sb = new Sandbox(["iptables", "ip6tables", "iptables-restore", "ip6tables-restore"]).flag("iptables-restore-fails");
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.equal(1);
        expect(fs.readFileSync(path.join(sb.state, "ip6tables-restore.in"), "utf8")).to.include(`-I OUTPUT 1 -j ${METADATA_GUARD_IPTABLES_CHAIN}`);
        expect(r.stdout).to.include(`ip6tables now rejects traffic to ${IMDS6}`);
        expect(r.stderr).to.include("imds-guard: FAILED: iptables-restore refused the guard's rules");
    });

    it("fails loudly when installing nftables fails too", () => {
        const sb = new Sandbox(["dnf"]);
        const r = sb.run(GUARD);
        expect(r.status, outputOf(r)).to.equal(1);
        expect(commandsOf(r)).to.deep.equal(["dnf"]);
        expect(r.stderr)
            .to.match(/imds-guard: dnf -y install nftables failed/)
            .and.match(
                /imds-guard: FAILED: neither nft nor iptables and ip6tables \(with their -restore\) is installed, and dnf -y install nftables did not provide nft/,
            );
        expect(r.stderr).to.include(IMDS4).and.include(IMDS6);
        expect(r.stdout).to.not.include("loaded");
    });

    it("fails loudly when neither nft nor iptables is installed, nor dnf or yum to install nftables with", () => {
        for (const fakes of [[], ["iptables"], ["iptables", "ip6tables"]]) {
            const sb = new Sandbox(fakes);
            const r = sb.run(GUARD);
            expect(r.status, `${fakes}: ${outputOf(r)}`).to.equal(1);
            expect(r.stderr).to.match(
                /imds-guard: FAILED: neither nft nor iptables and ip6tables \(with their -restore\) is installed, and neither dnf nor yum is there/,
            );
            expect(r.stderr).to.include(IMDS4).and.include(IMDS6);
            expect(r.calls).to.deep.equal([]);
        }
    });
});

/** Runs the Linux installer `text` in a fresh sandbox with nft and systemctl. */
function runLinuxInstall(text: string, fakes = ["nft", "systemctl"]) {
    const sb = new Sandbox(fakes);
    return { sb, r: sb.run(text) };
}

describe("instance scripts: metadata guard installer (Linux), its document and the user data", () => {
    const unitName = path.basename(METADATA_GUARD_PATHS.unit);

    it("one source: the user data, the guard document's Linux step and the OS-user step all run METADATA_GUARD_INSTALL", () => {
        const userData = metadataGuardUserData();
        expect(userData.startsWith("#!/bin/bash\n")).to.equal(true);
        const lines = userData.split("\n");
        expect(lines[1]).to.match(/^# /);
        expect(lines.slice(2), "a comment, then exactly the install lines").to.deep.equal([...METADATA_GUARD_INSTALL, ""]);

        const doc = metadataGuardDocument();
        const linux = doc.mainSteps.find((s) => s.precondition.StringEquals[1] === "Linux")!;
        expect(linux.inputs.runCommand).to.deep.equal([...METADATA_GUARD_INSTALL]);
        expect(LINUX.slice(0, METADATA_GUARD_INSTALL.length)).to.deep.equal([...METADATA_GUARD_INSTALL]);

        expect(METADATA_GUARD_INSTALL[0]).to.equal("set -eu");
        expect(METADATA_GUARD_INSTALL[METADATA_GUARD_INSTALL.length - 1], "ends by running the guard").to.equal(METADATA_GUARD_PATHS.script);
    });

    it("holds exactly METADATA_GUARD_SCRIPT in a quoted heredoc, written beside the target and renamed into place", () => {
        const lines = [...METADATA_GUARD_INSTALL];
        const start = lines.findIndex((l) => l.startsWith(`cat > ${METADATA_GUARD_PATHS.script}.`) && l.endsWith(" <<'IMDS_GUARD_SCRIPT'"));
        expect(start, "a quoted heredoc writing the script").to.be.greaterThan(0);
        const end = lines.indexOf("IMDS_GUARD_SCRIPT", start + 1);
        expect(lines.slice(start + 1, end)).to.deep.equal(["#!/bin/bash", ...METADATA_GUARD_SCRIPT]);
        const staging = lines[start].slice("cat > ".length, lines[start].indexOf(" <<"));
        expect(lines.slice(end + 1, end + 3)).to.deep.equal([`chmod 0755 ${staging}`, `mv -f ${staging} ${METADATA_GUARD_PATHS.script}`]);
    });

    for (const [source, text] of [
        ["the user data", metadataGuardUserData()],
        ["the guard document's Linux step", `${metadataGuardDocument().mainSteps[0].inputs.runCommand.join("\n")}\n`],
    ] as const) {
        it(`${source}, run in a sandbox, writes the script byte for byte, the unit, the agent drop-in, enables the unit and runs the guard`, () => {
            const { sb, r } = runLinuxInstall(text);
            expect(r.status, outputOf(r)).to.equal(0);

            const installed = sb.path(METADATA_GUARD_PATHS.script);
            expect(fs.readFileSync(installed, "utf8")).to.equal(`#!/bin/bash\n${GUARD}`);
            expect(fs.statSync(installed).mode & 0o777).to.equal(0o755);

            const unit = parseUnit(fs.readFileSync(sb.path(METADATA_GUARD_PATHS.unit), "utf8"));
            expect(unit.Service.Type).to.deep.equal(["oneshot"]);
            expect(unit.Service.RemainAfterExit).to.deep.equal(["yes"]);
            expect(unit.Service.ExecStart).to.deep.equal([installed]);
            expect(unit.Unit.Before).to.include("network-pre.target");
            expect(unit.Unit.Wants).to.include("network-pre.target");
            expect(unit.Unit.DefaultDependencies).to.deep.equal(["no"]);
            expect(unit.Install.WantedBy).to.include("multi-user.target");

            // After every reboot the SSM agent starts only once the guard has run.
            expect(METADATA_GUARD_PATHS.agentDropIn).to.equal("/etc/systemd/system/amazon-ssm-agent.service.d/10-imds-guard.conf");
            const dropIn = parseUnit(fs.readFileSync(sb.path(METADATA_GUARD_PATHS.agentDropIn), "utf8"));
            expect(Object.keys(dropIn)).to.deep.equal(["Unit", "Service"]);
            // Sessions' shells count against the agent's task limit: a partner filling it would keep the
            // command ending its access from starting. No task limit on the unit; a process limit per user.
            expect(dropIn.Service).to.deep.equal({ TasksMax: ["infinity"], LimitNPROC: [String(SESSION_USER_PROCESS_LIMIT)] });
            expect(dropIn.Unit.After).to.deep.equal([unitName]);
            expect(dropIn.Unit.Wants).to.deep.equal([unitName]);

            const leftovers = [
                path.dirname(METADATA_GUARD_PATHS.script),
                path.dirname(METADATA_GUARD_PATHS.unit),
                path.dirname(METADATA_GUARD_PATHS.agentDropIn),
            ]
                .flatMap((d) => fs.readdirSync(sb.path(d)))
                .filter((f) => f.includes(".new."));
            expect(leftovers, "no staging file left behind").to.deep.equal([]);

            expect(r.calls.filter((c) => c.command === "systemctl").map((c) => c.args)).to.deep.equal([
                ["daemon-reload"],
                ["enable", unitName],
                ["enable", "--now", path.basename(METADATA_GUARD_PATHS.reapplyTimer)],
                // The agent's task limit lifted, and its main process asked for (none in the sandbox: no limit set).
                ["set-property", "--runtime", "amazon-ssm-agent.service", "TasksMax=infinity"],
                ["show", "--property", "MainPID", "--value", "amazon-ssm-agent.service"],
            ]);
            expect(commandsOf(r), "systemd set up before the guard runs").to.deep.equal(INSTALLER_COMMANDS);
            expect(sb.nftLoads(), "the guard ran once, now").to.have.length(1);
            expect(r.stdout).to.include(`loaded nftables table ${TABLE}`);

            // Run again (the next association run): the same files, one table.
            const again = sb.run(text);
            expect(again.status, outputOf(again)).to.equal(0);
            expect(fs.readFileSync(installed, "utf8")).to.equal(`#!/bin/bash\n${GUARD}`);
            expect(sb.nftLoads()[1], "the same ruleset loaded again").to.equal(sb.nftLoads()[0]);
        });
    }

    it("puts the guard back after every firewall reload: drop-ins on the firewall services and a timer run it, quietly unless it had gone", () => {
        const { sb, r } = runLinuxInstall(`${METADATA_GUARD_INSTALL.join("\n")}\n`);
        expect(r.status, outputOf(r)).to.equal(0);
        const reapply = `${METADATA_GUARD_PATHS.script} reapply`;
        const installed = sb.path(METADATA_GUARD_PATHS.script);
        for (const service of FIREWALL_SERVICES) {
            const dropIn = parseUnit(fs.readFileSync(sb.path(firewallDropInPath(service)), "utf8"));
            // "-": a failing guard never fails the firewall service; a second ExecReload runs after the service's own.
            const step = [`-${installed}`, "reapply"];
            expect(dropIn.Service, service).to.deep.equal({ ExecStartPost: step, ExecReload: step, ExecStopPost: step });
        }
        expect(FIREWALL_SERVICES).to.include.members(["nftables.service", "iptables.service", "ip6tables.service", "firewalld.service"]);
        const timer = parseUnit(fs.readFileSync(sb.path(METADATA_GUARD_PATHS.reapplyTimer), "utf8"));
        expect(timer.Timer.OnUnitActiveSec).to.deep.equal([`${METADATA_GUARD_REAPPLY_SECONDS}s`]);
        expect(timer.Install.WantedBy).to.deep.equal(["timers.target"]);
        const service = parseUnit(fs.readFileSync(sb.path(METADATA_GUARD_PATHS.reapplyService), "utf8"));
        expect(service.Service).to.deep.include({ Type: ["oneshot"], ExecStart: [installed, "reapply"] });
        expect(service.Service.RemainAfterExit, "a timer can start it again and again").to.equal(undefined);

        // The guard in place: the timer's run re-loads it atomically and says nothing.
        const quiet = sb.run(`${reapply}\n`);
        expect(quiet.status, outputOf(quiet)).to.equal(0);
        expect(quiet.stdout).to.equal("");
        // A flush and the re-apply after it: on a real kernel, in metadata-guard-kernel.test.ts.
    });

    it("writes no temporary file to load its rules: a user who fills /tmp cannot stop a re-apply", () => {
        for (const script of [METADATA_GUARD_SCRIPT, MACOS_METADATA_GUARD_SCRIPT]) {
            const code = script.filter((line) => !line.trim().startsWith("#")).join("\n");
            expect(code).to.not.match(/mktemp|TMPDIR|\/tmp/);
        }
        expect(METADATA_GUARD_SCRIPT.join("\n")).to.include("| nft -f -");
        expect(MACOS_METADATA_GUARD_SCRIPT.join("\n")).to.include('| pfctl -a "$anchor" -f -');
    });

    it("fails when the guard fails (user data and document alike)", () => {
        for (const text of [metadataGuardUserData(), `${METADATA_GUARD_INSTALL.join("\n")}\n`]) {
            const { r } = runLinuxInstall(text, ["systemctl"]);
            expect(r.status, outputOf(r)).to.not.equal(0);
            expect(r.stderr).to.match(/imds-guard: FAILED/);
        }
    });

    it("stops at the first failure (set -e): a failing systemctl leaves the guard unrun and the step failed", () => {
        const sb = new Sandbox(["nft"]); // no systemctl
        const r = sb.runLines(METADATA_GUARD_INSTALL);
        expect(r.status, outputOf(r)).to.not.equal(0);
        expect(sb.nftLoads()).to.have.length(0);
    });
});

describe("instance scripts: metadata guard document", () => {
    it("has no parameters, and a Linux and a macOS step, each running its installer", () => {
        const doc = metadataGuardDocument();
        expect(doc.schemaVersion).to.equal("2.2");
        expect(doc).to.not.have.property("parameters");
        expect(doc.mainSteps.map((s) => [s.action, s.name, s.precondition])).to.deep.equal([
            ["aws:runShellScript", "closeMetadataToNonRoot", { StringEquals: ["platformType", "Linux"] }],
            ["aws:runShellScript", "closeMetadataToNonRootMacOs", { StringEquals: ["platformType", "MacOS"] }],
        ]);
        expect(doc.mainSteps[0].inputs.runCommand).to.deep.equal([...METADATA_GUARD_INSTALL]);
        expect(doc.mainSteps[1].inputs.runCommand).to.deep.equal([...MACOS_METADATA_GUARD_INSTALL]);
    });
});

// ---------------------------------------------------------------------------------------
// The macOS guard (pf)

const MACOS_GUARD = `${MACOS_METADATA_GUARD_SCRIPT.join("\n")}\n`;

/** The filter rules of a pf anchor file: its lines without comments and blanks. */
const pfRules = (text: string) =>
    text
        .split("\n")
        .map((l) => l.replace(/#.*$/, "").trim())
        .filter((l) => l !== "");

describe("instance scripts: metadata guard on macOS (pf)", () => {
    it("loads an anchor under com.apple/* whose rules block both addresses for every user but root, and enables pf", () => {
        const sb = new Sandbox(["pfctl", "launchctl"]).pfBooted();
        const r = sb.run(MACOS_GUARD);
        expect(r.status, outputOf(r)).to.equal(0);
        const loads = sb.pfAnchorLoads();
        expect(loads).to.have.length(1);
        // A direct child of com.apple, which macOS's /etc/pf.conf evaluates (anchor "com.apple/*").
        expect(loads[0].anchor).to.equal(MACOS_METADATA_GUARD_PF_ANCHOR);
        expect(loads[0].anchor).to.match(/^com\.apple\/[^/]+$/);
        const rules = pfRules(loads[0].rules).map((rule) => {
            const m = rule.match(/^block return out quick (inet|inet6) proto tcp from any to (\S+) user != 0$/);
            expect(m, `an outbound quick block for every user but UID 0: ${rule}`).to.not.equal(null);
            return { af: m![1], address: m![2] };
        });
        expect(rules).to.have.deep.members([
            { af: "inet", address: IMDS4 },
            { af: "inet6", address: IMDS6 },
        ]);
        expect(r.calls.find((c) => c.args[0] === "-a")!.args.slice(0, 3)).to.deep.equal(["-a", MACOS_METADATA_GUARD_PF_ANCHOR, "-f"]);
        expect(r.calls).to.deep.include({ command: "pfctl", args: ["-e"] });
        expect(r.calls, "never -E: no token piling up").to.not.deep.include({ command: "pfctl", args: ["-E"] });
        expect(sb.pfEnabled()).to.equal(true);
        expect(r.stdout).to.include(`loaded pf anchor ${MACOS_METADATA_GUARD_PF_ANCHOR}`).and.include(IMDS4).and.include(IMDS6);
    });

    it("run again, replaces the anchor's rules with the same ones and accepts that pf is already enabled", () => {
        const sb = new Sandbox(["pfctl", "launchctl"]).pfBooted();
        expect(sb.run(MACOS_GUARD).status).to.equal(0);
        const again = sb.run(MACOS_GUARD);
        expect(again.status, outputOf(again)).to.equal(0);
        const [first, second] = sb.pfAnchorLoads();
        expect(second).to.deep.equal(first);
        expect(again.calls.map((c) => c.args[0])).to.deep.equal(["-a", "-s", "-e"]);
    });

    it("loads /etc/pf.conf itself when the main ruleset does not evaluate com.apple/* yet (early boot)", () => {
        const sb = new Sandbox(["pfctl", "launchctl"]);
        const r = sb.run(MACOS_GUARD);
        expect(r.status, outputOf(r)).to.equal(0);
        expect(r.calls.map((c) => c.args.join(" "))).to.deep.equal([
            `-a ${MACOS_METADATA_GUARD_PF_ANCHOR} -f ${r.calls[0].args[3]}`,
            "-s rules",
            "-f /etc/pf.conf",
            "-s rules",
            "-e",
        ]);
        expect(r.stdout).to.match(/loading \/etc\/pf\.conf/);
    });

    it("fails when the main ruleset still does not evaluate com.apple/* (an edited pf.conf), when pfctl refuses the rules, or pf cannot be enabled", () => {
        const edited = new Sandbox(["pfctl", "launchctl"]).flag("pf-conf-edited");
        const e = edited.run(MACOS_GUARD);
        expect(e.status, outputOf(e)).to.equal(1);
        expect(e.stderr).to.match(/imds-guard: FAILED: the main pf ruleset does not evaluate anchor com\.apple\/\*/);
        expect(edited.pfEnabled()).to.equal(false);

        const refused = new Sandbox(["pfctl", "launchctl"]).pfBooted().flag("pfctl-fails");
        const f = refused.run(MACOS_GUARD);
        expect(f.status, outputOf(f)).to.not.equal(0);
        expect(f.stdout).to.not.include("loaded");

        const noPf = new Sandbox([]);
        expect(noPf.run(MACOS_GUARD).status, "no pfctl at all").to.not.equal(0);
    });

    it("runs under a POSIX sh (dash)", function () {
        if (!fs.existsSync("/bin/dash")) this.skip();
        const sb = new Sandbox(["pfctl", "launchctl"]).pfBooted();
        const r = sb.run(MACOS_GUARD, "/bin/dash");
        expect(r.status, outputOf(r)).to.equal(0);
        expect(sb.pfAnchorLoads()).to.have.length(1);
    });
});

describe("instance scripts: metadata guard installer (macOS): script and LaunchDaemon", () => {
    it("writes the guard byte for byte and a LaunchDaemon that runs it at every boot (RunAtLoad), then runs it", () => {
        const sb = new Sandbox(["pfctl", "launchctl"]).pfBooted();
        const r = sb.runLines(MACOS_METADATA_GUARD_INSTALL);
        expect(r.status, outputOf(r)).to.equal(0);

        const installed = sb.path(MACOS_METADATA_GUARD_PATHS.script);
        expect(fs.readFileSync(installed, "utf8")).to.equal(`#!/bin/sh\n${MACOS_GUARD}`);
        expect(fs.statSync(installed).mode & 0o777).to.equal(0o755);

        expect(MACOS_METADATA_GUARD_PATHS.launchDaemon).to.equal(`/Library/LaunchDaemons/${MACOS_METADATA_GUARD_LABEL}.plist`);
        const plistFile = sb.path(MACOS_METADATA_GUARD_PATHS.launchDaemon);
        expect(fs.statSync(plistFile).mode & 0o777, "launchd refuses a plist others can write").to.equal(0o644);
        const plist = fs.readFileSync(plistFile, "utf8");
        const value = (key: string) => plist.match(new RegExp(`<key>${key}</key>\\s*(<true/>|<false/>|<string>[^<]*</string>|<array>[\\s\\S]*?</array>)`))?.[1];
        expect(value("Label")).to.equal(`<string>${MACOS_METADATA_GUARD_LABEL}</string>`);
        expect(value("RunAtLoad")).to.equal("<true/>");
        expect(value("ProgramArguments")!.replace(/\s+/g, "")).to.equal(`<array><string>${installed}</string><string>reapply</string></array>`);
        // Loaded now, so the re-apply interval runs before the next boot (bootout first: bootstrap refuses a loaded label).
        expect(r.calls.filter((c) => c.command === "launchctl").map((c) => c.args)).to.deep.equal([
            ["bootout", `system/${MACOS_METADATA_GUARD_LABEL}`],
            ["bootstrap", "system", plistFile],
        ]);

        expect(sb.pfAnchorLoads(), "the guard ran once, now").to.have.length(1);
        expect(r.stdout).to.include(`loaded pf anchor ${MACOS_METADATA_GUARD_PF_ANCHOR}`);
        expect(MACOS_METADATA_GUARD_INSTALL[MACOS_METADATA_GUARD_INSTALL.length - 1]).to.equal(MACOS_METADATA_GUARD_PATHS.script);
    });

    it("the LaunchDaemon is a valid property list (python3 plistlib); skipped without python3", function () {
        const python = spawnSync("python3", ["-c", "import plistlib"], { encoding: "utf8" });
        if (python.status !== 0) this.skip();
        const sb = new Sandbox(["pfctl", "launchctl"]).pfBooted();
        expect(sb.runLines(MACOS_METADATA_GUARD_INSTALL).status).to.equal(0);
        const parsed = spawnSync(
            "python3",
            ["-c", "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))", sb.path(MACOS_METADATA_GUARD_PATHS.launchDaemon)],
            { encoding: "utf8" },
        );
        expect(parsed.status, parsed.stderr).to.equal(0);
        const plist = JSON.parse(parsed.stdout);
        expect(plist.Label).to.equal(MACOS_METADATA_GUARD_LABEL);
        expect(plist.RunAtLoad).to.equal(true);
        expect(plist.ProgramArguments).to.deep.equal([sb.path(MACOS_METADATA_GUARD_PATHS.script), "reapply"]);
        // A reload of /etc/pf.conf or pfctl -F drops the anchor's rules: launchd puts them back within the interval.
        expect(plist.StartInterval).to.equal(METADATA_GUARD_REAPPLY_SECONDS);
    });

    it("fails when the guard fails", () => {
        const sb = new Sandbox(["pfctl", "launchctl"]).flag("pf-conf-edited");
        const r = sb.runLines(MACOS_METADATA_GUARD_INSTALL);
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
