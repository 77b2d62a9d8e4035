// The one place stack config is read. It turns the project's config keys into
// typed, validated settings for either side, and throws one ConfigError listing
// every problem before the program registers any resource. Each problem names the
// key as a user types it for `pulumi config set --path` (e.g. `partners[1].accountId`),
// what was wrong, and what is accepted.

import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfigModule from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import {
    DEFAULT_ACCESS_TAG_KEY,
    DEFAULT_AMI_PARAMETER,
    DEFAULT_JUMP_ROLE_NAME,
    DEFAULT_OS_USER,
    DEFAULT_REMOTE_ACCESS_GROUP,
    DEFAULT_SESSION_LOG_GROUP,
    OS_USER_NAME_PATTERN,
    RESERVED_OS_USERS,
    RUN_AS_TAG_KEY,
    defaultGrantRoleName,
} from "../components/constants";
import { parseCidr, subnetPrefix } from "../components/cidr";
import { ARCHIVE_RETENTION_MODES, DEFAULT_ARCHIVE_RETENTION_DAYS, type ArchiveRetentionMode } from "../components/session-preferences";

// ---------------------------------------------------------------------------
// Errors

/** One problem in the stack config: the key path as typed for `pulumi config set --path`, and what is wrong. */
export interface ConfigIssue {
    /** Key path without the project namespace, e.g. `partners[1].accountId`. */
    path: string;
    /** What was wrong and what is accepted. */
    message: string;
}

