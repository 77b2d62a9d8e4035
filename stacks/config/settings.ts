// The typed settings each side's program receives once its config is valid, with every
// default applied.

import type * as pulumi from "@pulumi/pulumi";
import type { ShellProfile } from "../../components/documents";
import type { ArchiveRetentionMode, ArchiveStorageClass } from "../../components/session-preferences";

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
    /** Per-person Run As (`runAs: perPerson`): the people, by source identity; each runs as `<osUser>-<name>`. Absent: per partner. */
    people?: string[];
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
        archiveTransitionDays: number;
        archiveTransitionStorageClass: ArchiveStorageClass;
        /** Days after which archived transcripts expire; absent: kept. */
        archiveExpirationDays?: number;
        /** A KMS key of your own to encrypt with, instead of a new one. */
        existingKmsKeyArn?: string;
        /** A bucket of your own to archive to, instead of a new one. */
        existingArchiveBucketName?: string;
        /** The account owning that bucket; absent: this stack's account. */
        existingArchiveBucketAccountId?: string;
        shellProfile?: ShellProfile;
        adoptExistingPreferences: boolean;
    };
    instances: InstanceSettings[];
    partners: PartnerSettings[];
    /** Alerts on sessions and grant-role AssumeRole calls (on by default), and who is subscribed. */
    alerts: { enabled: boolean; emails: string[]; httpsEndpoints: string[] };
    /** Managed policy set as the permissions boundary of every role the stack creates. */
    permissionsBoundaryArn?: string;
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
    /** Users must have signed in with MFA, at most this many seconds ago, to assume the jump role; absent: MFA not required. */
    mfaMaxAgeSeconds?: number;
    /** Who may read the stored access keys besides the deploying principal and the account root. */
    credentialAdministratorArns: string[];
    /** The owner gave per-person Run As: each person tags their session with `<base>-<name>`, their own OS user. */
    perPersonOsUserBase?: string;
    /** Managed policy set as the permissions boundary of every role the stack creates. */
    permissionsBoundaryArn?: string;
}
