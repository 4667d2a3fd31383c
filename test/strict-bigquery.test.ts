/**
 * The strict local BigQuery (test/support/strict-bigquery.ts): queries, scripts and load jobs run on
 * an in-memory DuckDB behind the real @google-cloud/bigquery client, and BigQuery's documented rules
 * are enforced. One test per rule; each would pass on the scripted fake, which enforces none.
 */
import assert from "node:assert/strict";
import { EngineError, type Engine } from "../src/engines/engine.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./support/strict-bigquery.ts";
import { TableListing } from "../src/engines/table-listing.ts";

const P = "acme";

describe("strict local BigQuery (executes on DuckDB, enforces BigQuery's rules)", function () {
  this.timeout(60_000);
  let bq: StrictBigQuery;
  let engine: Engine;
  let clock: number;

  before(async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    bq = await startStrictBigQuery({ projectId: P, location: "EU", now: () => clock });
    engine = bq.engine({ fastRetries: true });
  });
  after(async () => {
    await bq?.close();
  });
  beforeEach(async () => {
    clock += 86_400_000; // a new day: quota counters start afresh
    Object.assign(bq.quotas, { tableOperationsPerDay: 1500, metadataUpdatesPerWindow: 1000, metadataWindowMs: 10_000 });
    for (const d of ["d", "us_data"]) if (bq.datasets.has(`${P}.${d}`)) await bq.duck.runNative(`DROP SCHEMA IF EXISTS "${P}/${d}" CASCADE`);
    bq.datasets.clear();
    bq.addDataset("d", "EU");
    await bq.createTable(`${P}.d.t`, [{ name: "day", type: "DATE" }, { name: "n", type: "INT64" }], [
      { day: "2026-01-01", n: 1 },
      { day: "2026-01-02", n: 2 },
    ]);
  });

  const failure = async (p: Promise<unknown>): Promise<EngineError> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof EngineError, String(e));
      return e;
    }
    assert.fail("expected an EngineError");
  };

  it("executes queries, CTAS and loads end to end through the real client", async () => {
    await engine.execute(["CREATE OR REPLACE TABLE `acme.d.u` AS SELECT day, n * 10 AS m FROM `acme.d.t`"]);
    assert.deepEqual(await engine.query("SELECT day, m FROM `acme.d.u` ORDER BY day"), [
      { day: "2026-01-01", m: 10 },
      { day: "2026-01-02", m: 20 },
    ]);
    await engine.writeRows({ database: P, schema: "d", name: "w" }, [{ name: "k", type: "STRING" }, { name: "xs", type: "INT64", mode: "REPEATED" }], [{ k: "a", xs: [1, 2] }], { mode: "replace" });
    assert.deepEqual(await engine.query("SELECT k, ARRAY_LENGTH(xs) AS n FROM `acme.d.w`"), [{ k: "a", n: 2 }]);
    assert.deepEqual((await engine.tableSchema({ database: P, schema: "d", name: "w" })).map((c) => `${c.name} ${c.type} ${c.mode}`), ["k STRING NULLABLE", "xs INT64 REPEATED"]);
  });

  it("lists a dataset's tables page by page with describeTable's answer for each (tables.list); a missing dataset has none", async () => {
    // 55 objects: more than one page of the endpoint's 50 (the client follows nextPageToken).
    const creates = Array.from({ length: 52 }, (_, i) => `CREATE TABLE \`acme.d.t${String(i).padStart(2, "0")}\` (x INT64)`);
    await engine.execute([
      ...creates,
      "CREATE TABLE `acme.d.by_day` (day DATE, n INT64) PARTITION BY day",
      "CREATE VIEW `acme.d.v` AS SELECT n FROM `acme.d.t`",
    ]);
    bq.clearRequests();
    const shapes = (await engine.tableShapesIn!(P, "d"))!;
    assert.equal(bq.requestsTo("tables.list").length, 2, "two pages");
    assert.equal(bq.requestsTo("tables.get").length, 0);
    assert.equal(shapes.size, 55);
    for (const name of ["t", "t00", "t51", "by_day", "v"]) {
      assert.deepEqual(shapes.get(name), await engine.describeTable({ database: P, schema: "d", name }), name);
    }
    assert.deepEqual([shapes.get("by_day"), shapes.get("v")], [{ kind: "table", partitioning: "DAY(day)" }, { kind: "view" }]);
    assert.deepEqual(await engine.tableShapesIn!(P, "no_such_dataset"), new Map());
    // Without the permission to list (a custom role with tables.get only), no listing: the run asks table by table.
    bq.failNext("tables.list", { status: 403, reason: "accessDenied", message: "Access Denied: Dataset acme:d: Permission bigquery.tables.list denied" }, 2);
    assert.equal(await engine.tableShapesIn!(P, "d"), undefined);
    const tables = new TableListing(engine);
    await tables.list([{ database: P, schema: "d", name: "v" }]);
    assert.deepEqual(await tables.describe({ database: P, schema: "d", name: "v" }), { kind: "view" });
    assert.equal(bq.requestsTo("tables.get").length, 6, "five above, and the view's now");
  });

  it("analyzes every statement with ZetaSQL: DuckDB-only syntax is rejected as invalid GoogleSQL", async () => {
    const e = await failure(engine.query("SELECT n::VARCHAR AS s FROM `acme.d.t`"));
    assert.match(e.message, /invalidQuery/);
    assert.ok(bq.analysis.statements > 0);
  });

  it("fails a reference to a missing table with BigQuery's Not found message", async () => {
    const e = await failure(engine.query("SELECT * FROM `acme.d.missing`"));
    assert.match(e.message, /notFound.*Not found: Table acme:d\.missing was not found in location EU/);
  });

  it("fails a job whose location differs from its dataset's (Not found: Dataset … in location)", async () => {
    bq.addDataset("us_data", "US");
    await bq.createTable(`${P}.us_data.x`, [{ name: "a", type: "INT64" }], [{ a: 1 }]);
    bq.datasets.set(`${P}.us_data`, { location: "US" });
    const e = await failure(engine.query("SELECT a FROM `acme.us_data.x`"));
    assert.match(e.message, /Not found: Dataset acme:us_data was not found in location EU/);
  });

  it("commits DML statements of a script one by one outside a transaction: a failure after a DELETE leaves the DELETE", async () => {
    await failure(engine.query("DELETE FROM `acme.d.t` WHERE day = '2026-01-01';\nINSERT INTO `acme.d.t` (day, n) SELECT DATE '2026-01-01', ERROR('boom')"));
    assert.deepEqual((await bq.rows(`${P}.d.t`)).map((r) => r.n), [2]);
  });

  it("rolls back a DECLARE-first script's BEGIN TRANSACTION … COMMIT TRANSACTION on failure", async () => {
    const script = [
      "DECLARE cutoff DATE DEFAULT (SELECT MIN(day) FROM `acme.d.t`)",
      "BEGIN TRANSACTION",
      "DELETE FROM `acme.d.t` WHERE day = cutoff",
      "INSERT INTO `acme.d.t` (day, n) SELECT cutoff, ERROR('boom')",
      "COMMIT TRANSACTION",
    ].join(";\n");
    await failure(engine.query(script));
    assert.deepEqual((await bq.rows(`${P}.d.t`)).map((r) => r.n).sort(), [1, 2]);
    await engine.query(script.replace("ERROR('boom')", "100"));
    assert.deepEqual((await bq.rows(`${P}.d.t`)).map((r) => r.n).sort((a, b) => Number(a) - Number(b)), [2, 100]);
  });

  it("refuses DECLARE after another statement and permanent DDL inside a transaction", async () => {
    let e = await failure(engine.query("SELECT 1 AS x;\nDECLARE y INT64 DEFAULT 1;\nSELECT y AS y"));
    assert.match(e.message, /Variable declarations are allowed only at the start/);
    e = await failure(engine.query("BEGIN TRANSACTION;\nCREATE OR REPLACE TABLE `acme.d.z` AS SELECT 1 AS a;\nCOMMIT TRANSACTION"));
    assert.match(e.message, /not supported inside a multi-statement transaction/);
  });

  it("runs temporary SQL functions defined earlier in the same script, and forgets them when the script ends", async () => {
    // The example of https://cloud.google.com/bigquery/docs/user-defined-functions (SQL UDFs), over a table.
    await engine.execute([
      "CREATE TEMP FUNCTION AddFourAndDivide(x INT64, y INT64) RETURNS FLOAT64 AS ((x + 4) / y)",
      "CREATE TEMP FUNCTION Twice(x FLOAT64) AS (2 * AddFourAndDivide(CAST(x AS INT64), 2))",
      "CREATE OR REPLACE TABLE `acme.d.u` AS SELECT n, AddFourAndDivide(n, 2) AS a, Twice(n) AS b FROM `acme.d.t`",
    ]);
    assert.deepEqual(await engine.query("SELECT n, a, b FROM `acme.d.u` ORDER BY n"), [
      { n: 1, a: 2.5, b: 5 },
      { n: 2, a: 3, b: 6 },
    ]);
    assert.deepEqual((await engine.tableSchema({ database: P, schema: "d", name: "u" })).map((c) => c.type), ["INT64", "FLOAT64", "FLOAT64"]);
    // Another job: the function ended with its script.
    const gone = await failure(engine.query("SELECT AddFourAndDivide(n, 2) AS a FROM `acme.d.t`"));
    assert.match(gone.message, /Function not found: AddFourAndDivide/i);
  });

  it("refuses a temporary function used before its definition, without argument types, defined twice, or in JavaScript", async () => {
    const before = await failure(engine.execute(["CREATE OR REPLACE TABLE `acme.d.u` AS SELECT Half(n) AS h FROM `acme.d.t`", "CREATE TEMP FUNCTION Half(x INT64) AS (x / 2)"]));
    assert.match(before.message, /Function not found: Half/i);
    const untyped = await failure(engine.execute(["CREATE TEMP FUNCTION Half(x) AS (x / 2)", "SELECT Half(n) FROM `acme.d.t`"]));
    assert.match(untyped.message, /parameter x of Half without a type/);
    const twice = await failure(engine.execute(["CREATE TEMP FUNCTION Half(x INT64) AS (x / 2)", "CREATE TEMP FUNCTION Half(x INT64) AS (x / 3)", "SELECT Half(n) FROM `acme.d.t`"]));
    assert.match(twice.message, /Half already exists/);
    await engine.execute(["CREATE TEMP FUNCTION Half(x INT64) AS (x / 2)", "CREATE OR REPLACE TEMP FUNCTION Half(x INT64) AS (x / 4)", "CREATE OR REPLACE TABLE `acme.d.u` AS SELECT Half(n) AS h FROM `acme.d.t`"]);
    assert.deepEqual(await engine.query("SELECT h FROM `acme.d.u` ORDER BY h"), [{ h: 0.25 }, { h: 0.5 }]);
    const js = await failure(engine.execute(["CREATE TEMP FUNCTION Half(x FLOAT64) RETURNS FLOAT64 LANGUAGE js AS r'''return x / 2;'''", "SELECT Half(n) FROM `acme.d.t`"]));
    assert.match(js.message, /JavaScript user-defined function.*does not translate/);
    const typed = await failure(engine.execute(["CREATE TEMP FUNCTION Half(x INT64) AS (x / 2)", "SELECT Half('a') FROM `acme.d.t`"]));
    assert.match(typed.message, /No matching signature for function (UDF:)?HALF/i);
  });

  it("refuses CREATE OR REPLACE that turns a table into a view or changes its partitioning", async () => {
    await engine.execute(["CREATE OR REPLACE TABLE `acme.d.p` PARTITION BY day AS SELECT day, n FROM `acme.d.t`"]);
    let e = await failure(engine.execute(["CREATE OR REPLACE VIEW `acme.d.p` AS SELECT 1 AS a"]));
    assert.match(e.message, /is a table; CREATE OR REPLACE VIEW cannot replace a table/);
    e = await failure(engine.execute(["CREATE OR REPLACE TABLE `acme.d.p` AS SELECT day, n FROM `acme.d.t`"]));
    assert.match(e.message, /Cannot replace a table with a different partitioning spec.*New partitioning spec is none and existing spec is day/);
    await engine.execute(["CREATE OR REPLACE TABLE `acme.d.p` PARTITION BY day AS SELECT day, n FROM `acme.d.t`"]);
  });

  it("counts table operations: past the daily quota a write fails with quotaExceeded, not retried", async () => {
    bq.quotas.tableOperationsPerDay = 2;
    await engine.execute(["INSERT INTO `acme.d.t` (day, n) VALUES (DATE '2026-02-01', 3)"]);
    await engine.execute(["INSERT INTO `acme.d.t` (day, n) VALUES (DATE '2026-02-02', 4)"]);
    const before = bq.requestsTo("jobs.insert").length;
    const e = await failure(engine.execute(["INSERT INTO `acme.d.t` (day, n) VALUES (DATE '2026-02-03', 5)"]));
    assert.match(e.message, /quotaExceeded/);
    assert.equal(e.retryable, false);
    assert.equal(bq.requestsTo("jobs.insert").length - before, 1, "a quotaExceeded job is not resubmitted");
  });

  it("limits the rate of table updates (rateLimitExceeded inside the window, fine after it)", async () => {
    bq.quotas.metadataUpdatesPerWindow = 1;
    const schema = [{ name: "a", type: "INT64" as const }];
    await engine.writeRows({ database: P, schema: "d", name: "h" }, schema, [{ a: 1 }], { mode: "append" });
    const e = await failure(engine.writeRows({ database: P, schema: "d", name: "h" }, schema, [{ a: 2 }], { mode: "append" }));
    assert.match(e.message, /rateLimitExceeded.*too many table update operations/);
    clock += 11_000;
    await engine.writeRows({ database: P, schema: "d", name: "h" }, schema, [{ a: 3 }], { mode: "append" });
    assert.deepEqual((await bq.rows(`${P}.d.h`)).map((r) => r.a), [1, 3]);
  });

  it("dry runs change nothing and report the bytes the statements would scan", async () => {
    const ops = JSON.stringify([...bq.tableOperations]);
    const r = await engine.dryRun("CREATE OR REPLACE TABLE `acme.d.dry` AS SELECT * FROM `acme.d.t`;\nDELETE FROM `acme.d.t` WHERE TRUE;\nINSERT INTO `acme.d.dry` (day, n) SELECT day, n FROM `acme.d.t`");
    assert.ok((r.bytesProcessed ?? 0) > 0);
    assert.equal(await engine.tableExists({ database: P, schema: "d", name: "dry" }), false);
    assert.equal((await bq.rows(`${P}.d.t`)).length, 2);
    assert.equal(JSON.stringify([...bq.tableOperations]), ops, "a dry run counts no table operation");
  });

  it("validates load jobs against the schema: types, REPEATED arrays, RECORD objects, schemaUpdateOptions", async () => {
    const t = { database: P, schema: "d", name: "l" };
    await engine.writeRows(t, [{ name: "a", type: "INT64" }], [{ a: 1 }], { mode: "replace" });
    const bad = async (fields: import("../src/engines/engine.ts").ColumnSchema[], rows: import("../src/engines/engine.ts").Row[], re: RegExp) => {
      const e = await failure(engine.writeRows(t, fields, rows, { mode: "append" }));
      assert.match(e.message, re);
    };
    await bad([{ name: "a", type: "INT64" }], [{ a: "x" }], /Could not parse 'x' as INT64/);
    await bad([{ name: "a", type: "STRING" }], [{ a: "2" }], /has changed type/);
    assert.deepEqual((await bq.rows(`${P}.d.l`)).map((r) => r.a), [1]);
    // An append that adds a field without schemaUpdateOptions (the engine always sends them; a raw load does not).
    const boundary = "b0undary";
    const job = { jobReference: { projectId: P, jobId: "raw_load_1", location: "EU" }, configuration: { load: {
      destinationTable: { projectId: P, datasetId: "d", tableId: "l" }, sourceFormat: "NEWLINE_DELIMITED_JSON", writeDisposition: "WRITE_APPEND",
      schema: { fields: [{ name: "a", type: "INT64" }, { name: "b", type: "STRING" }] } } } };
    const body = `--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(job)}\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n{"a":2,"b":"new"}\n\r\n--${boundary}--\r\n`;
    const res = await fetch(`${bq.url}/upload/bigquery/v2/projects/${P}/jobs?uploadType=multipart`, {
      method: "POST", body, headers: { "Content-Type": `multipart/related; boundary=${boundary}`, Authorization: `Bearer ${bq.accessToken}` },
    });
    const inserted = (await res.json()) as { status?: { errorResult?: { message?: string } } };
    assert.match(inserted.status?.errorResult?.message ?? "", /Cannot add fields \(field: b\)/);
    // REPEATED and RECORD shapes, checked on the NDJSON the load carries (what BigQuery reads).
    const r = { database: P, schema: "d", name: "nested" };
    const nested = [{ name: "xs", type: "INT64" as const, mode: "REPEATED" as const }, { name: "s", type: "RECORD" as const, fields: [{ name: "k", type: "STRING" as const }] }];
    await engine.writeRows(r, nested, [{ xs: [1], s: { k: "v" } }], { mode: "replace" });
    assert.deepEqual(await engine.query("SELECT xs[OFFSET(0)] AS x, s.k AS k FROM `acme.d.nested`"), [{ x: 1, k: "v" }]);
  });

  it("appends rows whose schema gained a column, and keeps NaN and infinities (regression: no schemaUpdateOptions; NaN became NULL)", async () => {
    const t = { database: P, schema: "d", name: "metrics" };
    await engine.writeRows(t, [{ name: "metric", type: "STRING" }, { name: "value", type: "FLOAT64" }], [{ metric: "auc", value: 0.7 }], { mode: "replace" });
    await engine.writeRows(t, [{ name: "metric", type: "STRING" }, { name: "value", type: "FLOAT64" }, { name: "fold", type: "INT64" }], [
      { metric: "log_loss", value: Number.NaN, fold: 1 },
      { metric: "lift", value: Number.POSITIVE_INFINITY, fold: 2 },
    ], { mode: "append" });
    const rows = await engine.query("SELECT metric, value, fold FROM `acme.d.metrics` ORDER BY metric");
    assert.deepEqual(rows.map((r) => r.metric), ["auc", "lift", "log_loss"]);
    assert.equal(rows[1]!.value, Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(rows[2]!.value), `NaN kept, got ${rows[2]!.value}`);
    assert.deepEqual(rows.map((r) => r.fold), [null, 2, 1]);
  });

  it("keeps job ids unique per project: a second job under a used id is refused (409), not run", async () => {
    await engine.execute(["INSERT INTO `acme.d.t` (day, n) VALUES (DATE '2026-03-01', 7)"], { jobId: "same_id" });
    const e = await failure(engine.execute(["INSERT INTO `acme.d.t` (day, n) VALUES (DATE '2026-03-02', 8)"], { jobId: "same_id" }));
    assert.match(e.message, /already belongs to a different job/);
    assert.deepEqual((await bq.rows(`${P}.d.t`)).map((r) => r.n).sort(), [1, 2, 7]);
  });

  it("keeps fault injection: a lost insert answer attaches to the job that ran once", async () => {
    bq.failNext("jobs.insert", { status: 503, applied: true });
    await engine.execute(["INSERT INTO `acme.d.t` (day, n) VALUES (DATE '2026-04-01', 9)"], { jobId: "lost_answer" });
    assert.deepEqual((await bq.rows(`${P}.d.t`)).map((r) => r.n).sort(), [1, 2, 9]);
  });
});

