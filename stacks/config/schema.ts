// The shape of each side's config, as zod schemas. Every leaf value is checked by a rule
// from components/rules (the same rule the component checks its argument with), so a
// value the config accepts is one the component accepts, and their messages agree.

import { z } from "zod";
import {
    ACCESS_TAG_KEY,
    ACCOUNT_ID,
    ALERT_EMAIL,
    ALERT_HTTPS_ENDPOINT,
    ARCHIVE_LIFECYCLE_DAYS,
    ARCHIVE_RETENTION_DAYS,
    BUCKET_NAME,
    KMS_KEY_ARN,
    EXTERNAL_ID,
    GROUP_NAME,
    IDLE_TIMEOUT_MINUTES,
    INSTANCE_NAME,
    INSTANCE_TYPE,
    LOG_GROUP_NAME,
    LOG_RETENTION,
    MAX_SESSION_DURATION_MINUTES,
    PARTNER_OS_USER,
    PER_PERSON_OS_USER_BASE,
    RUN_AS_PERSON_NAME,
    oneOfRule,
    DEFAULT_RUN_AS_USER,
    PARTNER_NAME,
    PERSON_NAME,
    PRINCIPAL_ARN,
    MFA_MAX_AGE_SECONDS,
    POLICY_ARN,
    ROLE_ARN,
    ROLE_NAME,
    TIMESTAMP,
    VPC_CIDR,
    integerRule,
    secretProblem,
    show,
    textRule,
    type Rule,
} from "../../components/rules";
import { ARCHIVE_RETENTION_MODE, ARCHIVE_STORAGE_CLASS } from "../../components/session-preferences";

function accepting(accepted: string, secret = false) {
    return {
        error: (issue: { input?: unknown }) =>
            issue.input === undefined
                ? `is required; accepted: ${accepted}`
                : `got ${secret ? "a value of the wrong type" : show(issue.input)}; accepted: ${accepted}`,
    };
}

// `pulumi config set --path k 123` stores digits as a number; a string field takes it back as text.
function integersAsText(value: unknown): unknown {
    return typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
}

/** A string key checked by `rule`; a secret's value never appears in a message. */
function text(rule: Rule<string>, options: { secret?: boolean } = {}) {
    const problem = options.secret ? secretProblem(rule) : rule.problem;
    return z.preprocess(
        integersAsText,
        z.string(accepting(rule.accepted, options.secret)).superRefine((value, ctx) => {
            const message = problem(value);
            if (message !== undefined) ctx.addIssue({ code: "custom", message });
        }),
    );
}

