// The metadata guard, as pure builders of shell text, an SSM Command document and EC2
// user data.
// The metadata guard. Any local user can read the instance role's credentials from the
// instance metadata service: IMDSv2 and a hop limit of 1 stop containers and forwarded
// traffic, not a local process. A host firewall rule on the process owner closes it to
// every user but root. The SSM agent (and cloud-init) run as root and keep working.
//
// One installer per platform (`METADATA_GUARD_INSTALL`, `MACOS_METADATA_GUARD_INSTALL`)
// writes the guard and what re-applies it at every boot, and runs it. Three places run
// those same lines: the user data of instances this stack launches, the guard document
// State Manager applies to every instance open to partners (launched here or not), and
// the OS-user document, before it creates any user.

/** The instance metadata service, on IPv4 and (Nitro instances with the IPv6 endpoint on) IPv6. */
export const INSTANCE_METADATA_ADDRESSES = { ipv4: "169.254.169.254", ipv6: "fd00:ec2::254" } as const;

/** The nftables table (family `inet`) the guard owns and replaces on every run. */
export const METADATA_GUARD_NFT_TABLE = "imds_guard";

/** Where nft is missing: the iptables/ip6tables chain holding the guard's rule, jumped to first from OUTPUT. */
export const METADATA_GUARD_IPTABLES_CHAIN = "IMDS_GUARD";
const IPTABLES_CHAIN = METADATA_GUARD_IPTABLES_CHAIN;

/**
 * Where the Linux installer puts the guard, its systemd unit, and the drop-in that makes
 * the SSM agent start only after it (`amazon-ssm-agent.service`, the agent's unit on
 * Amazon Linux and on RPM/DEB installs).
 */
export const METADATA_GUARD_PATHS = {
    script: "/usr/local/sbin/imds-guard",
    unit: "/etc/systemd/system/imds-guard.service",
    agentDropIn: "/etc/systemd/system/amazon-ssm-agent.service.d/10-imds-guard.conf",
    reapplyService: "/etc/systemd/system/imds-guard-reapply.service",
    reapplyTimer: "/etc/systemd/system/imds-guard-reapply.timer",
} as const;

/**
 * The firewall services whose start, reload or stop drops every rule, the guard's included
 * (`flush ruleset` in nftables.conf, iptables-restore, firewalld's iptables backend): measured
 * on a real kernel, a flush lets a non-root user reach the metadata service. A drop-in on each
 * re-applies the guard as the service's own last step. systemd ignores drop-ins of units that
 * do not exist, so one list serves Amazon Linux, RHEL, Debian and Ubuntu.
 */
export const FIREWALL_SERVICES = [
    "nftables.service",
    "iptables.service",
    "ip6tables.service",
    "firewalld.service",
    "netfilter-persistent.service",
    "ufw.service",
] as const;

/** Where the drop-in re-applying the guard after a firewall service's start, reload and stop goes. */
export function firewallDropInPath(service: (typeof FIREWALL_SERVICES)[number]): string {
    return `/etc/systemd/system/${service}.d/50-imds-guard.conf`;
}

/**
 * The most processes one non-root user may run through the SSM agent (RLIMIT_NPROC of the
 * agent's unit): a partner cannot take every task the agent needs to end the partner's access.
 */
export const SESSION_USER_PROCESS_LIMIT = 1024;

/**
 * How often the re-apply timer puts back a guard that something else removed (a flush by
 * hand, firewall-cmd --reload with the iptables backend, iptables-restore): the longest a
 * flush outside the firewall services leaves the metadata service open.
 */
export const METADATA_GUARD_REAPPLY_SECONDS = 30;

const { ipv4, ipv6 } = INSTANCE_METADATA_ADDRESSES;
const table = `inet ${METADATA_GUARD_NFT_TABLE}`;

