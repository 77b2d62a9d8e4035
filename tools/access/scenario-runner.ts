// Runs the scenario catalogue: each scenario decided against a world, by evaluating its
// request or reading its fact, and the table docs/proof.md shows.

import { decide, type Decision } from "../iam/evaluate";
import { SCENARIOS } from "./scenarios";
import type { CatalogueWorld, Expected, Scenario } from "./scenario-world";

/** A scenario's outcome. */
export interface ScenarioResult {
    scenario: Scenario;
    decision: Decision;
    outcome: Expected;
    errors?: string;
    passed: boolean;
}

/** Decides every scenario against a world. */
export async function runScenarios(world: CatalogueWorld, scenarios: Scenario[] = SCENARIOS): Promise<ScenarioResult[]> {
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
        const { decision, errors }: { decision: Decision; errors?: string } = scenario.fact
            ? scenario.fact(world)
            : await decide(world.picture, scenario.request(world));
        const outcome: Expected = decision === "Allowed" ? "Allowed" : "Denied";
        results.push({ scenario, decision, outcome, errors, passed: errors === undefined && outcome === scenario.expected });
    }
    return results;
}

/** The Markdown table of scenarios and their results, as docs/proof.md shows it. */
export function scenarioTable(results: ScenarioResult[]): string {
    const rows = results.map((r) => `| ${r.scenario.group} | ${r.scenario.title} | ${r.scenario.expected} | ${r.decision} | ${r.passed ? "pass" : "FAIL"} |`);
    return ["| group | request | expected | evaluated | |", "|---|---|---|---|---|", ...rows].join("\n");
}
