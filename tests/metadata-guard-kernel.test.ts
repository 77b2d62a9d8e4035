// The metadata guard on a real kernel (issue 24): the guard's own installer text, loaded
// with real nft, then iptables through nf_tables, then legacy iptables, in network
// namespaces with a stand-in for the instance metadata service (tests/metadata-guard-bed).
// Probes as root, as an unprivileged user and as that user inside a user namespace, over
// every address form and protocol; a connection opened before the guard; the installer run
// twice; tampering; a flush followed by each re-apply hook. Then the OS-user step run for
// real with useradd. Then the bed itself shown to catch a broken guard. The host's /etc and
// firewall rules are checked to be byte for byte as before.

import { expect } from "chai";
import {
    FIREWALL_SERVICES,
    INSTANCE_METADATA_ADDRESSES,
    METADATA_GUARD_INSTALL,
    METADATA_GUARD_IPTABLES_CHAIN,
    METADATA_GUARD_NFT_TABLE,
    METADATA_GUARD_PATHS,
} from "../components/metadata-guard-scripts";
import { createOsUserDocument } from "../components/os-user-document";
import { BACKENDS, BED_TOOLS, BOTH_RULES, EVERY_PROBE, HOOKS, runBed, type Backend, type BedRun, type Verdict } from "./metadata-guard-bed/bed";
import { hostRulesetFingerprint, realSystemUnavailable, skipUnlessRealSystem, treeFingerprint } from "./real-system";

const INSTALL = `${METADATA_GUARD_INSTALL.join("\n")}\n`;
const USERNS_PROBES = ["tcp:dotted", "tcp:ipv6", "udp:mapped", "icmp:dotted"];
const list = (specs: readonly string[]) => specs.join(" ");

/** What probes of one phase saw, for `who`: spec -> verdict. */
function seen(run: BedRun, phase: string, who: string): Record<string, Verdict> {
    const all = run.probes[phase] ?? {};
    return Object.fromEntries(
        Object.entries(all)
            .filter(([key]) => key.startsWith(`${who} `))
            .map(([key, verdict]) => [key.slice(who.length + 1), verdict]),
    );
}
const every = (specs: readonly string[], verdict: Verdict) => Object.fromEntries(specs.map((spec) => [spec, verdict]));

// Tampering as root (or a firewall manager) would, per backend.
const { ipv4: IMDS4, ipv6: IMDS6 } = INSTANCE_METADATA_ADDRESSES;

/** What a re-apply says when it repairs the guard: nft replaces its changed table, iptables puts the address's rule back. */
const repaired = (backend: Backend, address: string) =>
    backend === "nft"
        ? `table inet ${METADATA_GUARD_NFT_TABLE} had been changed`
        : `${address === IMDS4 ? "iptables" : "ip6tables"} now rejects traffic to ${address}`;
const IPTABLES_TAMPER = {
    deleteIpv6Rule: `$ip6t -w -D ${METADATA_GUARD_IPTABLES_CHAIN} -d ${IMDS6} -m owner ! --uid-owner 0 -j REJECT`,
    acceptAbove: "$ipt -w -I OUTPUT 1 -j ACCEPT; $ip6t -w -I OUTPUT 1 -j ACCEPT",
    // Rules that look like the guard's: one narrower (TCP only) at the top, then an accept whose comment quotes the jump.
    lookalike: [
        `$ipt -w -I OUTPUT 1 -d ${IMDS4} -p tcp -m owner ! --uid-owner 0 -j REJECT`,
        `$ipt -w -I OUTPUT 1 -m comment --comment '-A OUTPUT -j ${METADATA_GUARD_IPTABLES_CHAIN}' -j ACCEPT`,
        `$ip6t -w -I OUTPUT 1 -m comment --comment '-A OUTPUT -j ${METADATA_GUARD_IPTABLES_CHAIN}' -j ACCEPT`,
    ].join("; "),
};
const TAMPER: Record<Backend, { deleteIpv6Rule: string; acceptAbove: string; lookalike: string }> = {
    nft: {
        deleteIpv6Rule: `$nft delete rule inet ${METADATA_GUARD_NFT_TABLE} output handle $($nft -a list chain inet ${METADATA_GUARD_NFT_TABLE} output | sed -n 's/.*ip6 daddr.*# handle \\([0-9]*\\)$/\\1/p')`,
        acceptAbove: `$nft insert rule inet ${METADATA_GUARD_NFT_TABLE} output accept`,
        lookalike: `$nft insert rule inet ${METADATA_GUARD_NFT_TABLE} output meta skuid != 0 accept comment '"instance metadata: root only"'`,
    },
    "iptables-nft": IPTABLES_TAMPER,
    "iptables-legacy": IPTABLES_TAMPER,
};

