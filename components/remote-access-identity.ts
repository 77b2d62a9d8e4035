// The third party's side of the chain, in its own account: who may connect (a group of
// IAM users, or a federated role) and the jump role that alone may assume the grant
// role in the owner's account, with the external id.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_JUMP_ROLE_NAME, DEFAULT_MFA_MAX_AGE_SECONDS, DEFAULT_REMOTE_ACCESS_GROUP, ROLE_CHAIN_SESSION_SECONDS } from "./constants";
import { checkedInput, optionalBoundary, requireEach, requireValid } from "./guard";
import { assumeOneRolePolicy, credentialSecretPolicy, jumpRoleTrustPolicy, type AwsScope, type SessionNameBinding } from "./policies";
import {
    EXTERNAL_ID,
    GROUP_NAME,
    MFA_MAX_AGE_SECONDS,
    mfaProblems,
    PARTNER_NAME,
    PERSON_NAME,
    PER_PERSON_OS_USER_BASE,
    personNameProblems,
    ROLE_ARN,
    ROLE_NAME,
    arnAccount,
    PRINCIPAL_ARN,
    secretProblem,
} from "./rules";
import { scopeFor } from "./scope";
import { componentType, withFormerType } from "./type-tokens";

/** An IAM user who may connect. */
export interface RemoteAccessUser {
    /** IAM user name; also the person's source identity and role session name (2-64 characters). */
    name: string;
    /** Bump to replace the user's access key (the new key is created before the old one is deleted). */
    accessKeySerial: number;
}

export interface RemoteAccessIdentityArgs {
    /** Partner name, as the owner of the instances calls it; used in descriptions. */
    partnerName: string;
    /** ARN of the grant role in the owner's account. */
    grantRoleArn: pulumi.Input<string>;
    /**
     * External id the owner gave for this partner (a secret). The jump role may then assume
     * the grant only with it. Absent before the owner has deployed (the owner's trust policy
     * still requires it).
     */
    externalId?: pulumi.Input<string>;
    /** IAM users to create in the remote-access group; each gets an access key in Secrets Manager. Each connects with its own user name as source identity and role session name (2-64 characters). */
    users?: RemoteAccessUser[];
    /**
     * Instead of users, an SSO or SAML role ARN in this account whose sessions may assume the
     * jump role. Its sessions must already carry a source identity set by the identity provider
     * (SAML attribute `https://aws.amazon.com/SAML/Attributes/SourceIdentity`), and name their
     * role session after it.
     */
    federatedPrincipalArn?: pulumi.Input<string>;
    /**
     * Require each IAM user to have signed in with MFA (credentials from `aws sts
     * get-session-token` with the user's MFA device) to assume the jump role. Default true with
     * users: long-term keys alone must not open a shell. Users only: a federated principal's MFA
     * is its identity provider's to enforce.
     */
    requireMfa?: boolean;
    /**
     * IAM roles or users of this account who may read and manage the secrets holding the users'
     * access keys, besides the principal deploying the stack and the account root. Everyone else
     * is refused by each secret's resource policy, whatever their own permissions.
     */
    credentialAdministratorArns?: pulumi.Input<string>[];
    /** With `requireMfa`: how recent the MFA sign-in must be, in seconds (900-129600). Default 43200 (12 hours). */
    mfaMaxAgeSeconds?: number;
    /** Name of the remote-access group. Default `GroupRemoteAccess`. */
    groupName?: string;
    /** Name of the jump role. Default `3P_IAM_Assume_Role`. */
    jumpRoleName?: string;
    /**
     * The owner gave this partner per-person Run As with this base: the jump role may then tag a
     * session into the grant with `SSMSessionRunAs` = `<base>-<its source identity>`, the
     * person's own OS user, and nothing else. Each user name must then be lowercase letters,
     * digits and _ (it becomes part of a Linux user name).
     */
    perPersonOsUserBase?: string;
    /** ARN of a managed policy set as the permissions boundary of every role and IAM user this component creates: the most any of them may do, whatever its own policies say. */
    permissionsBoundary?: pulumi.Input<string>;
    /** Account, region and partition of this component's provider, when the caller already has them (saves three lookups per component); looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** Group, users and their keys (or a federated principal), and the jump role. */
export class RemoteAccessIdentity extends pulumi.ComponentResource {
    /** ARN of the jump role: give it to the owner of the instances, whose grant role trusts it. */
    public readonly jumpRoleArn: pulumi.Output<string>;
    /** Name of the jump role. */
    public readonly jumpRoleName: pulumi.Output<string>;
    /** The group's name, when users are configured. */
    public readonly groupName?: pulumi.Output<string>;
    /** Secrets Manager ARN holding each user's access key, by user name. */
    public readonly credentialSecretArns: Record<string, pulumi.Output<string>>;
    /** Policy a federated principal's permission set needs (JSON), when federation is used. */
    public readonly federatedPrincipalPolicy?: pulumi.Output<string>;
    /** Who may read the stored access keys, besides the account root: the named administrators and the principal that deployed the stack. */
    public readonly credentialAdministratorArns?: pulumi.Output<string[]>;

