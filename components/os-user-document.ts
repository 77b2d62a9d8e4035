// The OS-user provisioning document, as a pure builder: one unprivileged user per Run
// As name, created only once the metadata guard is in place, and refused rather than
// used when the name belongs to a privileged account.

import { envVarParameter, readParameter, readParameterPowerShell } from "./command-parameters";
import { OS_USER_NAME_PATTERN, RESERVED_OS_USERS } from "./constants";
import { MACOS_METADATA_GUARD_INSTALL, METADATA_GUARD_INSTALL } from "./metadata-guard-scripts";
import { END_OS_USERS_PATTERN, RUN_AS_OS_USER_COMMENT } from "./offboarding-documents";

/**
 * The reserved names as the alternatives of a shell `case` pattern. Each one must match
 * `OS_USER_NAME_PATTERN` (letters, digits, `_`, `-`), so none can break out of the pattern.
 */
function reservedUsersCasePattern(): string {
    const pattern = new RegExp(OS_USER_NAME_PATTERN);
    for (const name of RESERVED_OS_USERS) {
        if (!pattern.test(name)) throw new Error(`reserved OS user "${name}" does not match ${OS_USER_NAME_PATTERN}`);
    }
    return RESERVED_OS_USERS.join("|");
}

/** What differs between the Linux and the macOS step; everything else is one script. */
interface UserPlatform {
    /** Lines (inside `else`) that create the missing user. */
    create: string[];
    /** Lines (a function body) that remove the user this run created; their status is the result. */
    remove: string[];
    /** Lowest UID of a regular account, and why. */
    minUid: number;
    minUidReason: string;
    /** First UID above the regular accounts, and why; none when the platform has no such bound. */
    uidBound?: { value: number; reason: string };
    /** Lines that refuse membership of a privileged group. */
    groupChecks: string[];
}

/**
 * The provisioning script of one platform. The `userName` parameter arrives as an
 * environment variable (command-parameters.ts), never as script text, and `allowedPattern`
 * admits only a Linux user name besides. A missing user is created; an existing one is checked and never changed: a
 * privileged account is refused (exit 1, naming the user and the reason), not silently
 * stripped of its rights, which could break whatever else uses it. The same checks run on
 * a user the script has just created, so a sudoers rule that happens to match it (say
 * `%users`) is caught too; such a user is removed again before the script exits, because
 * Run As needs nothing but the user's existence: a refusal that left it in place would be
 * advisory. POSIX sh, so it runs whichever shell the agent picks.
 */
function osUserScript(platform: UserPlatform): string[] {
    return ["set -eu", readParameter("user", "userName"), ...osUserChecks(platform)];
}

/**
 * The same, for each user of a space-separated list (per-person Run As: a partner's people,
 * in one association instead of one each). Each user in a subshell of its own with `set -e`
 * (outside any `if` or `||`, where sh would ignore it): a refused name refuses that user only,
 * and the step still fails, once every other user has been seen to.
 */
function osUsersScript(platform: UserPlatform): string[] {
    return [
        "set -eu",
        readParameter("users", "userNames"),
        "failed=0",
        // The list is split on spaces, never expanded as a file pattern (allowedPattern admits no * or ?; this does not rely on it).
        "set -f",
        "for user in $users; do",
        "set +e",
        "(",
        "set -e",
        ...osUserChecks(platform),
        ")",
        "status=$?",
        "set -e",
        'if [ "$status" -ne 0 ]; then failed=1; fi',
        "done",
        'exit "$failed"',
    ];
}