/**
 * Invalid stack config. A RunError, so `pulumi up` prints the message without a
 * stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly issues: ConfigIssue[]) {
        super(
            `Invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n") +
                "\nFix with `pulumi config set --path <key> <value>` (add --secret for secrets), remove a key with `pulumi config rm --path <key>`, or edit Pulumi.<stack>.yaml.",
        );
        this.name = "ConfigError";
    }
}

// ---------------------------------------------------------------------------
// Leaf validators. Each error message says what was received and what is accepted.

function show(value: unknown): string {
    if (value === undefined) return "nothing";
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function accepting(accepted: string) {
    return {
        error: (issue: { input?: unknown }) =>
            issue.input === undefined ? `is required; accepted: ${accepted}` : `got ${show(issue.input)}; accepted: ${accepted}`,
    };
}

// `pulumi config set --path k 123` stores digits as a number; a string field takes it back as text.
function integersAsText(value: unknown): unknown {
    return typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
}

// A string matching `pattern`; `problem` may refuse a well-formed value with a message of its own.
function text(pattern: RegExp, accepted: string, problem?: (value: string) => string | undefined) {
    return z.preprocess(
        integersAsText,
        z.string(accepting(accepted)).superRefine((value, ctx) => {
            const message = pattern.test(value) ? problem?.(value) : `got ${show(value)}; accepted: ${accepted}`;
            if (message !== undefined) ctx.addIssue({ code: "custom", message });
        }),
    );
}

function integer(min: number, max: number, unit: string) {
    return z
        .int(accepting(`a whole number of ${unit} from ${min} to ${max}`))
        .min(min)
        .max(max);
}

function flag() {
    return z.boolean(accepting("true or false (unquoted)"));
}

function record<Shape extends z.ZodRawShape>(shape: Shape, what: string) {
    const keys = Object.keys(shape).join(", ");
    return z.strictObject(shape, {
        error: (issue) =>
            issue.code === "unrecognized_keys"
                ? `unknown key (a typo?); accepted keys here: ${keys}`
                : `got ${show(issue.input)}; accepted: ${what} with keys ${keys}`,
    });
}

function list<Item extends z.ZodType>(item: Item, what: string) {
    return z.array(item, accepting(`a list of ${what}`));
}

const ACCOUNT_ID = text(/^\d{12}$/, 'a 12-digit AWS account id, quoted so leading zeros stay, e.g. "123456789012"');

// IAM tag values: letters, digits, spaces and _ . : / = + - @, 1 to 256 characters.
// "::" is refused as well: the name becomes part of Pulumi resource names, where "::" separates URN parts.
const PARTNER_NAME = text(
    /^(?!.*::)(?! )(?!.* $)[\p{L}\p{N} _.:/=+\-@]{1,256}$/u,
    'a name usable as an IAM tag value: 1-256 letters, digits, spaces and _ . : / = + - @ (no leading or trailing space, no "::")',
);

const OS_USER_ACCEPTED = `an unprivileged Linux user name matching ${OS_USER_NAME_PATTERN}, other than ${RESERVED_OS_USERS.join(", ")}`;
const OS_USER = text(new RegExp(OS_USER_NAME_PATTERN), OS_USER_ACCEPTED, (name) =>
    (RESERVED_OS_USERS as readonly string[]).includes(name) ? `got "${name}", which has root or sudo on common AMIs; accepted: ${OS_USER_ACCEPTED}` : undefined,
);

const ROLE_NAME_ACCEPTED = "an IAM role name: 1-64 characters of letters, digits and _ + = , . @ -";
const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
const ROLE_NAME = text(ROLE_NAME_PATTERN, ROLE_NAME_ACCEPTED);

const EXTERNAL_ID = text(/^[\w+=,.@:/-]{2,1224}$/, "2-1224 characters of letters, digits and _ + = , . @ : / - (no spaces)");

const STACK_NAME = text(
    /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/,
    'a stack name, fully qualified as "<organization>/<project>/<stack>" (the local backend uses the organization "organization")',
);

const PARTITION = "(aws|aws-cn|aws-us-gov)";
const PRINCIPAL_ARN = text(
    new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(role|user)/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`),
    'an IAM role or user ARN, e.g. "arn:aws:iam::123456789012:role/3P_IAM_Assume_Role"',
);
const ROLE_ARN = text(
    new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`),
    'an IAM role ARN, e.g. "arn:aws:iam::123456789012:role/SSMStartSession_IAM_Role_Third_Party_A"',
);

const TIMESTAMP_ACCEPTED = 'an ISO 8601 timestamp with a time zone, e.g. "2027-03-31T23:59:59Z"';
const TIMESTAMP = text(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, TIMESTAMP_ACCEPTED, (value) =>
    isRealTimestamp(value) ? undefined : `got "${value}", which is not a real date and time; accepted: ${TIMESTAMP_ACCEPTED}`,
);

// Date.parse rolls 2027-02-30 over to March; check the calendar date and clock fields themselves.
function isRealTimestamp(value: string): boolean {
    const date = value.slice(0, 10);
    const [hours, minutes, seconds = 0] = value.slice(11).split(/[Z+-]/)[0].split(":").map(Number);
    const calendar = new Date(`${date}T00:00:00Z`);
    return !Number.isNaN(calendar.getTime()) && calendar.toISOString().startsWith(date) && hours < 24 && minutes < 60 && seconds < 60;
}

// Tag keys: 1-128 characters; "aws:" is reserved. The key also appears inside
// IAM condition keys and policy variables, so it keeps to the plain characters.
const TAG_KEY = text(/^(?!aws:)[A-Za-z0-9_.:/=+\-@]{1,128}$/i, 'an EC2 tag key: 1-128 letters, digits and _ . : / = + - @, not starting with "aws:"');

/** Retention values CloudWatch Logs accepts; 0 keeps events forever. */
export const LOG_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const RETENTION_ACCEPTED = `one of ${LOG_RETENTION_DAYS.join(", ")} days (0 = never expire)`;
const RETENTION = z.int(accepting(RETENTION_ACCEPTED)).superRefine((days, ctx) => {
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
        ctx.addIssue({ code: "custom", message: `got ${days}, which CloudWatch Logs does not accept; accepted: ${RETENTION_ACCEPTED}` });
    }
});

const CIDR_ACCEPTED = 'an IPv4 network in CIDR notation with a prefix from /16 to /28, e.g. "10.24.34.0/23"';
const CIDR = text(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, CIDR_ACCEPTED, (cidr) => {
    const parsed = parseCidr(cidr);
    if (parsed === undefined) return `got "${cidr}"; accepted: ${CIDR_ACCEPTED}`;
    return parsed.aligned ? undefined : `got "${cidr}", whose address is not the start of its network; accepted: "${parsed.network}"`;
});

// ---------------------------------------------------------------------------
// Schemas, one per side. Keys of the other side are unknown keys here.

