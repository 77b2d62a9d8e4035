// Loading a side's settings: read the raw config, check each key against the schema, then
// the rules between keys, and only then apply the defaults. Throws one ConfigError listing
// every problem, before the program registers any resource.

import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_ACCESS_TAG_KEY,
    DEFAULT_AMI_PARAMETER,
    DEFAULT_AVAILABILITY_ZONE_COUNT,
    DEFAULT_IDLE_TIMEOUT_MINUTES,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_JUMP_ROLE_NAME,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_MFA_MAX_AGE_SECONDS,
    DEFAULT_MAX_SESSION_DURATION_MINUTES,
    DEFAULT_OS_USER,
    DEFAULT_REMOTE_ACCESS_GROUP,
    DEFAULT_SESSION_LOG_GROUP,
    DEFAULT_VPC_CIDR,
    defaultGrantRoleName,
} from "../../components/constants";
import { arnAccount, utcTimestamp } from "../../components/rules";
import {
    type ArchiveStorageClass,
    ArchiveRetentionMode,
    DEFAULT_ARCHIVE_RETENTION_DAYS,
    DEFAULT_ARCHIVE_STORAGE_CLASS,
    DEFAULT_ARCHIVE_TRANSITION_DAYS,
} from "../../components/session-preferences";
import { grantRoleNames, theirCrossFieldIssues, yoursCrossFieldIssues } from "./cross-field";
import { ConfigError } from "./errors";
import { parseWith, readRawConfig } from "./read";
import { theirSchema, yoursSchema } from "./schema";
import type { TheirSettings, YoursSettings } from "./settings";

const optionalUtc = (value: string | undefined) => (value === undefined ? undefined : utcTimestamp(value));

/** Loads and validates a `yours` stack's config; throws ConfigError listing every problem. */
export function loadYoursSettings(): YoursSettings {
    const raw = readRawConfig();
    const parsed = parseWith(yoursSchema, raw.values);
    const issues = yoursCrossFieldIssues(parsed, raw);
    if (issues.length > 0) throw new ConfigError(issues);

    const network = parsed.network ?? {};
    const sessions = parsed.sessions ?? {};
    const roleNames = grantRoleNames(parsed);
    return {
        side: "yours",
        accessTagKey: parsed.accessTagKey ?? DEFAULT_ACCESS_TAG_KEY,
        amiParameter: parsed.amiParameter ?? DEFAULT_AMI_PARAMETER,
        network: {
            vpcCidr: network.vpcCidr ?? DEFAULT_VPC_CIDR,
            availabilityZoneCount: network.availabilityZoneCount ?? DEFAULT_AVAILABILITY_ZONE_COUNT,
            flowLogRetentionDays: network.flowLogRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS,
            ...(network.vpcId !== undefined && network.subnetIds !== undefined
                ? { existing: { vpcId: network.vpcId, subnetIds: network.subnetIds, reachesAwsThroughEndpoints: network.reachesAwsThroughEndpoints ?? false } }
                : {}),
        },
        sessions: {
            logGroupName: sessions.logGroupName ?? DEFAULT_SESSION_LOG_GROUP,
            logRetentionDays: sessions.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS,
            defaultOsUser: sessions.defaultOsUser ?? DEFAULT_OS_USER,
            idleTimeoutMinutes: sessions.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES,
            maxSessionDurationMinutes: sessions.maxSessionDurationMinutes ?? DEFAULT_MAX_SESSION_DURATION_MINUTES,
            // A key or bucket of your own turns encryption or the archive on.
            kmsEncryption: sessions.kmsEncryption ?? sessions.kmsKeyArn !== undefined,
            s3Archive: sessions.s3Archive ?? sessions.archiveBucketName !== undefined,
            existingKmsKeyArn: sessions.kmsKeyArn,
            existingArchiveBucketName: sessions.archiveBucketName,
            existingArchiveBucketAccountId: sessions.archiveBucketAccountId,
            archiveRetentionDays: sessions.archiveRetentionDays ?? DEFAULT_ARCHIVE_RETENTION_DAYS,
            archiveRetentionMode: (sessions.archiveRetentionMode as ArchiveRetentionMode | undefined) ?? ArchiveRetentionMode.GOVERNANCE,
            archiveTransitionDays: sessions.archiveTransitionDays ?? DEFAULT_ARCHIVE_TRANSITION_DAYS,
            archiveTransitionStorageClass: (sessions.archiveTransitionStorageClass as ArchiveStorageClass | undefined) ?? DEFAULT_ARCHIVE_STORAGE_CLASS,
            archiveExpirationDays: sessions.archiveExpirationDays,
            shellProfile: sessions.shellProfile,
            adoptExistingPreferences: sessions.adoptExistingPreferences ?? false,
        },
        instances: (parsed.instances ?? []).map((i) => ({
            name: i.name,
            partner: i.partner,
            instanceType: i.instanceType ?? DEFAULT_INSTANCE_TYPE,
            amiId: i.amiId,
        })),
        partners: (parsed.partners ?? []).map((p, index) => ({
            name: p.name,
            accountId: p.accountId,
            osUser: p.osUser,
            grantRoleName: roleNames[index],
            jumpRoleName: p.jumpRoleName ?? DEFAULT_JUMP_ROLE_NAME,
            theirStack: p.theirStack,
            principalArns: p.principalArns,
            externalId: p.externalId === undefined ? undefined : pulumi.secret(p.externalId),
            expiresAt: optionalUtc(p.expiresAt),
            revokeSessionsIssuedBefore: optionalUtc(p.revokeSessionsIssuedBefore),
            requireSourceIdentity: p.requireSourceIdentity ?? true,
            people: p.runAs === "perPerson" ? p.people : undefined,
        })),
        alerts: { enabled: parsed.alerts?.enabled ?? true, emails: parsed.alerts?.emails ?? [], httpsEndpoints: parsed.alerts?.httpsEndpoints ?? [] },
        permissionsBoundaryArn: parsed.permissionsBoundaryArn,
    };
}

