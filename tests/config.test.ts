// Config validation: a catalogue of malformed configs, each run through the real
// program under mocks. Each must fail with a ConfigError that names the key as a
// user types it for `pulumi config set --path`, says what is accepted, and leaves
// nothing registered. Then the sample configs and the normalisations.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { loadTheirSettings, loadYoursSettings, type ConfigIssue } from "../stacks/config";
import { FIXTURES_DIR, resolve, runProgram } from "../tools/mock-engine";

interface BadConfig {
    title: string;
    stack: "yours" | "their";
    set: Record<string, unknown>;
    secretKeys?: string[];
    /** The key path the error must name. */
    key: string;
    /** Words the message must contain, besides "accepted". */
    says?: RegExp;
}

const LONG = "x".repeat(257);

const catalogue: BadConfig[] = [
    { title: "side missing", stack: "yours", set: { side: undefined }, key: "side", says: /is required/ },
    { title: "side not a known program", stack: "yours", set: { side: "mine" }, key: "side", says: /"yours".*"their"/ },
    { title: "account id too short", stack: "yours", set: { "partners[1].accountId": "12345" }, key: "partners[1].accountId", says: /12-digit/ },
    { title: "account id as an 11-digit number", stack: "yours", set: { "partners[0].accountId": 12345678901 }, key: "partners[0].accountId" },
    { title: "account id with letters", stack: "their", set: { yoursAccountId: "11111111111a" }, key: "yoursAccountId" },
    {
        title: "partner name with a character IAM tags refuse",
        stack: "yours",
        set: { "partners[0].name": "Acme!" },
        key: "partners[0].name",
        says: /tag value/,
    },
    { title: "partner name over 256 characters", stack: "yours", set: { "partners[0].name": LONG }, key: "partners[0].name" },
    { title: "partner name repeated", stack: "yours", set: { "partners[1].name": "Third_Party_A" }, key: "partners[1].name", says: /unique/ },
    {
        title: "partner name making the default role name too long",
        stack: "yours",
        set: { "partners[0].name": "P".repeat(50) },
        key: "partners[0].name",
        says: /roleName/,
    },
    { title: "partner name with a space and no roleName", stack: "yours", set: { "partners[0].name": "Acme Corp" }, key: "partners[0].name", says: /roleName/ },
    { title: "OS user root", stack: "yours", set: { "partners[0].osUser": "root" }, key: "partners[0].osUser", says: /namespace: "os_user_"/ },
    {
        title: "a partner's OS user outside the program's namespace (Run As would use whatever account has that name)",
        stack: "yours",
        set: { "partners[0].osUser": "alice" },
        key: "partners[0].osUser",
        says: /got "alice"; accepted: a Linux user name in this program's namespace: "os_user_"/,
    },
    { title: "OS user ec2-user (has sudo)", stack: "yours", set: { "sessions.defaultOsUser": "ec2-user" }, key: "sessions.defaultOsUser", says: /sudo/ },
    { title: "OS user with capitals", stack: "yours", set: { "partners[0].osUser": "Alice" }, key: "partners[0].osUser" },
    { title: "OS user that injects shell", stack: "yours", set: { "partners[1].osUser": "x; rm -rf /" }, key: "partners[1].osUser" },
    { title: "OS user shared by two partners", stack: "yours", set: { "partners[1].osUser": "os_user_a_alice" }, key: "partners[1].osUser", says: /own/ },
    {
        title: "per-person Run As without people",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_a" },
        key: "partners[0].people",
        says: /names of the people/,
    },
    { title: "Run As mode unknown", stack: "yours", set: { "partners[0].runAs": "perUser" }, key: "partners[0].runAs", says: /"perPerson"/ },
    {
        title: "people without per-person Run As",
        stack: "yours",
        set: { "partners[0].people": ["alice"] },
        key: "partners[0].people",
        says: /runAs set to "perPerson"/,
    },
    {
        title: "per-person base containing the separator (one partner's people could be named as another's)",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_a-x", "partners[0].people": ["alice"] },
        key: "partners[0].osUser",
        says: /without "-"/,
    },
    {
        title: "per-person name with a capital (Linux names are case-sensitive)",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_a", "partners[0].people": ["Alice"] },
        key: "partners[0].people[0]",
        says: /lowercase/,
    },
    {
        title: "per-person name with a hyphen (the separator)",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_a", "partners[0].people": ["alice", "bo-b"] },
        key: "partners[0].people[1]",
    },
    {
        title: "per-person name giving an OS user over 32 characters",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_vendor_a", "partners[0].people": ["a_rather_long_name"] },
        key: "partners[0].people[0]",
        says: /at most 15 characters with this base/,
    },
    {
        title: "per-person name repeated",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_a", "partners[0].people": ["alice", "alice"] },
        key: "partners[0].people[1]",
        says: /twice/,
    },
    {
        title: "per-person Run As without a source identity to bind to",
        stack: "yours",
        set: {
            "partners[0].runAs": "perPerson",
            "partners[0].osUser": "os_user_a",
            "partners[0].people": ["alice"],
            "partners[0].requireSourceIdentity": false,
        },
        key: "partners[0].requireSourceIdentity",
        says: /bound to their source identity/,
    },
    {
        title: "another partner's OS user inside a per-person partner's names (its administrator could obtain it)",
        stack: "yours",
        set: { "partners[0].runAs": "perPerson", "partners[0].osUser": "os_user_a", "partners[0].people": ["alice"], "partners[1].osUser": "os_user_a-bob" },
        key: "partners[1].osUser",
        says: /inside the names of the per-person partner/,
    },
    {
        title: "a partner's user name that cannot be part of its per-person OS user",
        stack: "their",
        set: { perPersonOsUserBase: "os_user_a", users: [{ name: "Alice" }] },
        key: "users[0].name",
        says: /lowercase/,
    },
    { title: "a per-person base outside the namespace", stack: "their", set: { perPersonOsUserBase: "root" }, key: "perPersonOsUserBase", says: /os_user_/ },
    { title: "role name over 64 characters", stack: "yours", set: { "partners[0].roleName": "R".repeat(65) }, key: "partners[0].roleName", says: /64/ },
    {
        title: "role names equal but for case",
        stack: "yours",
        set: { "partners[0].roleName": "GrantRole", "partners[1].roleName": "grantrole" },
        key: "partners[1].roleName",
        says: /ignore case/,
    },
    {
        title: "external id too short",
        stack: "yours",
        set: { "partners[0].externalId": "x" },
        secretKeys: ["partners"],
        key: "partners[0].externalId",
        says: /2-1224/,
    },
    {
        title: "external id with a space",
        stack: "yours",
        set: { "partners[0].externalId": "not allowed" },
        secretKeys: ["partners"],
        key: "partners[0].externalId",
    },
    {
        title: "external id in plain config",
        stack: "yours",
        set: { "partners[0].externalId": "a-fine-external-id" },
        key: "partners[0].externalId",
        says: /--secret/,
    },
    {
        title: "external id shared by two partners",
        stack: "yours",
        set: { "partners[0].externalId": "same-id-1234", "partners[1].externalId": "same-id-1234" },
        secretKeys: ["partners"],
        key: "partners[1].externalId",
        says: /unique/,
    },
    { title: "CIDR with a /33 prefix", stack: "yours", set: { "network.vpcCidr": "10.24.34.0/33" }, key: "network.vpcCidr", says: /\/16 to \/28/ },
    { title: "CIDR with an octet over 255", stack: "yours", set: { "network.vpcCidr": "10.300.0.0/16" }, key: "network.vpcCidr" },
    {
        title: "CIDR not at a network boundary",
        stack: "yours",
        set: { "network.vpcCidr": "10.24.35.0/23" },
        key: "network.vpcCidr",
        says: /"10\.24\.34\.0\/23"/,
    },
    { title: "zero availability zones", stack: "yours", set: { "network.availabilityZoneCount": 0 }, key: "network.availabilityZoneCount", says: /1 to 6/ },
    {
        title: "more zones than the network can split into",
        stack: "yours",
        set: { "network.vpcCidr": "10.0.0.0/27", "network.availabilityZoneCount": 4 },
        key: "network.availabilityZoneCount",
        says: /\/28/,
    },
    {
        title: "log retention CloudWatch does not accept",
        stack: "yours",
        set: { "sessions.logRetentionDays": 10 },
        key: "sessions.logRetentionDays",
        says: /14/,
    },
    { title: "flow log retention as text", stack: "yours", set: { "network.flowLogRetentionDays": "seven" }, key: "network.flowLogRetentionDays" },
    { title: "idle timeout over 60 minutes", stack: "yours", set: { "sessions.idleTimeoutMinutes": 61 }, key: "sessions.idleTimeoutMinutes", says: /1 to 60/ },
    {
        title: "max session duration of 0",
        stack: "yours",
        set: { "sessions.maxSessionDurationMinutes": 0 },
        key: "sessions.maxSessionDurationMinutes",
        says: /1 to 1440/,
    },
    {
        title: "expiry that is not a timestamp",
        stack: "yours",
        set: { "partners[0].expiresAt": "next tuesday" },
        key: "partners[0].expiresAt",
        says: /ISO 8601/,
    },
    {
        title: "expiry on a day that does not exist",
        stack: "yours",
        set: { "partners[0].expiresAt": "2027-02-30T00:00:00Z" },
        key: "partners[0].expiresAt",
        says: /not a real date/,
    },
    {
        title: "expiry without a time zone",
        stack: "yours",
        set: { "partners[1].expiresAt": "2027-01-01T00:00:00" },
        key: "partners[1].expiresAt",
        says: /time zone/,
    },
    {
        title: "revocation instant that is not a timestamp",
        stack: "yours",
        set: { "partners[0].revokeSessionsIssuedBefore": "yesterday" },
        key: "partners[0].revokeSessionsIssuedBefore",
        says: /ISO 8601/,
    },
    {
        title: "archive retention of 0 days",
        stack: "yours",
        set: { "sessions.archiveRetentionDays": 0 },
        key: "sessions.archiveRetentionDays",
        says: /1 to 36500/,
    },
    {
        title: "archive retention mode not an Object Lock mode",
        stack: "yours",
        set: { "sessions.archiveRetentionMode": "governance" },
        key: "sessions.archiveRetentionMode",
        says: /GOVERNANCE, COMPLIANCE/,
    },
    {
        title: "OS user ubuntu (cloud-init gives it sudo)",
        stack: "yours",
        set: { "sessions.defaultOsUser": "ubuntu" },
        key: "sessions.defaultOsUser",
        says: /root or sudo/,
    },
    {
        title: "their: a source identity other than the user's own name",
        stack: "their",
        set: { "users[0].sourceIdentity": "bob" },
        key: "users[0].sourceIdentity",
        says: /always the user's own name.*remove the key/,
    },
    { title: "their: a user name too short to be a source identity", stack: "their", set: { "users[0].name": "a" }, key: "users[0].name", says: /2-64/ },
    {
        title: "an archive bucket account without the archive bucket",
        stack: "yours",
        set: { "sessions.archiveBucketAccountId": "999999999999" },
        key: "sessions.archiveBucketAccountId",
        says: /with that bucket/,
    },
    {
        title: "a default Run As user in the partners' namespace (offboarding would end it)",
        stack: "yours",
        set: { "sessions.defaultOsUser": "os_user_everyone" },
        key: "sessions.defaultOsUser",
        says: /in the partners' namespace/,
    },
    {
        title: "their: a user name with a comma (Session Manager would not tag the person's sessions, who could not end them)",
        stack: "their",
        set: { "users[0].name": "alice,ops" },
        key: "users[0].name",
        says: /no comma/,
    },
    {
        title: "partners under a misspelt project namespace (every partner would silently disappear)",
        stack: "yours",
        set: { "third-party-ssm-acess:partners": [{ name: "Third_Party_A", accountId: "222222222222", osUser: "os_user_a_alice" }] },
        key: "third-party-ssm-acess:partners",
        says: /namespace "third-party-ssm-acess".*third-party-ssm-access:partners/,
    },
    {
        title: "an instance for a partner nobody configured (a typo)",
        stack: "yours",
        set: { "instances[1].partner": "Third_Party_b" },
        key: "instances[1].partner",
        says: /no partner's name \(partners: Third_Party_A, Third_Party_B\)/,
    },
    {
        title: "a partner in this stack's own account",
        stack: "yours",
        set: { "partners[1].accountId": "111111111111", "partners[1].principalArns[0]": "arn:aws:iam::111111111111:role/3P_IAM_Assume_Role" },
        key: "partners[1].accountId",
        says: /this stack's own account/,
    },
    {
        title: "a network of your own without its subnets",
        stack: "yours",
        set: { "network.vpcId": "vpc-0123456789abcdef0" },
        key: "network.subnetIds",
        says: /both network.vpcId and network.subnetIds/,
    },
    {
        title: "a network of your own with a CIDR for the network this stack would build",
        stack: "yours",
        set: { "network.vpcId": "vpc-0123456789abcdef0", "network.subnetIds": ["subnet-0123456789abcdef0"] },
        key: "network.vpcCidr",
        says: /applies only to the network this stack builds/,
    },
    {
        title: "a subnet id that is not one",
        stack: "yours",
        set: { "network.vpcId": "vpc-0123456789abcdef0", "network.subnetIds": ["sub-1"] },
        key: "network.subnetIds[0]",
    },
    { title: "typo in a top-level key", stack: "yours", set: { partner: [] }, key: "partner", says: /unknown key.*partners/ },
    { title: "typo in a partner key", stack: "yours", set: { "partners[0].osUsr": "os_user_a_alice" }, key: "partners[0].osUsr", says: /unknown key.*osUser/ },
    { title: "typo in a sessions key", stack: "yours", set: { "sessions.retentionDays": 7 }, key: "sessions.retentionDays", says: /logRetentionDays/ },
    { title: "a their-side key in a yours stack", stack: "yours", set: { users: [{ name: "alice" }] }, key: "users", says: /unknown key/ },
    {
        title: "stack reference and plain principal ARNs together",
        stack: "yours",
        set: { "partners[1].theirStack": "organization/p/their-b" },
        key: "partners[1].principalArns",
        says: /not both/,
    },
    {
        title: "principal ARN in another account",
        stack: "yours",
        set: { "partners[1].principalArns[0]": "arn:aws:iam::444444444444:role/3P_IAM_Assume_Role" },
        key: "partners[1].principalArns[0]",
        says: /333333333333/,
    },
    {
        title: "principal that is not an ARN",
        stack: "yours",
        set: { "partners[1].principalArns[0]": "3P_IAM_Assume_Role" },
        key: "partners[1].principalArns[0]",
        says: /ARN/,
    },
    { title: "access tag key in the aws: namespace", stack: "yours", set: { accessTagKey: "aws:owner" }, key: "accessTagKey", says: /aws:/ },
    { title: "access tag key equal to the Run As tag", stack: "yours", set: { accessTagKey: "SSMSessionRunAs" }, key: "accessTagKey", says: /Run As/ },
    { title: "instance names repeated", stack: "yours", set: { "instances[1].name": "instance-third-party-a" }, key: "instances[1].name", says: /unique/ },
    {
        title: "instance type that is not one",
        stack: "yours",
        set: { "instances[0].instanceType": "huge" },
        key: "instances[0].instanceType",
        says: /t3\.micro/,
    },
    { title: "partners given as a single string", stack: "yours", set: { partners: "Third_Party_A" }, key: "partners", says: /list of partners/ },
    {
        title: "source-identity switch as text",
        stack: "yours",
        set: { "partners[0].requireSourceIdentity": "yes" },
        key: "partners[0].requireSourceIdentity",
        says: /true or false/,
    },
    { title: "their: partner name missing", stack: "their", set: { partnerName: undefined }, key: "partnerName", says: /is required/ },
    {
        title: "their: partner name making the default role name invalid",
        stack: "their",
        set: { partnerName: "Third Party A" },
        key: "partnerName",
        says: /grantRoleName/,
    },
    {
        title: "their: users and a federated principal together",
        stack: "their",
        set: { federatedPrincipalArn: "arn:aws:iam::222222222222:role/AWSReservedSSO_Vendor_0123" },
        key: "federatedPrincipalArn",
        says: /not both/,
    },
    { title: "their: neither users nor a federated principal", stack: "their", set: { users: undefined }, key: "users", says: /federatedPrincipalArn/ },
    {
        title: "their: external id in plain config",
        stack: "their",
        set: { yoursStack: undefined, externalId: "from-the-owner-1234" },
        key: "externalId",
        says: /--secret/,
    },
    {
        title: "their: no stack reference, no grant role ARN, no account id",
        stack: "their",
        set: { yoursStack: undefined, yoursAccountId: undefined },
        key: "yoursAccountId",
        says: /required/,
    },
    { title: "their: region that is not one", stack: "their", set: { yoursRegion: "US East" }, key: "yoursRegion", says: /us-east-1/ },
    {
        title: "their: grant role ARN that is not a role ARN",
        stack: "their",
        set: { yoursStack: undefined, grantRoleArn: "arn:aws:iam::111111111111:user/alice", externalId: "abc123" },
        secretKeys: ["externalId"],
        key: "grantRoleArn",
    },
    {
        title: "their: grant role ARN outside yoursAccountId",
        stack: "their",
        set: { yoursStack: undefined, grantRoleArn: "arn:aws:iam::999999999999:role/SSMStartSession_IAM_Role_Third_Party_A", externalId: "abc123" },
        secretKeys: ["externalId"],
        key: "grantRoleArn",
        says: /111111111111/,
    },
    { title: "their: access key serial of 0", stack: "their", set: { "users[0].accessKeySerial": 0 }, key: "users[0].accessKeySerial" },
    { title: "their: typo in a user key", stack: "their", set: { "users[0].nmae": "bob" }, key: "users[0].nmae", says: /unknown key/ },
    { title: "their: a yours-side key", stack: "their", set: { partners: [] }, key: "partners", says: /unknown key/ },
    {
        title: "their: MFA required of a federated principal",
        stack: "their",
        set: { users: undefined, federatedPrincipalArn: "arn:aws:iam::222222222222:role/AWSReservedSSO_Vendor", "mfa.required": true },
        key: "mfa.required",
        says: /identity provider/,
    },
    {
        title: "their: MFA maximum age with MFA switched off",
        stack: "their",
        set: { "mfa.maxAgeSeconds": 3600, "mfa.required": false },
        key: "mfa.maxAgeSeconds",
        says: /MFA required/,
    },
    {
        title: "their: MFA maximum age shorter than a session token lasts",
        stack: "their",
        set: { "mfa.required": true, "mfa.maxAgeSeconds": 60 },
        key: "mfa.maxAgeSeconds",
    },
    { title: "alert email that is no address", stack: "yours", set: { "alerts.emails": ["security"] }, key: "alerts.emails[0]", says: /email address/ },
    {
        title: "alert endpoint over plain http",
        stack: "yours",
        set: { "alerts.httpsEndpoints": ["http://hooks.example.com"] },
        key: "alerts.httpsEndpoints[0]",
        says: /https/,
    },
    {
        title: "alert subscriptions with alerts off",
        stack: "yours",
        set: { "alerts.enabled": false, "alerts.emails": ["security@example.com"] },
        key: "alerts.emails",
        says: /alerts on/,
    },
    {
        title: "a key of your own with encryption switched off",
        stack: "yours",
        set: { "sessions.kmsKeyArn": "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", "sessions.kmsEncryption": false },
        key: "sessions.kmsEncryption",
        says: /key of your own/,
    },
    {
        title: "a key of your own in another region",
        stack: "yours",
        set: { "sessions.kmsKeyArn": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
        key: "sessions.kmsKeyArn",
        says: /us-east-1/,
    },
    {
        title: "a key of your own given by alias",
        stack: "yours",
        set: { "sessions.kmsKeyArn": "alias/sessions" },
        key: "sessions.kmsKeyArn",
        says: /KMS key ARN/,
    },
    {
        title: "a bucket of your own with a lock setting this stack would not apply",
        stack: "yours",
        set: { "sessions.archiveBucketName": "acme-session-archive", "sessions.archiveRetentionDays": 30 },
        key: "sessions.archiveRetentionDays",
        says: /yours to set/,
    },
    {
        title: "a bucket name with capitals",
        stack: "yours",
        set: { "sessions.archiveBucketName": "Acme_Archive" },
        key: "sessions.archiveBucketName",
        says: /bucket name/,
    },
    {
        title: "archive expiring before its lock ends",
        stack: "yours",
        set: { "sessions.s3Archive": true, "sessions.archiveExpirationDays": 100 },
        key: "sessions.archiveExpirationDays",
        says: /locked/,
    },
    {
        title: "archive moving to STANDARD_IA sooner than S3 allows",
        stack: "yours",
        set: { "sessions.s3Archive": true, "sessions.archiveTransitionDays": 10, "sessions.archiveTransitionStorageClass": "STANDARD_IA" },
        key: "sessions.archiveTransitionDays",
        says: /STANDARD_IA/,
    },
    {
        title: "archive storage class unknown",
        stack: "yours",
        set: { "sessions.archiveTransitionStorageClass": "COLD" },
        key: "sessions.archiveTransitionStorageClass",
        says: /GLACIER_IR/,
    },
    {
        title: "permissions boundary that is a role, not a policy",
        stack: "yours",
        set: { permissionsBoundaryArn: "arn:aws:iam::111111111111:role/Boundary" },
        key: "permissionsBoundaryArn",
        says: /managed policy ARN/,
    },
    {
        title: "their: permissions boundary with a wildcard",
        stack: "their",
        set: { permissionsBoundaryArn: "arn:aws:iam::222222222222:policy/*" },
        key: "permissionsBoundaryArn",
    },
];

function issuesOf(error: unknown): ConfigIssue[] {
    expect(error, "the program should have refused this config").to.be.an("error");
    expect((error as Error).name).to.equal("ConfigError", String(error));
    return (error as { issues: ConfigIssue[] }).issues;
}

describe("config validation: malformed configs are refused before any resource", () => {
    for (const bad of catalogue) {
        it(`${bad.title} -> ${bad.key}`, async () => {
            const run = await runProgram({ stack: bad.stack, set: bad.set, secretKeys: bad.secretKeys });
            const issues = issuesOf(run.error);
            const issue = issues.find((i) => i.path === bad.key);
            expect(issue, `expected an issue at ${bad.key}, got ${JSON.stringify(issues)}`).to.not.equal(undefined);
            expect(issue!.message).to.match(/accepted/);
            if (bad.says) expect(issue!.message).to.match(bad.says);
            expect(run.resources, "no resource may be registered").to.deep.equal([]);
        });
    }

    it("reports every problem at once, each with its own key", async () => {
        const run = await runProgram({
            stack: "yours",
            set: { "partners[0].accountId": "1", "partners[1].osUser": "root", "network.availabilityZoneCount": 9 },
        });
        expect(issuesOf(run.error).map((i) => i.path)).to.have.members(["partners[0].accountId", "partners[1].osUser", "network.availabilityZoneCount"]);
        expect(String(run.error)).to.include("pulumi config set --path");
    });
});

describe("config validation: stack files", () => {
    it("names the file of a stack config that is not valid YAML", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "config-")), "Pulumi.broken.yaml");
        fs.writeFileSync(file, "config:\n  aws:region: us-east-1\n   third-party-ssm-access:side: yours\n");
        let error: unknown;
        try {
            await runProgram({ stack: "broken", configFile: file });
        } catch (e) {
            error = e;
        }
        expect(String(error)).to.include(file).and.include("not valid YAML");
    });

    it("runs a stack whose external ids are encrypted, without the passphrase: each is an opaque secret", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "config-")), "Pulumi.yours.yaml");
        const yaml = fs
            .readFileSync(path.join(FIXTURES_DIR, "Pulumi.yours.yaml"), "utf8")
            .replace("      osUser: os_user_b_bob\n", "      osUser: os_user_b_bob\n      externalId:\n        secure: v1:Zm9vYmFyYmF6cXV4:AAAABBBBCCCCDDDD\n");
        fs.writeFileSync(file, yaml);
        const run = await runProgram({ stack: "yours", configFile: file });
        expect(run.error).to.equal(undefined);
        const grants = await resolve(run.outputs.grants as object);
        expect(grants.secret).to.equal(true);
        const idB = (grants.value as Record<string, { externalId: string }>).Third_Party_B.externalId;
        expect(idB).to.match(/^encrypted[A-Za-z0-9]{24}$/);
        expect(run.resources.find((r) => r.name === "grant-Third_Party_B-role")!.secretInputs).to.include("assumeRolePolicy");
    });
});

