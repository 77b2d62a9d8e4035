// The part of @pulumi/aws this library uses, imported service by service. The package's
// root declares every AWS service (some 2,700 declaration files), and type-checking,
// linting, building and the component schema inference would read them all for the
// few services used here. Import `aws` from this module, not from "@pulumi/aws".

// At run time the root module is still loaded, as before: it registers the `aws`
// provider package with the SDK (for provider references the engine hands back). A
// plain require keeps TypeScript from reading its declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("@pulumi/aws");

export * as cloudwatch from "@pulumi/aws/cloudwatch";
export * as ec2 from "@pulumi/aws/ec2";
export * as iam from "@pulumi/aws/iam";
export * as kms from "@pulumi/aws/kms";
export * as s3 from "@pulumi/aws/s3";
export * as scheduler from "@pulumi/aws/scheduler";
export * as secretsmanager from "@pulumi/aws/secretsmanager";
export * as sns from "@pulumi/aws/sns";
export * as ssm from "@pulumi/aws/ssm";
export * as vpc from "@pulumi/aws/vpc";
export { getAvailabilityZones, getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
export { getCallerIdentity, getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
export { getPartition, getPartitionOutput } from "@pulumi/aws/getPartition";
export { getRegion, getRegionOutput } from "@pulumi/aws/getRegion";