const directoryOf = (path: string) => path.replace(/\/[^/]+$/, "");
const fileNameOf = (path: string) => path.replace(/^.*\//, "");

/**
 * Writes `lines` to `path` through a quoted heredoc, so the shell expands nothing in them,
 * then gives it `mode` and renames it into place. The rename is atomic: the user data and
 * a State Manager run can install at the same time, and neither ever executes (or lets
 * systemd or launchd read) a half-written file. `$$` keeps concurrent writers apart.
 */
function writeFile(path: string, delimiter: string, lines: readonly string[], mode: string): string[] {
    if (lines.includes(delimiter)) throw new Error(`heredoc delimiter ${delimiter} occurs in the text it delimits`);
    const staging = `${path}.new.$$`;
    return [`cat > ${staging} <<'${delimiter}'`, ...lines, delimiter, `chmod ${mode} ${staging}`, `mv -f ${staging} ${path}`];
}

/** The guard's nftables ruleset: its own table, replaced in one transaction. */
const NFT_RULESET = [
    `table ${table}`,
    `delete table ${table}`,
    `table ${table} {`,
    "    chain output {",
    "        type filter hook output priority 0; policy accept;",
    `        meta skuid != 0 ip daddr ${ipv4} counter reject comment "instance metadata: root only"`,
    `        meta skuid != 0 ip6 daddr ${ipv6} counter reject comment "instance metadata: root only"`,
    "    }",
    "}",
];
if (NFT_RULESET.some((line) => line.includes("'"))) throw new Error("the nftables ruleset is single-quoted into the guard: it must hold no single quote");

/**
 * The Linux guard, as shell lines (`set -eu`; installed as a bash script). Run as root.
 * With nft: one table of its own, replaced in one transaction, whose output chain rejects
 * traffic to both addresses from any socket not owned by UID 0. A reject in any base chain
 * is final, so an accept in another table cannot reopen it. Without nft: the same rule with
 * iptables/ip6tables and the owner match, in a chain of its own that OUTPUT jumps to first
 * (iptables-restore, one transaction), since there an earlier ACCEPT would win. With neither, it installs
 * nftables with the package manager (dnf, or yum; the Amazon Linux repositories are
 * reachable through the VPC's S3 gateway endpoint) and uses nft. If that fails too, it
 * fails: a quiet success would leave the metadata service open.
 */
export const METADATA_GUARD_SCRIPT: readonly string[] = [
    "set -eu",
    "# Closes the EC2 instance metadata service to every local user but root. Managed by Pulumi (third-party-ssm-access).",
    "# With the argument reapply (the timer, the firewall services' drop-ins) it reports only what it had to put back.",
    `ipv4='${ipv4}'`,
    `ipv6='${ipv6}'`,
    'mode="${1:-apply}"',
    'say() { if [ "$mode" != reapply ]; then echo "$@"; fi; }',
    "have_nft() { command -v nft >/dev/null 2>&1; }",
    "have_iptables() { for tool in iptables ip6tables iptables-restore ip6tables-restore; do command -v $tool >/dev/null 2>&1 || return 1; done; }",
    'missing=""',
    "if ! have_nft && ! have_iptables; then",
    "  # An image without a firewall tool: install nftables rather than leave the service open.",
    "  if command -v dnf >/dev/null 2>&1; then pm=dnf; elif command -v yum >/dev/null 2>&1; then pm=yum; else pm=''; fi",
    '  if [ -n "$pm" ]; then',
    '    echo "imds-guard: neither nft nor iptables and ip6tables (with their -restore) is installed: running $pm -y install nftables"',
    '    if "$pm" -y install nftables; then',
    '      echo "imds-guard: $pm -y install nftables succeeded"',
    "    else",
    '      echo "imds-guard: $pm -y install nftables failed" >&2',
    "    fi",
    '    missing=", and $pm -y install nftables did not provide nft"',
    "  else",
    '    missing=", and neither dnf nor yum is there to install nftables with"',
    "  fi",
    "fi",
    "if have_nft; then",
    "  # The table as it stands, counters aside: compared before and after loading, it shows whether",
    "  # anything had removed or changed the guard's rules.",
    `  table_now() { nft list table ${table} 2>/dev/null | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }`,
    '  before=""',
    '  if [ "$mode" = reapply ]; then',
    "    before=$(table_now)",
    `    if [ -z "$before" ]; then echo "imds-guard: table ${table} was gone (a firewall reload or flush): putting it back"; fi`,
    "  fi",
    "  # One nft -f is one transaction. The bare table line creates the table when missing, so the",
    "  # delete always succeeds; the table is then defined anew. Run twice, one copy remains. The",
    "  # ruleset goes through a pipe, never a file: a user who fills /tmp cannot stop a re-apply.",
    `  printf '%s\\n' ${NFT_RULESET.map((line) => `'${line}'`).join(" ")} | nft -f -`,
    `  say "imds-guard: loaded nftables table ${table}: traffic to $ipv4 and $ipv6 is rejected for every user but root (UID 0)"`,
    `  if [ -n "$before" ] && [ "$before" != "$(table_now)" ]; then echo "imds-guard: table ${table} had been changed (a rule deleted, added or edited): put back as it must be"; fi`,
    "elif have_iptables; then",
    "  # No nft: the rule lives in a chain of its own, IMDS_GUARD, and OUTPUT jumps there first, so",
    "  # that no ACCEPT earlier in OUTPUT lets the traffic through. Both are compared exactly with what",
    "  # they must be; when either differs (missing, changed, or another rule above the jump), the chain",
    "  # is refilled and the jump put first in one iptables-restore transaction (declaring the chain",
    "  # empties it): there is no moment without the rule. Run again, it changes nothing. (The comparison",
    "  # is with -S as iptables 1.8 prints it; an iptables that prints it otherwise gets the rule put back,",
    "  # and a line logged, at every run: noisy, never open.)",
    "  guard() {",
    `    jump="-A OUTPUT -j ${IPTABLES_CHAIN}"`,
    `    want=$(printf '%s\\n' "-N ${IPTABLES_CHAIN}" "-A ${IPTABLES_CHAIN} -d $2/$3 -m owner ! --uid-owner 0 -j REJECT --reject-with $4")`,
    `    if [ "$("$1" -w -S OUTPUT 1 2>/dev/null || true)" = "$jump" ] && [ "$("$1" -w -S ${IPTABLES_CHAIN} 2>/dev/null || true)" = "$want" ]; then`,
    '      say "imds-guard: $1 already rejects traffic to $2 for every user but root (UID 0)"',
    "      return 0",
    "    fi",
    '    jumps=$("$1" -w -S OUTPUT | grep -cxF -- "$jump" || true)',
    `    { echo "*filter"; echo ":${IPTABLES_CHAIN} - [0:0]"; echo "-A ${IPTABLES_CHAIN} -d $2 -m owner ! --uid-owner 0 -j REJECT"; i=0; while [ "$i" -lt "$jumps" ]; do echo "-D OUTPUT -j ${IPTABLES_CHAIN}"; i=$((i + 1)); done; echo "-I OUTPUT 1 -j ${IPTABLES_CHAIN}"; echo COMMIT; } | "$1-restore" -w --noflush || return 1`,
    '    echo "imds-guard: $1 now rejects traffic to $2 for every user but root (UID 0), first in OUTPUT (it was missing, changed or not first)"',
    "  }",
    "  # Both families, whatever happens to the first: a failure for IPv4 must not leave IPv6 open.",
    "  failed=0",
    '  guard iptables "$ipv4" 32 icmp-port-unreachable || failed=1',
    '  guard ip6tables "$ipv6" 128 icmp6-port-unreachable || failed=1',
    '  if [ "$failed" -ne 0 ]; then echo "imds-guard: FAILED: iptables-restore refused the guard\'s rules (above), so the instance metadata service may be open to local users" >&2; exit 1; fi',
    "else",
    '  echo "imds-guard: FAILED: neither nft nor iptables and ip6tables (with their -restore) is installed$missing, so the instance metadata service ($ipv4, $ipv6) stays open to every local user. Install nftables." >&2',
    "  exit 1",
    "fi",
];

// The unit runs the guard at every boot, before any network interface is configured:
// Before=network-pre.target, and Wants= it, because that target is passive and exists only
// when a firewall asks for it (systemd.special(7)). DefaultDependencies=no because the
// default ordering after sysinit.target would form a cycle on cloud-init images, whose
// network stage (cloud-init.service) brings the network up before sysinit.target; the guard
// needs only local file systems (its script). WantedBy=multi-user.target,
// the default target of server AMIs, as nftables.service and firewalld do.
const METADATA_GUARD_UNIT = [
    "# Managed by Pulumi (third-party-ssm-access). Runs before any network interface is configured;",
    "# no default dependencies, because cloud-init brings the network up before sysinit.target.",
    "[Unit]",
    "Description=Close the EC2 instance metadata service to every user but root",
    "DefaultDependencies=no",
    "After=local-fs.target",
    "Before=network-pre.target",
    "Wants=network-pre.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${METADATA_GUARD_PATHS.script}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
];

const METADATA_GUARD_UNIT_NAME = fileNameOf(METADATA_GUARD_PATHS.unit);

// Re-applies the guard after a firewall service's start (ExecStartPost), reload (a second
// ExecReload runs after the service's own) and stop (ExecStopPost): each flushes every rule.
// "-" so that a failing guard never fails the firewall service itself; the timer retries.
// firewalld's own unit reloads with `ExecReload=/bin/kill -HUP $MAINPID` (firewalld's
// config/firewalld.service.in), which returns before the daemon has flushed, so after its
// reload the drop-in may run too early: the timer is what closes that window.
const FIREWALL_DROP_IN = [
    "# Managed by Pulumi (third-party-ssm-access). This service's start, reload and stop flush every",
    "# rule, the instance metadata guard's included: put the guard back as its last step.",
    "[Service]",
    `ExecStartPost=-${METADATA_GUARD_PATHS.script} reapply`,
    `ExecReload=-${METADATA_GUARD_PATHS.script} reapply`,
    `ExecStopPost=-${METADATA_GUARD_PATHS.script} reapply`,
];

// Puts the guard back whatever removed it, outside the firewall services (a flush by hand,
// firewall-cmd --reload with the iptables backend): one atomic nft transaction, quiet unless
// the guard had gone.
const REAPPLY_SERVICE = [
    "# Managed by Pulumi (third-party-ssm-access). Puts the instance metadata guard back if anything removed it.",
    "[Unit]",
    "Description=Re-apply the instance metadata guard",
    "DefaultDependencies=no",
    "After=local-fs.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${METADATA_GUARD_PATHS.script} reapply`,
];

const REAPPLY_TIMER = [
    "# Managed by Pulumi (third-party-ssm-access).",
    "[Unit]",
    `Description=Re-apply the instance metadata guard every ${METADATA_GUARD_REAPPLY_SECONDS} seconds`,
    "",
    "[Timer]",
    `OnActiveSec=${METADATA_GUARD_REAPPLY_SECONDS}s`,
    `OnUnitActiveSec=${METADATA_GUARD_REAPPLY_SECONDS}s`,
    "AccuracySec=1s",
    "",
    "[Install]",
    "WantedBy=timers.target",
];

// After every reboot the SSM agent starts only once the guard has run, so no session (and
// no State Manager run) begins on an instance whose metadata service is still open. Wants=
// pulls the guard in even where its unit is not enabled; After= orders the agent behind it.
// Wants= rather than Requires=: with Requires= a failed guard would keep the agent down
// (the instance unmanageable, the failure unreported) and every stop or restart of the
// guard unit would stop the agent too. A failed guard fails its unit, visible in
// systemctl and the journal, and the guard association re-applies it within 30 minutes.
//
// Sessions' shells are children of the agent, so they count against its unit's task limit
// (TasksMax): a partner who fills it with processes would leave the agent unable to start
// the very command that ends that partner's access. So the agent's unit has no task limit,
// and what it starts has a limit per user instead (LimitNPROC, counted per UID; root, the
// agent and its commands, is exempt).
const SSM_AGENT_DROP_IN = [
    "# Managed by Pulumi (third-party-ssm-access). The SSM agent starts only after the instance",
    "# metadata service has been closed to every user but root; a session's user cannot exhaust its tasks.",
    "[Unit]",
    `Wants=${METADATA_GUARD_UNIT_NAME}`,
    `After=${METADATA_GUARD_UNIT_NAME}`,
    "",
    "[Service]",
    "TasksMax=infinity",
    `LimitNPROC=${SESSION_USER_PROCESS_LIMIT}`,
];

/** The SSM agent's unit, on Amazon Linux and RPM/DEB installs. */
const SSM_AGENT_UNIT = "amazon-ssm-agent.service";

/**
 * The Linux installer (`set -eu`, so any failure stops it): writes the guard, its systemd
 * unit, the SSM agent drop-in, the firewall services' drop-ins and the re-apply timer, reloads
 * systemd, enables the unit (the guard then runs at every boot before the network, and before
 * the agent) and the timer, and runs the guard now. It runs the guard itself rather than
 * `systemctl start`: its output lands in the caller's log (cloud-init, State Manager), its
 * failure fails the caller, and no job is queued while boot is under way.
 */
export const METADATA_GUARD_INSTALL: readonly string[] = [
    "set -eu",
    `mkdir -p ${directoryOf(METADATA_GUARD_PATHS.script)}`,
    ...writeFile(METADATA_GUARD_PATHS.script, "IMDS_GUARD_SCRIPT", ["#!/bin/bash", ...METADATA_GUARD_SCRIPT], "0755"),
    ...writeFile(METADATA_GUARD_PATHS.unit, "IMDS_GUARD_UNIT", METADATA_GUARD_UNIT, "0644"),
    `mkdir -p ${directoryOf(METADATA_GUARD_PATHS.agentDropIn)}`,
    ...writeFile(METADATA_GUARD_PATHS.agentDropIn, "IMDS_GUARD_AGENT_DROP_IN", SSM_AGENT_DROP_IN, "0644"),
    ...FIREWALL_SERVICES.flatMap((service) => [
        `mkdir -p ${directoryOf(firewallDropInPath(service))}`,
        ...writeFile(firewallDropInPath(service), "IMDS_GUARD_FIREWALL_DROP_IN", FIREWALL_DROP_IN, "0644"),
    ]),
    ...writeFile(METADATA_GUARD_PATHS.reapplyService, "IMDS_GUARD_REAPPLY_SERVICE", REAPPLY_SERVICE, "0644"),
    ...writeFile(METADATA_GUARD_PATHS.reapplyTimer, "IMDS_GUARD_REAPPLY_TIMER", REAPPLY_TIMER, "0644"),
    "systemctl daemon-reload",
    `systemctl enable ${METADATA_GUARD_UNIT_NAME}`,
    `systemctl enable --now ${fileNameOf(METADATA_GUARD_PATHS.reapplyTimer)}`,
    // The agent's new limits take effect when it next starts; a running agent gets them now (the
    // task limit on its unit, the process limit on its main process, which its children inherit).
    `systemctl set-property --runtime ${SSM_AGENT_UNIT} TasksMax=infinity 2>/dev/null || true`,
    `agent=$(systemctl show --property MainPID --value ${SSM_AGENT_UNIT} 2>/dev/null || echo 0)`,
    `if [ "\${agent:-0}" -gt 0 ] && command -v prlimit >/dev/null 2>&1; then prlimit --pid "$agent" --nproc=${SESSION_USER_PROCESS_LIMIT}:${SESSION_USER_PROCESS_LIMIT} || true; fi`,
    METADATA_GUARD_PATHS.script,
];

// --- macOS: pf, re-applied at every boot by a LaunchDaemon.

/**
 * The pf anchor holding the macOS guard's rules. macOS's own /etc/pf.conf evaluates every
 * child of `com.apple` (`anchor "com.apple/*"`), in the order of their names; "010" puts
 * this one before Apple's own (100.InternetSharing, 200.AirDrop, 250.ApplicationFirewall,
 * ...), so no `pass quick` there can come first. A `quick` match inside an anchor ends the
 * evaluation of the whole ruleset.
 */
export const MACOS_METADATA_GUARD_PF_ANCHOR = "com.apple/010.imds-guard";

/** The launchd label of the LaunchDaemon that runs the macOS guard at every boot. */
export const MACOS_METADATA_GUARD_LABEL = "third-party-ssm-access.imds-guard";

/** Where the macOS installer puts the guard and its LaunchDaemon. */
export const MACOS_METADATA_GUARD_PATHS = {
    script: "/usr/local/sbin/imds-guard",
    launchDaemon: `/Library/LaunchDaemons/${MACOS_METADATA_GUARD_LABEL}.plist`,
} as const;

/**
 * The macOS guard (POSIX sh, `set -eu`; run as root). Loads the anchor's rules, which block
 * (with a TCP reset) traffic to both addresses from any socket not owned by UID 0: pf's
 * `user` option applies to TCP and UDP sockets, and the metadata service is TCP. pf counts a
 * socket whose owner it cannot tell as `user != 0`, so the rule fails closed. Then it makes
 * sure the main ruleset evaluates `com.apple/*` (at boot this may run before launchd's
 * com.apple.pfctl has loaded /etc/pf.conf; it loads that file itself then, and fails if the
 * file does not evaluate the anchor), and enables pf.
 */
export const MACOS_METADATA_GUARD_SCRIPT: readonly string[] = [
    "set -eu",
    "# Closes the EC2 instance metadata service to every local user but root (pf). Managed by Pulumi (third-party-ssm-access).",
    "# With the argument reapply (the LaunchDaemon, every interval) it reports only failures.",
    `ipv4='${ipv4}'`,
    `ipv6='${ipv6}'`,
    `anchor='${MACOS_METADATA_GUARD_PF_ANCHOR}'`,
    'mode="${1:-apply}"',
    'say() { if [ "$mode" != reapply ]; then echo "$@"; fi; }',
    "# pfctl -a ANCHOR -f - replaces the anchor's rules in one transaction: run twice, one copy remains.",
    "# The rules go through a pipe, never a file: a user who fills /tmp cannot stop a re-apply.",
    `printf '%s\\n' '# Instance metadata: root only. Managed by Pulumi (third-party-ssm-access).' 'block return out quick inet proto tcp from any to ${ipv4} user != 0' 'block return out quick inet6 proto tcp from any to ${ipv6} user != 0' | pfctl -a "$anchor" -f -`,
    `evaluates_anchor() { case "$(pfctl -s rules 2>/dev/null || true)" in *'anchor "com.apple/*"'*) return 0;; esac; return 1; }`,
    "if ! evaluates_anchor; then",
    '  echo "imds-guard: the main pf ruleset does not evaluate com.apple/* (not loaded yet at boot, or flushed): loading /etc/pf.conf"',
    '  pfctl -f /etc/pf.conf || echo "imds-guard: pfctl -f /etc/pf.conf failed" >&2',
    "  if ! evaluates_anchor; then",
    `    echo "imds-guard: FAILED: the main pf ruleset does not evaluate anchor com.apple/*, so the rules in $anchor do not apply and the instance metadata service ($ipv4, $ipv6) stays open to every local user. Restore the /etc/pf.conf macOS ships with." >&2`,
    "    exit 1",
    "  fi",
    "fi",
    "# pfctl -e rather than -E. -E takes a reference with a token and pf stays on until every",
    "# reference is released: a new token per run (every 30 minutes) would pile up until reboot.",
    "# -e on a running pf takes the one tokenless reference (once), so another program releasing",
    '# its -E token cannot turn pf off, and answers "pf already enabled" (exit 1), which is fine.',
    "# Only pfctl -d turns pf off; the next run turns it back on.",
    "if enabled=$(pfctl -e 2>&1); then",
    '  say "imds-guard: pf enabled"',
    "else",
    '  case "$enabled" in',
    '    *"already enabled"*) ;;',
    '    *) echo "imds-guard: FAILED: pfctl -e: $enabled, so the instance metadata service ($ipv4, $ipv6) stays open to every local user." >&2; exit 1;;',
    "  esac",
    "fi",
    'say "imds-guard: loaded pf anchor $anchor: TCP to $ipv4 and $ipv6 is blocked for every user but root (UID 0)"',
];

// launchd loads every plist in /Library/LaunchDaemons at boot; RunAtLoad runs the guard
// then. launchd refuses a plist not owned by root or writable by others: the installer runs
// as root (files it creates there are root:wheel, from the directory) and sets mode 0644.
const MACOS_LAUNCH_DAEMON = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- Managed by Pulumi (third-party-ssm-access). Closes the EC2 instance metadata service to every user but root at every boot. -->",
    '<plist version="1.0">',
    "<dict>",
    "    <key>Label</key>",
    `    <string>${MACOS_METADATA_GUARD_LABEL}</string>`,
    "    <key>ProgramArguments</key>",
    "    <array>",
    `        <string>${MACOS_METADATA_GUARD_PATHS.script}</string>`,
    "        <string>reapply</string>",
    "    </array>",
    "    <key>RunAtLoad</key>",
    "    <true/>",
    "    <!-- Puts the rules back if a reload of /etc/pf.conf or pfctl -F dropped them. -->",
    "    <key>StartInterval</key>",
    `    <integer>${METADATA_GUARD_REAPPLY_SECONDS}</integer>`,
    "    <key>StandardOutPath</key>",
    "    <string>/var/log/imds-guard.log</string>",
    "    <key>StandardErrorPath</key>",
    "    <string>/var/log/imds-guard.log</string>",
    "</dict>",
    "</plist>",
];

