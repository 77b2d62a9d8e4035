// Each component, used directly as another project would use it, refuses what the stack
// config refuses: a pulumi.ResourceError naming the argument, and nothing created from the
// refused value. The rules themselves live once, in components/rules.ts.

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
    ManagedInstances,
    MetadataGuard,
    OsUserProvisioning,
    PrivateSsmNetwork,
    RemoteAccessIdentity,
    SessionAlerts,
    SessionPreferences,
    ThirdPartyGrant,
    type ArchiveRetentionMode,
    type ManagedInstancesArgs,
    type PrivateSsmNetworkArgs,
    type RemoteAccessIdentityArgs,
    type SessionPreferencesArgs,
    type ThirdPartyGrantArgs,
} from "../components";
import { runProgram, type ProgramRun } from "../tools/mock-engine";

const grantArgs: ThirdPartyGrantArgs = {
    partnerName: "Vendor_X",
    accessTagKey: "ExternalAccessGrantedTo",
    partnerAccountId: "444444444444",
    principalArns: ["arn:aws:iam::444444444444:role/3P_IAM_Assume_Role"],
    osUser: "os_user_vendor_x",
};
const identityArgs: RemoteAccessIdentityArgs = {
    partnerName: "Vendor_X",
    grantRoleArn: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_Vendor_X",
    users: [{ name: "alice", accessKeySerial: 1 }],
};
const preferencesArgs: SessionPreferencesArgs = {
    logGroupName: "vendor-sessions",
    logRetentionDays: 7,
    defaultOsUser: "no_sudo_user",
    sessionRoleTagKey: "ExternalAccessGrantedTo",
};
const instancesArgs: ManagedInstancesArgs = {
    instances: [{ name: "web-1", partner: "Vendor_X", instanceType: "t3.micro" }],
    subnetIds: ["subnet-0123456789abcdef0"],
    securityGroupIds: ["sg-0123456789abcdef0"],
    accessTagKey: "ExternalAccessGrantedTo",
    defaultAmiId: "ami-0123456789abcdef0",
};
const networkArgs: PrivateSsmNetworkArgs = { vpcCidr: "10.24.34.0/23", availabilityZones: ["us-east-1a", "us-east-1b"] };

interface Case {
    what: string;
    /** The stack whose account the component runs in (`their` for the partner's side). */
    stack?: "yours" | "their";
    /** Builds the component; for a value checked later, returns an output fed from it, which the program exports. */
    build: () => unknown;
    /** The argument the error must name, as the message begins. */
    argument: string;
    /** A value that must not appear in the message (a secret). */
    hidden?: string;
    /** Checked when an Output resolves, so resources that do not depend on it may exist; none that does. */
    later?: boolean;
}