/** Creates, or checks, the OS user named by `$user`: see osUserScript. */
function osUserChecks(platform: UserPlatform): string[] {
    return [
        "created=no",
        "remove_created_user() {",
        ...platform.remove,
        "}",
        "refuse() {",
        '  echo "refusing OS user $user: $1. Session Manager must not run third-party sessions as a privileged account; choose another user name." >&2',
        '  if [ "$created" = yes ]; then',
        "    if remove_created_user; then",
        '      echo "removed OS user $user again: this run created it, and Run As would use it as long as it exists" >&2',
        "    else",
        '      echo "FAILED to remove OS user $user, which this run created: remove it by hand, or Session Manager can run sessions as it" >&2',
        "    fi",
        "  fi",
        "  exit 1",
        "}",
        `case "$user" in ${reservedUsersCasePattern()}) refuse "the name is reserved for root or an account the AMI or cloud-init gives sudo rights";; esac`,
        'if id -u "$user" >/dev/null 2>&1; then',
        '  echo "OS user $user exists: checking that it is unprivileged (it is never modified)"',
        "else",
        ...platform.create,
        "  created=yes",
        '  echo "OS user $user created"',
        "fi",
        'uid=$(id -u "$user")',
        `if [ "$uid" -lt ${platform.minUid} ]; then refuse "its UID $uid is below ${platform.minUid}: ${platform.minUidReason}"; fi`,
        ...(platform.uidBound
            ? [
                  `if [ "$uid" -ge ${platform.uidBound.value} ]; then refuse "its UID $uid is ${platform.uidBound.value} or above: ${platform.uidBound.reason}"; fi`,
              ]
            : []),
        // GID 0 is root's group on Linux and wheel on macOS: files and sockets open to it are root's.
        'gid=$(id -g "$user")',
        'if [ "$gid" -eq 0 ]; then refuse "its primary group is GID 0, the group of root"; fi',
        ...platform.groupChecks,
        // sudo -l -U evaluates the sudoers policy itself: rules for the user, for its groups
        // (%wheel, %sudo, %admin) and drop-ins such as cloud-init's 90-cloud-init-users.
        // Output that says neither yes nor no (a broken sudoers file, an unknown sudo) is
        // refused rather than guessed at. LC_ALL=C keeps the messages in English.
        "if command -v sudo >/dev/null 2>&1; then",
        '  rights=$(LC_ALL=C sudo -n -l -U "$user" 2>&1) || true',
        '  case "$rights" in',
        '    *"may run the following commands"*) refuse "sudo -l -U $user lists commands it may run with sudo";;',
        '    *"is not allowed to run sudo"*) ;;',
        '    *) refuse "sudo -l -U $user gave no clear answer: $rights";;',
        "  esac",
        "else",
        '  echo "sudo is not installed: $user has no sudo rights"',
        "fi",
        'echo "OS user $user is unprivileged: UID $uid, no privileged group, no sudo rights"',
    ];
}

/**
 * The guard installer, then the user script: the user is created (or checked) only once the
 * installer has succeeded, because `set -e` stops the step at the installer's first failure.
 * So no Run As user, and hence no partner session (Run As never falls back to another user),
 * exists on an instance before its metadata service is closed to non-root users, whatever
 * the order in which the user data and State Manager's associations happen to run.
 */
function guardedUserScript(guardInstall: readonly string[], platform: UserPlatform, users: (platform: UserPlatform) => string[] = osUserScript): string[] {
    return [
        ...guardInstall,
        "# The metadata service is now closed to every user but root (set -e stopped the step otherwise): only now may a Run As user exist.",
        ...users(platform),
    ];
}

