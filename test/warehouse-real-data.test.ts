/**
 * The shared real inputs load through the importers `funnelcredit import` uses (ga4, dp6) and run
 * through staging, sessionization, identity, funnel and paths without errors (DuckDB).
 * Figures below are facts of the data (SOURCE.md), not tuned expectations.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { compiledProject, memoryEngine, runProject, assertRunSucceeded, SHARED_DATA } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { importGa4 } from "../src/import/ga4.ts";
import { importDp6Journeys } from "../src/import/dp6.ts";
import { loadInputs, GA4, SOURCES, INTERMEDIATE, STAGING } from "./fixtures/warehouse/builders.ts";

const WAREHOUSE_ACTIONS = ["channel_paths", "funnel_transitions", "path_features", "custom_events_quarantine"];

describe("warehouse: shared real data", function () {
  this.timeout(300_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  const count = async (schema: string, table: string, where = "TRUE"): Promise<number> =>
    Number((await engine.queryNative(`SELECT count(*) AS n FROM "${schema}"."${table}" WHERE ${where}`))[0]!.n);

  it("sessionizes the GA4 obfuscated sample (700 events, 206 sessions, 92 days)", async () => {
    await loadInputs(engine, {});
    const r = await importGa4(engine.localLoading, [path.join(SHARED_DATA, "ga4-obfuscated-sample-ecommerce", "ga4_events_sample.ndjson")], { schema: GA4 });
    assert.equal(r.rows, 700);
    const project = await compiledProject({}, []);
    const run = await runProject(project, engine, { selection: { actions: WAREHOUSE_ACTIONS, includeDependencies: true } });
    assertRunSucceeded(run);
    assert.equal(await count(STAGING, "stg_ga4_events"), 700);
    assert.equal(await count(STAGING, "stg_ga4_sessions"), 206);
    assert.equal(await count(INTERMEDIATE, "sessions"), 206);
    // user_id is always NULL in the sample: every chain is a client id.
    assert.equal(await count(INTERMEDIATE, "sessions", "chain_key LIKE 'u:%'"), 0);
    assert.equal(await count(INTERMEDIATE, "transactions"), 0); // no purchase event in the sample
    assert.ok((await count(INTERMEDIATE, "funnel_events")) > 0);
  });

  for (const file of ["test_dataset.csv", "test_dataset_multiple_conversions.csv"]) {
    it(`runs the DP6 journeys ${file} (custom events) through sessions, transactions and paths`, async () => {
      await loadInputs(engine, {});
      const r = await importDp6Journeys(engine.localLoading, path.join(SHARED_DATA, "dp6-mam-test-dataset", file), { schema: SOURCES });
      assert.ok(r.rows > 0);
      const project = await compiledProject({}, []);
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: WAREHOUSE_ACTIONS, includeDependencies: true } }));
      assert.equal(await count("funnelcredit_meta", "custom_events_quarantine"), 0);
      // Converting sessions carry user ids A1, C1, D1 (and E1): their client's anonymous sessions join those chains.
      assert.equal(await count(INTERMEDIATE, "sessions", "chain_key LIKE 'c:%' AND client_id IN ('A', 'C', 'D', 'E')"), 0);
      assert.ok((await count(INTERMEDIATE, "transactions")) >= 4);
      assert.ok((await count(INTERMEDIATE, "channel_paths")) > 0);
    });
  }
});
