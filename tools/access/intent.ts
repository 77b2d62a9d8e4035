// The intended access of a set of stacks, derived from their config (the settings the
// programs receive, defaults applied) and written in plain terms: who may do what, on
// which resources, in which ways, until when. The proof (proof.ts) holds every allowed
// request the enumeration finds against it. The config says what is intended; the
// program's wiring says only which ARN plays which part (the instance role, the session
// key, the archive bucket), since AWS or Pulumi names those.

import { RUN_AS_TAG_KEY, SESSION_PREFERENCES_DOCUMENT, personOsUser } from "../../components/constants";
import type { PartnerSettings, TheirSettings, YoursSettings } from "../../stacks/config";
import { addTo } from "../grouping";
import { iamWildcard } from "../iam/wildcards";
import { ANOTHER_STS_REGION, OWN_SESSION_LABEL, WIDENED_BY_ITS_ADMINISTRATOR, type AllowedAccess, type Variant } from "./enumerate";

/** Which resources an intended access covers. */
export interface IntendedResources {
    /** In words: "instances tagged ExternalAccessGrantedTo=Third_Party_A in us-east-1". */
    what: string;
    /** ARN patterns (IAM wildcards * and ?); "*" for actions that take no resource. */
    arns: string[];
    /** A tag the resource carries. */
    tag?: { key: string; value: string };
    /** A tag key the resource carries, whatever its value. */
    tagKey?: string;
    /** Only sessions the principal started itself. */
    ownSessionsOnly?: boolean;
}

/** One access someone meant to give. */
export interface IntendedAccess {
    /** The sentence a reviewer reads. */
    says: string;
    /** The principals it is for, by ARN (the sentence names them in words). */
    who: string[];
    actions: string[];
    on: IntendedResources[];
    /** The ways it may also be asked besides the usual one (see Variant). */
    alsoWhen: Variant[];
    /** The instant it ends (UTC), when the config sets one. */
    until?: string;
}

/** The ARNs the programs gave to the parts the config cannot name. */
export interface Wiring {
    partition: string;
    /** Your account, where the instances and grants are. */
    account: string;
    region: string;
    /** Roles the instances' profiles pass them. */
    instanceRoles: string[];
    /** The role VPC flow logs write with, and their log group. */
    flowLogs?: { roleArn: string; logGroupArn: string };
    /** The key session data is encrypted with. */
    sessionKeyArn?: string;
    /** The bucket and prefix transcripts are archived to. */
    archive?: { bucketArn: string; prefix: string };
    /** The jump role each `their` stack gives its partner (from that stack's config), by partner. */
    jumpRoles: Map<string, string>;
    /** The role the end-of-access schedules use, and the document it sends. */
    endOfAccess?: { roleArn: string; documentArn: string };
}

/** The intended access of a system of stacks. */
export interface IntendedAccessSpec {
    rules: IntendedAccess[];
    /** Who may hold the instance roles besides the instances' root (the SSM agent): nobody, unless this says so. */
    instanceRoleHolders: string;
}

/** The settings of the stacks under proof, as their programs read them. */
export interface SystemSettings {
    yours: YoursSettings[];
    their: Array<TheirSettings & { account: string; partition: string }>;
}