// Accept rules elsewhere: an nftables table of its own hooked before the guard, and (beside iptables) the mangle table.
const otherTablesAccept = (backend: Backend) =>
    [
        "$nft add table inet bed_accept",
        "$nft add chain inet bed_accept output '{ type filter hook output priority -300; policy accept; }'",
        "$nft add rule inet bed_accept output accept",
        ...(backend === "nft" ? [] : ["$ipt -w -t mangle -I OUTPUT 1 -j ACCEPT", "$ip6t -w -t mangle -I OUTPUT 1 -j ACCEPT"]),
    ].join("\n");

/** The whole story of one backend, phase by phase. */
function guardStory(backend: Backend): string {
    return [
        // Every probe answered before the guard, so that each refusal after it is the guard's.
        "phase open",
        `probe root ${list(EVERY_PROBE)}`,
        `probe user ${list(EVERY_PROBE)}`,
        `probe userns ${list(USERNS_PROBES)}`,
        "held_open installed",
        "phase installed",
        `install "$work/install.sh"`,
        "held_send",
        `probe root ${list(EVERY_PROBE)}`,
        `probe user ${list(EVERY_PROBE)}`,
        "as userns id -u | sed 's/^/USERNS uid /'",
        `probe userns ${list(USERNS_PROBES)}`,
        "rules",
        "phase again",
        `install "$work/install.sh"`,
        "rules",
        `probe root ${list(BOTH_RULES)}`,
        `probe user ${list(BOTH_RULES)}`,
        "phase quiet",
        "reapply",
        "phase tampered",
        TAMPER[backend].deleteIpv6Rule,
        `probe user ${list(BOTH_RULES)}`,
        "phase tamper-undone",
        "reapply",
        `probe user ${list(BOTH_RULES)}`,
        "phase accept-above",
        TAMPER[backend].acceptAbove,
        `probe user ${list(BOTH_RULES)}`,
        "phase accept-above-undone",
        "reapply",
        `probe user ${list(BOTH_RULES)}`,
        "rules",
        "phase lookalike",
        TAMPER[backend].lookalike,
        `probe user ${list(BOTH_RULES)}`,
        "phase lookalike-undone",
        "reapply",
        `probe user ${list(BOTH_RULES)}`,
        "phase other-tables",
        otherTablesAccept(backend),
        `probe user ${list(BOTH_RULES)}`,
        // One flush shown to reopen the service; after the others, the rules show it gone.
        "phase flushed",
        "flush",
        `probe user ${list(BOTH_RULES)}`,
        ...HOOKS.flatMap(({ service, key }) => [
            `phase flushed:${service}:${key}`,
            "flush",
            "rules",
            `phase hook:${service}:${key}`,
            `hook ${service} ${key}`,
            `probe user ${list(BOTH_RULES)}`,
        ]),
        "phase flushed:timer",
        "flush",
        `probe user ${list(BOTH_RULES)}`,
        "phase timer",
        `sh -c "$(sed -n 's/^ExecStart=//p' ${METADATA_GUARD_PATHS.reapplyService})"`,
        `probe user ${list(BOTH_RULES)}`,
        `probe root ${list(BOTH_RULES)}`,
    ].join("\n");
}

const why = realSystemUnavailable(BED_TOOLS, ["--net"]);

