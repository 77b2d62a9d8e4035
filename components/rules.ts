// The security rules on single values, each defined once. Pure: the stack config
// (stacks/config) checks every key with them before any resource is registered, and
// each component checks its own arguments with the same rules (see guard.ts), so a
// component used from another project, or another language, guards itself.

import { parseCidr, subnetPrefix } from "./cidr";
import {
    OS_USER_NAME_PATTERN,
    PARTNER_OS_USER_PATTERN,
    PARTNER_OS_USER_PREFIX,
    PERSON_OS_USER_SEPARATOR,
    RESERVED_OS_USERS,
    RUN_AS_TAG_KEY,
    personOsUser,
} from "./constants";

/** A rule on one value: what it accepts, in words, and what is wrong with a value (undefined when accepted). */
export interface Rule<T> {
    /** What is accepted, as error messages end: "accepted: <this>". */
    readonly accepted: string;
    /** The problem with `value` ("got ...; accepted: ..."), or undefined when the value is accepted. */
    problem(value: T): string | undefined;
}

/** A short rendering of a received value for error messages. */
export function show(value: unknown): string {
    if (value === undefined) return "nothing";
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** A string rule: matches `pattern`, then passes `refuse` (which may refuse a well-formed value with a reason of its own). */
export function textRule(pattern: RegExp, accepted: string, refuse?: (value: string) => string | undefined): Rule<string> {
    return {
        accepted,
        problem: (value) => {
            if (typeof value !== "string" || !pattern.test(value)) return `got ${show(value)}; accepted: ${accepted}`;
            const reason = refuse?.(value);
            return reason === undefined ? undefined : `got ${show(value)}, ${reason}; accepted: ${accepted}`;
        },
    };
}

/** A whole number from `min` to `max`. */
export function integerRule(min: number, max: number, unit: string): Rule<number> {
    const accepted = `a whole number of ${unit} from ${min} to ${max}`;
    return {
        accepted,
        problem: (value) => (Number.isInteger(value) && value >= min && value <= max ? undefined : `got ${show(value)}; accepted: ${accepted}`),
    };
}

/** One of a fixed set of values. */
export function oneOfRule<T extends string | number>(values: readonly T[], accepted: string): Rule<T> {
    return { accepted, problem: (value) => (values.includes(value) ? undefined : `got ${show(value)}; accepted: ${accepted}`) };
}

export const ACCOUNT_ID = textRule(/^\d{12}$/, 'a 12-digit AWS account id, quoted so leading zeros stay, e.g. "123456789012"');

/**
 * Partner names are IAM tag values (on the grant role and the instances): letters, digits,
 * spaces and _ . : / = + - @, 1 to 256 characters. "::" is refused as well: the name becomes
 * part of Pulumi resource names, where "::" separates URN parts.
 */
export const PARTNER_NAME = textRule(
    /^(?!.*::)(?! )(?!.* $)[\p{L}\p{N} _.:/=+\-@]{1,256}$/u,
    'a name usable as an IAM tag value: 1-256 letters, digits, spaces and _ . : / = + - @ (no leading or trailing space, no "::")',
);

/** OS users a session may run as: a Linux user name, never one that has root or sudo on common AMIs. */
export const OS_USER = textRule(
    new RegExp(OS_USER_NAME_PATTERN),
    `an unprivileged Linux user name matching ${OS_USER_NAME_PATTERN}, other than ${RESERVED_OS_USERS.join(", ")}`,
    (name) => ((RESERVED_OS_USERS as readonly string[]).includes(name) ? "which has root or sudo on common AMIs" : undefined),
);

/**
 * A partner's Run As user: in the program's namespace (PARTNER_OS_USER_PREFIX), so it is never
 * an account something else created; Session Manager would run as that account, privileged or not.
 */
export const PARTNER_OS_USER = textRule(
    new RegExp(PARTNER_OS_USER_PATTERN),
    `a Linux user name in this program's namespace: "${PARTNER_OS_USER_PREFIX}" then 1-24 lowercase letters, digits, _ and - (e.g. "${PARTNER_OS_USER_PREFIX}a_alice")`,
);

/** The Run As user of principals without a Run As tag: unprivileged, and outside the partners' namespace, which offboarding manages. */
export const DEFAULT_RUN_AS_USER = textRule(new RegExp(OS_USER_NAME_PATTERN), OS_USER.accepted + `, not beginning with "${PARTNER_OS_USER_PREFIX}"`, (name) =>
    OS_USER.problem(name) !== undefined
        ? "which has root or sudo on common AMIs"
        : name.startsWith(PARTNER_OS_USER_PREFIX)
          ? `which is in the partners' namespace (offboarding ends any user there that no partner is granted)`
          : undefined,
);

/** Linux allows user names of at most this many characters. */
const OS_USER_MAX_LENGTH = 32;

/** The shortest person's name: a source identity has at least 2 characters. */
const PERSON_NAME_MIN_LENGTH = 2;

/**
 * A per-person partner's base name: in the namespace, without the separator (so one partner's
 * people can never be named as another's), leaving room for a person's name within 32 characters.
 */
export const PER_PERSON_OS_USER_BASE = textRule(
    new RegExp(`^${PARTNER_OS_USER_PREFIX}[a-z0-9_]{1,${OS_USER_MAX_LENGTH - PARTNER_OS_USER_PREFIX.length - 1 - PERSON_NAME_MIN_LENGTH}}$`),
    `"${PARTNER_OS_USER_PREFIX}" then 1-21 lowercase letters, digits and _, without "${PERSON_OS_USER_SEPARATOR}" (it separates the person's name), e.g. "${PARTNER_OS_USER_PREFIX}a"`,
);

/**
 * A person's name under per-person Run As: their source identity (the IAM user name, or what the
 * identity provider sets), which becomes part of a Linux user name, so lowercase letters, digits
 * and _ only: no "-" (the separator), no capitals (Linux names are case-sensitive, IAM's are not).
 */
export const RUN_AS_PERSON_NAME = textRule(
    new RegExp(`^[a-z0-9_]{${PERSON_NAME_MIN_LENGTH},64}$`),
    "a person's name as their source identity and in their OS user name: 2 or more lowercase letters, digits and _",
);

/** What is wrong with per-person Run As as a whole, by argument: the base name, each person, and the source identity it is bound to. */
export function perPersonRunAsProblems(args: {
    osUser: string;
    people: readonly string[];
    requireSourceIdentity: boolean;
}): Array<{ argument: string; problem: string }> {
    const problems: Array<{ argument: string; problem: string }> = [];
    const baseProblem = PER_PERSON_OS_USER_BASE.problem(args.osUser);
    if (baseProblem !== undefined)
        problems.push({ argument: "osUser", problem: `${baseProblem} (with per-person Run As it is the base of each person's OS user)` });
    if (!args.requireSourceIdentity)
        problems.push({
            argument: "requireSourceIdentity",
            problem:
                "is false with per-person Run As; accepted: true (each person's OS user is bound to their source identity, which the trust must then require)",
        });
    if (args.people.length === 0)
        problems.push({ argument: "people", problem: "is missing or empty with per-person Run As; accepted: the names of the people who connect" });
    for (const { index, problem } of personNameProblems(args.osUser, args.people)) problems.push({ argument: `people[${index}]`, problem });
    return problems;
}

/** What is wrong with each person's name under per-person Run As with `base`: its form, a repeat, and the length of the OS user it gives. */
export function personNameProblems(base: string, people: readonly string[]): Array<{ index: number; problem: string }> {
    const problems: Array<{ index: number; problem: string }> = [];
    const baseValid = PER_PERSON_OS_USER_BASE.problem(base) === undefined;
    const seen = new Set<string>();
    people.forEach((person, index) => {
        const osUser = personOsUser(base, person);
        const problem = RUN_AS_PERSON_NAME.problem(person);
        if (problem !== undefined) problems.push({ index, problem });
        else if (seen.has(person)) problems.push({ index, problem: `got "${person}" twice; accepted: each person once` });
        else if (baseValid && osUser.length > OS_USER_MAX_LENGTH)
            problems.push({
                index,
                problem: `got "${person}", which makes the OS user "${osUser}" of ${osUser.length} characters; accepted: a name of at most ${OS_USER_MAX_LENGTH - base.length - 1} characters with this base (Linux allows ${OS_USER_MAX_LENGTH})`,
            });
        seen.add(person);
    });
    return problems;
}

/**
 * An OS user inside a per-person partner's names (`<base>-...`), other than that partner's own
 * people: the partner's administrator, who sets its people's source identities, could obtain it.
 */
export function perPersonNamespaceProblem(osUser: string, perPersonBases: readonly string[]): string | undefined {
    const base = perPersonBases.find((b) => osUser.startsWith(`${b}${PERSON_OS_USER_SEPARATOR}`));
    return base === undefined
        ? undefined
        : `got "${osUser}", inside the names of the per-person partner with base "${base}" (its administrator sets its people's source identities, so could run as this user); accepted: a name not beginning "${base}${PERSON_OS_USER_SEPARATOR}"`;
}

/** IAM role names: 1-64 characters. */

/** IAM role names: 1-64 characters. */
export const ROLE_NAME = textRule(/^[\w+=,.@-]{1,64}$/, "an IAM role name: 1-64 characters of letters, digits and _ + = , . @ -");

/** IAM group names: 1-128 characters. */
export const GROUP_NAME = textRule(/^[\w+=,.@-]{1,128}$/, "an IAM group name: 1-128 letters, digits and _ + = , . @ -");

/**
 * IAM user names of the partner's people; at least 2 characters because the name is also the
 * source identity (2-64). No comma, though IAM allows one: the name is the role session name,
 * and Session Manager tags a session with its session id only when the id has no comma, so
 * that person could not end or resume their own sessions.
 */
export const PERSON_NAME = textRule(
    /^[\w+=.@-]{2,64}$/,
    "an IAM user name that can also be a source identity: 2-64 letters, digits and _ + = . @ - (no comma)",
);

/** A rule's check whose message never shows the value: for secrets, which must not reach a log. */
export function secretProblem<T>(rule: Rule<T>): (value: T) => string | undefined {
    return (value) => (rule.problem(value) === undefined ? undefined : `is not accepted (a secret, so its value is not shown); accepted: ${rule.accepted}`);
}

/** External ids as STS accepts them. Check with `secretProblem(EXTERNAL_ID)`: an external id is a secret. */
export const EXTERNAL_ID = textRule(/^[\w+=,.@:/-]{2,1224}$/, "2-1224 characters of letters, digits and _ + = , . @ : / - (no spaces)");

const PARTITION = "(aws|aws-cn|aws-us-gov)";
const IAM_PATH_AND_NAME = "([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}";

/**
 * Principals a grant may trust: one IAM role or user by ARN. Never a wildcard, an account
 * root (which would let the partner's administrator hand the grant to anyone in its account)
 * or a service.
 */
export const PRINCIPAL_ARN = textRule(
    new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(role|user)/${IAM_PATH_AND_NAME}$`),
    'an IAM role or user ARN (no wildcard, not an account root), e.g. "arn:aws:iam::123456789012:role/3P_IAM_Assume_Role"',
);

/** One IAM role by ARN. */
export const ROLE_ARN = textRule(
    new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/${IAM_PATH_AND_NAME}$`),
    'an IAM role ARN, e.g. "arn:aws:iam::123456789012:role/SSMStartSession_IAM_Role_Third_Party_A"',
);

