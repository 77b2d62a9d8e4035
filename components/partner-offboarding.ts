// Ends what a partner still runs when its access ends. IAM refuses new calls at the end of
// access, and a removed partner's grant role is gone, but an open shell runs on until its
// maximum session duration and `nohup` processes forever: Session Manager does not authorise
// a running session again. Two mechanisms end them on the instances, each by itself:
//
// - At a partner's `expiresAt`, a one-time EventBridge Scheduler schedule sends the document
//   ending its OS user to every instance carrying the access tag key (its sessions end with
//   their shells). The schedule's role may send only that document, only there.
// - A State Manager association keeps, on the same instances, only the OS users partners hold
//   now: when a partner leaves the config (or its end instant passes) its user is ended. State
//   Manager runs an association as soon as it is updated, and every 30 minutes after
//   ("By default, when you update an association, the system runs it immediately",
//   UpdateAssociation in the AWS Systems Manager API Reference), so removing a partner ends it
//   as the deployment updates the list, and an instance that was offline at the end catches up.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { optionalBoundary, requireValid } from "./guard";
import { endOsUsersDocument, grantedOsUserEntry, keepGrantedOsUsersDocument } from "./offboarding-documents";
import { stateManagerAssociationName } from "./os-user-provisioning";
import { endAccessSenderPolicy, serviceTrustPolicy, type AwsScope } from "./policies";
import { ACCESS_TAG_KEY, PARTNER_NAME, PARTNER_OS_USER, TIMESTAMP, utcTimestamp } from "./rules";
import { scopeFor } from "./scope";
import { componentType } from "./type-tokens";

/** How often State Manager re-applies the list of granted OS users (30 minutes is the shortest rate it accepts). */
export const KEEP_GRANTED_USERS_SCHEDULE = "rate(30 minutes)";

/**
 * How far ahead an end must be to get a schedule. Scheduler refuses a one-time schedule whose
 * time has passed at create (reported by users; its documentation does not say): the margin
 * covers the time between the program's run and the schedule's creation.
 */
export const END_SCHEDULE_LEAD_MS = 10 * 60 * 1000;

/** Whether an end of access gets a one-time schedule: set, and at least END_SCHEDULE_LEAD_MS after `now` (epoch ms). */
export function needsEndSchedule(expiresAt: string | undefined, now: number): boolean {
    return expiresAt !== undefined && Date.parse(expiresAt) >= now + END_SCHEDULE_LEAD_MS;
}

/** A partner whose OS user the instances keep while its access lasts. */
export interface OffboardedPartner {
    /** Partner name (the access tag value); names its end-of-access schedule. */
    partnerName: string;
    /** Its OS user, in the partners' namespace (`os_user_...`). */
    osUser: string;
    /**
     * With per-person Run As: its people's OS users, each kept and ended in place of `osUser`.
     * A person left out has their OS user ended, and nobody else's.
     */
    personOsUsers?: string[];
    /** End of access, ISO 8601 UTC: the schedule ends its OS user then. */
    expiresAt?: string;
}

export interface PartnerOffboardingArgs {
    /** Instance tag key marking instances open to third parties: every instance carrying it keeps only granted partners' OS users. */
    accessTagKey: string;
    /** Every partner granted now. A partner left out has its OS user ended on the instances. */
    partners: OffboardedPartner[];
    /** The instant the deployment runs, ISO 8601 (default: now): ends sooner than 10 minutes after it get no schedule, the kept list ends them. For tests and reviews of another instant. */
    now?: string;
    /** ARN of a managed policy set as the permissions boundary of the role this component creates. */
    permissionsBoundary?: pulumi.Input<string>;
    /** Account, region and partition of this component's provider, when the caller already has them; looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** The documents, the association and the schedules that end partners' OS users when their access ends. */
export class PartnerOffboarding extends pulumi.ComponentResource {
    /** Command document ending the OS users it is given (`userNames`): the schedules run it, and so can you (the runbook in docs/partners.md). */
    public readonly endDocumentName: pulumi.Output<string>;
    /** Command document keeping only the granted OS users, applied by the association. */
    public readonly keepDocumentName: pulumi.Output<string>;
    /** ARN of the role the end-of-access schedules send the end document with. */
    public readonly schedulerRoleArn: pulumi.Output<string>;

    constructor(name: string, args: PartnerOffboardingArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("PartnerOffboarding"), name, {}, opts);
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);
        // The same rules the stack config applies, so the component is safe however it is called.
        requireValid(this, "accessTagKey", args.accessTagKey, ACCESS_TAG_KEY.problem);
        args.partners.forEach((p, i) => {
            requireValid(this, `partners[${i}].partnerName`, p.partnerName, PARTNER_NAME.problem);
            requireValid(this, `partners[${i}].osUser`, p.osUser, PARTNER_OS_USER.problem);
            p.personOsUsers?.forEach((user, j) => requireValid(this, `partners[${i}].personOsUsers[${j}]`, user, PARTNER_OS_USER.problem));
            if (p.expiresAt !== undefined) requireValid(this, `partners[${i}].expiresAt`, p.expiresAt, TIMESTAMP.problem);
        });
        const permissionsBoundary = optionalBoundary(this, args.permissionsBoundary);
        const accessTagKey = args.accessTagKey;
        const now = args.now === undefined ? Date.now() : Date.parse(requireValid(this, "now", args.now, TIMESTAMP.problem));

