// The AWS CLI configuration a third party's people use: pure text built from the
// role ARNs and the external id. The CLI cannot set a source identity from a config
// file, so the jump profile gets its credentials from `aws sts assume-role
// --source-identity` through credential_process; the identity then follows the chain. With
// MFA required, that call signs with a session token the person got with an MFA code.

import { ROLE_CHAIN_SESSION_SECONDS, RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, personOsUser } from "./constants";

/** One person who connects: an IAM user of the remote-access group, or someone signing in through federation. */
export interface CliPerson {
    /** Profile name part, role session name and source identity: the jump role's trust requires all three to be the person's own name. */
    name: string;
    /** The profile holding this person's own credentials (IAM user keys or an SSO profile). */
    credentialsProfile: string;
    /** How to fill that profile, as comment lines. */
    credentialsHint: string[];
}

export interface CliConfigArgs {
    partnerName: string;
    /** Region of the owner's instances. */
    region: string;
    jumpRoleArn: string;
    grantRoleArn: string;
    externalId: string;
    /** Instance tag key the owner grants access by. */
    accessTagKey: string;
    people: CliPerson[];
    /**
     * When the jump role requires MFA: each person's MFA device is `<mfaDevicePrefix><name>`
     * (e.g. "arn:aws:iam::222222222222:mfa/"), and the sign-in lasts `maxAgeSeconds`.
     */
    mfa?: { mfaDevicePrefix: string; maxAgeSeconds: number };
    /** Per-person Run As: each person tags their grant session with their own OS user, `<base>-<name>` (the grant requires it). */
    perPersonOsUserBase?: string;
}

/** AWS CLI profile names allow letters, digits and _ . - */
export function profileBase(partnerName: string): string {
    return partnerName.replace(/[^A-Za-z0-9_.-]+/g, "-").toLowerCase();
}

const CREDENTIAL_PROCESS_QUERY =
    "{Version:`1`,AccessKeyId:Credentials.AccessKeyId,SecretAccessKey:Credentials.SecretAccessKey,SessionToken:Credentials.SessionToken,Expiration:Credentials.Expiration}";

/** Name of the profile a person uses to reach the owner's instances. */
export function sessionProfileName(partnerName: string, person: Pick<CliPerson, "name">): string {
    return `${profileBase(partnerName)}-${person.name}`;
}

/** The ~/.aws/config text: per person, a jump profile (with source identity) and the session profile. */
export function awsCliConfig(args: CliConfigArgs): string {
    const lines = [
        `# AWS CLI profiles for ${args.partnerName}: Session Manager access to the owner's instances.`,
        "# Contains the external id: keep it private. Append to ~/.aws/config.",
        "# Needs the AWS CLI v2 and the session-manager-plugin.",
    ];
    for (const person of args.people) {
        const jump = `${sessionProfileName(args.partnerName, person)}-jump`;
        // With MFA, the jump step signs with the person's MFA session instead of the long-term keys:
        // credential_process cannot prompt, so the code is given once per sign-in, beforehand.
        const signedIn = args.mfa === undefined ? person.credentialsProfile : `${sessionProfileName(args.partnerName, person)}-mfa`;
        lines.push(
            "",
            `# ${person.name}: credentials come from the profile "${person.credentialsProfile}".`,
            ...person.credentialsHint.map((line) => `# ${line}`),
            ...(args.mfa === undefined ? [] : mfaSignInHint(person, signedIn, args.mfa).map((line) => `# ${line}`)),
            `[profile ${jump}]`,
            `region = ${args.region}`,
            // Per person the grant step runs `aws sts assume-role --profile <this>`: it takes this profile's STS endpoint setting.
            ...(args.perPersonOsUserBase === undefined ? [] : ["sts_regional_endpoints = regional"]),
            `credential_process = aws sts assume-role --profile ${signedIn} --role-arn ${args.jumpRoleArn} --role-session-name ${person.name} --source-identity ${person.name} --output json --query "${CREDENTIAL_PROCESS_QUERY}"`,
            "",
            `[profile ${sessionProfileName(args.partnerName, person)}]`,
            `region = ${args.region}`,
            ...(args.perPersonOsUserBase === undefined ? grantProfile(args, jump, person) : taggedGrantProfile(args, args.perPersonOsUserBase, jump, person)),
        );
    }
    return `${lines.join("\n")}\n`;
}

