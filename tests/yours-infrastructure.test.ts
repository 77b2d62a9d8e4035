// What the `yours` stack sends AWS for the network, the instances and the Session
// Manager preferences, checked on the inputs the real program registers under mocks.

import { expect } from "chai";
import { readParameter } from "../components/command-parameters";
import { OS_USER_NAME_PATTERN } from "../components/constants";
import { metadataGuardDocument, metadataGuardUserData } from "../components/metadata-guard-scripts";
import { asList, instanceAgentPolicy, instanceCredentialsPerimeterPolicy, statementsOf, type AwsScope } from "../components/policies";
import { sessionPreferencesContent, type SessionPreferenceValues } from "../components/session-preferences";
import { ofType, only, resolve, runProgram, type ProgramRun, type RecordedResource } from "../tools/mock-engine";

const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    routeTable: "aws:ec2/routeTable:RouteTable",
    association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    instance: "aws:ec2/instance:Instance",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    document: "aws:ssm/document:Document",
    ssmAssociation: "aws:ssm/association:Association",
    key: "aws:kms/key:Key",
    bucket: "aws:s3/bucket:Bucket",
    flowLog: "aws:ec2/flowLog:FlowLog",
};

/** The sample yours stack's account, region and partition. */
const SCOPE: AwsScope = { partition: "aws", region: "us-east-1", accountId: "111111111111", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };

const allowing = (json: string, action: string) => statementsOf(json).filter((s) => s.Effect === "Allow" && asList(s.Action).includes(action));

function containsValue(value: unknown, needle: string): boolean {
    if (typeof value === "string") return value.includes(needle);
    if (value !== null && typeof value === "object") return Object.values(value).some((v) => containsValue(v, needle));
    return false;
}

async function yours(set?: Record<string, unknown>): Promise<ProgramRun> {
    const run = await runProgram({ stack: "yours", set });
    if (run.error) throw run.error;
    return run;
}

function preferencesContent(run: ProgramRun) {
    return JSON.parse(only(run, T.document, "sessions-preferences").inputs.content);
}

function instanceLoggingPolicy(run: ProgramRun): string {
    const role = only(run, T.role, "instances-role");
    const policies = ofType(run, T.rolePolicy).filter((p) => p.inputs.role === role.name && p.name.startsWith("sessions-instance-logging"));
    expect(policies, "one logging policy on the instance role").to.have.length(1);
    return policies[0].inputs.policy;
}

