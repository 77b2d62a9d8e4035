// The AWS CLI configuration a third party's people use: pure text built from the
// role ARNs and the external id. The CLI cannot set a source identity from a config
// file, so the jump profile gets its credentials from `aws sts assume-role
// --source-identity` through credential_process; the identity then follows the chain.

import { ROLE_CHAIN_SESSION_SECONDS, SESSION_PREFERENCES_DOCUMENT } from "./constants";

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
        lines.push(
            "",
            `# ${person.name}: credentials come from the profile "${person.credentialsProfile}".`,
            ...person.credentialsHint.map((line) => `# ${line}`),
            `[profile ${jump}]`,
            `region = ${args.region}`,
            `credential_process = aws sts assume-role --profile ${person.credentialsProfile} --role-arn ${args.jumpRoleArn} --role-session-name ${person.name} --source-identity ${person.name} --output json --query "${CREDENTIAL_PROCESS_QUERY}"`,
            "",
            `[profile ${sessionProfileName(args.partnerName, person)}]`,
            `region = ${args.region}`,
            `role_arn = ${args.grantRoleArn}`,
            `source_profile = ${jump}`,
            `external_id = ${args.externalId}`,
            `role_session_name = ${person.name}`,
            `duration_seconds = ${ROLE_CHAIN_SESSION_SECONDS}`,
        );
    }
    return `${lines.join("\n")}\n`;
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