// The grant step as a role profile: the CLI assumes the grant itself.
function grantProfile(args: CliConfigArgs, jump: string, person: CliPerson): string[] {
    return [
        // The grant is issued only by this region's STS endpoint (its trust checks aws:RequestedRegion).
        "sts_regional_endpoints = regional",
        `role_arn = ${args.grantRoleArn}`,
        `source_profile = ${jump}`,
        `external_id = ${args.externalId}`,
        `role_session_name = ${person.name}`,
        `duration_seconds = ${ROLE_CHAIN_SESSION_SECONDS}`,
    ];
}

// The grant step with the person's Run As session tag: a role profile cannot pass session tags
// (the CLI's assume-role provider sends none), so it calls assume-role itself, through the jump
// profile, in the grant's region and at its regional STS endpoint (the jump profile sets
// sts_regional_endpoints; "AWS STS Regional endpoints", AWS SDKs and Tools Reference Guide, gives
// legacy, the global endpoint, as the general default): the grant's trust checks aws:RequestedRegion.
function taggedGrantProfile(args: CliConfigArgs, base: string, jump: string, person: CliPerson): string[] {
    return [
        `credential_process = aws sts assume-role --profile ${jump} --region ${args.region} --role-arn ${args.grantRoleArn} --external-id ${args.externalId} ` +
            `--role-session-name ${person.name} --tags Key=${RUN_AS_TAG_KEY},Value=${personOsUser(base, person.name)} --duration-seconds ${ROLE_CHAIN_SESSION_SECONDS} ` +
            `--output json --query "${CREDENTIAL_PROCESS_QUERY}"`,
    ];
}

// The MFA sign-in: a session token from the person's keys and MFA code, stored as the profile the jump step uses.
function mfaSignInHint(person: CliPerson, profile: string, mfa: NonNullable<CliConfigArgs["mfa"]>): string[] {
    return [
        `The jump role requires MFA: ${person.name} signs in with the MFA device ${mfa.mfaDevicePrefix}${person.name} (valid ${mfa.maxAgeSeconds / 3600} h),`,
        `replacing 123456 with the current code:`,
        `  aws sts get-session-token --profile ${person.credentialsProfile} --serial-number ${mfa.mfaDevicePrefix}${person.name} --token-code 123456 \\`,
        `    --duration-seconds ${mfa.maxAgeSeconds} --output text --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' \\`,
        `    | { read -r k s t; aws configure set aws_access_key_id "$k" --profile ${profile}; aws configure set aws_secret_access_key "$s" --profile ${profile}; aws configure set aws_session_token "$t" --profile ${profile}; }`,
    ];
}

/** The blog's command listing the instances the partner may use, with a profile. */
export function listInstancesCommand(args: Pick<CliConfigArgs, "partnerName" | "accessTagKey">, profile: string): string {
    return (
        `aws ec2 describe-instances --profile ${profile} --filters "Name=tag:${args.accessTagKey},Values=${args.partnerName}" ` +
        `--query 'Reservations[*].Instances[*].{Instance:InstanceId,Status:State.Name,Name:Tags[?Key==\`Name\`]|[0].Value,ExternalAccess:Tags[?Key==\`${args.accessTagKey}\`]|[0].Value}' --output table`
    );
}

/**
 * The command opening a shell on one instance. It names the session document: with
 * `ssm:SessionDocumentAccessCheck` in the grant, a session without `--document-name` is
 * refused ("Start a session with a document by specifying the session documents in IAM
 * policies", AWS Systems Manager User Guide).
 */
export function startSessionCommand(instanceId: string, profile: string, documentName: string = SESSION_PREFERENCES_DOCUMENT): string {
    return `aws ssm start-session --target ${instanceId} --document-name ${documentName} --profile ${profile}`;
}
