// The metadata guard's test bed: a real kernel, real firewall tools, and a stand-in for
// the instance metadata service, all in namespaces of their own.
//
// Each run is one `unshare --mount --pid --net`: the "instance" is that network namespace,
// joined by a veth pair to a second one that holds 169.254.169.254 and fd00:ec2::254 with
// fake_imds.py listening. /etc is a copy of the host's, and /usr/local/sbin, /home,
// /var/log and /var/mail are empty tmpfs, so the installer and useradd write only there.
// systemd is not PID 1 here, so `systemctl` is a stand-in that succeeds and does nothing;
// that is the one adaptation (what the installer asks of systemd is checked with fakes in
// instance-scripts.test.ts, and what the drop-ins run is run here after each flush). The firewall backend is chosen as a Debian system chooses it:
// `iptables` through /etc/alternatives, and `nft` absent (a copy of /usr/sbin without it
// mounted over it) for the iptables backends. Everything ends with the namespaces.

import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIREWALL_SERVICES, INSTANCE_METADATA_ADDRESSES, METADATA_GUARD_PATHS } from "../../components/metadata-guard-scripts";
import { unusedUids } from "../real-system";

/** The firewall the guard finds: nft, or (without nft) iptables through nf_tables or the legacy x_tables. */
export type Backend = "nft" | "iptables-nft" | "iptables-legacy";
export const BACKENDS: readonly Backend[] = ["nft", "iptables-nft", "iptables-legacy"];

export type Verdict = "OPEN" | "REFUSED" | "FAILED";

/** The tools a bed run needs on the host. */
export const BED_TOOLS = ["ip", "nsenter", "setpriv", "useradd", "/usr/bin/python3", "nft", "iptables-nft", "iptables-legacy", "ip6tables-legacy"];

/** UID of the throwaway unprivileged user that probes; below login.defs' UID_MAX and held by no account of the host. */
const [PROBE_UID] = unusedUids(59800, 1);

const HERE = __dirname;

export interface BedRun {
    status: number | null;
    /** Everything the run printed. */
    out: string;
    /** probes[phase][`${who} ${spec}`]: what each probe saw in each phase. */
    probes: Record<string, Record<string, Verdict>>;
    /** lines[phase]: what each phase printed other than probes. */
    lines: Record<string, string[]>;
}

/**
 * Bash functions the steps of a run may call:
 * - `phase NAME`: what follows belongs to phase NAME;
 * - `probe WHO SPEC...`: each SPEC (`tcp:dotted`, see probe.py) tried as WHO (root; user, the throwaway
 *   unprivileged user; userns, that user as root of a user namespace of its own; or an account's name), in the
 *   background: every probe of a phase runs at once, and the next phase starts when they are done;
 * - `held_open PHASE` / `held_send`: the probe user opens a connection now, and asks for a token over it later
 *   (reported under PHASE);
 * - `install FILE`: runs an installer (the guard's, the OS-user step) as State Manager would, with sh, printing its exit;
 * - `reapply`: the guard as the timer runs it; `hook SERVICE KEY`: what a firewall service's drop-in runs for KEY
 *   (ExecStartPost, ExecReload, ExecStopPost), read from the file the installer wrote;
 * - `flush`: what a firewall service's reload does to the rules; `rules`: the rules now, as the backend lists them;
 * - `$nft`, `$ipt`, `$ip6t`: the real tools, for tampering as root would.
 */
