// AWS behaviour that IAM policy evaluation cannot show, written once each with the
// document that says so, as rules on what the programs registered. An evaluator answers
// "may this principal make this request"; these answer "will AWS then do what the stack
// promises": deliver an alert, see a call, end a session, refuse a colleague. The review
// reports every contradiction as a finding; tests break each fix and see the rule's finding.
// ../shared/reference/aws-facts.md ("AWS behaviour outside IAM evaluation") lists them.

import { DEFAULT_ACCESS_TAG_KEY, PARTNER_OS_USER_PREFIX, RUN_AS_TAG_KEY } from "../../components/constants";
import { FIREWALL_SERVICES, METADATA_GUARD_PATHS, firewallDropInPath } from "../../components/metadata-guard-scripts";
import { endOsUsersDocument, grantedOsUserEntry, keepGrantedOsUsersDocument } from "../../components/offboarding-documents";
import { asList, type PolicyDocument, type PolicyStatement } from "../../components/policies";
import { PARTNER_OS_USER } from "../../components/rules";
import { resolve, type ProgramRun, type RecordedResource } from "../mock-engine";
import { iamWildcard } from "../iam/wildcards";
import { KEEP_GRANTED_USERS_SCHEDULE, needsEndSchedule } from "../../components/partner-offboarding";

/** One AWS behaviour a stack must not contradict. */
export interface AwsBehaviourRule {
    id: string;
    /** What must hold, in a few words (a finding's heading). */
    title: string;
    /** What AWS does, that no IAM evaluation shows. */
    behaviour: string;
    /** The document that says so. */
    source: string;
    /** Each place the runs contradict it, in words (empty: none). */
    check(runs: ProgramRun[]): Promise<string[]>;
}

/** A contradiction found in the runs. */
export interface AwsBehaviourFinding {
    rule: AwsBehaviourRule;
    message: string;
}

const ofType = (runs: ProgramRun[], type: string) => runs.flatMap((run) => run.resources.filter((r) => r.type === type).map((resource) => ({ run, resource })));
const physical = (r: RecordedResource) => String(r.inputs.name ?? r.name);
const parse = (json: unknown): PolicyDocument | undefined => (typeof json === "string" ? (JSON.parse(json) as PolicyDocument) : undefined);
const conditionKeys = (s: PolicyStatement) => Object.values(s.Condition ?? {}).flatMap((keys) => Object.keys(keys).map((k) => k.toLowerCase()));
const services = (s: PolicyStatement) => (typeof s.Principal === "object" ? asList(s.Principal.Service) : []);
/** Whether a statement's actions cover `action`, wildcards included (IAM compares actions without case). */
const covers = (s: PolicyStatement, action: string) =>
    asList(s.Action).some((a) => iamWildcard(a, true).test(action)) ||
    (s.NotAction !== undefined && !asList(s.NotAction).some((a) => iamWildcard(a, true).test(action)));
/** Condition operators that refuse a principal unless it is among the listed ones. */
const NEGATED_OPERATORS = ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase"];

/** The policy a KMS key applies: a KeyPolicy resource's, else the one given on the key. */
function keyPolicyOf(runs: ProgramRun[], key: RecordedResource): PolicyDocument | undefined {
    const own = ofType(runs, "aws:kms/keyPolicy:KeyPolicy").find(({ resource }) => resource.inputs.keyId === key.id);
    return parse(own?.resource.inputs.policy ?? key.inputs.policy);
}

/** Roles whose trust lets principals of another account assume them: the partners' grants (and nothing else this program makes). */
function grantRoles(runs: ProgramRun[]): Array<{ run: ProgramRun; resource: RecordedResource; trust: PolicyDocument }> {
    return ofType(runs, "aws:iam/role:Role")
        .map((r) => ({ ...r, trust: parse(r.resource.inputs.assumeRolePolicy)! }))
        .filter(({ run, trust }) =>
            trust.Statement.some(
                (s) =>
                    s.Effect === "Allow" &&
                    covers(s, "sts:AssumeRole") &&
                    typeof s.Principal === "object" &&
                    asList(s.Principal.AWS).some((arn) => arn.split(":")[4] !== run.account),
            ),
        );
}

/** The Command documents a run registers, parsed. */
function commandDocuments(runs: ProgramRun[]) {
    return ofType(runs, "aws:ssm/document:Document")
        .filter(({ resource }) => resource.inputs.documentType === "Command")
        .map(({ run, resource }) => ({ run, resource, content: JSON.parse(resource.inputs.content) }));
}

