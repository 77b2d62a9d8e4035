// What one third party may do in your account: assume its grant role from its own
// account with its external id, and open Session Manager shells, as its own
// unprivileged OS user, on the instances tagged for it. Nothing else.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, defaultGrantRoleName } from "./constants";
import { createOsUserAssociation } from "./os-user-provisioning";
import { grantPermissionsPolicy, grantTrustPolicy, type AwsScope } from "./policies";
import { scopeFor } from "./scope";

/** Role chaining caps the grant role's sessions at one hour anyway; asking for more fails. */
export const GRANT_SESSION_SECONDS = 3600;

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
    /** OS user the partner's sessions run as (the role's `SSMSessionRunAs` tag). */
    osUser: pulumi.Input<string>;
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
    /** Account, region and partition of this component's provider, when the caller already has them (saves three lookups per component); looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** One partner's grant: external id, grant role with trust and permissions, and its OS user on its instances. */
export class ThirdPartyGrant extends pulumi.ComponentResource {
    public readonly roleArn: pulumi.Output<string>;
    public readonly roleName: pulumi.Output<string>;
    /** The external id the partner must send; a secret. */
    public readonly externalId: pulumi.Output<string>;
    public readonly osUser: pulumi.Output<string>;
    public readonly partnerName: string;
    public readonly expiresAt?: string;
    public readonly revokeSessionsIssuedBefore?: string;

    constructor(name: string, args: ThirdPartyGrantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("third-party-ssm-access:grants:ThirdPartyGrant", name, {}, opts);
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);

        // Named from the grant, so adding or removing another partner never touches it.
        // Rotate on purpose with `pulumi up --replace <urn of this RandomPassword>`.
        const externalId =
            args.externalId === undefined
                ? new random.RandomPassword(`${name}-external-id`, { length: EXTERNAL_ID_LENGTH, special: false }, parent).result
                : pulumi.output(args.externalId);
        this.externalId = pulumi.secret(externalId);

        // One apply per document, straight to JSON: a grant is created per partner, and each
        // Output costs the engine a promise (see the benchmark).
        const trustJson = pulumi.all([scope, args.partnerAccountId, args.principalArns, this.externalId]).apply(([s, partnerAccountId, principalArns, id]) =>
            JSON.stringify(
                grantTrustPolicy({
                    partition: s.partition,
                    partnerAccountId,
                    principalArns,
                    externalId: id,
                    expiresAt: args.expiresAt,
                    requireSourceIdentity: args.requireSourceIdentity ?? true,
                }),
            ),
        );
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                name: args.roleName ?? defaultGrantRoleName(args.partnerName),
                description: `Session Manager access for third party ${args.partnerName} to instances tagged ${args.accessTagKey}=${args.partnerName}`,
                assumeRolePolicy: trustJson,
                maxSessionDuration: GRANT_SESSION_SECONDS,
                tags: { ...args.tags, [args.accessTagKey]: args.partnerName, [RUN_AS_TAG_KEY]: args.osUser },
            },
            parent,
        );
        new aws.iam.RolePolicy(
            `${name}-session-access`,
            {
                role: role.name,
                policy: pulumi.all([scope, args.sessionKeyArn]).apply(([s, sessionKeyArn]) =>
                    JSON.stringify(
                        grantPermissionsPolicy({
                            scope: s,
                            accessTagKey: args.accessTagKey,
                            sessionDocumentName: SESSION_PREFERENCES_DOCUMENT,
                            sessionKeyArn,
                            expiresAt: args.expiresAt,
                            revokeSessionsIssuedBefore: args.revokeSessionsIssuedBefore,
                        }),
                    ),
                ),
            },
            parent,
        );

        if (args.osUserDocumentName !== undefined) {
            createOsUserAssociation(`${name}-os-user`, {
                documentName: args.osUserDocumentName,
                userName: args.osUser,
                target: { key: `tag:${args.accessTagKey}`, values: [args.partnerName] },
                parent: this,
            });
        }

        this.roleArn = role.arn;
        this.roleName = role.name;
        this.osUser = pulumi.output(args.osUser);
        this.partnerName = args.partnerName;
        this.expiresAt = args.expiresAt;
        this.revokeSessionsIssuedBefore = args.revokeSessionsIssuedBefore;
        this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName, externalId: this.externalId, osUser: this.osUser });
    }
}
