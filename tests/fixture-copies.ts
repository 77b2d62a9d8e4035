// Changed copies of the sample stacks for tests: every fixture is copied beside the changed
// one, so the stacks a changed config references are the fixtures' (never the user's stack
// files in the project root).

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { FIXTURES_DIR } from "../tools/mock-engine";

/** A directory holding a copy of every fixture. */
export function fixturesCopy(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fixtures-"));
    for (const file of fs.readdirSync(FIXTURES_DIR)) fs.copyFileSync(path.join(FIXTURES_DIR, file), path.join(dir, file));
    return dir;
}

/** The fixture config of `stack`, changed by `change` (given the `config:` map), in a copy of the fixtures. */
export function changedFixture(stack: string, change: (config: Record<string, any>) => void): string {
    const document = YAML.parse(fs.readFileSync(path.join(FIXTURES_DIR, `Pulumi.${stack}.yaml`), "utf8"));
    change(document.config);
    const configFile = path.join(fixturesCopy(), `Pulumi.${stack}.yaml`);
    fs.writeFileSync(configFile, YAML.stringify(document));
    return configFile;
}