function prelude(work: string, backend: Backend): string {
    const { ipv4, ipv6 } = INSTANCE_METADATA_ADDRESSES;
    const iptablesBackend = backend === "nft" ? "nft" : backend.replace("iptables-", "");
    return `
set -u
exec 2>&1
work='${work}'
fail() { echo "BED FAILED: $*"; exit 97; }
# A private system: a copy of /etc, empty directories where installers and useradd write.
cp -a /etc/. "$work/etc" && mount --bind "$work/etc" /etc || fail "no private /etc"
for dir in /usr/local/sbin /home /var/log /var/mail; do [ -d "$dir" ] && { mount -t tmpfs bed "$dir" || fail "no tmpfs on $dir"; }; done
# systemd is not PID 1 here: systemctl succeeds and does nothing (the installer's MainPID query gets 0).
mkdir -p "$work/bin"
printf '%s\\n' '#!/bin/sh' 'case "$*" in *MainPID*) echo 0;; esac' > "$work/bin/systemctl"
chmod 755 "$work/bin/systemctl"
export PATH="$work/bin:$PATH"
# The system's Python, which every user may run (not one under root's home).
python=/usr/bin/python3
# The real tools, for the tampering root does, whatever the backend hides.
cp /usr/sbin/nft "$work/bin/real-nft"; nft="$work/bin/real-nft"
# Debian chooses the iptables backend through /etc/alternatives (here a private copy).
for tool in iptables ip6tables iptables-restore ip6tables-restore iptables-save ip6tables-save; do
  ln -sfn "/usr/sbin/\${tool%%-*}-${iptablesBackend}\${tool#\${tool%%-*}}" "/etc/alternatives/$tool" || fail "cannot choose $tool"
done
ipt=/usr/sbin/iptables-${iptablesBackend}; ip6t=/usr/sbin/ip6tables-${iptablesBackend}
case "$(readlink -f "$(command -v iptables)")" in *xtables-${iptablesBackend}-multi) ;; *) fail "iptables is not the ${iptablesBackend} backend";; esac
if [ ${backend} != nft ]; then
  # /usr/sbin without nft (hard links where the file system allows, else copies).
  mkdir "$work/sbin" && { cp -al /usr/sbin/. "$work/sbin/" 2>/dev/null || cp -a /usr/sbin/. "$work/sbin/"; } && rm -f "$work/sbin/nft" \
    && mount --bind "$work/sbin" /usr/sbin || fail "cannot hide nft"
  ! command -v nft >/dev/null 2>&1 || fail "nft is still on PATH at $(command -v nft)"
fi
# The network: this namespace is the instance; the metadata service lives in another.
ip link set lo up
unshare --net sleep infinity & service=$!
for i in $(seq 100); do [ "$(readlink /proc/$service/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.01; done
ip link add veth-instance type veth peer name veth-service netns "$service" || fail "no veth pair"
ip addr add 169.254.169.1/16 dev veth-instance
ip -6 addr add fd00:ec2::1/64 dev veth-instance nodad
ip link set veth-instance up
in_service() { nsenter --net=/proc/$service/ns/net "$@"; }
in_service sh -c 'ip link set lo up && ip addr add ${ipv4}/16 dev veth-service && ip -6 addr add ${ipv6}/64 dev veth-service nodad && ip link set veth-service up' || fail "no service address"
in_service "$python" "$work/fake_imds.py" ${ipv4} ${ipv6} > "$work/imds.out" 2>&1 &
for i in $(seq 200); do grep -q ready "$work/imds.out" && break; sleep 0.02; done
grep -q ready "$work/imds.out" || fail "the fake metadata service did not start: $(cat "$work/imds.out")"
# ICMP echo through datagram sockets for every user (as on Amazon Linux and Ubuntu), so the ICMP probe means something.
sysctl -qw net.ipv4.ping_group_range="0 2147483647"
# The throwaway unprivileged user.
useradd --uid ${PROBE_UID} --gid users --no-create-home --shell /bin/sh imds_probe || fail "no probe user"
current=setup
# Probes run in the background, all of a phase at once; a phase waits for the one before it.
pids=""
settle() { [ -z "$pids" ] || wait $pids; pids=""; }
phase() { settle; current=$1; echo "== $1"; }
as() {
  case "$1" in
    root) shift; "$@";;
    user) shift; setpriv --reuid=imds_probe --regid=users --init-groups "$@";;
    userns) shift; setpriv --reuid=imds_probe --regid=users --init-groups unshare --user --map-root-user "$@";;
    *) name=$1; shift; setpriv --reuid="$name" --regid="$(id -g "$name")" --init-groups "$@";;
  esac
}
probe() {
  who=$1; shift
  as "$who" "$python" "$work/probe.py" "$@" | sed "s/^/PROBE $current $who /" & pids="$pids $!"
}
held_open() {
  as user "$python" "$work/probe.py" held "$work/signals/ready" "$work/signals/go" | sed "s/^/PROBE $1 user /" &
  held=$!
  for i in $(seq 200); do [ -e "$work/signals/ready" ] && return; sleep 0.02; done
  fail "the held connection did not open"
}
held_send() { touch "$work/signals/go"; pids="$pids $held"; }
install() { sh "$1"; echo "install exit=$?"; }
reapply() { ${METADATA_GUARD_PATHS.script} reapply; echo "reapply exit=$?"; }
hook() {
  file="/etc/systemd/system/$1.d/50-imds-guard.conf"
  commands=$(sed -n "s/^$2=//p" "$file" 2>/dev/null)
  [ -n "$commands" ] || echo "hook $1 $2: none in $file"
  echo "$commands" | while read -r command; do [ -n "$command" ] && { sh -c "\${command#-}"; echo "hook $1 $2 exit=$?"; }; done
}
flush() {
  case ${backend} in
    nft) $nft flush ruleset;;
    *) $ipt -w -F; $ip6t -w -F;;
  esac
}
rules() {
  case ${backend} in
    nft) $nft list ruleset;;
    *) $ipt -w -S; $ip6t -w -S;;
  esac | sed "s/^/RULE /"
}
phase start
trap settle EXIT
`;
}

