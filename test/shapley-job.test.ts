/**
 * The shapley job on imported paths (DuckDB): the value function comes from vars.shapley_value_function, and the raw
 * negative part of each channel's Shapley value is written beside the clipped share.
 *
 * Paths (see the opener case in test/models-shapley.test.ts): "Brand" 9 conversions (value 900) of 10 journeys,
 * "Display > Brand" 30 (3000) of 100, "Display" 0 of 1000.
 * subset_conversions (default): φ Display = 15, Brand = 24 → 15 and 24 conversions, values 1500 and 2400.
 * exact_set_rate: φ Display = −0.3 (negative part −0.3) → share 0; Brand 0.6 → 39 conversions, 3900.
 */
import assert from "node:assert/strict";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs } from "./fixtures/warehouse/builders.ts";

describe("shapley job: value function and negative contributions", function () {
  this.timeout(120_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  async function credit(vars: Record<string, string>): Promise<Record<string, unknown>[]> {
    await loadInputs(engine, { paths: [["Brand", 9, 900, 1], ["Display > Brand", 30, 3000, 70], ["Display", 0, 0, 1000]] });
    const project = await compiledProject({ path_source: "import", ...vars });
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["shapley"], includeDependencies: true } }));
    return engine.queryNative(`SELECT channel, round(shapley_value, 9) AS phi, round(negative_contribution, 9) AS negative, round(share, 9) AS share,
      round(conversions, 9) AS conversions, round(value, 6) AS value, value_function FROM "${project.settings.datasets.models}".shapley_channel_credit ORDER BY channel`);
  }

  it("credits a channel that only opens journeys by default (subset_conversions)", async () => {
    assert.deepEqual(await credit({}), [
      { channel: "Brand", phi: 24, negative: 0, share: 0.615384615, conversions: 24, value: 2400, value_function: "subset_conversions" },
      { channel: "Display", phi: 15, negative: 0, share: 0.384615385, conversions: 15, value: 1500, value_function: "subset_conversions" },
    ]);
  });

  it("keeps the exact-set conversion rate available and shows the negative part it clips", async () => {
    assert.deepEqual(await credit({ shapley_value_function: "exact_set_rate" }), [
      { channel: "Brand", phi: 0.6, negative: 0, share: 1, conversions: 39, value: 3900, value_function: "exact_set_rate" },
      { channel: "Display", phi: -0.3, negative: -0.3, share: 0, conversions: 0, value: 0, value_function: "exact_set_rate" },
    ]);
  });

  it("names the var when shapley_value_function is unknown", async () => {
    await assert.rejects(compiledProject({ shapley_value_function: "exact" }), /vars\.shapley_value_function = "exact".*"subset_conversions"/);
  });
});
