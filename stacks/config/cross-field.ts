// Rules between keys, which no single key's schema can check: uniqueness, one source or
// another, values that must agree. Each returns every problem found, by key path.

import { DEFAULT_AVAILABILITY_ZONE_COUNT, DEFAULT_VPC_CIDR, defaultGrantRoleName } from "../../components/constants";
import {
    CREATED_ARCHIVE_SETTINGS,
    ROLE_NAME,
    archiveLifecycleProblems,
    arnAccount,
    bringYourOwnProblems,
    mfaProblems,
    partnerPrincipalProblem,
    perPersonNamespaceProblem,
    perPersonRunAsProblems,
    personNameProblems,
    subnetSplitProblem,
} from "../../components/rules";
import { DEFAULT_ARCHIVE_RETENTION_DAYS, DEFAULT_ARCHIVE_STORAGE_CLASS, DEFAULT_ARCHIVE_TRANSITION_DAYS } from "../../components/session-preferences";
import type { ConfigIssue } from "./errors";
import type { RawConfig } from "./read";
import type { ParsedTheir, ParsedYours } from "./schema";

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
    if (ROLE_NAME.problem(roleName) === undefined) return [];
    return [
        {
            path,
            message: `gives the default grant role name "${roleName}", which is not ${ROLE_NAME.accepted}; accepted: a shorter name of letters, digits and _ + = , . @ -, or set ${overrideKey}`,
        },
    ];
}

/** The grant role name of each partner: its own, or the default from its name. */
export function grantRoleNames(parsed: ParsedYours): string[] {
    return (parsed.partners ?? []).map((p) => p.roleName ?? defaultGrantRoleName(p.name));
}

/** Problems between the keys of a `yours` stack. */
export function yoursCrossFieldIssues(parsed: ParsedYours, raw: RawConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const partners = parsed.partners ?? [];
    const instances = parsed.instances ?? [];

    for (const { index, first } of duplicates(partners, (p) => p.name)) {
        issues.push({
            path: `partners[${index}].name`,
            message: `got "${partners[index].name}", already the name of partners[${first}]; accepted: a name unique among partners`,
        });
    }
    // IAM role names are unique case-insensitively within an account.
    const roleNames = grantRoleNames(parsed);
    partners.forEach((partner, index) => {
        if (partner.roleName === undefined) issues.push(...defaultRoleNameIssues(`partners[${index}].name`, roleNames[index], `partners[${index}].roleName`));
        if (partner.theirStack !== undefined && partner.principalArns !== undefined) {
            issues.push({
                path: `partners[${index}].principalArns`,
                message: "is set together with theirStack; accepted: one of theirStack (a stack reference) or principalArns (plain config), not both",
            });
        }
        partner.principalArns?.forEach((arn, arnIndex) => {
            const problem = partnerPrincipalProblem(arn, partner.accountId);
            if (problem !== undefined) issues.push({ path: `partners[${index}].principalArns[${arnIndex}]`, message: problem });
        });
    });
    for (const { index, first } of duplicates(roleNames, (n) => n.toLowerCase())) {
        const path = partners[index].roleName === undefined ? `partners[${index}].name` : `partners[${index}].roleName`;
        issues.push({
            path,
            message: `gives the grant role name "${roleNames[index]}", already used by partners[${first}] (IAM role names ignore case); accepted: a role name unique in the account`,
        });
    }
    // A partner's OS user never equals the default Run As user: the rules keep them in separate namespaces.
    for (const { index, first } of duplicates(partners, (p) => p.osUser)) {
        issues.push({
            path: `partners[${index}].osUser`,
            message: `got "${partners[index].osUser}", already the OS user of partners[${first}]; accepted: an OS user of this partner's own, so sessions and files stay separate`,
        });
    }
    issues.push(...runAsIssues(partners));
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
    issues.push(...networkIssues(parsed));
    if (parsed.alerts?.enabled === false)
        for (const key of ["emails", "httpsEndpoints"] as const)
            if ((parsed.alerts[key] ?? []).length > 0)
                issues.push({
                    path: `alerts.${key}`,
                    message: "is set with alerts.enabled false; accepted: alerts on (the default) with subscriptions, or neither",
                });
    // A key or bucket of your own, and the archive's lifecycle, by the rules the component applies too.
    const sessions = parsed.sessions ?? {};
    for (const { argument, problem } of bringYourOwnProblems({
        kmsEncryption: sessions.kmsEncryption,
        existingKey: sessions.kmsKeyArn !== undefined,
        s3Archive: sessions.s3Archive,
        existingBucket: sessions.archiveBucketName !== undefined,
        settingsGiven: CREATED_ARCHIVE_SETTINGS.filter((setting) => sessions[setting] !== undefined),
    }))
        issues.push({ path: `sessions.${argument}`, message: problem });
    if (sessions.archiveBucketAccountId !== undefined && sessions.archiveBucketName === undefined)
        issues.push({
            path: "sessions.archiveBucketAccountId",
            message: "is set without sessions.archiveBucketName; accepted: the account of an archive bucket of your own, with that bucket",
        });
    if (sessions.s3Archive && sessions.archiveBucketName === undefined) {
        for (const { argument, problem } of archiveLifecycleProblems({
            retentionDays: sessions.archiveRetentionDays ?? DEFAULT_ARCHIVE_RETENTION_DAYS,
            transitionDays: sessions.archiveTransitionDays ?? DEFAULT_ARCHIVE_TRANSITION_DAYS,
            storageClass: sessions.archiveTransitionStorageClass ?? DEFAULT_ARCHIVE_STORAGE_CLASS,
            expirationDays: sessions.archiveExpirationDays,
        }))
            issues.push({ path: `sessions.${argument}`, message: problem });
    }
    return issues;
}

