// The program for your account: the account that owns the private instances.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ManagedInstances } from "../components/managed-instances";
import { OsUserProvisioning } from "../components/os-user-provisioning";
import { PrivateSsmNetwork } from "../components/private-ssm-network";
import { awsScope } from "../components/scope";
import { SessionPreferences } from "../components/session-preferences";
import { ConfigError, loadYoursSettings } from "./config";

/** Builds your account's stack from its validated config and returns the stack outputs. */
export async function yoursProgram(): Promise<Record<string, unknown>> {
    const settings = loadYoursSettings();
    const zoneCount = settings.network.availabilityZoneCount;
    const zones = await aws.getAvailabilityZones({ state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] });
    if (zones.names.length < zoneCount) {
        throw new ConfigError([
            {
                path: "network.availabilityZoneCount",
                message: `got ${zoneCount}, but this region has ${zones.names.length} available zones (${zones.names.join(", ")}); accepted: 1 to ${zones.names.length}`,
            },
        ]);
    }

    const network = new PrivateSsmNetwork("network", {
        vpcCidr: settings.network.vpcCidr,
        availabilityZones: zones.names.slice(0, zoneCount),
        kmsEndpoint: settings.sessions.kmsEncryption,
        flowLogRetentionDays: settings.network.flowLogRetentionDays,
    });

    const instances =
        settings.instances.length === 0
            ? undefined
            : new ManagedInstances("instances", {
                  instances: settings.instances,
                  subnetIds: network.subnetIds,
                  securityGroupIds: [network.instanceSecurityGroupId],
                  accessTagKey: settings.accessTagKey,
                  defaultAmiId: aws.ssm.getParameterOutput({ name: settings.amiParameter }).value,
              });

    // Grant role ARNs are known from their names before the roles exist, so the session
    // key's policy can name them without waiting for (or depending on) the grants.
    const scope = awsScope();
    const grantRoleArns = settings.partners.map((p) => pulumi.interpolate`arn:${scope.partition}:iam::${scope.accountId}:role/${p.grantRoleName}`);

    const preferences = new SessionPreferences("sessions", {
        logGroupName: settings.sessions.logGroupName,
        logRetentionDays: settings.sessions.logRetentionDays,
        defaultOsUser: settings.sessions.defaultOsUser,
        idleTimeoutMinutes: settings.sessions.idleTimeoutMinutes,
        maxSessionDurationMinutes: settings.sessions.maxSessionDurationMinutes,
        shellProfile: settings.sessions.shellProfile,
        kmsEncryption: settings.sessions.kmsEncryption,
        s3Archive: settings.sessions.s3Archive,
        adoptExistingDocument: settings.sessions.adoptExistingPreferences,
        instanceRoleArns: instances === undefined ? [] : [instances.roleArn],
        sessionRoleArns: grantRoleArns,
    });

    const osUsers = new OsUserProvisioning("os-users", { accessTagKey: settings.accessTagKey, defaultOsUser: settings.sessions.defaultOsUser });

    return {
        accessTagKey: settings.accessTagKey,
        vpcId: network.vpcId,
        subnetIds: network.subnetIds,
        instanceSecurityGroupId: network.instanceSecurityGroupId,
        instanceIds: instances?.instanceIds ?? {},
        instanceRoleName: instances?.roleName ?? null,
        sessionLogGroupName: preferences.logGroupName,
        sessionPreferencesDocument: preferences.documentName,
        sessionKmsKeyArn: preferences.kmsKeyArn ?? null,
        sessionArchiveBucket: preferences.archiveBucketName ?? null,
        // Attach this to the roles of instances this stack does not create, so they can log sessions.
        instanceLoggingPolicy: preferences.instancePolicy,
        osUserDocumentName: osUsers.documentName,
        partners: settings.partners.map((p) => ({ name: p.name, osUser: p.osUser, grantRoleName: p.grantRoleName, expiresAt: p.expiresAt ?? null })),
    };
}
