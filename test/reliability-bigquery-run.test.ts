/**
 * Promise 2 at the runner level (the engine's own retries are in bigquery-engine.test.ts): a DAG run
 * through the real BigQuery client against the local REST endpoint uses job ids
 * `jobIdFor(runId, action)` (one per engine call of the action), so an insert whose answer is lost
 * attaches to the job instead of running it twice, a re-submitted run runs nothing twice, and a
 * resumed run runs a previously failed action as a new job.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { createBigQueryEngine } from "../src/engines/bigquery/engine.ts";
import type { Engine } from "../src/engines/engine.ts";
import { jobIdFor, runGraph } from "../src/runner/runner.ts";
import { mergeJobs } from "../src/dag/dag.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import type { Graph } from "../src/dag/graph.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import { startFakeBigQuery, type FakeBigQuery } from "./support/fake-bigquery.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";

const P = "acme-analytics";
const settings = loadProjectSettings(PROJECT_DIR).settings;
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bq-run-test"));
const t = (name: string) => ({ database: P, schema: "fc", name });

/** A job with two queries: each must get its own job id. */
const twoQueries: JobDefinition = {
  name: "two_queries", description: "", reads: ["orders"], writes: ["orders_model"],
  async run(ctx) {
    const [a] = await ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.ref("orders")}`);
    const [b] = await ctx.query(`SELECT SUM(total) AS s FROM ${ctx.ref("orders")}`);
    return { rows: await ctx.write("orders_model", [{ name: "n", type: "INT64" }, { name: "s", type: "FLOAT64" }], [{ n: a!.n, s: b!.s }]) };
  },
};

function graph(): Graph {
  return mergeJobs({
    actions: [
      { name: "fc.orders", kind: "table", target: t("orders"), dependencies: [], tags: [], query: "SELECT 1 AS id, 2.5 AS total" },
      { name: "fc.orders_model", kind: "declaration", target: t("orders_model"), dependencies: [], tags: [] },
      { name: "fc_assertions.orders_positive", kind: "assertion", target: { database: P, schema: "fc_assertions", name: "orders_positive" }, dependencies: ["fc.orders"], tags: [],
        query: "SELECT id FROM `acme-analytics.fc.orders` WHERE total < 0" },
    ],
    projectConfig: { defaultDatabase: P, defaultSchema: "fc", assertionSchema: "fc_assertions", vars: {} },
  }, [twoQueries]);
}

describe("reliability: runs on BigQuery never run a job twice", function () {
  this.timeout(60_000);
  let fake: FakeBigQuery;
  let engine: Engine;
  let executed: string[];
  let failingRows: number;

  beforeEach(async () => {
    fake = await startFakeBigQuery({ projectId: P, location: "EU" });
    executed = [];
    failingRows = 0;
    fake.setHandler((sql, ctx) => {
      if (!ctx.dryRun) executed.push(sql);
      if (/^CREATE (OR REPLACE TABLE|TABLE IF NOT EXISTS)/.test(sql.trim())) return {};
      if (/failing_rows/.test(sql)) return { rows: [{ failing_rows: failingRows }] };
      if (/LIMIT 5\s*$/.test(sql)) return { rows: [{ id: 1 }] };
      if (/COUNT\(\*\) AS n/.test(sql)) return { rows: [{ n: 1 }] };
      if (/SUM\(total\) AS s/.test(sql)) return { rows: [{ s: 2.5 }] };
      return { error: { reason: "invalidQuery", message: `no answer for ${sql.slice(0, 80)}` } };
    });
    engine = createBigQueryEngine({ projectId: P, location: "EU", apiEndpoint: fake.url, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 } },
      { authClient: fake.authClient(), sleep: async () => {}, random: () => 0.5 });
  });
  afterEach(async () => fake.close());

  const queryJobIds = (): string[] => fake.requestsTo("jobs.insert")
    .map((r) => r.body as { jobReference?: { jobId: string }; configuration?: { query?: unknown; dryRun?: boolean } })
    .filter((b) => b.configuration?.query && !b.configuration.dryRun)
    .map((b) => b.jobReference!.jobId);
  const creates = () => executed.filter((s) => /^CREATE OR REPLACE TABLE `acme-analytics.fc.orders`/.test(s.trim())).length;

  it("gives each action (and each query of a job) its deterministic job id", async () => {
    const run = await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r1" });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    const ids = queryJobIds();
    const base = (a: string) => jobIdFor("r1", a);
    assert.ok(ids.includes(base("fc.orders")));
    assert.ok(ids.includes(base("two_queries")) && ids.includes(`${base("two_queries")}_2`), ids.join("\n"));
    assert.ok(ids.includes(base("fc_assertions.orders_positive")));
    assert.equal(new Set(ids).size, ids.length, "no id is used for two different jobs");
    assert.equal(run.actions.find((a) => a.action === "fc.orders")!.jobId, base("fc.orders"));
    // The credential the client presented never reaches the run record or the run history it wrote.
    assert.ok(fake.requests.some((r) => r.authorization?.includes(fake.accessToken)), "the client authenticated");
    const written = JSON.stringify(run) + JSON.stringify(fake.requests.map((r) => r.media ?? "")) + JSON.stringify(fake.table(`${P}.${settings.datasets.meta}.run_history`)?.rows ?? []);
    assert.ok(!written.includes(fake.accessToken));
  });

  it("reports a failing assertion's count and sample (its two queries do not collide)", async () => {
    failingRows = 2;
    const run = await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r-assert" });
    const a = run.actions.find((x) => x.action === "fc_assertions.orders_positive")!;
    assert.equal(a.status, "failed");
    assert.match(a.error!, /^2 row\(s\) violate fc_assertions.orders_positive; e.g. \{"id":1\}$/);
  });

  it("attaches to a job whose insert answer was lost instead of running it again", async () => {
    // The first insert reaches BigQuery (the job runs) but its answer is lost: a 503 comes back.
    fake.failNext("jobs.insert", { status: 503, applied: true });
    // No run history here: its table is created by the run's first job, which would take the fault.
    const run = await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r-lost", selection: { actions: ["fc.orders"] }, recordHistory: false });
    assert.equal(run.status, "succeeded", JSON.stringify(run.actions));
    assert.equal(creates(), 1, "the CREATE ran once");
    const ids = queryJobIds();
    assert.deepEqual(ids.filter((i) => i === jobIdFor("r-lost", "fc.orders")).length, 2, "submitted twice under one id");
  });

  it("runs nothing twice when the same run is submitted again", async () => {
    await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r-again", selection: { actions: ["fc.orders"] } });
    const again = await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r-again", selection: { actions: ["fc.orders"] } });
    assert.equal(again.status, "succeeded");
    assert.equal(creates(), 1, "the second submit attached to the finished job");
  });

  it("runs a previously failed action as a new job when the run is resumed", async () => {
    fake.nextJob({ errorResult: { reason: "invalidQuery", message: "Table not found: upstream" } });
    const first = await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r-res", selection: { actions: ["fc.orders"] }, recordHistory: false });
    assert.equal(first.status, "failed");
    assert.match(first.actions[0]!.error!, /Table not found: upstream/);
    assert.match(first.actions[0]!.error!, new RegExp(jobIdFor("r-res", "fc.orders")), "a non-retryable error names the job id and the action");
    assert.match(first.actions[0]!.error!, /in action fc\.orders/);
    // Without an attempt id the resumed action would attach to the failed job and fail again.
    const resumed = await runGraph({ graph: graph(), engine, settings, artifacts, runId: "r-res", attempt: "resume_1", selection: { actions: ["fc.orders"] } });
    assert.equal(resumed.status, "succeeded", JSON.stringify(resumed.actions));
    assert.ok(queryJobIds().includes(jobIdFor("r-res", "fc.orders", "resume_1")));
  });
});
