// Creates the Run As OS users on the instances. With Run As on, Session Manager never
// falls back to ssm-user and the agent never creates users: a missing user means a
// failed session. A State Manager association applies to instances launched later too.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { createOsUserDocument, createOsUsersDocument } from "./os-user-document";
import { componentType, withFormerType } from "./type-tokens";
import { checkedInput } from "./guard";
import { ACCESS_TAG_KEY, DEFAULT_RUN_AS_USER } from "./rules";

/** State Manager re-applies the associations this often, restoring a deleted user. */
export const OS_USER_REAPPLY_SCHEDULE = "rate(1 day)";

export interface OsUserProvisioningArgs {
    /** Instance tag key marking instances open to third parties; the default user is created on every instance carrying it. */
    accessTagKey: pulumi.Input<string>;
    /** OS user Session Manager runs as when a principal has no `SSMSessionRunAs` tag. */
    defaultOsUser: pulumi.Input<string>;
    /** Also create the document that creates a list of users in one run (`usersDocumentName`), for grants with per-person Run As. Default false. */
    usersDocument?: boolean;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/**
 * The command document that creates an unprivileged OS user, and the association
 * that creates the default Run As user on every instance carrying the access tag key.
 * Grants add associations of their own with `associateUser`.
 */
export class OsUserProvisioning extends pulumi.ComponentResource {
    /** Name of the command document; its one parameter is `userName`. */
    public readonly documentName: pulumi.Output<string>;
    /** With `usersDocument`: the command document creating a list of users; its one parameter is `userNames`, separated by spaces. */
    public readonly usersDocumentName?: pulumi.Output<string>;

    constructor(name: string, args: OsUserProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("OsUserProvisioning"), name, {}, withFormerType("OsUserProvisioning", "sessions", opts));
        // The same rules the stack config applies, so the component is safe however it is called.
        const accessTagKey = checkedInput(this, "accessTagKey", args.accessTagKey, ACCESS_TAG_KEY.problem);
        const defaultOsUser = checkedInput(this, "defaultOsUser", args.defaultOsUser, DEFAULT_RUN_AS_USER.problem);
        const document = new aws.ssm.Document(
            `${name}-create-os-user`,
            { documentType: "Command", documentFormat: "JSON", content: JSON.stringify(createOsUserDocument(), null, 2), tags: args.tags },
            { parent: this },
        );
        this.documentName = document.name;
        if (args.usersDocument)
            this.usersDocumentName = new aws.ssm.Document(
                `${name}-create-os-users`,
                { documentType: "Command", documentFormat: "JSON", content: JSON.stringify(createOsUsersDocument(), null, 2), tags: args.tags },
                { parent: this },
            ).name;
        createOsUserAssociation(`${name}-default-user`, {
            documentName: this.documentName,
            userName: defaultOsUser,
            target: { key: "tag-key", values: [accessTagKey] },
            parent: this,
        });
        this.registerOutputs({ documentName: this.documentName, usersDocumentName: this.usersDocumentName });
    }
}

/** Where and which user (or users) an OS-user association creates. */
export interface OsUserAssociationArgs {
    /** The command document from `OsUserProvisioning`: `documentName` for `userName`, `usersDocumentName` for `userNames`. */
    documentName: pulumi.Input<string>;
    userName?: pulumi.Input<string>;
    /** Several users at once, with the list document. */
    userNames?: string[];
    /** State Manager target, e.g. `{ key: "tag:ExternalAccessGrantedTo", values: ["Third_Party_A"] }`. */
    target: { key: pulumi.Input<string>; values: pulumi.Input<string>[] };
    parent: pulumi.Resource;
}

/** Creates `userName` on the target instances now and on any that match later. */
export function createOsUserAssociation(name: string, args: OsUserAssociationArgs): aws.ssm.Association {
    return new aws.ssm.Association(
        name,
        {
            name: args.documentName,
            associationName: stateManagerAssociationName(name),
            parameters: args.userNames === undefined ? { userName: args.userName! } : { userNames: args.userNames.join(" ") },
            targets: [{ key: args.target.key, values: args.target.values }],
            scheduleExpression: OS_USER_REAPPLY_SCHEDULE,
        },
        { parent: args.parent },
    );
}

/** A State Manager association name from a resource name: association names allow only letters, digits and _ - . (partner names allow more), at most 128. */
export function stateManagerAssociationName(name: string): string {
    return name.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 128);
}
