/**
 * Promise 6 (resource bounds): a job pulls at most vars.max_job_rows rows per query and otherwise
 * fails naming the setting (its branch only; the run goes on); a query past DuckDB's memory limit
 * fails with a hint naming --memory-limit instead of the process being killed; what max_path_length
 * and max_sessions_per_user_day cut is counted for the run summary.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { runGraph } from "../src/runner/runner.ts";
import { mergeJobs } from "../src/dag/dag.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { boundedJobQuery, truncationSummary } from "../src/safety/bounds.ts";
import { EngineError } from "../src/engines/engine.ts";
import type { Graph } from "../src/dag/graph.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import { PROJECT_DIR, compiledProject, fixtureTable, memoryEngine, runProject } from "./support/warehouse.ts";

const base = loadProjectSettings(PROJECT_DIR).settings;
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bounds-test"));

const reader: JobDefinition = {
  name: "reader_job", description: "", reads: ["big"], writes: ["big_model"],
  async run(ctx) {
    const rows = await ctx.query(`SELECT id FROM ${ctx.ref("big")} ORDER BY id -- a trailing comment`);
    return { rows: await ctx.write("big_model", [{ name: "id", type: "INT64" }], rows) };
  },
};
function graph(): Graph {
  const t = (name: string) => ({ database: "p", schema: "s", name });
  return mergeJobs({
    actions: [
      { name: "s.big", kind: "table", target: t("big"), dependencies: [], tags: [], query: "SELECT x AS id FROM UNNEST(GENERATE_ARRAY(1, 50)) AS x" },
      { name: "s.big_model", kind: "declaration", target: t("big_model"), dependencies: [], tags: [] },
      { name: "s.after", kind: "table", target: t("after"), dependencies: ["s.big_model"], tags: [], query: "SELECT COUNT(*) AS n FROM `p.s.big_model`" },
      { name: "s.other", kind: "table", target: t("other"), dependencies: ["s.big"], tags: [], query: "SELECT COUNT(*) AS n FROM `p.s.big`" },
    ],
    projectConfig: { defaultDatabase: "p", defaultSchema: "s", assertionSchema: "a", vars: {} },
  }, [reader]);
}

describe("reliability: resource bounds", function () {
  this.timeout(60_000);

  it("fails a job that reads more than vars.max_job_rows, naming the setting, and runs everything else", async () => {
    const engine = await memoryEngine();
    try {
      const run = await runGraph({ graph: graph(), engine, settings: { ...base, maxJobRows: 49 }, artifacts });
      const by = Object.fromEntries(run.actions.map((a) => [a.action, a]));
      assert.equal(by["reader_job"]!.status, "failed");
      assert.match(by["reader_job"]!.error!, /job reader_job: a query on big returned more than 49 rows, the most a job reads \(vars\.max_job_rows\); raise vars\.max_job_rows/);
      assert.equal(by["s.after"]!.status, "skipped");
      assert.equal(by["s.other"]!.status, "succeeded");
      // Exactly at the bound is fine.
      const ok = await runGraph({ graph: graph(), engine, settings: { ...base, maxJobRows: 50 }, artifacts });
      assert.equal(ok.status, "succeeded", JSON.stringify(ok.actions));
      assert.deepEqual(await engine.query("SELECT n FROM `p.s.after`"), [{ n: 50 }]);
    } finally {
      await engine.close();
    }
  });

  it("pulls at most max_job_rows + 1 rows (the bound protects memory, not just the count)", async () => {
    const engine = await memoryEngine();
    try {
      const seen: string[] = [];
      const spy = Object.create(engine) as DuckDBEngine;
      spy.query = async (sql, o) => { seen.push(sql); return engine.query(sql, o); };
      await assert.rejects(boundedJobQuery(spy, "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 1000000)) AS x;", {}, 10, { name: "j", reads: ["channel_paths"] }),
        /more than 10 rows.*vars\.max_path_length/);
      assert.match(seen[0]!, /\nLIMIT 11$/);
      // A query with its own small LIMIT runs as written.
      assert.equal((await boundedJobQuery(spy, "SELECT 1 AS x LIMIT 1", {}, 10, { name: "j", reads: [] })).length, 1);
      assert.equal(seen[1], "SELECT 1 AS x LIMIT 1");
    } finally {
      await engine.close();
    }
  });

  it("bounds the real jobs: channel_markov on a too-big channel_paths says which settings to change", async () => {
    const project = await compiledProject({ max_job_rows: "3" });
    const engine = await memoryEngine();
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 300, days: 5, seed: 5, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      const run = await runProject(project, engine, { fullRefresh: true, selection: { actions: ["channel_markov"], includeDependencies: true } });
      const job = run.actions.find((a) => a.action === "channel_markov")!;
      assert.equal(job.status, "failed");
      assert.match(job.error!, /more than 3 rows, .*vars\.max_job_rows.*vars\.max_path_length/);
      assert.ok(run.actions.filter((a) => a.kind !== "job").every((a) => a.status !== "failed"));
    } finally {
      await engine.close();
    }
  });

  it("turns DuckDB running out of memory into an error naming --memory-limit", async () => {
    const engine = await DuckDBEngine.open({ path: ":memory:", memoryLimit: "16MB", threads: 1 });
    try {
      await assert.rejects(
        engine.query("SELECT ARRAY_LENGTH(ARRAY_AGG(CONCAT('row-', CAST(x AS STRING)))) AS n FROM UNNEST(GENERATE_ARRAY(1, 3000000)) AS x", { action: "big_aggregate" }),
        (e: unknown) => e instanceof EngineError && /in action big_aggregate: Out of Memory/.test(e.message) && /raise --memory-limit/.test(e.hint ?? ""),
      );
    } finally {
      await engine.close();
    }
  });

  it("counts journeys cut by max_path_length and user ids distrusted by max_sessions_per_user_day", async () => {
    const engine = await memoryEngine();
    try {
      const inter = base.datasets.intermediate;
      await fixtureTable(engine, inter, "conversion_journeys", { journey_key: "VARCHAR", truncated_touch_count: "BIGINT" }, [["a", 0], ["b", 3], ["c", 7]]);
      await fixtureTable(engine, inter, "sessions", { session_key: "VARCHAR", session_user_id: "VARCHAR", is_user_id_distrusted: "BOOLEAN" },
        [["s1", "bot", true], ["s2", "bot", true], ["s3", "u", false]]);
      assert.deepEqual(await truncationSummary(engine, "p", base), [
        `max_path_length (${base.maxPathLength}): 2 journey(s) had their 10 oldest touch(es) cut; raise vars.max_path_length to keep them`,
        `max_sessions_per_user_day (${base.maxSessionsPerUserDay}): 1 user id(s) with more sessions a day were not trusted (2 session(s) keyed by client id instead)`,
      ]);
    } finally {
      await engine.close();
    }
  });

  it("validates the bound settings, naming the var", () => {
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { max_job_rows: "0" }), /vars\.max_job_rows.*from 1 to/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { max_job_rows: "lots" }), /vars\.max_job_rows.*whole number/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { import_bad_rows: "ignore" }), /vars\.import_bad_rows.*"quarantine" or "reject"/);
    assert.equal(loadProjectSettings(PROJECT_DIR).settings.maxJobRows, 1_000_000);
  });
});
