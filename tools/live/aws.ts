// The AWS SDK v3 clients the live check uses, behind one factory so tests can give
// credentials of their own (and mock the clients with aws-sdk-client-mock). Every
// client gets its region and credentials explicitly: nothing comes from the
// environment's default profile, so a stray AWS_PROFILE or AWS_ACCESS_KEY_ID never
// decides which account is checked.

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient, type Credentials as StsCredentials } from "@aws-sdk/client-sts";
import { fromIni } from "@aws-sdk/credential-providers";

/** Credentials as the SDK takes them. */
export interface Credentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
}

export type CredentialsProvider = () => Promise<Credentials>;

export interface AwsClients {
    /** A profile of the user's AWS config and credentials files (IAM user keys, SSO, credential_process...). */
    profileCredentials(profile: string): CredentialsProvider;
    sts(region: string, credentials: Credentials | CredentialsProvider): STSClient;
    ssm(region: string, credentials: Credentials | CredentialsProvider): SSMClient;
    ec2(region: string, credentials: Credentials | CredentialsProvider): EC2Client;
    logs(region: string, credentials: Credentials | CredentialsProvider): CloudWatchLogsClient;
    cloudwatch(region: string, credentials: Credentials | CredentialsProvider): CloudWatchClient;
}

export const sdkClients: AwsClients = {
    // fromIni reads the named profile only; the default provider chain would prefer environment keys.
    profileCredentials: (profile) => fromIni({ profile }),
    sts: (region, credentials) => new STSClient({ region, credentials }),
    ssm: (region, credentials) => new SSMClient({ region, credentials }),
    ec2: (region, credentials) => new EC2Client({ region, credentials }),
    logs: (region, credentials) => new CloudWatchLogsClient({ region, credentials }),
    cloudwatch: (region, credentials) => new CloudWatchClient({ region, credentials }),
};

/** The credentials in an AssumeRole answer, or undefined when it has none. */
export function assumedCredentials(credentials: StsCredentials | undefined): Credentials | undefined {
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) return undefined;
    return {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
        expiration: credentials.Expiration,
    };
}

/** The parts of an ARN: partition, service, region, account and resource (which may contain colons). */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } | undefined {
    const parts = arn.split(":");
    if (parts.length < 6 || parts[0] !== "arn") return undefined;
    return { partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts.slice(5).join(":") };
}
