// EC2 instances Session Manager can reach in the private network: Amazon Linux 2023,
// IMDSv2 only and closed to every user but root, encrypted root volume, no public
// address, tagged with the partner allowed on them, and an instance role holding only
// what the SSM agent needs, usable only from the instance itself.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { REGISTRATION_BATCH, yieldToEventLoop } from "./batches";
import { metadataGuardUserData } from "./metadata-guard-scripts";
import { instanceAgentPolicy, instanceCredentialsPerimeterPolicy, serviceTrustPolicy, type AwsScope } from "./policies";
import { scopeFor } from "./scope";
import { componentType, withFormerType } from "./type-tokens";
import { optionalBoundary, requireEach, requireValid } from "./guard";
import { ACCESS_TAG_KEY, INSTANCE_NAME, INSTANCE_TYPE, PARTNER_NAME } from "./rules";

/** One instance to launch. */
export interface ManagedInstanceSpec {
    /** Name: the `Name` tag and the base of the resource name. */
    name: string;
    /** Partner allowed on the instance: the value of the access tag. Untagged when absent. */
    partner?: string;
    /** EC2 instance type, e.g. "t3.micro". */
    instanceType: string;
    /** AMI to launch; the component's `defaultAmiId` when absent. */
    amiId?: pulumi.Input<string>;
}

export interface ManagedInstancesArgs {
    /** The instances to launch, each with its own name, partner tag, type and optional AMI. */
    instances: ManagedInstanceSpec[];
    /** Private subnets; instances are spread across them in order. */
    subnetIds: pulumi.Input<string>[];
    /** Security groups of every instance. When absent, the component creates one in `vpcId`: no ingress, HTTPS out. */
    securityGroupIds?: pulumi.Input<string>[];
    /** VPC of the subnets; needed only when `securityGroupIds` is absent. */
    vpcId?: pulumi.Input<string>;
    /**
     * Refuse the instance role's credentials outside the instances' own VPC (AWS's data
     * perimeter for EC2 credentials). Default true. Only for instances that reach AWS through
     * VPC endpoints of their VPC: behind a NAT, requests carry no `aws:SourceVpc` and every
     * call of the SSM agent would be refused.
     */
    credentialsPerimeter?: boolean;
    /** Tag key whose value names the partner (ABAC), e.g. "ExternalAccessGrantedTo". */
    accessTagKey: string;
    /**
     * AMI for instances without one, e.g. from the public Amazon Linux 2023 SSM parameter.
     * Instances keep the AMI they launched with: a newer parameter value does not replace them.
     */
    defaultAmiId: pulumi.Input<string>;
    /** ARN of a managed policy set as the permissions boundary of every role this component creates: the most any of them may do, whatever its own policies say. */
    permissionsBoundary?: pulumi.Input<string>;
    /** Account, region and partition of this component's provider, when the caller already has them (saves three lookups per component); looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/**
 * The instances, their shared instance role and instance profile. Every partner has a
 * shell on some instance, so the instance is part of the attack surface: its metadata
 * service is closed to non-root users from the first boot (user data, and a systemd unit
 * at every boot; `MetadataGuard` re-applies it), and the role's credentials are refused
 * outside the instance's VPC.
 */
export class ManagedInstances extends pulumi.ComponentResource {
    /** ARN of the instance role (the SSM agent's scoped policy, and the credentials perimeter when on). */
    public readonly roleArn: pulumi.Output<string>;
    /** Name of the instance role: attach further policies to it, never AmazonSSMManagedInstanceCore (it reads every SSM parameter). */
    public readonly roleName: pulumi.Output<string>;
    /** Name of the instance profile carrying the role. */
    public readonly instanceProfileName: pulumi.Output<string>;
    /** Instance ids by instance name. */
    public readonly instanceIds: Record<string, pulumi.Output<string>>;
    /** Security groups of the instances: the ones given, or the one the component created. */
    public readonly securityGroupIds: pulumi.Output<string[]>;

    constructor(name: string, args: ManagedInstancesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ManagedInstances"), name, {}, withFormerType("ManagedInstances", "instances", opts));
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);
        // Checked before any child is registered: none is ever created with a refused boundary.
        const permissionsBoundary = optionalBoundary(this, args.permissionsBoundary);

