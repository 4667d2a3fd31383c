/**
 * The demo writes its sample only where it cannot destroy a user's data: a warehouse it filled before (marked
 * `<meta>.demo_sample`) or one whose GA4 and sources tables are empty. Every import removes the mark. Before, the demo
 * replaced imported CRM tables without a word, and stopped half-way with DuckDB's "Existing object events_… is of type
 * View" on an imported GA4 export.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadProjectSettings } from "../src/config/settings.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { assertDemoMayWrite, markDemoSample } from "../src/demo/sample-mark.ts";
import { importFiles } from "../src/cli/commands/import.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { runCli as cli } from "./support/cli.ts";
import { PROJECT_DIR, SHARED_DATA, memoryEngine, readWarehouseFile } from "./support/warehouse.ts";

const GA4_SAMPLE = path.join(SHARED_DATA, "ga4-obfuscated-sample-ecommerce", "ga4_events_sample.ndjson");
const settings = loadProjectSettings(PROJECT_DIR).settings;
const ds = settings.datasets;

/** The demo's check as a promise: the error message when it refuses, undefined when it would write. */
async function refusal(engine: DuckDBEngine): Promise<string | undefined> {
  try {
    await assertDemoMayWrite(engine.localLoading, ds, "w.duckdb");
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe("the demo never writes over imported data", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-demo-mark-"));

  it("refuses a warehouse holding an imported GA4 export (exit 2, naming the table, its rows and --warehouse), which stays as it was", async () => {
    const w = path.join(dir, "imported.duckdb");
    const imported = cli(["import", "ga4", GA4_SAMPLE, "--warehouse", w]);
    assert.equal(imported.code, 0, imported.stderr.slice(-2000));
    const state = ["SELECT count(*) AS n, count(DISTINCT _TABLE_SUFFIX) AS days FROM ga4_export.ga4_events", "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"];
    const before = await readWarehouseFile(w, state);
    const demo = cli(["demo", "--users", "50", "--days", "3", "--warehouse", w]);
    assert.equal(demo.code, 2, demo.stderr.slice(-2000));
    assert.match(demo.stderr, /demo: .*imported\.duckdb holds input data not marked as the demo's sample .*ga4_export\.ga4_events \(700 rows\).*funnelcredit demo --warehouse /);
    assert.doesNotMatch(demo.stderr, /Catalog Error|generating sample/, "refused before it wrote anything");
    assert.deepEqual(await readWarehouseFile(w, state), before);
  });

  it("writes again into the warehouse it filled, refuses it once an import put the user's rows in, and takes a warehouse whose input tables are empty", async () => {
    const engine = await memoryEngine();
    try {
      // `run` on a new warehouse creates the source tables empty: nothing to lose.
      await ensureSourceTables(engine, settings);
      assert.equal(await refusal(engine), undefined, "empty input tables");
      await generateDemo(engine.localLoading, { users: 40, days: 3, seed: 5, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      assert.match((await refusal(engine)) ?? "", /holds input data not marked as the demo's sample/, "a sample without the mark is data like any other");
      await markDemoSample(engine.localLoading, ds.meta, { users: 40, days: 3, seed: 5 });
      assert.equal(await refusal(engine), undefined, "the demo's own sample, marked");

      const csv = path.join(dir, "transactions.csv");
      writeFileSync(csv, "transaction_id,user_id,client_id,transaction_created,transaction_status,transaction_revenue,transaction_region\nT1,U1,C1,2024-01-02 10:00:00,completed,12.5,North\n");
      await importFiles(engine, settings, { kind: "transactions", files: [csv], append: false, intraday: false, "ignore-unknown-columns": false }, () => undefined);
      const message = await refusal(engine);
      assert.match(message ?? "", /funnelcredit_sources\.crm_transactions \(1 row\)/, `after an import: ${message}`);
    } finally {
      await engine.close();
    }
  });
});
