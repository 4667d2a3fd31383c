/**
 * The whole pipeline on the demo sample, on the embedded engine: every SQLX model and every job
 * runs, credits add up to what they distribute, an incremental re-run with one more day processes
 * only that day, and re-running gives byte-identical credit tables.
 */
import assert from "node:assert/strict";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import type { Project } from "../src/compile/project.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { writeRunReport } from "../src/report/write.ts";
import { OUT, inspectReport, launchChromium } from "./support/browser.ts";

const CREDIT_TABLES = ["ml_channel_credit", "ml_channel_credit_daily", "session_credit", "channel_credit_daily", "transaction_credit", "channel_credit_by_model", "heuristic_channel_credit", "funnel_event_credit", "owox_session_values"];

async function checksum(engine: DuckDBEngine, schema: string, table: string): Promise<string> {
  // Order-independent: the sum of a hash of every row's JSON text.
  const [row] = await engine.queryNative(`SELECT COUNT(*) AS n, SUM(hash(to_json(t)::VARCHAR)) AS h FROM "${schema}"."${table}" AS t`);
  return `${row!.n}:${row!.h}`;
}

describe("demo pipeline on DuckDB", function () {
  this.timeout(300_000);
  let project: Project;
  let engine: DuckDBEngine;
  let first: RunRecord;

  // A small sample: the ML jobs' safety floors (AUC floor, matured labels) are meant for real volumes,
  // so they are relaxed here; the floors themselves are tested with the jobs.
  const SMALL_SAMPLE_VARS = { ml_min_auc: "0", lead_label_maturity_days: "0" };

  before(async () => {
    project = await compiledProject(SMALL_SAMPLE_VARS);
    engine = await memoryEngine();
    const ds = project.settings.datasets;
    await generateDemo(engine.localLoading, { users: 4000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    await ensureSourceTables(engine, project.settings);
    first = await runProject(project, engine, { fullRefresh: true, runId: "first" });
  });
  after(async () => engine?.close());

  it("runs every model and job without a failure", () => {
    assertRunSucceeded(first);
    const kinds = new Set(first.actions.map((a) => a.kind));
    for (const k of ["table", "view", "incremental", "assertion", "job"]) assert.ok(kinds.has(k), `ran a ${k}`);
  });

  it("gives every model exactly the conversions and value of the transactions it distributes", async () => {
    const ds = project.settings.datasets;
    const [tx] = await engine.queryNative(`SELECT COUNT(*) AS n, SUM(value) AS v FROM "${ds.intermediate}".transactions`);
    const rows = await engine.queryNative(`SELECT model, SUM(conversions) AS c, SUM(value) AS v FROM "${ds.outputs}".session_credit GROUP BY model ORDER BY model`);
    assert.ok(rows.length >= 9, `models: ${rows.map((r) => r.model).join(", ")}`);
    for (const r of rows) {
      assert.ok(Math.abs(Number(r.c) - Number(tx!.n)) < 1e-6, `${r.model} conversions ${r.c} vs ${tx!.n}`);
      assert.ok(Math.abs(Number(r.v) - Number(tx!.v)) < 1e-6 * Number(tx!.v), `${r.model} value ${r.v} vs ${tx!.v}`);
    }
    const nan = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${ds.outputs}".channel_credit_by_model WHERE isnan(share) OR share IS NULL`);
    assert.equal(nan[0]!.n, 0);
  });

  it("publishes no excitation_linear credit when every channel is responsive, as in the demo, and says so", async () => {
    const ds = project.settings.datasets;
    // The demo's users arrive and leave within the period (src/demo/journeys.ts), so every channel's sessions bunch
    // up after other channels' more than an even spread over the whole span would put there: all are responsive.
    const ex = await engine.queryNative(`SELECT channel, incoming_ratio, is_responsive FROM "${ds.intermediate}".channel_excitation ORDER BY channel`);
    assert.ok(ex.length >= 5 && ex.every((r) => r.is_responsive === true), `responsive: ${ex.map((r) => `${r.channel}=${Number(r.incoming_ratio).toFixed(2)}`).join(", ")}`);
    // The rule tells no channel apart: it publishes nothing rather than linear under its name, so neither the credit
    // tables nor the recommendation hold it, and the comparison names it.
    const [n] = await engine.queryNative(`SELECT
      (SELECT COUNT(*) FROM "${ds.outputs}".excitation_linear_channel_credit) AS channel_rows,
      (SELECT COUNT(*) FROM "${ds.outputs}".session_credit WHERE model = 'excitation_linear') AS session_rows,
      (SELECT COUNT(*) FROM "${ds.outputs}".channel_credit_by_model WHERE model = 'excitation_linear') AS by_model_rows,
      (SELECT COUNT(*) FROM "${ds.outputs}".model_recommendation WHERE model = 'excitation_linear') AS recommendation_rows,
      (SELECT COUNT(*) FROM "${ds.outputs}".model_recommendation WHERE model = 'linear') AS linear_rows`);
    assert.deepEqual([n!.channel_rows, n!.session_rows, n!.by_model_rows, n!.recommendation_rows, n!.linear_rows].map(Number), [0, 0, 0, 0, 1]);
    const comparison = first.actions.find((a) => a.action.endsWith("model_comparison"));
    assert.match(String(comparison?.metrics?.not_published ?? ""), /excitation_linear/);
  });

  it("gives self_controlled credit only to the channels whose visits do not bunch up after other touches beyond chance", async () => {
    const ds = project.settings.datasets;
    // Measured on this sample: z 1.6–1.9 for two channels (Offline, Paid Social), 4.0–22.4 for the others. On data like
    // the demo's (users active for a short stretch) the model's premise — a chain's conversions spread evenly over the
    // data's span — does not hold (README "Accuracy"), so this pins what it does there, not that it is right.
    const ex = await engine.queryNative(`SELECT channel, incoming_z FROM "${ds.intermediate}".channel_excitation ORDER BY channel`);
    const own = ex.filter((r) => Number(r.incoming_z) <= project.settings.selfControlledResponsiveZ).map((r) => String(r.channel));
    assert.ok(own.length >= 1 && own.length < ex.length, `on their own schedule: ${own.join(", ")}`);
    const credit = await engine.queryNative(`SELECT channel, is_responsive, conversions FROM "${ds.outputs}".self_controlled_channel_credit ORDER BY channel`);
    assert.ok(credit.length >= 5, `${credit.length} channels`);
    for (const r of credit) {
      assert.equal(r.is_responsive, !own.includes(String(r.channel)), String(r.channel));
      if (r.is_responsive) assert.equal(Number(r.conversions), 0, String(r.channel));
    }
    const [tx] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${ds.intermediate}".transactions`);
    const [byModel] = await engine.queryNative(`SELECT SUM(conversions) AS c FROM "${ds.outputs}".channel_credit_by_model WHERE model = 'self_controlled'`);
    assert.ok(Math.abs(Number(byModel!.c) - Number(tx!.n)) < 1e-6, `${byModel!.c} of ${tx!.n}`);
  });

  it("writes a report of the demo run that opens with the answer and passes Chromium and axe at desktop and phone widths", async function () {
    const browser = await launchChromium(this);
    try {
      // The answer leads with the model_recommendation job's pick (benchmark accuracy on similar worlds, bootstrap stability).
      const picked = await engine.queryNative(`SELECT model FROM "${project.settings.datasets.outputs}".model_recommendation WHERE is_recommended`);
      assert.equal(picked.length, 1);
      const recommended = String(picked[0]!.model);
      const other = recommended === "shapley" ? "linear" : "shapley";
      const file = await writeRunReport(engine, project.settings, first, new LocalArtifactStore(path.join(OUT, "artifacts")), { database: project.graph.projectConfig.defaultDatabase });
      for (const [name, viewport] of [["report-demo-desktop", { width: 1366, height: 900 }], ["report-demo-phone", { width: 390, height: 844 }]] as const) {
        const page = await inspectReport(browser, file, name, viewport);
        assert.deepEqual(page.consoleErrors, [], name);
        assert.deepEqual(page.emptyFigures, [], `${name}: figures without a rendered SVG`);
        assert.deepEqual(page.seriousA11y, [], `${name}: serious or critical axe-core violations`);
        assert.equal(page.overflows, false, `${name}: the page scrolls sideways`);
        assert.deepEqual(page.sections, ["answer", "compare", "over-time", "paths", "campaigns", "funnel", "models", "leads", "run"]);
        assert.ok(page.figures >= 12, `${page.figures} figures`);
        assert.doesNotMatch(page.text, /could not read/);
        assert.ok(page.text.includes(`By ${recommended}, the channels that earn the conversions are`), name);
        assert.ok(page.text.includes(`Recommended model: ${recommended} — closest to the true incremental shares on the 10 benchmark worlds most like this data`), name);
      }
      // The model picker re-renders the comparison from the embedded data, offline.
      const page = await browser.newPage();
      await page.goto(pathToFileURL(file).href);
      assert.equal(await page.inputValue("#cmp-a"), recommended);
      await page.selectOption("#cmp-b", other);
      const heads = await page.$$eval("#cmp-table th", (els) => els.map((e) => e.textContent));
      assert.deepEqual(heads, ["channel", `${recommended} conversions`, `${other} conversions`, "change", "change %", `${recommended} share`, `${other} share`]);
      assert.ok((await page.$$("#cmp-table tbody tr")).length >= 5);
      await page.close();
    } finally {
      await browser.close();
    }
  });

  it("re-runs to byte-identical credit tables", async () => {
    const ds = project.settings.datasets;
    const before = await Promise.all(CREDIT_TABLES.map((t) => checksum(engine, ds.outputs, t)));
    const again = await runProject(project, engine, { fullRefresh: true, runId: "again" });
    assertRunSucceeded(again);
    const after = await Promise.all(CREDIT_TABLES.map((t) => checksum(engine, ds.outputs, t)));
    assert.deepEqual(after, before);
  });

  it("processes only the re-processing window and the new day on an incremental run", async () => {
    const ds = project.settings.datasets;
    const eng = await memoryEngine();
    try {
      await generateDemo(eng.localLoading, { users: 800, days: 8, seed: 11, ga4Schema: ds.ga4, sourcesSchema: ds.sources, intradayDays: 0 });
      await ensureSourceTables(eng, project.settings);
      const days = (await eng.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${ds.ga4}' AND table_name LIKE 'events_2%' ORDER BY 1`)).map((r) => String(r.table_name));
      const lastDay = days[days.length - 1]!;
      // Hold the last day back, build everything, then let it "arrive".
      await eng.runNative(`ALTER TABLE "${ds.ga4}"."${lastDay}" RENAME TO held_back`);
      const staging = { actions: ["stg_ga4_events"], includeDependencies: true };
      assertRunSucceeded(await runProject(project, eng, { fullRefresh: true, runId: "before-new-day", selection: staging }));
      await eng.runNative(`ALTER TABLE "${ds.ga4}".held_back RENAME TO "${lastDay}"`);
      const run = await runProject(project, eng, { runId: "new-day", selection: staging });
      assertRunSucceeded(run);
      const staged = run.actions.find((a) => a.action === `${ds.staging}.stg_ga4_events`)!;
      const perDay = await eng.queryNative(`SELECT event_date, COUNT(*) AS n FROM "${ds.staging}".stg_ga4_events GROUP BY 1 ORDER BY 1`);
      assert.equal(perDay.length, days.length, "every day staged once");
      // The run rewrote the last reprocess_days staged days plus the new one (DELETE + INSERT), nothing older.
      const window = perDay.slice(-(project.settings.reprocessDays + 1)).reduce((s, r) => s + Number(r.n), 0);
      const all = perDay.reduce((s, r) => s + Number(r.n), 0);
      assert.ok(Number(staged.rows) <= 2 * window, `incremental wrote ${staged.rows} rows; window ${window}, all ${all}`);
      assert.ok(Number(staged.rows) < 2 * all * 0.8, "did not rewrite everything");
      const [{ n: dupes }] = (await eng.queryNative(`SELECT COUNT(*) - COUNT(DISTINCT event_key) AS n FROM "${ds.staging}".stg_ga4_events`)) as { n: number }[];
      assert.equal(Number(dupes), 0);
    } finally {
      await eng.close();
    }
  });
});
