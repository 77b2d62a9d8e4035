// What ends a partner's access on its instances, as pure builders of Command documents.
// IAM stops new calls when access ends, but an open Session Manager shell is not authorised
// again (its channel was authorised at StartSession), and `nohup` or `setsid` processes outlive
// any session. So when access ends, by expiry or because the partner left the config, the
// partner's OS user is ended on the instances: every process it runs is killed (which also
// ends its sessions: when the shell exits, the SSM agent reports the session terminating,
// amazon-ssm-agent agent/session/shell/shell.go), the account is expired and given no login
// shell (su refuses an expired account, and so do cron and sshd through PAM's account check;
// it has no password to lock), its scheduled jobs and subordinate IDs are taken away, and
// setuid files it owns lose the bit. Session Manager's Run As checks only that
// the user exists (agent/session/shell/shell_unix.go), so locking does not refuse a session:
// IAM does that.
//
// Only users of the partners' namespace (PARTNER_OS_USER_PREFIX) are ever touched, and never
// one with a system UID, so neither document can end root, the default Run As user or an
// account something else created.

import { envVarParameter, readParameter } from "./command-parameters";
import { PARTNER_OS_USER_PREFIX } from "./constants";

/** The comment (GECOS) an ended OS user carries: how a later run knows it ended it, and may restore it. */
export const ENDED_OS_USER_COMMENT = "Session Manager Run As user, access ended";

/** The comment of a Run As user in use (the OS-user document gives new users the same). */
export const RUN_AS_OS_USER_COMMENT = "Session Manager Run As user";

const USER = `${PARTNER_OS_USER_PREFIX}[a-z0-9_-]{1,24}`;

/** `userNames`: partners' OS users, separated by single spaces. */
export const END_OS_USERS_PATTERN = `^${USER}( ${USER})*$`;

/**
 * `grantedUsers`: the OS users partners hold now, separated by single spaces; `user@<epoch
 * seconds>` when the access ends at that instant. Empty when no partner is granted.
 */
export const GRANTED_OS_USERS_PATTERN = `^(${USER}(@[0-9]{1,11})?( ${USER}(@[0-9]{1,11})?)*)?$`;

/** One `grantedUsers` entry: the user, and the instant (UTC) its access ends, if any. */
export function grantedOsUserEntry(osUser: string, expiresAt?: string): string {
    return expiresAt === undefined ? osUser : `${osUser}@${Math.floor(Date.parse(expiresAt) / 1000)}`;
}

/** What differs between Linux and macOS; the logic around it is one script. */
interface Platform {
    /** Lines (a function body, `$1` the user) that expire the account and take away its login shell; each returns 1 on failure. */
    lock: string[];
    /** Lines (a function body, `$1` the user) that undo `lock`. */
    restore: string[];
    /**
     * Lines (a function body, `$1` the user, `$2` its UID) run at every end, ended before or not:
     * what could start a process of the user later (scheduled jobs, its service manager) goes.
     */
    dropJobs: string[];
    /**
     * Lines (a function body, `$1` the UID, `$2` the GID) that kill every process of the UID in one
     * stroke where the system allows it: a process that forks while a scan of /proc runs
     * (a PID hopper) can outrun pkill, not kill(-1) sent as that user.
     */
    killAll: string[];
    /** Succeeds when a live process (not a zombie waiting for its parent) of UID `$1` is left. */
    alive: string;
    /** The account's comment, `$1` the user. */
    comment: string;
    /** Every local user name, one per line. */
    listUsers: string;
    /** The lowest UID of a regular account. */
    minUid: number;
}

