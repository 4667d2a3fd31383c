/**
 * The byte estimate behind `funnelcredit plan` and `run --dry-run`: on DuckDB and on the strict local
 * BigQuery, bytes are BigQuery's documented per-type sizes
 * (https://cloud.google.com/bigquery/pricing#data_size_calculation) of the columns a statement reads,
 * over the partitions it does not prune.
 *
 * Fixture `orders`, partitioned by order_date, three rows:
 *   order_date   amount  channel  paid   fee   items
 *   2024-01-01   10.0    'email'  true   1.5   [{sku 'a', qty 1}]
 *   2024-01-01   NULL    'é'      NULL   NULL  []
 *   2024-01-02   5.5     NULL     false  NULL  [{sku 'bb', qty 2}, {sku NULL, qty 3}]
 * Sizes by row (NULL = 0; STRING = 2 + UTF-8 bytes, 'é' is 2 bytes; FLOAT64/DATE/INT64 8; BOOL 1; NUMERIC 16;
 * ARRAY<STRUCT> = the sum of its elements' fields):
 *   order_date  8 + 8 + 8            = 24   (day 2: 8)
 *   amount      8 + 0 + 8            = 16   (day 2: 8)
 *   channel     (2+5) + (2+2) + 0    = 11   (day 2: 0)
 *   paid        1 + 0 + 1            = 2    (day 2: 1)
 *   fee         16 + 0 + 0           = 16
 *   items       (3+8) + 0 + ((4+8) + (0+8)) = 31 (day 2: 20)
 *   buyer       STRUCT<name STRING, age INT64>: {'ann', 30}, {NULL, NULL}, {NULL, 41}: name 2+3 = 5, age 8 + 0 + 8 = 16
 * GA4-style day tables events_20240101 (event_name 'page_view': 11) and events_20240102 ('purchase', 'ab': 10 + 4 = 14).
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import type { Action, Graph } from "../src/dag/graph.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import { createBigQueryEngine } from "../src/engines/bigquery/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { costPlan, formatPlan, planOf } from "../src/runner/plan.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Engine } from "../src/engines/engine.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./support/strict-bigquery.ts";

const SETUP = [
  `CREATE TABLE \`p.shop.orders\` PARTITION BY order_date AS
     SELECT DATE '2024-01-01' AS order_date, 10.0 AS amount, 'email' AS channel, TRUE AS paid, NUMERIC '1.5' AS fee, [STRUCT('a' AS sku, 1 AS qty)] AS items, STRUCT('ann' AS name, 30 AS age) AS buyer
     UNION ALL SELECT DATE '2024-01-01', NULL, 'é', NULL, NULL, ARRAY<STRUCT<sku STRING, qty INT64>>[], STRUCT(CAST(NULL AS STRING) AS name, CAST(NULL AS INT64) AS age)
     UNION ALL SELECT DATE '2024-01-02', 5.5, NULL, FALSE, NULL, [STRUCT('bb' AS sku, 2 AS qty), STRUCT(CAST(NULL AS STRING) AS sku, 3 AS qty)], STRUCT(CAST(NULL AS STRING) AS name, 41 AS age)`,
  "CREATE TABLE `p.ga.events_20240101` AS SELECT 'page_view' AS event_name",
  "CREATE TABLE `p.ga.events_20240102` AS SELECT 'purchase' AS event_name UNION ALL SELECT 'ab'",
];

/** Statement → bytes worked out by hand from the table above. */
const CASES: [string, string, number][] = [
  ["one STRING column over every partition", "SELECT channel FROM `p.shop.orders`", 11],
  ["a filter on the partitioning column keeps one day, and the filter column is billed too", "SELECT SUM(amount) AS s FROM `p.shop.orders` WHERE order_date = DATE '2024-01-02'", 8 + 8],
  ["COUNT(*) reads no column", "SELECT COUNT(*) AS n FROM `p.shop.orders`", 0],
  ["an ARRAY of STRUCTs by its elements, a NUMERIC as 16 bytes", "SELECT items, fee FROM `p.shop.orders`", 31 + 16],
  ["a STRUCT field read alone bills that field (16), not the whole STRUCT (21)", "SELECT buyer.age FROM `p.shop.orders`", 16],
  ["a STRUCT read whole bills every field", "SELECT buyer FROM `p.shop.orders`", 5 + 16],
  ["a table read twice bills each column once", "SELECT a.channel, b.amount FROM `p.shop.orders` AS a JOIN `p.shop.orders` AS b ON a.paid = b.paid", 11 + 16 + 2],
  ["a filter on another column does not prune", "SELECT paid FROM `p.shop.orders` WHERE amount > 1000", 2 + 16],
  ["a wildcard table bills only the day tables _TABLE_SUFFIX keeps", "SELECT event_name FROM `p.ga.events_*` WHERE _TABLE_SUFFIX >= '20240102'", 14],
  ["several tables in one statement bill each its columns (every day table of a wildcard too)", "SELECT o.channel, e.event_name FROM `p.shop.orders` AS o CROSS JOIN `p.ga.events_*` AS e", 11 + 11 + 14],
  [
    "a script variable prunes the statements after it; its DEFAULT query is billed",
    "DECLARE w DATE DEFAULT (SELECT MAX(order_date) FROM `p.shop.orders`);\nSELECT SUM(amount) AS s FROM `p.shop.orders` WHERE order_date >= w",
    24 + (8 + 8),
  ],
  ["CREATE TABLE AS bills its query", "CREATE OR REPLACE TABLE `p.shop.paid_days` AS SELECT order_date, paid FROM `p.shop.orders` WHERE order_date >= DATE '2024-01-02'", 8 + 1],
];

