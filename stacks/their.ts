// The program for a third party's account.

import * as pulumi from "@pulumi/pulumi";
import { loadTheirSettings } from "./config";

/** Builds a third party's stack from its validated config and returns the stack outputs. */
export function theirProgram(): Record<string, pulumi.Input<unknown>> {
    const settings = loadTheirSettings();
    return {
        partnerName: settings.partnerName,
        users: settings.users.map((u) => u.name),
    };
}
