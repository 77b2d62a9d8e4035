// Pulumi policy pack enforcing this project's invariants at `pulumi preview` / `pulumi up`:
//   pulumi preview --policy-pack policy-pack
// The rules live in rules.ts as pure functions (unit-tested in tests/policy-pack.test.ts).

import { PolicyPack, type ReportViolation, type ResourceValidationArgs } from "@pulumi/policy";
import * as rules from "./rules";

interface PackConfig {
    ownAccountIds?: string[];
}

// The stack's own accounts: the pack's config, else the AWS provider's allowedAccountIds.
function context(args: ResourceValidationArgs): rules.RuleContext {
    const configured = args.getConfig<PackConfig>().ownAccountIds;
    if (configured?.length) return { ownAccountIds: configured };
    const allowed = args.provider?.props?.allowedAccountIds;
    const ids = typeof allowed === "string" ? JSON.parse(allowed) : allowed;
    return { ownAccountIds: Array.isArray(ids) ? ids.map(String) : [] };
}

const report = (violations: string[], reportViolation: ReportViolation) => violations.forEach((v) => reportViolation(v));
const ownAccountIdsSchema = { properties: { ownAccountIds: { type: "array" as const, items: { type: "string" as const } } } };

new PolicyPack("third-party-ssm-access", {
    policies: [
        {
            name: "cross-account-trust-requires-external-id",
            description: "A role trusted by another account requires sts:ExternalId (confused-deputy protection).",
            enforcementLevel: "mandatory",
            configSchema: ownAccountIdsSchema,
            validateResource: (args, reportViolation) => report(rules.crossAccountTrustRequiresExternalId(args, context(args)), reportViolation),
        },
        {
            name: "cross-account-trust-forbids-tag-session",
            description: "A role trusted by another account never allows sts:TagSession (session tags override Run As and ABAC tags).",
            enforcementLevel: "mandatory",
            configSchema: ownAccountIdsSchema,
            validateResource: (args, reportViolation) => report(rules.crossAccountTrustForbidsTagSession(args, context(args)), reportViolation),
        },
        {
            name: "session-preferences-keep-run-as-and-streaming",
            description: "SSM-SessionManagerRunShell keeps Run As (unprivileged default user) and CloudWatch streaming on.",
            enforcementLevel: "mandatory",
            validateResource: (args, reportViolation) => report(rules.preferencesKeepRunAsAndStreaming(args), reportViolation),
        },
        {
            name: "instances-require-imdsv2",
            description: "EC2 instances require IMDSv2.",
            enforcementLevel: "mandatory",
            validateResource: (args, reportViolation) => report(rules.instancesRequireImdsV2(args), reportViolation),
        },
        {
            name: "no-internet-path-beside-private-network",
            description: "A stack with a PrivateSsmNetwork has no internet gateway, NAT or default route.",
            enforcementLevel: "mandatory",
            validateStack: (args, reportViolation) => report(rules.noInternetPathBesidePrivateNetwork(args.resources), reportViolation),
        },
    ],
});
