// A VPC with no way out but AWS's own endpoints: private subnets, a route table with
// no route leaving the VPC, the interface endpoints Session Manager needs, an S3
// gateway endpoint, and security groups whose egress is really limited.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { subnetCidrs } from "./cidr";
import { DEFAULT_LOG_RETENTION_DAYS } from "./constants";
import { flowLogDeliveryPolicy, interfaceEndpointPolicy, s3GatewayEndpointPolicy, serviceTrustPolicy, type AwsScope } from "./policies";
import { scopeFor } from "./scope";
import { ARCHIVE_KEY_PREFIX } from "./session-preferences";
import { componentType, withFormerType } from "./type-tokens";
import { checkedInput, optionalBoundary, requireValid } from "./guard";
import { ACCOUNT_ID, BUCKET_NAME, LOG_RETENTION, VPC_CIDR, subnetSplitProblem } from "./rules";

/** Interface endpoints Session Manager needs: the SSM API, its message channels, and CloudWatch Logs for streaming. */
export const SESSION_MANAGER_ENDPOINT_SERVICES = ["ssm", "ssmmessages", "ec2messages", "logs"] as const;

const HTTPS = 443;

/** The name of an AWS service's VPC endpoint service in a region, e.g. `com.amazonaws.us-east-1.ssm`. */
export function endpointServiceName(scope: Pick<AwsScope, "reverseDnsPrefix" | "region">, service: string): string {
    return `${scope.reverseDnsPrefix}.${scope.region}.${service}`;
}

export interface PrivateSsmNetworkArgs {
    /** IPv4 network of the VPC, e.g. "10.24.34.0/23"; split evenly into one private subnet per zone. */
    vpcCidr: string;
    /** Availability zones, one private subnet in each. */
    availabilityZones: pulumi.Input<string>[];
    /** Also create the `kms` interface endpoint, needed when session data is KMS-encrypted. */
    kmsEndpoint?: boolean;
    /**
     * Name of a session archive bucket of your own (`SessionPreferences`' existingArchiveBucketName),
     * which may be in another account: the S3 endpoint then lets this account's principals write
     * transcripts there, and nothing else of it.
     */
    archiveBucketName?: string;
    /** The account owning that bucket (default this account): transcripts reach the bucket of that name only in that account, never one someone else creates under the name. */
    archiveBucketAccountId?: string;
    /** Days the VPC flow logs are kept (a CloudWatch Logs retention value). */
    flowLogRetentionDays?: pulumi.Input<number>;
    /** ARN of a managed policy set as the permissions boundary of every role this component creates: the most any of them may do, whatever its own policies say. */
    permissionsBoundary?: pulumi.Input<string>;
    /** Account, region and partition of this component's provider, when the caller already has them (saves three lookups per component); looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/**
 * Private network for Session Manager: instances reach SSM, CloudWatch Logs (and KMS,
 * S3) through VPC endpoints only. No internet gateway, no NAT, no inbound rules. The
 * endpoints carry only this account's principals (and, through S3, the AWS-owned buckets
 * the agent and package manager read), so a shell on an instance cannot move data to or
 * from an account of its own through them.
 */
export class PrivateSsmNetwork extends pulumi.ComponentResource {
    /** Id of the private VPC: no internet gateway, no NAT, AWS reached through its endpoints only. */
    public readonly vpcId: pulumi.Output<string>;
    /** Ids of the private subnets, one per availability zone, in the order of `availabilityZones`. */
    public readonly subnetIds: pulumi.Output<string>[];
    /** Id of the private route table: the local route and the S3 gateway endpoint's route only. */
    public readonly routeTableId: pulumi.Output<string>;
    /** Security group for instances: no ingress, egress only HTTPS to the endpoints and S3. */
    public readonly instanceSecurityGroupId: pulumi.Output<string>;
    /** Security group of the interface endpoints: HTTPS in from the instances only. */
    public readonly endpointSecurityGroupId: pulumi.Output<string>;
    /** Services with an interface endpoint, e.g. ["ssm", "ssmmessages", ...]. */
    public readonly interfaceEndpointServices: string[];
    /** Name of the CloudWatch Logs group receiving the VPC flow logs. */
    public readonly flowLogGroupName: pulumi.Output<string>;