describe("yours stack: private network", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("builds a VPC with DNS support and hostnames, from the configured CIDR", () => {
        expect(only(run, T.vpc).inputs).to.include({ cidrBlock: "10.24.34.0/23", enableDnsSupport: true, enableDnsHostnames: true });
    });

    it("puts one private subnet in each of two zones, splitting the CIDR", () => {
        const subnets = ofType(run, T.subnet);
        expect(subnets.map((s) => [s.inputs.availabilityZone, s.inputs.cidrBlock, s.inputs.mapPublicIpOnLaunch])).to.deep.equal([
            ["us-east-1a", "10.24.34.0/24", false],
            ["us-east-1b", "10.24.35.0/24", false],
        ]);
    });

    it("has no internet gateway, NAT, egress-only gateway, route out, or 0.0.0.0/0 anywhere", () => {
        for (const type of [
            "aws:ec2/internetGateway:InternetGateway",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
            "aws:ec2/route:Route",
        ]) {
            expect(ofType(run, type), type).to.deep.equal([]);
        }
        expect(only(run, T.routeTable).inputs.routes).to.deep.equal([]);
        expect(ofType(run, T.association)).to.have.length(2);
        const wide = run.resources.filter((r) => containsValue(r.inputs, "0.0.0.0/0") || containsValue(r.inputs, "::/0"));
        expect(wide.map((r) => r.name)).to.deep.equal([]);
    });

    it("creates the Session Manager interface endpoints with private DNS in every subnet, named from the region", () => {
        const subnetIds = ofType(run, T.subnet).map((s) => s.id);
        const endpointGroup = only(run, T.securityGroup, "network-endpoints");
        const interfaces = ofType(run, T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Interface");
        expect(interfaces.map((e) => e.inputs.serviceName)).to.have.members([
            "com.amazonaws.us-east-1.ssm",
            "com.amazonaws.us-east-1.ssmmessages",
            "com.amazonaws.us-east-1.ec2messages",
            "com.amazonaws.us-east-1.logs",
        ]);
        for (const endpoint of interfaces) {
            expect(endpoint.inputs.privateDnsEnabled, endpoint.name).to.equal(true);
            expect(endpoint.inputs.subnetIds).to.deep.equal(subnetIds);
            expect(endpoint.inputs.securityGroupIds).to.deep.equal([endpointGroup.id]);
        }
    });

    it("lets only this account's principals through every interface endpoint", () => {
        for (const endpoint of ofType(run, T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Interface")) {
            expect(statementsOf(endpoint.inputs.policy), endpoint.name).to.deep.equal([
                {
                    Sid: "OnlyPrincipalsOfThisAccount",
                    Effect: "Allow",
                    Principal: "*",
                    Action: "*",
                    Resource: "*",
                    Condition: { StringEquals: { "aws:PrincipalAccount": "111111111111" } },
                },
            ]);
        }
    });

    it("asks AWS whether each interface endpoint's service supports a policy, and gives none where it does not", async () => {
        const lookups = run.invokes.filter((i) => i.token === "aws:ec2/getVpcEndpointService:getVpcEndpointService").map((i) => i.inputs.service);
        expect(lookups).to.have.members(["ssm", "ssmmessages", "ec2messages", "logs"]);
        const without = await runProgram({ stack: "yours", servicesWithoutEndpointPolicies: ["ec2messages"] });
        const policies = Object.fromEntries(
            ofType(without, T.endpoint)
                .filter((e) => e.inputs.vpcEndpointType === "Interface")
                .map((e) => [e.inputs.serviceName.split(".").pop(), e.inputs.policy !== undefined]),
        );
        expect(policies).to.deep.equal({ ssm: true, ssmmessages: true, ec2messages: false, logs: true });
    });

    it("outputs the service names of the interface endpoints it made, for the live check to ask AWS about", () => {
        const interfaces = ofType(run, T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Interface");
        expect(run.outputs.interfaceEndpointServiceNames).to.deep.equal(interfaces.map((e) => e.inputs.serviceName));
        expect(run.outputs.interfaceEndpointServiceNames).to.have.length(4);
    });

    it("lets through the S3 endpoint only this account's principals on its buckets, and reads of the AWS-owned agent and package buckets", () => {
        const gateway = ofType(run, T.endpoint).find((e) => e.inputs.vpcEndpointType === "Gateway")!;
        const [own, awsOwned, ...rest] = statementsOf(gateway.inputs.policy);
        expect(rest).to.deep.equal([]);
        expect(own.Condition).to.deep.equal({ StringEquals: { "aws:PrincipalAccount": "111111111111", "aws:ResourceAccount": "111111111111" } });
        expect(awsOwned).to.include({ Effect: "Allow", Principal: "*", Action: "s3:GetObject" });
        expect(awsOwned.Resource).to.include.members(["arn:aws:s3:::amazon-ssm-us-east-1/*", "arn:aws:s3:::al2023-repos-us-east-1-de612dc2/*"]);
        expect(asList(awsOwned.Resource).every((r) => r.startsWith("arn:aws:s3:::") && r.endsWith("/*") && r.includes("us-east-1"))).to.equal(true);
    });

    it("lets this account's principals write transcripts to an archive bucket of your own, which may be in another account, and nothing else of it", async () => {
        const own = await yours({ "sessions.archiveBucketName": "log-archive-transcripts", "sessions.archiveBucketAccountId": "999999999999" });
        const gateway = ofType(own, T.endpoint).find((e) => e.inputs.vpcEndpointType === "Gateway")!;
        const archive = statementsOf(gateway.inputs.policy).filter((s) => s.Sid === "PrincipalsOfThisAccountArchiveTranscripts");
        // The bucket's own account: a bucket someone else creates under the name, once yours is gone, receives nothing.
        expect(archive).to.deep.equal([
            {
                Sid: "PrincipalsOfThisAccountArchiveTranscripts",
                Effect: "Allow",
                Principal: "*",
                Action: ["s3:PutObject", "s3:GetEncryptionConfiguration"],
                Resource: ["arn:aws:s3:::log-archive-transcripts", "arn:aws:s3:::log-archive-transcripts/session-transcripts/*"],
                Condition: { StringEquals: { "aws:PrincipalAccount": "111111111111", "aws:ResourceAccount": "999999999999" } },
            },
        ]);
        const sameAccount = await yours({ "sessions.archiveBucketName": "log-archive-transcripts" });
        const statement = statementsOf(ofType(sameAccount, T.endpoint).find((e) => e.inputs.vpcEndpointType === "Gateway")!.inputs.policy).find(
            (s) => s.Sid === "PrincipalsOfThisAccountArchiveTranscripts",
        )!;
        expect(statement.Condition).to.deep.equal({ StringEquals: { "aws:PrincipalAccount": "111111111111", "aws:ResourceAccount": "111111111111" } });
    });

    it("adds an S3 gateway endpoint on the private route table", () => {
        const gateway = ofType(run, T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Gateway");
        expect(gateway.map((e) => e.inputs.serviceName)).to.deep.equal(["com.amazonaws.us-east-1.s3"]);
        expect(gateway[0].inputs.routeTableIds).to.deep.equal([only(run, T.routeTable).id]);
    });

    it("limits the instance group to HTTPS out to the endpoints and the S3 prefix list, declared on the group", () => {
        const instances = only(run, T.securityGroup, "network-instances");
        const endpoints = only(run, T.securityGroup, "network-endpoints");
        const s3 = ofType(run, T.endpoint).find((e) => e.inputs.vpcEndpointType === "Gateway")!;
        expect(instances.inputs.ingress).to.deep.equal([]);
        const egress = (instances.inputs.egress as any[]).map((rule) => ({ ...rule, description: undefined }));
        expect(egress).to.deep.equal([
            { description: undefined, protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [endpoints.id] },
            { description: undefined, protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [`pl-${s3.name}`] },
        ]);
        // Standalone egress rules would leave the default allow-all egress in place.
        expect(ofType(run, "aws:ec2/securityGroupRule:SecurityGroupRule")).to.deep.equal([]);
        expect(ofType(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).to.deep.equal([]);
    });

    it("admits HTTPS to the endpoints only from the instance group, and gives them no egress", () => {
        const endpoints = only(run, T.securityGroup, "network-endpoints");
        const instances = only(run, T.securityGroup, "network-instances");
        expect(endpoints.inputs.egress).to.deep.equal([]);
        expect(endpoints.inputs.ingress).to.equal(undefined);
        const rule = only(run, T.ingressRule);
        expect(rule.inputs).to.include({
            securityGroupId: endpoints.id,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            referencedSecurityGroupId: instances.id,
        });
        expect(rule.inputs).to.not.have.any.keys("cidrIpv4", "cidrIpv6", "prefixListId");
    });

    it("sends all VPC flow logs to a log group with the configured retention", () => {
        const flowLog = only(run, T.flowLog);
        const group = only(run, T.logGroup, "network-flow-logs");
        expect(flowLog.inputs).to.include({ trafficType: "ALL", logDestinationType: "cloud-watch-logs", vpcId: only(run, T.vpc).id });
        expect(group.inputs.retentionInDays).to.equal(7);
        const trust = statementsOf(only(run, T.role, "network-flow-logs").inputs.assumeRolePolicy)[0];
        expect(trust.Principal).to.deep.equal({ Service: "vpc-flow-logs.amazonaws.com" });
        expect(trust.Condition?.StringEquals).to.deep.equal({ "aws:SourceAccount": "111111111111" });
    });

    it("adds the kms endpoint only when session encryption is on", async () => {
        expect(ofType(run, T.endpoint).map((e) => e.inputs.serviceName)).to.not.include("com.amazonaws.us-east-1.kms");
        const encrypted = await yours({ "sessions.kmsEncryption": true });
        expect(ofType(encrypted, T.endpoint).map((e) => e.inputs.serviceName)).to.include("com.amazonaws.us-east-1.kms");
    });

    it("uses the configured zone count", async () => {
        const three = await yours({ "network.availabilityZoneCount": 3 });
        expect(ofType(three, T.subnet).map((s) => s.inputs.cidrBlock)).to.deep.equal(["10.24.34.0/25", "10.24.34.128/25", "10.24.35.0/25"]);
    });
});

describe("yours stack: managed instances", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("launches each configured instance in its own private subnet, from the Amazon Linux 2023 parameter", () => {
        const instances = ofType(run, T.instance);
        const subnetIds = ofType(run, T.subnet).map((s) => s.id);
        expect(instances.map((i) => i.inputs.subnetId)).to.deep.equal(subnetIds);
        expect(instances.map((i) => i.inputs.ami)).to.deep.equal(["ami-0123456789abcdef0", "ami-0123456789abcdef0"]);
        const amiLookup = run.invokes.find((i) => i.token === "aws:ssm/getParameter:getParameter");
        expect(amiLookup?.inputs.name).to.equal("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
        // A new AMI release must not replace running instances.
        expect(instances.map((i) => i.ignoreChanges)).to.deep.equal([["ami"], ["ami"]]);
    });

    it("requires IMDSv2, encrypts the root volume, and assigns no public IP", () => {
        for (const instance of ofType(run, T.instance)) {
            expect(instance.inputs.metadataOptions).to.include({ httpTokens: "required", httpEndpoint: "enabled" });
            expect(instance.inputs.rootBlockDevice).to.include({ encrypted: true });
            expect(instance.inputs.associatePublicIpAddress).to.equal(false);
            expect(instance.inputs.vpcSecurityGroupIds).to.deep.equal([only(run, T.securityGroup, "network-instances").id]);
        }
    });

    it("tags each instance with its Name and the partner allowed on it", () => {
        expect(ofType(run, T.instance).map((i) => i.inputs.tags)).to.deep.equal([
            { Name: "instance-third-party-a", ExternalAccessGrantedTo: "Third_Party_A" },
            { Name: "instance-third-party-b", ExternalAccessGrantedTo: "Third_Party_B" },
        ]);
    });

    it("uses the configured access tag key", async () => {
        const custom = await yours({ accessTagKey: "VendorAccess" });
        expect(ofType(custom, T.instance)[0].inputs.tags).to.deep.equal({ Name: "instance-third-party-a", VendorAccess: "Third_Party_A" });
    });

    it("gives the instance role a scoped agent policy (no AWS managed policy), the credentials perimeter and the session-logging policy", () => {
        const role = only(run, T.role, "instances-role");
        expect(statementsOf(role.inputs.assumeRolePolicy)).to.deep.equal([
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ]);
        expect(ofType(run, T.attachment)).to.deep.equal([]);
        const policies = ofType(run, T.rolePolicy).filter((p) => p.inputs.role === role.name);
        expect(policies.map((p) => p.name)).to.have.members(["instances-ssm-agent", "instances-credentials-perimeter", "sessions-instance-logging-1"]);
        expect(only(run, T.rolePolicy, "instances-ssm-agent").inputs.policy).to.equal(JSON.stringify(instanceAgentPolicy(SCOPE)));
        expect(only(run, T.rolePolicy, "instances-credentials-perimeter").inputs.policy).to.equal(JSON.stringify(instanceCredentialsPerimeterPolicy()));
        const agentActions = statementsOf(only(run, T.rolePolicy, "instances-ssm-agent").inputs.policy).flatMap((s) => asList(s.Action));
        expect(agentActions.filter((a) => /^ssm:GetParameters?$/.test(a))).to.deep.equal([]);
        expect(only(run, "aws:iam/instanceProfile:InstanceProfile").inputs.role).to.equal(role.name);
    });

    it("closes the metadata service to non-root users at every boot, and State Manager re-applies it to every instance open to partners", () => {
        for (const instance of ofType(run, T.instance)) expect(instance.inputs.userData).to.equal(metadataGuardUserData());
        const guard = only(run, T.document, "metadata-guard-close-metadata");
        expect(JSON.parse(guard.inputs.content)).to.deep.equal(metadataGuardDocument());
        const association = only(run, T.ssmAssociation, "metadata-guard-close-metadata");
        expect(association.inputs.name).to.equal(guard.name);
        expect(association.inputs.targets).to.deep.equal([{ key: "tag-key", values: ["ExternalAccessGrantedTo"] }]);
        expect(association.inputs.scheduleExpression).to.equal("rate(30 minutes)");
    });

    it("accepts a config with no instances: no network is built (no endpoint charges), and grants apply to instances you tag yourself", async () => {
        const none = await yours({ instances: undefined, "partners[0].theirStack": undefined, "partners[1].principalArns": undefined });
        expect(ofType(none, T.instance)).to.deep.equal([]);
        expect(ofType(none, T.role).map((r) => r.name)).to.not.include("instances-role");
        for (const type of [T.vpc, T.subnet, T.endpoint, T.securityGroup, T.flowLog]) expect(ofType(none, type), type).to.deep.equal([]);
        expect(ofType(none, T.document).map((d) => d.inputs.name)).to.include("SSM-SessionManagerRunShell");
        expect(ofType(none, T.role).map((r) => r.name)).to.include.members(["grant-Third_Party_A-role", "grant-Third_Party_B-role"]);
        expect(none.outputs.instanceIds).to.deep.equal({});
        expect(none.outputs.vpcId).to.equal(null);
        expect(none.outputs.interfaceEndpointServiceNames).to.deep.equal([]);
    });

    describe("in a network of your own (network.vpcId and network.subnetIds)", () => {
        const own = {
            "network.vpcCidr": undefined,
            "network.availabilityZoneCount": undefined,
            "network.flowLogRetentionDays": undefined,
            "network.vpcId": "vpc-0123456789abcdef0",
            "network.subnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        };

        it("builds no VPC, subnets or endpoints, and launches the instances into your subnets with a security group of their own", async () => {
            const run = await yours(own);
            for (const type of [T.vpc, T.subnet, T.endpoint, T.flowLog, T.routeTable]) expect(ofType(run, type), type).to.deep.equal([]);
            const group = only(run, T.securityGroup, "instances-sg");
            expect(group.inputs).to.deep.include({ vpcId: "vpc-0123456789abcdef0", ingress: [] });
            expect(group.inputs.egress).to.deep.equal([
                { description: "HTTPS to Systems Manager (endpoints or NAT)", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
            ]);
            expect(ofType(run, T.instance).map((i) => [i.inputs.subnetId, i.inputs.vpcSecurityGroupIds])).to.deep.equal([
                ["subnet-0123456789abcdef0", [group.id]],
                ["subnet-0fedcba9876543210", [group.id]],
            ]);
            expect(run.outputs.vpcId).to.equal("vpc-0123456789abcdef0");
            // The VPC is yours, and so are its endpoints: none of them is this stack's to check.
            expect(run.outputs.interfaceEndpointServiceNames).to.deep.equal([]);
        });

        it("leaves out the credentials perimeter unless the instances reach AWS through that VPC's endpoints (behind a NAT it would refuse the agent)", async () => {
            const perimeter = (run: ProgramRun) => ofType(run, T.rolePolicy).some((p) => p.name === "instances-credentials-perimeter");
            expect(perimeter(await yours(own))).to.equal(false);
            expect(perimeter(await yours({ ...own, "network.reachesAwsThroughEndpoints": true }))).to.equal(true);
        });
    });

    it("launches an instance from an explicit AMI without ignoring AMI changes", async () => {
        const pinned = await yours({ "instances[0].amiId": "ami-0fedcba9876543210" });
        const [first, second] = ofType(pinned, T.instance);
        expect([first.inputs.ami, first.ignoreChanges]).to.deep.equal(["ami-0fedcba9876543210", []]);
        expect(second.ignoreChanges).to.deep.equal(["ami"]);
    });
});

describe("yours stack: session logging permissions of the instance role", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("lets the agent create, describe and write streams of the audit log group only", () => {
        const policy = instanceLoggingPolicy(run);
        const group = "arn:aws:logs:us-east-1:111111111111:log-group:SSMSessionManager_LogGroup";
        expect(allowing(policy, "logs:CreateLogStream").map((s) => s.Resource)).to.deep.equal([`${group}:log-stream:*`]);
        expect(allowing(policy, "logs:DescribeLogStreams").map((s) => s.Resource)).to.deep.equal([group]);
        expect(allowing(policy, "logs:PutLogEvents").map((s) => s.Resource)).to.deep.equal([`${group}:log-stream:*`]);
    });

    it("allows logs:DescribeLogGroups on every log group, as the agent requires", () => {
        expect(allowing(instanceLoggingPolicy(run), "logs:DescribeLogGroups").map((s) => s.Resource)).to.deep.equal(["*"]);
    });

    it("has no KMS or S3 permission when neither is used", () => {
        const actions = statementsOf(instanceLoggingPolicy(run)).flatMap((s) => asList(s.Action));
        expect(actions.filter((a) => a.startsWith("kms:") || a.startsWith("s3:"))).to.deep.equal([]);
    });

    it("adds kms:Decrypt on the session key, and S3 writes under the archive prefix, when used", async () => {
        const both = await yours({ "sessions.kmsEncryption": true, "sessions.s3Archive": true });
        const policy = instanceLoggingPolicy(both);
        const key = only(both, T.key, "sessions-key");
        expect(allowing(policy, "kms:Decrypt").map((s) => s.Resource)).to.deep.equal([`arn:aws:kms:us-east-1:111111111111:key/${key.id}`]);
        const bucket = only(both, T.bucket, "sessions-archive");
        expect(allowing(policy, "s3:PutObject").map((s) => s.Resource)).to.deep.equal([`arn:aws:s3:::${bucket.name}/session-transcripts/*`]);
        expect(allowing(policy, "s3:GetEncryptionConfiguration").map((s) => s.Resource)).to.deep.equal([`arn:aws:s3:::${bucket.name}`]);
    });
});

describe("yours stack: Session Manager preferences", () => {
    let run: ProgramRun;
    before(async () => (run = await yours()));

    it("creates the audit log group with the configured name and retention", () => {
        expect(only(run, T.logGroup, "sessions-log-group").inputs).to.include({ name: "SSMSessionManager_LogGroup", retentionInDays: 7 });
    });

    it("writes SSM-SessionManagerRunShell as a Session document, schema 1.0, Standard_Stream", () => {
        const document = only(run, T.document, "sessions-preferences");
        expect(document.inputs).to.include({ name: "SSM-SessionManagerRunShell", documentType: "Session", documentFormat: "JSON" });
        expect(preferencesContent(run)).to.include({ schemaVersion: "1.0", sessionType: "Standard_Stream" });
    });

    it("gives every preference input its documented type: booleans as booleans, numbers as strings", () => {
        const expected: Record<string, string> = {
            s3BucketName: "string",
            s3KeyPrefix: "string",
            s3EncryptionEnabled: "boolean",
            cloudWatchLogGroupName: "string",
            cloudWatchEncryptionEnabled: "boolean",
            cloudWatchStreamingEnabled: "boolean",
            kmsKeyId: "string",
            runAsEnabled: "boolean",
            runAsDefaultUser: "string",
            idleSessionTimeout: "string",
            maxSessionDuration: "string",
            shellProfile: "object",
        };
        const inputs = preferencesContent(run).inputs;
        expect(Object.keys(inputs)).to.have.members(Object.keys(expected));
        for (const [key, type] of Object.entries(expected)) expect(typeof inputs[key], key).to.equal(type);
        expect(Object.keys(inputs.shellProfile)).to.have.members(["linux", "windows"]);
        expect(inputs.idleSessionTimeout).to.match(/^\d+$/);
    });

    it("turns Run As on with the configured default user, and streams to the audit log group unencrypted", () => {
        expect(preferencesContent(run).inputs).to.include({
            runAsEnabled: true,
            runAsDefaultUser: "no_sudo_user",
            cloudWatchStreamingEnabled: true,
            cloudWatchLogGroupName: "SSMSessionManager_LogGroup",
            cloudWatchEncryptionEnabled: false,
            idleSessionTimeout: "20",
            maxSessionDuration: "60",
        });
        expect(only(run, T.logGroup, "sessions-log-group").inputs.kmsKeyId).to.equal(undefined);
    });

    it("passes timeouts and the shell profile from config", async () => {
        const custom = await yours({
            "sessions.idleTimeoutMinutes": 5,
            "sessions.maxSessionDurationMinutes": 120,
            "sessions.shellProfile.linux": "cd ~ && bash",
        });
        expect(preferencesContent(custom).inputs).to.deep.include({
            idleSessionTimeout: "5",
            maxSessionDuration: "120",
            shellProfile: { linux: "cd ~ && bash", windows: "" },
        });
    });

    it("outputs what the document is built from: the live check rebuilds exactly the content the stack sends", async () => {
        const rebuilt = async (stack: ProgramRun) => {
            const values: SessionPreferenceValues = {
                ...(stack.outputs.sessionPreferenceSettings as Omit<SessionPreferenceValues, "logGroupName">),
                logGroupName: (await resolve(stack.outputs.sessionLogGroupName as string)).value,
                kmsKeyArn: (await resolve(stack.outputs.sessionKmsKeyArn as string | null)).value ?? undefined,
                archiveBucketName: (await resolve(stack.outputs.sessionArchiveBucket as string | null)).value ?? undefined,
            };
            return sessionPreferencesContent({ ...values, shellProfile: values.shellProfile ?? undefined });
        };
        expect(await rebuilt(run)).to.deep.equal(preferencesContent(run));
        const custom = await yours({
            "sessions.idleTimeoutMinutes": 5,
            "sessions.maxSessionDurationMinutes": 120,
            "sessions.shellProfile.linux": "cd ~ && bash",
            "sessions.defaultOsUser": "session_default",
            "sessions.kmsEncryption": true,
            "sessions.s3Archive": true,
        });
        expect(custom.outputs.sessionPreferenceSettings).to.deep.equal({
            runAsDefaultUser: "session_default",
            idleTimeoutMinutes: 5,
            maxSessionDurationMinutes: 120,
            shellProfile: { linux: "cd ~ && bash" },
        });
        const content = preferencesContent(custom);
        expect(content.inputs.kmsKeyId).to.match(/^arn:aws:kms:/);
        expect(content.inputs.s3BucketName).to.not.equal("");
        expect(await rebuilt(custom)).to.deep.equal(content);
    });

    it("with encryption on, encrypts the log group and session data with one key and says so consistently", async () => {
        const encrypted = await yours({ "sessions.kmsEncryption": true });
        const keyArn = `arn:aws:kms:us-east-1:111111111111:key/${only(encrypted, T.key, "sessions-key").id}`;
        expect(only(encrypted, T.logGroup, "sessions-log-group").inputs.kmsKeyId).to.equal(keyArn);
        expect(preferencesContent(encrypted).inputs).to.include({ cloudWatchEncryptionEnabled: true, kmsKeyId: keyArn });
    });

    it("writes a key policy: logs for this log group only, instance role decrypt, tagged grant roles data keys, no usage by the account at large", async () => {
        const encrypted = await yours({ "sessions.kmsEncryption": true });
        const key = only(encrypted, T.key, "sessions-key");
        expect(key.inputs.enableKeyRotation).to.equal(true);
        const policy: string = key.inputs.policy;
        const logs = allowing(policy, "kms:GenerateDataKey").find((s) => (s.Principal as any)?.Service);
        expect(logs?.Principal).to.deep.equal({ Service: "logs.us-east-1.amazonaws.com" });
        expect(logs?.Condition).to.deep.equal({
            ArnEquals: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111111111111:log-group:SSMSessionManager_LogGroup" },
        });
        const decrypt = allowing(policy, "kms:Decrypt").filter((s) => (s.Principal as any)?.AWS);
        expect(decrypt.map((s) => s.Condition)).to.deep.equal([{ ArnEquals: { "aws:PrincipalArn": ["arn:aws:iam::111111111111:role/instances-role"] } }]);
        const dataKeys = allowing(policy, "kms:GenerateDataKey").filter((s) => (s.Principal as any)?.AWS);
        // By the grant roles' access tag, so the key policy does not grow or change with partners.
        expect(dataKeys.map((s) => s.Condition)).to.deep.equal([{ Null: { "aws:PrincipalTag/ExternalAccessGrantedTo": "false" } }]);
        const unconditionedUse = statementsOf(policy).filter(
            (s) => !s.Condition && asList(s.Action).some((a) => /^kms:(Encrypt|Decrypt|GenerateDataKey|ReEncrypt)/.test(a)),
        );
        expect(unconditionedUse).to.deep.equal([]);
    });

    it("with an S3 archive, makes the bucket private, encrypted and TLS-only, and names it in the preferences", async () => {
        const archived = await yours({ "sessions.s3Archive": true });
        const bucket = only(archived, T.bucket, "sessions-archive");
        expect(only(archived, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "sessions-archive").inputs).to.include({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        expect(
            only(archived, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "sessions-archive").inputs.rules,
        ).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
        const tls = statementsOf(only(archived, "aws:s3/bucketPolicy:BucketPolicy", "sessions-archive-tls-only").inputs.policy);
        expect(tls).to.deep.equal([
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [`arn:aws:s3:::${bucket.name}`, `arn:aws:s3:::${bucket.name}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ]);
        expect(preferencesContent(archived).inputs).to.include({ s3BucketName: bucket.name, s3KeyPrefix: "session-transcripts/", s3EncryptionEnabled: true });
    });

    it("with an S3 archive, keeps every version of a transcript and locks each one (GOVERNANCE, 365 days unless configured)", async () => {
        const archived = await yours({ "sessions.s3Archive": true });
        const bucket = only(archived, T.bucket, "sessions-archive");
        expect(only(archived, "aws:s3/bucketVersioning:BucketVersioning", "sessions-archive").inputs).to.deep.equal({
            bucket: bucket.id,
            versioningConfiguration: { status: "Enabled" },
        });
        const lock = only(archived, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
        expect(lock.inputs).to.deep.equal({ bucket: bucket.id, objectLockEnabled: "Enabled", rule: { defaultRetention: { mode: "GOVERNANCE", days: 365 } } });
        expect(lock.dependencies).to.include(only(archived, "aws:s3/bucketVersioning:BucketVersioning", "sessions-archive").urn);
        const strict = await yours({ "sessions.s3Archive": true, "sessions.archiveRetentionDays": 2557, "sessions.archiveRetentionMode": "COMPLIANCE" });
        expect(only(strict, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs.rule).to.deep.equal({
            defaultRetention: { mode: "COMPLIANCE", days: 2557 },
        });
    });

    it("with an S3 archive, moves transcripts to colder storage, expires them only when asked and never before their lock ends", async () => {
        const archived = await yours({ "sessions.s3Archive": true });
        const bucket = only(archived, T.bucket, "sessions-archive");
        const lifecycle = only(archived, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "sessions-archive");
        expect(lifecycle.inputs).to.deep.equal({
            bucket: bucket.id,
            rules: [
                {
                    id: "transcripts",
                    status: "Enabled",
                    filter: { prefix: "session-transcripts/" },
                    transitions: [{ days: 90, storageClass: "GLACIER_IR" }],
                    noncurrentVersionExpiration: { noncurrentDays: 365 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                },
            ],
        });
        const configured = await yours({
            "sessions.s3Archive": true,
            "sessions.archiveRetentionDays": 400,
            "sessions.archiveTransitionDays": 30,
            "sessions.archiveTransitionStorageClass": "STANDARD_IA",
            "sessions.archiveExpirationDays": 2557,
        });
        const rule = only(configured, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "sessions-archive").inputs.rules[0];
        expect([rule.transitions, rule.expiration, rule.noncurrentVersionExpiration]).to.deep.equal([
            [{ days: 30, storageClass: "STANDARD_IA" }],
            { days: 2557 },
            { noncurrentDays: 400 },
        ]);
        // The access logs expire with the transcripts.
        expect(only(configured, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "sessions-archive-access-logs").inputs.rules).to.deep.equal(
            [{ id: "access-logs", status: "Enabled", filter: { prefix: "archive-access/" }, expiration: { days: 2557 } }],
        );
    });

    it("with an S3 archive, logs every request on it to a private bucket that only S3's log delivery for that archive may write", async () => {
        const archived = await yours({ "sessions.s3Archive": true });
        const archive = only(archived, T.bucket, "sessions-archive");
        const logs = only(archived, T.bucket, "sessions-archive-access-logs");
        expect(only(archived, "aws:s3/bucketLogging:BucketLogging").inputs).to.deep.equal({
            bucket: archive.id,
            targetBucket: logs.id,
            targetPrefix: "archive-access/",
        });
        // A deleted or overwritten log stays as an older version.
        expect(only(archived, "aws:s3/bucketVersioning:BucketVersioning", "sessions-archive-access-logs").inputs.versioningConfiguration).to.deep.equal({
            status: "Enabled",
        });
        expect(only(archived, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "sessions-archive-access-logs").inputs).to.include({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        expect(
            only(archived, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "sessions-archive-access-logs").inputs
                .rules,
        ).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
        const policy = JSON.parse(only(archived, "aws:s3/bucketPolicy:BucketPolicy", "sessions-archive-access-logs").inputs.policy);
        expect(policy.Statement).to.have.length(2);
        expect(policy.Statement[0]).to.deep.include({ Sid: "DenyInsecureTransport", Effect: "Deny", Action: "s3:*" });
        expect(policy.Statement[1]).to.deep.equal({
            Sid: "ServerAccessLogsOfTheArchiveOnly",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: `arn:aws:s3:::${logs.name}/archive-access/*`,
            Condition: { ArnLike: { "aws:SourceArn": `arn:aws:s3:::${archive.name}` }, StringEquals: { "aws:SourceAccount": "111111111111" } },
        });
        expect(only(archived, "aws:s3/bucketLogging:BucketLogging").dependencies).to.include(
            only(archived, "aws:s3/bucketPolicy:BucketPolicy", "sessions-archive-access-logs").urn,
        );
    });

    it("with a key and a bucket of your own: creates neither, uses both, and prints the policy statements their owner must apply", async () => {
        const keyArn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const own = await yours({ "sessions.kmsKeyArn": keyArn, "sessions.archiveBucketName": "acme-session-archive" });
        expect(own.error).to.equal(undefined);
        // No key of its own for sessions (the alert topic has one), no bucket, lock or access logs.
        expect(ofType(own, "aws:kms/key:Key").map((k) => k.name)).to.deep.equal(["alerts-key"]);
        for (const type of [T.bucket, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "aws:s3/bucketLogging:BucketLogging"])
            expect(ofType(own, type), type).to.deep.equal([]);
        expect(only(own, "aws:cloudwatch/logGroup:LogGroup", "sessions-log-group").inputs.kmsKeyId).to.equal(keyArn);
        expect(preferencesContent(own).inputs).to.include({ kmsKeyId: keyArn, s3BucketName: "acme-session-archive", s3KeyPrefix: "session-transcripts/" });
        // The instances may write there, and decrypt with it.
        const logging = statementsOf(only(own, "aws:iam/rolePolicy:RolePolicy", "sessions-instance-logging-1").inputs.policy);
        expect(logging.some((s) => asList(s.Resource).includes(keyArn))).to.equal(true);
        expect(logging.some((s) => asList(s.Resource).includes("arn:aws:s3:::acme-session-archive/session-transcripts/*"))).to.equal(true);
        // What the key's and the bucket's owner must apply.
        const keyStatements = statementsOf((await resolve(own.outputs.sessionKeyPolicyStatements as string)).value);
        expect(keyStatements.map((s) => s.Sid)).to.deep.equal([
            "CloudWatchLogsUsesKeyForSessionLogGroup",
            "InstanceRolesDecryptSessionData",
            "SessionRolesGenerateDataKeys",
        ]);
        const bucketStatements = statementsOf((await resolve(own.outputs.archiveBucketPolicyStatements as string)).value);
        expect(bucketStatements.map((s) => s.Sid)).to.deep.equal([
            "DenyInsecureTransport",
            "InstanceRolesArchiveTranscripts",
            "InstanceRolesCheckArchiveEncryption",
        ]);
        // And the KMS endpoint the encrypted sessions need.
        expect(ofType(own, "aws:ec2/vpcEndpoint:VpcEndpoint").some((e) => String(e.inputs.serviceName).endsWith(".kms"))).to.equal(true);
        const plain = await yours();
        expect([plain.outputs.sessionKeyPolicyStatements, plain.outputs.archiveBucketPolicyStatements]).to.deep.equal([null, null]);
    });

    it("creates the preferences document by default, and deletes it with the stack", () => {
        const document = only(run, T.document, "sessions-preferences");
        expect([document.importId, document.retainOnDelete]).to.deep.equal([undefined, false]);
    });

    it("in adopt mode, imports the existing document and retains it on destroy", async () => {
        const adopted = await yours({ "sessions.adoptExistingPreferences": true });
        const document = only(adopted, T.document, "sessions-preferences");
        expect(document.importId).to.equal("SSM-SessionManagerRunShell");
        expect(document.retainOnDelete).to.equal(true);
    });
});

describe("yours stack: OS-user provisioning", () => {
    let run: ProgramRun;
    let command: any;
    before(async () => {
        run = await yours();
        const document = only(run, T.document, "os-users-create-os-user");
        command = JSON.parse(document.inputs.content);
    });

    it("constrains the user name by an allowedPattern that rejects shell injection", () => {
        const pattern = new RegExp(command.parameters.userName.allowedPattern);
        expect(command.parameters.userName.allowedPattern).to.equal(OS_USER_NAME_PATTERN);
        for (const good of ["no_sudo_user", "os_user_a_alice", "_svc", "b-ob"]) expect(pattern.test(good), good).to.equal(true);
        for (const bad of ["x; rm -rf /", "$(reboot)", "`id`", "a b", "Alice", "bob'", "x".repeat(33), ""]) expect(pattern.test(bad), bad).to.equal(false);
    });

    it("has a Linux useradd step and a macOS dscl step, each chosen by platform", () => {
        expect(command.schemaVersion).to.equal("2.2");
        const steps = command.mainSteps.map((s: any) => [s.name, s.precondition, s.action]);
        expect(steps).to.deep.equal([
            ["createLinuxUser", { StringEquals: ["platformType", "Linux"] }, "aws:runShellScript"],
            ["createMacOsUser", { StringEquals: ["platformType", "MacOS"] }, "aws:runShellScript"],
            ["refuseWindows", { StringEquals: ["platformType", "Windows"] }, "aws:runPowerShellScript"],
        ]);
        const linux: string = command.mainSteps[0].inputs.runCommand.join("\n");
        const macos: string = command.mainSteps[1].inputs.runCommand.join("\n");
        expect(linux)
            .to.match(/if id -u "\$user"/)
            .and.match(/useradd /);
        expect(macos)
            .to.match(/if id -u "\$user"/)
            .and.match(/dscl \. -create/);
    });

    it("never makes the user privileged: no sudoers entry, no admin group, refuses root", () => {
        for (const step of command.mainSteps) {
            const script: string = step.inputs.runCommand.join("\n");
            expect(script, step.name).to.not.match(/>>?\s*\/etc\/sudoers|usermod\s+-a?G|NOPASSWD|-admin\b|-a\s+"?\$user"?\s+-t user admin/);
            if (step.action === "aws:runShellScript") expect(script, step.name).to.match(/case "\$user" in root\|ec2-user\|ssm-user(\|[a-z_-]+)*\) refuse /);
        }
    });

    it("closes the metadata service to non-root users before any user exists: each step starts with the guard document's installer", () => {
        const guard = JSON.parse(only(run, T.document, "metadata-guard-close-metadata").inputs.content);
        for (const platform of ["Linux", "MacOS"]) {
            const install: string[] = guard.mainSteps.find((s: any) => s.precondition.StringEquals[1] === platform).inputs.runCommand;
            const lines: string[] = command.mainSteps.find((s: any) => s.precondition.StringEquals[1] === platform).inputs.runCommand;
            expect(install[0], `${platform}: stops at the first failure`).to.equal("set -eu");
            expect(lines.slice(0, install.length), platform).to.deep.equal(install);
            expect(lines.indexOf(readParameter("user", "userName")), `${platform}: the user comes after`).to.be.greaterThan(install.length);
        }
    });

    it("creates the default OS user on every instance carrying the access tag key, now and later", () => {
        const association = only(run, T.ssmAssociation, "os-users-default-user");
        const document = only(run, T.document, "os-users-create-os-user");
        expect(association.inputs.name).to.equal(document.name);
        expect(association.inputs.parameters).to.deep.equal({ userName: "no_sudo_user" });
        expect(association.inputs.targets).to.deep.equal([{ key: "tag-key", values: ["ExternalAccessGrantedTo"] }]);
    });
});

describe("yours stack: partitions and component structure", () => {
    it("builds every ARN, service name and principal from the partition in aws-cn", async () => {
        // Partners' principals computed from their account ids, so every ARN is built here.
        const china = await yours({
            "aws:region": "cn-north-1",
            "sessions.kmsEncryption": true,
            "partners[0].theirStack": undefined,
            "partners[1].principalArns": undefined,
        });
        expect(ofType(china, T.endpoint).map((e) => e.inputs.serviceName)).to.include("cn.com.amazonaws.cn-north-1.ssm");
        expect(statementsOf(only(china, T.role, "instances-role").inputs.assumeRolePolicy)[0].Principal).to.deep.equal({ Service: "ec2.amazonaws.com.cn" });
        const arns = china.resources.flatMap((r) => JSON.stringify(r.inputs).match(/arn:[a-z-]+:/g) ?? []);
        expect(arns.length).to.be.greaterThan(5);
        expect([...new Set(arns)]).to.deep.equal(["arn:aws-cn:"]);
    });

    it("parents every resource under a component named from the component's name", () => {
        return yours().then((run) => {
            const byUrn = new Map(run.resources.map((r) => [r.urn, r] as [string, RecordedResource]));
            // Stack references are the stack program's own reads, not a component's children.
            for (const resource of run.resources.filter((r) => r.custom && r.type !== "pulumi:pulumi:StackReference")) {
                const parent = byUrn.get(resource.parent ?? "");
                expect(parent, `${resource.name} has a component parent`).to.not.equal(undefined);
                expect(resource.name.startsWith(`${parent!.name}-`), `${resource.name} is named from ${parent!.name}`).to.equal(true);
            }
        });
    });
});

describe("yours stack: alerts on access", () => {
    let run: ProgramRun;
    before(async () => (run = await yours({ "alerts.emails": ["security@example.com"], "alerts.httpsEndpoints": ["https://hooks.example.com/sns"] })));

    it("encrypts the topic with a key of its own that only EventBridge, for that topic, may use, without a source condition KMS would refuse", () => {
        const key = only(run, "aws:kms/key:Key", "alerts-key");
        expect(key.inputs.enableKeyRotation).to.equal(true);
        const topic = only(run, "aws:sns/topic:Topic");
        expect(topic.inputs.kmsMasterKeyId).to.equal(`arn:aws:kms:us-east-1:111111111111:key/${key.id}`);
        // The policy names the topic, so it is set once the topic exists, on this key.
        const keyPolicy = only(run, "aws:kms/keyPolicy:KeyPolicy", "alerts-key");
        expect(keyPolicy.inputs.keyId).to.equal(key.id);
        expect(key.inputs.policy).to.equal(undefined);
        const use = statementsOf(keyPolicy.inputs.policy).filter((s) => s.Sid !== "AccountAdministersKey");
        // No aws:SourceAccount / aws:SourceArn: unsupported for EventBridge-to-encrypted-topic (SNS Developer Guide).
        expect(use).to.deep.equal([
            {
                Sid: "EventBridgeEncryptsForTheAlertTopic",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:111111111111:alerts-topic" } },
            },
        ]);
    });

    it("lets only its own EventBridge rule publish to the topic, over TLS", () => {
        const topic = only(run, "aws:sns/topic:Topic");
        const policy = statementsOf(only(run, "aws:sns/topicPolicy:TopicPolicy").inputs.policy);
        const allows = policy.filter((s) => s.Effect === "Allow");
        expect(allows).to.have.length(1);
        expect(policy.filter((s) => s.Effect === "Deny")).to.deep.equal([
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sns:Publish",
                Resource: only(run, "aws:sns/topicPolicy:TopicPolicy").inputs.arn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ]);
        expect(allows[0]).to.deep.include({ Principal: { Service: "events.amazonaws.com" }, Action: "sns:Publish" });
        // This component's rule only: not another rule of the account, nor one on a custom bus.
        expect(allows[0].Condition).to.deep.equal({
            ArnEquals: {
                "aws:SourceArn": ["arn:aws:events:us-east-1:111111111111:rule/alerts-rule", "arn:aws:events:us-east-1:111111111111:rule/alerts-failures"],
            },
            StringEquals: { "aws:SourceAccount": "111111111111" },
        });
        expect(asList(allows[0].Resource)).to.deep.equal([only(run, "aws:sns/topicPolicy:TopicPolicy").inputs.arn]);
        expect(topic.name).to.equal("alerts-topic");
    });

    it("alerts on every session call, every AssumeRole of a grant role (refused ones included) and every end of access, naming who, as whom and where", async () => {
        const rule = only(run, "aws:cloudwatch/eventRule:EventRule", "alerts-rule");
        // AssumeRole is a read-only management event: only this state lets the rule see it.
        expect(rule.inputs.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
        const pattern = JSON.parse(rule.inputs.eventPattern);
        expect(pattern["detail-type"]).to.deep.equal(["AWS API Call via CloudTrail"]);
        expect(pattern.detail.$or).to.deep.equal([
            { eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession", "ResumeSession", "TerminateSession"] },
            {
                eventSource: ["sts.amazonaws.com"],
                eventName: ["AssumeRole"],
                requestParameters: { roleArn: [{ prefix: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_" }] },
            },
            // The schedule ending a partner's OS user at its end of access, or anyone running that document by hand.
            { eventSource: ["ssm.amazonaws.com"], eventName: ["SendCommand"], requestParameters: { documentName: ["offboarding-end-os-users"] } },
        ]);
        // No errorCode filter: a refused AssumeRole alerts too. A grant with a role name of its own is listed exactly.
        expect(JSON.stringify(pattern)).to.not.include("errorCode");
        const named = await yours({ "partners[1].roleName": "VendorBSessions" });
        expect(
            JSON.parse(only(named, "aws:cloudwatch/eventRule:EventRule", "alerts-rule").inputs.eventPattern).detail.$or[1].requestParameters.roleArn,
        ).to.deep.equal([{ prefix: "arn:aws:iam::111111111111:role/SSMStartSession_IAM_Role_" }, "arn:aws:iam::111111111111:role/VendorBSessions"]);
        const target = only(run, "aws:cloudwatch/eventTarget:EventTarget", "alerts-to-topic");
        expect(target.inputs.arn).to.equal(only(run, "aws:sns/topicPolicy:TopicPolicy").inputs.arn);
        expect(target.inputs.inputTransformer.inputPaths).to.include({
            caller: "$.detail.userIdentity.arn",
            callerAccount: "$.detail.userIdentity.accountId",
            requestedSourceIdentity: "$.detail.requestParameters.sourceIdentity",
            sessionSourceIdentity: "$.detail.userIdentity.sessionContext.sourceIdentity",
            instance: "$.detail.requestParameters.target",
            document: "$.detail.requestParameters.documentName",
            comment: "$.detail.requestParameters.comment",
            error: "$.detail.errorCode",
        });
    });

    it("alerts when a run that should end a partner's access fails on an instance (the schedule's command, the kept list's association)", () => {
        const rule = only(run, "aws:cloudwatch/eventRule:EventRule", "alerts-failures");
        expect(JSON.parse(rule.inputs.eventPattern)).to.deep.equal({
            source: ["aws.ssm"],
            "detail-type": ["EC2 Command Invocation Status-change Notification", "EC2 State Manager Instance Association State Change"],
            detail: { "document-name": ["offboarding-end-os-users", "offboarding-keep-os-users"], status: ["Failed", "TimedOut", "Cancelled"] },
        });
        const target = only(run, "aws:cloudwatch/eventTarget:EventTarget", "alerts-failures-to-topic");
        expect(target.inputs.arn).to.equal(only(run, "aws:sns/topicPolicy:TopicPolicy").inputs.arn);
        expect(target.inputs.inputTransformer.inputTemplate).to.include("FAILED to end a partner's access: document <document> on <instance>");
    });

    it("subscribes the addresses and endpoints the config lists, and builds nothing with alerts off", async () => {
        expect(ofType(run, "aws:sns/topicSubscription:TopicSubscription").map((s) => `${s.inputs.protocol} ${s.inputs.endpoint}`)).to.deep.equal([
            "email security@example.com",
            "https https://hooks.example.com/sns",
        ]);
        expect((await resolve(run.outputs.alertTopicArn as string)).value).to.equal(only(run, "aws:sns/topicPolicy:TopicPolicy").inputs.arn);
        const off = await yours({ "alerts.enabled": false });
        for (const type of ["aws:sns/topic:Topic", "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"])
            expect(ofType(off, type), type).to.deep.equal([]);
        expect(off.outputs.alertTopicArn).to.equal(null);
        expect(off.outputs.alertRuleName).to.equal(null);
    });

    it("outputs the name of the rule alerting on sessions, whose metrics the live check reads", async () => {
        const ruleName = (await resolve(run.outputs.alertRuleName as string)).value;
        expect(ruleName).to.be.a("string").and.not.equal("");
        expect(ruleName).to.equal(only(run, "aws:cloudwatch/eventTarget:EventTarget", "alerts-to-topic").inputs.rule);
        expect(ruleName).to.not.equal(only(run, "aws:cloudwatch/eventTarget:EventTarget", "alerts-failures-to-topic").inputs.rule);
    });
});