describe("BigQuery engine on the strict local BigQuery: partition replacement is atomic", function () {
  this.timeout(60_000);
  let bq: StrictBigQuery;
  let engine: Engine;
  before(async () => {
    bq = await startStrictBigQuery({ projectId: P, location: "EU" });
    engine = bq.engine();
    await bq.createTable(`${P}.d.events`, [{ name: "day", type: "DATE" }, { name: "n", type: "INT64" }], [
      { day: "2026-01-01", n: 1 },
      { day: "2026-01-02", n: 2 },
      { day: "2026-01-03", n: 3 },
    ]);
  });
  after(async () => {
    await bq?.close();
  });

  it("keeps the old partitions when the INSERT after a DECLARE pre-operation and the DELETE fails (regression: the DELETE committed alone)", async () => {
    // The shape of an incremental stg_ga4_events run: DECLARE (pre-operation), DELETE the re-processed days, INSERT them again.
    const statements = [
      "DECLARE first_day DATE DEFAULT (SELECT DATE_SUB(MAX(day), INTERVAL 1 DAY) FROM `acme.d.events`);",
      "DELETE FROM `acme.d.events` WHERE day IN (SELECT DISTINCT day FROM `acme.d.events` WHERE day >= first_day)",
      "INSERT INTO `acme.d.events` (day, n)\nSELECT first_day AS day, ERROR('the rebuild failed') AS n",
    ];
    await assert.rejects(engine.execute(statements, { action: "stg_events" }), /the rebuild failed/);
    assert.deepEqual((await bq.rows(`${P}.d.events`)).map((r) => r.n).sort(), [1, 2, 3]);
  });
});