const LINUX: Platform = {
    lock: [
        "  nologin=$(command -v nologin || echo /sbin/nologin)",
        // Expired (1970-01-02): PAM's account check refuses su, cron and sshd. The user has no password to lock.
        `  usermod --expiredate 1 --shell "$nologin" --comment '${ENDED_OS_USER_COMMENT}' "$1" || return 1`,
        // Setuid or setgid files the user owns would let anyone on the instance act as it again.
        '  find / /tmp /var/tmp /dev/shm /home -xdev -type f -user "$(id -u "$1")" \\( -perm -4000 -o -perm -2000 \\) -exec chmod ug-s {} + 2>/dev/null || true',
    ],
    restore: [`  usermod --expiredate '' --shell /bin/bash --comment '${RUN_AS_OS_USER_COMMENT}' "$1"`],
    dropJobs: [
        '  crontab -r -u "$1" 2>/dev/null || true',
        // at(1) keeps one file per job, owned by its user (/var/spool/at on Amazon Linux and RHEL, /var/spool/cron/atjobs on Debian).
        '  find /var/spool/at /var/spool/cron/atjobs -maxdepth 1 -type f -user "$2" -delete 2>/dev/null || true',
        '  if command -v loginctl >/dev/null 2>&1; then loginctl disable-linger "$1" 2>/dev/null || true; loginctl terminate-user "$1" 2>/dev/null || true; fi',
        // Subordinate IDs (/etc/subuid, /etc/subgid) let the user run processes under other UIDs in a user
        // namespace, out of reach of a kill by its own UID: kill those, then take the ranges away.
        "  for map in /etc/subuid /etc/subgid; do",
        '    [ -f "$map" ] || continue',
        '    awk -F: -v u="$1" -v id="$2" \'$1 == u || $1 == id { print $2, $2 + $3 }\' "$map" | while read -r low high; do',
        '      ps -eo pid=,uid=,gid= | awk -v l="$low" -v h="$high" \'($2 >= l && $2 < h) || ($3 >= l && $3 < h) { print $1 }\' | xargs -r kill -KILL 2>/dev/null || true',
        "    done",
        '    awk -F: -v u="$1" -v id="$2" \'$1 != u && $1 != id\' "$map" > "$map.new.$$" && cat "$map.new.$$" > "$map" && rm -f "$map.new.$$"',
        "  done",
    ],
    killAll: [
        // kill(-1) as the user signals every process it owns under the kernel's task-list lock; a fork in
        // flight gives way to the pending SIGKILL. setpriv is util-linux's; without it, the pkill rounds below.
        '  if command -v setpriv >/dev/null 2>&1; then setpriv --reuid="$1" --regid="$2" --clear-groups kill -KILL -1 2>/dev/null || true; fi',
        '  pkill -STOP -u "$1" 2>/dev/null || true',
        '  pkill -KILL -u "$1" 2>/dev/null || true',
    ],
    alive: `ps -o stat= -u "$1" 2>/dev/null | grep -qv '^Z'`,
    comment: 'getent passwd "$1" | cut -d: -f5',
    listUsers: "getent passwd | cut -d: -f1",
    minUid: 1000,
};

const MACOS: Platform = {
    lock: [
        '  dscl . -create "/Users/$1" UserShell /usr/bin/false || return 1',
        `  dscl . -create "/Users/$1" RealName '${ENDED_OS_USER_COMMENT}' || return 1`,
        '  pwpolicy -u "$1" -disableuser >/dev/null || return 1',
    ],
    restore: [
        '  dscl . -create "/Users/$1" UserShell /bin/zsh',
        `  dscl . -create "/Users/$1" RealName '${RUN_AS_OS_USER_COMMENT}'`,
        '  pwpolicy -u "$1" -enableuser >/dev/null',
    ],
    dropJobs: [
        '  crontab -r -u "$1" 2>/dev/null || true',
        // launchd would start a KeepAlive job of the user's again after the kill.
        '  launchctl bootout "user/$2" 2>/dev/null || true',
        '  launchctl bootout "gui/$2" 2>/dev/null || true',
    ],
    killAll: ['  pkill -STOP -U "$1" 2>/dev/null || true', '  pkill -KILL -U "$1" 2>/dev/null || true'],
    alive: `ps -o stat= -U "$1" 2>/dev/null | grep -qv '^Z'`,
    comment: `dscl . -read "/Users/$1" RealName 2>/dev/null | sed -n 's/^RealName: *//p; /^ /s/^ *//p' | head -n 1`,
    listUsers: "dscl . -list /Users",
    minUid: 501,
};

/**
 * Shell functions both documents use: `end_user USER` ends one OS user of the namespace (a no-op
 * for a name that does not exist here), `restore_user USER` undoes it for a user ended earlier.
 * The account is locked first (so nothing the kill misses can log in again), then its jobs go,
 * then every process is killed in rounds, and the absence of any checked a few times over, since
 * a process hopping from PID to PID can slip through a single look. A failure is recorded in
 * `failed`, the other users are still ended, and the document fails at its end.
 */