const LINUX_USER: UserPlatform = {
    // useradd picks a UID from UID_MIN (1000) up and adds no group beyond --gid users.
    // No subordinate UIDs or GIDs (which useradd gives where /etc/subuid exists): with them the user
    // could run processes under other UIDs in a user namespace, out of reach of a kill by its own.
    // Its home is its own (0700): every partner's user is in the group users, and useradd makes
    // homes readable by the group or by everyone (Debian 0755, Ubuntu 0750) unless told otherwise.
    create: [
        `  useradd --create-home --gid users --shell /bin/bash --comment "${RUN_AS_OS_USER_COMMENT}" -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"`,
        '  chmod 0700 "$(getent passwd "$user" | cut -d: -f6)"',
    ],
    // -r removes its home directory and mail spool too.
    remove: ['  userdel -r "$user"'],
    minUid: 1000,
    minUidReason: "the range below UID_MIN 1000 belongs to system accounts and daemons",
    // login.defs' UID_MAX, 60000 on Amazon Linux, RHEL, Debian and Ubuntu, caps the UIDs useradd
    // gives regular users. Above it live accounts that are not regular users: systemd's dynamic
    // users (61184-65519), nobody (65534, which NFS maps unknown and root-squashed users to, so
    // it owns files others rely on), 4294967294 (-2, nfsnobody on older systems), and the
    // subordinate ranges of user namespaces (100000 up, /etc/subuid), which map container root.
    uidBound: {
        value: 60000,
        reason: "regular users get UIDs below login.defs UID_MAX 60000; above it live nobody (65534), systemd's dynamic users and user-namespace ranges",
    },
    groupChecks: [
        // Subordinate UIDs or GIDs (by name or by UID) let the user run processes under other UIDs in
        // a user namespace, out of reach of the end of its access. New users get none (above).
        'if grep -qE "^($user|$uid):" /etc/subuid /etc/subgid 2>/dev/null; then refuse "it has subordinate UID or GID ranges (/etc/subuid, /etc/subgid): in a user namespace it could run processes under other UIDs"; fi',
        // Groups that grant root in all but name are many (docker, lxd and libvirt start
        // privileged containers or VMs, disk reads raw block devices, root and shadow read
        // secrets, wheel/sudo/admin grant sudo, adm reads every log), and images add their own.
        // So a Run As user has no supplementary group at all: its primary group (users, which
        // useradd gives it, or its own private group) and nothing else.
        'primary=$(id -gn "$user")',
        'groups=$(id -Gn "$user")',
        "for group in $groups; do",
        '  case "$group" in wheel|sudo|admin|adm) refuse "it is a member of the administrative group $group";; esac',
        '  if [ "$group" != "$primary" ]; then refuse "it is a member of the group $group besides its primary group $primary: a Run As user has no supplementary group, since groups such as docker, lxd, disk or root give root-equivalent rights"; fi',
        "done",
        'case "$primary" in',
        '  users|"$user") ;;',
        '  *) refuse "its primary group is $primary, neither users nor its own group $user: a shared primary group such as docker or disk gives the rights of that group";;',
        "esac",
    ],
};

const MACOS_USER: UserPlatform = {
    create: [
        // The next free UniqueID, but never below 501, the first regular account.
        "  uid=$(( $(dscl . -list /Users UniqueID | awk '{print $2}' | sort -n | tail -1) + 1 ))",
        '  if [ "$uid" -lt 501 ]; then uid=501; fi',
        '  dscl . -create "/Users/$user"',
        '  dscl . -create "/Users/$user" UserShell /bin/zsh',
        `  dscl . -create "/Users/$user" RealName "${RUN_AS_OS_USER_COMMENT}"`,
        '  dscl . -create "/Users/$user" UniqueID "$uid"',
        '  dscl . -create "/Users/$user" PrimaryGroupID 20',
        '  dscl . -create "/Users/$user" NFSHomeDirectory "/Users/$user"',
        "  # No password: the account cannot log in except through Session Manager.",
        '  dscl . -create "/Users/$user" Password "*"',
        '  createhomedir -c -u "$user" >/dev/null',
    ],
    // The record, then the home directory createhomedir made (the name has no / or ..: allowedPattern).
    remove: ['  dscl . -delete "/Users/$user" && rm -rf "/Users/$user"'],
    // macOS numbers its first regular (console) user 501; UIDs up to 500 are system
    // accounts (the _-prefixed daemons), and nobody is -2.
    minUid: 501,
    minUidReason: "macOS system accounts live below 501, the first regular user",
    // dseditgroup resolves nested groups, which a look at the admin group's members would miss.
    // macOS puts every user in many groups of its own (staff, everyone, com.apple.*), so the
    // Linux rule of no supplementary group does not carry over.
    groupChecks: [
        'if dseditgroup -o checkmember -m "$user" admin >/dev/null 2>&1; then refuse "it is a member of the admin group (a macOS administrator)"; fi',
    ],
};