describe("runner on the strict local BigQuery: run history within BigQuery's table quotas", function () {
  this.timeout(120_000);
  let bq: StrictBigQuery;
  let engine: Engine;
  before(async () => {
    bq = await startStrictBigQuery({ projectId: P, location: "EU" });
    engine = bq.engine({ fastRetries: true });
  });
  after(async () => {
    await bq?.close();
  });

  it("creates run_history up front and writes it once per DAG level, not a load job per action (regression: rate limit and Not found)", async () => {
    const { loadProjectSettings } = await import("../src/config/settings.ts");
    const { runGraph } = await import("../src/runner/runner.ts");
    const { LocalArtifactStore } = await import("../src/artifacts/store.ts");
    const { PROJECT_DIR } = await import("./support/warehouse.ts");
    const os = await import("node:os");
    const settings = loadProjectSettings(PROJECT_DIR).settings;
    const meta = settings.datasets.meta;
    const t = (name: string) => ({ database: P, schema: "fc", name });
    // Ten tables in one level (run 4 at a time), then a view over the run history (like rpt_run_history).
    const actions = [
      ...Array.from({ length: 10 }, (_, i) => ({ name: `fc.t${i}`, kind: "table" as const, target: t(`t${i}`), dependencies: [], tags: [], query: `SELECT ${i} AS i` })),
      { name: "fc.history_view", kind: "view" as const, target: t("history_view"), dependencies: ["fc.t0"], tags: [], query: `SELECT run_id, action, status FROM \`${P}.${meta}.run_history\`` },
    ];
    const graph = { actions, projectConfig: { defaultDatabase: P, defaultSchema: "fc", assertionSchema: "fc_assertions", vars: {} } };
    const run = await runGraph({ graph, engine, settings, artifacts: new LocalArtifactStore(os.tmpdir()), runId: "r_quota" });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions.filter((a) => a.status !== "succeeded")));
    assert.deepEqual(run.warnings, []);
    const history = await bq.rows(`${P}.${meta}.run_history`);
    assert.equal(history.length, 11);
    const historyLoads = bq.requestsTo("jobs.insert").filter((r) => JSON.stringify(r.body).includes('"tableId":"run_history"'));
    assert.ok(historyLoads.length <= 2, `${historyLoads.length} load jobs into run_history for 2 DAG levels`);
  });
});

