/**
 * Checks of an incremental table over the partitions a run wrote (includes/partitions.js `checks`), in place of
 * Dataform's whole-table uniqueKey / nonNull assertions: a daily run's checks read only the window's partitions, a
 * full refresh's read them all, and a duplicate key (or a NULL) the run writes still fails the run, which then leaves
 * the table as it was.
 *
 * Fixture src.orders (order_date DATE, order_id INT64), partitioned by order_date:
 *   2024-01-01: ids 1, 2    2024-01-02: id 3    2024-01-03: id 4
 * s.orders_daily copies it, incremental by order_date: a daily run re-reads from its newest day on (window start =
 * MAX(order_date) of the table), deletes those partitions and inserts them again, then checks them.
 * Days arrive one per run: 2024-01-04 (id 5); then 2024-01-05 with id 6 twice (a duplicate the run creates), or with a
 * NULL id; then 2024-01-05 with id 6 once.
 *
 * Bytes on the strict local BigQuery of the daily run that adds 2024-01-04 (DATE and INT64 are 8 bytes a value):
 *   DECLARE partition_window_start = MAX(order_date) of s.orders_daily: 4 rows × 8          = 32
 *   DELETE order_date >= 2024-01-03: partition 2024-01-03, 1 row × 8 (order_date)             =  8
 *   INSERT … FROM src.orders WHERE order_date >= 2024-01-03: 2 rows × 16                      = 32
 *   uniqueKey check over order_date >= 2024-01-03 (after the insert): 2 rows × 16             = 32
 *   nonNull check, the same partitions and columns                                              = 32
 *                                                                                        total = 136
 * (Checks over the whole table would read order_id of all 5 rows, 40 bytes each: 152 in all.)
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import type { Graph } from "../src/dag/graph.ts";
import { createBigQueryEngine } from "../src/engines/bigquery/engine.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { partitionColumnOfSpec } from "../src/engines/duckdb/scan-bytes.ts";
import type { Engine, ExecOptions } from "../src/engines/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { costPlan } from "../src/runner/plan.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./support/strict-bigquery.ts";
import { afterExecute, statementReads, type StatementRead } from "./support/partition-reads.ts";

interface PartitionHelpers {
  rebuildWindow(isIncremental: boolean, self: string, column: string, opts?: { start?: string }): string;
  since(isIncremental: boolean, column: string, extraDays?: number): string;
  checks(isIncremental: boolean, self: string, column: string, opts: { uniqueKey?: string[]; nonNull?: string[]; rowConditions?: string[] }): string;
}
const partitions = createRequire(import.meta.url)("../includes/partitions.js") as PartitionHelpers;

const SELF = "`proj.s.orders_daily`";
const SOURCE = "`proj.src.orders`";
const CHECKS = { uniqueKey: ["order_id"], nonNull: ["order_id"] };
const t = (schema: string, name: string) => ({ database: "proj", schema, name });
const graph: Graph = {
  projectConfig: { defaultDatabase: "proj", defaultSchema: "s", assertionSchema: "s", vars: {} },
  actions: [
    { name: "src.orders", kind: "declaration", target: t("src", "orders"), dependencies: [], tags: [], partitionBy: "order_date" },
    {
      name: "s.orders_daily", kind: "incremental", target: t("s", "orders_daily"), dependencies: ["src.orders"], tags: [], partitionBy: "order_date",
      query: `SELECT order_date, order_id FROM ${SOURCE} WHERE ${partitions.since(false, "order_date")}`,
      incrementalQuery: `SELECT order_date, order_id FROM ${SOURCE} WHERE ${partitions.since(true, "order_date")}`,
      incrementalPreOps: [partitions.rebuildWindow(true, SELF, "order_date", { start: `(SELECT MAX(order_date) FROM ${SELF})` })],
      postOps: [partitions.checks(false, SELF, "order_date", CHECKS)],
      incrementalPostOps: [partitions.checks(true, SELF, "order_date", CHECKS)],
    },
  ],
};
const settings = loadProjectSettings(PROJECT_DIR).settings;
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "funnelcredit-incremental-checks-test"));
const run = (engine: Engine, fullRefresh = false): Promise<RunRecord> => runGraph({ graph, engine, settings, artifacts, recordHistory: false, fullRefresh });
const action = (r: RunRecord) => r.actions.find((a) => a.action === "s.orders_daily")!;

const SOURCE_ROWS: [string, number | null][] = [["2024-01-01", 1], ["2024-01-01", 2], ["2024-01-02", 3], ["2024-01-03", 4]];
const insertSql = (rows: [string, number | null][]): string => rows.map(([d, id]) => `SELECT DATE '${d}' AS order_date, ${id === null ? "CAST(NULL AS INT64)" : id} AS order_id`).join(" UNION ALL ");

describe("incremental checks read only the partitions a run wrote (DuckDB)", function () {
  this.timeout(120_000);
  let engine: DuckDBEngine;
  /** Each statement of s.orders_daily's last execution: [kind, table read, partitions read ("all" when not pruned)]. */
  let reads: StatementRead[] = [];
  const partitionColumnOf = (schema: string, table: string): string | undefined =>
    partitionColumnOfSpec(graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy);

  /** The engine, recording what each statement of s.orders_daily read, worked out right after it ran (its script variables still set). */
  function recording(): Engine {
    return afterExecute(engine, async (statements, opts) => {
      if (opts?.action === "s.orders_daily") reads = await statementReads(engine, statements, opts.action, partitionColumnOf);
    });
  }
  const days = async (): Promise<string[]> =>
    (await engine.queryNative("SELECT CAST(order_date AS VARCHAR) || ':' || COALESCE(CAST(order_id AS VARCHAR), 'NULL') AS r FROM s.orders_daily ORDER BY order_date, order_id")).map((r) => String(r.r));

  beforeEach(async () => {
    engine = await DuckDBEngine.open({ path: ":memory:", threads: 1 });
    await engine.runNative(`CREATE SCHEMA src; CREATE TABLE src.orders AS ${insertSql(SOURCE_ROWS)}`);
  });
  afterEach(async () => engine.close());

  it("reads every partition on a full refresh, then only the window's on each daily run", async () => {
    const e = recording();
    assert.equal((await run(e)).status, "succeeded");
    // A full refresh checks every partition.
    assert.deepEqual(reads.filter(([k]) => k === "check"), [
      ["check", "s.orders_daily", "all"],
      ["check", "s.orders_daily", "all"],
    ]);
    const seen: unknown[] = [];
    for (const [day, id] of [["2024-01-04", 5], ["2024-01-05", 6], ["2024-01-06", 7]] as const) {
      await engine.runNative(`INSERT INTO src.orders ${insertSql([[day, id]])}`);
      const r = await run(e);
      assert.equal(r.status, "succeeded", JSON.stringify(r.actions));
      assert.equal(action(r).kind, "incremental");
      seen.push(reads);
    }
    const window = (from: string, to: string): string[] => {
      const out: string[] = [];
      for (let d = Date.parse(from); d <= Date.parse(to); d += 86_400_000) out.push(new Date(d).toISOString().slice(0, 10));
      return out;
    };
    assert.deepEqual(seen, [["2024-01-03", "2024-01-04"], ["2024-01-04", "2024-01-05"], ["2024-01-05", "2024-01-06"]].map(([from, to]) => [
      // The window start: the newest day already in the table (a MAX over one column of every partition).
      ["DECLARE", "s.orders_daily", "all"],
      ["DELETE", "s.orders_daily", window(from!, to!)],
      ["INSERT", "src.orders", window(from!, to!)],
      ["check", "s.orders_daily", window(from!, to!)],
      ["check", "s.orders_daily", window(from!, to!)],
    ]));
    assert.equal((await days()).length, 7);
  });

  it("fails a daily run that writes a duplicate key or a NULL into its window, and leaves the table as it was", async () => {
    assert.equal((await run(engine)).status, "succeeded");
    await engine.runNative(`INSERT INTO src.orders ${insertSql([["2024-01-04", 5]])}`);
    assert.equal((await run(engine)).status, "succeeded");
    const before = await days();
    assert.deepEqual(before, ["2024-01-01:1", "2024-01-01:2", "2024-01-02:3", "2024-01-03:4", "2024-01-04:5"]);

    // Id 6 twice on the new day: a duplicate this run creates.
    await engine.runNative(`INSERT INTO src.orders ${insertSql([["2024-01-05", 6], ["2024-01-05", 6]])}`);
    const dup = await run(engine);
    assert.equal(dup.status, "failed");
    assert.match(action(dup).error!, /orders_daily: 1 value\(s\) of the unique key \(order_id\) are on more than one row of the partitions this run wrote \(order_date >= 2024-01-04\); the changes of this run were rolled back/);
    assert.deepEqual(await days(), before);

    // The same key once, but a NULL id beside it.
    await engine.runNative("DELETE FROM src.orders WHERE order_id = 6");
    await engine.runNative(`INSERT INTO src.orders ${insertSql([["2024-01-05", 6], ["2024-01-05", null]])}`);
    const nul = await run(engine);
    assert.equal(nul.status, "failed");
    assert.match(action(nul).error!, /orders_daily: rows of the partitions this run wrote \(order_date >= 2024-01-04\) fail order_id IS NOT NULL \(1 rows\); the changes of this run were rolled back/);
    assert.deepEqual(await days(), before);

    await engine.runNative("DELETE FROM src.orders WHERE order_id IS NULL");
    assert.equal((await run(engine)).status, "succeeded");
    assert.deepEqual(await days(), [...before, "2024-01-05:6"]);
  });

  it("plans the checks in both runs: a first run's over every partition, a daily run's over the window", async () => {
    // After the first run (4 rows, 2024-01-01…03; 16 bytes a row, 8 a column):
    //   first run: query 4 × 16 = 64; checks read order_id of every row (WHERE TRUE): 32 + 32            = 128
    //   daily run (nothing new; window = 2024-01-03): DECLARE 4 × 8 = 32; DELETE 1 × 8 = 8;
    //              INSERT 1 × 16 = 16; checks 1 × 16 = 16 each                                             =  88
    assert.equal((await run(engine)).status, "succeeded");
    const plan = await costPlan({ graph, engine, settings, artifacts });
    assert.deepEqual(plan.rows.map((r) => [r.action, r.firstRun, r.daily]), [["s.orders_daily", 128, 88]]);
  });

  it("fails a full refresh over a duplicate in any partition", async () => {
    await engine.runNative(`INSERT INTO src.orders ${insertSql([["2024-01-01", 3]])}`);
    const r = await run(engine, true);
    assert.equal(r.status, "failed");
    assert.match(action(r).error!, /orders_daily: 1 value\(s\) of the unique key \(order_id\) are on more than one row of the partitions this run wrote \(every order_date\)/);
  });
});