// Per-person Run As, by the rules the grant applies too, and the names it keeps to itself.
function runAsIssues(partners: NonNullable<ParsedYours["partners"]>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const perPerson = partners.map((p) => p.runAs === "perPerson");
    partners.forEach((partner, index) => {
        if (perPerson[index])
            for (const { argument, problem } of perPersonRunAsProblems({
                osUser: partner.osUser,
                people: partner.people ?? [],
                requireSourceIdentity: partner.requireSourceIdentity ?? true,
            }))
                issues.push({ path: `partners[${index}].${argument}`, message: problem });
        else if (partner.people !== undefined)
            issues.push({
                path: `partners[${index}].people`,
                message: 'is set without runAs: perPerson; accepted: runAs set to "perPerson" with people, or neither (every session runs as osUser)',
            });
    });
    partners.forEach((partner, index) => {
        const problem = perPersonNamespaceProblem(
            partner.osUser,
            partners.filter((p, i) => perPerson[i] && i !== index).map((p) => p.osUser),
        );
        if (problem !== undefined) issues.push({ path: `partners[${index}].osUser`, message: problem });
    });
    return issues;
}

function networkIssues(parsed: ParsedYours): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
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
    const split = subnetSplitProblem(network.vpcCidr ?? DEFAULT_VPC_CIDR, network.availabilityZoneCount ?? DEFAULT_AVAILABILITY_ZONE_COUNT);
    if (split !== undefined) issues.push({ path: "network.availabilityZoneCount", message: split.replace(/larger network$/, "larger network.vpcCidr") });
    return issues;
}

/** Problems between the keys of a `their` stack. */
export function theirCrossFieldIssues(parsed: ParsedTheir, raw: RawConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const users = parsed.users ?? [];
    if (parsed.grantRoleName === undefined) issues.push(...defaultRoleNameIssues("partnerName", defaultGrantRoleName(parsed.partnerName), "grantRoleName"));
    if (users.length > 0 && parsed.federatedPrincipalArn !== undefined) {
        issues.push({ path: "federatedPrincipalArn", message: "is set together with users; accepted: either IAM users or one federated principal, not both" });
    }
    for (const { argument, problem } of mfaProblems({
        requireMfa: parsed.mfa?.required ?? parsed.federatedPrincipalArn === undefined,
        mfaMaxAgeSeconds: parsed.mfa?.maxAgeSeconds,
        federated: parsed.federatedPrincipalArn !== undefined,
    }))
        issues.push({ path: argument === "requireMfa" ? "mfa.required" : "mfa.maxAgeSeconds", message: problem });
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
    if (parsed.yoursStack === undefined && parsed.grantRoleArn === undefined && parsed.yoursAccountId === undefined) {
        issues.push({
            path: "yoursAccountId",
            message:
                "is required when neither yoursStack nor grantRoleArn is set (the grant role ARN is computed from it); accepted: a 12-digit AWS account id",
        });
    }
    if (parsed.grantRoleArn !== undefined && parsed.yoursAccountId !== undefined && arnAccount(parsed.grantRoleArn) !== parsed.yoursAccountId) {
        issues.push({
            path: "grantRoleArn",
            message: `got "${parsed.grantRoleArn}", which is not in yoursAccountId ${parsed.yoursAccountId}; accepted: a role ARN in that account`,
        });
    }
    // Each person's name becomes part of their OS user: the same rules as the owner's grant.
    if (parsed.perPersonOsUserBase !== undefined)
        for (const { index, problem } of personNameProblems(
            parsed.perPersonOsUserBase,
            users.map((u) => u.name),
        ))
            issues.push({ path: `users[${index}].name`, message: problem });
    if (parsed.externalId !== undefined && !raw.isSecret("externalId")) {
        issues.push({ path: "externalId", message: "is stored in plain text; accepted: a secret, set with pulumi config set --secret externalId <value>" });
    }
    return issues;
}
