// What the offline access model (the review's, built from the yours stack's config) answers
// for the live check's requests, so each refusal or allowance AWS gives is shown beside the
// model's prediction. A check where AWS and the model answer differently (AWS keeping the
// promise the model says the program breaks, or failing one the model says it keeps) is a
// gap between IAM evaluation and AWS, or a deployment that is not this config; a check AWS
// fails where the model predicted it is a defect of the program the review shows too. Checks no policy decides (preferences, endpoints, log delivery, alerts) and requests
// the model does not ask the same way (another session name, no document name) get no answer.

import { AWS_SESSION_DOCUMENTS, RUN_SHELL_SCRIPT_DOCUMENT } from "../../components/constants";
import { requestsOf, type AllowedAccess } from "../access/enumerate";
import type { AccessModel } from "../access/model";
import { ANOTHER_PARTNER } from "../access/universe";
import { EXPECTED_DECISION, type CheckId } from "./checks";
import type { CheckResult } from "./verdicts";

export type ModelDecision = "Allowed" | "Denied";

const SESSION_TARGETS = new Set(["instance", "managed-instance"]);

/** The model's decision for each request check it asks the same way: `partner`'s grant, assumed through `jumpRoleArn` by `person`. */
export function modelAnswers(
    model: AccessModel,
    { partner, jumpRoleArn, person, sessionLogGroupName }: { partner: string; jumpRoleArn: string; person: string; sessionLogGroupName: string },
): Partial<Record<CheckId, ModelDecision>> {
    const access = model.partners.find((p) => p.name === partner);
    if (access === undefined) return {};
    const decided = (allowed: boolean): ModelDecision => (allowed ? "Allowed" : "Denied");
    // The grant's own requests, the usual way, one per resource (a class stands for each of its members).
    const byGrant = model.allowed.filter((a) => a.subject === access.grantRoleArn && a.variant === "").flatMap(requestsOf);
    const grantAllows = (action: string, on: (a: AllowedAccess) => boolean = () => true) =>
        byGrant.some((a) => a.action.toLowerCase() === action.toLowerCase() && on(a));
    const tagOf = (a: AllowedAccess) => a.resourceTags?.[model.accessTagKey];
    const sessionOn = (on: (a: AllowedAccess) => boolean) => grantAllows("ssm:StartSession", (a) => SESSION_TARGETS.has(a.resourceType) && on(a));
    // Another partner's: a tag value naming one of the stack's other partners, or the model's stand-in for one.
    const otherPartners = new Set([...model.partners.map((p) => p.name).filter((name) => name !== partner), ANOTHER_PARTNER]);
    const onDocument = (name: string) => (a: AllowedAccess) => a.resource.endsWith(`:document/${name}`);
    const assumedBy = (variant: string) => access.assumableBy.some((r) => r.key === `${jumpRoleArn}|${variant}`);
    const logGroup = model.picture.logGroups.find((g) => g.name === sessionLogGroupName);
    const personArn = model.principals.find((p) => p.kind === "user" && p.name === person)?.arn;
    const answers: Partial<Record<CheckId, ModelDecision>> = {
        grantRole: decided(assumedBy("")),
        grantNoExternalId: decided(assumedBy("without the external id")),
        grantWrongExternalId: decided(assumedBy("with a wrong external id")),
        listInstances: decided(grantAllows("ec2:DescribeInstances")),
        sessionOwn: decided(sessionOn((a) => tagOf(a) === partner)),
        // A shell of its holds the instance role where the metadata service answers non-root users.
        metadataRefused: decided(access.holds.length > 0),
        sessionOtherPartner: decided(sessionOn((a) => otherPartners.has(tagOf(a) ?? ""))),
        sessionUntagged: decided(sessionOn((a) => tagOf(a) === undefined)),
        portForwarding: decided(grantAllows("ssm:StartSession", onDocument(AWS_SESSION_DOCUMENTS.portForwarding))),
        // Run Command on its own instance needs both: the instance and the document.
        runCommand: decided(
            grantAllows("ssm:SendCommand", (a) => SESSION_TARGETS.has(a.resourceType) && tagOf(a) === partner) &&
                grantAllows("ssm:SendCommand", onDocument(RUN_SHELL_SCRIPT_DOCUMENT)),
        ),
    };
    if (access.people !== null) {
        answers.grantOtherPersonRunAs = decided(assumedBy("with another person's Run As tag"));
        answers.grantNoRunAsTag = decided(assumedBy("without the Run As tag"));
    }
    if (logGroup !== undefined)
        answers.grantReadsLogs = decided(grantAllows("logs:DescribeLogStreams", (a) => a.resource.startsWith(logGroup.arn.replace(/:\*$/, ""))));
    if (personArn !== undefined)
        answers.jumpRole = decided(
            model.allowed.some((a) => a.subject === personArn && a.variant === "" && a.action === "sts:AssumeRole" && a.resource === jumpRoleArn),
        );
    return answers;
}

/** The model's answers held against what AWS answered: lines for the report, after the table. */
export function modelComparison(results: CheckResult[], answers: Partial<Record<CheckId, ModelDecision>>, source: string): string {
    const words = (d: ModelDecision) => (d === "Allowed" ? "allowed" : "refused");
    const answered = results.filter((r) => answers[r.id as CheckId] !== undefined && EXPECTED_DECISION[r.id as CheckId] !== undefined);
    const differs = (r: CheckResult) => answers[r.id as CheckId] !== EXPECTED_DECISION[r.id as CheckId];
    const passed = answered.filter((r) => r.verdict === "pass");
    const lines = [
        ...passed
            .filter(differs)
            .map(
                (r) =>
                    `- ${r.title}: AWS ${words(EXPECTED_DECISION[r.id as CheckId]!)} it, the offline model ${words(answers[r.id as CheckId]!)} it (an AWS behaviour the evaluator lacks, or a deployment unlike the config)`,
            ),
        ...answered
            .filter((r) => r.verdict === "fail" && differs(r))
            .map(
                (r) =>
                    `- ${r.title}: failed as the offline model predicted (it ${words(answers[r.id as CheckId]!)} it): the program does this, and its review says so`,
            ),
        ...answered
            .filter((r) => r.verdict === "fail" && !differs(r))
            .map(
                (r) =>
                    `- ${r.title}: failed, where the offline model ${words(answers[r.id as CheckId]!)} it as promised: AWS answered unlike the model (see the row; an AWS behaviour the evaluator lacks, or a deployment unlike the config)`,
            ),
    ];
    const agreed = passed.filter((r) => !differs(r)).length;
    return [
        `Offline model (${source}): agrees with AWS on ${agreed} of the ${passed.length} passed checks it answers${lines.length > 0 ? ":" : "."}`,
        ...lines,
    ].join("\n");
}
