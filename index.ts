// Entry point: the config key `side` picks the program; what it returns becomes the stack outputs.
// Exported as a function so Pulumi runs it inside the stack and awaits it.

import { readSide } from "./stacks/config";
import { installSdkStackTraceFilter } from "./stacks/sdk-stack-traces";
import { theirProgram } from "./stacks/their";
import { yoursProgram } from "./stacks/yours";

// Half a plan's time would go to stack traces nobody reads (see the module).
installSdkStackTraceFilter();

const programs = { yours: yoursProgram, their: theirProgram };

export = async (): Promise<Record<string, unknown>> => programs[readSide()]();