/** An IAM managed policy by ARN, customer-managed or AWS-managed (a permissions boundary). */
export const POLICY_ARN = textRule(
    new RegExp(`^arn:${PARTITION}:iam::(\\d{12}|aws):policy/${IAM_PATH_AND_NAME}$`),
    'an IAM managed policy ARN, e.g. "arn:aws:iam::123456789012:policy/ThirdPartyAccessBoundary"',
);

/** The account an IAM ARN is in. */
export function arnAccount(arn: string): string {
    return arn.split(":")[4];
}

/** A principal of the partner's own account: a valid principal ARN, in `accountId`. */
export function partnerPrincipalProblem(arn: string, accountId: string): string | undefined {
    const problem = PRINCIPAL_ARN.problem(arn);
    if (problem !== undefined) return problem;
    const account = arnAccount(arn);
    return account === accountId ? undefined : `got "${arn}" in account ${account}; accepted: a principal in the partner's account ${accountId}`;
}

const TIMESTAMP_ACCEPTED = 'an ISO 8601 timestamp with a time zone, e.g. "2027-03-31T23:59:59Z"';

/** Instants (expiry, revocation): ISO 8601 with a time zone, and a real date and time. */
export const TIMESTAMP = textRule(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, TIMESTAMP_ACCEPTED, (value) =>
    isRealTimestamp(value) ? undefined : "which is not a real date and time",
);

