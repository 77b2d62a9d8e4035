// Ending what runs when a partner's access ends (issue 23, point 3): what the program
// registers (the schedule at each end of access, the list the instances keep, the role
// Scheduler uses), the role's permissions decided by IAM evaluation, and the two documents'
// scripts run for real, as root, against real useradd/usermod/pkill, in a private mount
// namespace over a copy of /etc (the host's /etc is left byte for byte as it was).

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUN_AS_TAG_KEY } from "../components/constants";
import {
    END_OS_USERS_PATTERN,
    ENDED_OS_USER_COMMENT,
    GRANTED_OS_USERS_PATTERN,
    endOsUsersDocument,
    keepGrantedOsUsersDocument,
} from "../components/offboarding-documents";
import { statementsOf } from "../components/policies";
import { decide } from "../tools/iam/evaluate";
import { buildIamPicture } from "../tools/iam/picture";
import { ofType, only, resolve, runProgram, type ProgramRun } from "../tools/mock-engine";
import { realSystemUnavailable, skipUnlessRealSystem, treeFingerprint, unusedUids } from "./real-system";

// Far ahead: a schedule is made only for an end still ahead when the program runs.
const A_ENDS = "2099-03-31T23:59:59Z";

async function yours(set?: Record<string, unknown>): Promise<ProgramRun> {
    const run = await runProgram({ stack: "yours", set });
    if (run.error) throw run.error;
    return run;
}

