// AWS managed policies by content, from a pinned snapshot, so proofs can evaluate what
// a policy attached by ARN really allows instead of only naming it. A snapshot is a
// copy with a date: when AWS publishes a new version, update the text and the date.

import type { PolicyDocument } from "../../components/policies";

export interface ManagedPolicySnapshot {
    name: string;
    /** When the snapshot was taken (from the AWS Managed Policy Reference and public copies of it; the version number was not recorded). */
    takenOn: string;
    document: PolicyDocument;
}

/**
 * AmazonSSMManagedInstanceCore: what the blog post attaches to the instance role, and
 * what this project replaced with a scoped policy (components/policies.ts,
 * instanceAgentPolicy) after evaluating both: Core also lets anyone holding the instance
 * role read every SSM parameter of the account.
 */
export const AMAZON_SSM_MANAGED_INSTANCE_CORE: ManagedPolicySnapshot = {
    name: "AmazonSSMManagedInstanceCore",
    takenOn: "2026-11-25",
    document: {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "ssm:DescribeAssociation",
                    "ssm:GetDeployablePatchSnapshotForInstance",
                    "ssm:GetDocument",
                    "ssm:DescribeDocument",
                    "ssm:GetManifest",
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:ListAssociations",
                    "ssm:ListInstanceAssociations",
                    "ssm:PutInventory",
                    "ssm:PutComplianceItems",
                    "ssm:PutConfigurePackageResult",
                    "ssm:UpdateAssociationStatus",
                    "ssm:UpdateInstanceAssociationStatus",
                    "ssm:UpdateInstanceInformation",
                ],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: [
                    "ec2messages:AcknowledgeMessage",
                    "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage",
                    "ec2messages:GetEndpoint",
                    "ec2messages:GetMessages",
                    "ec2messages:SendReply",
                ],
                Resource: "*",
            },
        ],
    },
};

/**
 * Actions of Core the scoped instance policy leaves out, and why. A test evaluates both
 * policies and holds the difference to exactly this list.
 */
export const LEFT_OUT_OF_CORE: Record<string, string> = {
    "ssm:GetParameter": "reads any parameter of the account, secrets included; nothing here stores the agent's settings in Parameter Store",
    "ssm:GetParameters": "the same, several at a time",
    "ssm:GetDeployablePatchSnapshotForInstance": "Patch Manager, not used",
    "ssm:GetManifest": "Distributor packages, not used",
    "ssm:PutConfigurePackageResult": "Distributor packages, not used",
    "ssm:PutInventory": "Inventory, not used",
};

/** AdministratorAccess: everything. Its text has been this one statement since AWS published it. */
export const ADMINISTRATOR_ACCESS: ManagedPolicySnapshot = {
    name: "AdministratorAccess",
    takenOn: "2026-11-29",
    document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
};

const SNAPSHOTS = [AMAZON_SSM_MANAGED_INSTANCE_CORE, ADMINISTRATOR_ACCESS];

/** The snapshot of an AWS managed policy by its ARN (`arn:<partition>:iam::aws:policy/<name>`), when there is one. */
export function managedPolicySnapshot(arn: string): ManagedPolicySnapshot | undefined {
    const match = /^arn:[\w-]+:iam::aws:policy\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    return match ? SNAPSHOTS.find((s) => s.name === match[1]) : undefined;
}