/**
 * Runs `steps` (bash, with the prelude's functions) in a fresh bed for `backend`, with `files`
 * written into its work directory. Beds are namespaces of their own: several may run at once
 * (most of a bed's time is the kernel's timeouts on refused probes).
 */
export async function runBed(backend: Backend, steps: string, files: Record<string, string> = {}): Promise<BedRun> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "guard-bed-"));
    try {
        // The probe user reads the probe and leaves its signals; nothing else there is its.
        fs.chmodSync(work, 0o755);
        fs.mkdirSync(path.join(work, "etc"));
        fs.mkdirSync(path.join(work, "signals"), { mode: 0o777 });
        fs.chmodSync(path.join(work, "signals"), 0o777);
        for (const name of ["fake_imds.py", "probe.py"]) fs.copyFileSync(path.join(HERE, name), path.join(work, name));
        for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(work, name), text, { mode: 0o644 });
        const r = await new Promise<{ status: number | null; out: string }>((done) => {
            const child = spawn(
                "unshare",
                ["--mount", "--pid", "--fork", "--mount-proc", "--net", "--propagation", "private", "bash", "-c", prelude(work, backend) + steps],
                { timeout: 120_000 },
            );
            let stdout = "";
            let stderr = "";
            child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
            child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
            child.on("error", (error) => done({ status: null, out: `${stdout}${stderr}\n${error.message}` }));
            child.on("close", (status) => done({ status, out: `${stdout}${stderr}` }));
        });
        const out = r.out;
        if (out.includes("BED FAILED")) throw new Error(`the test bed could not be set up:\n${out}`);
        return { status: r.status, out, ...parse(out) };
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

function parse(out: string): Pick<BedRun, "probes" | "lines"> {
    const probes: BedRun["probes"] = {};
    const lines: BedRun["lines"] = {};
    let current = "start";
    for (const line of out.split("\n")) {
        const heading = /^== (\S+)$/.exec(line);
        if (heading) current = heading[1];
        const probe = /^PROBE (\S+) (\S+) (\S+) (OPEN|REFUSED|FAILED)\b/.exec(line);
        if (probe) (probes[probe[1]] ??= {})[`${probe[2]} ${probe[3]}`] = probe[4] as Verdict;
        else if (!heading) (lines[current] ??= []).push(line);
    }
    return { probes, lines };
}

/** Every way the probe writes the metadata service's address. */
export const ADDRESS_FORMS = ["dotted", "decimal", "hex", "octal", "mapped", "ipv6"] as const;

/** Every probe: each protocol over each address form it can use (ICMP echo has no IPv4-mapped form). */
export const EVERY_PROBE = [
    ...ADDRESS_FORMS.flatMap((form) => ["tcp", "mptcp", "udp"].map((protocol) => `${protocol}:${form}`)),
    ...ADDRESS_FORMS.filter((form) => form !== "mapped").map((form) => `icmp:${form}`),
];

/** One probe through each rule the guard holds (IPv4 and IPv6), quick to refuse. */
export const BOTH_RULES = ["tcp:dotted", "udp:ipv6"];

/** The firewall services whose drop-ins the installer writes, and the three moments each re-applies the guard. */
export const HOOKS = FIREWALL_SERVICES.flatMap((service) => ["ExecStartPost", "ExecReload", "ExecStopPost"].map((key) => ({ service, key })));