describe("incremental checks on the strict local BigQuery", function () {
  this.timeout(180_000);
  let bq: StrictBigQuery;
  let engine: Engine;
  const rows = async (): Promise<string[]> =>
    (await bq.rows("SELECT CONCAT(CAST(order_date AS STRING), ':', IFNULL(CAST(order_id AS STRING), 'NULL')) AS r FROM `proj.s.orders_daily` ORDER BY order_date, order_id")).map((r) => String(r.r));
  const add = async (more: [string, number | null][]): Promise<void> => {
    await engine.execute([`INSERT INTO ${SOURCE} (order_date, order_id) ${insertSql(more)}`]);
  };
  beforeEach(async () => {
    bq = await startStrictBigQuery({ projectId: "proj", location: "EU" });
    bq.addDataset("s", "EU", "proj");
    bq.addDataset("src", "EU", "proj");
    engine = createBigQueryEngine({ projectId: "proj", location: "EU", apiEndpoint: bq.url }, { authClient: bq.authClient() });
    await engine.execute([`CREATE TABLE ${SOURCE} PARTITION BY order_date AS ${insertSql(SOURCE_ROWS)}`]);
  });
  afterEach(async () => bq.close());

  it("bills a daily run's checks for the window's partitions only (136 bytes, see the file header)", async () => {
    assert.equal((await run(engine)).status, "succeeded");
    await add([["2024-01-04", 5]]);
    const r = await run(engine);
    assert.equal(r.status, "succeeded", JSON.stringify(r.actions));
    assert.equal(action(r).bytesProcessed, 136);
  });

  it("fails the daily run that writes a duplicate key, rolling its DELETE and INSERT back", async () => {
    assert.equal((await run(engine)).status, "succeeded");
    const before = await rows();
    await add([["2024-01-04", 5], ["2024-01-04", 5]]);
    const r = await run(engine);
    assert.equal(r.status, "failed");
    assert.match(action(r).error!, /orders_daily: 1 value\(s\) of the unique key \(order_id\) are on more than one row of the partitions this run wrote \(order_date >= 2024-01-03\)/);
    assert.deepEqual(await rows(), before);
  });
});