const SIDES = ["yours", "their"] as const;
/** Which account a stack builds: `yours` owns the instances, `their` is a third party's. */
export type Side = (typeof SIDES)[number];

const partnerSchema = record(
    {
        name: PARTNER_NAME,
        accountId: ACCOUNT_ID,
        osUser: OS_USER,
        roleName: ROLE_NAME.optional(),
        jumpRoleName: ROLE_NAME.optional(),
        theirStack: STACK_NAME.optional(),
        principalArns: list(PRINCIPAL_ARN, "IAM role or user ARNs in the partner's account").min(1).optional(),
        externalId: EXTERNAL_ID.optional(),
        expiresAt: TIMESTAMP.optional(),
        revokeSessionsIssuedBefore: TIMESTAMP.optional(),
        requireSourceIdentity: flag().optional(),
    },
    "a partner",
);

const instanceSchema = record(
    {
        name: text(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, "1-63 letters, digits, _ and -, starting with a letter or digit"),
        partner: PARTNER_NAME.optional(),
        instanceType: text(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type, e.g. "t3.micro"').optional(),
        amiId: text(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, 'an AMI id, e.g. "ami-0123456789abcdef0"').optional(),
    },
    "an instance",
);

const networkSchema = record(
    {
        vpcCidr: CIDR.optional(),
        availabilityZoneCount: integer(1, 6, "availability zones").optional(),
        flowLogRetentionDays: RETENTION.optional(),
        vpcId: text(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a VPC id, e.g. "vpc-0123456789abcdef0"').optional(),
        subnetIds: list(text(/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a subnet id, e.g. "subnet-0123456789abcdef0"'), "subnet ids")
            .min(1)
            .optional(),
        reachesAwsThroughEndpoints: flag().optional(),
    },
    "network settings",
);

const sessionsSchema = record(
    {
        logGroupName: text(/^[\w.\-/#]{1,512}$/, "a CloudWatch Logs group name: 1-512 of letters, digits and _ - / . #").optional(),
        logRetentionDays: RETENTION.optional(),
        defaultOsUser: OS_USER.optional(),
        idleTimeoutMinutes: integer(1, 60, "minutes").optional(),
        maxSessionDurationMinutes: integer(1, 1440, "minutes").optional(),
        kmsEncryption: flag().optional(),
        s3Archive: flag().optional(),
        archiveRetentionDays: integer(1, 36_500, "days").optional(),
        archiveRetentionMode: z.enum(ARCHIVE_RETENTION_MODES, accepting(`one of ${ARCHIVE_RETENTION_MODES.join(", ")}`)).optional(),
        shellProfile: record(
            {
                linux: z.string(accepting("shell commands as a string")).min(1).optional(),
                windows: z.string(accepting("PowerShell commands as a string")).min(1).optional(),
            },
            "a shell profile",
        ).optional(),
        adoptExistingPreferences: flag().optional(),
    },
    "Session Manager settings",
);

const sideSchema = z.enum(SIDES, accepting('"yours" (the account with the instances) or "their" (a third party\'s account)'));

const yoursSchema = record(
    {
        side: sideSchema,
        accessTagKey: TAG_KEY.optional(),
        amiParameter: text(/^\/[\w.\-/]+$/, 'an SSM parameter name, e.g. "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"').optional(),
        network: networkSchema.optional(),
        sessions: sessionsSchema.optional(),
        instances: list(instanceSchema, "instances").optional(),
        partners: list(partnerSchema, "partners").optional(),
    },
    "your account's settings",
);

const userSchema = record(
    {
        // 2 characters at least: the user name is also the source identity, which needs 2-64.
        name: text(/^[\w+=,.@-]{2,64}$/, "an IAM user name that can also be a source identity: 2-64 letters, digits and _ + = , . @ -"),
        accessKeySerial: integer(1, 1_000_000, "rotations").optional(),
        // Kept in the schema only to explain why it is gone (see loadTheirSettings).
        sourceIdentity: z.unknown().optional(),
    },
    "a user",
);

const theirSchema = record(
    {
        side: sideSchema,
        partnerName: PARTNER_NAME,
        yoursAccountId: ACCOUNT_ID.optional(),
        yoursStack: STACK_NAME.optional(),
        grantRoleName: ROLE_NAME.optional(),
        grantRoleArn: ROLE_ARN.optional(),
        externalId: EXTERNAL_ID.optional(),
        groupName: text(/^[\w+=,.@-]{1,128}$/, "an IAM group name: 1-128 letters, digits and _ + = , . @ -").optional(),
        jumpRoleName: ROLE_NAME.optional(),
        users: list(userSchema, "IAM users").optional(),
        federatedPrincipalArn: ROLE_ARN.optional(),
        accessTagKey: TAG_KEY.optional(),
        yoursRegion: text(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'an AWS region name, e.g. "us-east-1"').optional(),
    },
    "a third party's settings",
);

// ---------------------------------------------------------------------------
// Typed settings

/** One third party granted access in your account. */
export interface PartnerSettings {
    /** Partner name; the value of the access tag on its instances and on its grant role. */
    name: string;
    /** The partner's AWS account id. */
    accountId: string;
    /** OS user its sessions run as (the grant role's `SSMSessionRunAs` tag). */
    osUser: string;
    /** Name of its grant role in your account. */
    grantRoleName: string;
    /** Name of the partner's jump role, used when no principal ARNs or stack reference are given. */
    jumpRoleName: string;
    /** Stack (in the same Pulumi organisation) whose output `jumpRoleArn` names the partner's principal. */
    theirStack?: string;
    /** The partner's principals given as plain config (when the partner is in another Pulumi organisation). */
    principalArns?: string[];
    /** External id the partner supplied (a secret); generated when absent. */
    externalId?: pulumi.Output<string>;
    /** End of access, normalised to UTC ("2027-03-31T23:59:59Z"). */
    expiresAt?: string;
    /** Credentials issued before this instant (UTC) are refused. */
    revokeSessionsIssuedBefore?: string;
    /** Whether assuming the grant role requires a source identity. */
    requireSourceIdentity: boolean;
}

/** A network the owner already has: the instances launch into its subnets. */
export interface ExistingNetworkSettings {
    vpcId: string;
    subnetIds: string[];
    /** The instances reach AWS only through VPC endpoints of this VPC, so their role's credentials perimeter can apply. */
    reachesAwsThroughEndpoints: boolean;
}

/** A managed instance this stack creates. */
export interface InstanceSettings {
    name: string;
    /** Partner named by the instance's access tag; absent for an untagged instance. */
    partner?: string;
    instanceType: string;
    /** Explicit AMI; otherwise the stack's AMI parameter decides. */
    amiId?: string;
}

/** Validated settings of a `yours` stack. */
export interface YoursSettings {
    side: "yours";
    accessTagKey: string;
    amiParameter: string;
    network: {
        vpcCidr: string;
        availabilityZoneCount: number;
        flowLogRetentionDays: number;
        /** A network of your own the instances launch into; this stack then builds none. */
        existing?: ExistingNetworkSettings;
    };
    sessions: {
        logGroupName: string;
        logRetentionDays: number;
        defaultOsUser: string;
        idleTimeoutMinutes: number;
        maxSessionDurationMinutes: number;
        kmsEncryption: boolean;
        s3Archive: boolean;
        archiveRetentionDays: number;
        archiveRetentionMode: ArchiveRetentionMode;
        shellProfile?: { linux?: string; windows?: string };
        adoptExistingPreferences: boolean;
    };
    instances: InstanceSettings[];
    partners: PartnerSettings[];
}

/** An IAM user in the third party's account. */
export interface UserSettings {
    name: string;
    /** Bump to rotate the user's access key. */
    accessKeySerial: number;
}

/** Validated settings of a `their` stack. */
export interface TheirSettings {
    side: "their";
    partnerName: string;
    yoursAccountId?: string;
    yoursStack?: string;
    grantRoleName: string;
    grantRoleArn?: string;
    externalId?: pulumi.Output<string>;
    groupName: string;
    jumpRoleName: string;
    users: UserSettings[];
    federatedPrincipalArn?: string;
    /** Instance tag key the owner uses, for the generated list-instances command. */
    accessTagKey: string;
    /** Region of the owner's instances; default this stack's region. */
    yoursRegion?: string;
}

// ---------------------------------------------------------------------------
// Reading

interface RawConfig {
    project: string;
    values: Record<string, unknown>;
    isSecret(key: string): boolean;
}

// The SDK knows which keys hold secrets but keeps the check internal (not in its typings); read it in one place.
const runtimeConfig = runtimeConfigModule as unknown as { isConfigSecret?: (fullKey: string) => boolean };

/** Edit distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
    }
    return previous[b.length];
}

// A namespace this close to the project's is a typo: its keys would be ignored, and on
// `pulumi up` every partner, say, would silently disappear and its grant be deleted.
const MISSPELT_NAMESPACE_DISTANCE = 3;

function misspeltNamespaceIssues(project: string, keys: string[]): ConfigIssue[] {
    return keys.flatMap((fullKey) => {
        const namespace = fullKey.split(":")[0];
        if (namespace === project || !fullKey.includes(":")) return [];
        if (editDistance(namespace.toLowerCase(), project.toLowerCase()) > MISSPELT_NAMESPACE_DISTANCE) return [];
        return [
            {
                path: fullKey,
                message: `is in the namespace "${namespace}", not this project's "${project}" (a typo?), so the program would never read it; accepted: ${project}:${fullKey.slice(namespace.length + 1)}`,
            },
        ];
    });
}

function readRawConfig(): RawConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const all = pulumi.runtime.allConfig();
    const misspelt = misspeltNamespaceIssues(project, Object.keys(all));
    if (misspelt.length > 0) throw new ConfigError(misspelt);
    const values: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (!fullKey.startsWith(prefix)) continue;
        values[fullKey.slice(prefix.length)] = parseStructured(value);
    }
    if (typeof runtimeConfig.isConfigSecret !== "function") {
        throw new Error("@pulumi/pulumi no longer exposes runtime/config.isConfigSecret; pin the version in package.json");
    }
    const isConfigSecret = runtimeConfig.isConfigSecret;
    return { project, values, isSecret: (key) => isConfigSecret(`${prefix}${key}`) };
}

// Pulumi hands objects and lists to the program as JSON text, scalars as plain text.
function parseStructured(value: string): unknown {
    if (!/^\s*[[{]/.test(value)) return value;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

function keyPath(path: readonly PropertyKey[]): string {
    return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

function issuesOf(error: z.ZodError): ConfigIssue[] {
    return error.issues.flatMap((issue) =>
        issue.code === "unrecognized_keys"
            ? issue.keys.map((key) => ({ path: keyPath([...issue.path, key]), message: issue.message }))
            : [{ path: keyPath(issue.path) || "(top level)", message: issue.message }],
    );
}

function parseWith<T>(schema: z.ZodType<T>, values: Record<string, unknown>): T {
    const result = schema.safeParse(values);
    if (!result.success) throw new ConfigError(issuesOf(result.error));
    return result.data;
}

/** Reads the `side` key: which program this stack runs. */
export function readSide(): Side {
    const { values } = readRawConfig();
    const result = sideSchema.safeParse(values.side);
    if (!result.success) {
        throw new ConfigError(issuesOf(result.error).map((issue) => ({ ...issue, path: "side" })));
    }
    return result.data;
}

function utcTimestamp(value: string): string {
    return new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function duplicates<T>(items: T[], keyOf: (item: T) => string): Array<{ index: number; first: number }> {
    const seen = new Map<string, number>();
    const found: Array<{ index: number; first: number }> = [];
    items.forEach((item, index) => {
        const key = keyOf(item);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, index);
        else found.push({ index, first });
    });
    return found;
}

// A partner name can be a valid tag value yet make the default grant role name invalid.
function defaultRoleNameIssues(path: string, roleName: string, overrideKey: string): ConfigIssue[] {
    if (ROLE_NAME_PATTERN.test(roleName)) return [];
    return [
        {
            path,
            message: `gives the default grant role name "${roleName}", which is not ${ROLE_NAME_ACCEPTED}; accepted: a shorter name of letters, digits and _ + = , . @ -, or set ${overrideKey}`,
        },
    ];
}

/** Loads and validates a `yours` stack's config; throws ConfigError listing every problem. */
export function loadYoursSettings(): YoursSettings {
    const raw = readRawConfig();
    const parsed = parseWith(yoursSchema, raw.values);
    const issues: ConfigIssue[] = [];
    const partners = parsed.partners ?? [];
    const instances = parsed.instances ?? [];
    const accessTagKey = parsed.accessTagKey ?? DEFAULT_ACCESS_TAG_KEY;

    if (accessTagKey.toLowerCase() === RUN_AS_TAG_KEY.toLowerCase()) {
        issues.push({
            path: "accessTagKey",
            message: `got "${accessTagKey}", which Session Manager reserves for the Run As user; accepted: any other tag key, e.g. "${DEFAULT_ACCESS_TAG_KEY}"`,
        });
    }
    for (const { index, first } of duplicates(partners, (p) => p.name)) {
        issues.push({
            path: `partners[${index}].name`,
            message: `got "${partners[index].name}", already the name of partners[${first}]; accepted: a name unique among partners`,
        });
    }
    // IAM role names are unique case-insensitively within an account.
    const roleNames = partners.map((p) => p.roleName ?? defaultGrantRoleName(p.name));
    partners.forEach((partner, index) => {
        const roleName = roleNames[index];
        if (partner.roleName === undefined) issues.push(...defaultRoleNameIssues(`partners[${index}].name`, roleName, `partners[${index}].roleName`));
        if (partner.theirStack !== undefined && partner.principalArns !== undefined) {
            issues.push({
                path: `partners[${index}].principalArns`,
                message: "is set together with theirStack; accepted: one of theirStack (a stack reference) or principalArns (plain config), not both",
            });
        }
        partner.principalArns?.forEach((arn, arnIndex) => {
            const arnAccount = arn.split(":")[4];
            if (arnAccount !== partner.accountId) {
                issues.push({
                    path: `partners[${index}].principalArns[${arnIndex}]`,
                    message: `got "${arn}" in account ${arnAccount}; accepted: a principal in the partner's account ${partner.accountId}`,
                });
            }
        });
    });
    for (const { index, first } of duplicates(roleNames, (n) => n.toLowerCase())) {
        const path = partners[index].roleName === undefined ? `partners[${index}].name` : `partners[${index}].roleName`;
        issues.push({
            path,
            message: `gives the grant role name "${roleNames[index]}", already used by partners[${first}] (IAM role names ignore case); accepted: a role name unique in the account`,
        });
    }
    const defaultOsUser = parsed.sessions?.defaultOsUser ?? DEFAULT_OS_USER;
    partners.forEach((partner, index) => {
        if (partner.osUser === defaultOsUser) {
            issues.push({
                path: `partners[${index}].osUser`,
                message: `got "${partner.osUser}", which is also sessions.defaultOsUser, the user every session without a Run As tag runs as (your own staff's included); accepted: an OS user of this partner's own`,
            });
        }
    });
    for (const { index, first } of duplicates(partners, (p) => p.osUser)) {
        issues.push({
            path: `partners[${index}].osUser`,
            message: `got "${partners[index].osUser}", already the OS user of partners[${first}]; accepted: an OS user of this partner's own, so sessions and files stay separate`,
        });
    }
    const suppliedIds = partners.map((p, index) => ({ id: p.externalId, index })).filter((e): e is { id: string; index: number } => e.id !== undefined);
    for (const { index, first } of duplicates(suppliedIds, (e) => e.id)) {
        issues.push({
            path: `partners[${suppliedIds[index].index}].externalId`,
            message: `is the same as partners[${suppliedIds[first].index}].externalId; accepted: an external id unique to each partner (that is what defeats the confused deputy)`,
        });
    }
    if (suppliedIds.length > 0 && !raw.isSecret("partners")) {
        for (const { index } of suppliedIds) {
            issues.push({
                path: `partners[${index}].externalId`,
                message: `is stored in plain text; accepted: a secret, set with pulumi config set --secret --path 'partners[${index}].externalId' <value>`,
            });
        }
    }
    const partnerNames = new Set(partners.map((p) => p.name));
    instances.forEach((instance, index) => {
        if (instance.partner !== undefined && !partnerNames.has(instance.partner)) {
            issues.push({
                path: `instances[${index}].partner`,
                message: `got "${instance.partner}", which is no partner's name (partners: ${[...partnerNames].join(", ") || "none"}); accepted: the name of one of partners[], or no partner for an untagged instance`,
            });
        }
    });
    for (const { index, first } of duplicates(instances, (i) => i.name)) {
        issues.push({
            path: `instances[${index}].name`,
            message: `got "${instances[index].name}", already the name of instances[${first}]; accepted: a name unique among instances`,
        });
    }

    const network = parsed.network ?? {};
    if ((network.vpcId === undefined) !== (network.subnetIds === undefined)) {
        issues.push({
            path: network.vpcId === undefined ? "network.vpcId" : "network.subnetIds",
            message: "is missing; accepted: both network.vpcId and network.subnetIds (a network of your own), or neither (this stack builds a private one)",
        });
    }
    if (network.vpcId !== undefined) {
        for (const key of ["vpcCidr", "availabilityZoneCount", "flowLogRetentionDays"] as const) {
            if (network[key] !== undefined) {
                issues.push({
                    path: `network.${key}`,
                    message:
                        "is set together with network.vpcId, but applies only to the network this stack builds; accepted: remove it, or remove network.vpcId and network.subnetIds",
                });
            }
        }
    } else if (network.reachesAwsThroughEndpoints !== undefined) {
        issues.push({
            path: "network.reachesAwsThroughEndpoints",
            message: "is set without network.vpcId; the network this stack builds always reaches AWS through its endpoints; accepted: remove it",
        });
    }
    const vpcCidr = parsed.network?.vpcCidr ?? "10.24.34.0/23";
    const availabilityZoneCount = parsed.network?.availabilityZoneCount ?? 2;
    if (subnetPrefix(parseCidr(vpcCidr)!.prefix, availabilityZoneCount) > 28) {
        issues.push({
            path: "network.availabilityZoneCount",
            message: `got ${availabilityZoneCount}, which splits ${vpcCidr} into subnets smaller than /28; accepted: fewer zones, or a larger network.vpcCidr`,
        });
    }
    if (issues.length > 0) throw new ConfigError(issues);

    const sessions = parsed.sessions ?? {};
    return {
        side: "yours",
        accessTagKey,
        amiParameter: parsed.amiParameter ?? DEFAULT_AMI_PARAMETER,
        network: {
            vpcCidr,
            availabilityZoneCount,
            flowLogRetentionDays: parsed.network?.flowLogRetentionDays ?? 7,
            ...(network.vpcId !== undefined && network.subnetIds !== undefined
                ? { existing: { vpcId: network.vpcId, subnetIds: network.subnetIds, reachesAwsThroughEndpoints: network.reachesAwsThroughEndpoints ?? false } }
                : {}),
        },
        sessions: {
            logGroupName: sessions.logGroupName ?? DEFAULT_SESSION_LOG_GROUP,
            logRetentionDays: sessions.logRetentionDays ?? 7,
            defaultOsUser: sessions.defaultOsUser ?? DEFAULT_OS_USER,
            idleTimeoutMinutes: sessions.idleTimeoutMinutes ?? 20,
            maxSessionDurationMinutes: sessions.maxSessionDurationMinutes ?? 60,
            kmsEncryption: sessions.kmsEncryption ?? false,
            s3Archive: sessions.s3Archive ?? false,
            archiveRetentionDays: sessions.archiveRetentionDays ?? DEFAULT_ARCHIVE_RETENTION_DAYS,
            archiveRetentionMode: sessions.archiveRetentionMode ?? "GOVERNANCE",
            shellProfile: sessions.shellProfile,
            adoptExistingPreferences: sessions.adoptExistingPreferences ?? false,
        },
        instances: instances.map((i) => ({ name: i.name, partner: i.partner, instanceType: i.instanceType ?? "t3.micro", amiId: i.amiId })),
        partners: partners.map((p, index) => ({
            name: p.name,
            accountId: p.accountId,
            osUser: p.osUser,
            grantRoleName: roleNames[index],
            jumpRoleName: p.jumpRoleName ?? DEFAULT_JUMP_ROLE_NAME,
            theirStack: p.theirStack,
            principalArns: p.principalArns,
            externalId: p.externalId === undefined ? undefined : pulumi.secret(p.externalId),
            expiresAt: p.expiresAt === undefined ? undefined : utcTimestamp(p.expiresAt),
            revokeSessionsIssuedBefore: p.revokeSessionsIssuedBefore === undefined ? undefined : utcTimestamp(p.revokeSessionsIssuedBefore),
            requireSourceIdentity: p.requireSourceIdentity ?? true,
        })),
    };
}

/** Loads and validates a `their` stack's config; throws ConfigError listing every problem. */
export function loadTheirSettings(): TheirSettings {
    const raw = readRawConfig();
    const parsed = parseWith(theirSchema, raw.values);
    const issues: ConfigIssue[] = [];
    const users = parsed.users ?? [];
    const grantRoleName = parsed.grantRoleName ?? defaultGrantRoleName(parsed.partnerName);

    if (parsed.grantRoleName === undefined) issues.push(...defaultRoleNameIssues("partnerName", grantRoleName, "grantRoleName"));
    if (users.length > 0 && parsed.federatedPrincipalArn !== undefined) {
        issues.push({ path: "federatedPrincipalArn", message: "is set together with users; accepted: either IAM users or one federated principal, not both" });
    }
    if (users.length === 0 && parsed.federatedPrincipalArn === undefined) {
        issues.push({
            path: "users",
            message: 'is empty and no federatedPrincipalArn is set; accepted: at least one user (e.g. users[0].name = "alice") or a federatedPrincipalArn',
        });
    }
    for (const { index, first } of duplicates(users, (u) => u.name.toLowerCase())) {
        issues.push({
            path: `users[${index}].name`,
            message: `got "${users[index].name}", already the name of users[${first}] (IAM user names ignore case); accepted: a unique user name`,
        });
    }
    users.forEach((user, index) => {
        if (user.sourceIdentity !== undefined) {
            issues.push({
                path: `users[${index}].sourceIdentity`,
                message: `is set; the source identity is now always the user's own name "${user.name}" (the jump role's trust requires it, so nobody can act as someone else); accepted: remove the key`,
            });
        }
    });
    if (parsed.yoursStack !== undefined && (parsed.grantRoleArn !== undefined || parsed.externalId !== undefined)) {
        issues.push({
            path: parsed.grantRoleArn !== undefined ? "grantRoleArn" : "externalId",
            message: "is set together with yoursStack; accepted: either yoursStack (a stack reference) or grantRoleArn and externalId (plain config), not both",
        });
    }
    if (parsed.yoursStack === undefined) {
        if (parsed.grantRoleArn === undefined && parsed.yoursAccountId === undefined) {
            issues.push({
                path: "yoursAccountId",
                message:
                    "is required when neither yoursStack nor grantRoleArn is set (the grant role ARN is computed from it); accepted: a 12-digit AWS account id",
            });
        }
    }
    if (parsed.grantRoleArn !== undefined && parsed.yoursAccountId !== undefined && parsed.grantRoleArn.split(":")[4] !== parsed.yoursAccountId) {
        issues.push({
            path: "grantRoleArn",
            message: `got "${parsed.grantRoleArn}", which is not in yoursAccountId ${parsed.yoursAccountId}; accepted: a role ARN in that account`,
        });
    }
    if (parsed.externalId !== undefined && !raw.isSecret("externalId")) {
        issues.push({ path: "externalId", message: "is stored in plain text; accepted: a secret, set with pulumi config set --secret externalId <value>" });
    }
    if (issues.length > 0) throw new ConfigError(issues);

    return {
        side: "their",
        partnerName: parsed.partnerName,
        yoursAccountId: parsed.yoursAccountId ?? parsed.grantRoleArn?.split(":")[4],
        yoursStack: parsed.yoursStack,
        grantRoleName,
        grantRoleArn: parsed.grantRoleArn,
        externalId: parsed.externalId === undefined ? undefined : pulumi.secret(parsed.externalId),
        groupName: parsed.groupName ?? DEFAULT_REMOTE_ACCESS_GROUP,
        jumpRoleName: parsed.jumpRoleName ?? DEFAULT_JUMP_ROLE_NAME,
        users: users.map((u) => ({ name: u.name, accessKeySerial: u.accessKeySerial ?? 1 })),
        federatedPrincipalArn: parsed.federatedPrincipalArn,
        accessTagKey: parsed.accessTagKey ?? DEFAULT_ACCESS_TAG_KEY,
        yoursRegion: parsed.yoursRegion,
    };
}
