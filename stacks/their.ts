// The program for a third party's account: who may connect, the jump role, and a
// ready-to-use AWS CLI configuration for reaching the owner's instances.

import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsCliConfig, listInstancesCommand, profileBase, sessionProfileName, startSessionCommand, type CliPerson } from "../components/cli-config";
import { SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { RemoteAccessIdentity } from "../components/remote-access-identity";
import { grantOutputSchema, outputProblem, theirOutputsSchema, type ExportsOf, type GrantOutput } from "./outputs";
import { ConfigError, loadTheirSettings, type ConfigIssue, type TheirSettings } from "./config";

/** The grant this partner was given in the owner's account. */
interface GrantReference {
    roleArn: pulumi.Input<string>;
    /** Unknown until the owner has deployed the grant (first phase of the bootstrap). */
    externalId?: pulumi.Output<string>;
    instanceIds: pulumi.Input<string[]>;
    region: pulumi.Input<string>;
    /** The session document sessions must name (the grant checks it). */
    sessionDocument: pulumi.Input<string>;
}

/** Builds a third party's stack from its validated config and returns the stack outputs. */
export async function theirProgram(): Promise<Record<string, unknown>> {
    const settings = loadTheirSettings();
    const [{ partition }, { accountId }, { region }] = await Promise.all([aws.getPartition(), aws.getCallerIdentity(), aws.getRegion()]);
    const issues: ConfigIssue[] = [];
    if (settings.federatedPrincipalArn !== undefined && !settings.federatedPrincipalArn.startsWith(`arn:${partition}:iam::${accountId}:`)) {
        issues.push({
            path: "federatedPrincipalArn",
            message: `got "${settings.federatedPrincipalArn}"; accepted: a role in this stack's account ${accountId}, partition ${partition}`,
        });
    }
    settings.credentialAdministratorArns.forEach((arn, index) => {
        if (!arn.startsWith(`arn:${partition}:iam::${accountId}:`))
            issues.push({
                path: `credentialAdministrators[${index}]`,
                message: `got "${arn}"; accepted: a role or user of this stack's account ${accountId}, partition ${partition}`,
            });
    });
    if (settings.credentialAdministratorArns.length > 0 && settings.users.length === 0)
        issues.push({ path: "credentialAdministrators", message: "is set without users; accepted: administrators of the users' stored keys, with users only" });
    if (settings.grantRoleArn !== undefined && settings.grantRoleArn.split(":")[1] !== partition) {
        issues.push({ path: "grantRoleArn", message: `got "${settings.grantRoleArn}"; accepted: a role in this stack's partition, ${partition}` });
    }
    if (issues.length > 0) throw new ConfigError(issues);

    const grant = settings.yoursStack !== undefined ? grantFromStack(settings.yoursStack, settings, region) : grantFromConfig(settings, partition, region);

    const identity = new RemoteAccessIdentity("remote-access", {
        partnerName: settings.partnerName,
        grantRoleArn: grant.roleArn,
        externalId: grant.externalId,
        users: settings.users,
        federatedPrincipalArn: settings.federatedPrincipalArn,
        groupName: settings.groupName,
        jumpRoleName: settings.jumpRoleName,
        requireMfa: settings.mfaMaxAgeSeconds !== undefined,
        mfaMaxAgeSeconds: settings.mfaMaxAgeSeconds,
        credentialAdministratorArns: settings.credentialAdministratorArns,
        perPersonOsUserBase: settings.perPersonOsUserBase,
        permissionsBoundary: settings.permissionsBoundaryArn,
    });

    const base = profileBase(settings.partnerName);
    const people: pulumi.Output<CliPerson[]> =
        settings.users.length > 0
            ? pulumi.all(identity.credentialSecretArns).apply((secretArns) =>
                  settings.users.map((u) => ({
                      name: u.name,
                      credentialsProfile: `${base}-${u.name}-keys`,
                      credentialsHint: [
                          `A credential administrator (credentialAdministrators, or whoever deploys this stack) reads ${u.name}'s access key; nobody else can:`,
                          `  aws secretsmanager get-secret-value --secret-id ${secretArns[u.name]} --query SecretString --output text`,
                          `then ${u.name} stores it once: aws configure --profile ${base}-${u.name}-keys`,
                      ],
                  })),
              )
            : pulumi.output([
                  {
                      name: "federated",
                      credentialsProfile: "sso",
                      credentialsHint: [
                          'Replace "sso" with your SSO profile, and "federated" with the source identity your identity provider sets for you',
                          "(SAML attribute https://aws.amazon.com/SAML/Attributes/SourceIdentity): the jump role requires the role session name to equal it.",
                      ],
                  },
              ]);
    const firstProfile = sessionProfileName(settings.partnerName, { name: settings.users[0]?.name ?? "federated" });

    return {
        jumpRoleArn: identity.jumpRoleArn,
        grantRoleArn: grant.roleArn,
        groupName: identity.groupName ?? null,
        userNames: settings.users.map((u) => u.name),
        credentialSecretArns: identity.credentialSecretArns,
        credentialAdministratorArns: identity.credentialAdministratorArns ?? [],
        federatedPrincipalPolicy: identity.federatedPrincipalPolicy ?? null,
        // Secret: it contains the external id.
        awsCliConfig: pulumi.secret(
            pulumi
                .all([identity.jumpRoleArn, grant.roleArn, grant.externalId, grant.region, people])
                .apply(([jumpRoleArn, grantRoleArn, externalId, grantRegion, persons]) =>
                    externalId === undefined
                        ? "# The external id is not known yet: set yoursStack (or externalId) once the owner has deployed the grant, then pulumi up.\n"
                        : awsCliConfig({
                              partnerName: settings.partnerName,
                              region: grantRegion,
                              jumpRoleArn,
                              grantRoleArn,
                              externalId,
                              accessTagKey: settings.accessTagKey,
                              people: persons,
                              perPersonOsUserBase: settings.perPersonOsUserBase,
                              mfa:
                                  settings.mfaMaxAgeSeconds === undefined
                                      ? undefined
                                      : { mfaDevicePrefix: `arn:${partition}:iam::${accountId}:mfa/`, maxAgeSeconds: settings.mfaMaxAgeSeconds },
                          }),
                ),
        ),
        listInstancesCommand: listInstancesCommand({ partnerName: settings.partnerName, accessTagKey: settings.accessTagKey }, firstProfile),
        startSessionCommands: pulumi
            .all([grant.instanceIds, grant.sessionDocument])
            .apply(([ids, document]) => (ids.length > 0 ? ids : ["<instance-id>"]).map((id) => startSessionCommand(id, firstProfile, document))),
    } satisfies ExportsOf<typeof theirOutputsSchema>;
}

/** The grant from the owner's `yours` stack output `grants` (same Pulumi organisation). */
function grantFromStack(stackName: string, settings: TheirSettings, ownRegion: string): GrantReference {
    const reference = new pulumi.StackReference(stackName);
    const entry = reference.requireOutput("grants").apply((grants: unknown) => {
        const all = (grants ?? {}) as Record<string, unknown>;
        const mine = all[settings.partnerName];
        if (mine === undefined) {
            throw new Error(
                `stack ${stackName}: output grants has no entry "${settings.partnerName}" (it has: ${Object.keys(all).join(", ") || "none"}); check partnerName`,
            );
        }
        const parsed = grantOutputSchema.safeParse(mine);
        if (!parsed.success) throw new Error(`stack ${stackName}: ${outputProblem(parsed.error, mine, `grants.${settings.partnerName}.`)}`);
        const problem = perPersonAgreementProblem(settings.perPersonOsUserBase, parsed.data);
        if (problem !== undefined) throw new Error(`stack ${stackName}: output grants.${settings.partnerName} ${problem}`);
        // Stacks deployed before sessionDocument existed used the preferences document.
        return { ...parsed.data, sessionDocument: parsed.data.sessionDocument ?? SESSION_PREFERENCES_DOCUMENT };
    });
    // The output is secret as a whole because of the external id; only the id is one.
    return {
        roleArn: pulumi.unsecret(entry.roleArn),
        externalId: pulumi.secret(entry.externalId),
        instanceIds: pulumi.unsecret(entry.instanceIds),
        sessionDocument: pulumi.unsecret(entry.sessionDocument),
        region: settings.yoursRegion ?? reference.getOutput("region").apply((r: unknown) => (typeof r === "string" ? r : ownRegion)),
    };
}

/**
 * Whether this stack's perPersonOsUserBase matches the grant: the jump role tags sessions only
 * with it, and a per-person grant requires the tag, so a mismatch would open no session at all.
 */
export function perPersonAgreementProblem(base: string | undefined, grant: GrantOutput): string | undefined {
    const ownerBase = grant.personOsUsers === undefined ? undefined : grant.runAsUser;
    if (ownerBase === base) return undefined;
    return ownerBase === undefined
        ? `gives per-partner Run As, but perPersonOsUserBase is "${base}"; accepted: perPersonOsUserBase removed`
        : `gives per-person Run As with base "${ownerBase}", but perPersonOsUserBase is ${base === undefined ? "not set" : `"${base}"`}; accepted: perPersonOsUserBase set to "${ownerBase}"`;
}

/** The grant from plain config (the owner is in another Pulumi organisation). */
function grantFromConfig(settings: TheirSettings, partition: string, ownRegion: string): GrantReference {
    return {
        roleArn: settings.grantRoleArn ?? `arn:${partition}:iam::${settings.yoursAccountId}:role/${settings.grantRoleName}`,
        externalId: settings.externalId,
        instanceIds: [],
        region: settings.yoursRegion ?? ownRegion,
        sessionDocument: SESSION_PREFERENCES_DOCUMENT,
    };
}