const cases: Case[] = [
    ...(
        [
            ["ThirdPartyGrant", () => new ThirdPartyGrant("g", { ...grantArgs, permissionsBoundary: "arn:aws:iam::111111111111:role/NotAPolicy" })],
            ["ManagedInstances", () => new ManagedInstances("i", { ...instancesArgs, permissionsBoundary: "*" })],
            ["PrivateSsmNetwork", () => new PrivateSsmNetwork("n", { ...networkArgs, permissionsBoundary: "arn:aws:iam::111111111111:policy/*" })],
        ] as const
    ).map(([component, build]) => ({ what: `${component}: a permissions boundary that is not a managed policy ARN`, build, argument: "permissionsBoundary" })),
    {
        what: "SessionPreferences: an archive expiring before its transcripts' lock ends",
        build: () => new SessionPreferences("s", { ...preferencesArgs, s3Archive: true, archiveRetentionDays: 365, archiveExpirationDays: 30 }),
        argument: "archiveExpirationDays",
    },
    {
        what: "ThirdPartyGrant: per-person Run As with a person's name outside the OS user names (a capital)",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, osUser: "os_user_vendor_x", people: ["alice", "Bob"] }),
        argument: "people[1]",
    },
    {
        what: "ThirdPartyGrant: per-person Run As with the one-user document only (the people's users need the list document)",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, people: ["alice"], osUserDocumentName: "os-users-create-os-user" }),
        argument: "osUsersDocumentName",
    },
    {
        what: "ThirdPartyGrant: per-person Run As with a base holding the separator",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, osUser: "os_user_vendor-x", people: ["alice"] }),
        argument: "osUser",
    },
    {
        what: "ThirdPartyGrant: per-person Run As without the source identity each OS user is bound to",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, people: ["alice"], requireSourceIdentity: false }),
        argument: "requireSourceIdentity",
    },
    {
        what: "RemoteAccessIdentity: per-person Run As with a user name that cannot be part of an OS user",
        stack: "their" as const,
        build: () =>
            new RemoteAccessIdentity("r", { ...identityArgs, perPersonOsUserBase: "os_user_vendor_x", users: [{ name: "Alice", accessKeySerial: 1 }] }),
        argument: "users[0].name",
    },
    {
        what: "SessionAlerts: an email subscription that is no address",
        build: () => new SessionAlerts("a", { grantRoleArns: [], emailAddresses: ["security"] }),
        argument: "emailAddresses[0]",
    },
    {
        what: "SessionPreferences: a key of your own that is not a key ARN",
        build: () => new SessionPreferences("s", { ...preferencesArgs, existingKmsKeyArn: "alias/sessions" }),
        argument: "existingKmsKeyArn",
    },
    {
        what: "SessionPreferences: a key of your own in another region (CloudWatch Logs uses keys of its own region only)",
        build: () =>
            new SessionPreferences("s", {
                ...preferencesArgs,
                existingKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            }).kmsKeyArn,
        later: true,
        argument: "existingKmsKeyArn",
    },
    {
        what: "SessionPreferences: a bucket of your own with an Object Lock setting it would ignore",
        build: () => new SessionPreferences("s", { ...preferencesArgs, existingArchiveBucketName: "acme-session-archive", archiveRetentionDays: 30 }),
        argument: "archiveRetentionDays",
    },
    {
        what: "RemoteAccessIdentity: MFA required of a federated principal (its identity provider's to enforce)",
        stack: "their" as const,
        build: () =>
            new RemoteAccessIdentity("r", {
                ...identityArgs,
                users: undefined,
                federatedPrincipalArn: "arn:aws:iam::222222222222:role/AWSReservedSSO_Vendor",
                requireMfa: true,
            }),
        argument: "requireMfa",
    },
    {
        what: "RemoteAccessIdentity: a permissions boundary that is not a managed policy ARN",
        stack: "their" as const,
        build: () => new RemoteAccessIdentity("r", { ...identityArgs, permissionsBoundary: "boundary" }),
        argument: "permissionsBoundary",
    },
    { what: "ThirdPartyGrant: a Run As user with root or sudo", build: () => new ThirdPartyGrant("g", { ...grantArgs, osUser: "root" }), argument: "osUser" },
    {
        what: "ThirdPartyGrant: a Run As user outside the program's namespace (an account something else may have created)",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, osUser: "deploy" }),
        argument: "osUser",
    },
    {
        what: "ThirdPartyGrant: a privileged Run As user that arrives as an Output",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, osUser: pulumi.output("ec2-user") }).roleArn,
        later: true,
        argument: "osUser",
    },
    {
        what: "ThirdPartyGrant: a partner name that is no tag value",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, partnerName: "a::b" }),
        argument: "partnerName",
    },
    {
        what: "ThirdPartyGrant: the Run As tag key as the access tag key",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, accessTagKey: "SSMSessionRunAs" }),
        argument: "accessTagKey",
    },
    {
        what: "ThirdPartyGrant: the partner's account root as principal",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, principalArns: ["arn:aws:iam::444444444444:root"] }),
        argument: "principalArns[0]",
    },
    {
        what: "ThirdPartyGrant: a wildcard principal",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, principalArns: ["arn:aws:iam::444444444444:role/*"] }),
        argument: "principalArns[0]",
    },
    {
        what: "ThirdPartyGrant: a principal of another account",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, principalArns: ["arn:aws:iam::555555555555:role/3P_IAM_Assume_Role"] }),
        argument: "principalArns[0]",
    },
    {
        what: "ThirdPartyGrant: a principal of another account that arrives as an Output (a stack reference)",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, principalArns: pulumi.output(["arn:aws:iam::555555555555:role/3P_IAM_Assume_Role"]) }).roleArn,
        later: true,
        argument: "principalArns[0]",
    },
    { what: "ThirdPartyGrant: no principal", build: () => new ThirdPartyGrant("g", { ...grantArgs, principalArns: [] }), argument: "principalArns" },
    {
        what: "ThirdPartyGrant: a short account id",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, partnerAccountId: "12345" }),
        argument: "partnerAccountId",
    },
    {
        what: "ThirdPartyGrant: an expiry that is no real date",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, expiresAt: "2027-02-30T00:00:00Z" }),
        argument: "expiresAt",
    },
    {
        what: "ThirdPartyGrant: a revocation time without a time zone",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, revokeSessionsIssuedBefore: "2027-01-01T00:00:00" }),
        argument: "revokeSessionsIssuedBefore",
    },
    {
        what: "ThirdPartyGrant: a partner name too long for the default role name",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, partnerName: "P".repeat(60) }),
        argument: "partnerName (in the default roleName)",
    },
    {
        what: "ThirdPartyGrant: a role name over 64 characters",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, roleName: "R".repeat(65) }),
        argument: "roleName",
    },
    {
        what: "ThirdPartyGrant: an external id STS refuses, without showing the secret",
        build: () => new ThirdPartyGrant("g", { ...grantArgs, externalId: pulumi.secret("has a space 0123456789") }).roleArn,
        later: true,
        argument: "externalId",
        hidden: "has a space",
    },
    {
        what: "RemoteAccessIdentity: a one-letter user name (no valid source identity)",
        stack: "their",
        build: () => new RemoteAccessIdentity("i", { ...identityArgs, users: [{ name: "a", accessKeySerial: 1 }] }),
        argument: "users[0].name",
    },
    {
        what: "RemoteAccessIdentity: users and a federated principal together",
        stack: "their",
        build: () => new RemoteAccessIdentity("i", { ...identityArgs, federatedPrincipalArn: "arn:aws:iam::222222222222:role/Engineers" }),
        argument: "users",
    },
    {
        what: "RemoteAccessIdentity: a federated principal of another account",
        stack: "their",
        build: () =>
            new RemoteAccessIdentity("i", { ...identityArgs, users: undefined, federatedPrincipalArn: "arn:aws:iam::999999999999:role/Engineers" }).jumpRoleArn,
        later: true,
        argument: "federatedPrincipalArn",
    },
    {
        what: "RemoteAccessIdentity: a grant that is no role",
        stack: "their",
        build: () => new RemoteAccessIdentity("i", { ...identityArgs, grantRoleArn: "arn:aws:iam::111111111111:user/someone" }),
        argument: "grantRoleArn",
    },
    {
        what: "RemoteAccessIdentity: a jump role name over 64 characters",
        stack: "their",
        build: () => new RemoteAccessIdentity("i", { ...identityArgs, jumpRoleName: "J".repeat(65) }),
        argument: "jumpRoleName",
    },
    {
        what: "SessionPreferences: a privileged default Run As user",
        build: () => new SessionPreferences("s", { ...preferencesArgs, defaultOsUser: "ubuntu" }),
        argument: "defaultOsUser",
    },
    {
        what: "SessionPreferences: a retention CloudWatch Logs refuses",
        build: () => new SessionPreferences("s", { ...preferencesArgs, logRetentionDays: 8 }),
        argument: "logRetentionDays",
    },
    {
        what: "SessionPreferences: an idle timeout over an hour",
        build: () => new SessionPreferences("s", { ...preferencesArgs, idleTimeoutMinutes: 61 }),
        argument: "idleTimeoutMinutes",
    },
    {
        what: "SessionPreferences: a session of no length",
        build: () => new SessionPreferences("s", { ...preferencesArgs, maxSessionDurationMinutes: 0 }),
        argument: "maxSessionDurationMinutes",
    },
    {
        what: "SessionPreferences: an Object Lock mode S3 does not have",
        build: () => new SessionPreferences("s", { ...preferencesArgs, s3Archive: true, archiveRetentionMode: "FOREVER" as ArchiveRetentionMode }),
        argument: "archiveRetentionMode",
    },
    {
        what: "OsUserProvisioning: root as the default user",
        build: () => new OsUserProvisioning("o", { accessTagKey: "ExternalAccessGrantedTo", defaultOsUser: "root" }),
        argument: "defaultOsUser",
    },
    {
        what: "OsUserProvisioning: an AWS-reserved tag key",
        build: () => new OsUserProvisioning("o", { accessTagKey: "aws:owner", defaultOsUser: "no_sudo_user" }),
        argument: "accessTagKey",
    },
    { what: "MetadataGuard: the Run As tag key", build: () => new MetadataGuard("m", { accessTagKey: "SSMSessionRunAs" }), argument: "accessTagKey" },
    {
        what: "ManagedInstances: a partner tag value that is no tag value",
        build: () => new ManagedInstances("m", { ...instancesArgs, instances: [{ name: "web-1", partner: " Vendor", instanceType: "t3.micro" }] }),
        argument: "instances[0].partner",
    },
    {
        what: "ManagedInstances: an instance name with a space",
        build: () => new ManagedInstances("m", { ...instancesArgs, instances: [{ name: "web 1", instanceType: "t3.micro" }] }),
        argument: "instances[0].name",
    },
    {
        what: "PrivateSsmNetwork: an unaligned network",
        build: () => new PrivateSsmNetwork("n", { ...networkArgs, vpcCidr: "10.24.35.0/23" }),
        argument: "vpcCidr",
    },
    {
        what: "PrivateSsmNetwork: more zones than a /28 network can split into",
        build: () => new PrivateSsmNetwork("n", { ...networkArgs, vpcCidr: "10.24.34.0/28", availabilityZones: ["us-east-1a", "us-east-1b"] }),
        argument: "availabilityZones",
    },
];

