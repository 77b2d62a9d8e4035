// The public API: components and pure builders other Pulumi projects import.
// Importing this module reads no config and creates no resource.

export * from "./constants";
export * from "./cidr";
export * from "./policies";
export * from "./documents";
export * from "./os-user-document";
export * from "./metadata-guard-scripts";
export { awsScope } from "./scope";
export * from "./private-ssm-network";
export * from "./managed-instances";
export * from "./session-preferences";
export * from "./os-user-provisioning";
export * from "./metadata-guard";
export * from "./third-party-grant";
export * from "./remote-access-identity";
export * from "./session-alerts";
export * from "./offboarding-documents";
export * from "./partner-offboarding";
export * from "./cli-config";
// The rules components and the stack config check values with, for your own checks.
export * as rules from "./rules";
export { PACKAGE_NAME, componentType } from "./type-tokens";