describe("config validation: sample stacks and accepted forms", () => {
    it("the sample yours config reproduces the blog post", async () => {
        const run = await runProgram({ stack: "yours", program: () => ({ settings: loadYoursSettings() }) });
        expect(run.error).to.equal(undefined);
        const settings = run.outputs.settings as ReturnType<typeof loadYoursSettings>;
        expect(settings.accessTagKey).to.equal("ExternalAccessGrantedTo");
        expect(settings.network).to.deep.equal({ vpcCidr: "10.24.34.0/23", availabilityZoneCount: 2, flowLogRetentionDays: 7 });
        expect(settings.sessions).to.include({ logGroupName: "SSMSessionManager_LogGroup", logRetentionDays: 7, defaultOsUser: "no_sudo_user" });
        expect(settings.partners.map((p) => [p.name, p.osUser, p.grantRoleName])).to.deep.equal([
            ["Third_Party_A", "os_user_a_alice", "SSMStartSession_IAM_Role_Third_Party_A"],
            ["Third_Party_B", "os_user_b_bob", "SSMStartSession_IAM_Role_Third_Party_B"],
        ]);
        expect(settings.partners[0].theirStack).to.equal("organization/third-party-ssm-access/their");
        expect(settings.partners[1].principalArns).to.deep.equal(["arn:aws:iam::333333333333:role/3P_IAM_Assume_Role"]);
        expect(settings.instances.map((i) => i.partner)).to.deep.equal(["Third_Party_A", "Third_Party_B"]);
    });

    it("the sample their config is Third_Party_A with user alice", async () => {
        const run = await runProgram({ stack: "their", program: () => ({ settings: loadTheirSettings() }) });
        expect(run.error).to.equal(undefined);
        const settings = run.outputs.settings as ReturnType<typeof loadTheirSettings>;
        expect(settings).to.include({
            partnerName: "Third_Party_A",
            yoursAccountId: "111111111111",
            groupName: "GroupRemoteAccess",
            jumpRoleName: "3P_IAM_Assume_Role",
        });
        expect(settings.grantRoleName).to.equal("SSMStartSession_IAM_Role_Third_Party_A");
        expect(settings.users).to.deep.equal([{ name: "alice", accessKeySerial: 1 }]);
    });

    it("the real entry point runs both samples, their then yours, each with its own config", async () => {
        const their = await runProgram({ stack: "their" });
        const yours = await runProgram({ stack: "yours" });
        expect(their.error).to.equal(undefined);
        expect(yours.error).to.equal(undefined);
        expect((await resolve(their.outputs.jumpRoleArn as string)).value).to.equal("arn:aws:iam::222222222222:role/3P_IAM_Assume_Role");
        expect(their.outputs).to.not.have.property("grants");
        expect(Object.keys((await resolve(yours.outputs.grantRoleArns as Record<string, string>)).value)).to.deep.equal(["Third_Party_A", "Third_Party_B"]);
        expect(yours.outputs).to.not.have.property("jumpRoleArn");
    });

    it("takes an account id that `config set --path` stored as a number, and keeps leading zeros of quoted ones", async () => {
        const run = await runProgram({
            stack: "yours",
            set: { "partners[0].accountId": 222222222222, "partners[1].accountId": "012345678901", "partners[1].principalArns": undefined },
            program: () => ({ settings: loadYoursSettings() }),
        });
        expect(run.error).to.equal(undefined);
        const settings = run.outputs.settings as ReturnType<typeof loadYoursSettings>;
        expect(settings.partners.map((p) => p.accountId)).to.deep.equal(["222222222222", "012345678901"]);
    });

    it("sets a permissions boundary on every role (and IAM user) each stack creates, and none without one", async () => {
        const roles = (run: Awaited<ReturnType<typeof runProgram>>) =>
            run.resources.filter((r) => r.type === "aws:iam/role:Role" || r.type === "aws:iam/user:User");
        for (const [stack, boundary] of [
            ["yours", "arn:aws:iam::111111111111:policy/ThirdPartyAccessBoundary"],
            ["their", "arn:aws:iam::aws:policy/PowerUserAccess"],
        ]) {
            const bounded = await runProgram({ stack, set: { permissionsBoundaryArn: boundary } });
            expect(bounded.error).to.equal(undefined);
            expect(roles(bounded).length).to.be.greaterThan(0);
            expect(roles(bounded).map((r) => `${r.name}: ${r.inputs.permissionsBoundary}`)).to.deep.equal(roles(bounded).map((r) => `${r.name}: ${boundary}`));
            const plain = await runProgram({ stack });
            expect(roles(plain).filter((r) => r.inputs.permissionsBoundary !== undefined)).to.deep.equal([]);
        }
    });

    it("normalises an expiry with an offset to UTC", async () => {
        const run = await runProgram({
            stack: "yours",
            set: { "partners[0].expiresAt": "2027-03-31T23:59:59+02:00" },
            program: () => ({ settings: loadYoursSettings() }),
        });
        const settings = run.outputs.settings as ReturnType<typeof loadYoursSettings>;
        expect(settings.partners[0].expiresAt).to.equal("2027-03-31T21:59:59Z");
    });

    it("holds a supplied external id as a secret", async () => {
        const run = await runProgram({
            stack: "yours",
            set: { "partners[0].externalId": "partner-supplied-id-1234" },
            secretKeys: ["partners"],
            program: () => ({ settings: loadYoursSettings() }),
        });
        expect(run.error).to.equal(undefined);
        const settings = run.outputs.settings as ReturnType<typeof loadYoursSettings>;
        const externalId = await resolve(settings.partners[0].externalId!);
        expect(externalId).to.deep.equal({ value: "partner-supplied-id-1234", secret: true });
        expect(settings.partners[1].externalId).to.equal(undefined);
    });

    it("accepts a their stack configured by plain values instead of a stack reference", async () => {
        const run = await runProgram({
            stack: "their",
            set: { yoursStack: undefined, yoursAccountId: undefined, grantRoleArn: "arn:aws:iam::111111111111:role/Custom", externalId: "from-the-owner-1234" },
            secretKeys: ["externalId"],
            program: () => ({ settings: loadTheirSettings() }),
        });
        expect(run.error).to.equal(undefined);
        const settings = run.outputs.settings as ReturnType<typeof loadTheirSettings>;
        expect(settings.yoursAccountId).to.equal("111111111111");
        expect((await resolve(settings.externalId!)).secret).to.equal(true);
    });
});