interface Setup {
  name: string;
  open(): Promise<{ engine: Engine; close(): Promise<void> }>;
}

const ENGINES: Setup[] = [
  {
    name: "DuckDB",
    async open() {
      const engine = await DuckDBEngine.open({ path: ":memory:", threads: 1 });
      await engine.ensureDataset("p", "shop");
      await engine.ensureDataset("p", "ga");
      await engine.execute(SETUP);
      await engine.prepareDeclarations([{ database: "p", schema: "ga", name: "events_*" }]);
      // The runner declares the models' partitioning (DuckDB has none of its own).
      engine.declarePartitions([{ target: { database: "p", schema: "shop", name: "orders" }, partitionBy: "order_date" }]);
      return { engine, close: () => engine.close() };
    },
  },
  {
    name: "the strict local BigQuery",
    async open() {
      const bq: StrictBigQuery = await startStrictBigQuery({ projectId: "p", location: "EU" });
      bq.addDataset("shop", "EU", "p");
      bq.addDataset("ga", "EU", "p");
      const engine = bq.engine();
      for (const s of SETUP) await engine.execute([s]);
      return { engine, close: () => bq.close() };
    },
  },
];

for (const setup of ENGINES) {
  describe(`bytes a statement would bill, estimated on ${setup.name}`, function () {
    this.timeout(120_000);
    let engine: Engine;
    let close: () => Promise<void>;
    before(async () => {
      ({ engine, close } = await setup.open());
    });
    after(async () => close?.());

    for (const [what, sql, bytes] of CASES) {
      it(`counts ${what}: ${bytes} bytes`, async () => {
        assert.equal((await engine.dryRun(sql, { action: "t" })).bytesProcessed, bytes);
      });
    }

    it("writes nothing on a dry run", async () => {
      await engine.dryRun("CREATE OR REPLACE TABLE `p.shop.dry` AS SELECT channel FROM `p.shop.orders`", { action: "t" });
      assert.equal(await engine.tableExists({ database: "p", schema: "shop", name: "dry" }), false);
    });
  });
}

