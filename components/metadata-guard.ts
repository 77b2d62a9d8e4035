// Keeps the instance metadata service closed to every user but root on every instance
// open to partners, including instances this stack did not launch. Any local user who
// reaches the metadata service holds the instance role's credentials; a partner's shell
// runs as an unprivileged user, so a firewall rule on the process owner keeps them out
// while the SSM agent (root) works on. The document installs the guard to run at every
// boot, before the SSM agent starts (systemd on Linux, a LaunchDaemon on macOS), and
// runs it; this association re-applies it on a schedule. The OS-user document runs the
// same installer before it creates a Run As user, so no partner session can exist on an
// instance whose metadata service is still open.

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { metadataGuardDocument } from "./metadata-guard-scripts";
import { stateManagerAssociationName } from "./os-user-provisioning";
import { componentType, withFormerType } from "./type-tokens";
import { checkedInput } from "./guard";
import { ACCESS_TAG_KEY } from "./rules";

/** How often State Manager re-applies the guard (30 minutes is the shortest rate it accepts). */
export const METADATA_GUARD_SCHEDULE = "rate(30 minutes)";

export interface MetadataGuardArgs {
    /** Instance tag key marking instances open to third parties; every instance carrying it is guarded. */
    accessTagKey: pulumi.Input<string>;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** The command document that closes the metadata service to non-root users, and the association applying it to every instance carrying the access tag key. */
export class MetadataGuard extends pulumi.ComponentResource {
    /** Name of the command document (no parameters). */
    public readonly documentName: pulumi.Output<string>;
    /** Name of the State Manager association. */
    public readonly associationName: pulumi.Output<string>;

    constructor(name: string, args: MetadataGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("MetadataGuard"), name, {}, withFormerType("MetadataGuard", "instances", opts));
        const parent = { parent: this };
        const accessTagKey = checkedInput(this, "accessTagKey", args.accessTagKey, ACCESS_TAG_KEY.problem);
        const document = new aws.ssm.Document(
            `${name}-close-metadata`,
            { documentType: "Command", documentFormat: "JSON", content: JSON.stringify(metadataGuardDocument(), null, 2), tags: args.tags },
            parent,
        );
        const association = new aws.ssm.Association(
            `${name}-close-metadata`,
            {
                name: document.name,
                associationName: stateManagerAssociationName(`${name}-close-metadata`),
                targets: [{ key: "tag-key", values: [accessTagKey] }],
                scheduleExpression: METADATA_GUARD_SCHEDULE,
            },
            parent,
        );
        this.documentName = document.name;
        this.associationName = association.associationName.apply((n) => n ?? "");
        this.registerOutputs({ documentName: this.documentName, associationName: this.associationName });
    }
}
