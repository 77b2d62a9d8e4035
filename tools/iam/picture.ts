// The IAM picture of one or more stacks: from the resources the programs registered
// under the mock engine, every principal with the policies that apply to it (inline,
// attached, through its groups), every role's trust policy, resource policies, and
// the tagged instances. Built from what the program produced, never from config.

import { METADATA_GUARD_SCRIPT, metadataGuardDocument } from "../../components/metadata-guard-scripts";
import type { PolicyDocument } from "../../components/policies";
import type { ProgramRun, RecordedResource } from "../mock-engine";

/** A named policy document that applies to a principal. */
export interface NamedPolicy {
    name: string;
    document: PolicyDocument;
    /** Inline policies count against the principal's inline quota; managed ones have their own. */
    kind: "inline" | "group-inline" | "managed";
    /** An AWS managed policy's text from this project's dated snapshot (tools/iam/aws-managed-policies.ts): AWS's, not the program's. */
    snapshotTakenOn?: string;
}

/** A role or user, with everything that decides what it may do. */
export interface IamPrincipal {
    arn: string;
    kind: "role" | "user";
    name: string;
    accountId: string;
    /** The stack that created it. */
    stack: string;
    tags: Record<string, string>;
    policies: NamedPolicy[];
    /** AWS managed policies attached by ARN; the access model adds the text of those it has a snapshot of to `policies`. */
    awsManagedPolicies: string[];
    trustPolicy?: PolicyDocument;
    /** Groups it belongs to (users). */
    groups: string[];
}

/** An EC2 instance the program launched, with its tags. */
export interface PictureInstance {
    arn: string;
    id: string;
    name: string;
    accountId: string;
    tags: Record<string, string>;
    /** VPC of its subnet. */
    vpcId: string;
    /** The role its instance profile passes to it. */
    roleArn?: string;
    /** Its user data closes the metadata service to non-root users at every boot. */
    metadataGuardAtBoot: boolean;
    /** A State Manager association re-applies that guard to it. */
    metadataGuardReapplied: boolean;
}

/** A VPC endpoint: the policy every request through it must also pass. */
export interface PictureEndpoint {
    vpcId: string;
    /** Service name's last part: "s3", "ssm", "logs", ... */
    service: string;
    /** Absent: AWS's default full-access policy. */
    policy?: PolicyDocument;
}

/** A bucket's protections of the objects in it. */
export interface PictureBucket {
    arn: string;
    accountId: string;
    versioned: boolean;
    objectLock?: { mode: string; days: number };
    /** Its first lifecycle rule: when objects move to a colder class, and when they expire. */
    lifecycle?: { transition?: { days: number; storageClass: string }; expirationDays?: number };
    /** The key prefix its server access logs are delivered under, when requests on it are logged. */
    accessLogPrefix?: string;
}

/** A resource policy (KMS key policy, S3 bucket policy). */
export interface ResourcePolicy {
    /** The resource it governs, e.g. the key ARN; bucket policies cover the bucket and its objects. */
    arn: string;
    accountId: string;
    kind: "kms-key" | "s3-bucket" | "secret" | "sns-topic";
    document: PolicyDocument;
    /** Not in the stack: a key or bucket of your own, taken to carry the statements the stack prints in this output. */
    assumedFromOutput?: string;
}

export interface IamPicture {
    partition: string;
    region: string;
    principals: IamPrincipal[];
    instances: PictureInstance[];
    resourcePolicies: ResourcePolicy[];
    /** VPCs the stacks build: their only ways out are the endpoints in `endpoints`. Of any other VPC nothing is known. */
    vpcs: string[];
    endpoints: PictureEndpoint[];
    buckets: PictureBucket[];
    /** Log groups by name, with ARN and account. */
    logGroups: Array<{ name: string; arn: string; accountId: string }>;
    secrets: Array<{ arn: string; name: string; accountId: string }>;
    /** SSM documents the stacks create (session preferences, commands), by name. */
    documents: Array<{ arn: string; name: string; accountId: string; documentType: string }>;
}