describe("pre-flight bytes check against maximum_bytes_billed (strict local BigQuery)", function () {
  this.timeout(180_000);
  // src.raw: 3 rows of (id INT64, amount FLOAT64, note STRING NULL):
  //   s.orders reads id and amount: 3 × 8 + 3 × 8 = 48 bytes; s.ids reads id: 24 bytes.
  const settings = loadProjectSettings(PROJECT_DIR).settings;
  const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "funnelcredit-cost-plan-test"));
  const t = (schema: string, name: string) => ({ database: "proj", schema, name });
  const graph: Graph = {
    projectConfig: { defaultDatabase: "proj", defaultSchema: "s", assertionSchema: "s", vars: {} },
    actions: [
      { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] },
      { name: "s.orders", kind: "table", target: t("s", "orders"), dependencies: ["src.raw"], tags: [], query: "SELECT id, SUM(amount) AS total FROM `proj.src.raw` GROUP BY id" },
      { name: "s.ids", kind: "table", target: t("s", "ids"), dependencies: ["src.raw"], tags: [], query: "SELECT DISTINCT id FROM `proj.src.raw`" },
    ],
  };
  let bq: StrictBigQuery;
  beforeEach(async () => {
    bq = await startStrictBigQuery({ projectId: "proj", location: "EU" });
    bq.addDataset("s", "EU", "proj");
    await bq.createTable("proj.src.raw", [{ name: "id", type: "INT64" }, { name: "amount", type: "FLOAT64" }, { name: "note", type: "STRING" }], [
      { id: 1, amount: 2.5, note: null }, { id: 1, amount: 1.5, note: null }, { id: 2, amount: 10, note: null },
    ]);
  });
  afterEach(async () => bq.close());
  const engineWithCap = (cap: string): Engine =>
    createBigQueryEngine({ projectId: "proj", location: "EU", apiEndpoint: bq.url, maximumBytesBilled: cap }, { authClient: bq.authClient() });

  it("fails the run before any action runs, naming the action over the cap and its bytes", async () => {
    const run = await runGraph({ graph, engine: engineWithCap("40"), settings, artifacts, recordHistory: false });
    assert.equal(run.status, "failed");
    const orders = run.actions.find((a) => a.action === "s.orders")!;
    assert.equal(orders.status, "failed");
    assert.equal(orders.bytesProcessed, 48);
    assert.match(orders.error!, /s\.orders would process 48 bytes .*more than maximum_bytes_billed 40 bytes/);
    const ids = run.actions.find((a) => a.action === "s.ids")!;
    assert.equal(ids.status, "skipped");
    assert.match(ids.note!, /pre-flight bytes check failed \(s\.orders\)/);
    // Nothing ran: s.ids (24 bytes, under the cap) was not built either.
    assert.deepEqual(await bq.tableIds("s", "proj"), []);
  });

  it("runs when every action is within the cap (48 bytes ≤ 48)", async () => {
    const run = await runGraph({ graph, engine: engineWithCap("48"), settings, artifacts, recordHistory: false });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    assert.deepEqual(await bq.tableIds("s", "proj"), ["ids", "orders"]);
  });
});