        const endDocument = new aws.ssm.Document(
            `${name}-end-os-users`,
            { documentType: "Command", documentFormat: "JSON", content: JSON.stringify(endOsUsersDocument(), null, 2), tags: args.tags },
            parent,
        );
        const keepDocument = new aws.ssm.Document(
            `${name}-keep-os-users`,
            { documentType: "Command", documentFormat: "JSON", content: JSON.stringify(keepGrantedOsUsersDocument(), null, 2), tags: args.tags },
            parent,
        );
        new aws.ssm.Association(
            `${name}-keep-os-users`,
            {
                name: keepDocument.name,
                associationName: stateManagerAssociationName(`${name}-keep-os-users`),
                parameters: {
                    grantedUsers: args.partners
                        .flatMap((p) => osUsersOf(p).map((user) => grantedOsUserEntry(user, p.expiresAt && utcTimestamp(p.expiresAt))))
                        .join(" "),
                },
                targets: [{ key: "tag-key", values: [accessTagKey] }],
                scheduleExpression: KEEP_GRANTED_USERS_SCHEDULE,
            },
            parent,
        );

        // Only schedules of this group may use the role (aws:SourceArn), as Scheduler's execution-role guide recommends.
        const group = new aws.scheduler.ScheduleGroup(`${name}-end-of-access`, { tags: args.tags }, parent);
        const role = new aws.iam.Role(
            `${name}-scheduler`,
            {
                description: "Sends the document ending a partner's OS user to instances open to partners, at the partner's end of access",
                assumeRolePolicy: pulumi.jsonStringify(
                    pulumi
                        .all([scope, group.name])
                        .apply(([s, groupName]) =>
                            serviceTrustPolicy("scheduler", s, `arn:${s.partition}:scheduler:${s.region}:${s.accountId}:schedule-group/${groupName}`),
                        ),
                ),
                permissionsBoundary,
                tags: args.tags,
            },
            parent,
        );
        new aws.iam.RolePolicy(
            `${name}-scheduler-sends-end-document`,
            {
                role: role.name,
                policy: pulumi.jsonStringify(
                    pulumi.all([scope, endDocument.name]).apply(([s, document]) => endAccessSenderPolicy(s, document, args.accessTagKey)),
                ),
            },
            parent,
        );

        // A schedule for an end still ahead only: Scheduler refuses a one-time schedule whose time has
        // passed when it is created, which would fail the deployment that sets an end of now. For an
        // end that close, the kept list (which carries each end) ends the user as the deploy updates it.
        for (const partner of args.partners.filter((p) => needsEndSchedule(p.expiresAt, now))) {
            const at = utcTimestamp(partner.expiresAt!);
            new aws.scheduler.Schedule(
                `${name}-end-${partner.partnerName}`,
                {
                    groupName: group.name,
                    description:
                        `Ends ${partner.partnerName}'s OS user${partner.personOsUsers === undefined ? "" : "s"} ${osUsersOf(partner).join(" ")} on the instances at its end of access`.slice(
                            0,
                            512,
                        ),
                    // One time, at the instant, in UTC (at() takes no zone suffix).
                    scheduleExpression: `at(${at.replace(/Z$/, "")})`,
                    scheduleExpressionTimezone: "UTC",
                    flexibleTimeWindow: { mode: "OFF" },
                    // Kept after it runs: the stack still declares it, and it shows when the end came.
                    actionAfterCompletion: "NONE",
                    target: {
                        arn: scope.apply((s) => `arn:${s.partition}:scheduler:::aws-sdk:ssm:sendCommand`),
                        roleArn: role.arn,
                        input: pulumi.jsonStringify(endOfAccessCommand(endDocument.name, accessTagKey, partner)),
                        retryPolicy: { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 },
                    },
                },
                parent,
            );
        }

        this.endDocumentName = endDocument.name;
        this.keepDocumentName = keepDocument.name;
        this.schedulerRoleArn = role.arn;
        this.registerOutputs({ endDocumentName: this.endDocumentName, keepDocumentName: this.keepDocumentName, schedulerRoleArn: this.schedulerRoleArn });
    }
}

/** The OS users a partner holds: its people's, with per-person Run As, else its one. */
export function osUsersOf(partner: OffboardedPartner): string[] {
    return partner.personOsUsers ?? [partner.osUser];
}

/**
 * The SendCommand request a schedule makes (the SSM API's own parameter names): the end
 * document, to every instance carrying the access tag key (an instance retagged since still
 * gets it; one without the user does nothing), with a comment naming the partner, which
 * CloudTrail records and the alert repeats.
 */
export function endOfAccessCommand(documentName: pulumi.Input<string>, accessTagKey: pulumi.Input<string>, partner: OffboardedPartner) {
    return {
        DocumentName: documentName,
        Targets: [{ Key: "tag-key", Values: [accessTagKey] }],
        // One String parameter: the users separated by single spaces (END_OS_USERS_PATTERN).
        Parameters: { userNames: [osUsersOf(partner).join(" ")] },
        // SendCommand accepts a comment of 100 characters at most.
        Comment: `End of access: ${partner.partnerName}`.slice(0, 100),
        MaxConcurrency: "100%",
        MaxErrors: "100%",
        TimeoutSeconds: 600,
    };
}
