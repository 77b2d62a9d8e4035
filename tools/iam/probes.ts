// Requests that probe one protection each, shared by the scenario catalogue and the
// access review: what a shell on an instance signs with, instance credentials used from
// somewhere, and resource policies of your account that invite every principal of it.

import type { PolicyDocument } from "../../components/policies";
import { ANONYMOUS, type AccessRequest, type InstanceCredentials } from "./evaluate";
import type { PictureInstance } from "./picture";
import { RUN_AS_TAG_KEY } from "../../components/constants";

/** The identity a role session carries in the access review and model when no person is named: its source identity and session name. */
export const REVIEW_IDENTITY = "reviewer";

/** A person no per-person grant can list (names are [a-z0-9_]; "-" separates the base): whose OS user is someone else's, and who is not listed. */
export const SOMEONE_ELSE = "someone-else";

/** An external id no config generates (generated ones are alphanumeric): what a caller who guesses presents. */
export const WRONG_EXTERNAL_ID = "review-wrong-external-id";

/** A person's MFA sign-in a minute ago, as `aws sts get-session-token` with a code gives it: how the partner's people sign (MFA is their default). */
export const SIGNED_IN_WITH_MFA: Readonly<Record<string, string>> = { "aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "60" };

/** The context of a hop in a chain whose source identity was set earlier: the identity it carries, and the session name the caller asks for. */
export function chainedAs(sourceIdentity: string, sessionName = sourceIdentity): Record<string, string> {
    return { "aws:SourceIdentity": sourceIdentity, "sts:SourceIdentity": sourceIdentity, "sts:RoleSessionName": sessionName };
}

/** The context of an AssumeRole or TagSession passing one session tag, the Run As tag naming `osUser`. */
export function runAsTagged(osUser: string): Record<string, string | string[]> {
    return { [`aws:RequestTag/${RUN_AS_TAG_KEY}`]: osUser, "aws:TagKeys": [RUN_AS_TAG_KEY] };
}

/** Whether a non-root user on the instance is kept from the metadata service: at every boot, and re-applied by State Manager. */
export function metadataGuarded(instance: PictureInstance): boolean {
    return instance.metadataGuardAtBoot && instance.metadataGuardReapplied;
}

/** A request signed with the instance role's credentials of `instance`, used from where `from` says. */
export function withInstanceCredentials(
    instance: PictureInstance,
    action: string,
    resource: string,
    from: InstanceCredentials["from"] = "instance",
): AccessRequest {
    if (instance.roleArn === undefined) throw new Error(`instance ${instance.name} has no instance role`);
    return { principal: instance.roleArn, sessionName: instance.id, action, resource, instanceCredentials: { instance, from } };
}

/**
 * A partner's non-root shell on an instance: it signs with the instance role's
 * credentials when the metadata service answers it, and with none when the instance
 * keeps the metadata service closed to non-root users. Either way its requests leave
 * through the instance's VPC.
 */
export function fromShellOn(instance: PictureInstance, action: string, resource: string): AccessRequest {
    if (metadataGuarded(instance) || instance.roleArn === undefined) return { principal: ANONYMOUS, action, resource, throughVpc: instance.vpcId };
    return withInstanceCredentials(instance, action, resource, "instance");
}

/** A resource policy of your account inviting every principal of the account: a common bucket, key or trust policy nobody wrote for the partner. */
export function invitesTheAccount(accountId: string, action: string, resource: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: action,
                Resource: resource,
                Condition: { StringEquals: { "aws:PrincipalAccount": accountId } },
            },
        ],
    };
}

/** A public bucket's policy: anyone may read its objects. */
export function publicRead(bucketArn: string): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `${bucketArn}/*` }] };
}

/** A region other than `region`, for probes that must be refused outside the stack's region. */
export function anotherRegion(region: string): string {
    return region === "eu-west-1" ? "us-east-1" : "eu-west-1";
}