/**
 * The macOS installer (`set -eu`): writes the guard and its LaunchDaemon, (re)loads the daemon
 * so its re-apply interval runs from now on rather than from the next boot (bootout first:
 * bootstrap refuses a loaded label, and the plist may have changed), and runs the guard now.
 * launchd orders nothing: after a reboot the SSM agent's daemon may start before this one.
 */
export const MACOS_METADATA_GUARD_INSTALL: readonly string[] = [
    "set -eu",
    `mkdir -p ${directoryOf(MACOS_METADATA_GUARD_PATHS.script)}`,
    ...writeFile(MACOS_METADATA_GUARD_PATHS.script, "IMDS_GUARD_SCRIPT", ["#!/bin/sh", ...MACOS_METADATA_GUARD_SCRIPT], "0755"),
    ...writeFile(MACOS_METADATA_GUARD_PATHS.launchDaemon, "IMDS_GUARD_LAUNCH_DAEMON", MACOS_LAUNCH_DAEMON, "0644"),
    `launchctl bootout system/${MACOS_METADATA_GUARD_LABEL} 2>/dev/null || true`,
    `launchctl bootstrap system ${MACOS_METADATA_GUARD_PATHS.launchDaemon}`,
    MACOS_METADATA_GUARD_PATHS.script,
];