describe("funnelcredit plan: first run and daily incremental run", function () {
  this.timeout(120_000);
  // src.raw, partitioned by day: 2 rows (day DATE, id INT64) on each of 2024-01-01…04 = 8 rows of 16 bytes.
  // s.daily: incremental by day; a daily run declares w = its newest day, deletes that day and inserts raw's rows from w on.
  //   first run (full refresh): SELECT day, id FROM raw                      = 8 × 16        = 128 bytes
  //   daily run: DECLARE w (s.daily.day, 8 rows × 8) = 64; DELETE day ≥ w (1 partition, 2 × 8) = 16;
  //              INSERT … FROM raw WHERE day ≥ w (1 partition, 2 × 16) = 32                  = 112 bytes
  // s.ids (table): SELECT DISTINCT id FROM raw = 8 × 8 = 64 bytes in both runs.
  // s.ids_view: CREATE VIEW bills nothing (its query would read s.ids' 8 ids = 64 bytes when queried): 0 bytes.
  const settings = loadProjectSettings(PROJECT_DIR).settings;
  const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "funnelcredit-cost-plan-test"));
  const t = (schema: string, name: string) => ({ database: "proj", schema, name });
  const graph: Graph = {
    projectConfig: { defaultDatabase: "proj", defaultSchema: "s", assertionSchema: "s", vars: {} },
    actions: [
      { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [], partitionBy: "day" },
      {
        name: "s.daily", kind: "incremental", target: t("s", "daily"), dependencies: ["src.raw"], tags: [], partitionBy: "day",
        query: "SELECT day, id FROM `proj.src.raw`",
        incrementalPreOps: ["DECLARE w DATE DEFAULT (SELECT MAX(day) FROM `proj.s.daily`)", "DELETE FROM `proj.s.daily` WHERE day >= w"],
        incrementalQuery: "SELECT day, id FROM `proj.src.raw` WHERE day >= w",
      },
      { name: "s.ids", kind: "table", target: t("s", "ids"), dependencies: ["src.raw"], tags: [], query: "SELECT DISTINCT id FROM `proj.src.raw`" },
      { name: "s.ids_view", kind: "view", target: t("s", "ids_view"), dependencies: ["s.ids"], tags: [], query: "SELECT id FROM `proj.s.ids`" },
    ],
  };
  let engine: DuckDBEngine;
  before(async () => {
    engine = await DuckDBEngine.open({ path: ":memory:", threads: 1 });
    await engine.runNative(`CREATE SCHEMA src; CREATE TABLE src.raw AS SELECT DATE '2024-01-01' + CAST(i // 2 AS INTEGER) AS day, CAST(i AS BIGINT) AS id FROM range(8) t(i)`);
  });
  after(async () => engine.close());

  it("prints per action and in total the bytes and on-demand cost of a first and a daily run", async () => {
    const fresh = await costPlan({ graph, engine, settings, artifacts });
    // On an empty warehouse the daily run is a first run too (s.daily does not exist yet).
    assert.deepEqual(fresh.rows.map((r) => [r.action, r.firstRun, r.daily]), [["s.daily", 128, 128], ["s.ids", 64, 64], ["s.ids_view", undefined, undefined]]);
    const run = await runGraph({ graph, engine, settings, artifacts, recordHistory: false });
    assert.equal(run.status, "succeeded");
    const plan = await costPlan({ graph, engine, settings, artifacts });
    assert.deepEqual(plan.rows.map((r) => [r.action, r.firstRun, r.daily]), [["s.daily", 128, 112], ["s.ids", 64, 64], ["s.ids_view", 0, 0]]);
    assert.equal(plan.firstRun, 192);
    assert.equal(plan.daily, 176);
    const text = formatPlan(plan, { perTib: 6.25, currency: "USD" });
    // The engine says where its bytes come from (the plan never tests the engine's name).
    assert.match(text, /^cost plan on duckdb \(estimated from the data by BigQuery's per-type column sizes\); on-demand price 6\.25 USD per TiB$/m);
    assert.match(text, /^s\.daily\s+128\s+112$/m);
    assert.match(text, /first run \(full refresh\): 192 bytes \(0\.000 GiB, 0\.000000 USD\)/);
    assert.match(text, /daily incremental run: +176 bytes/);
    assert.match(text, /a daily run processes 91\.67 % of a first run/);
    // s.ids (a table, 64 bytes) is rebuilt whole every run; s.daily (incremental, 112) re-reads its window.
    assert.equal(plan.dailyWhole, 64);
    assert.match(text, /of the daily run, 64 bytes \(36\.36 %\) are actions other than incremental models \(tables rebuilt whole, assertions, jobs\): they read what their inputs hold/);
    // Planning wrote nothing: s.daily still holds the 8 rows of the run.
    assert.equal((await engine.queryNative("SELECT COUNT(*) AS n FROM s.daily"))[0]!.n, 8);
  });

  it("bills a job's own read queries when it states them (planQueries), else every column of the tables it reads", async () => {
    // src.raw: 8 rows of (day DATE, id INT64). A job that states it reads `SELECT id … WHERE day >= 2024-01-04` bills
    // id over the one partition kept + the filter column: 2 × 8 + 2 × 8 = 32 bytes; the same job without planQueries
    // bills SELECT * of raw: 8 × 16 = 128 bytes.
    const job = (name: string, planQueries?: JobDefinition["planQueries"]): Action => ({
      name, kind: "job", target: t("s", `${name}_out`), dependencies: ["src.raw"], tags: [],
      job: { name, description: "reads raw", reads: ["raw"], writes: [`${name}_out`], run: async () => ({ rows: 0 }), ...(planQueries ? { planQueries } : {}) },
    });
    const withJobs: Graph = { ...graph, actions: [graph.actions[0]!, job("stated", (ctx) => [`SELECT id FROM ${ctx.ref("raw")} WHERE day >= DATE '2024-01-04'`]), job("unstated")] };
    const plan = await costPlan({ graph: withJobs, engine, settings, artifacts });
    assert.deepEqual(plan.rows.map((r) => [r.action, r.firstRun, r.daily]), [["stated", 32, 32], ["unstated", 128, 128]]);
  });

  it("says which actions it could not estimate (their inputs are not built yet)", () => {
    const at = new Date(0);
    const rec = (actions: RunRecord["actions"]): RunRecord => ({ runId: "r", engine: "duckdb", startedAt: at, endedAt: at, status: "succeeded", fullRefresh: true, dryRun: true, actions, warnings: [] });
    const first = rec([
      { action: "a", kind: "table", status: "dry_run", startedAt: at, endedAt: at, bytesProcessed: 2 ** 40 },
      { action: "b", kind: "table", status: "dry_run", startedAt: at, endedAt: at, note: "not checked: depends on tables not yet built (s.a)" },
    ]);
    const daily = rec([
      { action: "a", kind: "table", status: "dry_run", startedAt: at, endedAt: at, bytesProcessed: 2 ** 33 },
      { action: "b", kind: "table", status: "dry_run", startedAt: at, endedAt: at, note: "not checked: depends on tables not yet built (s.a)" },
    ]);
    const plan = planOf(first, daily);
    assert.deepEqual(plan.notEstimated, { firstRun: ["b"], daily: ["b"] });
    const text = formatPlan(plan, { perTib: 6.25, currency: "USD" });
    // 2^40 bytes = 1 TiB = 6.25 USD; 2^33 = 8 GiB = 1/128 TiB = 0.05 USD; 2^33 / 2^40 = 0.78 %.
    assert.match(text, /first run \(full refresh\): 1,099,511,627,776 bytes \(1\.000 TiB, 6\.25 USD\)/);
    assert.match(text, /daily incremental run: +8,589,934,592 bytes \(0\.008 TiB, 0\.05 USD\)/);
    assert.match(text, /0\.78 % of a first run/);
    assert.match(text, /1 action\(s\) not estimated .*\n  b: not checked: depends on tables not yet built \(s\.a\)/);
  });
});

