// Names and values in one place: those AWS fixes (changing them breaks Session
// Manager) and this project's defaults (which the blog post used and config may
// override). Components and stacks import them; nothing else spells them out.

/** The Session Manager preferences document. AWS fixes this name: sessions started without `--document-name`, and console sessions, always use it. */
export const SESSION_PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell";

/**
 * Session documents AWS owns (their ARNs name no account): port forwarding, SSH and
 * commands. Fixed by AWS. A grant allows none of them; the review and the live check try each.
 */
export const AWS_SESSION_DOCUMENTS = {
    portForwarding: "AWS-StartPortForwardingSession",
    portForwardingToRemoteHost: "AWS-StartPortForwardingSessionToRemoteHost",
    ssh: "AWS-StartSSHSession",
    interactiveCommand: "AWS-StartInteractiveCommand",
    nonInteractiveCommand: "AWS-StartNonInteractiveCommand",
} as const;

/** The Run Command document that runs a shell script. Fixed by AWS. */
export const RUN_SHELL_SCRIPT_DOCUMENT = "AWS-RunShellScript";

/** The IAM principal tag Session Manager reads to choose the Run As OS user. Fixed by AWS. */
export const RUN_AS_TAG_KEY = "SSMSessionRunAs";

/** The public SSM parameter naming the latest Amazon Linux 2023 AMI (x86_64). Amazon Linux 2 reached end of support on 2026-06-30. */
export const DEFAULT_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/** Default instance tag key whose value names the partner allowed on the instance (ABAC). */
export const DEFAULT_ACCESS_TAG_KEY = "ExternalAccessGrantedTo";

/** Default unprivileged OS user for sessions by principals without an `SSMSessionRunAs` tag. */
export const DEFAULT_OS_USER = "no_sudo_user";

/** Default name of the CloudWatch Logs group that receives session transcripts. */
export const DEFAULT_SESSION_LOG_GROUP = "SSMSessionManager_LogGroup";

/** Prefix of the default grant role name; the partner name follows it. */
export const GRANT_ROLE_NAME_PREFIX = "SSMStartSession_IAM_Role_";

/** Default name of the third party's local role that assumes the grant role. */
export const DEFAULT_JUMP_ROLE_NAME = "3P_IAM_Assume_Role";

/** Default name of the third party's IAM group whose members may assume the jump role. */
export const DEFAULT_REMOTE_ACCESS_GROUP = "GroupRemoteAccess";

/** How recent a person's MFA sign-in must be to assume the jump role, when MFA is required: 12 hours, a working day. */
export const DEFAULT_MFA_MAX_AGE_SECONDS = 43_200;

/** The default grant role name for a partner. */
export function defaultGrantRoleName(partnerName: string): string {
    return `${GRANT_ROLE_NAME_PREFIX}${partnerName}`;
}

/**
 * OS users sessions must never run as: root, and the accounts that AMIs and cloud-init
 * create with sudo (`90-cloud-init-users` gives `ec2-user`, `ubuntu`, `admin` and the like
 * passwordless sudo). The provisioning script refuses any other privileged user on the
 * instance itself; this list lets config and components refuse the known ones early.
 */
export const RESERVED_OS_USERS = ["root", "ec2-user", "ssm-user", "ubuntu", "admin", "centos", "fedora", "cloud-user", "debian"] as const;

/** Linux user names Session Manager can run as; the provisioning document refuses anything else, so no input reaches a shell unchecked. */
export const OS_USER_NAME_PATTERN = "^[a-z_][a-z0-9_-]{0,31}$";

/**
 * Partners' OS users come from a namespace the program owns: their names begin with this
 * prefix (the blog's do too). Session Manager's Run As needs only that the user exists, so a
 * name someone else created (a privileged account) would be used as it is; in the namespace,
 * every user is this program's, and offboarding may end any of them not granted any more.
 */
export const PARTNER_OS_USER_PREFIX = "os_user_";

/** A partner's OS user: the namespace prefix, then 1-24 of a-z 0-9 _ - (32 characters at most, as Linux allows). */
export const PARTNER_OS_USER_PATTERN = `^${PARTNER_OS_USER_PREFIX}[a-z0-9_-]{1,24}$`;

/**
 * Per-person Run As: a person's OS user is the partner's base name, this separator, then the
 * person's name (their source identity). Neither a base nor a person's name may contain it, so
 * the name says whose it is: no partner, whatever source identity its administrator sets, can
 * name another partner's user, and no two people of one partner share one.
 */
export const PERSON_OS_USER_SEPARATOR = "-";

/** The OS user a person of a per-person partner runs as: `<base>-<person>`, e.g. `os_user_a-alice`. */
export function personOsUser(base: string, person: string): string {
    return `${base}${PERSON_OS_USER_SEPARATOR}${person}`;
}

/**
 * Longest session of a role assumed by another role (role chaining): AWS caps it at one
 * hour, and asking for more fails. The jump role, the grant role and the CLI profiles use it.
 */
export const ROLE_CHAIN_SESSION_SECONDS = 3600;

/** Default minutes of inactivity before a session ends. */
export const DEFAULT_IDLE_TIMEOUT_MINUTES = 20;

/** Default longest session, in minutes. */
export const DEFAULT_MAX_SESSION_DURATION_MINUTES = 60;

/** Default days session transcripts and VPC flow logs are kept in CloudWatch Logs. */
export const DEFAULT_LOG_RETENTION_DAYS = 7;

/** Default EC2 instance type of the instances a stack creates. */
export const DEFAULT_INSTANCE_TYPE = "t3.micro";

/** Default network of the private VPC, and how many zones it spans. */
export const DEFAULT_VPC_CIDR = "10.24.34.0/23";
export const DEFAULT_AVAILABILITY_ZONE_COUNT = 2;