/** A number key checked by `rule`. */
function number(rule: Rule<number>) {
    return z.number(accepting(rule.accepted)).superRefine((value, ctx) => {
        const message = rule.problem(value);
        if (message !== undefined) ctx.addIssue({ code: "custom", message });
    });
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

// Keys only the stack config has (components take these values already resolved).
const STACK_NAME = textRule(
    /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/,
    'a stack name, fully qualified as "<organization>/<project>/<stack>" (the local backend uses the organization "organization")',
);
const VPC_ID = textRule(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a VPC id, e.g. "vpc-0123456789abcdef0"');
const SUBNET_ID = textRule(/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a subnet id, e.g. "subnet-0123456789abcdef0"');
const AMI_ID = textRule(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, 'an AMI id, e.g. "ami-0123456789abcdef0"');
const SSM_PARAMETER = textRule(/^\/[\w.\-/]+$/, 'an SSM parameter name, e.g. "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"');
const REGION = textRule(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'an AWS region name, e.g. "us-east-1"');

/** Which account a stack builds: `yours` owns the instances, `their` is a third party's. */
export const SIDES = ["yours", "their"] as const;
export type Side = (typeof SIDES)[number];

export const sideSchema = z.enum(SIDES, accepting('"yours" (the account with the instances) or "their" (a third party\'s account)'));

/** Who a partner's sessions run as: one OS user for the partner, or one per person. */
export const RUN_AS_MODES = ["perPartner", "perPerson"] as const;
const RUN_AS_MODE = oneOfRule<string>(
    RUN_AS_MODES,
    '"perPartner" (the default: every session of the partner runs as osUser) or "perPerson" (each of people runs as <osUser>-<name>)',
);

const partnerSchema = record(
    {
        name: text(PARTNER_NAME),
        accountId: text(ACCOUNT_ID),
        osUser: text(PARTNER_OS_USER),
        roleName: text(ROLE_NAME).optional(),
        jumpRoleName: text(ROLE_NAME).optional(),
        theirStack: text(STACK_NAME).optional(),
        principalArns: list(text(PRINCIPAL_ARN), "IAM role or user ARNs in the partner's account").min(1).optional(),
        externalId: text(EXTERNAL_ID, { secret: true }).optional(),
        expiresAt: text(TIMESTAMP).optional(),
        revokeSessionsIssuedBefore: text(TIMESTAMP).optional(),
        requireSourceIdentity: flag().optional(),
        runAs: text(RUN_AS_MODE).optional(),
        people: list(text(RUN_AS_PERSON_NAME), "people's names, as their source identities").optional(),
    },
    "a partner",
);

const instanceSchema = record(
    {
        name: text(INSTANCE_NAME),
        partner: text(PARTNER_NAME).optional(),
        instanceType: text(INSTANCE_TYPE).optional(),
        amiId: text(AMI_ID).optional(),
    },
    "an instance",
);

const networkSchema = record(
    {
        vpcCidr: text(VPC_CIDR).optional(),
        availabilityZoneCount: number(integerRule(1, 6, "availability zones")).optional(),
        flowLogRetentionDays: number(LOG_RETENTION).optional(),
        vpcId: text(VPC_ID).optional(),
        subnetIds: list(text(SUBNET_ID), "subnet ids").min(1).optional(),
        reachesAwsThroughEndpoints: flag().optional(),
    },
    "network settings",
);

const sessionsSchema = record(
    {
        logGroupName: text(LOG_GROUP_NAME).optional(),
        logRetentionDays: number(LOG_RETENTION).optional(),
        defaultOsUser: text(DEFAULT_RUN_AS_USER).optional(),
        idleTimeoutMinutes: number(IDLE_TIMEOUT_MINUTES).optional(),
        maxSessionDurationMinutes: number(MAX_SESSION_DURATION_MINUTES).optional(),
        kmsEncryption: flag().optional(),
        s3Archive: flag().optional(),
        archiveRetentionDays: number(ARCHIVE_RETENTION_DAYS).optional(),
        archiveRetentionMode: text(ARCHIVE_RETENTION_MODE as Rule<string>).optional(),
        archiveTransitionDays: number(ARCHIVE_LIFECYCLE_DAYS).optional(),
        archiveTransitionStorageClass: text(ARCHIVE_STORAGE_CLASS as Rule<string>).optional(),
        archiveExpirationDays: number(ARCHIVE_LIFECYCLE_DAYS).optional(),
        kmsKeyArn: text(KMS_KEY_ARN).optional(),
        archiveBucketName: text(BUCKET_NAME).optional(),
        archiveBucketAccountId: text(ACCOUNT_ID).optional(),
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

export const yoursSchema = record(
    {
        side: sideSchema,
        accessTagKey: text(ACCESS_TAG_KEY).optional(),
        amiParameter: text(SSM_PARAMETER).optional(),
        network: networkSchema.optional(),
        sessions: sessionsSchema.optional(),
        instances: list(instanceSchema, "instances").optional(),
        partners: list(partnerSchema, "partners").optional(),
        alerts: record(
            {
                enabled: flag().optional(),
                emails: list(text(ALERT_EMAIL), "email addresses").optional(),
                httpsEndpoints: list(text(ALERT_HTTPS_ENDPOINT), "https:// URLs").optional(),
            },
            "alert settings",
        ).optional(),
        permissionsBoundaryArn: text(POLICY_ARN).optional(),
    },
    "your account's settings",
);

const userSchema = record(
    {
        name: text(PERSON_NAME),
        accessKeySerial: number(integerRule(1, 1_000_000, "rotations")).optional(),
        // Kept in the schema only to explain why it is gone (see loadTheirSettings).
        sourceIdentity: z.unknown().optional(),
    },
    "a user",
);

export const theirSchema = record(
    {
        side: sideSchema,
        partnerName: text(PARTNER_NAME),
        yoursAccountId: text(ACCOUNT_ID).optional(),
        yoursStack: text(STACK_NAME).optional(),
        grantRoleName: text(ROLE_NAME).optional(),
        grantRoleArn: text(ROLE_ARN).optional(),
        externalId: text(EXTERNAL_ID, { secret: true }).optional(),
        groupName: text(GROUP_NAME).optional(),
        jumpRoleName: text(ROLE_NAME).optional(),
        users: list(userSchema, "IAM users").optional(),
        federatedPrincipalArn: text(ROLE_ARN).optional(),
        accessTagKey: text(ACCESS_TAG_KEY).optional(),
        yoursRegion: text(REGION).optional(),
        mfa: record({ required: flag().optional(), maxAgeSeconds: number(MFA_MAX_AGE_SECONDS).optional() }, "MFA settings").optional(),
        credentialAdministrators: list(text(PRINCIPAL_ARN), "IAM role or user ARNs of this account").optional(),
        permissionsBoundaryArn: text(POLICY_ARN).optional(),
        perPersonOsUserBase: text(PER_PERSON_OS_USER_BASE).optional(),
    },
    "a third party's settings",
);

export type ParsedYours = z.infer<typeof yoursSchema>;
export type ParsedTheir = z.infer<typeof theirSchema>;