const LINUX_CREATE_USER = guardedUserScript(METADATA_GUARD_INSTALL, LINUX_USER);

/** The Linux list step's user part, without the guard before it: what runs once the guard is in place (the tests run it on a real system). */
export function linuxOsUsersScript(): string[] {
    return osUsersScript(LINUX_USER);
}
const MACOS_CREATE_USER = guardedUserScript(MACOS_METADATA_GUARD_INSTALL, MACOS_USER);

// Run As does not exist on Windows: sessions there run as ssm-user, a local administrator.
// Failing the step makes the association report the instance instead of skipping it quietly.
const windowsRefuse = (variable: string, parameter: string) => [
    readParameterPowerShell(variable, parameter),
    `[Console]::Error.WriteLine("Run As is Linux and macOS only: this Windows instance gets no OS user $${variable}, and Session Manager sessions on it run as ssm-user, a local administrator. Do not open Windows instances to third parties.")`,
    "exit 1",
];
const WINDOWS_REFUSE = windowsRefuse("user", "userName");

/**
 * Command document that creates one unprivileged OS user, idempotently, on Linux
 * (useradd) or macOS (dscl), each step chosen by platform precondition, and refuses any
 * name that is reserved or belongs to a privileged account (removing the user again if
 * this run created it). Each step first installs and applies the metadata guard, and
 * creates no user if that fails. On Windows, where Run As does not exist, it fails.
 */
export function createOsUserDocument() {
    return {
        schemaVersion: "2.2",
        description:
            "Closes the instance metadata service to non-root users, then creates an unprivileged OS user for Session Manager Run As if it does not exist; refuses reserved names and privileged accounts. Managed by Pulumi (third-party-ssm-access).",
        parameters: {
            userName: envVarParameter("OS user to create; never root or an administrator.", OS_USER_NAME_PATTERN),
        },
        mainSteps: [
            {
                action: "aws:runShellScript",
                name: "createLinuxUser",
                precondition: { StringEquals: ["platformType", "Linux"] },
                inputs: { runCommand: LINUX_CREATE_USER },
            },
            {
                action: "aws:runShellScript",
                name: "createMacOsUser",
                precondition: { StringEquals: ["platformType", "MacOS"] },
                inputs: { runCommand: MACOS_CREATE_USER },
            },
            {
                action: "aws:runPowerShellScript",
                name: "refuseWindows",
                precondition: { StringEquals: ["platformType", "Windows"] },
                inputs: { runCommand: WINDOWS_REFUSE },
            },
        ],
    };
}

/**
 * The same document for a list of users (`userNames`, names of the partners' namespace
 * separated by single spaces): per-person Run As creates a partner's people in one
 * association, whatever their number (State Manager allows 2,000 associations per account
 * and region, not raised on request). Every user gets the same checks; one refused fails
 * the step, naming it, and leaves the others created.
 */
export function createOsUsersDocument() {
    const single = createOsUserDocument();
    const steps: Record<string, string[]> = {
        createLinuxUser: guardedUserScript(METADATA_GUARD_INSTALL, LINUX_USER, osUsersScript),
        createMacOsUser: guardedUserScript(MACOS_METADATA_GUARD_INSTALL, MACOS_USER, osUsersScript),
        refuseWindows: windowsRefuse("users", "userNames"),
    };
    return {
        ...single,
        description:
            "Closes the instance metadata service to non-root users, then creates each of a list of unprivileged OS users for Session Manager Run As if missing; refuses reserved names and privileged accounts. Managed by Pulumi (third-party-ssm-access).",
        parameters: {
            userNames: envVarParameter("OS users to create, separated by single spaces; never root or an administrator.", END_OS_USERS_PATTERN),
        },
        mainSteps: single.mainSteps.map((step) => ({ ...step, inputs: { runCommand: steps[step.name] } })),
    };
}
