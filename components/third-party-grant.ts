// What one third party may do in your account: assume its grant role from its own
// account with its external id, and open Session Manager shells, as its own
// unprivileged OS user, on the instances tagged for it. Nothing else.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ROLE_CHAIN_SESSION_SECONDS, RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, defaultGrantRoleName, personOsUser } from "./constants";
import { checkedInput, optionalBoundary, requireValid } from "./guard";
import { createOsUserAssociation } from "./os-user-provisioning";
import { grantPermissionsPolicy, grantPolicySizeProblem, grantTrustPolicy, type AwsScope, type GrantPermissionsPolicyArgs } from "./policies";
import {
    ACCESS_TAG_KEY,
    ACCOUNT_ID,
    EXTERNAL_ID,
    PARTNER_OS_USER,
    PARTNER_NAME,
    ROLE_NAME,
    TIMESTAMP,
    partnerPrincipalProblem,
    perPersonRunAsProblems,
    secretProblem,
    utcTimestamp,
} from "./rules";
import { scopeFor } from "./scope";
import { componentType, withFormerType } from "./type-tokens";

/** Length of generated external ids: letters and digits, as AWS recommends (2-1224 allowed). */
export const EXTERNAL_ID_LENGTH = 40;

export interface ThirdPartyGrantArgs {
    /** Partner name: the access tag value on its instances and on its grant role. */
    partnerName: string;
    /** Instance tag key naming the partner allowed on an instance, e.g. "ExternalAccessGrantedTo". */
    accessTagKey: string;
    /** The partner's AWS account id. */
    partnerAccountId: pulumi.Input<string>;
    /** Principals in the partner's account that may assume the grant: its jump role ARN(s). */
    principalArns: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * OS user the partner's sessions run as (the role's `SSMSessionRunAs` tag), in the program's
     * namespace: it begins `os_user_`. With `people`, the base of each person's OS user instead
     * (a plain string without "-", e.g. `os_user_a`: alice runs as `os_user_a-alice`).
     */
    osUser: pulumi.Input<string>;
    /**
     * Per-person Run As: the people who connect, by their source identity (the partner's IAM
     * user names, or what its identity provider sets), in lowercase letters, digits and _. Each
     * runs as their own OS user `<osUser>-<name>`, created on the partner's instances; the trust
     * lets a session be tagged only with its own person's OS user, and the role carries no Run
     * As tag. Absent: every session runs as `osUser`.
     */
    people?: string[];
    /** Grant role name. Default `SSMStartSession_IAM_Role_<partnerName>`. */
    roleName?: string;
    /** End of access, ISO 8601 UTC (e.g. "2027-03-31T23:59:59Z"): AssumeRole is refused from then on, and so is every action with credentials issued before. */
    expiresAt?: string;
    /** Refuse credentials issued before this ISO 8601 UTC time (offboarding without waiting for them to expire), like the IAM console's "revoke active sessions". */
    revokeSessionsIssuedBefore?: string;
    /** Refuse AssumeRole without a source identity, and require the role session name to equal it, so CloudTrail and Session Manager name the person. Default true. */
    requireSourceIdentity?: boolean;
    /** External id the partner supplied (treated as a secret); generated when absent. */
    externalId?: pulumi.Input<string>;
    /** Session data KMS key from `SessionPreferences`, when encryption is on. */
    sessionKeyArn?: pulumi.Input<string>;
    /** Command document from `OsUserProvisioning`: when given, the OS user is created on the partner's instances. */
    osUserDocumentName?: pulumi.Input<string>;
    /**
     * With `people`: the list document from `OsUserProvisioning` (`usersDocumentName`), which
     * creates all the people's OS users in one association (State Manager allows 2,000 per
     * account and region), in place of `osUserDocumentName`.
     */
    osUsersDocumentName?: pulumi.Input<string>;
    /** ARN of a managed policy set as the permissions boundary of every role this component creates: the most any of them may do, whatever its own policies say. */
    permissionsBoundary?: pulumi.Input<string>;
    /** Account, region and partition of this component's provider, when the caller already has them (saves three lookups per component); looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** One partner's grant: external id, grant role with trust and permissions, and its OS user on its instances. */
