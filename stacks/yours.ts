// The program for your account: the account that owns the private instances.

import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import { kmsKeyRegionProblem } from "../components/rules";
import { REGISTRATION_BATCH, yieldToEventLoop } from "../components/batches";
import { ManagedInstances } from "../components/managed-instances";
import { MetadataGuard } from "../components/metadata-guard";
import { OsUserProvisioning } from "../components/os-user-provisioning";
import { PartnerOffboarding } from "../components/partner-offboarding";
import { endpointServiceName, PrivateSsmNetwork } from "../components/private-ssm-network";
import { SessionAlerts } from "../components/session-alerts";
import { SessionPreferences } from "../components/session-preferences";
import { ThirdPartyGrant } from "../components/third-party-grant";
import { grantPolicySizeProblem, type AwsScope } from "../components/policies";
import { SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { yoursOutputsSchema, type ExportsOf } from "./outputs";
import { ConfigError, loadYoursSettings, type ConfigIssue, type PartnerSettings } from "./config";

/** Builds your account's stack from its validated config and returns the stack outputs. */
export async function yoursProgram(): Promise<Record<string, unknown>> {
    const settings = loadYoursSettings();
    const zoneCount = settings.network.availabilityZoneCount;
    // Facts about the target account, looked up once: config must agree with them (checked
    // before any resource), and every component shares them instead of looking them up again.
    const [zones, partitionFacts, region, identity] = await Promise.all([
        aws.getAvailabilityZones({ state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }),
        aws.getPartition(),
        aws.getRegion(),
        aws.getCallerIdentity(),
    ]);
    const { partition } = partitionFacts;
    const scope: AwsScope = {
        partition,
        dnsSuffix: partitionFacts.dnsSuffix,
        reverseDnsPrefix: partitionFacts.reverseDnsPrefix,
        region: region.region,
        accountId: identity.accountId,
    };
    const issues: ConfigIssue[] = [];
    // The private network is built only for instances this stack launches into it: with no
    // instances, or a network of your own, its endpoints would cost about $58 a month for nothing.
    const existing = settings.network.existing;
    const buildsNetwork = existing === undefined && settings.instances.length > 0;
    if (buildsNetwork && zones.names.length < zoneCount) {
        issues.push({
            path: "network.availabilityZoneCount",
            message: `got ${zoneCount}, but this region has ${zones.names.length} available zones (${zones.names.join(", ")}); accepted: 1 to ${zones.names.length}`,
        });
    }
    settings.partners.forEach((partner, index) => {
        if (partner.accountId === identity.accountId) {
            issues.push({
                path: `partners[${index}].accountId`,
                message: `got "${partner.accountId}", this stack's own account; accepted: the third party's account (a partner in your own account needs no cross-account grant, and would get one its own administrators could widen)`,
            });
        }
    });
    settings.partners.forEach((partner, index) =>
        partner.principalArns?.forEach((arn, arnIndex) => {
            if (arn.split(":")[1] !== partition) {
                issues.push({
                    path: `partners[${index}].principalArns[${arnIndex}]`,
                    message: `got "${arn}" in partition ${arn.split(":")[1]}; accepted: a principal in this stack's partition, ${partition}`,
                });
            }
        }),
    );
    settings.partners.forEach((partner, index) => {
        if (partner.people === undefined) return;
        // The grant lists its people: checked with this account's ARNs (a key's ARN is as long as any).
        const problem = grantPolicySizeProblem({
            scope,
            accessTagKey: settings.accessTagKey,
            sessionDocumentName: SESSION_PREFERENCES_DOCUMENT,
            sessionKeyArn: settings.sessions.kmsEncryption ? `arn:${partition}:kms:${scope.region}:${scope.accountId}:key/mrk-${"0".repeat(32)}` : undefined,
            expiresAt: partner.expiresAt,
            revokeSessionsIssuedBefore: partner.revokeSessionsIssuedBefore,
            perPerson: { people: partner.people, partnerName: partner.name },
        });
        if (problem !== undefined) issues.push({ path: `partners[${index}].people`, message: problem });
    });
    if (settings.sessions.existingKmsKeyArn !== undefined) {
        const problem = kmsKeyRegionProblem(settings.sessions.existingKmsKeyArn, scope.region);
        if (problem !== undefined) issues.push({ path: "sessions.kmsKeyArn", message: problem });
    }
    if (issues.length > 0) throw new ConfigError(issues);

    const network = buildsNetwork
        ? new PrivateSsmNetwork("network", {
              scope,
              vpcCidr: settings.network.vpcCidr,
              availabilityZones: zones.names.slice(0, zoneCount),
              kmsEndpoint: settings.sessions.kmsEncryption,
              // A bucket of your own may be in another account (a log archive): the S3 endpoint must let transcripts through.
              archiveBucketName: settings.sessions.existingArchiveBucketName,
              archiveBucketAccountId: settings.sessions.existingArchiveBucketAccountId,
              flowLogRetentionDays: settings.network.flowLogRetentionDays,
              permissionsBoundary: settings.permissionsBoundaryArn,
          })
        : undefined;

    const instances =
        settings.instances.length === 0
            ? undefined
            : new ManagedInstances("instances", {
                  scope,
                  instances: settings.instances,
                  subnetIds: network?.subnetIds ?? existing!.subnetIds,
                  securityGroupIds: network ? [network.instanceSecurityGroupId] : undefined,
                  vpcId: existing?.vpcId,
                  // Only where requests reach AWS through this VPC's endpoints: behind a NAT they carry no aws:SourceVpc.
                  credentialsPerimeter: network !== undefined || existing?.reachesAwsThroughEndpoints === true,
                  accessTagKey: settings.accessTagKey,
                  defaultAmiId: aws.ssm.getParameterOutput({ name: settings.amiParameter }).value,
                  permissionsBoundary: settings.permissionsBoundaryArn,
              });

    const preferences = new SessionPreferences("sessions", {
        scope,
        logGroupName: settings.sessions.logGroupName,
        logRetentionDays: settings.sessions.logRetentionDays,
        defaultOsUser: settings.sessions.defaultOsUser,
        idleTimeoutMinutes: settings.sessions.idleTimeoutMinutes,
        maxSessionDurationMinutes: settings.sessions.maxSessionDurationMinutes,
        shellProfile: settings.sessions.shellProfile,
        kmsEncryption: settings.sessions.kmsEncryption,
        s3Archive: settings.sessions.s3Archive,
        existingKmsKeyArn: settings.sessions.existingKmsKeyArn,
        existingArchiveBucketName: settings.sessions.existingArchiveBucketName,
        // The lock and lifecycle of a bucket this stack creates; a bucket of your own keeps its own.
        ...(settings.sessions.existingArchiveBucketName === undefined
            ? {
                  archiveRetentionDays: settings.sessions.archiveRetentionDays,
                  archiveRetentionMode: settings.sessions.archiveRetentionMode,
                  archiveTransitionDays: settings.sessions.archiveTransitionDays,
                  archiveTransitionStorageClass: settings.sessions.archiveTransitionStorageClass,
                  archiveExpirationDays: settings.sessions.archiveExpirationDays,
              }
            : {}),
        adoptExistingDocument: settings.sessions.adoptExistingPreferences,
        instanceRoleArns: instances === undefined ? [] : [instances.roleArn],
        sessionRoleTagKey: settings.accessTagKey,
    });

    const osUsers = new OsUserProvisioning("os-users", {
        accessTagKey: settings.accessTagKey,
        defaultOsUser: settings.sessions.defaultOsUser,
        // Per-person partners' people are created by one association each partner, from a list.
        usersDocument: settings.partners.some((p) => p.people !== undefined),
    });
    // Also guards instances this stack did not launch, once they carry the access tag key.
    new MetadataGuard("metadata-guard", { accessTagKey: settings.accessTagKey });

    const stackReferences = new Map<string, pulumi.StackReference>();
    const grants: ThirdPartyGrant[] = [];
    for (const [index, partner] of settings.partners.entries()) {
        // A batch at a time (components/batches.ts): a plan of many partners stays small.
        if (index % REGISTRATION_BATCH === 0) await yieldToEventLoop();
        grants.push(
            new ThirdPartyGrant(`grant-${partner.name}`, {
                scope,
                partnerName: partner.name,
                accessTagKey: settings.accessTagKey,
                partnerAccountId: partner.accountId,
                principalArns: trustedPrincipals(partner, scope, stackReferences),
                osUser: partner.osUser,
                people: partner.people,
                roleName: partner.grantRoleName,
                expiresAt: partner.expiresAt,
                revokeSessionsIssuedBefore: partner.revokeSessionsIssuedBefore,
                requireSourceIdentity: partner.requireSourceIdentity,
                externalId: partner.externalId,
                sessionKeyArn: preferences.kmsKeyArn,
                permissionsBoundary: settings.permissionsBoundaryArn,
                osUserDocumentName: osUsers.documentName,
                osUsersDocumentName: osUsers.usersDocumentName,
            }),
        );
    }
    // Ends what a partner still runs when its access ends: at its expiry, and when it leaves this config.
    const offboarding = new PartnerOffboarding("offboarding", {
        scope,
        accessTagKey: settings.accessTagKey,
        partners: settings.partners.map((p, index) => {
            const personOsUsers = grants[index].personOsUsers;
            return { partnerName: p.name, osUser: p.osUser, personOsUsers: personOsUsers && Object.values(personOsUsers), expiresAt: p.expiresAt };
        }),
        permissionsBoundary: settings.permissionsBoundaryArn,
    });
    // Alerts on every session and every AssumeRole of a grant role, allowed or refused, and every end of access.
    const alerts = settings.alerts.enabled
        ? new SessionAlerts("alerts", {
              scope,
              grantRoleArns: grants.map((grant) => grant.roleArn),
              endAccessDocumentName: offboarding.endDocumentName,
              failureWatchedDocumentNames: [offboarding.endDocumentName, offboarding.keepDocumentName],
              emailAddresses: settings.alerts.emails,
              httpsEndpoints: settings.alerts.httpsEndpoints,
          })
        : undefined;
    const instanceIdsFor = (partnerName: string) => settings.instances.filter((i) => i.partner === partnerName).map((i) => instances!.instanceIds[i.name]);

    return {
        region: scope.region,
        accessTagKey: settings.accessTagKey,
        vpcId: network?.vpcId ?? existing?.vpcId ?? null,
        subnetIds: network?.subnetIds ?? existing?.subnetIds ?? [],
        instanceSecurityGroupId: network?.instanceSecurityGroupId ?? instances?.securityGroupIds.apply((ids) => ids[0]) ?? null,
        // The interface endpoints this stack made in vpcId (none in a network of your own): the live check asks AWS which take a policy.
        interfaceEndpointServiceNames: network?.interfaceEndpointServices.map((service) => endpointServiceName(scope, service)) ?? [],
        instanceIds: instances?.instanceIds ?? {},
        instanceRoleName: instances?.roleName ?? null,
        sessionLogGroupName: preferences.logGroupName,
        alertTopicArn: alerts?.topicArn ?? null,
        // The rule feeding the topic on sessions and AssumeRole: its AWS/Events metrics show whether alerts are delivered.
        alertRuleName: alerts?.ruleName ?? null,
        sessionPreferencesDocument: preferences.documentName,
        // With the log group, key and bucket: what the preferences document is built from, so the live check can rebuild it
        // (sessionPreferencesContent) and compare it with the version AWS makes sessions use.
        sessionPreferenceSettings: {
            runAsDefaultUser: settings.sessions.defaultOsUser,
            idleTimeoutMinutes: settings.sessions.idleTimeoutMinutes,
            maxSessionDurationMinutes: settings.sessions.maxSessionDurationMinutes,
            shellProfile: settings.sessions.shellProfile ?? null,
        },
        sessionKmsKeyArn: preferences.kmsKeyArn ?? null,
        sessionArchiveBucket: preferences.archiveBucketName ?? null,
        // With a key or bucket of your own: the policy statements their owner must apply.
        sessionKeyPolicyStatements: preferences.kmsKeyPolicyStatements ?? null,
        archiveBucketPolicyStatements: preferences.archiveBucketPolicyStatements ?? null,
        // Attach this to the roles of instances this stack does not create, so they can log sessions.
        instanceLoggingPolicy: preferences.instancePolicy,
        osUserDocumentName: osUsers.documentName,
        // Run it by hand (docs/partners.md) to end a partner's OS user at once: userNames=<its OS user>.
        endAccessDocumentName: offboarding.endDocumentName,
        // Read by each partner's `their` stack (roleArn, externalId); secret because of the external ids.
        grants: Object.fromEntries(
            grants.map((grant) => [
                grant.partnerName,
                {
                    roleArn: grant.roleArn,
                    externalId: grant.externalId,
                    runAsUser: grant.osUser,
                    // Per-person Run As: each person's OS user by source identity (runAsUser is then their base).
                    ...(grant.personOsUsers === undefined ? {} : { personOsUsers: grant.personOsUsers }),
                    accessTagValue: grant.partnerName,
                    expiresAt: grant.expiresAt ?? null,
                    // What the grant's trust and permissions are built to enforce, so a review holds the produced policies to them.
                    revokeSessionsIssuedBefore: grant.revokeSessionsIssuedBefore ?? null,
                    trustedPrincipalArns: grant.trustedPrincipalArns,
                    requiresSourceIdentity: grant.requiresSourceIdentity,
                    // Sessions must name it (--document-name): the grant checks the document.
                    sessionDocument: preferences.documentName,
                    instanceIds: instanceIdsFor(grant.partnerName),
                },
            ]),
        ),
        grantRoleArns: Object.fromEntries(grants.map((grant) => [grant.partnerName, grant.roleArn])),
    } satisfies ExportsOf<typeof yoursOutputsSchema>;
}

/**
 * Who in the partner's account may assume its grant: the jump role ARN from its
 * `their` stack, the ARNs given in config, or the default jump role name in its account.
 */
function trustedPrincipals(partner: PartnerSettings, scope: AwsScope, stackReferences: Map<string, pulumi.StackReference>): pulumi.Input<string[]> {
    if (partner.principalArns !== undefined) return partner.principalArns;
    if (partner.theirStack === undefined) return [`arn:${scope.partition}:iam::${partner.accountId}:role/${partner.jumpRoleName}`];
    const stackName = partner.theirStack;
    let reference = stackReferences.get(stackName);
    if (reference === undefined) {
        reference = new pulumi.StackReference(stackName);
        stackReferences.set(stackName, reference);
    }
    return reference.requireOutput("jumpRoleArn").apply((arn: unknown) => {
        if (typeof arn !== "string" || !arn.startsWith(`arn:${scope.partition}:iam::${partner.accountId}:role/`)) {
            throw new Error(
                `stack ${stackName}: output jumpRoleArn is ${JSON.stringify(arn)}; expected the ARN of a role in ${partner.name}'s account ${partner.accountId}, partition ${scope.partition}`,
            );
        }
        return [arn];
    });
}