/** What the stack outputs say of each grant (the typed contract of the `grants` output): its OS users (each person's, per person). */
async function grantOutputs(run: ProgramRun): Promise<Array<{ partner: string; roleArn: string; osUsers: string[]; expiresAt: string | null }>> {
    if (run.outputs.grants === undefined) return [];
    const grants = (await resolve(run.outputs.grants as object)).value as Record<
        string,
        { roleArn: string; runAsUser: string; personOsUsers?: Record<string, string>; expiresAt: string | null }
    >;
    return Object.entries(grants).map(([partner, g]) => ({
        partner,
        roleArn: g.roleArn,
        osUsers: g.personOsUsers === undefined ? [g.runAsUser] : Object.values(g.personOsUsers),
        expiresAt: g.expiresAt,
    }));
}

export const AWS_BEHAVIOUR_RULES: AwsBehaviourRule[] = [
    {
        id: "eventbridge-encrypted-topic",
        title: "alerts reach an encrypted topic",
        behaviour:
            "EventBridge publishes to a topic encrypted with a customer key only if the key policy lets events.amazonaws.com use it, and KMS refuses when that statement carries aws:SourceAccount or aws:SourceArn: the publish fails silently (FailedInvocations) and nobody is alerted.",
        source: 'SNS Developer Guide, "Enable compatibility between event sources from AWS services and encrypted topics"; landing-zone-accelerator-on-aws issue 407',
        async check(runs) {
            const problems: string[] = [];
            const targets = ofType(runs, "aws:cloudwatch/eventTarget:EventTarget").map(({ resource }) => String(resource.inputs.arn));
            for (const { run, resource: topic } of ofType(runs, "aws:sns/topic:Topic")) {
                const topicArn = `arn:${run.partition}:sns:${run.region}:${run.account}:${physical(topic)}`;
                if (!targets.includes(topicArn) || topic.inputs.kmsMasterKeyId === undefined) continue;
                const key = run.resources.find((r) => r.type === "aws:kms/key:Key" && String(topic.inputs.kmsMasterKeyId).endsWith(`/${r.id}`));
                if (key === undefined) continue; // a key of your own: its policy is not in the stack
                const statements = (keyPolicyOf(runs, key)?.Statement ?? []).filter(
                    (s) => s.Effect === "Allow" && services(s).some((p) => p.startsWith("events.")),
                );
                if (!["kms:GenerateDataKey", "kms:Decrypt"].every((action) => statements.some((s) => covers(s, action))))
                    problems.push(
                        `topic ${physical(topic)}: its key ${key.name} does not let EventBridge (events service principal) generate data keys and decrypt`,
                    );
                for (const s of statements) {
                    const named = Object.values(s.Condition ?? {}).flatMap((keys) =>
                        Object.entries(keys)
                            .filter(([k]) => k.toLowerCase() === "kms:encryptioncontext:aws:sns:topicarn")
                            .flatMap(([, v]) => asList(v as string | string[])),
                    );
                    if (named.length > 0 && !named.some((v) => iamWildcard(String(v)).test(topicArn)))
                        problems.push(
                            `topic ${physical(topic)}: key ${key.name}'s statement ${s.Sid ?? "for EventBridge"} names another topic (${named.join(", ")})`,
                        );
                }
                for (const s of statements.filter((s) => conditionKeys(s).some((k) => k === "aws:sourceaccount" || k === "aws:sourcearn")))
                    problems.push(
                        `topic ${physical(topic)}: key ${key.name}'s statement ${s.Sid ?? "for EventBridge"} conditions on aws:SourceAccount or aws:SourceArn`,
                    );
            }
            return problems;
        },
    },
    {
        id: "regional-sts",
        title: "every grant-role AssumeRole is seen by the alert rule",
        behaviour:
            "CloudTrail records a call to a regional STS endpoint in that endpoint's region, and an EventBridge rule sees only its own region's events: an AssumeRole through another region raises no alert unless the trust refuses other regions (aws:RequestedRegion).",
        source: 'IAM User Guide, "Logging IAM and AWS STS API calls with AWS CloudTrail" and "Manage AWS STS in an AWS Region"',
        async check(runs) {
            const alerting = ofType(runs, "aws:cloudwatch/eventRule:EventRule").filter(({ resource }) =>
                String(resource.inputs.eventPattern ?? "").includes("AssumeRole"),
            );
            const problems: string[] = [];
            for (const { run } of alerting)
                for (const grant of grantRoles([run])) {
                    const assumes = grant.trust.Statement.filter((s) => s.Effect === "Allow" && covers(s, "sts:AssumeRole"));
                    if (!assumes.every((s) => s.Condition?.StringEquals?.["aws:RequestedRegion"] === run.region))
                        problems.push(
                            `grant role ${physical(grant.resource)} may be assumed through another region's STS endpoint than ${run.region}, where the alert rule listens`,
                        );
                }
            return problems;
        },
    },
    {
        id: "sessions-outlive-iam",
        title: "an end of access ends what is running",
        behaviour:
            "Session Manager does not authorise an open session again: expiry, revocation or a deleted role stop new calls, not a running shell, and nohup or setsid processes outlive any session. Only TerminateSession or something on the instance (killing the user's processes) ends them.",
        source: 'AWS Systems Manager User Guide, "Session Manager" (a session is authorised at StartSession); amazon-ssm-agent agent/session/shell/shell.go',
        async check(runs) {
            const problems: string[] = [];
            for (const run of runs.filter((r) => r.outputs.grants !== undefined)) {
                const grants = await grantOutputs(run);
                const accessTagKey =
                    run.outputs.accessTagKey !== undefined ? (await resolve(run.outputs.accessTagKey as string)).value : DEFAULT_ACCESS_TAG_KEY;
                const keep = JSON.stringify(keepGrantedOsUsersDocument(), null, 2);
                const keepDocuments = run.resources.filter((r) => r.type === "aws:ssm/document:Document" && r.inputs.content === keep).map(physical);
                const association = run.resources.find((r) => r.type === "aws:ssm/association:Association" && keepDocuments.includes(String(r.inputs.name)));
                const expected = grants.flatMap((g) => g.osUsers.map((user) => grantedOsUserEntry(user, g.expiresAt ?? undefined)));
                const kept = String(association?.inputs.parameters?.grantedUsers ?? "")
                    .split(" ")
                    .filter(Boolean);
                if (association === undefined)
                    problems.push("nothing ends the OS user of a partner removed from the config: no association keeps only the granted OS users");
                else {
                    if (!association.inputs.targets?.some((t: { key: string; values: string[] }) => t.key === "tag-key" && t.values.includes(accessTagKey)))
                        problems.push(`the association keeping the granted OS users does not target every instance carrying ${accessTagKey}`);
                    if (association.inputs.scheduleExpression !== KEEP_GRANTED_USERS_SCHEDULE)
                        problems.push(
                            `the association keeping the granted OS users runs ${association.inputs.scheduleExpression ?? "once"}, not ${KEEP_GRANTED_USERS_SCHEDULE}`,
                        );
                    if ([...kept].sort().join(" ") !== [...expected].sort().join(" "))
                        problems.push(`the instances keep ${kept.join(", ") || "no OS user"}, not the granted ${expected.join(", ") || "none"}`);
                }
                const end = JSON.stringify(endOsUsersDocument(), null, 2);
                const endDocuments = run.resources.filter((r) => r.type === "aws:ssm/document:Document" && r.inputs.content === end).map(physical);
                const schedules = run.resources.filter((r) => r.type === "aws:scheduler/schedule:Schedule");
                // An end already (nearly) past needs none: the kept list, which carries the end, ends it at once.
                for (const grant of grants.filter((g) => needsEndSchedule(g.expiresAt ?? undefined, Date.now()))) {
                    const at = `at(${grant.expiresAt!.replace(/Z$/, "")})`;
                    const ending = schedules.some((s) => {
                        const input = JSON.parse(String(s.inputs.target?.input ?? "{}"));
                        return (
                            s.inputs.scheduleExpression === at &&
                            s.inputs.scheduleExpressionTimezone === "UTC" &&
                            s.inputs.state !== "DISABLED" &&
                            asList(input.Targets).some(
                                (t: { Key: string; Values: string[] }) => t.Key === "tag-key" && asList(t.Values).includes(accessTagKey),
                            ) &&
                            String(s.inputs.target?.arn).endsWith(":aws-sdk:ssm:sendCommand") &&
                            endDocuments.includes(input.DocumentName) &&
                            grant.osUsers.every((user) => asList<string>(input.Parameters?.userNames).join(" ").split(" ").includes(user))
                        );
                    });
                    if (!ending)
                        problems.push(
                            `${grant.partner}'s access ends at ${grant.expiresAt}, and nothing ends its OS user${grant.osUsers.length > 1 ? "s" : ""} ${grant.osUsers.join(", ")} then`,
                        );
                }
            }
            return problems;
        },
    },
    {
        id: "run-as-existing-user",
        title: "partners run as users the program owns",
        behaviour:
            "Session Manager's Run As needs only that the OS user exists; a provisioning run that refuses an existing privileged account fails, and the session still runs as it.",
        source: 'AWS Systems Manager User Guide, "Turn on Run As support for Linux and macOS managed nodes"; amazon-ssm-agent agent/session/shell/shell_unix.go',
        async check(runs) {
            // A per-person grant has no Run As tag of its own: its people's OS users, tagged per session, are what it runs as.
            const perPerson = new Map(
                (await Promise.all(runs.map(grantOutputs))).flat().flatMap((g) => (g.osUsers.length > 0 ? [[g.roleArn.split("/").pop()!, g]] : [])),
            );
            return grantRoles(runs)
                .flatMap(({ resource }) => {
                    const role = physical(resource);
                    const tagged = resource.inputs.tags?.[RUN_AS_TAG_KEY];
                    const people = tagged === undefined ? perPerson.get(role)?.osUsers : undefined;
                    return (people ?? [tagged]).map((user) => ({ role, user }));
                })
                .filter(({ user }) => typeof user !== "string" || PARTNER_OS_USER.problem(user) !== undefined)
                .map(
                    ({ role, user }) =>
                        `grant role ${role} runs sessions as ${user ?? "the default user"}, outside the program's namespace (${PARTNER_OS_USER_PREFIX}...)`,
                );
        },
    },
    {
        id: "firewall-reload",
        title: "the metadata guard survives a firewall reload",
        behaviour:
            "A reload of nftables.service, iptables-restore, firewalld or nft flush ruleset drops every rule, the metadata guard's included (measured on a real kernel): until it is applied again, a non-root user reaches the instance role's credentials.",
        source: "nft(8) and iptables-restore(8) (a ruleset replaces the whole ruleset); systemd.service(5) (ExecStartPost, ExecReload, ExecStopPost); measured in network namespaces (issue 23)",
        async check(runs) {
            const installers = [
                ...ofType(runs, "aws:ec2/instance:Instance").map(({ resource }) => ({
                    what: `user data of ${resource.name}`,
                    text: String(resource.inputs.userData ?? ""),
                })),
                ...commandDocuments(runs).map(({ resource, content }) => ({
                    what: `document ${resource.name}`,
                    text: (content.mainSteps ?? [])
                        .filter((s: { name: string }) => !/mac/i.test(s.name))
                        .flatMap((s: { inputs?: { runCommand?: string[] } }) => s.inputs?.runCommand ?? [])
                        .join("\n"),
                })),
            ].filter(({ text }) => text.includes(`${METADATA_GUARD_PATHS.unit}.new`));
            const timer = METADATA_GUARD_PATHS.reapplyTimer.split("/").pop()!;
            const hooks = [...FIREWALL_SERVICES.map(firewallDropInPath), METADATA_GUARD_PATHS.reapplyTimer, `systemctl enable --now ${timer}`];
            return installers.flatMap(({ what, text }) => {
                const missing = hooks.filter((hook) => !text.includes(hook));
                return missing.length === 0
                    ? []
                    : [`${what} installs the guard without re-applying it after a firewall reload (missing ${missing.join(", ")})`];
            });
        },
    },
    {
        id: "parameter-interpolation",
        title: "document parameters never become script text",
        behaviour:
            'SSM pastes a {{ parameter }} into a Command document\'s script before the shell reads it, as root; "interpolationType": "ENV_VAR" passes it as an environment variable instead.',
        source: 'AWS Systems Manager User Guide, "Data elements and parameters" (interpolationType) and "Troubleshooting parameter handling issues"',
        async check(runs) {
            return commandDocuments(runs).flatMap(({ resource, content }) => {
                const problems: string[] = [];
                for (const [name, parameter] of Object.entries((content.parameters ?? {}) as Record<string, { type?: string; interpolationType?: string }>))
                    if (parameter.type === "String" && parameter.interpolationType !== "ENV_VAR")
                        problems.push(`document ${resource.name}: parameter ${name} is pasted into the script`);
                const text = JSON.stringify(content.mainSteps ?? []);
                if (text.includes("{{")) problems.push(`document ${resource.name}: its steps substitute {{ }} into their text`);
                return problems;
            });
        },
    },
    {
        id: "secrets-same-account",
        title: "stored keys only their administrators read",
        behaviour:
            "Within one account, an identity policy alone (the managed SecretsManagerReadWrite, say) reads a secret that has no resource policy: any colleague with it reads the stored key and acts, and is recorded, as its user. Only an explicit deny in the secret's policy keeps them out.",
        source: 'AWS Secrets Manager User Guide, "Authentication and access control for AWS Secrets Manager" and "Resource-based policies"',
        async check(runs) {
            const problems: string[] = [];
            for (const { run, resource: secret } of ofType(runs, "aws:secretsmanager/secret:Secret")) {
                const policies = [
                    parse(secret.inputs.policy),
                    ...run.resources
                        .filter(
                            (r) =>
                                r.type === "aws:secretsmanager/secretPolicy:SecretPolicy" &&
                                String(r.inputs.secretArn).includes(`:secret:${physical(secret)}-`),
                        )
                        .map((r) => parse(r.inputs.policy)),
                ].filter((p): p is PolicyDocument => p !== undefined);
                const refusesOthers = policies.some((p) =>
                    p.Statement.some(
                        (s) =>
                            s.Effect === "Deny" &&
                            s.Principal === "*" &&
                            covers(s, "secretsmanager:GetSecretValue") &&
                            // Refusing every principal but those listed, and on no other condition.
                            Object.keys(s.Condition ?? {}).length === 1 &&
                            Object.entries(s.Condition ?? {}).some(
                                ([operator, keys]) =>
                                    NEGATED_OPERATORS.includes(operator) && Object.keys(keys).some((k) => k.toLowerCase() === "aws:principalarn"),
                            ),
                    ),
                );
                if (!refusesOthers)
                    problems.push(
                        `secret ${secret.name} refuses nobody: any principal of account ${run.account} allowed secretsmanager:GetSecretValue reads it`,
                    );
            }
            return problems;
        },
    },
    {
        id: "session-id-comma",
        title: "people can end their own sessions",
        behaviour:
            "Session Manager tags a session with its session id (aws:ssmmessages:session-id) only when the id has no comma; a person whose role session name has one cannot end or resume their own sessions.",
        source: 'AWS Systems Manager User Guide, "Additional sample IAM policies for Session Manager" (end only sessions you started)',
        async check(runs) {
            return ofType(runs, "aws:iam/user:User")
                .filter(({ resource }) => physical(resource).includes(","))
                .map(({ resource }) => `IAM user ${physical(resource)} has a comma in its name, which becomes its role session name`);
        },
    },
    {
        id: "gateway-endpoint-archive",
        title: "transcripts reach an archive of your own",
        behaviour:
            "A VPC endpoint policy applies to every request through it: an S3 gateway endpoint that admits only this account's buckets refuses PutObject to a bucket in another account, and the agent's transcripts never arrive.",
        source: 'AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"; Amazon S3 User Guide, "Gateway endpoints for Amazon S3"',
        async check(runs) {
            const problems: string[] = [];
            for (const run of runs) {
                const preferences = run.resources.find((r) => r.type === "aws:ssm/document:Document" && r.inputs.documentType === "Session");
                const inputs = preferences ? (JSON.parse(preferences.inputs.content).inputs ?? {}) : {};
                const bucket = typeof inputs.s3BucketName === "string" && inputs.s3BucketName !== "" ? inputs.s3BucketName : undefined;
                if (bucket === undefined || run.resources.some((r) => r.type === "aws:s3/bucket:Bucket" && physical(r) === bucket)) continue;
                for (const endpoint of run.resources.filter(
                    (r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && String(r.inputs.serviceName).endsWith(".s3"),
                )) {
                    const admits = (parse(endpoint.inputs.policy)?.Statement ?? [{ Effect: "Allow", Action: "*", Resource: "*" } as PolicyStatement]).some(
                        (s) =>
                            s.Effect === "Allow" &&
                            asList(s.Action).some((a) => a === "*" || a === "s3:*" || a === "s3:PutObject") &&
                            // Named explicitly (the bucket's own account in the condition), or everything without an account condition.
                            (asList(s.Resource).some((r) => r.startsWith(`arn:${run.partition}:s3:::${bucket}/`)) ||
                                (asList(s.Resource).includes("*") && !conditionKeys(s).includes("aws:resourceaccount"))),
                    );
                    const denies = (parse(endpoint.inputs.policy)?.Statement ?? []).some(
                        (s) =>
                            s.Effect === "Deny" &&
                            covers(s, "s3:PutObject") &&
                            asList(s.Resource).some((r) => iamWildcard(r).test(`arn:${run.partition}:s3:::${bucket}/session-transcripts/x`)),
                    );
                    if (!admits || denies) problems.push(`the S3 gateway endpoint refuses transcripts to ${bucket} when that bucket is in another account`);
                }
            }
            return problems;
        },
    },
];

/** Every contradiction of the AWS behaviour rules in these runs. */
export async function awsBehaviourFindings(runs: ProgramRun[]): Promise<AwsBehaviourFinding[]> {
    const findings: AwsBehaviourFinding[] = [];
    for (const rule of AWS_BEHAVIOUR_RULES) for (const message of await rule.check(runs)) findings.push({ rule, message });
    return findings;
}
