// Loaded by mocha before every test file (.mocharc.json). The program installs the SDK
// stack-trace filter itself (index.ts); tests that run components without the program
// get the same, so no test pays for stack traces nobody reads.

import { installSdkStackTraceFilter } from "../stacks/sdk-stack-traces";

installSdkStackTraceFilter();