export class ThirdPartyGrant extends pulumi.ComponentResource {
    /** ARN of the grant role: the partner's jump role assumes it with the external id. */
    public readonly roleArn: pulumi.Output<string>;
    /** Name of the grant role. */
    public readonly roleName: pulumi.Output<string>;
    /** The external id the partner must send; a secret. */
    public readonly externalId: pulumi.Output<string>;
    /** OS user the partner's sessions run as (the role's `SSMSessionRunAs` tag). */
    public readonly osUser: pulumi.Output<string>;
    /** The partner's name: the access tag value on its instances and on its grant role. */
    public readonly partnerName: string;
    /** End of access in UTC, when one was given. */
    public readonly expiresAt?: string;
    /** Credentials issued before this UTC instant are refused, when one was given. */
    public readonly revokeSessionsIssuedBefore?: string;
    /** The principals of the partner's account its trust names (checked ARNs). */
    public readonly trustedPrincipalArns: pulumi.Output<string[]>;
    /** Its trust requires a source identity, and the role session to be named after it. */
    public readonly requiresSourceIdentity: boolean;
    /** With per-person Run As: each person's OS user, by the person's name (source identity). */
    public readonly personOsUsers?: Record<string, string>;

    constructor(name: string, args: ThirdPartyGrantArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ThirdPartyGrant"), name, {}, withFormerType("ThirdPartyGrant", "grants", opts));
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);

        // The same rules the stack config applies, so the component is safe however it is called.
        requireValid(this, "partnerName", args.partnerName, PARTNER_NAME.problem);
        requireValid(this, "accessTagKey", args.accessTagKey, ACCESS_TAG_KEY.problem);
        const roleName = args.roleName ?? defaultGrantRoleName(args.partnerName);
        requireValid(this, args.roleName === undefined ? "partnerName (in the default roleName)" : "roleName", roleName, ROLE_NAME.problem);
        const expiresAt = optionalInstant(this, "expiresAt", args.expiresAt);
        const revokeSessionsIssuedBefore = optionalInstant(this, "revokeSessionsIssuedBefore", args.revokeSessionsIssuedBefore);
        const requireSourceIdentity = args.requireSourceIdentity ?? true;
        const people = args.people;
        if (people !== undefined) {
            requireValid(this, "osUser", args.osUser, (value) =>
                typeof value === "string" ? undefined : 'is not a plain string with people; accepted: the base name itself, e.g. "os_user_a"',
            );
            for (const { argument, problem } of perPersonRunAsProblems({ osUser: args.osUser as string, people, requireSourceIdentity }))
                requireValid(this, argument, undefined, () => problem);
            if (args.osUserDocumentName !== undefined && args.osUsersDocumentName === undefined)
                requireValid(
                    this,
                    "osUsersDocumentName",
                    undefined,
                    () =>
                        "is missing with people and osUserDocumentName; accepted: the list document (OsUserProvisioning with usersDocument: true, its usersDocumentName), which creates every person's OS user",
                );
        }
        const osUser = checkedInput(this, "osUser", args.osUser, PARTNER_OS_USER.problem);
        const personOsUsers = people && Object.fromEntries(people.map((person) => [person, personOsUser(args.osUser as string, person)]));
        const permissionsBoundary = optionalBoundary(this, args.permissionsBoundary);
        const partnerAccountId = checkedInput(this, "partnerAccountId", args.partnerAccountId, ACCOUNT_ID.problem);
        const checkPrincipals = (accountId: string, arns: string[]): string[] => {
            if (arns.length === 0)
                requireValid(this, "principalArns", arns, () => "is empty; accepted: at least one IAM role or user ARN in the partner's account");
            arns.forEach((arn, index) => requireValid(this, `principalArns[${index}]`, arn, (value) => partnerPrincipalProblem(value, accountId)));
            return arns;
        };
        // Plain values are checked now, before any child; values from other resources (a stack reference) when they resolve.
        const plainArns = args.principalArns;
        if (typeof partnerAccountId === "string" && Array.isArray(plainArns) && plainArns.every((arn) => typeof arn === "string")) {
            checkPrincipals(partnerAccountId, plainArns as string[]);
        }
        const principalArns = pulumi.all([partnerAccountId, args.principalArns]).apply(([accountId, arns]) => checkPrincipals(accountId, arns));

