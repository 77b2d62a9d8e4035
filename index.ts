// Entry point: the config key `side` picks the program; its return value becomes the stack outputs.

import { readSide } from "./stacks/config";
import { theirProgram } from "./stacks/their";
import { yoursProgram } from "./stacks/yours";

const programs = { yours: yoursProgram, their: theirProgram };

export = programs[readSide()]();