describe("offboarding: what the program registers", () => {
    let run: ProgramRun;
    before(async () => (run = await yours({ "partners[0].expiresAt": A_ENDS })));

    it("schedules, at a partner's end of access, the document ending its OS user on every instance open to partners", async () => {
        const schedules = ofType(run, "aws:scheduler/schedule:Schedule");
        // Only the partner with an end: Third_Party_B has none.
        expect(schedules.map((s) => s.name)).to.deep.equal(["offboarding-end-Third_Party_A"]);
        const schedule = schedules[0];
        expect(schedule.inputs).to.deep.include({
            scheduleExpression: "at(2099-03-31T23:59:59)",
            scheduleExpressionTimezone: "UTC",
            flexibleTimeWindow: { mode: "OFF" },
            groupName: only(run, "aws:scheduler/scheduleGroup:ScheduleGroup").name,
        });
        const target = schedule.inputs.target;
        expect(target.arn).to.equal("arn:aws:scheduler:::aws-sdk:ssm:sendCommand");
        expect(target.roleArn).to.equal(`arn:aws:iam::111111111111:role/${only(run, "aws:iam/role:Role", "offboarding-scheduler").name}`);
        expect(JSON.parse(target.input)).to.deep.equal({
            DocumentName: "offboarding-end-os-users",
            Targets: [{ Key: "tag-key", Values: ["ExternalAccessGrantedTo"] }],
            Parameters: { userNames: ["os_user_a_alice"] },
            Comment: "End of access: Third_Party_A",
            MaxConcurrency: "100%",
            MaxErrors: "100%",
            TimeoutSeconds: 600,
        });
        expect((await resolve(run.outputs.endAccessDocumentName as string)).value).to.equal("offboarding-end-os-users");
    });

    it("makes no schedule for an end already past or less than 10 minutes ahead (Scheduler would refuse it): the kept list, carrying the end, ends the user as the deploy updates it", async () => {
        const soon = new Date(Date.now() + 2 * 60 * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        const ending = await yours({ "partners[0].expiresAt": soon, "partners[1].expiresAt": "2020-01-01T00:00:00Z" });
        expect(ofType(ending, "aws:scheduler/schedule:Schedule")).to.deep.equal([]);
        expect(only(ending, "aws:ssm/association:Association", "offboarding-keep-os-users").inputs.parameters.grantedUsers).to.equal(
            `os_user_a_alice@${Date.parse(soon) / 1000} os_user_b_bob@1577836800`,
        );
        // The component takes the instant to decide from, for reviews of another moment.
        const offboarding = await runProgram({
            stack: "yours",
            program: async () => {
                const { PartnerOffboarding } = await import("../components/partner-offboarding");
                new PartnerOffboarding("o", {
                    accessTagKey: "ExternalAccessGrantedTo",
                    now: "2027-03-31T23:55:00Z",
                    partners: [
                        { partnerName: "Near", osUser: "os_user_near", expiresAt: "2027-03-31T23:59:59Z" },
                        { partnerName: "Far", osUser: "os_user_far", expiresAt: "2027-04-01T00:05:00Z" },
                    ],
                });
                return {};
            },
        });
        if (offboarding.error) throw offboarding.error;
        expect(ofType(offboarding, "aws:scheduler/schedule:Schedule").map((s) => s.name)).to.deep.equal(["o-end-Far"]);
    });

    it("keeps on every instance open to partners only the OS users partners hold now, with the end of each, re-applied every 30 minutes", () => {
        const keep = only(run, "aws:ssm/association:Association", "offboarding-keep-os-users");
        expect(keep.inputs.targets).to.deep.equal([{ key: "tag-key", values: ["ExternalAccessGrantedTo"] }]);
        expect(keep.inputs.scheduleExpression).to.equal("rate(30 minutes)");
        // Third_Party_A's access ends at 2099-03-31T23:59:59Z: 4078684799 seconds after the epoch.
        expect(keep.inputs.parameters).to.deep.equal({ grantedUsers: `os_user_a_alice@${Date.parse(A_ENDS) / 1000} os_user_b_bob` });
        expect(keep.inputs.parameters.grantedUsers).to.match(new RegExp(GRANTED_OS_USERS_PATTERN));
        const document = JSON.parse(only(run, "aws:ssm/document:Document", "offboarding-keep-os-users").inputs.content);
        expect(document).to.deep.equal(keepGrantedOsUsersDocument());
        expect(JSON.parse(only(run, "aws:ssm/document:Document", "offboarding-end-os-users").inputs.content)).to.deep.equal(endOsUsersDocument());
    });

    it("passes both documents' parameters as environment variables, and admits only names of the partners' namespace", () => {
        for (const document of [endOsUsersDocument(), keepGrantedOsUsersDocument()]) {
            for (const parameter of Object.values(document.parameters)) expect(parameter.interpolationType).to.equal("ENV_VAR");
            for (const step of document.mainSteps) expect(step.inputs.runCommand.join("\n")).to.not.include("{{");
        }
        const end = new RegExp(END_OS_USERS_PATTERN);
        for (const bad of ["root", "no_sudo_user", "os_user_a;id", "os_user_a os_user_b ", "", "os_user_"]) expect(end.test(bad), bad).to.equal(false);
        expect(end.test("os_user_a_alice os_user_b_bob")).to.equal(true);
        const granted = new RegExp(GRANTED_OS_USERS_PATTERN);
        for (const good of ["", "os_user_a_alice", "os_user_a_alice@4078684799 os_user_b_bob"]) expect(granted.test(good), good).to.equal(true);
        for (const bad of ["ec2-user", "os_user_a@soon", "os_user_a@1 root"]) expect(granted.test(bad), bad).to.equal(false);
    });

    it("lets only schedules of its own group, in this account, assume the scheduler's role", () => {
        const role = only(run, "aws:iam/role:Role", "offboarding-scheduler");
        const group = only(run, "aws:scheduler/scheduleGroup:ScheduleGroup");
        expect(statementsOf(role.inputs.assumeRolePolicy)).to.deep.equal([
            {
                Effect: "Allow",
                Principal: { Service: "scheduler.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: {
                    StringEquals: { "aws:SourceAccount": "111111111111" },
                    ArnLike: { "aws:SourceArn": `arn:aws:scheduler:us-east-1:111111111111:schedule-group/${group.name}` },
                },
            },
        ]);
    });

    it("removing a partner takes its OS user off the kept list, so State Manager ends it as the update lands", async () => {
        const without = await yours({ "partners[1]": undefined, "instances[1]": undefined });
        expect(only(without, "aws:ssm/association:Association", "offboarding-keep-os-users").inputs.parameters.grantedUsers).to.equal("os_user_a_alice");
        const none = await yours({ partners: [], instances: [] });
        expect(only(none, "aws:ssm/association:Association", "offboarding-keep-os-users").inputs.parameters.grantedUsers).to.equal("");
    });
});

describe("offboarding: the scheduler's role, by IAM evaluation", () => {
    let run: ProgramRun;
    let decideAs: (action: string, resource: string, tags?: Record<string, string>) => Promise<string>;
    before(async () => {
        run = await yours({ "partners[0].expiresAt": A_ENDS });
        const picture = buildIamPicture([run]);
        const role = `arn:aws:iam::111111111111:role/${only(run, "aws:iam/role:Role", "offboarding-scheduler").name}`;
        decideAs = async (action, resource, tags) =>
            (await decide(picture, { principal: role, sessionName: "scheduler", action, resource, resourceTags: tags })).decision;
    });
    const ssm = "arn:aws:ssm:us-east-1:111111111111";
    const instance = "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0";

    it("may send the end document to an instance carrying the access tag key, whatever the partner", async () => {
        expect(await decideAs("ssm:SendCommand", `${ssm}:document/offboarding-end-os-users`)).to.equal("Allowed");
        expect(await decideAs("ssm:SendCommand", instance, { ExternalAccessGrantedTo: "Third_Party_B" })).to.equal("Allowed");
        expect(await decideAs("ssm:SendCommand", `${ssm}:managed-instance/mi-0123456789abcdef0`, { ExternalAccessGrantedTo: "Anyone" })).to.equal("Allowed");
    });

    it("may not run another document, reach an instance not open to partners, end sessions through the API, or do anything else", async () => {
        expect(await decideAs("ssm:SendCommand", `${ssm}:document/offboarding-keep-os-users`)).to.not.equal("Allowed");
        expect(await decideAs("ssm:SendCommand", `arn:aws:ssm:us-east-1::document/AWS-RunShellScript`)).to.not.equal("Allowed");
        expect(await decideAs("ssm:SendCommand", instance, { Name: "database" })).to.not.equal("Allowed");
        expect(await decideAs("ssm:SendCommand", instance, { [RUN_AS_TAG_KEY]: "root" })).to.not.equal("Allowed");
        expect(await decideAs("ssm:TerminateSession", `${ssm}:session/alice-0123456789abcdef0`)).to.not.equal("Allowed");
        expect(await decideAs("ssm:StartSession", instance, { ExternalAccessGrantedTo: "Third_Party_A" })).to.not.equal("Allowed");
        expect(await decideAs("iam:PassRole", "arn:aws:iam::111111111111:role/any")).to.not.equal("Allowed");
    });
});

// ---------------------------------------------------------------------------------------
// The scripts on a real kernel: real useradd, usermod, getent, pgrep and pkill.

describe("offboarding: the documents' scripts, run as root on this machine (private /etc)", function () {
    const why = realSystemUnavailable(["useradd", "usermod", "getent", "pgrep", "pkill", "ps", "su", "chage", "setpriv", "perl"]);
    let work: string;
    let hostEtc: string;
    before(function () {
        skipUnlessRealSystem(this, "the real-system offboarding tests", why);
        hostEtc = treeFingerprint("/etc");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "offboarding-"));
        fs.writeFileSync(path.join(work, "end.sh"), endOsUsersDocument().mainSteps[0].inputs.runCommand.join("\n") + "\n");
        fs.writeFileSync(path.join(work, "keep.sh"), keepGrantedOsUsersDocument().mainSteps[0].inputs.runCommand.join("\n") + "\n");
    });
    after(() => {
        if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
        if (hostEtc !== undefined) expect(treeFingerprint("/etc"), "the host's /etc is byte for byte as before").to.equal(hostEtc);
    });

    /**
     * Runs `steps` (bash) as root in a private mount namespace whose /etc is a copy of the host's,
     * with `useradd` having made the given users; every process started inside ends with it. In a
     * PID namespace of its own too: the scripts' kills by UID reach only its processes, and its
     * bash, as PID 1, reaps the dead as an instance's init does (the sandbox's init here does not).
     */
    function inPrivateSystem(users: string[], steps: string): { status: number | null; out: string } {
        const etc = fs.mkdtempSync(path.join(work, "etc-"));
        const script = [
            "set -u",
            `cp -a /etc/. ${etc}/`,
            `mount --bind ${etc} /etc`,
            // The end document scans the whole root filesystem for the user's setuid files. The host's /root holds caches
            // (here a quarter of a million files) that no user under test owns: an empty one over it, in this namespace only,
            // spares each scan most of its time. The users' own files are in their homes under ${work}, and are scanned.
            "mount -t tmpfs -o mode=0700 tmpfs /root",
            // Live processes of a user: a killed one whose parent has not reaped it yet is a zombie, not alive.
            `live() { ps -o stat= -u "$1" 2>/dev/null | grep -vc '^Z'; }`,
            // Processes of a user born within a second (zombies included): a PID hopper is rarely caught alive, but it leaves new PIDs.
            `born() { a=$(ps -o pid= -u "$1"); sleep 1; b=$(ps -o pid= -u "$1"); awk 'NR == FNR { seen[$1] = 1; next } !seen[$1]' <(echo "$a") <(echo "$b") | grep -c . || true; }`,
            `home=$(mktemp -d ${work}/home-XXXXXX)`,
            // UIDs no account of the host has: the scripts kill by UID, which is machine-wide.
            ...users.map((u, i) => `useradd --uid ${FREE_UIDS[i]} --base-dir "$home" --create-home --gid users --comment 'Session Manager Run As user' ${u}`),
            steps,
            // Nothing a test started survives it: kill(-1) as each user, which even a PID hopper cannot outrun.
            ...users.map((_, i) => `setpriv --reuid=${FREE_UIDS[i]} --regid=100 --clear-groups kill -KILL -1 2>/dev/null || true`),
        ].join("\n");
        const r = spawnSync("unshare", ["--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "bash", "-c", script], {
            encoding: "utf8",
            timeout: 60_000,
        });
        return { status: r.status, out: `${r.stdout}${r.stderr}` };
    }

    // Three UIDs below login.defs' UID_MAX that no account of the host holds.
    const FREE_UIDS = unusedUids(59900, 3);

    // A UID no process of the host runs as, and no account holds.
    const SUBORDINATE_UID = [3987651, 3987652, 3987653].find(
        (uid) => spawnSync("sh", ["-c", `ps -o pid= -u ${uid} | grep -q . || getent passwd ${uid}`]).status !== 0,
    );

    const runDocument = (document: string, parameter: string, value: string) => `${parameter}='${value}' sh ${work}/${document}.sh; echo "exit=$?"`;

    it("the end document kills every process of the user, a nohup one included, and expires it without a login shell", () => {
        const r = inPrivateSystem(
            ["os_user_a_alice", "os_user_b_bob"],
            [
                `su -s /bin/sh os_user_a_alice -c "nohup sleep 600 >/dev/null 2>&1 &"`,
                `su -s /bin/sh os_user_b_bob -c "nohup sleep 600 >/dev/null 2>&1 &"`,
                "sleep 0.3",
                runDocument("end", "SSM_userNames", "os_user_a_alice"),
                'echo "alice processes: $(live os_user_a_alice)"',
                'echo "bob processes: $(live os_user_b_bob)"',
                "getent passwd os_user_a_alice",
                'chage -l os_user_a_alice | grep "Account expires"',
                // An expired account: su refuses it even for root.
                'su -s /bin/sh os_user_a_alice -c true 2>/dev/null && echo "su: allowed" || echo "su: refused"',
            ].join("\n"),
        );
        expect(r.out).to.include("exit=0");
        expect(r.out).to.include("alice processes: 0");
        expect(r.out, "another partner's user is untouched").to.include("bob processes: 1");
        expect(r.out).to.match(new RegExp(`os_user_a_alice:x:\\d+:\\d+:${ENDED_OS_USER_COMMENT}:[^:]+:(/usr)?/sbin/nologin`));
        expect(r.out).to.match(/Account expires\s*:\s*Jan 02, 1970/);
        expect(r.out).to.include("su: refused");
    });

    it("the end document kills processes that hop from PID to PID faster than a scan of /proc, every time", () => {
        // Each process forks and exits at once, so it lives microseconds at each PID (perl is essential on Debian).
        const hopper = `perl -e 'use POSIX; POSIX::setsid(); for (;;) { my $p = fork(); POSIX::_exit(0) if defined $p && $p > 0; select(undef, undef, undef, 0.001) unless defined $p; }'`;
        const r = inPrivateSystem(
            ["os_user_a_alice"],
            [
                "for run in 1 2; do",
                `  usermod --expiredate '' --comment 'Session Manager Run As user' os_user_a_alice`,
                // At the lowest priority: they hop as fast as the machine lets them, and leave the other tests running beside this one their share.
                `  for chain in 1 2 3 4; do nice -n 19 setpriv --reuid=${FREE_UIDS[0]} --regid=100 --clear-groups ${hopper} & done`,
                // The hoppers are running before the document: under load their first fork may take a moment.
                "  before=0; for try in 1 2 3 4 5; do before=$(born os_user_a_alice); [ $before -gt 0 ] && break; done",
                `  ${runDocument("end", "SSM_userNames", "os_user_a_alice")}`,
                '  echo "run $run: $before born in a second before, $(born os_user_a_alice) after, $(live os_user_a_alice) alive"',
                "done",
            ].join("\n"),
        );
        expect(r.out.match(/exit=0/g), r.out).to.have.length(2);
        for (const run of [1, 2]) expect(r.out, r.out).to.match(new RegExp(`run ${run}: [1-9]\\d* born in a second before, 0 after, 0 alive`));
    });

    it("the end document kills the user's processes under its subordinate UIDs (a user namespace), and takes the ranges away", () => {
        const r = inPrivateSystem(
            ["os_user_a_alice"],
            [
                // As newuidmap would map one for the user: a range of /etc/subuid (one UID nothing of the host uses:
                // the document kills every process in the user's ranges).
                `echo os_user_a_alice:${SUBORDINATE_UID}:1 >> /etc/subuid`,
                `setpriv --reuid=${SUBORDINATE_UID} --regid=100 --clear-groups sleep 600 &`,
                "sleep 0.3",
                `echo "under subordinate UID: $(live ${SUBORDINATE_UID})"`,
                runDocument("end", "SSM_userNames", "os_user_a_alice"),
                `echo "left under subordinate UID: $(live ${SUBORDINATE_UID}); ranges left: $(grep -c os_user_a_alice /etc/subuid)"`,
            ].join("\n"),
        );
        expect(r.out).to.include("under subordinate UID: 1");
        expect(r.out).to.include("exit=0");
        expect(r.out).to.include("left under subordinate UID: 0; ranges left: 0");
    });

    it("the end document refuses names outside the namespace, and a namespace name with a system UID", () => {
        const r = inPrivateSystem(
            [],
            [
                runDocument("end", "SSM_userNames", "root"),
                "useradd --system --no-create-home os_user_sys",
                runDocument("end", "SSM_userNames", "os_user_sys"),
                "getent passwd root os_user_sys",
            ].join("\n"),
        );
        expect(r.out).to.include("not ending root: only users whose names begin os_user_ are partners'");
        expect(r.out).to.match(/not ending os_user_sys: UID \d+ is a system account's/);
        expect(r.out.match(/exit=1/g)).to.have.length(2);
        expect(r.out, "root untouched").to.match(/^root:x:0:0:[^\n]*:\/bin\/(ba)?sh$/m);
        expect(r.out).to.not.include(ENDED_OS_USER_COMMENT);
    });

    it("the kept list ends a removed partner's user and one whose end has passed, keeps the others, and restores one granted again", () => {
        const r = inPrivateSystem(
            ["os_user_a_alice", "os_user_b_bob", "os_user_c_carol"],
            [
                `su -s /bin/sh os_user_b_bob -c "nohup sleep 600 >/dev/null 2>&1 &"`,
                "sleep 0.3",
                // Third_Party_B removed from the config; Third_Party_C's access ended at epoch second 1000.
                runDocument("keep", "SSM_grantedUsers", "os_user_a_alice os_user_c_carol@1000"),
                'echo "bob processes: $(live os_user_b_bob)"',
                "getent passwd os_user_a_alice os_user_b_bob os_user_c_carol | cut -d: -f1,5",
                // Bob's partner is back: restored.
                runDocument("keep", "SSM_grantedUsers", "os_user_a_alice os_user_b_bob"),
                "getent passwd os_user_b_bob | cut -d: -f1,5,7",
                // No partner at all: every user of the namespace ends.
                runDocument("keep", "SSM_grantedUsers", ""),
                "getent passwd os_user_a_alice os_user_b_bob | cut -d: -f1,5",
            ].join("\n"),
        );
        expect(r.out.match(/exit=0/g), r.out).to.have.length(3);
        expect(r.out).to.include("bob processes: 0");
        expect(r.out).to.include("os_user_a_alice:Session Manager Run As user\n");
        expect(r.out).to.include(`os_user_b_bob:${ENDED_OS_USER_COMMENT}\n`);
        expect(r.out).to.include(`os_user_c_carol:${ENDED_OS_USER_COMMENT}\n`);
        expect(r.out).to.include("restored OS user os_user_b_bob: granted again");
        expect(r.out).to.include("os_user_b_bob:Session Manager Run As user:/bin/bash");
        expect(r.out).to.include(`os_user_a_alice:${ENDED_OS_USER_COMMENT}\nos_user_b_bob:${ENDED_OS_USER_COMMENT}`);
    });
});