describe("bytes of the imported GA4 export's one table, estimated on DuckDB", function () {
  this.timeout(120_000);
  // The same four events stored twice: as an import stores them (ga4_events, the day in _TABLE_SUFFIX) in dataset
  // `one`, and as real day tables (as BigQuery's export shards them) in dataset `days`. STRING = 2 + UTF-8 bytes:
  //   20240101: 'page_view' 11 · 20240102: 'purchase' 10 + 'ab' 4 = 14 · intraday_20240103: 'x' 3 · all: 28.
  // BigQuery bills the shards a _TABLE_SUFFIX filter keeps and nothing for the pseudo-column itself.
  const ROWS: [string, string][] = [["page_view", "20240101"], ["purchase", "20240102"], ["ab", "20240102"], ["x", "intraday_20240103"]];
  const CASES_ONE: [string, string, number][] = [
    ["every day", "", 28],
    ["the days from 2024-01-02, daily only", "WHERE _TABLE_SUFFIX BETWEEN '20240102' AND '99999999'", 14],
    ["staging's window, daily or intraday", "WHERE (_TABLE_SUFFIX BETWEEN '20240102' AND '99999999' OR _TABLE_SUFFIX BETWEEN 'intraday_20240102' AND 'intraday_99999999')", 17],
    ["no day", "WHERE _TABLE_SUFFIX = '20231231'", 0],
  ];
  let engine: DuckDBEngine;
  before(async () => {
    engine = await DuckDBEngine.open({ path: ":memory:", threads: 1 });
    await engine.runNative(`CREATE SCHEMA one; CREATE SCHEMA days; CREATE TABLE one.ga4_events (event_name VARCHAR, _TABLE_SUFFIX VARCHAR)`);
    for (const [name, suffix] of ROWS) {
      await engine.runNative(`INSERT INTO one.ga4_events VALUES ('${name}', '${suffix}')`);
      await engine.runNative(`CREATE TABLE IF NOT EXISTS days."events_${suffix}" (event_name VARCHAR); INSERT INTO days."events_${suffix}" VALUES ('${name}')`);
    }
    await engine.prepareDeclarations([{ database: "p", schema: "one", name: "events_*" }, { database: "p", schema: "days", name: "events_*" }]);
  });
  after(async () => engine?.close());

  for (const [what, where, bytes] of CASES_ONE) {
    it(`bills ${what} as the same day tables: ${bytes} bytes`, async () => {
      for (const ds of ["one", "days"]) {
        assert.equal((await engine.dryRun(`SELECT event_name FROM \`p.${ds}.events_*\` ${where}`, { action: "t" })).bytesProcessed, bytes, ds);
      }
    });
  }

  it("bills nothing for reading _TABLE_SUFFIX alone", async () => {
    for (const ds of ["one", "days"]) {
      assert.equal((await engine.dryRun(`SELECT DISTINCT _TABLE_SUFFIX AS s FROM \`p.${ds}.events_*\``, { action: "t" })).bytesProcessed, 0, ds);
    }
  });
});