    constructor(name: string, args: RemoteAccessIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("RemoteAccessIdentity"), name, {}, withFormerType("RemoteAccessIdentity", "identity", opts));
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);
        // Checked before any child is registered: none is ever created with a refused boundary.
        const permissionsBoundary = optionalBoundary(this, args.permissionsBoundary);
        const users = args.users ?? [];
        // The same rules the stack config applies, so the component is safe however it is called.
        requireValid(this, "users", users, () =>
            users.length > 0 === (args.federatedPrincipalArn !== undefined)
                ? "and federatedPrincipalArn are both given or both absent; accepted: either IAM users or one federated principal"
                : undefined,
        );
        requireValid(this, "partnerName", args.partnerName, PARTNER_NAME.problem);
        requireEach(
            this,
            (i) => `users[${i}].name`,
            users.map((u) => u.name),
            PERSON_NAME.problem,
        );
        if (args.groupName !== undefined) requireValid(this, "groupName", args.groupName, GROUP_NAME.problem);
        const perPersonOsUserBase = args.perPersonOsUserBase;
        if (perPersonOsUserBase !== undefined) {
            requireValid(this, "perPersonOsUserBase", perPersonOsUserBase, PER_PERSON_OS_USER_BASE.problem);
            for (const { index, problem } of personNameProblems(
                perPersonOsUserBase,
                users.map((u) => u.name),
            ))
                requireValid(this, `users[${index}].name`, undefined, () => problem);
        }
        const requireMfa = args.requireMfa ?? args.federatedPrincipalArn === undefined;
        for (const { argument, problem } of mfaProblems({
            requireMfa,
            mfaMaxAgeSeconds: args.mfaMaxAgeSeconds,
            federated: args.federatedPrincipalArn !== undefined,
        }))
            requireValid(this, argument, undefined, () => problem);
        const mfaMaxAgeSeconds = requireValid(this, "mfaMaxAgeSeconds", args.mfaMaxAgeSeconds ?? DEFAULT_MFA_MAX_AGE_SECONDS, MFA_MAX_AGE_SECONDS.problem);
        const jumpRoleName = requireValid(this, "jumpRoleName", args.jumpRoleName ?? DEFAULT_JUMP_ROLE_NAME, ROLE_NAME.problem);
        const grantRoleArn = checkedInput(this, "grantRoleArn", args.grantRoleArn, ROLE_ARN.problem);
        const externalId = args.externalId === undefined ? undefined : checkedInput(this, "externalId", args.externalId, secretProblem(EXTERNAL_ID));
        // A federated principal of another account would let that account's people in.
        const federatedPrincipalArn =
            args.federatedPrincipalArn === undefined
                ? undefined
                : pulumi
                      .all([scope, checkedInput(this, "federatedPrincipalArn", args.federatedPrincipalArn, ROLE_ARN.problem)])
                      .apply(([s, arn]) =>
                          requireValid(this, "federatedPrincipalArn", arn, (value) =>
                              arnAccount(value) === s.accountId
                                  ? undefined
                                  : `got "${value}" in account ${arnAccount(value)}; accepted: a role in this account ${s.accountId}`,
                          ),
                      );

        const iamUsers = users.map((user) => new aws.iam.User(`${name}-${user.name}`, { name: user.name, permissionsBoundary, tags: args.tags }, parent));
        const principalArns: pulumi.Input<string>[] = federatedPrincipalArn !== undefined ? [federatedPrincipalArn] : iamUsers.map((u) => u.arn);
        // IAM users are bound to their own user name; federated sessions to the source identity their identity provider set.
        const binding: SessionNameBinding = iamUsers.length > 0 ? "iam-user-name" : "upstream-source-identity";