/**
 * Command document that installs and applies the guard on Linux and macOS. A State Manager
 * association applies it to every instance open to partners, launched by this stack or not,
 * and re-applies it on a schedule: each instance gets the boot-time guard (and on Linux the
 * SSM agent's ordering after it), and an agent update or a flushed ruleset does not leave the
 * service open.
 */
export function metadataGuardDocument() {
    return {
        schemaVersion: "2.2",
        description:
            "Closes the EC2 instance metadata service to every local user but root, now and at every boot (nftables or iptables on Linux, pf on macOS). Managed by Pulumi (third-party-ssm-access).",
        mainSteps: [
            {
                action: "aws:runShellScript",
                name: "closeMetadataToNonRoot",
                precondition: { StringEquals: ["platformType", "Linux"] },
                inputs: { runCommand: [...METADATA_GUARD_INSTALL] },
            },
            {
                action: "aws:runShellScript",
                name: "closeMetadataToNonRootMacOs",
                precondition: { StringEquals: ["platformType", "MacOS"] },
                inputs: { runCommand: [...MACOS_METADATA_GUARD_INSTALL] },
            },
        ],
    };
}

/**
 * EC2 user data (a bash script for cloud-init): exactly `METADATA_GUARD_INSTALL`, the lines
 * the guard document runs. User data runs late in cloud-init, possibly after the SSM agent
 * is up; the OS-user document therefore installs the guard too before it creates any user.
 */
export function metadataGuardUserData(): string {
    return [
        "#!/bin/bash",
        "# Closes the EC2 instance metadata service to every local user but root, now and at every boot. Managed by Pulumi (third-party-ssm-access).",
        ...METADATA_GUARD_INSTALL,
        "",
    ].join("\n");
}
