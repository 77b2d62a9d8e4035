// Another Pulumi project reusing the components: Session Manager preferences and one
// vendor's grant in this account. It imports the package, not its source files.

import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_ACCESS_TAG_KEY, OsUserProvisioning, SessionPreferences, ThirdPartyGrant } from "third-party-ssm-access";

const config = new pulumi.Config();
const vendorName = config.require("vendorName");

const preferences = new SessionPreferences("sessions", {
    logGroupName: "vendor-sessions",
    logRetentionDays: 90,
    defaultOsUser: "no_sudo_user",
    sessionRoleTagKey: DEFAULT_ACCESS_TAG_KEY,
});

const osUsers = new OsUserProvisioning("os-users", { accessTagKey: DEFAULT_ACCESS_TAG_KEY, defaultOsUser: "no_sudo_user" });

const grant = new ThirdPartyGrant("vendor", {
    partnerName: vendorName,
    accessTagKey: DEFAULT_ACCESS_TAG_KEY,
    partnerAccountId: config.require("vendorAccountId"),
    principalArns: [config.require("vendorJumpRoleArn")],
    osUser: config.require("osUser"),
    osUserDocumentName: osUsers.documentName,
});

export const sessionLogGroup = preferences.logGroupName;
export const grantRoleArn = grant.roleArn;
export const externalId = grant.externalId;