/** Loads and validates a `their` stack's config; throws ConfigError listing every problem. */
export function loadTheirSettings(): TheirSettings {
    const raw = readRawConfig();
    const parsed = parseWith(theirSchema, raw.values);
    const issues = theirCrossFieldIssues(parsed, raw);
    if (issues.length > 0) throw new ConfigError(issues);

    return {
        side: "their",
        partnerName: parsed.partnerName,
        yoursAccountId: parsed.yoursAccountId ?? (parsed.grantRoleArn === undefined ? undefined : arnAccount(parsed.grantRoleArn)),
        yoursStack: parsed.yoursStack,
        grantRoleName: parsed.grantRoleName ?? defaultGrantRoleName(parsed.partnerName),
        grantRoleArn: parsed.grantRoleArn,
        externalId: parsed.externalId === undefined ? undefined : pulumi.secret(parsed.externalId),
        groupName: parsed.groupName ?? DEFAULT_REMOTE_ACCESS_GROUP,
        jumpRoleName: parsed.jumpRoleName ?? DEFAULT_JUMP_ROLE_NAME,
        users: (parsed.users ?? []).map((u) => ({ name: u.name, accessKeySerial: u.accessKeySerial ?? 1 })),
        federatedPrincipalArn: parsed.federatedPrincipalArn,
        accessTagKey: parsed.accessTagKey ?? DEFAULT_ACCESS_TAG_KEY,
        yoursRegion: parsed.yoursRegion,
        // MFA by default for IAM users (opt out with mfa.required: false); a federated principal's identity provider enforces its own.
        mfaMaxAgeSeconds:
            (parsed.mfa?.required ?? parsed.federatedPrincipalArn === undefined) ? (parsed.mfa?.maxAgeSeconds ?? DEFAULT_MFA_MAX_AGE_SECONDS) : undefined,
        credentialAdministratorArns: parsed.credentialAdministrators ?? [],
        permissionsBoundaryArn: parsed.permissionsBoundaryArn,
        perPersonOsUserBase: parsed.perPersonOsUserBase,
    };
}
