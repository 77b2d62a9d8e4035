// Who the two profiles are, checked before anything else: each profile's account must
// be one its stack pins in `aws:allowedAccountIds`, as the AWS provider itself
// requires for `pulumi up`. A profile pointing at the wrong account (production
// instead of a test account, a partner's instead of yours) stops the check before
// any call but sts:GetCallerIdentity.

import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { parseArn } from "./aws";
import { SetupError } from "./stacks";
import { describeError } from "./verdicts";

export interface Identity {
    account: string;
    arn: string;
    userId: string;
}

/** sts:GetCallerIdentity; a failure (unknown profile, expired keys) is a SetupError naming the profile. */
export async function identify(sts: STSClient, profile: string): Promise<Identity> {
    let answer;
    try {
        answer = await sts.send(new GetCallerIdentityCommand({}));
    } catch (error) {
        throw new SetupError(`cannot tell who profile "${profile}" is (sts:GetCallerIdentity): ${describeError(error)}`);
    }
    if (!answer.Account || !answer.Arn || !answer.UserId) throw new SetupError(`sts:GetCallerIdentity for profile "${profile}" answered without an account`);
    return { account: answer.Account, arn: answer.Arn, userId: answer.UserId };
}

/** A profile and the stack whose account it must be in. */
export interface AccountExpectation {
    option: string;
    profile: string;
    identity: Identity;
    stack: string;
    configFile: string;
    allowedAccountIds: string[];
}

/** One message per profile whose account its stack does not allow; empty when both are allowed. */
export function accountRefusals(expectations: AccountExpectation[]): string[] {
    return expectations
        .filter((e) => !e.allowedAccountIds.includes(e.identity.account))
        .map(
            (e) =>
                `${e.option} ${e.profile} is account ${e.identity.account} (${e.identity.arn}), which stack ${e.stack} does not allow: ` +
                `aws:allowedAccountIds in ${e.configFile} is ${e.allowedAccountIds.join(", ")}`,
        );
}

/**
 * The person a partner profile's credentials belong to: the IAM user name (the jump
 * role requires the role session name and source identity to equal it), unless given.
 */
export function personOf(identity: Identity, given: string | undefined): string {
    const name = given ?? iamUserName(identity.arn);
    if (name === undefined) {
        throw new SetupError(
            `--partner-profile is ${identity.arn}, not an IAM user: give --person <name>, the source identity your identity provider sets for you`,
        );
    }
    // The rules STS applies to a role session name and a source identity.
    if (!/^[\w+=,.@-]{2,64}$/.test(name)) throw new SetupError(`person "${name}" cannot be a role session name (2-64 letters, digits and _+=,.@-)`);
    return name;
}

/** The user name of an IAM user ARN (`user/path/name`), or undefined for any other principal. */
export function iamUserName(arn: string): string | undefined {
    const parsed = parseArn(arn);
    if (parsed?.service !== "iam" || !parsed.resource.startsWith("user/")) return undefined;
    return parsed.resource.split("/").pop();
}
