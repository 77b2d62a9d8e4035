// On-demand list prices in us-east-1 for what the stacks create, in one dated table.
// Not fetched at run time: check them against the AWS pricing pages before relying
// on the estimate, and update `asOf` when you do.

export const PRICES = {
    asOf: "2026-11-24",
    region: "us-east-1",
    currency: "USD",
    hoursPerMonth: 730,
    /** Interface VPC endpoint, per endpoint per availability zone per hour (plus $0.01/GB processed). */
    interfaceEndpointHour: 0.01,
    /** S3 gateway endpoint: no charge. */
    gatewayEndpointHour: 0,
    /** Customer-managed KMS key, per month (requests extra). */
    kmsKeyMonth: 1.0,
    /** Secrets Manager secret, per month (API calls extra). */
    secretMonth: 0.4,
    /** EC2 on-demand, per hour, Linux. */
    instanceHour: { "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t4g.micro": 0.0084, "t4g.small": 0.0168 } as Record<string, number>,
    /** EBS gp3 storage, per GB-month; AL2023 AMIs default to an 8 GB root volume. */
    gp3GbMonth: 0.08,
    defaultRootVolumeGb: 8,
} as const;