// Written out here, not imported from the policies: the intent must not widen when a policy does.
const MESSAGING_ACTIONS = [
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

const ANY_REGION: Variant[] = ["in another region"];

const arn = (w: Pick<Wiring, "partition">, service: string, region: string, account: string, resource: string) =>
    `arn:${w.partition}:${service}:${region}:${account}:${resource}`;

/** Who a partner's sessions run as, in words: its OS user, or with per-person Run As each person's own. */
export function runAsInWords(p: Pick<PartnerSettings, "osUser" | "people">): string {
    return p.people === undefined ? p.osUser : `${personOsUser(p.osUser, "<person>")}, each person their own`;
}

function partnerRules(w: Wiring, s: YoursSettings, p: PartnerSettings): IntendedAccess[] {
    const grant = `arn:${w.partition}:iam::${w.account}:role/${p.grantRoleName}`;
    const until = p.expiresAt;
    const ending = until ? `, until ${until}` : "";
    const instances = (type: string) => arn(w, type === "instance" ? "ec2" : "ssm", w.region, w.account, `${type}/*`);
    const tagged = `instances of account ${w.account} tagged ${s.accessTagKey}=${p.name} in ${w.region}`;
    const rules: IntendedAccess[] = [
        {
            says: `${p.name} may start sessions on ${tagged}, as ${runAsInWords(p)}, with ${SESSION_PREFERENCES_DOCUMENT}${ending}`,
            who: [grant],
            actions: ["ssm:StartSession"],
            on: [
                { what: tagged, arns: [instances("instance"), instances("managed-instance")], tag: { key: s.accessTagKey, value: p.name } },
                { what: `document ${SESSION_PREFERENCES_DOCUMENT}`, arns: [arn(w, "ssm", w.region, w.account, `document/${SESSION_PREFERENCES_DOCUMENT}`)] },
            ],
            alsoWhen: [],
            until,
        },
        {
            says: `${p.name} may resume and end the sessions it started itself${ending}`,
            who: [grant],
            actions: ["ssm:ResumeSession", "ssm:TerminateSession"],
            on: [{ what: "sessions it started itself", arns: [arn(w, "ssm", w.region, w.account, "session/*")], ownSessionsOnly: true }],
            alsoWhen: [],
            until,
        },
        {
            says: `${p.name} may list the instances of account ${w.account} in ${w.region} and their connection status${ending}`,
            who: [grant],
            actions: ["ec2:DescribeInstances", "ssm:DescribeInstanceProperties", "ssm:GetConnectionStatus"],
            on: [
                { what: "*", arns: ["*"] },
                {
                    what: `any instance of account ${w.account} in ${w.region}`,
                    arns: [instances("instance"), instances("managed-instance"), arn(w, "ecs", w.region, w.account, "task/*")],
                },
            ],
            alsoWhen: [],
            until,
        },
    ];
    if (w.sessionKeyArn !== undefined)
        rules.push({
            says: `${p.name} may encrypt its session data with the session key${ending}`,
            who: [grant],
            actions: ["kms:GenerateDataKey"],
            on: [{ what: "the session key", arns: [w.sessionKeyArn] }],
            alsoWhen: [],
            until,
        });
    // Who becomes the grant: the partner's principals, as its administrator makes them, with the external id.
    const principals = p.principalArns ?? [w.jumpRoles.get(p.name) ?? `arn:${w.partition}:iam::${p.accountId}:role/${p.jumpRoleName}`];
    // Per person, the session is tagged with the person's own OS user, and only so (RUN_AS_TAG_VARIANTS stay unintended).
    const perPerson =
        p.people === undefined
            ? ""
            : `, tagging the session ${RUN_AS_TAG_KEY}=${personOsUser(p.osUser, "<its source identity>")} (${p.people.length === 1 ? "its one person runs" : `each of its ${p.people.length} people runs`} as their own OS user) and with no other tag`;
    rules.push({
        says:
            `${principals.join(" and ")} (of ${p.name}'s account ${p.accountId}, whatever its administrator lets them do) may assume ` +
            `${p.grantRoleName} with ${p.name}'s external id${p.requireSourceIdentity ? " and a source identity" : ""}${perPerson}${ending}`,
        who: principals,
        actions: ["sts:AssumeRole", "sts:SetSourceIdentity", ...(p.people === undefined ? [] : ["sts:TagSession"])],
        on: [{ what: `role ${p.grantRoleName}`, arns: [grant] }],
        // MFA is the partner's side to require (its jump role), not your grant's.
        alsoWhen: [WIDENED_BY_ITS_ADMINISTRATOR, "without MFA", ...(p.requireSourceIdentity ? [] : (["without a source identity"] as Variant[]))],
        until,
    });
    return rules;
}

function instanceRoleRules(w: Wiring, s: YoursSettings): IntendedAccess[] {
    if (w.instanceRoles.length === 0) return [];
    const who = w.instanceRoles;
    const whoLabel = `the instance role (${who.map((r) => r.split("/").pop()).join(", ")})`;
    // Without the credentials perimeter (a network of your own that reaches AWS otherwise), the role's credentials work off the instance too.
    const away: Variant[] = s.network.existing && !s.network.existing.reachesAwsThroughEndpoints ? ["with its credentials used away from its instance"] : [];
    const anyInstance = { what: `any instance of account ${w.account} in ${w.region}`, arns: [arn(w, "ec2", w.region, w.account, "instance/*")] };
    const documents = { what: `any SSM document of account ${w.account} in ${w.region}`, arns: [arn(w, "ssm", w.region, w.account, "document/*")] };
    const associations = { what: `any association of account ${w.account} in ${w.region}`, arns: [arn(w, "ssm", w.region, w.account, "association/*")] };
    const group = s.sessions.logGroupName;
    const rules: IntendedAccess[] = [
        {
            says: `${whoLabel} may exchange Session Manager and Run Command messages (its agent's channels), in any region`,
            who,
            actions: MESSAGING_ACTIONS,
            on: [{ what: "*", arns: ["*"] }],
            alsoWhen: [...ANY_REGION, ...away],
        },
        {
            says: `${whoLabel} may register and report an instance of account ${w.account} in ${w.region} (the agent's inventory and compliance calls)`,
            who,
            actions: ["ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:PutComplianceItems"],
            on: [anyInstance],
            alsoWhen: away,
        },
        {
            says: `${whoLabel} may read and report the State Manager associations that create the OS users and close the metadata service: list associations (in any region), describe and report them, and read SSM documents of account ${w.account} in ${w.region}`,
            who,
            actions: [
                "ssm:ListAssociations",
                "ssm:DescribeAssociation",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:GetDocument",
                "ssm:DescribeDocument",
            ],
            on: [{ what: "*", arns: ["*"] }, anyInstance, documents, associations],
            alsoWhen: [...ANY_REGION, ...away],
        },
        {
            says: `${whoLabel} may write session transcripts to log group ${group} (create and write its streams, find it)`,
            who,
            actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"],
            on: [
                { what: "*", arns: ["*"] },
                {
                    what: `log group ${group} and its streams`,
                    arns: [arn(w, "logs", w.region, w.account, `log-group:${group}`), arn(w, "logs", w.region, w.account, `log-group:${group}:*`)],
                },
            ],
            alsoWhen: [...ANY_REGION, ...away],
        },
    ];
    if (w.sessionKeyArn !== undefined)
        rules.push({
            says: `${whoLabel} may decrypt session data with the session key`,
            who,
            actions: ["kms:Decrypt"],
            on: [{ what: "the session key", arns: [w.sessionKeyArn] }],
            alsoWhen: away,
        });
    if (w.archive !== undefined)
        rules.push({
            says: `${whoLabel} may archive transcripts under ${w.archive.prefix}/ in the session archive bucket (write only), and check the bucket's encryption`,
            who,
            actions: ["s3:PutObject", "s3:GetEncryptionConfiguration"],
            on: [{ what: "the archive bucket and its transcripts", arns: [w.archive.bucketArn, `${w.archive.bucketArn}/${w.archive.prefix}/*`] }],
            alsoWhen: away,
        });
    return rules;
}

function flowLogRules(w: Wiring): IntendedAccess[] {
    if (w.flowLogs === undefined) return [];
    const { roleArn, logGroupArn } = w.flowLogs;
    const whoLabel = `the flow-log role (${roleArn.split("/").pop()})`;
    return [
        {
            says: `${whoLabel} may write the VPC's flow logs to their log group (create and write its streams, find it)`,
            who: [roleArn],
            actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"],
            on: [
                { what: "*", arns: ["*"] },
                { what: "the flow log group and its streams", arns: [logGroupArn, `${logGroupArn}:*`] },
            ],
            alsoWhen: ANY_REGION,
        },
    ];
}

function endOfAccessRules(w: Wiring, s: YoursSettings): IntendedAccess[] {
    if (w.endOfAccess === undefined) return [];
    const { roleArn, documentArn } = w.endOfAccess;
    const instances = (type: string) => arn(w, type === "instance" ? "ec2" : "ssm", w.region, w.account, `${type}/*`);
    const tagged = `instances of account ${w.account} in ${w.region} carrying the tag key ${s.accessTagKey}`;
    return [
        {
            says: `the end-of-access schedules' role (${roleArn.split("/").pop()}) may send the document ending partners' OS users (${documentArn.split("/").pop()}) to ${tagged}, and nothing else`,
            who: [roleArn],
            actions: ["ssm:SendCommand"],
            on: [
                { what: `document ${documentArn.split("/").pop()}`, arns: [documentArn] },
                { what: tagged, arns: [instances("instance"), instances("managed-instance")], tagKey: s.accessTagKey },
            ],
            alsoWhen: [],
        },
    ];
}

function theirRules(t: SystemSettings["their"][number]): IntendedAccess[] {
    const jump = `arn:${t.partition}:iam::${t.account}:role/${t.jumpRoleName}`;
    const people = [
        ...t.users.map((u) => `arn:${t.partition}:iam::${t.account}:user/${u.name}`),
        ...(t.federatedPrincipalArn !== undefined ? [t.federatedPrincipalArn] : []),
    ];
    if (people.length === 0) return [];
    return [
        {
            says:
                `${people.map((p) => p.split(":").pop()).join(", ")} (in ${t.partnerName}'s account ${t.account}, whatever its administrator lets them do) ` +
                `may assume the jump role ${t.jumpRoleName}${t.users.length > 0 ? ", each person with their own name as source identity" : ""}` +
                (t.mfaMaxAgeSeconds !== undefined ? `, signed in with MFA within ${t.mfaMaxAgeSeconds} seconds` : ""),
            who: people,
            actions: ["sts:AssumeRole", "sts:SetSourceIdentity"],
            on: [{ what: `role ${t.jumpRoleName}`, arns: [jump] }],
            // The partner's own account: which STS endpoint its people use is its business (your grant refuses all but one).
            alsoWhen: [WIDENED_BY_ITS_ADMINISTRATOR, ANOTHER_STS_REGION, ...(t.mfaMaxAgeSeconds === undefined ? (["without MFA"] as Variant[]) : [])],
        },
    ];
}

/** The intended access of the stacks whose settings are given, with the program's wiring. */
export function intendedAccess(settings: SystemSettings, wiring: Wiring): IntendedAccessSpec {
    const rules: IntendedAccess[] = [];
    for (const yours of settings.yours) {
        for (const partner of yours.partners) rules.push(...partnerRules(wiring, yours, partner));
        rules.push(...instanceRoleRules(wiring, yours), ...flowLogRules(wiring), ...endOfAccessRules(wiring, yours));
    }
    for (const their of settings.their) rules.push(...theirRules(their));
    return {
        rules,
        instanceRoleHolders:
            wiring.instanceRoles.length > 0
                ? "Only each instance's root (the SSM agent) holds the instance role: its metadata service answers no other OS user, so a partner's shell does not."
                : "No instances: no instance role.",
    };
}

/** Whether an intended resource set covers an allowed request's resource. */
export function covers(on: IntendedResources, access: AllowedAccess): boolean {
    if (on.arns.length === 1 && on.arns[0] === "*") return access.resource === "*";
    if (access.resource === "*") return false;
    if (!on.arns.some((p) => iamWildcard(p).test(access.resource))) return false;
    if (on.tag !== undefined && access.resourceTags?.[on.tag.key] !== on.tag.value) return false;
    if (on.tagKey !== undefined && access.resourceTags?.[on.tagKey] === undefined) return false;
    if (on.ownSessionsOnly && access.resourceLabel !== OWN_SESSION_LABEL) return false;
    return true;
}

const rulesByWho = new WeakMap<IntendedAccessSpec, Map<string, IntendedAccess[]>>();

// The rules meant for one principal, in the spec's order (an index: there are rules for every partner).
function rulesFor(spec: IntendedAccessSpec, who: string): IntendedAccess[] {
    let index = rulesByWho.get(spec);
    if (index === undefined) {
        index = new Map();
        for (const rule of spec.rules) for (const principal of new Set(rule.who)) addTo(index, principal, rule);
        rulesByWho.set(spec, index);
    }
    return index.get(who) ?? [];
}

/** The resources a principal's intended access names, whatever the action: what the model's classes must tell apart. */
export function intendedResourcesOf(spec: IntendedAccessSpec, who: string): IntendedResources[] {
    return rulesFor(spec, who).flatMap((rule) => rule.on);
}

/** The intended accesses that cover an allowed request (in the usual way, or in a variant the rule names). */
export function intentsCovering(spec: IntendedAccessSpec, access: AllowedAccess): IntendedAccess[] {
    const action = access.action.toLowerCase();
    return rulesFor(spec, access.subject).filter(
        (rule) =>
            rule.actions.some((a) => a.toLowerCase() === action) &&
            (access.variant === "" || rule.alsoWhen.includes(access.variant)) &&
            rule.on.some((on) => covers(on, access)),
    );
}