        const jumpRole = new aws.iam.Role(
            `${name}-jump-role`,
            {
                name: jumpRoleName,
                description: `Assumes ${args.partnerName}'s Session Manager grant role in the instance owner's account`,
                assumeRolePolicy: pulumi.jsonStringify(
                    pulumi
                        .all([scope, pulumi.all(principalArns)])
                        .apply(([s, arns]) => jumpRoleTrustPolicy(s.partition, s.accountId, arns, binding, requireMfa ? mfaMaxAgeSeconds : undefined)),
                ),
                maxSessionDuration: ROLE_CHAIN_SESSION_SECONDS,
                permissionsBoundary,
                tags: args.tags,
            },
            parent,
        );
        new aws.iam.RolePolicy(
            `${name}-assume-grant`,
            {
                role: jumpRole.name,
                policy: pulumi.jsonStringify(
                    pulumi
                        .all([grantRoleArn, externalId === undefined ? undefined : pulumi.secret(externalId)])
                        .apply(([arn, externalId]) => assumeOneRolePolicy(arn, { externalId, sessionNamedAfterSourceIdentity: true, perPersonOsUserBase })),
                ),
            },
            parent,
        );
        const mayAssumeJumpRole = pulumi.jsonStringify(jumpRole.arn.apply((arn) => assumeOneRolePolicy(arn, { binding })));

        this.credentialSecretArns = {};
        if (iamUsers.length > 0) {
            const administrators = credentialAdministrators(this, args.credentialAdministratorArns, scope);
            this.credentialAdministratorArns = administrators;
            const secretPolicy = pulumi.jsonStringify(
                pulumi.all([scope, administrators]).apply(([s, arns]) => credentialSecretPolicy(s.partition, s.accountId, arns)),
            );
            const group = new aws.iam.Group(`${name}-group`, { name: args.groupName ?? DEFAULT_REMOTE_ACCESS_GROUP }, parent);
            new aws.iam.GroupPolicy(`${name}-group-assume-jump`, { group: group.name, policy: mayAssumeJumpRole }, parent);
            // Exclusive membership: the group holds exactly these users.
            new aws.iam.GroupMembership(`${name}-group-members`, { group: group.name, users: iamUsers.map((u) => u.name) }, parent);
            this.groupName = group.name;

            users.forEach((user, i) => {
                // The serial is in the name: bumping it creates a new key, then deletes the old one.
                const key = new aws.iam.AccessKey(`${name}-${user.name}-key-${user.accessKeySerial}`, { user: iamUsers[i].name }, parent);
                const secret = new aws.secretsmanager.Secret(
                    `${name}-${user.name}-access-key`,
                    { description: `Access key of IAM user ${user.name} (remote access to ${args.partnerName}'s grant)`, tags: args.tags },
                    parent,
                );
                // The policy before the key: the key is never stored where a colleague could read it.
                const policy = new aws.secretsmanager.SecretPolicy(
                    `${name}-${user.name}-access-key`,
                    { secretArn: secret.arn, policy: secretPolicy, blockPublicPolicy: true },
                    parent,
                );
                new aws.secretsmanager.SecretVersion(
                    `${name}-${user.name}-access-key`,
                    { secretId: secret.id, secretString: pulumi.secret(pulumi.jsonStringify({ AccessKeyId: key.id, SecretAccessKey: key.secret })) },
                    { parent: this, dependsOn: [policy] },
                );
                this.credentialSecretArns[user.name] = secret.arn;
            });
        } else {
            this.federatedPrincipalPolicy = mayAssumeJumpRole;
        }

        this.jumpRoleArn = jumpRole.arn;
        this.jumpRoleName = jumpRole.name;
        this.registerOutputs({
            jumpRoleArn: this.jumpRoleArn,
            jumpRoleName: this.jumpRoleName,
            groupName: this.groupName,
            credentialSecretArns: this.credentialSecretArns,
            federatedPrincipalPolicy: this.federatedPrincipalPolicy,
            credentialAdministratorArns: this.credentialAdministratorArns,
        });
    }
}

/**
 * Who may read and manage the stored access keys: the named administrators (checked: roles or
 * users of this account) and the principal deploying the stack, as IAM's aws:PrincipalArn names
 * it (a role session's role, path included), so the next deployment may still manage the secrets
 * it refuses to everyone else.
 */
function credentialAdministrators(
    component: pulumi.Resource,
    named: pulumi.Input<string>[] | undefined,
    scope: pulumi.Output<AwsScope>,
): pulumi.Output<string[]> {
    const caller = aws.getCallerIdentityOutput({}, { parent: component });
    const deployer = aws.iam.getSessionContextOutput({ arn: caller.arn }, { parent: component }).issuerArn;
    return pulumi.all([scope, pulumi.all(named ?? []), deployer]).apply(([s, arns, deployerArn]) => {
        arns.forEach((arn, index) =>
            requireValid(component, `credentialAdministratorArns[${index}]`, arn, (value) => {
                const problem = PRINCIPAL_ARN.problem(value);
                if (problem !== undefined) return problem;
                return arnAccount(value) === s.accountId
                    ? undefined
                    : `got "${value}" in account ${arnAccount(value)}; accepted: a role or user of this account ${s.accountId}`;
            }),
        );
        return [...new Set([...arns, deployerArn])];
    });
}
