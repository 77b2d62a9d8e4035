// A command's options, read with Node's util.parseArgs (strict: unknown options, missing values
// and stray words are errors), its errors worded as this project's commands word them:
// "unknown argument --x", "--x needs a value".

import { parseArgs, type ParseArgsConfig } from "util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The values of `argv`'s options; a mistake becomes `fail(message)`. `-h` and `--help` are left to the caller. */
export function readOptions(argv: string[], options: Options, fail: (message: string) => Error): Record<string, string | boolean | undefined> {
    try {
        return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
    } catch (error) {
        const { code, message } = error as { code?: string; message: string };
        const quoted = /'([^' ]+)/.exec(message)?.[1] ?? "";
        if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw fail(`unknown argument ${quoted}`);
        if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw fail(`${quoted} needs a value`);
        throw error;
    }
}