const parse = (json: unknown): PolicyDocument => (typeof json === "string" ? JSON.parse(json) : json) as PolicyDocument;

/** What a guarded instance runs: by default this project's guard; the access diff gives each side's own. */
export interface GuardScripts {
    script: string;
    document: string;
}

/** What a guarded instance runs, as a program serialises it, from that program's metadata-guard-scripts module. */
export function guardScriptsOf(scripts: { METADATA_GUARD_SCRIPT: readonly string[]; metadataGuardDocument(): unknown }): GuardScripts {
    return { script: scripts.METADATA_GUARD_SCRIPT.join("\n"), document: JSON.stringify(scripts.metadataGuardDocument(), null, 2) };
}

const THIS_GUARD = guardScriptsOf({ METADATA_GUARD_SCRIPT, metadataGuardDocument });

/** Builds the IAM picture of the given program runs (e.g. a `yours` and a `their` stack). */
export function buildIamPicture(runs: ProgramRun[], guard: GuardScripts = THIS_GUARD): IamPicture {
    if (runs.length === 0) throw new Error("no program runs to build an IAM picture from");
    const picture: IamPicture = {
        partition: runs[0].partition,
        region: runs[0].region,
        principals: [],
        instances: [],
        resourcePolicies: [],
        vpcs: [],
        endpoints: [],
        buckets: [],
        logGroups: [],
        secrets: [],
        documents: [],
    };
    for (const run of runs) addRun(picture, run, guard);
    return picture;
}

