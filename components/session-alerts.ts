// Alerts on access: every session started, resumed or ended, and every attempt to assume a
// grant role (allowed or refused), as CloudTrail records them in this account and region,
// published to an SNS topic encrypted with a key of its own, which only this component's
// EventBridge rule may publish to. Subscriptions (email, HTTPS) are the caller's.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { GRANT_ROLE_NAME_PREFIX } from "./constants";
import { requireEach } from "./guard";
import { alertKeyPolicy, alertTopicPolicy, type AwsScope } from "./policies";
import { ALERT_EMAIL, ALERT_HTTPS_ENDPOINT } from "./rules";
import { scopeFor } from "./scope";
import { componentType } from "./type-tokens";

export interface SessionAlertsArgs {
    /** ARNs of the grant roles whose AssumeRole (allowed or refused) raises an alert. Roles named with the default prefix are matched by it. */
    grantRoleArns: pulumi.Input<pulumi.Input<string>[]>;
    /** The command document that ends partners' OS users (`PartnerOffboarding`): every SendCommand of it, at an end of access or by hand, raises an alert too. */
    endAccessDocumentName?: pulumi.Input<string>;
    /** Command documents whose failed runs raise an alert (`PartnerOffboarding`'s two): an end of access that did not happen must be heard. */
    failureWatchedDocumentNames?: pulumi.Input<pulumi.Input<string>[]>;
    /** Email addresses subscribed to the alerts (each confirms by the link AWS sends). */
    emailAddresses?: string[];
    /** HTTPS endpoints subscribed to the alerts (a chat webhook bridge, a SIEM); each must confirm the subscription. */
    httpsEndpoints?: string[];
    /** Account, region and partition of this component's provider, when the caller already has them; looked up otherwise. */
    scope?: pulumi.Input<AwsScope>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** Session Manager events that raise an alert. */
export const ALERTED_SESSION_EVENTS = ["StartSession", "ResumeSession", "TerminateSession"] as const;

/**
 * The EventBridge pattern: Session Manager's session calls, and AssumeRole of a grant role
 * (a refused one included: CloudTrail records it with an errorCode). Default-named grant
 * roles are matched by one prefix, so the pattern does not grow with partners.
 */
export function alertEventPattern(partition: string, accountId: string, grantRoleArns: string[], endAccessDocumentName?: string): Record<string, unknown> {
    const prefix = `arn:${partition}:iam::${accountId}:role/${GRANT_ROLE_NAME_PREFIX}`;
    const others = [...new Set(grantRoleArns.filter((arn) => !arn.startsWith(prefix)))].sort();
    const endOfAccess =
        endAccessDocumentName === undefined
            ? []
            : [{ eventSource: ["ssm.amazonaws.com"], eventName: ["SendCommand"], requestParameters: { documentName: [endAccessDocumentName] } }];
    return {
        source: ["aws.ssm", "aws.sts"],
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: {
            $or: [
                { eventSource: ["ssm.amazonaws.com"], eventName: [...ALERTED_SESSION_EVENTS] },
                { eventSource: ["sts.amazonaws.com"], eventName: ["AssumeRole"], requestParameters: { roleArn: [{ prefix }, ...others] } },
                ...endOfAccess,
            ],
        },
    };
}

/** What each alert says: who (the role session names partner and person), what, on which instance or role, and whether it was refused. */
export const ALERT_INPUT_PATHS = {
    time: "$.time",
    event: "$.detail.eventName",
    caller: "$.detail.userIdentity.arn",
    // From another account, the owner's copy of the event names only the caller's account.
    callerAccount: "$.detail.userIdentity.accountId",
    sessionSourceIdentity: "$.detail.userIdentity.sessionContext.sourceIdentity",
    requestedSourceIdentity: "$.detail.requestParameters.sourceIdentity",
    instance: "$.detail.requestParameters.target",
    session: "$.detail.requestParameters.sessionId",
    role: "$.detail.requestParameters.roleArn",
    // An end of access: the document ending a partner's OS user, and the comment naming the partner.
    document: "$.detail.requestParameters.documentName",
    comment: "$.detail.requestParameters.comment",
    error: "$.detail.errorCode",
    region: "$.region",
};
export const ALERT_INPUT_TEMPLATE =
    '"<time> <event> by <caller> of account <callerAccount> (source identity <sessionSourceIdentity><requestedSourceIdentity>) on <instance><session><role><document> in <region>; <comment>; error: <error>"';

/** Statuses of a Run Command invocation or a State Manager association run that mean the document did not do its work. */
export const FAILED_RUN_STATUSES = ["Failed", "TimedOut", "Cancelled"] as const;

/**
 * The EventBridge pattern of failed runs of the watched documents: a Run Command invocation
 * (the schedule at an end of access, or one sent by hand) or a State Manager association run
 * (the kept OS users' list) that failed on an instance. Both are events Systems Manager sends
 * to EventBridge itself ("Monitoring Systems Manager events with Amazon EventBridge").
 */
export function failedRunEventPattern(documentNames: string[]): Record<string, unknown> {
    return {
        source: ["aws.ssm"],
        "detail-type": ["EC2 Command Invocation Status-change Notification", "EC2 State Manager Instance Association State Change"],
        detail: { "document-name": [...documentNames].sort(), status: [...FAILED_RUN_STATUSES] },
    };
}

/** What a failure alert says: which document failed where, and why. */
export const FAILED_RUN_INPUT_PATHS = {
    time: "$.time",
    kind: "$.detail-type",
    document: "$.detail.document-name",
    instance: "$.detail.instance-id",
    status: "$.detail.status",
    details: "$.detail.status-details",
    detailed: "$.detail.detailed-status",
    region: "$.region",
};
export const FAILED_RUN_INPUT_TEMPLATE =
    '"<time> FAILED to end a partner\'s access: document <document> on <instance> in <region>: <status> <details><detailed> (<kind>). End it by hand: docs/partners.md"';

/** The alert topic, its key, and the rules feeding it. */
export class SessionAlerts extends pulumi.ComponentResource {
    /** ARN of the SNS topic alerts are published to: subscribe chat or paging to it. */
    public readonly topicArn: pulumi.Output<string>;
    /** ARN of the KMS key the topic is encrypted with. */
    public readonly keyArn: pulumi.Output<string>;
    /** Name of the EventBridge rule. */
    public readonly ruleName: pulumi.Output<string>;