describe("real kernel: the metadata guard and OS-user provisioning", function () {
    let hostEtc: string | undefined;
    let hostRules: string;
    before(function () {
        skipUnlessRealSystem(this, "the metadata guard's real-kernel test bed", why);
        hostEtc = treeFingerprint("/etc");
        hostRules = hostRulesetFingerprint();
    });
    after(function () {
        if (hostEtc === undefined) return;
        expect(treeFingerprint("/etc"), "the host's /etc is byte for byte as before").to.equal(hostEtc);
        expect(hostRulesetFingerprint(), "the host's firewall rules are as before").to.equal(hostRules);
    });

    describe("metadata guard on a real kernel (network namespaces, a fake IMDSv2)", function () {
        // The three backends' beds run at once, started together by the first to need one.
        let stories: Map<Backend, Promise<BedRun>> | undefined;
        for (const backend of BACKENDS) {
            describe(`with ${backend}`, () => {
                let run: BedRun;
                before(async function () {
                    this.timeout(180_000);
                    stories ??= new Map(
                        BACKENDS.map((b) => {
                            const story = runBed(b, guardStory(b), { "install.sh": INSTALL });
                            story.catch(() => undefined); // its own before() awaits it, and fails with its error
                            return [b, story];
                        }),
                    );
                    run = await stories.get(backend)!;
                });

                it("before the guard, the fake metadata service gives credentials to every user (else a refusal would prove nothing)", () => {
                    expect(seen(run, "open", "root"), run.out).to.deep.equal(every(EVERY_PROBE, "OPEN"));
                    expect(seen(run, "open", "user"), run.out).to.deep.equal(every(EVERY_PROBE, "OPEN"));
                    expect(seen(run, "open", "userns"), run.out).to.deep.equal(every(USERNS_PROBES, "OPEN"));
                });

                it("the installer succeeds with this backend, as root with systemd absent", () => {
                    expect(run.lines.installed, run.out).to.include("install exit=0");
                    const loaded =
                        backend === "nft"
                            ? `loaded nftables table inet ${METADATA_GUARD_NFT_TABLE}`
                            : `iptables now rejects traffic to ${IMDS4} for every user but root (UID 0), first in OUTPUT`;
                    expect(run.lines.installed.join("\n")).to.include(loaded);
                });

                it("refuses the unprivileged user on every address form, over TCP, MPTCP, UDP and ICMP", () => {
                    expect(seen(run, "installed", "user"), run.out).to.deep.include(every(EVERY_PROBE, "REFUSED"));
                });

                it("leaves root the whole IMDSv2 credentials flow, on every form and protocol", () => {
                    expect(seen(run, "installed", "root"), run.out).to.deep.equal(every(EVERY_PROBE, "OPEN"));
                });

                it("refuses the user as root of a user namespace of its own (unshare -U -r)", () => {
                    expect(run.lines.installed, run.out).to.include("USERNS uid 0");
                    expect(seen(run, "installed", "userns"), run.out).to.deep.equal(every(USERNS_PROBES, "REFUSED"));
                });

                it("cuts off a connection the user opened before the guard loaded", () => {
                    expect(seen(run, "installed", "user")["held:dotted"], run.out).to.equal("REFUSED");
                });

                it("run twice, the installer leaves one copy of each rule and the same verdicts", () => {
                    expect(run.lines.again, run.out).to.include("install exit=0");
                    const rules = (phase: string) => run.lines[phase].filter((l) => l.startsWith("RULE "));
                    // Counters start again when the table is replaced.
                    const guardRules = (phase: string) =>
                        rules(phase)
                            .filter((l) => /instance metadata: root only|uid-owner 0/.test(l) || l.endsWith(`-j ${METADATA_GUARD_IPTABLES_CHAIN}`))
                            .map((l) => l.replace(/counter packets \d+ bytes \d+/, "counter"));
                    // nft: the two rules; iptables: per family, the rule and the one jump to its chain.
                    expect(guardRules("again"), run.out).to.have.length(backend === "nft" ? 2 : 4);
                    expect(guardRules("again")).to.deep.equal(guardRules("installed"));
                    expect(seen(run, "again", "user")).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                    expect(seen(run, "again", "root")).to.deep.equal(every(BOTH_RULES, "OPEN"));
                });

                it("the re-apply of a guard in place says nothing (the timer runs it every 30 seconds)", () => {
                    expect(run.lines.quiet, run.out).to.deep.equal(["reapply exit=0"]);
                });

                it("a deleted rule reopens the service until the guard's re-apply puts it back", () => {
                    expect(seen(run, "tampered", "user"), run.out).to.deep.equal({ "tcp:dotted": "REFUSED", "udp:ipv6": "OPEN" });
                    expect(run.lines["tamper-undone"], run.out).to.include("reapply exit=0");
                    // It says so: the table had been changed (nft), the rule was put back (iptables).
                    expect(run.lines["tamper-undone"].join("\n")).to.include(repaired(backend, IMDS6));
                    expect(seen(run, "tamper-undone", "user"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                });

                it("an accept put above the guard's rule is undone by the re-apply, leaving one copy of the rule, first", () => {
                    expect(seen(run, "accept-above", "user"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
                    expect(seen(run, "accept-above-undone", "user"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                    const rules = run.lines["accept-above-undone"];
                    if (backend === "nft") expect(rules.filter((l) => /^RULE\s+accept$/.test(l))).to.deep.equal([]);
                    else
                        expect(rules.filter((l) => l.startsWith("RULE -A "))).to.deep.equal([
                            `RULE -A OUTPUT -j ${METADATA_GUARD_IPTABLES_CHAIN}`,
                            "RULE -A OUTPUT -j ACCEPT",
                            `RULE -A ${METADATA_GUARD_IPTABLES_CHAIN} -d ${IMDS4}/32 -m owner ! --uid-owner 0 -j REJECT --reject-with icmp-port-unreachable`,
                            `RULE -A OUTPUT -j ${METADATA_GUARD_IPTABLES_CHAIN}`,
                            "RULE -A OUTPUT -j ACCEPT",
                            `RULE -A ${METADATA_GUARD_IPTABLES_CHAIN} -d ${IMDS6}/128 -m owner ! --uid-owner 0 -j REJECT --reject-with icmp6-port-unreachable`,
                        ]);
                });

                it("rules that look like the guard's (a narrower copy, a comment quoting it) above an accept do not pass for it: the re-apply puts it back first", () => {
                    expect(seen(run, "lookalike", "user"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
                    expect(run.lines["lookalike-undone"], run.out).to.include("reapply exit=0");
                    expect(run.lines["lookalike-undone"].join("\n")).to.include(repaired(backend, IMDS4));
                    expect(seen(run, "lookalike-undone", "user"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                });

                it("an accept in another table (nftables, or iptables' mangle) does not reopen it", () => {
                    expect(seen(run, "other-tables", "user"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                });

                it("a flush reopens it, and each firewall service's start, reload and stop hook puts it back", () => {
                    expect(seen(run, "flushed", "user"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
                    for (const { service, key } of HOOKS) {
                        const left = (run.lines[`flushed:${service}:${key}`] ?? []).filter((l) => /instance metadata: root only|uid-owner 0/.test(l));
                        expect(left, `${service} ${key}: the flush removed the guard`).to.deep.equal([]);
                        expect(run.lines[`hook:${service}:${key}`], `${service} ${key}\n${run.out}`).to.include(`hook ${service} ${key} exit=0`);
                        expect(seen(run, `hook:${service}:${key}`, "user"), `${service} ${key}\n${run.out}`).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                        // It says what it put back (nft: the table; iptables: each rule).
                        expect(run.lines[`hook:${service}:${key}`].join("\n"), `${service} ${key}`).to.match(/was gone|now rejects/);
                    }
                    expect(HOOKS.map((h) => h.service)).to.include.members([...FIREWALL_SERVICES]);
                });

                it("the timer's service puts it back after any other flush", () => {
                    expect(seen(run, "flushed:timer", "user"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
                    expect(seen(run, "timer", "user"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
                    expect(seen(run, "timer", "root"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
                });
            });
        }
    });

    describe("metadata guard test bed: catches a broken guard", function () {
        /** The installer with `from` replaced by `to`; fails when `from` is not in it, so a mutation never goes stale. */
        function broken(from: RegExp, to: string): string {
            const text = INSTALL.replace(from, to);
            expect(text, `${from} is in the installer`).to.not.equal(INSTALL);
            return text;
        }
        const guarded = async (backend: Backend, install: string) =>
            runBed(backend, ['install "$work/install.sh"', "phase guarded", `probe root ${list(BOTH_RULES)}`, `probe user ${list(BOTH_RULES)}`].join("\n"), {
                "install.sh": install,
            });

        it("sees the IPv6 address open when the guard drops its IPv6 rule (nftables)", async () => {
            const run = await guarded("nft", broken(/ '\s*meta skuid != 0 ip6 daddr [^']*'/, ""));
            expect(seen(run, "guarded", "user"), run.out).to.deep.equal({ "tcp:dotted": "REFUSED", "udp:ipv6": "OPEN" });
        });

        it("sees the IPv6 address open when the guard drops its IPv6 rule (iptables)", async () => {
            const run = await guarded("iptables-nft", broken(/^ {2}guard ip6tables "\$ipv6" .*$/m, "  true"));
            expect(seen(run, "guarded", "user"), run.out).to.deep.equal({ "tcp:dotted": "REFUSED", "udp:ipv6": "OPEN" });
        });

        it("sees the user let through and root refused when the rules match skuid 0 the wrong way round", async () => {
            const run = await guarded("nft", broken(/meta skuid != 0/g, "meta skuid == 0"));
            expect(seen(run, "guarded", "user"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
            expect(seen(run, "guarded", "root"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
        });

        it("sees the service stay open after a firewall reload when the reload hook is missing", async () => {
            const install = broken(/^ExecReload=-\S+ reapply\n/m, "");
            const run = await runBed(
                "nft",
                ['install "$work/install.sh"', "phase reloaded", "flush", "hook nftables.service ExecReload", `probe user ${list(BOTH_RULES)}`].join("\n"),
                {
                    "install.sh": install,
                },
            );
            expect(run.lines.reloaded.join("\n"), run.out).to.include("hook nftables.service ExecReload: none");
            expect(seen(run, "reloaded", "user"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
        });
    });

    // The OS-user step of the provisioning document, as State Manager runs it (sh, the user name
    // in SSM_userName), with real useradd on the bed's private /etc: it installs the guard first.
    const OS_USER_STEP = `${createOsUserDocument()
        .mainSteps.find((step) => step.name === "createLinuxUser")!
        .inputs.runCommand.join("\n")}\n`;

    describe("OS-user provisioning run for real (useradd on a private /etc, the guard from the same step)", function () {
        let run: BedRun;
        before(async function () {
            this.timeout(120_000);
            const provision = (name: string) => `SSM_userName='${name}' install "$work/os-user.sh"`;
            run = await runBed(
                "nft",
                [
                    "phase new",
                    provision("os_user_bed_new"),
                    "getent passwd os_user_bed_new | cut -d: -f3,4,6,7",
                    'echo "subordinate ranges: $(grep -c "^os_user_bed_new:" /etc/subuid /etc/subgid | paste -sd" ")"',
                    "id -Gn os_user_bed_new",
                    'echo "home owned by $(stat -c "%U, mode %a" /home/os_user_bed_new)"',
                    `probe os_user_bed_new ${list(BOTH_RULES)}`,
                    `probe root ${list(BOTH_RULES)}`,
                    "phase existing",
                    "useradd --gid users --create-home --shell /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 os_user_bed_old",
                    'before="$(getent passwd os_user_bed_old; getent shadow os_user_bed_old; id os_user_bed_old)"',
                    provision("os_user_bed_old"),
                    '[ "$before" = "$(getent passwd os_user_bed_old; getent shadow os_user_bed_old; id os_user_bed_old)" ] && echo unchanged',
                    "phase system",
                    "useradd --system --no-create-home os_user_bed_sys",
                    provision("os_user_bed_sys"),
                    "getent passwd os_user_bed_sys >/dev/null && echo still there",
                    "phase subordinate",
                    "useradd --gid users --no-create-home os_user_bed_sub",
                    // As useradd gives every new user on Debian and Ubuntu, unless told otherwise.
                    "grep ^os_user_bed_sub: /etc/subuid",
                    provision("os_user_bed_sub"),
                    "phase sudo-group",
                    "useradd --gid users --groups sudo --no-create-home -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 os_user_bed_adm",
                    provision("os_user_bed_adm"),
                    "phase sudoers-rule",
                    // A sudoers rule the group checks cannot see (created user, then refused): the new user is removed again.
                    "mkdir -p /etc/sudoers.d && echo 'os_user_bed_sudo ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/bed",
                    provision("os_user_bed_sudo"),
                    "getent passwd os_user_bed_sudo >/dev/null && echo still there || echo removed again",
                    "phase hostile",
                    ...["x;touch $work/pwned", "$(touch $work/pwned)", "`touch $work/pwned`", "os_user_a' ; touch $work/pwned ; '"].map(
                        (name) => `SSM_userName="${name.replace(/[$`"\\]/g, "\\$&")}" install "$work/os-user.sh"`,
                    ),
                    '[ -e "$work/pwned" ] && echo pwned || echo "nothing ran"',
                    'echo "accounts naming pwned: $(getent passwd | grep -c pwned)"',
                ].join("\n"),
                { "os-user.sh": OS_USER_STEP },
            );
        });

        /** The exits the step reported in a phase. */
        const exits = (phase: string) => run.lines[phase].filter((l) => l.startsWith("install exit=")).map((l) => Number(l.slice("install exit=".length)));

        it("creates a new name as an unprivileged user (UID from 1000, group users, no other group, a home of its own), after closing the metadata service to it", () => {
            expect(exits("new"), run.out).to.deep.equal([0]);
            const lines = run.lines.new.join("\n");
            expect(lines.indexOf("loaded nftables table inet imds_guard"), "the guard first").to.be.within(0, lines.indexOf("OS user os_user_bed_new created"));
            // No subordinate IDs: no processes under other UIDs in a user namespace, out of reach of the end of access.
            expect(run.lines.new).to.include("subordinate ranges: /etc/subuid:0 /etc/subgid:0");
            const [uid, gid, home, shell] = run.lines.new.find((l) => /^\d+:\d+:/.test(l))!.split(":");
            expect(Number(uid)).to.be.within(1000, 59999);
            expect([gid, home, shell]).to.deep.equal(["100", "/home/os_user_bed_new", "/bin/bash"]);
            expect(run.lines.new).to.include("users");
            // Its own: every partner's user is in the group users.
            expect(run.lines.new).to.include("home owned by os_user_bed_new, mode 700");
            expect(seen(run, "new", "os_user_bed_new"), run.out).to.deep.equal(every(BOTH_RULES, "REFUSED"));
            expect(seen(run, "new", "root"), run.out).to.deep.equal(every(BOTH_RULES, "OPEN"));
        });

        it("leaves an existing unprivileged user as it was", () => {
            expect(exits("existing"), run.out).to.deep.equal([0]);
            expect(run.lines.existing.join("\n")).to.include("OS user os_user_bed_old exists: checking that it is unprivileged (it is never modified)");
            expect(run.lines.existing).to.include("unchanged");
        });

        it("refuses an existing user with a UID below 1000, and leaves it", () => {
            expect(exits("system"), run.out).to.deep.equal([1]);
            expect(run.lines.system.join("\n")).to.match(/refusing OS user os_user_bed_sys: its UID \d+ is below 1000/);
            expect(run.lines.system).to.include("still there");
        });

        it("refuses an existing user with subordinate UID ranges (it could run processes under other UIDs in a user namespace)", () => {
            expect(exits("subordinate"), run.out).to.deep.equal([1]);
            expect(
                run.lines.subordinate.some((l) => /^os_user_bed_sub:\d+:\d+$/.test(l)),
                "useradd gave it a range",
            ).to.equal(true);
            expect(run.lines.subordinate.join("\n")).to.include("refusing OS user os_user_bed_sub: it has subordinate UID or GID ranges");
        });

        it("refuses a member of the sudo group", () => {
            expect(exits("sudo-group"), run.out).to.deep.equal([1]);
            expect(run.lines["sudo-group"].join("\n")).to.include("refusing OS user os_user_bed_adm: it is a member of the administrative group sudo");
        });

        it("refuses, and removes again, a new user whom a sudoers rule gives rights (sudo -l -U, for real)", function () {
            skipUnlessRealSystem(this, "the sudoers case of the OS-user step", realSystemUnavailable(["sudo"]));
            expect(exits("sudoers-rule"), run.out).to.deep.equal([1]);
            const lines = run.lines["sudoers-rule"].join("\n");
            expect(lines).to.include("refusing OS user os_user_bed_sudo: sudo -l -U os_user_bed_sudo lists commands it may run with sudo");
            expect(lines).to.include("removed OS user os_user_bed_sudo again");
            expect(run.lines["sudoers-rule"]).to.include("removed again");
        });

        it("runs nothing a hostile name carries, and creates no user from it", () => {
            // useradd refuses each name (exit 3, invalid argument), and set -e stops the step there.
            expect(exits("hostile"), run.out).to.deep.equal([3, 3, 3, 3]);
            expect(run.lines.hostile.filter((l) => l.startsWith("useradd: invalid user name"))).to.have.length(4);
            expect(run.lines.hostile).to.include("nothing ran");
            expect(run.lines.hostile).to.include("accounts naming pwned: 0");
        });
    });
});