    constructor(name: string, args: PrivateSsmNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("PrivateSsmNetwork"), name, {}, withFormerType("PrivateSsmNetwork", "network", opts));
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);
        // Checked before any child is registered: none is ever created with a refused boundary.
        const permissionsBoundary = optionalBoundary(this, args.permissionsBoundary);
        const tagged = (suffix: string) => ({ ...args.tags, Name: `${name}-${suffix}` });

        // The same rules the stack config applies, so the component is safe however it is called.
        requireValid(this, "vpcCidr", args.vpcCidr, VPC_CIDR.problem);
        if (args.archiveBucketName !== undefined) requireValid(this, "archiveBucketName", args.archiveBucketName, BUCKET_NAME.problem);
        if (args.archiveBucketAccountId !== undefined) requireValid(this, "archiveBucketAccountId", args.archiveBucketAccountId, ACCOUNT_ID.problem);
        const archive =
            args.archiveBucketName === undefined
                ? undefined
                : { bucketName: args.archiveBucketName, keyPrefix: ARCHIVE_KEY_PREFIX, accountId: args.archiveBucketAccountId };
        requireValid(this, "availabilityZones", args.availabilityZones, (zones) => subnetSplitProblem(args.vpcCidr, zones.length));
        const flowLogRetentionDays = checkedInput(this, "flowLogRetentionDays", args.flowLogRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS, LOG_RETENTION.problem);

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tagged("vpc") }, parent);

        // Inline `routes: []` makes the table own its routes: anything added outside Pulumi is
        // removed. Only the implicit local route and the S3 endpoint's prefix-list route remain.
        const routeTable = new aws.ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: [], tags: tagged("private") }, parent);

        const cidrs = subnetCidrs(args.vpcCidr, args.availabilityZones.length);
        const subnets = args.availabilityZones.map((zone, i) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-private-${i + 1}`,
                { vpcId: vpc.id, cidrBlock: cidrs[i], availabilityZone: zone, mapPublicIpOnLaunch: false, tags: tagged(`private-${i + 1}`) },
                parent,
            );
            new aws.ec2.RouteTableAssociation(`${name}-private-${i + 1}`, { subnetId: subnet.id, routeTableId: routeTable.id }, parent);
            return subnet;
        });

        const s3Endpoint = new aws.ec2.VpcEndpoint(
            `${name}-s3`,
            {
                vpcId: vpc.id,
                serviceName: scope.apply((s) => endpointServiceName(s, "s3")),
                vpcEndpointType: "Gateway",
                routeTableIds: [routeTable.id],
                policy: pulumi.jsonStringify(scope.apply((s) => s3GatewayEndpointPolicy(s, archive))),
                tags: tagged("s3"),
            },
            parent,
        );

        // Declared empty inline: an EC2 security group keeps its default allow-all egress
        // unless the group itself declares its egress. Ingress comes from the rule below.
        const endpointGroup = new aws.ec2.SecurityGroup(
            `${name}-endpoints`,
            { vpcId: vpc.id, description: "VPC interface endpoints: HTTPS from the managed instances only", egress: [], tags: tagged("endpoints") },
            parent,
        );
        const instanceGroup = new aws.ec2.SecurityGroup(
            `${name}-instances`,
            {
                vpcId: vpc.id,
                description: "Managed instances: no inbound; HTTPS out to the VPC endpoints and S3 only",
                ingress: [],
                egress: [
                    {
                        description: "HTTPS to the VPC interface endpoints",
                        protocol: "tcp",
                        fromPort: HTTPS,
                        toPort: HTTPS,
                        securityGroups: [endpointGroup.id],
                    },
                    {
                        description: "HTTPS to S3 through the gateway endpoint",
                        protocol: "tcp",
                        fromPort: HTTPS,
                        toPort: HTTPS,
                        prefixListIds: [s3Endpoint.prefixListId],
                    },
                ],
                tags: tagged("instances"),
            },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-endpoints-https-from-instances`,
            {
                securityGroupId: endpointGroup.id,
                description: "HTTPS from the managed instances",
                ipProtocol: "tcp",
                fromPort: HTTPS,
                toPort: HTTPS,
                referencedSecurityGroupId: instanceGroup.id,
            },
            parent,
        );

        this.interfaceEndpointServices = [...SESSION_MANAGER_ENDPOINT_SERVICES, ...(args.kmsEndpoint ? ["kms"] : [])];
        const endpointPolicy = pulumi.jsonStringify(scope.apply(interfaceEndpointPolicy));
        for (const service of this.interfaceEndpointServices) {
            // AWS refuses, or ignores, a policy on an endpoint whose service does not support
            // endpoint policies; ask AWS rather than assume. The review flags any endpoint left open.
            const supportsPolicy = aws.ec2.getVpcEndpointServiceOutput({ service, serviceType: "Interface" }, { parent: this }).vpcEndpointPolicySupported;
            new aws.ec2.VpcEndpoint(
                `${name}-${service}`,
                {
                    vpcId: vpc.id,
                    serviceName: scope.apply((s) => endpointServiceName(s, service)),
                    vpcEndpointType: "Interface",
                    privateDnsEnabled: true,
                    subnetIds: subnets.map((s) => s.id),
                    securityGroupIds: [endpointGroup.id],
                    policy: pulumi.all([supportsPolicy, endpointPolicy]).apply(([supported, json]) => (supported ? json : undefined)),
                    tags: tagged(service),
                },
                parent,
            );
        }

        const flowLogGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, { retentionInDays: flowLogRetentionDays, tags: args.tags }, parent);
        const flowLogRole = new aws.iam.Role(
            `${name}-flow-logs`,
            {
                description: `Delivers VPC flow logs of ${name} to CloudWatch Logs`,
                assumeRolePolicy: pulumi.jsonStringify(
                    scope.apply((s) => serviceTrustPolicy("vpc-flow-logs", s, `arn:${s.partition}:ec2:${s.region}:${s.accountId}:vpc-flow-log/*`)),
                ),
                permissionsBoundary,
                tags: args.tags,
            },
            parent,
        );
        new aws.iam.RolePolicy(
            `${name}-flow-logs`,
            {
                role: flowLogRole.name,
                policy: pulumi.jsonStringify(pulumi.all([scope, flowLogGroup.name]).apply(([s, group]) => flowLogDeliveryPolicy(s, group))),
            },
            parent,
        );
        new aws.ec2.FlowLog(
            `${name}-flow-log`,
            {
                vpcId: vpc.id,
                trafficType: "ALL",
                logDestinationType: "cloud-watch-logs",
                logDestination: flowLogGroup.arn,
                iamRoleArn: flowLogRole.arn,
                tags: tagged("flow-log"),
            },
            parent,
        );

        this.vpcId = vpc.id;
        this.subnetIds = subnets.map((s) => s.id);
        this.routeTableId = routeTable.id;
        this.instanceSecurityGroupId = instanceGroup.id;
        this.endpointSecurityGroupId = endpointGroup.id;
        this.flowLogGroupName = flowLogGroup.name;
        this.registerOutputs({
            vpcId: this.vpcId,
            subnetIds: this.subnetIds,
            routeTableId: this.routeTableId,
            instanceSecurityGroupId: this.instanceSecurityGroupId,
            endpointSecurityGroupId: this.endpointSecurityGroupId,
            flowLogGroupName: this.flowLogGroupName,
        });
    }
}
