import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { cannotRunWithout, mergeJobs, select, topoLevels } from "../src/dag/dag.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { silentProgress } from "../src/runner/progress.ts";
import type { Action, Graph } from "../src/dag/graph.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import { PROJECT_DIR, memoryEngine } from "./support/warehouse.ts";

const DB = "proj";
const t = (schema: string, name: string) => ({ database: DB, schema, name });
const settings = loadProjectSettings(PROJECT_DIR).settings;
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "funnelcredit-runner-test"));

function graph(actions: Action[]): Graph {
  return { actions, projectConfig: { defaultDatabase: DB, defaultSchema: "funnelcredit", assertionSchema: "funnelcredit_assertions", vars: {} } };
}
const table = (name: string, query: string, deps: string[], extra: Partial<Action> = {}): Action => ({
  name: `s.${name}`, kind: "table", target: t("s", name), dependencies: deps, tags: [], query, ...extra,
});

/** A job reading s.orders (an aggregate) and writing s.order_model. */
const doublingJob: JobDefinition = {
  name: "doubling_job",
  description: "writes each total doubled",
  reads: ["orders"],
  writes: ["order_model"],
  async run(ctx) {
    const rows = await ctx.query(`SELECT id, total FROM ${ctx.ref("orders")} ORDER BY id`);
    const n = await ctx.write("order_model", [{ name: "id", type: "INT64" }, { name: "doubled", type: "FLOAT64" }],
      rows.map((r) => ({ id: r.id, doubled: Number(r.total) * 2 })));
    return { rows: n, metrics: { fitted: true } };
  },
};

function pipeline(): Graph {
  return mergeJobs(graph([
    { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] },
    table("orders", "SELECT id, SUM(amount) AS total FROM `proj.src.raw` GROUP BY id", ["src.raw"], { tags: ["daily"] }),
    { name: "s.order_model", kind: "declaration", target: t("s", "order_model"), dependencies: [], tags: [] },
    { name: "s.report", kind: "view", target: t("s", "report"), dependencies: ["s.order_model"], tags: ["daily"],
      query: "SELECT id, doubled FROM `proj.s.order_model`" },
  ]), [doublingJob]);
}

async function withRaw(engine: DuckDBEngine): Promise<void> {
  await engine.runNative(`CREATE SCHEMA src; CREATE TABLE src.raw AS SELECT * FROM (VALUES (1, 2.5), (1, 1.5), (2, 10.0)) v(id, amount)`);
}