// Date.parse rolls 2027-02-30 over to March; check the calendar date and clock fields themselves.
function isRealTimestamp(value: string): boolean {
    const date = value.slice(0, 10);
    const [hours, minutes, seconds = 0] = value.slice(11).split(/[Z+-]/)[0].split(":").map(Number);
    const calendar = new Date(`${date}T00:00:00Z`);
    return !Number.isNaN(calendar.getTime()) && calendar.toISOString().startsWith(date) && hours < 24 && minutes < 60 && seconds < 60;
}

/** A valid timestamp (or milliseconds since the epoch) in the one form IAM conditions compare: UTC, whole seconds ("2027-03-31T23:59:59Z"). */
export function utcTimestamp(value: string | number): string {
    return new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The instance tag key naming the partner allowed on an instance (ABAC). An EC2 tag key
 * ("aws:" is reserved) of plain characters, since it also appears inside IAM condition keys
 * and policy variables; never the Run As tag key, which Session Manager reads for the OS user.
 */
export const ACCESS_TAG_KEY = textRule(
    /^(?!aws:)[A-Za-z0-9_.:/=+\-@]{1,128}$/i,
    `an EC2 tag key: 1-128 letters, digits and _ . : / = + - @, not starting with "aws:" and not ${RUN_AS_TAG_KEY}`,
    (key) => (key.toLowerCase() === RUN_AS_TAG_KEY.toLowerCase() ? "which Session Manager reserves for the Run As user" : undefined),
);

/** Retention values CloudWatch Logs accepts; 0 keeps events forever. */
export const LOG_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Log retention in days, as CloudWatch Logs accepts it. */
export const LOG_RETENTION = oneOfRule<number>(LOG_RETENTION_DAYS, `one of ${LOG_RETENTION_DAYS.join(", ")} days (0 = never expire)`);

/** Minutes of inactivity before Session Manager ends a session. */
export const IDLE_TIMEOUT_MINUTES = integerRule(1, 60, "minutes");

/** Longest session Session Manager allows, in minutes. */
export const MAX_SESSION_DURATION_MINUTES = integerRule(1, 1440, "minutes");

/** Days an archived transcript is locked (S3 Object Lock default retention). */
export const ARCHIVE_RETENTION_DAYS = integerRule(1, 36_500, "days");

/** A KMS key by ARN (single- or multi-Region key). */
export const KMS_KEY_ARN = textRule(
    new RegExp(
        `^arn:${PARTITION}:kms:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d:\\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`,
    ),
    'a KMS key ARN, e.g. "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
);

/** A key must be in the log group's region: CloudWatch Logs uses keys of its own region only. */
export function kmsKeyRegionProblem(keyArn: string, region: string): string | undefined {
    const keyRegion = keyArn.split(":")[3];
    return keyRegion === region
        ? undefined
        : `got a key in ${keyRegion}; accepted: a key in ${region}, this stack's region (CloudWatch Logs uses keys of its own region only)`;
}

/** An S3 bucket name (general purpose buckets). */
export const BUCKET_NAME = textRule(
    /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
);

/** The archive settings that apply only to a bucket the component creates. */
export const CREATED_ARCHIVE_SETTINGS = [
    "archiveRetentionDays",
    "archiveRetentionMode",
    "archiveTransitionDays",
    "archiveTransitionStorageClass",
    "archiveExpirationDays",
] as const;

/**
 * A key or bucket of your own, with the switches it implies: each problem with the argument
 * it belongs to. `settingsGiven` lists which of CREATED_ARCHIVE_SETTINGS were set.
 */
export function bringYourOwnProblems(args: {
    kmsEncryption?: boolean;
    existingKey: boolean;
    s3Archive?: boolean;
    existingBucket: boolean;
    settingsGiven: string[];
}): Array<{ argument: string; problem: string }> {
    const problems: Array<{ argument: string; problem: string }> = [];
    if (args.existingKey && args.kmsEncryption === false)
        problems.push({
            argument: "kmsEncryption",
            problem: "is false with a key of your own; accepted: true, or left out (a key of your own turns encryption on)",
        });
    if (args.existingBucket && args.s3Archive === false)
        problems.push({
            argument: "s3Archive",
            problem: "is false with a bucket of your own; accepted: true, or left out (a bucket of your own turns the archive on)",
        });
    if (args.existingBucket)
        for (const setting of args.settingsGiven)
            problems.push({
                argument: setting,
                problem: "is set with a bucket of your own; accepted: left out (the lock, lifecycle and logging of your bucket are yours to set on it)",
            });
    return problems;
}

/** An email address subscribed to alerts. */
export const ALERT_EMAIL = textRule(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address, e.g. "security@example.com"');

/** An HTTPS endpoint subscribed to alerts (SNS delivers over HTTPS only to these). */
export const ALERT_HTTPS_ENDPOINT = textRule(/^https:\/\/[^\s/]+(\/\S*)?$/, 'an https:// URL, e.g. "https://hooks.example.com/sns"');

/** How recent a person's MFA sign-in must be to assume the jump role: the span of a GetSessionToken session, 15 minutes to 36 hours. */
export const MFA_MAX_AGE_SECONDS = integerRule(900, 129_600, "seconds");

/** MFA settings as a whole: required of IAM users only, and a maximum age only with MFA required. */
export function mfaProblems(settings: {
    requireMfa: boolean;
    mfaMaxAgeSeconds?: number;
    federated: boolean;
}): Array<{ argument: "requireMfa" | "mfaMaxAgeSeconds"; problem: string }> {
    const problems: Array<{ argument: "requireMfa" | "mfaMaxAgeSeconds"; problem: string }> = [];
    if (settings.requireMfa && settings.federated)
        problems.push({
            argument: "requireMfa",
            problem:
                "is true with federatedPrincipalArn; accepted: MFA required of IAM users only (a federated principal's identity provider enforces its own MFA, see docs/partners.md)",
        });
    if (!settings.requireMfa && settings.mfaMaxAgeSeconds !== undefined)
        problems.push({
            argument: "mfaMaxAgeSeconds",
            problem: "is set without MFA required; accepted: MFA required (requireMfa, or mfa.required in the stack config) with it, or neither",
        });
    return problems;
}

/** Days after which an archived transcript moves to a colder storage class, or expires. */
export const ARCHIVE_LIFECYCLE_DAYS = integerRule(1, 36_500, "days");

/** S3 refuses a transition to STANDARD_IA sooner than this many days after creation. */
const STANDARD_IA_MINIMUM_DAYS = 30;

/** The archive's lifecycle as a whole: each problem with the argument (or config key under `sessions.`) it belongs to. */
export function archiveLifecycleProblems(lifecycle: {
    retentionDays: number;
    transitionDays: number;
    storageClass: string;
    expirationDays?: number;
}): Array<{ argument: "archiveTransitionDays" | "archiveExpirationDays"; problem: string }> {
    const problems: Array<{ argument: "archiveTransitionDays" | "archiveExpirationDays"; problem: string }> = [];
    const { retentionDays, transitionDays, storageClass, expirationDays } = lifecycle;
    if (storageClass === "STANDARD_IA" && transitionDays < STANDARD_IA_MINIMUM_DAYS)
        problems.push({
            argument: "archiveTransitionDays",
            problem: `got ${transitionDays}, too soon for STANDARD_IA; accepted: ${STANDARD_IA_MINIMUM_DAYS} days or more (S3's minimum for that class)`,
        });
    if (expirationDays !== undefined && expirationDays < retentionDays)
        problems.push({
            argument: "archiveExpirationDays",
            problem: `got ${expirationDays}, sooner than the ${retentionDays} days each transcript is locked (archiveRetentionDays): S3 could not delete them, only hide them; accepted: ${retentionDays} days or more`,
        });
    if (expirationDays !== undefined && expirationDays <= transitionDays)
        problems.push({
            argument: "archiveExpirationDays",
            problem: `got ${expirationDays}, not after the transition on day ${transitionDays} (archiveTransitionDays); accepted: a number of days greater than archiveTransitionDays`,
        });
    return problems;
}

/** CloudWatch Logs group names. */
export const LOG_GROUP_NAME = textRule(/^[\w.\-/#]{1,512}$/, "a CloudWatch Logs group name: 1-512 of letters, digits and _ - / . #");

/** Instance names: the Name tag and part of Pulumi resource names. */
export const INSTANCE_NAME = textRule(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, "1-63 letters, digits, _ and -, starting with a letter or digit");

/** EC2 instance types. */
export const INSTANCE_TYPE = textRule(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type, e.g. "t3.micro"');

const CIDR_ACCEPTED = 'an IPv4 network in CIDR notation with a prefix from /16 to /28, e.g. "10.24.34.0/23"';

/** The VPC network: an aligned IPv4 network from /16 to /28. */
export const VPC_CIDR = textRule(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, CIDR_ACCEPTED, (cidr) => {
    const parsed = parseCidr(cidr);
    if (parsed === undefined) return "which is not a network from /16 to /28";
    return parsed.aligned ? undefined : `whose address is not the start of its network ("${parsed.network}" is)`;
});

/** A VPC network split into one subnet per zone: each at least a /28, the smallest AWS allows. */
export function subnetSplitProblem(vpcCidr: string, zoneCount: number): string | undefined {
    const parsed = parseCidr(vpcCidr);
    if (parsed === undefined) return undefined; // VPC_CIDR reports it
    if (zoneCount < 1) return "is empty; accepted: at least one availability zone";
    return subnetPrefix(parsed.prefix, zoneCount) > 28
        ? `got ${zoneCount} zones, which split ${vpcCidr} into subnets smaller than /28; accepted: fewer zones, or a larger network`
        : undefined;
}