// Resources that would exist in AWS (not the components themselves, nor the stack).
const cloudResources = (run: ProgramRun) => run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:"));

describe("components guard themselves (used directly, as from another project)", () => {
    for (const c of cases) {
        it(`refuses ${c.what.replace(/^\w+: /, "")} (${c.what.split(":")[0]}.${c.argument})`, async () => {
            const run = await runProgram({
                stack: c.stack ?? "yours",
                reuseModules: true,
                program: () => {
                    const built = c.build();
                    return c.later ? { watched: built } : {};
                },
            });
            expect(run.error, "the program fails").to.be.instanceOf(Error);
            const message = (run.error as Error).message;
            if (c.later) {
                // The engine reports it as the failed registration of the resource fed from the value.
                expect(message, message).to.include(`: ${c.argument}: `);
            } else {
                expect(run.error, "a ResourceError").to.be.instanceOf(pulumi.ResourceError);
                expect(message.startsWith(`${c.argument}: `), message).to.equal(true);
            }
            expect(message).to.match(/accepted: /);
            if (c.hidden !== undefined) expect(message).to.not.include(c.hidden);
            // A plain value is refused before any child exists; an Output before anything fed from it.
            const created = cloudResources(run).map((r) => r.type);
            if (c.later) expect(created.filter((type) => type === "aws:iam/role:Role" || type === "aws:ssm/association:Association")).to.deep.equal([]);
            else expect(created).to.deep.equal([]);
        });
    }

    it("accepts the valid arguments each case starts from (so every refusal above is the one argument's doing)", async () => {
        const run = await runProgram({
            stack: "yours",
            reuseModules: true,
            program: () => {
                new ThirdPartyGrant("g", grantArgs);
                new SessionPreferences("s", preferencesArgs);
                new OsUserProvisioning("o", { accessTagKey: "ExternalAccessGrantedTo", defaultOsUser: "no_sudo_user" });
                new MetadataGuard("m", { accessTagKey: "ExternalAccessGrantedTo" });
                new ManagedInstances("mi", instancesArgs);
                new PrivateSsmNetwork("n", networkArgs);
                return {};
            },
        });
        expect(run.error).to.equal(undefined);
        const their = await runProgram({ stack: "their", reuseModules: true, program: () => (new RemoteAccessIdentity("i", identityArgs), {}) });
        expect(their.error).to.equal(undefined);
        expect(cloudResources(run).length).to.be.greaterThan(10);
    });
});