describe("runner", () => {
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); await withRaw(engine); });
  afterEach(async () => engine.close());

  it("runs SQL, then the job, then the SQL that reads the job's output", async () => {
    const g = pipeline();
    const run = await runGraph({ graph: g, engine, settings, artifacts, runId: "r1" });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    assert.deepEqual(run.actions.map((a) => a.action), ["s.orders", "doubling_job", "s.report"]);
    const rows = await engine.query("SELECT id, doubled FROM `proj.s.report` ORDER BY id");
    assert.deepEqual(rows, [{ id: 1, doubled: 8 }, { id: 2, doubled: 20 }]);
  });

  it("collects a finished job's garbage before the actions after it run", async () => {
    // The job leaves a large array behind (large-object space: only a full collection frees it, not the young
    // generation's). On 10M events ml_attribution left ≈ 1 GB so, resident under the SQL after it.
    let left: WeakRef<number[]> | undefined;
    const wasteful: JobDefinition = {
      ...doublingJob,
      async run(ctx) {
        const scratch = new Array<number>(1_000_000).fill(1);
        left = new WeakRef(scratch);
        return doublingJob.run(ctx);
      },
    };
    let collectedBeforeReport: boolean | undefined;
    const g = mergeJobs(graph(pipeline().actions.filter((a) => a.kind !== "job")), [wasteful]);
    const progress = { ...silentProgress, actionStarted: (name: string) => { if (name === "s.report") collectedBeforeReport = left?.deref() === undefined; } };
    const run = await runGraph({ graph: g, engine, settings, artifacts, progress });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    assert.ok(left, "the job ran");
    assert.equal(collectedBeforeReport, true);
  });

  it("orders actions in dependency levels and refuses cycles", () => {
    const g = pipeline();
    assert.deepEqual(topoLevels(g, select(g, {})), [["src.raw"], ["s.orders"], ["doubling_job"], ["s.order_model"], ["s.report"]]);
    const cyclic = graph([table("a", "SELECT 1", ["s.b"]), table("b", "SELECT 1", ["s.a"])]);
    assert.throws(() => topoLevels(cyclic, select(cyclic, {})), /cycle through: s.a, s.b/);
  });

  it("selects by name or tag, with dependencies or dependents", () => {
    const g = pipeline();
    assert.deepEqual([...select(g, { actions: ["report"] })], ["s.report"]);
    assert.deepEqual([...select(g, { actions: ["report"], includeDependencies: true })].sort(), ["doubling_job", "s.order_model", "s.orders", "s.report", "src.raw"]);
    assert.deepEqual([...select(g, { actions: ["orders"], includeDependents: true })].sort(), ["doubling_job", "s.order_model", "s.orders", "s.report"]);
    assert.deepEqual([...select(g, { tags: ["daily"] })].sort(), ["s.orders", "s.report"]);
    assert.throws(() => select(g, { actions: ["nope"] }), /no action or table named "nope"/);
  });

  it("leaves out what --exclude names, from the selection or from everything, with its graph operators", () => {
    const g = pipeline();
    assert.deepEqual([...select(g, { exclude: ["report"] })].sort(), ["doubling_job", "s.order_model", "s.orders", "src.raw"]);
    assert.deepEqual([...select(g, { select: ["+report"], exclude: ["+orders"] })].sort(), ["doubling_job", "s.order_model", "s.report"]);
    assert.deepEqual([...select(g, { tags: ["daily"], exclude: ["doubling_job+"] })].sort(), ["s.orders"]);
    assert.throws(() => select(g, { exclude: ["nope"] }), /no action or table named "nope"/);
    assert.throws(() => select(g, { exclude: ["++report"] }), /^UserError: --exclude "\+\+report": expected a name/);
  });

  it("finds what cannot run without a job: the readers of tables only it writes, not of a table another job writes too", () => {
    const job = (name: string, deps: string[]): Action => ({ name, kind: "job", target: t("s", name), dependencies: deps, tags: [] });
    const declared = (name: string, writers: string[]): Action => ({ name: `s.${name}`, kind: "declaration", target: t("s", name), dependencies: writers, tags: [] });
    const g = graph([
      table("features", "SELECT 1 AS x", []),
      job("scoring", ["s.features"]),
      job("attribution", ["s.features"]),
      declared("scores", ["scoring"]),
      declared("metrics", ["scoring", "attribution"]),
      table("scores_report", "SELECT * FROM `proj.s.scores`", ["s.scores"]),
      job("scores_sql", ["s.scores"]),
      declared("scores_sql_out", ["scores_sql"]),
      table("metrics_report", "SELECT * FROM `proj.s.metrics`", ["s.metrics"]),
    ]);
    assert.deepEqual([...cannotRunWithout(g, ["scoring"])].sort(), ["s.scores", "s.scores_report", "s.scores_sql_out", "scores_sql", "scoring"]);
    // Both writers of the shared table left out: its readers cannot run either.
    assert.ok(cannotRunWithout(g, ["scoring", "attribution"]).has("s.metrics_report"));
  });

  it("writes one run-history row per action with status, times and rows", async () => {
    const run = await runGraph({ graph: pipeline(), engine, settings, artifacts, runId: "hist-1" });
    const rows = await engine.query(`SELECT action, status, rows, engine, duration_ms >= 0 AS timed FROM \`proj.${settings.datasets.meta}.run_history\` WHERE run_id = 'hist-1' ORDER BY started_at, action`);
    assert.equal(rows.length, run.actions.length);
    assert.deepEqual(rows.map((r) => [r.action, r.status, r.engine, r.timed]), [
      ["s.orders", "succeeded", "duckdb", true], ["doubling_job", "succeeded", "duckdb", true], ["s.report", "succeeded", "duckdb", true],
    ]);
    assert.equal(rows[1]!.rows, 2);
  });

  it("leaves the previous table intact when an action fails mid-way, and skips its dependents", async () => {
    const g = pipeline();
    assert.equal((await runGraph({ graph: g, engine, settings, artifacts })).status, "succeeded");
    // Fails after producing rows: ERROR() fires on the 5000th generated row.
    const orders = g.actions.find((a) => a.name === "s.orders")!;
    orders.query = "SELECT IF(x = 5000, ERROR('boom at row 5000'), x) AS id, 1.0 AS total FROM UNNEST(GENERATE_ARRAY(1, 10000)) AS x";
    const run = await runGraph({ graph: g, engine, settings, artifacts });
    assert.equal(run.status, "failed");
    const byName = Object.fromEntries(run.actions.map((a) => [a.action, a]));
    assert.match(byName["s.orders"]!.error!, /boom at row 5000/);
    assert.equal(byName["doubling_job"]!.status, "skipped");
    assert.equal(byName["s.report"]!.status, "skipped");
    const rows = await engine.query("SELECT id, total FROM `proj.s.orders` ORDER BY id");
    assert.deepEqual(rows, [{ id: 1, total: 4 }, { id: 2, total: 10 }]);
  });

  it("a failing job keeps its previous output and fails only its branch", async () => {
    const failing: JobDefinition = { ...doublingJob, async run() { throw new Error("fit diverged"); } };
    const g0 = pipeline();
    await runGraph({ graph: g0, engine, settings, artifacts });
    const g = mergeJobs(graph(g0.actions.filter((a) => a.kind !== "job").map((a) => ({ ...a, dependencies: a.name === "s.order_model" ? [] : a.dependencies }))), [failing]);
    const run = await runGraph({ graph: g, engine, settings, artifacts });
    assert.equal(run.actions.find((a) => a.action === "doubling_job")!.error, "fit diverged");
    assert.equal(run.actions.find((a) => a.action === "s.orders")!.status, "succeeded");
    assert.deepEqual(await engine.query("SELECT COUNT(*) AS n FROM `proj.s.order_model`"), [{ n: 2 }]);
  });

  it("runs what reads an output a skipped job emptied, and skips what reads the outputs it left as they were", async () => {
    // A job with two outputs that publishes nothing: it empties order_model (current) and leaves order_notes.
    const idle = (write: boolean): JobDefinition => ({
      ...doublingJob, writes: ["order_model", "order_notes"],
      async run(ctx) {
        if (write) await ctx.write("order_model", [{ name: "id", type: "INT64" }, { name: "doubled", type: "FLOAT64" }], []);
        return { rows: 0, skipped: "nothing to publish" };
      },
    });
    const g = (write: boolean): Graph => mergeJobs(graph([
      { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] },
      table("orders", "SELECT id, SUM(amount) AS total FROM `proj.src.raw` GROUP BY id", ["src.raw"]),
      { name: "s.order_model", kind: "declaration", target: t("s", "order_model"), dependencies: [], tags: [] },
      { name: "s.order_notes", kind: "declaration", target: t("s", "order_notes"), dependencies: [], tags: [] },
      table("model_count", "SELECT COUNT(*) AS n FROM `proj.s.order_model`", ["s.order_model"]),
      table("notes_count", "SELECT COUNT(*) AS n FROM `proj.s.order_notes`", ["s.order_notes"]),
    ]), [idle(write)]);
    const run = await runGraph({ graph: g(true), engine, settings, artifacts });
    const status = (r: typeof run, a: string) => `${r.actions.find((x) => x.action === a)?.status}: ${r.actions.find((x) => x.action === a)?.note ?? ""}`;
    assert.equal(status(run, "doubling_job"), "skipped: nothing to publish");
    assert.equal(status(run, "s.model_count"), "succeeded: ");
    assert.equal(status(run, "s.notes_count"), "skipped: doubling_job skipped: nothing to publish");
    assert.deepEqual(await engine.query("SELECT n FROM `proj.s.model_count`"), [{ n: 0 }]);
    // A skipped job that wrote nothing: everything reading it is skipped, as before.
    const none = await runGraph({ graph: g(false), engine, settings, artifacts });
    assert.equal(status(none, "s.model_count"), "skipped: doubling_job skipped: nothing to publish");
  });

  it("fails a job that writes a column its schema lacks, instead of dropping the values", async () => {
    const extra: JobDefinition = {
      ...doublingJob,
      async run(ctx) {
        const n = await ctx.write("order_model", [{ name: "id", type: "INT64" }, { name: "doubled", type: "FLOAT64" }], [{ id: 1, doubled: 8, tripled: 12 }]);
        return { rows: n };
      },
    };
    const g0 = pipeline();
    const g = mergeJobs(graph(g0.actions.filter((a) => a.kind !== "job").map((a) => ({ ...a, dependencies: a.name === "s.order_model" ? [] : a.dependencies }))), [extra]);
    const run = await runGraph({ graph: g, engine, settings, artifacts });
    const job = run.actions.find((a) => a.action === "doubling_job")!;
    assert.equal(job.status, "failed");
    assert.match(job.error ?? "", /job doubling_job wrote column "tripled" to order_model, which its schema does not have; add it to order_model's entry in includes\/catalog\.js/);
  });

  it("merges new rows of an incremental table on its unique key", async () => {
    const inc: Action = {
      name: "s.daily", kind: "incremental", target: t("s", "daily"), dependencies: ["src.raw"], tags: [], uniqueKey: ["id"],
      query: "SELECT id, SUM(amount) AS total FROM `proj.src.raw` GROUP BY id",
      incrementalQuery: "SELECT id, SUM(amount) AS total FROM `proj.src.raw` WHERE id >= 2 GROUP BY id",
    };
    const g = graph([{ name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] }, inc]);
    await runGraph({ graph: g, engine, settings, artifacts });
    await engine.runNative("INSERT INTO src.raw VALUES (2, 5.0), (3, 7.0), (1, 99.5)");
    const run = await runGraph({ graph: g, engine, settings, artifacts });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    // id 1 is outside the incremental window: unchanged (4); id 2 updated (15); id 3 inserted.
    assert.deepEqual(await engine.query("SELECT id, total FROM `proj.s.daily` ORDER BY id"), [
      { id: 1, total: 4 }, { id: 2, total: 15 }, { id: 3, total: 7 },
    ]);
    const full = await runGraph({ graph: g, engine, settings, artifacts, fullRefresh: true });
    assert.equal(full.status, "succeeded");
    assert.deepEqual(await engine.query("SELECT total FROM `proj.s.daily` WHERE id = 1"), [{ total: 103.5 }]);
  });

  it("runs an incremental model without a uniqueKey as Dataform does: its pre-operations (deleting the re-processed partitions), then an INSERT", async () => {
    await engine.runNative(`CREATE TABLE src.ev AS SELECT * FROM (VALUES (DATE '2024-01-01', 1), (DATE '2024-01-02', 2)) v(d, n)`);
    const inc: Action = {
      name: "s.by_day", kind: "incremental", target: t("s", "by_day"), dependencies: ["src.ev"], tags: [], partitionBy: "d",
      query: "SELECT d, SUM(n) AS n FROM `proj.src.ev` GROUP BY d",
      incrementalPreOps: ["DECLARE partition_window_start DATE DEFAULT DATE '2024-01-02';\nDELETE FROM `proj.s.by_day` WHERE d >= partition_window_start;"],
      incrementalQuery: "SELECT d, SUM(n) AS n FROM `proj.src.ev` WHERE d >= partition_window_start GROUP BY d",
    };
    const g = graph([{ name: "src.ev", kind: "declaration", target: t("src", "ev"), dependencies: [], tags: [] }, inc]);
    await runGraph({ graph: g, engine, settings, artifacts });
    await engine.runNative(`INSERT INTO src.ev VALUES (DATE '2024-01-02', 10), (DATE '2024-01-03', 3)`);
    const run = await runGraph({ graph: g, engine, settings, artifacts });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    assert.deepEqual(await engine.query("SELECT CAST(d AS STRING) AS d, n FROM `proj.s.by_day` ORDER BY d"), [
      { d: "2024-01-01", n: 1 }, { d: "2024-01-02", n: 12 }, { d: "2024-01-03", n: 3 },
    ]);
  });

  it("switches a model from table to view and back, and an incremental table over a former view (regression: CREATE OR REPLACE cannot replace the other kind)", async () => {
    const kindOf = async (): Promise<string[]> =>
      (await engine.queryNative("SELECT table_type FROM information_schema.tables WHERE table_schema = 's' AND table_name = 'sums'")).map((r) => String(r.table_type));
    const as = (kind: Action["kind"]): Graph => graph([
      { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] },
      table("sums", "SELECT id, SUM(amount) AS total FROM `proj.src.raw` GROUP BY id", ["src.raw"], { kind, ...(kind === "incremental" ? { uniqueKey: ["id"] } : {}) }),
    ]);
    for (const [kind, type] of [["table", "BASE TABLE"], ["view", "VIEW"], ["table", "BASE TABLE"], ["view", "VIEW"], ["incremental", "BASE TABLE"]] as const) {
      const run = await runGraph({ graph: as(kind), engine, settings, artifacts });
      assert.equal(run.status, "succeeded", `${kind}: ${JSON.stringify(run.actions)}`);
      assert.deepEqual(await kindOf(), [type], kind);
      assert.deepEqual(await engine.query("SELECT id, total FROM `proj.s.sums` ORDER BY id"), [{ id: 1, total: 4 }, { id: 2, total: 10 }], kind);
    }
  });

  it("keeps the old view when the table replacing it fails to build (DROP and CREATE in one transaction)", async () => {
    const g = (kind: Action["kind"], query: string): Graph => graph([
      { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] },
      table("sums", query, ["src.raw"], { kind }),
    ]);
    assert.equal((await runGraph({ graph: g("view", "SELECT id FROM `proj.src.raw`"), engine, settings, artifacts })).status, "succeeded");
    // Valid SQL that fails only while it runs (a failed cast), so the dry run before the DROP passes.
    const run = await runGraph({ graph: g("table", "SELECT CAST(CAST(id AS STRING) || 'x' AS INT64) AS id FROM `proj.src.raw`"), engine, settings, artifacts });
    assert.equal(run.status, "failed");
    // It failed while running, after the DROP (the dry run before it passed): the transaction restored the view.
    assert.match(run.actions[0]!.error!, /Conversion Error/, run.actions[0]!.error);
    assert.deepEqual((await engine.queryNative("SELECT table_type FROM information_schema.tables WHERE table_schema = 's' AND table_name = 'sums'")).map((r) => String(r.table_type)), ["VIEW"]);
    assert.equal((await engine.query("SELECT COUNT(*) AS n FROM `proj.s.sums`"))[0]!.n, 3);
  });

  it("reports a failing assertion as failed, or as a warning when tagged warning", async () => {
    const g = graph([
      table("dupes", "SELECT 1 AS id UNION ALL SELECT 1", []),
      { name: "a.unique_ids", kind: "assertion", target: t("a", "unique_ids"), dependencies: ["s.dupes"], tags: [],
        query: "SELECT id FROM `proj.s.dupes` GROUP BY id HAVING COUNT(*) > 1" },
      { name: "a.soft", kind: "assertion", target: t("a", "soft"), dependencies: ["s.dupes"], tags: ["warning"],
        query: "SELECT id FROM `proj.s.dupes` GROUP BY id HAVING COUNT(*) > 1" },
    ]);
    const run = await runGraph({ graph: g, engine, settings, artifacts });
    const byName = Object.fromEntries(run.actions.map((a) => [a.action, a]));
    assert.equal(byName["a.unique_ids"]!.status, "failed");
    assert.match(byName["a.unique_ids"]!.error!, /1 row\(s\) violate a.unique_ids/);
    assert.equal(byName["a.soft"]!.status, "warning");
    assert.equal(run.status, "failed");
  });

  it("resumes a run by skipping what already succeeded", async () => {
    const run = await runGraph({ graph: pipeline(), engine, settings, artifacts, alreadySucceeded: new Set(["s.orders"]) });
    assert.equal(run.actions.find((a) => a.action === "s.orders")!.status, "skipped");
    assert.equal(run.actions.find((a) => a.action === "doubling_job")!.status, "failed"); // orders never built here
  });
});

