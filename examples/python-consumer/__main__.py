"""Another Pulumi project, in Python, reusing the components through the component package.

Session Manager preferences and the OS users for this account, and one vendor's grant.
The components check their arguments as the TypeScript stacks do: a privileged os_user,
a wildcard principal or a principal outside the vendor's account fails `pulumi preview`
with an error naming the argument.
"""

import pulumi
import pulumi_third_party_ssm_access as ssm_access

config = pulumi.Config()
access_tag_key = "ExternalAccessGrantedTo"

preferences = ssm_access.SessionPreferences(
    "sessions",
    log_group_name="vendor-sessions",
    log_retention_days=90,
    default_os_user="no_sudo_user",
    session_role_tag_key=access_tag_key,
)

os_users = ssm_access.OsUserProvisioning(
    "os-users",
    access_tag_key=access_tag_key,
    default_os_user="no_sudo_user",
)

guard = ssm_access.MetadataGuard(
    "metadata-guard",
    access_tag_key=access_tag_key,
)

grant = ssm_access.ThirdPartyGrant(
    "vendor",
    partner_name=config.require("vendorName"),
    access_tag_key=access_tag_key,
    partner_account_id=config.require("vendorAccountId"),
    principal_arns=[config.require("vendorJumpRoleArn")],
    os_user=config.require("osUser"),
    expires_at="2027-03-31T23:59:59Z",
    os_user_document_name=os_users.document_name,
)

pulumi.export("sessionLogGroup", preferences.log_group_name)
pulumi.export("grantRoleArn", grant.role_arn)
# A secret: give it to the vendor out of band.
pulumi.export("externalId", grant.external_id)