function functions(platform: Platform): string[] {
    const ended = `'${ENDED_OS_USER_COMMENT}'`;
    return [
        "set -eu",
        "failed=0",
        `comment_of() { ${platform.comment}; }`,
        "lock_user() {",
        ...platform.lock,
        "}",
        "unlock_user() {",
        ...platform.restore,
        "}",
        "drop_jobs() {",
        ...platform.dropJobs,
        "}",
        "kill_all() {",
        ...platform.killAll,
        "}",
        // Nothing of the user left: several looks, a short pause apart (a zombie is dead, only not yet reaped).
        `alive() { ${platform.alive}; }`,
        'none_left() { for look in 1 2 3 4 5; do if alive "$1"; then return 1; fi; sleep 0.1; done; return 0; }',
        "end_user() {",
        '  case "$1" in',
        `    ${PARTNER_OS_USER_PREFIX}*) ;;`,
        `    *) echo "not ending $1: only users whose names begin ${PARTNER_OS_USER_PREFIX} are partners'" >&2; failed=1; return 0;;`,
        "  esac",
        '  if ! uid=$(id -u "$1" 2>/dev/null); then echo "no OS user $1 here"; return 0; fi',
        '  gid=$(id -g "$1")',
        `  if [ "$uid" -lt ${platform.minUid} ]; then echo "not ending $1: UID $uid is a system account's" >&2; failed=1; return 0; fi`,
        `  if [ "$(comment_of "$1")" != ${ended} ]; then`,
        '    if lock_user "$1"; then echo "ended OS user $1: expired, no login shell"; else echo "FAILED to lock OS user $1" >&2; failed=1; fi',
        "  fi",
        '  drop_jobs "$1" "$uid"',
        '  if alive "$uid"; then had=yes; else had=no; fi',
        "  rounds=0",
        "  while :; do",
        '    kill_all "$uid" "$gid"',
        "    rounds=$((rounds + 1))",
        '    if none_left "$uid"; then break; fi',
        '    if [ "$rounds" -ge 20 ]; then echo "FAILED to end every process of $1 (UID $uid): end them by hand" >&2; failed=1; return 0; fi',
        "  done",
        '  if [ "$had" = yes ]; then echo "killed every process of $1: its sessions end with their shells"; fi',
        "}",
        "restore_user() {",
        '  if id -u "$1" >/dev/null 2>&1 && [ "$(comment_of "$1")" = ' + ended + " ]; then",
        '    unlock_user "$1"',
        '    echo "restored OS user $1: granted again"',
        "  fi",
        "}",
        "command -v pkill >/dev/null 2>&1 || { echo 'FAILED: pkill (procps) is not installed, so the processes of ended users cannot be killed' >&2; exit 1; }",
    ];
}

/** Ends the listed users. */
function endListed(platform: Platform): string[] {
    return [...functions(platform), readParameter("users", "userNames"), 'for user in $users; do end_user "$user"; done', 'exit "$failed"'];
}

/** Ends every user of the namespace not granted now (or whose access has ended), and restores the granted ones it ended before. */
function keepGranted(platform: Platform): string[] {
    return [
        ...functions(platform),
        readParameter("granted", "grantedUsers"),
        "now=$(date +%s)",
        'keep=" "',
        "for entry in $granted; do",
        '  user=${entry%%@*}; ends=${entry#"$user"}; ends=${ends#@}',
        '  if [ -z "$ends" ] || [ "$now" -lt "$ends" ]; then keep="$keep$user "; fi',
        "done",
        `for user in $(${platform.listUsers} | grep '^${PARTNER_OS_USER_PREFIX}' || true); do`,
        '  case "$keep" in',
        '    *" $user "*) restore_user "$user";;',
        '    *) end_user "$user";;',
        "  esac",
        "done",
        'exit "$failed"',
    ];
}

function document(description: string, parameter: { name: string; description: string; pattern: string }, script: (p: Platform) => string[]) {
    return {
        schemaVersion: "2.2",
        description: `${description} Managed by Pulumi (third-party-ssm-access).`,
        parameters: { [parameter.name]: envVarParameter(parameter.description, parameter.pattern) },
        mainSteps: [
            { action: "aws:runShellScript", name: "linux", precondition: { StringEquals: ["platformType", "Linux"] }, inputs: { runCommand: script(LINUX) } },
            { action: "aws:runShellScript", name: "macOs", precondition: { StringEquals: ["platformType", "MacOS"] }, inputs: { runCommand: script(MACOS) } },
        ],
    };
}

/** Command document that ends the listed partners' OS users: the schedule at a partner's end of access runs it, and so can you (docs/partners.md). */
export function endOsUsersDocument() {
    return document(
        "Ends partners' OS users on this instance: kills every process they run (their sessions end with their shells) and expires their accounts.",
        {
            name: "userNames",
            description: `Partners' OS users to end (names beginning ${PARTNER_OS_USER_PREFIX}), separated by spaces.`,
            pattern: END_OS_USERS_PATTERN,
        },
        endListed,
    );
}

/** Command document that keeps only the granted partners' OS users: State Manager applies it whenever the partners change, and every 30 minutes. */
export function keepGrantedOsUsersDocument() {
    return document(
        "Ends every partner OS user on this instance that no partner holds now (or whose access has ended), and restores those granted again.",
        {
            name: "grantedUsers",
            description: `The partners' OS users granted now, separated by spaces; user@<epoch seconds> when the access ends then.`,
            pattern: GRANTED_OS_USERS_PATTERN,
        },
        keepGranted,
    );
}
