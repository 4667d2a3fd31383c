/**
 * The sequence families (vars.ml_families lstm, attention) on the demo sample, end to end on the embedded engine:
 * GA4 export → sessions → journeys → ml_journey_sequences → the ML attribution job. Small (1,500 users, 14 days)
 * with few hidden units, so it checks the wiring and the contracts, not the models' accuracy (the benchmark does).
 */
import assert from "node:assert/strict";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import type { Project } from "../src/compile/project.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";

describe("sequence families on the demo pipeline (DuckDB)", function () {
  this.timeout(300_000);
  let project: Project;
  let engine: DuckDBEngine;
  const credit = async (): Promise<Array<Record<string, unknown>>> =>
    engine.queryNative(`SELECT family, method, channel, conversions, value, share FROM "${project.settings.datasets.outputs}".ml_family_credit ORDER BY family, method, channel`);

  before(async () => {
    project = await compiledProject({
      ml_min_auc: "0", ml_families: '["lstm","attention"]', ml_sequence_hidden_units: "6", ml_sequence_max_epochs: "8", ml_sequence_max_touches: "6",
    });
    engine = await memoryEngine();
    const ds = project.settings.datasets;
    await generateDemo(engine.localLoading, { users: 1500, days: 14, seed: 3, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    await ensureSourceTables(engine, project.settings);
  });
  after(async () => engine?.close());

  it("builds the ordered-touch aggregate, fits both families, credits every conversion by each method, and re-runs byte-identically", async () => {
    const selection = { actions: ["ml_attribution"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { fullRefresh: true, runId: "seq-1", selection }));
    const ds = project.settings.datasets;
    const [seq] = await engine.queryNative(`SELECT COUNT(*) AS n, SUM(journey_count) AS journeys, MAX(touch_count) AS longest FROM "${ds.intermediate}".ml_journey_sequences`);
    const [journeys] = await engine.queryNative(`SELECT COUNT(DISTINCT journey_key) AS n FROM "${ds.intermediate}".conversion_journeys AS j, UNNEST(j.touches) AS t`);
    assert.equal(Number(seq!.journeys), Number(journeys!.n), "every journey with a touch is in one sequence row");
    assert.ok(Number(seq!.n) < Number(journeys!.n), `${seq!.n} sequence rows for ${journeys!.n} journeys`);
    assert.ok(Number(seq!.longest) <= 6, `touches capped at vars.ml_sequence_max_touches: ${seq!.longest}`);

    const rows = await credit();
    const pairs = [...new Set(rows.map((r) => `${r.family}/${r.method}`))].sort();
    for (const p of ["attention/attention", "attention/removal_effect", "attention/shapley", "lstm/removal_effect", "lstm/shapley"]) assert.ok(pairs.includes(p), `${p} in ${pairs.join(", ")}`);
    const [ml] = await engine.queryNative(`SELECT SUM(conversions) AS c FROM "${ds.outputs}".ml_channel_credit WHERE method = 'shapley'`);
    for (const p of pairs) {
      const total = rows.filter((r) => `${r.family}/${r.method}` === p).reduce((a, r) => a + Number(r.conversions), 0);
      assert.ok(Math.abs(total - Number(ml!.c)) < 1e-6 * Number(ml!.c), `${p}: ${total} vs ${ml!.c}`);
      assert.ok(rows.filter((r) => `${r.family}/${r.method}` === p).every((r) => Number.isFinite(Number(r.share))), `${p}: finite shares`);
    }
    const before = JSON.stringify(rows);
    assertRunSucceeded(await runProject(project, engine, { fullRefresh: true, runId: "seq-2", selection }));
    assert.equal(JSON.stringify(await credit()), before);
  });
});
