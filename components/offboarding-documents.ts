// What ends a partner's access on its instances, as pure builders of Command documents.
// IAM stops new calls when access ends, but an open Session Manager shell is not authorised
// again (its channel was authorised at StartSession), and `nohup` or `setsid` processes outlive
// any session. So when access ends, by expiry or because the partner left the config, the
// partner's OS user is ended on the instances: every process it runs is killed (which also
// ends its sessions: when the shell exits, the SSM agent reports the session terminating,
// amazon-ssm-agent agent/session/shell/shell.go), and the account is expired and given no
// login shell, which refuses su, cron and sshd (it has no password to lock). Session Manager's Run As checks only that
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
    /** Lines (a function body, `$1` the user) that lock the account and take away its login shell and scheduled jobs. */
    lock: string[];
    /** Lines (a function body, `$1` the user) that undo `lock`. */
    restore: string[];
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
        `  usermod --expiredate 1 --shell "$nologin" --comment '${ENDED_OS_USER_COMMENT}' "$1"`,
        '  crontab -r -u "$1" 2>/dev/null || true',
        '  if command -v loginctl >/dev/null 2>&1; then loginctl disable-linger "$1" 2>/dev/null || true; loginctl terminate-user "$1" 2>/dev/null || true; fi',
    ],
    restore: [`  usermod --expiredate '' --shell /bin/bash --comment '${RUN_AS_OS_USER_COMMENT}' "$1"`],
    comment: 'getent passwd "$1" | cut -d: -f5',
    listUsers: "getent passwd | cut -d: -f1",
    minUid: 1000,
};

const MACOS: Platform = {
    lock: [
        '  dscl . -create "/Users/$1" UserShell /usr/bin/false',
        `  dscl . -create "/Users/$1" RealName '${ENDED_OS_USER_COMMENT}'`,
        '  pwpolicy -u "$1" -disableuser >/dev/null',
        '  crontab -r -u "$1" 2>/dev/null || true',
    ],
    restore: [
        '  dscl . -create "/Users/$1" UserShell /bin/zsh',
        `  dscl . -create "/Users/$1" RealName '${RUN_AS_OS_USER_COMMENT}'`,
        '  pwpolicy -u "$1" -enableuser >/dev/null',
    ],
    comment: `dscl . -read "/Users/$1" RealName 2>/dev/null | sed -n 's/^RealName: *//p; /^ /s/^ *//p' | head -n 1`,
    listUsers: "dscl . -list /Users",
    minUid: 501,
};

/**
 * Shell functions both documents use: `end_user USER` ends one OS user of the namespace (a no-op
 * for a name that does not exist here), `restore_user USER` undoes it for a user ended earlier.
 * Processes are stopped and killed in turns until none is left, so one that forks cannot outrun
 * the kill. A failure is recorded in `failed`, and the document fails at its end.
 */
function functions(platform: Platform): string[] {
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
        "end_user() {",
        '  case "$1" in',
        `    ${PARTNER_OS_USER_PREFIX}*) ;;`,
        `    *) echo "not ending $1: only users whose names begin ${PARTNER_OS_USER_PREFIX} are partners'" >&2; failed=1; return 0;;`,
        "  esac",
        '  if ! uid=$(id -u "$1" 2>/dev/null); then echo "no OS user $1 here"; return 0; fi',
        `  if [ "$uid" -lt ${platform.minUid} ]; then echo "not ending $1: UID $uid is a system account's" >&2; failed=1; return 0; fi`,
        '  if [ "$(comment_of "$1")" != ' + `'${ENDED_OS_USER_COMMENT}'` + " ]; then",
        '    lock_user "$1"',
        '    echo "ended OS user $1: expired, no login shell, no scheduled job"',
        "  fi",
        "  tries=0",
        '  while pgrep -u "$uid" >/dev/null 2>&1; do',
        '    pkill -STOP -u "$uid" 2>/dev/null || true',
        '    pkill -KILL -u "$uid" 2>/dev/null || true',
        "    tries=$((tries + 1))",
        '    if [ "$tries" -ge 50 ]; then echo "FAILED to end every process of $1 (UID $uid): end them by hand" >&2; failed=1; return 0; fi',
        "    sleep 0.1",
        "  done",
        '  if [ "$tries" -gt 0 ]; then echo "killed every process of $1: its sessions end with their shells"; fi',
        "}",
        "restore_user() {",
        '  if id -u "$1" >/dev/null 2>&1 && [ "$(comment_of "$1")" = ' + `'${ENDED_OS_USER_COMMENT}'` + " ]; then",
        '    unlock_user "$1"',
        '    echo "restored OS user $1: granted again"',
        "  fi",
        "}",
        "command -v pkill >/dev/null 2>&1 || { echo 'FAILED: pkill is not installed, so the processes of ended users cannot be killed' >&2; exit 1; }",
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
        "Ends partners' OS users on this instance: kills every process they run (their sessions end with their shells) and locks them.",
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