describe("partitions.checks", () => {
  it("writes nothing when there is nothing to check", () => {
    assert.equal(partitions.checks(true, SELF, "order_date", {}), "");
  });
  it("names the table, the key and the window in the failure message", () => {
    const sql = partitions.checks(true, SELF, "order_date", { uniqueKey: ["order_id", "order_date"] });
    assert.match(sql, /GROUP BY order_id, order_date/);
    assert.match(sql, /WHERE order_date >= partition_window_start/);
    assert.match(sql, /'orders_daily: ', CAST\(COUNT\(\*\) AS STRING\), ' value\(s\) of the unique key \(order_id, order_date\)/);
  });
});

describe("vars.credit_restatement_days (the credit tables' restatement window)", () => {
  const parse = (vars: Record<string, string>) => loadProjectSettings(PROJECT_DIR, vars).settings.creditRestatementDays;
  it("defaults to reprocess_days (auto) and takes a number of days", () => {
    assert.equal(parse({}), parse({ credit_restatement_days: "auto", reprocess_days: "3" }));
    assert.equal(parse({ reprocess_days: "5" }), 5);
    assert.equal(parse({ credit_restatement_days: "30" }), 30);
    assert.equal(parse({ credit_restatement_days: "0" }), 0);
  });
  it("refuses anything else, naming the var", () => {
    assert.throws(() => parse({ credit_restatement_days: "a month" }), /vars\.credit_restatement_days = "a month": expected "auto" or a whole number/);
    assert.throws(() => parse({ credit_restatement_days: "-1" }), /vars\.credit_restatement_days = "-1": expected a number from 0 to 3650/);
    assert.throws(() => parse({ credit_restatement_days: "3651" }), /vars\.credit_restatement_days = "3651": expected a number from 0 to 3650/);
  });
});