function addRun(picture: IamPicture, run: ProgramRun, guard: GuardScripts): void {
    const { account, partition, region } = run;
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const physical = (r: RecordedResource) => String(r.inputs.name ?? r.name);

    // Roles and users by name, as the policies that attach to them refer to them.
    const principalsOf = (type: string, kind: "role" | "user") => {
        const byName = new Map<string, IamPrincipal>();
        for (const resource of of(type)) {
            const name = physical(resource);
            const principal: IamPrincipal = {
                arn: `arn:${partition}:iam::${account}:${kind}/${name}`,
                kind,
                name,
                accountId: account,
                stack: run.stack,
                tags: resource.inputs.tags ?? {},
                policies: [],
                awsManagedPolicies: [],
                trustPolicy: kind === "role" ? parse(resource.inputs.assumeRolePolicy) : undefined,
                groups: [],
            };
            byName.set(name, principal);
            picture.principals.push(principal);
        }
        return byName;
    };

    const roles = principalsOf("aws:iam/role:Role", "role");
    const managed = new Map(of("aws:iam/policy:Policy").map((p) => [`arn:${partition}:iam::${account}:policy/${physical(p)}`, p]));
    // A managed policy attached by ARN: one of the stack's own, by content; an AWS managed one, by name.
    const attach = (principal: IamPrincipal, policyArn: unknown, kind: NamedPolicy["kind"] = "managed") => {
        const arn = String(policyArn);
        const own = managed.get(arn);
        if (own) principal.policies.push({ name: own.name, document: parse(own.inputs.policy), kind });
        else principal.awsManagedPolicies.push(arn);
    };
    for (const resource of of("aws:iam/role:Role")) {
        // Policies a role may also carry on itself.
        const role = principalNamed(roles, physical(resource), resource);
        for (const inline of (resource.inputs.inlinePolicies ?? []) as Array<{ name?: string; policy?: string }>) {
            if (inline.policy) role.policies.push({ name: inline.name ?? `${resource.name} inline`, document: parse(inline.policy), kind: "inline" });
        }
        for (const arn of (resource.inputs.managedPolicyArns ?? []) as string[]) attach(role, arn);
    }
    for (const policy of of("aws:iam/rolePolicy:RolePolicy")) {
        principalNamed(roles, policy.inputs.role, policy).policies.push({ name: policy.name, document: parse(policy.inputs.policy), kind: "inline" });
    }
    for (const attachment of of("aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
        attach(principalNamed(roles, attachment.inputs.role, attachment), attachment.inputs.policyArn);

    const users = principalsOf("aws:iam/user:User", "user");
    for (const policy of of("aws:iam/userPolicy:UserPolicy")) {
        principalNamed(users, policy.inputs.user, policy).policies.push({ name: policy.name, document: parse(policy.inputs.policy), kind: "inline" });
    }
    for (const attachment of of("aws:iam/userPolicyAttachment:UserPolicyAttachment"))
        attach(principalNamed(users, attachment.inputs.user, attachment), attachment.inputs.policyArn);
    const groupPolicies = new Map<string, NamedPolicy[]>();
    const groupManaged = new Map<string, unknown[]>();
    for (const policy of of("aws:iam/groupPolicy:GroupPolicy")) {
        const list = groupPolicies.get(policy.inputs.group) ?? [];
        list.push({ name: policy.name, document: parse(policy.inputs.policy), kind: "group-inline" });
        groupPolicies.set(policy.inputs.group, list);
    }
    for (const attachment of of("aws:iam/groupPolicyAttachment:GroupPolicyAttachment"))
        groupManaged.set(attachment.inputs.group, [...(groupManaged.get(attachment.inputs.group) ?? []), attachment.inputs.policyArn]);
    // The exclusive attachment resource names roles, users and groups at once.
    for (const attachment of of("aws:iam/policyAttachment:PolicyAttachment")) {
        for (const name of (attachment.inputs.roles ?? []) as string[]) attach(principalNamed(roles, name, attachment), attachment.inputs.policyArn);
        for (const name of (attachment.inputs.users ?? []) as string[]) attach(principalNamed(users, name, attachment), attachment.inputs.policyArn);
        for (const group of (attachment.inputs.groups ?? []) as string[])
            groupManaged.set(group, [...(groupManaged.get(group) ?? []), attachment.inputs.policyArn]);
    }
    for (const membership of of("aws:iam/groupMembership:GroupMembership")) {
        for (const userName of membership.inputs.users as string[]) {
            const user = principalNamed(users, userName, membership);
            user.groups.push(membership.inputs.group);
            user.policies.push(...(groupPolicies.get(membership.inputs.group) ?? []));
            for (const arn of groupManaged.get(membership.inputs.group) ?? []) attach(user, arn);
        }
    }

    const byId = (type: string, id: unknown) => of(type).find((r) => r.id === id);
    const guardDocuments = new Set(
        of("aws:ssm/document:Document")
            .filter((d) => d.inputs.content === guard.document)
            .map((d) => d.name),
    );
    const guardTargets = of("aws:ssm/association:Association")
        .filter((a) => guardDocuments.has(a.inputs.name))
        .flatMap((a) => (a.inputs.targets ?? []) as Array<{ key: string; values: string[] }>);
    for (const instance of of("aws:ec2/instance:Instance")) {
        const tags: Record<string, string> = instance.inputs.tags ?? {};
        const profile = of("aws:iam/instanceProfile:InstanceProfile").find((p) => physical(p) === instance.inputs.iamInstanceProfile);
        picture.instances.push({
            arn: `arn:${partition}:ec2:${region}:${account}:instance/${instance.id}`,
            id: instance.id,
            name: tags.Name ?? instance.name,
            accountId: account,
            tags,
            // The subnet's VPC when the stack builds it; else its security group's (a network of your own).
            vpcId: String(
                byId("aws:ec2/subnet:Subnet", instance.inputs.subnetId)?.inputs.vpcId ??
                    byId("aws:ec2/securityGroup:SecurityGroup", instance.inputs.vpcSecurityGroupIds?.[0])?.inputs.vpcId ??
                    "vpc-unknown",
            ),
            roleArn: profile ? `arn:${partition}:iam::${account}:role/${profile.inputs.role}` : undefined,
            metadataGuardAtBoot: typeof instance.inputs.userData === "string" && instance.inputs.userData.includes(guard.script),
            metadataGuardReapplied: guardTargets.some((t) => targetMatches(t, tags)),
        });
    }
    for (const vpc of of("aws:ec2/vpc:Vpc")) picture.vpcs.push(vpc.id);
    for (const endpoint of of("aws:ec2/vpcEndpoint:VpcEndpoint")) {
        picture.endpoints.push({
            vpcId: String(endpoint.inputs.vpcId),
            service: String(endpoint.inputs.serviceName).split(".").pop()!,
            policy: endpoint.inputs.policy === undefined ? undefined : parse(endpoint.inputs.policy),
        });
    }
    for (const key of of("aws:kms/key:Key")) {
        picture.resourcePolicies.push({
            arn: `arn:${partition}:kms:${region}:${account}:key/${key.id}`,
            accountId: account,
            kind: "kms-key",
            // Without a policy AWS gives the key its default one: the account, through IAM, may do anything with it.
            document:
                key.inputs.policy === undefined
                    ? {
                          Version: "2012-10-17",
                          Statement: [
                              {
                                  Sid: "Enable IAM User Permissions",
                                  Effect: "Allow",
                                  Principal: { AWS: `arn:${partition}:iam::${account}:root` },
                                  Action: "kms:*",
                                  Resource: "*",
                              },
                          ],
                      }
                    : parse(key.inputs.policy),
        });
    }
    const buckets = new Map(of("aws:s3/bucket:Bucket").map((b) => [b.id, b]));
    // A bucket's name is its `bucket` input; without one AWS generates it (the mock engine uses the resource name).
    const bucketName = (b: RecordedResource) => String(b.inputs.bucket ?? b.name);
    for (const [id, bucket] of buckets) {
        const versioning = of("aws:s3/bucketVersioning:BucketVersioning").find((v) => v.inputs.bucket === id);
        const lock = of("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").find((l) => l.inputs.bucket === id);
        const retention = lock?.inputs.objectLockEnabled === "Enabled" ? lock.inputs.rule?.defaultRetention : undefined;
        const rule = of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((l) => l.inputs.bucket === id)?.inputs.rules?.[0];
        const logging = of("aws:s3/bucketLogging:BucketLogging").find((l) => l.inputs.bucket === id);
        picture.buckets.push({
            arn: `arn:${partition}:s3:::${bucketName(bucket)}`,
            accountId: account,
            versioned: versioning?.inputs.versioningConfiguration?.status === "Enabled",
            objectLock: retention ? { mode: String(retention.mode), days: Number(retention.days) } : undefined,
            lifecycle: rule
                ? {
                      transition: rule.transitions?.[0] && { days: Number(rule.transitions[0].days), storageClass: String(rule.transitions[0].storageClass) },
                      expirationDays: rule.expiration?.days,
                  }
                : undefined,
            accessLogPrefix: logging?.inputs.targetPrefix,
        });
    }
    for (const policy of of("aws:s3/bucketPolicy:BucketPolicy")) {
        const bucket = buckets.get(policy.inputs.bucket);
        picture.resourcePolicies.push({
            arn: `arn:${partition}:s3:::${bucket ? bucketName(bucket) : policy.inputs.bucket}`,
            accountId: account,
            kind: "s3-bucket",
            document: parse(policy.inputs.policy),
        });
    }
    // A key's policy may also be a resource of its own, which replaces the one given on the key.
    for (const keyPolicy of of("aws:kms/keyPolicy:KeyPolicy")) {
        const arn = `arn:${partition}:kms:${region}:${account}:key/${keyPolicy.inputs.keyId}`;
        picture.resourcePolicies = picture.resourcePolicies.filter((r) => r.arn !== arn);
        picture.resourcePolicies.push({ arn, accountId: account, kind: "kms-key", document: parse(keyPolicy.inputs.policy) });
    }
    for (const group of of("aws:cloudwatch/logGroup:LogGroup")) {
        const name = physical(group);
        picture.logGroups.push({ name, arn: `arn:${partition}:logs:${region}:${account}:log-group:${name}`, accountId: account });
    }
    for (const document of of("aws:ssm/document:Document")) {
        const name = physical(document);
        picture.documents.push({
            arn: `arn:${partition}:ssm:${region}:${account}:document/${name}`,
            name,
            accountId: account,
            documentType: String(document.inputs.documentType),
        });
    }
    for (const secret of of("aws:secretsmanager/secret:Secret")) {
        const arn = `arn:${partition}:secretsmanager:${region}:${account}:secret:${physical(secret)}-AbCdEf`;
        picture.secrets.push({ arn, name: physical(secret), accountId: account });
        // The secret's resource policy, given on the secret or as a resource of its own.
        const policies = [
            secret.inputs.policy,
            ...of("aws:secretsmanager/secretPolicy:SecretPolicy")
                .filter((p) => p.inputs.secretArn === arn)
                .map((p) => p.inputs.policy),
        ];
        for (const policy of policies.filter((p) => typeof p === "string"))
            picture.resourcePolicies.push({ arn, accountId: account, kind: "secret", document: parse(policy) });
    }
    // SNS topic policies, by the topic ARN they name.
    for (const topicPolicy of of("aws:sns/topicPolicy:TopicPolicy"))
        picture.resourcePolicies.push({
            arn: String(topicPolicy.inputs.arn),
            accountId: account,
            kind: "sns-topic",
            document: parse(topicPolicy.inputs.policy),
        });
}

// State Manager targets: "tag-key" (any value) or "tag:<key>" (listed values).
function targetMatches(target: { key: string; values: string[] }, tags: Record<string, string>): boolean {
    if (target.key === "tag-key") return target.values.some((key) => key in tags);
    if (target.key.startsWith("tag:")) return target.values.includes(tags[target.key.slice(4)]);
    return false;
}

function principalNamed(principals: Map<string, IamPrincipal>, name: unknown, by: RecordedResource): IamPrincipal {
    const principal = principals.get(String(name));
    if (!principal) throw new Error(`${by.type} ${by.name} refers to ${String(name)}, which this stack does not create`);
    return principal;
}

// Lookups by ARN, built once per picture and rebuilt if principals or instances are added:
// asked for every request, a search of the lists would make the model quadratic in partners.
interface PictureLookups {
    principals: number;
    instances: number;
    principalByArn: Map<string, IamPrincipal>;
    instanceByRole: Map<string, PictureInstance>;
}

const lookups = new WeakMap<IamPicture, PictureLookups>();

function lookupsOf(picture: IamPicture): PictureLookups {
    let found = lookups.get(picture);
    if (found === undefined || found.principals !== picture.principals.length || found.instances !== picture.instances.length) {
        const principalByArn = new Map<string, IamPrincipal>();
        for (const p of picture.principals) if (!principalByArn.has(p.arn)) principalByArn.set(p.arn, p);
        const instanceByRole = new Map<string, PictureInstance>();
        for (const i of picture.instances) if (i.roleArn !== undefined && !instanceByRole.has(i.roleArn)) instanceByRole.set(i.roleArn, i);
        found = { principals: picture.principals.length, instances: picture.instances.length, principalByArn, instanceByRole };
        lookups.set(picture, found);
    }
    return found;
}

/** The principal with this ARN, if the picture has it. */
export function findPrincipal(picture: IamPicture, arn: string): IamPrincipal | undefined {
    return lookupsOf(picture).principalByArn.get(arn);
}

/** The first instance whose profile passes this role, if any. */
export function instanceWithRole(picture: IamPicture, roleArn: string): PictureInstance | undefined {
    return lookupsOf(picture).instanceByRole.get(roleArn);
}

/** The principal with this ARN, or a clear error. */
export function principalByArn(picture: IamPicture, arn: string): IamPrincipal {
    const principal = findPrincipal(picture, arn);
    if (!principal) throw new Error(`no principal ${arn} in the IAM picture (have: ${picture.principals.map((p) => p.arn).join(", ")})`);
    return principal;
}
