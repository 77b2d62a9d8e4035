// The program for your account: the account that owns the private instances.

import * as pulumi from "@pulumi/pulumi";
import { loadYoursSettings } from "./config";

/** Builds your account's stack from its validated config and returns the stack outputs. */
export function yoursProgram(): Record<string, pulumi.Input<unknown>> {
    const settings = loadYoursSettings();
    return {
        accessTagKey: settings.accessTagKey,
        partners: settings.partners.map((p) => ({ name: p.name, osUser: p.osUser, grantRoleName: p.grantRoleName, expiresAt: p.expiresAt ?? null })),
    };
}
