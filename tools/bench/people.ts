// What per-person Run As costs as a partner's people grow: the grant's trust and permissions
// in IAM's characters (whitespace not counted, as IAM counts), the State Manager associations
// the stack uses, and the review of the stack (the people query is linear in people).
// Prints one line per size; nothing is asserted (docs/partners.md quotes the figures).
//
//   npx ts-node --transpile-only tools/bench/people.ts [N ...]      default 0 10 100 500 1000 (0: the partner per partner)

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ROLE_INLINE_POLICY_MAX_CHARACTERS } from "../../components/policies";
import { FIXTURES_DIR, ofType, only, runProgram } from "../mock-engine";
import { analyze } from "../review/analyze";
import { runForReview } from "../stack-runs";

const AT = "2027-01-15T12:00:00Z";
/** IAM's default quota for a role's trust policy, in characters. */
const TRUST_POLICY_MAX_CHARACTERS = 2048;

/** People named as a partner's people often are: `person_0` ... (8 to 11 characters). */
const peopleOf = (count: number) => Array.from({ length: count }, (_, i) => `person_${i}`);

/** The fixture stacks in a directory of their own, Third_Party_A per person with `count` people (its `their` stack too); 0: as they are. */
function perPersonFixtures(count: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "people-bench-"));
    for (const file of fs.readdirSync(FIXTURES_DIR)) fs.copyFileSync(path.join(FIXTURES_DIR, file), path.join(dir, file));
    if (count === 0) return dir;
    const edit = (stack: string, change: (config: Record<string, any>) => void) => {
        const file = path.join(dir, `Pulumi.${stack}.yaml`);
        const document = YAML.parse(fs.readFileSync(file, "utf8"));
        change(document.config);
        fs.writeFileSync(file, YAML.stringify(document));
    };
    edit("yours", (config) =>
        Object.assign(config["third-party-ssm-access:partners"][0], { osUser: "os_user_a", runAs: "perPerson", people: peopleOf(count) }),
    );
    edit("their", (config) =>
        Object.assign(config, {
            "third-party-ssm-access:perPersonOsUserBase": "os_user_a",
            "third-party-ssm-access:users": peopleOf(count).map((name) => ({ name })),
        }),
    );
    return dir;
}

async function measure(count: number): Promise<string> {
    const dir = perPersonFixtures(count);
    try {
        const configFile = path.join(dir, "Pulumi.yours.yaml");
        const run = await runProgram({ stack: "yours", configFile });
        if (run.error) {
            const message = String((run.error as Error).message ?? run.error).match(/partners\[0\]\.people: [^\n]*/)?.[0] ?? String(run.error);
            return `${count} people: refused before any resource: ${message}`;
        }
        const role = only(run, "aws:iam/role:Role", "grant-Third_Party_A-role");
        const permissions = only(run, "aws:iam/rolePolicy:RolePolicy", "grant-Third_Party_A-session-access");
        const associations = ofType(run, "aws:ssm/association:Association").length;
        const started = Date.now();
        const report = await analyze(await runForReview({ stack: "yours", configFile }), AT);
        const seconds = (Date.now() - started) / 1000;
        const people = report.partners.find((p) => p.name === "Third_Party_A")?.people ?? [];
        const own = people.filter((p) => p.osUser !== null && p.alsoObtains.length === 0).length;
        return (
            `${count === 0 ? "per partner" : `${count} people`}: trust ${String(role.inputs.assumeRolePolicy).length} of ${TRUST_POLICY_MAX_CHARACTERS} characters; ` +
            `permissions ${String(permissions.inputs.policy).length} of ${ROLE_INLINE_POLICY_MAX_CHARACTERS}; ` +
            `${associations} associations in the stack; review ${seconds.toFixed(1)} s` +
            (count === 0 ? "" : ` (${own} of ${people.length} people run as their own OS user alone)`)
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    const sizes = process.argv.slice(2).map(Number);
    for (const count of sizes.length > 0 ? sizes : [0, 10, 100, 500, 1000]) process.stdout.write(`${await measure(count)}\n`);
}

main().catch((error) => {
    process.stderr.write(`people bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