        // The same rules the stack config applies, so the component is safe however it is called.
        requireValid(this, "accessTagKey", args.accessTagKey, ACCESS_TAG_KEY.problem);
        requireEach(
            this,
            (i) => `instances[${i}].name`,
            args.instances.map((spec) => spec.name),
            INSTANCE_NAME.problem,
        );
        requireEach(
            this,
            (i) => `instances[${i}].instanceType`,
            args.instances.map((spec) => spec.instanceType),
            INSTANCE_TYPE.problem,
        );
        args.instances.forEach((spec, i) => {
            if (spec.partner !== undefined) requireValid(this, `instances[${i}].partner`, spec.partner, PARTNER_NAME.problem);
        });
        requireValid(this, "subnetIds", args.subnetIds, (ids) =>
            ids.length > 0 || args.instances.length === 0 ? undefined : "is empty; accepted: at least one subnet id",
        );

        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: "Instance role of the Session Manager managed instances",
                assumeRolePolicy: pulumi.jsonStringify(scope.apply((s) => serviceTrustPolicy("ec2", s))),
                permissionsBoundary,
                tags: args.tags,
            },
            parent,
        );
        // A scoped policy instead of AmazonSSMManagedInstanceCore, which reads every SSM parameter of the account.
        new aws.iam.RolePolicy(`${name}-ssm-agent`, { role: role.name, policy: pulumi.jsonStringify(scope.apply(instanceAgentPolicy)) }, parent);
        if (args.credentialsPerimeter ?? true) {
            new aws.iam.RolePolicy(`${name}-credentials-perimeter`, { role: role.name, policy: JSON.stringify(instanceCredentialsPerimeterPolicy()) }, parent);
        }
        const securityGroupIds = args.securityGroupIds ?? [this.ownSecurityGroup(name, args).id];
        const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: args.tags }, parent);

        const launch = (spec: ManagedInstanceSpec, i: number) =>
            new aws.ec2.Instance(
                `${name}-${spec.name}`,
                {
                    ami: spec.amiId ?? args.defaultAmiId,
                    instanceType: spec.instanceType,
                    subnetId: args.subnetIds[i % args.subnetIds.length],
                    vpcSecurityGroupIds: securityGroupIds,
                    iamInstanceProfile: profile.name,
                    associatePublicIpAddress: false,
                    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
                    // IMDSv2 and a hop limit of 1 stop containers and forwarded traffic, not a local user.
                    userData: metadataGuardUserData(),
                    rootBlockDevice: { encrypted: true, volumeType: "gp3", deleteOnTermination: true },
                    tags: { ...args.tags, Name: spec.name, ...(spec.partner === undefined ? {} : { [args.accessTagKey]: spec.partner }) },
                    volumeTags: { ...args.tags, Name: spec.name },
                },
                { ...parent, ignoreChanges: spec.amiId === undefined ? ["ami"] : [] },
            );
        // A batch at a time (batches.ts). The ids of later batches are deferred outputs, with the same
        // dependencies; an error registering one fails the program as an unhandled rejection.
        this.instanceIds = {};
        const later: Array<{ spec: ManagedInstanceSpec; index: number; resolve: (id: pulumi.Output<string>) => void }> = [];
        args.instances.forEach((spec, index) => {
            if (index < REGISTRATION_BATCH) {
                this.instanceIds[spec.name] = launch(spec, index).id;
                return;
            }
            const [id, resolve] = pulumi.deferredOutput<string>();
            this.instanceIds[spec.name] = id;
            later.push({ spec, index, resolve });
        });
        void (async () => {
            for (let start = 0; start < later.length; start += REGISTRATION_BATCH) {
                await yieldToEventLoop();
                for (const { spec, index, resolve } of later.slice(start, start + REGISTRATION_BATCH)) resolve(launch(spec, index).id);
            }
        })();

        this.roleArn = role.arn;
        this.roleName = role.name;
        this.instanceProfileName = profile.name;
        this.securityGroupIds = pulumi.output(securityGroupIds);
        this.registerOutputs({
            roleArn: this.roleArn,
            roleName: this.roleName,
            instanceProfileName: this.instanceProfileName,
            instanceIds: this.instanceIds,
            securityGroupIds: this.securityGroupIds,
        });
    }

    // In a network the stack does not build: nothing in, HTTPS out (to Systems Manager's
    // endpoints or a NAT, whichever the network has). The egress is declared on the group
    // itself, so AWS's default allow-all egress is not kept beside it.
    private ownSecurityGroup(name: string, args: ManagedInstancesArgs): aws.ec2.SecurityGroup {
        if (args.vpcId === undefined) throw new Error(`ManagedInstances ${name}: give securityGroupIds, or vpcId for a security group of its own`);
        return new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: args.vpcId,
                description: "Managed instances: no inbound; HTTPS out to reach Systems Manager",
                ingress: [],
                egress: [
                    { description: "HTTPS to Systems Manager (endpoints or NAT)", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                ],
                tags: { ...args.tags, Name: `${name}-sg` },
            },
            { parent: this },
        );
    }
}
