// The rows of the live check's table, in the order they run: one id per check, and
// the title that says what it proves.

export const CHECKS = {
    stacksAgree: "their stack points at the grant the yours stack made",
    preferencesInEffect: "preferences in effect: the latest version, with this stack's content",
    endpointPolicies: "interface endpoints carry a policy where AWS supports one",
    jumpRole: "jump role assumed with the person's source identity",
    jumpOtherName: "jump role refused under another session name",
    grantRole: "grant role assumed with the external id, named after the person",
    grantNoExternalId: "grant role refused without the external id",
    grantWrongExternalId: "grant role refused with a wrong external id",
    grantOtherPersonRunAs: "grant role refused with another person's Run As tag (per-person Run As)",
    grantNoRunAsTag: "grant role refused without the person's Run As tag (per-person Run As)",
    listInstances: "partner lists the instances tagged for it",
    sessionOwn: "session on the partner's instance, terminated at once",
    metadataRefused: "metadata service refused inside the session, to its Run As user",
    sessionOtherPartner: "session refused on another partner's instance",
    sessionUntagged: "session refused on an untagged instance",
    sessionNoDocument: "session refused without --document-name",
    portForwarding: "port forwarding session refused",
    runCommand: "Run Command refused",
    grantReadsLogs: "grant refused reading the session log group",
    logStream: "session's log stream arrives in CloudWatch Logs",
    alertDelivered: "alert rule delivered the session's alert to its topic",
} as const;
export type CheckId = keyof typeof CHECKS;

/** The checks only a grant with per-person Run As gets: a grant per partner has no Run As tag to get wrong. */
export const PER_PERSON_CHECKS: readonly CheckId[] = ["grantOtherPersonRunAs", "grantNoRunAsTag"];

/**
 * What each check that AWS decides by policy expects AWS to answer: the product's promise.
 * The offline model is held against it (model-answers.ts); the other checks read what AWS
 * did (preferences, endpoints, log delivery, alerts).
 */
export const EXPECTED_DECISION: Partial<Record<CheckId, "Allowed" | "Denied">> = {
    jumpRole: "Allowed",
    jumpOtherName: "Denied",
    grantRole: "Allowed",
    grantNoExternalId: "Denied",
    grantWrongExternalId: "Denied",
    grantOtherPersonRunAs: "Denied",
    grantNoRunAsTag: "Denied",
    listInstances: "Allowed",
    sessionOwn: "Allowed",
    metadataRefused: "Denied",
    sessionOtherPartner: "Denied",
    sessionUntagged: "Denied",
    sessionNoDocument: "Denied",
    portForwarding: "Denied",
    runCommand: "Denied",
    grantReadsLogs: "Denied",
};