describe("selection ordering", () => {
  it("keeps a job after the job whose output it reads when the declaration between them is not selected", () => {
    const second: JobDefinition = { name: "second_job", description: "", reads: ["order_model"], writes: ["second_model"], async run() { return { rows: 0 }; } };
    const g = mergeJobs(graph([
      ...pipeline().actions.filter((a) => a.kind !== "job" && a.name !== "s.order_model"),
      { name: "s.order_model", kind: "declaration", target: t("s", "order_model"), dependencies: [], tags: [] },
      { name: "s.second_model", kind: "declaration", target: t("s", "second_model"), dependencies: [], tags: [] },
    ]), [doublingJob, second]);
    const levels = topoLevels(g, new Set(["doubling_job", "second_job"]));
    assert.deepEqual(levels, [["doubling_job"], ["second_job"]]);
  });
});

describe("operations", () => {
  it("runs an operation's statements atomically and builds its declared output", async () => {
    const engine = await memoryEngine();
    try {
      const g = graph([
        { name: "s.ops_out", kind: "operation", target: t("s", "ops_out"), dependencies: [], tags: [], hasOutput: true,
          queries: ["CREATE OR REPLACE TABLE `proj.s.ops_out` AS SELECT 1 AS n", "INSERT INTO `proj.s.ops_out` (n) VALUES (2)"] },
        { name: "s.after_ops", kind: "view", target: t("s", "after_ops"), dependencies: ["s.ops_out"], tags: [], query: "SELECT SUM(n) AS total FROM `proj.s.ops_out`" },
      ]);
      const run = await runGraph({ graph: g, engine, settings, artifacts });
      assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
      assert.deepEqual(await engine.query("SELECT total FROM `proj.s.after_ops`"), [{ total: 3 }]);
      // A failing second statement rolls back the first: the previous table stays.
      g.actions[0]!.queries = ["CREATE OR REPLACE TABLE `proj.s.ops_out` AS SELECT 10 AS n", "INSERT INTO `proj.s.ops_out` (n) VALUES ('not a number')"];
      const failed = await runGraph({ graph: g, engine, settings, artifacts });
      assert.equal(failed.actions[0]!.status, "failed");
      assert.deepEqual(await engine.query("SELECT total FROM `proj.s.after_ops`"), [{ total: 3 }]);
    } finally {
      await engine.close();
    }
  });
});