describe("runner on the strict local BigQuery: a model that changes kind or partitioning is dropped and created again", function () {
  this.timeout(120_000);
  let bq: StrictBigQuery;
  let engine: Engine;
  before(async () => {
    bq = await startStrictBigQuery({ projectId: P, location: "EU" });
    engine = bq.engine({ fastRetries: true });
    // Many rebuilds of one table in a few seconds: BigQuery's per-table update rate is tested above.
    Object.assign(bq.quotas, { metadataUpdatesPerWindow: 1000 });
    bq.addDataset("src", "EU");
    await bq.createTable(`${P}.src.ev`, [{ name: "day", type: "DATE" }, { name: "n", type: "INT64" }], [
      { day: "2026-01-01", n: 1 },
      { day: "2026-01-02", n: 2 },
    ]);
  });
  after(async () => {
    await bq?.close();
  });

  const runAs = async (extra: Record<string, unknown>, query = `SELECT day, n FROM \`${P}.src.ev\``) => {
    const { loadProjectSettings } = await import("../src/config/settings.ts");
    const { runGraph } = await import("../src/runner/runner.ts");
    const { LocalArtifactStore } = await import("../src/artifacts/store.ts");
    const { PROJECT_DIR } = await import("./support/warehouse.ts");
    const os = await import("node:os");
    const settings = loadProjectSettings(PROJECT_DIR).settings;
    const actions = [
      { name: "src.ev", kind: "declaration" as const, target: { database: P, schema: "src", name: "ev" }, dependencies: [], tags: [] },
      { name: "fc.m", kind: "table" as const, target: { database: P, schema: "fc", name: "m" }, dependencies: ["src.ev"], tags: [], query, ...extra },
    ];
    const graph = { actions, projectConfig: { defaultDatabase: P, defaultSchema: "fc", assertionSchema: "fc_assertions", vars: {} } };
    return runGraph({ graph: graph as never, engine, settings, artifacts: new LocalArtifactStore(os.tmpdir()), recordHistory: false });
  };
  const shape = async () => {
    const [meta] = await (await import("@google-cloud/bigquery")).BigQuery.prototype.dataset.call(
      new (await import("@google-cloud/bigquery")).BigQuery({ projectId: P, apiEndpoint: bq.url, authClient: bq.authClient() } as never), "fc").table("m").getMetadata();
    return `${meta.type}${meta.timePartitioning ? ` ${meta.timePartitioning.type}(${meta.timePartitioning.field})` : ""}`;
  };

  it("re-runs a table action as a view and back (regression: CREATE OR REPLACE VIEW cannot replace a table)", async () => {
    for (const [extra, want] of [[{ kind: "table" }, "TABLE"], [{ kind: "view" }, "VIEW"], [{ kind: "table" }, "TABLE"], [{ kind: "view" }, "VIEW"], [{ kind: "incremental", uniqueKey: ["day"] }, "TABLE"]] as const) {
      const run = await runAs(extra);
      assert.equal(run.status, "succeeded", `${extra.kind}: ${JSON.stringify(run.actions)}`);
      assert.equal(await shape(), want, extra.kind);
      assert.deepEqual((await bq.rows(`${P}.fc.m`)).map((r) => Number(r.n)).sort(), [1, 2], extra.kind);
    }
  });

  it("re-runs a table whose partitioning changes: added, changed, removed (regression: Cannot replace a table with a different partitioning spec)", async () => {
    const q = `SELECT day, n, day AS day2 FROM \`${P}.src.ev\``;
    for (const [partitionBy, want] of [[undefined, "TABLE"], ["day", "TABLE DAY(day)"], ["day", "TABLE DAY(day)"], ["DATE(day2)", "TABLE DAY(day2)"], [undefined, "TABLE"]] as const) {
      const run = await runAs({ kind: "table", ...(partitionBy ? { partitionBy } : {}) }, q);
      assert.equal(run.status, "succeeded", `${partitionBy}: ${JSON.stringify(run.actions)}`);
      assert.equal(await shape(), want, String(partitionBy));
      assert.deepEqual((await bq.rows(`${P}.fc.m`)).map((r) => Number(r.n)).sort(), [1, 2]);
    }
    // Same spec: replaced in place, no DROP submitted.
    const drops = bq.requestsTo("jobs.insert").filter((r) => /DROP TABLE/.test(JSON.stringify(r.body))).length;
    await runAs({ kind: "table" }, q);
    assert.equal(bq.requestsTo("jobs.insert").filter((r) => /DROP TABLE/.test(JSON.stringify(r.body))).length, drops);
  });

  it("keeps the old object when the new query cannot run: it is dry-run before the DROP", async () => {
    assert.equal((await runAs({ kind: "table" })).status, "succeeded");
    const run = await runAs({ kind: "view" }, `SELECT day, missing_column FROM \`${P}.src.ev\``);
    assert.equal(run.status, "failed");
    assert.match(run.actions.find((a) => a.action === "fc.m")!.error!, /missing_column/);
    assert.equal(await shape(), "TABLE");
    assert.deepEqual((await bq.rows(`${P}.fc.m`)).map((r) => Number(r.n)).sort(), [1, 2]);
  });
});

describe("strict local BigQuery: script syntax", function () {
  this.timeout(60_000);
  let bq: StrictBigQuery;
  let engine: Engine;
  before(async () => {
    bq = await startStrictBigQuery({ projectId: P, location: "EU", analyze: false });
    engine = bq.engine();
  });
  after(async () => {
    await bq?.close();
  });

  it("rejects an empty statement between two semicolons, in runs and dry runs", async () => {
    await assert.rejects(engine.dryRun("SELECT 1 AS a;;\nSELECT 2 AS b"), /Unexpected ";"/);
    await assert.rejects(engine.query("SELECT 1 AS a;\n;SELECT 2 AS b"), /Unexpected ";"/);
    assert.deepEqual(await engine.query("SELECT 1 AS a;\nSELECT 2 AS b;"), [{ b: 2 }]);
  });
});