        // Named from the grant, so adding or removing another partner never touches it.
        // Rotate on purpose with `pulumi up --replace <urn of this RandomPassword>`.
        const externalId =
            args.externalId === undefined
                ? new random.RandomPassword(`${name}-external-id`, { length: EXTERNAL_ID_LENGTH, special: false }, parent).result
                : pulumi.output(checkedInput(this, "externalId", args.externalId, secretProblem(EXTERNAL_ID)));
        this.externalId = pulumi.secret(externalId);

        // One apply per document, straight to JSON: a grant is created per partner, and each
        // Output costs the engine a promise (see the benchmark).
        const trustJson = pulumi.all([scope, partnerAccountId, principalArns, this.externalId]).apply(([s, accountId, arns, id]) =>
            JSON.stringify(
                grantTrustPolicy({
                    partition: s.partition,
                    region: s.region,
                    partnerAccountId: accountId,
                    principalArns: arns,
                    externalId: id,
                    expiresAt,
                    requireSourceIdentity,
                    perPersonOsUserBase: people && (args.osUser as string),
                }),
            ),
        );
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                name: roleName,
                description: `Session Manager access for third party ${args.partnerName} to instances tagged ${args.accessTagKey}=${args.partnerName}`,
                assumeRolePolicy: trustJson,
                maxSessionDuration: ROLE_CHAIN_SESSION_SECONDS,
                permissionsBoundary,
                // Per person, no Run As tag: a session without its person's tag (the trust requires one) would get the unprivileged default user.
                tags: { ...args.tags, [args.accessTagKey]: args.partnerName, ...(people === undefined ? { [RUN_AS_TAG_KEY]: osUser } : {}) },
            },
            parent,
        );
        new aws.iam.RolePolicy(
            `${name}-session-access`,
            {
                role: role.name,
                policy: pulumi.all([scope, args.sessionKeyArn]).apply(([s, sessionKeyArn]) => {
                    const permissions: GrantPermissionsPolicyArgs = {
                        scope: s,
                        accessTagKey: args.accessTagKey,
                        sessionDocumentName: SESSION_PREFERENCES_DOCUMENT,
                        sessionKeyArn,
                        expiresAt,
                        revokeSessionsIssuedBefore,
                        perPerson: people && { people, partnerName: args.partnerName },
                    };
                    // The people are listed in the policy: a list IAM would refuse fails here, naming the argument.
                    if (people !== undefined) requireValid(this, "people", permissions, grantPolicySizeProblem);
                    return JSON.stringify(grantPermissionsPolicy(permissions));
                }),
            },
            parent,
        );

        const target = { key: `tag:${args.accessTagKey}`, values: [args.partnerName] };
        if (personOsUsers !== undefined && args.osUsersDocumentName !== undefined)
            createOsUserAssociation(`${name}-os-users`, {
                documentName: args.osUsersDocumentName,
                userNames: Object.values(personOsUsers),
                target,
                parent: this,
            });
        else if (personOsUsers === undefined && args.osUserDocumentName !== undefined)
            createOsUserAssociation(`${name}-os-user`, { documentName: args.osUserDocumentName, userName: osUser, target, parent: this });

        this.roleArn = role.arn;
        this.roleName = role.name;
        this.osUser = pulumi.output(osUser);
        this.partnerName = args.partnerName;
        this.expiresAt = expiresAt;
        this.revokeSessionsIssuedBefore = revokeSessionsIssuedBefore;
        this.trustedPrincipalArns = principalArns;
        this.requiresSourceIdentity = requireSourceIdentity;
        this.personOsUsers = personOsUsers;
        this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName, externalId: this.externalId, osUser: this.osUser });
    }
}

/** A checked instant in the form IAM conditions compare (UTC, whole seconds), or undefined. */
function optionalInstant(component: pulumi.Resource, argName: string, value: string | undefined): string | undefined {
    return value === undefined ? undefined : utcTimestamp(requireValid(component, argName, value, TIMESTAMP.problem));
}