    constructor(name: string, args: SessionAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("SessionAlerts"), name, {}, opts);
        const parent = { parent: this };
        const scope = scopeFor(this, args.scope);
        // The same rules the stack config applies, so the component is safe however it is called.
        requireEach(this, (i) => `emailAddresses[${i}]`, args.emailAddresses, ALERT_EMAIL.problem);
        requireEach(this, (i) => `httpsEndpoints[${i}]`, args.httpsEndpoints, ALERT_HTTPS_ENDPOINT.problem);

        // The key's policy names the topic, which needs the key first: the policy is a resource of
        // its own, set once the topic exists (until then the key has AWS's default policy, the
        // account's alone, and nothing is encrypted with it).
        const key = new aws.kms.Key(
            `${name}-key`,
            { description: "Encrypts the session alert topic", enableKeyRotation: true, deletionWindowInDays: 30, tags: args.tags },
            parent,
        );
        const topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: key.arn, tags: args.tags }, parent);
        new aws.kms.KeyPolicy(
            `${name}-key`,
            { keyId: key.id, policy: pulumi.jsonStringify(pulumi.all([scope, topic.arn]).apply(([s, topicArn]) => alertKeyPolicy(s, topicArn))) },
            parent,
        );
        const rule = new aws.cloudwatch.EventRule(
            `${name}-rule`,
            {
                description: "Session Manager sessions, grant-role AssumeRole calls and ends of access, from CloudTrail",
                // AssumeRole is a read-only management event: a rule merely ENABLED never sees it.
                state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                eventPattern: pulumi.jsonStringify(
                    pulumi
                        .all([scope, args.grantRoleArns, args.endAccessDocumentName])
                        .apply(([s, arns, endDocument]) => alertEventPattern(s.partition, s.accountId, arns, endDocument)),
                ),
                tags: args.tags,
            },
            parent,
        );
        // Runs that failed to end a partner's access: no CloudTrail needed, Systems Manager sends these itself.
        const failures =
            args.failureWatchedDocumentNames === undefined
                ? undefined
                : new aws.cloudwatch.EventRule(
                      `${name}-failures`,
                      {
                          description: "Failed runs of the documents ending partners' access",
                          eventPattern: pulumi.jsonStringify(pulumi.output(args.failureWatchedDocumentNames).apply(failedRunEventPattern)),
                          tags: args.tags,
                      },
                      parent,
                  );
        const ruleArns = failures === undefined ? pulumi.all([rule.arn]) : pulumi.all([rule.arn, failures.arn]);
        new aws.sns.TopicPolicy(
            `${name}-topic`,
            {
                arn: topic.arn,
                policy: pulumi.jsonStringify(pulumi.all([scope, topic.arn, ruleArns]).apply(([s, arn, arns]) => alertTopicPolicy(s, arn, arns))),
            },
            parent,
        );
        if (failures !== undefined)
            new aws.cloudwatch.EventTarget(
                `${name}-failures-to-topic`,
                { rule: failures.name, arn: topic.arn, inputTransformer: { inputPaths: FAILED_RUN_INPUT_PATHS, inputTemplate: FAILED_RUN_INPUT_TEMPLATE } },
                parent,
            );
        new aws.cloudwatch.EventTarget(
            `${name}-to-topic`,
            { rule: rule.name, arn: topic.arn, inputTransformer: { inputPaths: ALERT_INPUT_PATHS, inputTemplate: ALERT_INPUT_TEMPLATE } },
            parent,
        );
        (args.emailAddresses ?? []).forEach(
            (address, i) => new aws.sns.TopicSubscription(`${name}-email-${i + 1}`, { topic: topic.arn, protocol: "email", endpoint: address }, parent),
        );
        (args.httpsEndpoints ?? []).forEach(
            (endpoint, i) => new aws.sns.TopicSubscription(`${name}-https-${i + 1}`, { topic: topic.arn, protocol: "https", endpoint }, parent),
        );

        this.topicArn = topic.arn;
        this.keyArn = key.arn;
        this.ruleName = rule.name;
        this.registerOutputs({ topicArn: this.topicArn, keyArn: this.keyArn, ruleName: this.ruleName });
    }
}
