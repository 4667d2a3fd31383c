/**
 * The BigQuery engine, driven through the real @google-cloud/bigquery client against the local
 * REST endpoint (test/support/fake-bigquery.ts). Sleeps are recorded, not slept; jitter is fixed.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { BigQuery } from "@google-cloud/bigquery";
import { EngineError, type ColumnSchema, type Engine, type Row } from "../src/engines/engine.ts";
import { createBigQueryEngine, buildScript, type BigQueryConfig } from "../src/engines/bigquery/engine.ts";
import { backoffDelayMs } from "../src/engines/bigquery/retry.ts";
import { sanitizeJobId, sanitizeLabels } from "../src/engines/bigquery/values.ts";
import { Logger } from "../src/util/logger.ts";
import { startFakeBigQuery, type Fault, type FakeBigQuery } from "./support/fake-bigquery.ts";

const PROJECT = "acme-analytics";

describe("BigQuery engine (real client, local REST endpoint)", () => {
  let fake: FakeBigQuery;
  let engine: Engine;
  let sleeps: number[];
  let logLines: string[];

  function makeEngine(overrides: Partial<BigQueryConfig> = {}, client?: BigQuery): Engine {
    const cfg: BigQueryConfig = {
      projectId: PROJECT,
      location: "EU",
      apiEndpoint: fake.url,
      labels: { team: "Growth" },
      maximumBytesBilled: "1000000000",
      jobTimeoutMs: 600_000,
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 },
      pageSize: 10,
      ...overrides,
    };
    return createBigQueryEngine(cfg, {
      client,
      authClient: client ? undefined : fake.authClient(),
      logger: new Logger({ level: "debug", sink: (l) => logLines.push(l) }),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    });
  }

  beforeEach(async () => {
    fake = await startFakeBigQuery({ projectId: PROJECT, location: "EU" });
    sleeps = [];
    logLines = [];
    engine = makeEngine();
  });
  afterEach(async () => {
    await fake.close();
  });

  const jobInserts = () => fake.requestsTo("jobs.insert");
  const insertBody = (i = 0) =>
    jobInserts()[i]!.body as {
      jobReference: { jobId: string; location: string; projectId: string };
      configuration: {
        query?: { query: string; maximumBytesBilled?: string; useLegacySql?: boolean };
        load?: Record<string, unknown>;
        labels?: Record<string, string>;
        dryRun?: boolean;
        jobTimeoutMs?: string;
      };
    };

  it("declares dry-run bytes, parallel actions and partitions", () => {
    assert.deepEqual(engine.capabilities, { dryRunBytes: true, parallelActions: true, partitions: true, tableWriteQuotas: true });
    assert.equal(engine.kind, "bigquery");
  });

  describe("job submission", () => {
    it("submits one job with labels, maximumBytesBilled, jobTimeoutMs and location", async () => {
      fake.setResult("CREATE OR REPLACE TABLE `acme-analytics.fc.sessions` AS SELECT 1 AS x", {});
      const res = await engine.execute(["CREATE OR REPLACE TABLE `acme-analytics.fc.sessions` AS SELECT 1 AS x"], {
        action: "sessions",
        jobId: "run-42.sessions",
        labels: { "Run ID": "42" },
      });
      assert.equal(jobInserts().length, 1);
      const body = insertBody();
      assert.deepEqual(body.jobReference, { projectId: PROJECT, jobId: "run-42_sessions", location: "EU" });
      assert.equal(body.configuration.query?.maximumBytesBilled, "1000000000");
      assert.equal(body.configuration.query?.useLegacySql, false);
      assert.equal(body.configuration.jobTimeoutMs, "600000");
      assert.deepEqual(body.configuration.labels, { team: "growth", run_id: "42", funnelcredit_action: "sessions" });
      assert.equal(res.jobId, "run-42_sessions");
      assert.equal(jobInserts()[0]!.authorization, `Bearer ${fake.accessToken}`);
    });

    it("uses the caller's job id, sanitised, so the same action gets the same id", async () => {
      await engine.execute(["CREATE TABLE `acme-analytics.fc.a` (x INT64)"], { action: "a", jobId: "run 7/stg.events:v2" });
      assert.equal(insertBody().jobReference.jobId, "run_7_stg_events_v2");
      assert.equal(sanitizeJobId("ok-ID_09"), "ok-ID_09");
      assert.equal(sanitizeJobId("x".repeat(2000)).length, 1024);
    });

    it("sanitises labels to BigQuery's rules (the endpoint rejects invalid ones)", async () => {
      assert.deepEqual(sanitizeLabels({ "9lives": "Mixed Case!", Env: "PROD" }), { l_9lives: "mixed_case_", env: "prod" });
      assert.equal(Object.keys(sanitizeLabels({ ["k".repeat(80)]: "v".repeat(80) }))[0]!.length, 63);
      await engine.execute(["CREATE TABLE `acme-analytics.fc.b` (x INT64)"], { action: "Stg Events/v2", labels: { "Ünïcode key": "Wert ß" } });
      assert.deepEqual(insertBody().configuration.labels, {
        team: "growth",
        l__n_code_key: "wert__",
        funnelcredit_action: "stg_events_v2",
      });
    });

    it("runs several DML statements as one transaction script", () => {
      assert.equal(
        buildScript(["INSERT INTO t VALUES (1);", "DELETE FROM t WHERE x = 2"]),
        "BEGIN TRANSACTION;\nINSERT INTO t VALUES (1);\nDELETE FROM t WHERE x = 2;\nCOMMIT TRANSACTION;",
      );
      assert.equal(buildScript(["CREATE OR REPLACE TABLE t AS SELECT 1", "INSERT INTO t VALUES (2)"]), "CREATE OR REPLACE TABLE t AS SELECT 1;\nINSERT INTO t VALUES (2)");
      assert.equal(buildScript(["SELECT 1"]), "SELECT 1");
      // Variables first, then the transaction (a DECLARE pre-operation used to leave the DML without one).
      assert.equal(
        buildScript(["DECLARE d DATE DEFAULT CURRENT_DATE();", "DELETE FROM t WHERE x = d;;", "INSERT INTO t VALUES (2) -- new rows"]),
        "DECLARE d DATE DEFAULT CURRENT_DATE();\nBEGIN TRANSACTION;\nDELETE FROM t WHERE x = d;\nINSERT INTO t VALUES (2) -- new rows\n;\nCOMMIT TRANSACTION;",
      );
    });

    it("reports rows affected and bytes of a single DML statement", async () => {
      fake.setResult(/^DELETE/, { numDmlAffectedRows: 7, totalBytesProcessed: 4096 });
      const res = await engine.execute(["DELETE FROM `acme-analytics.fc.t` WHERE day < '2024-01-01'"], { action: "cleanup" });
      assert.equal(res.rowsAffected, 7);
      assert.equal(res.bytesProcessed, 4096);
    });

    it("sums rows affected over a script's child jobs", async () => {
      fake.setResult(/^INSERT/, { numDmlAffectedRows: 3, totalBytesProcessed: 100 });
      fake.setResult(/^DELETE/, { numDmlAffectedRows: 4, totalBytesProcessed: 200 });
      const res = await engine.execute(["DELETE FROM `acme-analytics.fc.t` WHERE true", "INSERT INTO `acme-analytics.fc.t` SELECT 1"], { action: "merge" });
      assert.equal(insertBody().configuration.query?.query.startsWith("BEGIN TRANSACTION;"), true);
      assert.equal(res.rowsAffected, 7);
      assert.equal(res.bytesProcessed, 300);
      assert.equal(fake.requestsTo("jobs.list")[0]!.query.parentJobId, res.jobId);
    });
  });

  describe("dry run", () => {
    it("returns the bytes estimate and creates no job", async () => {
      fake.setResult(/FROM `acme-analytics.ga4.events_\*`/, { totalBytesProcessed: 123_456_789 });
      const res = await engine.dryRun("SELECT event_name FROM `acme-analytics.ga4.events_*`", { action: "stg_events" });
      assert.deepEqual(res, { bytesProcessed: 123_456_789 });
      assert.equal(insertBody().configuration.dryRun, true);
      assert.equal(fake.jobs.size, 0);
    });

    it("fails with the SQL and action when the statement is invalid", async () => {
      fake.setResult(/^SELEC /, { error: { reason: "invalidQuery", message: "Syntax error: Unexpected identifier \"SELEC\" at [1:1]" } });
      const err = await engine.dryRun("SELEC 1", { action: "broken" }).then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof EngineError);
      assert.match(err.message, /in action broken.*invalidQuery.*Syntax error/s);
      assert.equal(err.sql, "SELEC 1");
      assert.equal(err.retryable, false);
    });
  });

  describe("query results", () => {
    it("pages through a 25-row result in 3 pages and returns every row exactly once", async () => {
      const rows = Array.from({ length: 25 }, (_, i) => ({ id: i, name: `u${i}` }));
      fake.addTable("fc.users", [{ name: "id", type: "INTEGER" }, { name: "name", type: "STRING" }], rows);
      const got = await engine.query("SELECT * FROM `acme-analytics.fc.users`");
      assert.deepEqual(got, rows);
      const pages = fake.requestsTo("jobs.getQueryResults");
      assert.equal(pages.length, 3);
      assert.equal(pages[0]!.query.pageToken, undefined);
      assert.ok(pages[1]!.query.pageToken && pages[2]!.query.pageToken && pages[1]!.query.pageToken !== pages[2]!.query.pageToken);
      assert.ok(pages.every((p) => p.query.maxResults === "10" && p.query.location === "EU"));
    });

    it("normalises values to plain JS: INT64, NUMERIC, DATE, TIMESTAMP, BOOL, JSON, records and arrays", async () => {
      const schema: ColumnSchema[] = [
        { name: "n", type: "INT64" },
        { name: "big", type: "INT64" },
        { name: "f", type: "FLOAT64" },
        { name: "num", type: "NUMERIC" },
        { name: "b", type: "BOOL" },
        { name: "d", type: "DATE" },
        { name: "ts", type: "TIMESTAMP" },
        { name: "j", type: "JSON" },
        { name: "tags", type: "STRING", mode: "REPEATED" },
        {
          name: "device",
          type: "RECORD",
          fields: [
            { name: "category", type: "STRING" },
            { name: "params", type: "RECORD", mode: "REPEATED", fields: [{ name: "key", type: "STRING" }, { name: "value", type: "INT64" }] },
          ],
        },
        { name: "missing", type: "STRING" },
      ];
      fake.setResult("SELECT * FROM typed", {
        schema,
        rows: [
          {
            n: 42,
            big: 9007199254740993n,
            f: 0.25,
            num: "12.345",
            b: true,
            d: "2024-02-29",
            ts: new Date("2024-03-01T12:34:56.789Z"),
            j: '{"a":[1,2]}',
            tags: ["x", "y"],
            device: { category: "mobile", params: [{ key: "k1", value: 1 }, { key: "k2", value: null }] },
            missing: null,
          },
        ],
      });
      const [row] = await engine.query("SELECT * FROM typed");
      assert.deepEqual(row, {
        n: 42,
        big: 9007199254740993n,
        f: 0.25,
        num: 12.345,
        b: true,
        d: "2024-02-29",
        ts: new Date("2024-03-01T12:34:56.789Z"),
        j: '{"a":[1,2]}',
        tags: ["x", "y"],
        device: { category: "mobile", params: [{ key: "k1", value: 1 }, { key: "k2", value: null }] },
        missing: null,
      });
      // TIMESTAMPs travel as int64 microseconds, which the engine asks for explicitly.
      assert.equal(fake.requestsTo("jobs.getQueryResults")[0]!.query["formatOptions.useInt64Timestamp"], "true");
    });

    it("returns no rows for an empty result", async () => {
      fake.addTable("fc.empty", [{ name: "id", type: "INT64" }], []);
      assert.deepEqual(await engine.query("SELECT * FROM `acme-analytics.fc.empty`"), []);
    });
  });

  describe("retries", () => {
    const transient: Array<[string, Fault]> = [
      ["HTTP 500", { status: 500 }],
      ["HTTP 503", { status: 503 }],
      ["403 rateLimitExceeded", { status: 403, reason: "rateLimitExceeded" }],
      ["500 backendError", { status: 500, reason: "backendError" }],
      ["a reset connection", { reset: true }],
    ];
    for (const [name, fault] of transient) {
      it(`retries a job insert after ${name} with the same job id and succeeds`, async () => {
        fake.failNext("jobs.insert", fault);
        await engine.execute(["CREATE TABLE `acme-analytics.fc.t` (x INT64)"], { action: "t", jobId: "run-1.t" });
        assert.equal(jobInserts().length, 2);
        assert.deepEqual(
          jobInserts().map((r) => (r.body as { jobReference: { jobId: string } }).jobReference.jobId),
          ["run-1_t", "run-1_t"],
        );
        assert.deepEqual(sleeps, [50]); // full jitter: 0.5 · min(1000, 100 · 2^0)
        assert.ok(logLines.some((l) => /transient error, retrying/.test(l) && /"attempt":1/.test(l)));
      });
    }

    it("retries result pages and job polls on transient errors", async () => {
      fake.addTable("fc.users", [{ name: "id", type: "INT64" }], Array.from({ length: 12 }, (_, i) => ({ id: i })));
      fake.nextJob({ runningPolls: 1 });
      fake.failNext("jobs.get", { status: 502 });
      fake.failNext("jobs.getQueryResults", { status: 503 }, 2);
      const rows = await engine.query("SELECT * FROM `acme-analytics.fc.users`");
      assert.equal(rows.length, 12);
      assert.equal(fake.requestsTo("jobs.getQueryResults").length, 4); // 2 failed + 2 pages
    });

    it("gives up after maxAttempts with a retryable EngineError", async () => {
      fake.failNext("jobs.insert", { status: 503 }, 10);
      const err = await engine.execute(["SELECT 1"], { action: "flaky", jobId: "run-1.flaky" }).then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof EngineError);
      assert.equal(err.retryable, true);
      assert.equal(err.jobId, "run-1_flaky");
      assert.match(err.message, /after 4 attempts \(503 backendError\)/);
      assert.equal(jobInserts().length, 4);
      assert.deepEqual(sleeps, [50, 100, 200]);
    });

    it("waits with capped exponential backoff and full jitter", () => {
      const policy = { maxAttempts: 9, baseDelayMs: 100, maxDelayMs: 1000 };
      assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, policy, () => 0.999)), [99, 199, 399, 799, 999, 999]);
      assert.deepEqual([1, 4].map((a) => backoffDelayMs(a, policy, () => 0)), [0, 0]);
    });

    it("attaches to the existing job when a retried insert answers 409, so the SQL runs once", async () => {
      let runs = 0;
      fake.setHandler((sql) => {
        if (sql.startsWith("INSERT")) runs++;
        return { numDmlAffectedRows: 5 };
      });
      // The first insert reaches BigQuery, but its answer is lost.
      fake.failNext("jobs.insert", { status: 503, applied: true });
      const res = await engine.execute(["INSERT INTO `acme-analytics.fc.t` SELECT 1"], { action: "t", jobId: "run-9.t" });
      assert.equal(runs, 1);
      assert.equal(jobInserts().length, 2);
      assert.equal(fake.jobs.size, 1);
      assert.equal(res.rowsAffected, 5);
      assert.equal(res.jobId, "run-9_t");
      assert.ok(fake.requestsTo("jobs.get").length >= 1);
    });

    it("refuses to attach to a job id that ran different SQL", async () => {
      await engine.execute(["CREATE TABLE `acme-analytics.fc.a` (x INT64)"], { action: "a", jobId: "run-1.a" });
      await assert.rejects(
        engine.execute(["CREATE TABLE `acme-analytics.fc.other` (x INT64)"], { action: "a", jobId: "run-1.a" }),
        (e: unknown) => e instanceof EngineError && /job id run-1_a already belongs to a different job/.test(e.message),
      );
    });

    it("resubmits a job that finished with backendError under a derived id", async () => {
      fake.nextJob({ errorResult: { reason: "backendError", message: "Backend error. Please try again." } });
      const res = await engine.execute(["CREATE TABLE `acme-analytics.fc.t` (x INT64)"], { action: "t", jobId: "run-3.t" });
      assert.equal(res.jobId, "run-3_t_retry1");
      assert.deepEqual([...fake.jobs.values()].map((j) => [j.jobId, j.errorResult?.reason ?? "ok"]), [
        ["run-3_t", "backendError"],
        ["run-3_t_retry1", "ok"],
      ]);
    });

    it("turns the client library's own auto-retry off, even on an injected client", async () => {
      // Built the default way: the library would retry a 503 three times by itself.
      const client = new BigQuery({ projectId: PROJECT, location: "EU", apiEndpoint: fake.url, authClient: fake.authClient() });
      const single = makeEngine({ retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }, client);
      fake.failNext("jobs.insert", { status: 503 }, 5);
      await assert.rejects(single.execute(["SELECT 1"], { action: "x" }), EngineError);
      assert.equal(jobInserts().length, 1);
    });
  });

  describe("long jobs", () => {
    it("polls a job that stays RUNNING until it is DONE", async () => {
      fake.addTable("fc.big", [{ name: "id", type: "INT64" }], [{ id: 1 }]);
      fake.nextJob({ runningPolls: 40 });
      const rows = await engine.query("SELECT * FROM `acme-analytics.fc.big`", { action: "big" });
      assert.deepEqual(rows, [{ id: 1 }]);
      assert.equal(fake.requestsTo("jobs.get").length, 41);
      assert.equal(Math.max(...sleeps), 10_000); // poll interval grows, capped at 10 s
      assert.ok(sleeps[0]! < sleeps[5]!);
      assert.ok(logLines.some((l) => /still running/.test(l)));
    });
  });

  describe("non-retryable errors", () => {
    const cases: Array<[string, () => void, RegExp]> = [
      [
        "invalidQuery",
        () => fake.setResult(/^SELECT nope/, { error: { reason: "invalidQuery", message: "Unrecognized name: nope at [1:8]" } }),
        /\(invalidQuery\): Unrecognized name/,
      ],
      [
        "notFound",
        () => fake.setResult(/^SELECT nope/, { error: { reason: "notFound", message: "Not found: Table acme-analytics:fc.nope" } }),
        /notFound.*Not found: Table/,
      ],
      ["accessDenied", () => fake.failNext("jobs.insert", { status: 403, reason: "accessDenied", message: "Access Denied: Project acme-analytics" }), /403 accessDenied/],
      [
        "bytesBilledLimitExceeded",
        () => fake.nextJob({ errorResult: { reason: "bytesBilledLimitExceeded", message: "Query exceeded limit for bytes billed: 1000000000." } }),
        /bytesBilledLimitExceeded/,
      ],
    ];
    for (const [reason, arrange, pattern] of cases) {
      it(`fails fast on ${reason} with the job id, action name and SQL`, async () => {
        arrange();
        const sql = "SELECT nope FROM `acme-analytics.fc.t`";
        const err = await engine.execute([sql], { action: "stg_sessions", jobId: "run-1.stg_sessions" }).then(
          () => assert.fail("expected a failure"),
          (e: unknown) => e,
        );
        assert.ok(err instanceof EngineError);
        assert.match(err.message, /^bigquery in action stg_sessions \(job run-1_stg_sessions\): /);
        assert.match(err.message, pattern);
        assert.ok(err.hint, "has a hint");
        assert.equal(err.sql, sql);
        assert.equal(err.jobId, "run-1_stg_sessions");
        assert.equal(err.retryable, false);
        assert.equal(jobInserts().length, 1);
        assert.deepEqual(sleeps.filter((s) => s < 250), [], "no retry backoff");
      });
    }

    it("reports a query's error when the job fails after polling", async () => {
      fake.nextJob({ runningPolls: 2, errorResult: { reason: "invalidQuery", message: "Division by zero" } });
      await assert.rejects(
        engine.query("SELECT 1/0", { action: "ratio" }),
        (e: unknown) => e instanceof EngineError && /in action ratio/.test(e.message) && /Division by zero/.test(e.message),
      );
    });
  });

  describe("write-back by load job", () => {
    const schema: ColumnSchema[] = [
      { name: "user_key", type: "STRING", mode: "REQUIRED" },
      { name: "score", type: "FLOAT64" },
      { name: "visits", type: "INT64" },
      { name: "scored_at", type: "TIMESTAMP" },
      { name: "day", type: "DATE" },
      { name: "meta", type: "JSON" },
      { name: "channels", type: "STRING", mode: "REPEATED" },
      { name: "model", type: "RECORD", fields: [{ name: "name", type: "STRING" }, { name: "version", type: "INT64" }] },
    ];
    const target = { database: PROJECT, schema: "fc_models", name: "lead_scores" };
    const rows: Row[] = [
      {
        user_key: "u1",
        score: 0.75,
        visits: 3,
        scored_at: new Date("2024-05-01T10:00:00.000Z"),
        day: "2024-05-01",
        meta: '{"src":"crm"}',
        channels: ["email", "paid"],
        model: { name: "xgb", version: 2 },
      },
      { user_key: "u2", score: null, visits: 9007199254740993n, scored_at: null, day: null, meta: null, channels: [], model: null },
    ];

    beforeEach(() => {
      fake.addTable("fc_models.lead_scores", [{ name: "user_key", type: "STRING" }], [{ user_key: "old" }]);
    });

    it("replaces the table with WRITE_TRUNCATE, sending NDJSON, the schema and labels", async () => {
      const res = await engine.writeRows(target, schema, rows, { mode: "replace", description: "lead scores" });
      assert.deepEqual(res, { rows: 2 });
      const req = jobInserts()[0]!;
      assert.equal(req.path, `/upload/bigquery/v2/projects/${PROJECT}/jobs`);
      assert.equal(req.query.uploadType, "multipart");
      const load = insertBody().configuration.load as Record<string, unknown>;
      assert.equal(load.writeDisposition, "WRITE_TRUNCATE");
      assert.equal(load.sourceFormat, "NEWLINE_DELIMITED_JSON");
      assert.deepEqual(load.destinationTable, { projectId: PROJECT, datasetId: "fc_models", tableId: "lead_scores" });
      assert.deepEqual((load.schema as { fields: Array<{ name: string }> }).fields.map((f) => f.name), schema.map((c) => c.name));
      assert.deepEqual(insertBody().configuration.labels, { team: "growth", funnelcredit_op: "write_rows" });
      assert.equal(insertBody().jobReference.location, "EU");
      assert.deepEqual(req.media!.trimEnd().split("\n").map((l) => JSON.parse(l) as unknown), [
        {
          user_key: "u1",
          score: 0.75,
          visits: 3,
          scored_at: "2024-05-01T10:00:00.000Z",
          day: "2024-05-01",
          meta: { src: "crm" },
          channels: ["email", "paid"],
          model: { name: "xgb", version: 2 },
        },
        { user_key: "u2", score: null, visits: "9007199254740993", scored_at: null, day: null, meta: null, channels: [], model: null },
      ]);
      // Round trip: what was written reads back as the same rows.
      const back = await engine.query("SELECT * FROM `acme-analytics.fc_models.lead_scores`");
      assert.deepEqual(back, [{ ...rows[0], meta: '{"src":"crm"}' }, rows[1]]);
    });

    it("appends rows with WRITE_APPEND", async () => {
      const s: ColumnSchema[] = [{ name: "user_key", type: "STRING" }];
      await engine.writeRows(target, s, [{ user_key: "new" }], { mode: "append" });
      assert.equal((insertBody().configuration.load as { writeDisposition: string }).writeDisposition, "WRITE_APPEND");
      assert.deepEqual(fake.table("fc_models.lead_scores")!.rows, [{ user_key: "old" }, { user_key: "new" }]);
    });

    it("leaves the previous table intact when the load job fails", async () => {
      fake.nextJob({ errorResult: { reason: "invalid", message: "Error while reading data" } });
      await assert.rejects(engine.writeRows(target, schema, rows, { mode: "replace" }), /writeRows acme-analytics.fc_models.lead_scores.*Error while reading data/);
      assert.deepEqual(fake.table("fc_models.lead_scores")!.rows, [{ user_key: "old" }]);
    });

    it("does not load twice when a retried upload answers 409", async () => {
      const s: ColumnSchema[] = [{ name: "user_key", type: "STRING" }];
      fake.failNext("jobs.insert", { status: 502, applied: true });
      await engine.writeRows(target, s, [{ user_key: "once" }], { mode: "append" });
      assert.equal(jobInserts().length, 2);
      assert.deepEqual(fake.table("fc_models.lead_scores")!.rows, [{ user_key: "old" }, { user_key: "once" }]);
    });

    it("rejects a row with a column that is not in the schema before sending anything", async () => {
      await assert.rejects(
        engine.writeRows(target, [{ name: "user_key", type: "STRING" }], [{ user_key: "a", extra: 1 }], { mode: "append" }),
        /row 0: extra: column is not in the schema/,
      );
      assert.equal(jobInserts().length, 0);
    });
  });

  describe("tables and datasets", () => {
    it("tells whether a table exists", async () => {
      fake.addTable("fc.t", [{ name: "x", type: "INT64" }]);
      assert.equal(await engine.tableExists({ database: PROJECT, schema: "fc", name: "t" }), true);
      assert.equal(await engine.tableExists({ database: PROJECT, schema: "fc", name: "nope" }), false);
    });

    it("reads a table schema in order, mapping legacy type names", async () => {
      fake.addTable("fc.t", [
        { name: "id", type: "INTEGER", mode: "REQUIRED" },
        { name: "amount", type: "FLOAT" },
        { name: "ok", type: "BOOLEAN" },
        { name: "items", type: "RECORD", mode: "REPEATED", fields: [{ name: "sku", type: "STRING" }, { name: "price", type: "BIGNUMERIC" }] },
      ]);
      assert.deepEqual(await engine.tableSchema({ database: PROJECT, schema: "fc", name: "t" }), [
        { name: "id", type: "INT64", mode: "REQUIRED" },
        { name: "amount", type: "FLOAT64", mode: "NULLABLE" },
        { name: "ok", type: "BOOL", mode: "NULLABLE" },
        {
          name: "items",
          type: "RECORD",
          mode: "REPEATED",
          fields: [
            { name: "sku", type: "STRING", mode: "NULLABLE" },
            { name: "price", type: "NUMERIC", mode: "NULLABLE" },
          ],
        },
      ]);
    });

    it("names a column whose type funnelcredit does not read", async () => {
      fake.addTable("fc.geo", [{ name: "place", type: "GEOGRAPHY" }]);
      await assert.rejects(engine.tableSchema({ database: PROJECT, schema: "fc", name: "geo" }), /column place .* has type GEOGRAPHY/);
    });

    it("creates a missing dataset in the configured location, and leaves an existing one alone", async () => {
      await engine.ensureDataset(PROJECT, "fc_meta");
      assert.deepEqual(fake.datasets.get(`${PROJECT}.fc_meta`), { location: "EU" });
      await engine.ensureDataset(PROJECT, "fc_meta");
      assert.equal(fake.requestsTo("datasets.insert").length, 1);
    });

    it("accepts a dataset created concurrently between get and insert", async () => {
      fake.failNext("datasets.insert", { status: 409, reason: "duplicate", applied: true });
      await engine.ensureDataset(PROJECT, "fc_race");
      assert.ok(fake.datasets.has(`${PROJECT}.fc_race`));
    });

    it("refuses a dataset in another location", async () => {
      fake.addDataset("fc_us", "US");
      await assert.rejects(engine.ensureDataset(PROJECT, "fc_us"), /is in location US, the configured location is EU/);
      // Refused, not remembered: asked again, refused again.
      await assert.rejects(engine.ensureDataset(PROJECT, "fc_us"), /is in location US/);
      assert.equal(fake.requestsTo("datasets.get").length, 2);
    });

    it("asks BigQuery about a dataset once per engine: ensured, created or location-checked, later calls make no request", async () => {
      const datasetGets = (id: string) => fake.requestsTo("datasets.get").filter((r) => r.path.endsWith(`/datasets/${id}`)).length;
      fake.addDataset("fc_sources", "EU");
      // As a run does: the empty sources' dataset for each missing table, then the declarations' location check.
      for (let i = 0; i < 3; i++) await engine.ensureDataset(PROJECT, "fc_sources");
      await engine.prepareDeclarations!([{ database: PROJECT, schema: "fc_sources", name: "crm_transactions" }]);
      assert.equal(datasetGets("fc_sources"), 1);
      // A dataset the engine created: no get after the insert.
      await engine.ensureDataset(PROJECT, "fc_new");
      await engine.ensureDataset(PROJECT, "fc_new");
      assert.equal(datasetGets("fc_new"), 1);
      assert.equal(fake.requestsTo("datasets.insert").length, 1);
      // A source checked first, then ensured: one get.
      fake.addDataset("fc_ga4", "EU");
      await engine.prepareDeclarations!([{ database: PROJECT, schema: "fc_ga4", name: "events_*" }]);
      await engine.ensureDataset(PROJECT, "fc_ga4");
      assert.equal(datasetGets("fc_ga4"), 1);
      // Another engine (another command) asks again: a dataset may have moved or gone between runs.
      await makeEngine().ensureDataset(PROJECT, "fc_sources");
      assert.equal(datasetGets("fc_sources"), 2);
    });
  });

  describe("credentials", () => {
    it("never writes the access token to logs, errors or error causes", async () => {
      fake.failNext("jobs.insert", { status: 503 });
      fake.failNext("jobs.insert", { status: 403, reason: "accessDenied", message: "Access Denied" });
      const err = await engine.execute(["SELECT 1"], { action: "secret" }).then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
      assert.ok(logLines.length > 0);
      const everything = [...logLines, inspect(err, { depth: 20, showHidden: true }), JSON.stringify(err)].join("\n");
      assert.ok(jobInserts().every((r) => r.authorization === `Bearer ${fake.accessToken}`), "the client did authenticate");
      assert.ok(!everything.includes(fake.accessToken), "token leaked");
      assert.ok(!/Bearer/i.test(everything), "authorization header leaked");
    });
  });

  describe("the local endpoint itself", () => {
    it("answers the client's jobs.query (bq.query) and deduplicates a retried requestId", async () => {
      fake.addTable("fc.t", [{ name: "id", type: "INT64" }], [{ id: 1 }, { id: 2 }]);
      const client = new BigQuery({ projectId: PROJECT, location: "EU", apiEndpoint: fake.url, authClient: fake.authClient() });
      fake.failNext("jobs.query", { status: 503, applied: true });
      const [rows] = await client.query({ query: "SELECT * FROM `acme-analytics.fc.t`", location: "EU" });
      assert.deepEqual(rows, [{ id: 1 }, { id: 2 }]);
      const calls = fake.requestsTo("jobs.query");
      assert.equal(calls.length, 2, "the library retried the 503 by itself");
      assert.equal((calls[0]!.body as { requestId: string }).requestId, (calls[1]!.body as { requestId: string }).requestId);
      assert.equal(fake.jobs.size, 1);
    });

    it("takes streaming inserts (insertAll) into its in-memory tables", async () => {
      fake.addTable("fc_meta.runs", [{ name: "run_id", type: "STRING" }]);
      const client = new BigQuery({ projectId: PROJECT, location: "EU", apiEndpoint: fake.url, authClient: fake.authClient() });
      await client.dataset("fc_meta").table("runs").insert([{ run_id: "r1" }, { run_id: "r2" }]);
      assert.deepEqual(fake.table("fc_meta.runs")!.rows, [{ run_id: "r1" }, { run_id: "r2" }]);
    });

    it("rejects query parameters and job fields BigQuery does not know", async () => {
      const client = new BigQuery({ projectId: PROJECT, location: "EU", apiEndpoint: fake.url, authClient: fake.authClient() });
      await assert.rejects(client.job("j").getQueryResults({ maxResults: 1, skipParsing: true, autoPaginate: false }), /Unknown name "skipParsing"/);
      await assert.rejects(client.createJob({ configuration: { query: { query: "SELECT 1", labels: { a: "b" } } as object } }), /Unknown name "labels"/);
    });

    it("binds to loopback only", () => {
      assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    });
  });
});
