/**
 * An older GA4 export (before mid-2023: no `collected_traffic_source`, no `batch_event_index`, like the
 * public sample's schema) through the command a user runs: `ga4_optional_columns=auto` (the default) is
 * resolved from the newest `events_` table before compiling, so staging reads the missing columns as NULL
 * instead of failing "column not found". The shared GA4 sample is imported, then the two columns are
 * dropped from its day tables so the warehouse holds exactly an older export's columns.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { runCli as cli } from "./support/cli.ts";
import { SHARED_DATA } from "./support/warehouse.ts";

describe("an older GA4 export through the CLI", function () {
  this.timeout(300_000);

  it("stages an export without collected_traffic_source and batch_event_index (ga4_optional_columns=auto)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-oldga4-"));
    const warehouse = path.join(dir, "warehouse.duckdb");
    const common = ["--warehouse", warehouse, "--artifacts", path.join(dir, "artifacts")];
    const imported = cli(["import", "ga4", path.join(SHARED_DATA, "ga4-obfuscated-sample-ecommerce", "ga4_events_sample.ndjson"), ...common]);
    assert.equal(imported.code, 0, imported.stderr.slice(-2000));

    const db = await DuckDBInstance.create(warehouse);
    const conn = await db.connect();
    const days = (await (await conn.runAndReadAll(
      // The imported export's one table (each day is a view over it), and any real day tables.
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ga4_export' AND table_type = 'BASE TABLE' AND (table_name LIKE 'events_%' OR table_name = 'ga4_events') ORDER BY 1",
    )).getRowObjects()).map((r) => String(r.table_name));
    assert.ok(days.length > 0);
    for (const t of days) {
      await conn.run(`ALTER TABLE ga4_export."${t}" DROP COLUMN collected_traffic_source`);
      await conn.run(`ALTER TABLE ga4_export."${t}" DROP COLUMN batch_event_index`);
    }
    conn.closeSync();
    db.closeSync();

    const run = cli(["run", "--actions", "stg_ga4_events", "stg_ga4_sessions", ...common]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.match(run.stderr, /SUCCEEDED/);

    const check = await DuckDBInstance.create(warehouse);
    const c = await check.connect();
    const [row] = (await (await c.runAndReadAll(
      "SELECT COUNT(DISTINCT session_key) AS sessions FROM funnelcredit_staging.stg_ga4_sessions",
    )).getRowObjects());
    c.closeSync();
    check.closeSync();
    // The shared sample: 700 events in 206 sessions (data/README), as with the newer export's columns.
    assert.ok(Number(row!.sessions) === 206, `sessions: ${String(row!.sessions)}`);
  });
});
