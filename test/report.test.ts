import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import yargs from "yargs";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { reportCommand } from "../src/cli/commands/report.ts";
import { latestRunId, loadReportData, reviveRunRecord, runRecordFromHistory } from "../src/report/data.ts";
import { createFormats } from "../src/report/format.ts";
import { escapeHtml, renderReportHtml } from "../src/report/html.ts";
import { actionTimelineSvg, axisTicks, funnelGraphSpec, overallTransitions } from "../src/report/charts.ts";
import type { ActionRecord } from "../src/runner/run-record.ts";
import { writeRunReport } from "../src/report/write.ts";
import { RUN_HISTORY_SCHEMA, historyRow } from "../src/runner/run-record.ts";
import type { ColumnSchema, Engine } from "../src/engines/engine.ts";
import { PROJECT_DIR, memoryEngine } from "./support/warehouse.ts";
import { startZetaSQL, type ZetaColumn } from "./support/zetasql.ts";
import { DB, RUN_ID, SCHEMAS, fixtureRun, fixtureTarget, writeFixtureTables, type FixtureTable } from "./report-fixtures.ts";

const settings = loadProjectSettings(PROJECT_DIR).settings;
const graph = { projectConfig: { defaultDatabase: DB, defaultSchema: "funnelcredit", assertionSchema: "funnelcredit_assertions", vars: {} } };
const historyTarget = { database: DB, schema: settings.datasets.meta, name: "run_history" };

describe("report formatting", () => {
  it("writes numbers for people: separators, percentages, money in the settings' currency", () => {
    const f = createFormats("EUR");
    assert.equal(f.int(1234567.4), "1,234,567");
    assert.equal(f.pct(0.1234), "12.3%");
    assert.equal(f.money(186450), "€186,450");
    assert.equal(f.money(12.5), "€12.50");
    assert.equal(f.ratio(1.944), "1.94×");
    assert.equal(f.fixed(0.6), "0.60");
    assert.equal(f.int(null), "–");
    assert.equal(f.duration(850), "850 ms");
    assert.equal(f.duration(12_400), "12.4 s");
    assert.equal(f.duration(185_000), "3 min 05 s");
    assert.equal(f.timestamp(new Date("2026-11-24T09:15:00Z")), "2026-11-24 09:15:00 UTC");
    assert.equal(createFormats("USD").money(-2500), "-$2,500");
  });

  it("escapes HTML in anything that came from data", () => {
    assert.equal(escapeHtml(`<script>alert("x")</script> & 'y'`), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
  });
});

describe("run timeline (drawn without Vega)", () => {
  const at = (s: number): Date => new Date(Date.UTC(2026, 11, 5, 3, 0, 0) + s * 1000);
  const action = (name: string, status: ActionRecord["status"], from: number, to: number): ActionRecord =>
    ({ action: name, kind: "table", status, startedAt: at(from), endedAt: at(to) }) as ActionRecord;

  it("draws one bar per action from its start to its end on a 0 to 5 s axis, coloured by status, names escaped", () => {
    const svg = actionTimelineSvg([action("a.paths", "succeeded", 0, 2), action("b.<fit> & co", "failed", 2, 4.2), action("c.instant", "skipped", 4.2, 4.2)], (a) => a.slice(2))!;
    assert.match(svg, /^<svg [^>]*role="img" aria-label="Actions of the run over time, coloured by status"/);
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" rx="2" fill="(#\w+)"><title>([^<]*)<\/title>/g)];
    assert.deepEqual(bars.map((b) => [b[3], b[4]]), [
      ["#3f9a5b", "paths: succeeded, 0.00 s to 2.00 s"],
      ["#d64545", "&lt;fit&gt; &amp; co: failed, 2.00 s to 4.20 s"],
      ["#a3a8b0", "instant: skipped, 4.20 s to 4.22 s"],
    ]);
    // 640 px for 5 s: 2 s is 256 px, 2.2 s 281.6 px, the instant one's sliver of 0.02 s 2.6 px.
    assert.deepEqual(bars.map((b) => Number(b[2])), [256, 281.6, 2.6]);
    assert.equal(Number(bars[1]![1]) - Number(bars[0]![1]), 256);
    assert.deepEqual([...svg.matchAll(/text-anchor="middle" fill="#4b5563">([^<]*)</g)].map((m) => m[1]), ["0", "1", "2", "3", "4", "5"]);
    assert.deepEqual([...svg.matchAll(/fill="#374151">(\w+)<\/text>/g)].map((m) => m[1]), ["succeeded", "failed", "skipped"]);
    assert.equal(actionTimelineSvg([]), undefined);
  });

  it("puts at most 8 round ticks on the axis", () => {
    assert.deepEqual(axisTicks(4.2), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(axisTicks(0.03), [0, 0.01, 0.02, 0.03]);
    assert.deepEqual(axisTicks(0.7), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    assert.deepEqual(axisTicks(95), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(axisTicks(0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe("report data", () => {
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => engine.close());

  it("says which tables were not produced instead of failing", async () => {
    const d = await loadReportData(engine, settings, graph, fixtureRun());
    for (const l of [d.creditByModel, d.agreement, d.creditDaily, d.funnel, d.metrics, d.curves, d.importance, d.monitoring, d.scoreDistribution, d.channelPerformance, d.campaignPerformance]) {
      assert.equal(l.state, "missing");
    }
    assert.deepEqual(d.outputCounts.map((c) => c.state), ["missing", "missing", "missing", "missing"]);
    const html = await renderReportHtml(d);
    assert.match(html, /Channel credit by model: not produced in this run/);
    assert.match(html, /Lead scores: not produced in this run/);
    assert.match(html, /Campaign performance: not produced in this run/);
    assert.match(html, /Top conversion paths: not produced in this run/);
    // Only the run's own timeline is drawn.
    assert.equal(html.match(/<figure/g)?.length, 1);
  });

  it("reports a table it cannot read (a column missing) as unreadable, with the engine's message", async () => {
    await engine.writeRows(fixtureTarget(settings, "campaign_performance"), [{ name: "channel", type: "STRING" }, { name: "spend", type: "FLOAT64" }], [{ channel: "Email", spend: 10 }], { mode: "replace" });
    const d = await loadReportData(engine, settings, graph, fixtureRun());
    assert.equal(d.campaignPerformance.state, "error");
    const html = await renderReportHtml(d);
    assert.match(html, /could not read <code>funnelcredit\.campaign_performance<\/code>/);
  });

  it("shows model figures of the latest run when this run did not refit the model", async () => {
    await writeFixtureTables(engine, settings, { only: ["model_metrics"], runId: "20261120T080000-old00000" });
    const d = await loadReportData(engine, settings, graph, fixtureRun());
    assert.equal(d.metrics.state, "ok");
    assert.equal(d.metrics.state === "ok" && d.metrics.note, "lead_scoring from run 20261120T080000-old00000; ml_attribution from run 20261120T080000-old00000: this run did not refit them");
  });

  it("reads the same data with the datasets' tables listed in one query as table by table", async () => {
    await writeFixtureTables(engine, settings, { only: ["lead_scores", "model_metrics", "campaign_performance", "channel_credit_daily"] });
    const now = (): Date => new Date("2026-12-05T00:00:00Z");
    const listed = await loadReportData(engine, settings, graph, fixtureRun(), { now });
    // The same engine without the listing: the report asks about each table on its own.
    const oneByOne = new Proxy(engine, {
      get: (t, p) => {
        if (p === "tableShapesIn") return undefined;
        const v = Reflect.get(t, p) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const asked = await loadReportData(oneByOne, settings, graph, fixtureRun(), { now });
    assert.equal(listed.campaignPerformance.state, "ok", "a written table is read");
    assert.equal(listed.creditByModel.state, "missing", "an unwritten one is missing");
    assert.deepEqual(listed, asked);
  });

  it("shows the path tables' rows in their key's order, whatever order the table holds them in", async () => {
    const keys: Record<string, string> = { conversion_paths: "path_rank", path_length_distribution: "path_length", time_lag_distribution: "days_to_conversion", assisted_conversions: "channel" };
    await writeFixtureTables(engine, settings, { only: Object.keys(keys) as FixtureTable[] });
    for (const [table, key] of Object.entries(keys)) {
      // Rewritten newest key first: a scan without ORDER BY returns them so.
      const t = fixtureTarget(settings, table as FixtureTable);
      const q = `"${t.schema}"."${t.name}"`;
      await engine.queryNative(`CREATE OR REPLACE TABLE ${q} AS SELECT * FROM ${q} ORDER BY ${key} DESC`);
    }
    const d = await loadReportData(engine, settings, graph, fixtureRun());
    for (const [i, [table, key]] of Object.entries(keys).entries()) {
      const p = d.paths[i]!;
      assert.equal(p.data.state, "ok", `${table} is read`);
      const got = p.data.state === "ok" ? p.data.rows.map((r) => r[key]) : [];
      assert.ok(got.length > 2, `${table} has rows to order (${got.length})`);
      const sorted = [...got].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))));
      assert.deepEqual(got, sorted, `${table} rows in ${key} order`);
    }
  });

  it("aggregates lead scores in the warehouse and reads key factors", async () => {
    await writeFixtureTables(engine, settings, { only: ["lead_scores"] });
    const d = await loadReportData(engine, settings, graph, fixtureRun());
    assert.ok(d.leadSummary.state === "ok" && d.leadSummary.rows[0]!.leads === 400);
    assert.ok(d.scoreDistribution.state === "ok");
    assert.equal(d.scoreDistribution.rows.reduce((s, r) => s + r.leads, 0), 400);
    assert.ok(d.topLeads.state === "ok" && d.topLeads.rows.length === 10);
    assert.equal(d.topLeads.rows[0]!.key_factors.length, 3);
    assert.deepEqual(Object.keys(d.topLeads.rows[0]!.key_factors[0]!), ["feature", "contribution", "direction"]);
  });

  it("rebuilds a run record from run_history and finds the latest run", async () => {
    const run = fixtureRun({ failing: true });
    await engine.writeRows(historyTarget, RUN_HISTORY_SCHEMA, run.actions.map((a) => historyRow(run, a)), { mode: "replace" });
    const older = fixtureRun({ runId: "20261101T000000-older000" });
    const shifted = older.actions.map((a) => ({ ...a, startedAt: new Date(a.startedAt.getTime() - 86_400_000 * 23), endedAt: new Date(a.endedAt.getTime() - 86_400_000 * 23) }));
    await engine.writeRows(historyTarget, RUN_HISTORY_SCHEMA, shifted.map((a) => historyRow(older, a)), { mode: "append" });
    assert.equal(await latestRunId(engine, settings, graph), run.runId);
    const rebuilt = (await runRecordFromHistory(engine, settings, graph, run.runId))!;
    assert.equal(rebuilt.status, "failed");
    assert.equal(rebuilt.actions.length, run.actions.length);
    const failed = rebuilt.actions.find((a) => a.status === "failed")!;
    assert.equal(failed.action, "ml_attribution");
    assert.match(failed.error!, /days_to_convert/);
    assert.deepEqual(rebuilt.warnings, run.warnings);
    assert.equal(await runRecordFromHistory(engine, settings, graph, "no-such-run"), undefined);
  });

  it("reads with SQL BigQuery accepts (every query analyzed by ZetaSQL against the contract schemas)", async function () {
    this.timeout(60_000);
    await writeFixtureTables(engine, settings);
    const run = fixtureRun();
    await engine.writeRows(historyTarget, RUN_HISTORY_SCHEMA, run.actions.map((a) => historyRow(run, a)), { mode: "replace" });
    const sent: string[] = [];
    // The real engine, recording what the report sends it.
    const recording = new Proxy(engine, {
      get(target, prop, receiver) {
        if (prop === "query") return (sql: string, opts?: object) => { sent.push(sql); return target.query(sql, opts); };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Engine;
    await loadReportData(recording, settings, graph, run);
    await latestRunId(recording, settings, graph);
    await runRecordFromHistory(recording, settings, graph, run.runId);
    const typeOf = (c: ColumnSchema): string => {
      const base = c.type === "RECORD" ? `STRUCT<${(c.fields ?? []).map((f) => `${f.name} ${typeOf(f)}`).join(", ")}>` : c.type;
      return c.mode === "REPEATED" ? `ARRAY<${base}>` : base;
    };
    const tables: Record<string, ZetaColumn[]> = { [`${DB}.${historyTarget.schema}.run_history`]: RUN_HISTORY_SCHEMA.map((c) => ({ name: c.name, type: typeOf(c) })) };
    for (const t of Object.keys(SCHEMAS) as FixtureTable[]) {
      const target = fixtureTarget(settings, t);
      tables[`${DB}.${target.schema}.${t}`] = SCHEMAS[t].map((c) => ({ name: c.name, type: typeOf(c) }));
    }
    const zeta = await startZetaSQL();
    try {
      assert.ok(sent.length >= 20, `only ${sent.length} queries recorded`);
      for (const sql of sent) {
        const r = await zeta.analyze(sql, { tables });
        assert.ok(r.ok, `not valid BigQuery SQL: ${sql}\n${r.ok ? "" : r.error}`);
      }
    } finally {
      await zeta.stop();
    }
  });

  it("revives a run record read back from run.json", () => {
    const run = fixtureRun();
    const back = reviveRunRecord(JSON.parse(JSON.stringify(run)));
    assert.deepEqual(back, run);
  });
});

describe("report page", () => {
  let engine: DuckDBEngine;
  let dir: string;
  beforeEach(async () => {
    engine = await memoryEngine();
    dir = await mkdtemp(path.join(os.tmpdir(), "funnelcredit-report-"));
  });
  afterEach(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes one self-contained file next to the run record: inline script only, nothing fetched", async () => {
    await writeFixtureTables(engine, settings);
    const file = await writeRunReport(engine, settings, fixtureRun(), new LocalArtifactStore(dir), { database: DB });
    assert.equal(file, path.join(dir, "runs", RUN_ID, "report.html"));
    const html = readFileSync(file, "utf8");
    assert.doesNotMatch(html, /<script[^>]*\bsrc=|<link|<img|<iframe/i);
    // Two inline scripts: the comparison data (JSON) and the model picker that reads it.
    assert.deepEqual([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]), [' type="application/json" id="credit-data"', ""]);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
    assert.doesNotMatch(html, /url\((?!#)/);
    // Every figure has a chart and a table to fall back on.
    const figures = html.split("<figure").slice(1);
    // Answer, share heatmap, agreement heatmap, over time, funnel ×2, ROC, calibration, importance, scores, lift, PSI, actions.
    assert.equal(figures.length, 13);
    for (const f of figures) {
      assert.match(f, /<svg[^>]*>/);
      assert.match(f, /<details><summary>Show the numbers<\/summary><div class="table-wrap" tabindex="0"><table>/);
    }
    // SVG ids are unique across the page (clip paths of many charts).
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length);
    // The answer: the model model_recommendation picked, why, its 90 % intervals, and the fixture's Paid Search spend.
    assert.match(html, /Recommended model: <code>markov_order_1<\/code> — closest to the true incremental shares on the 5 benchmark worlds most like this data/);
    assert.match(html, /By <code>markov_order_1<\/code>, the channels that earn the conversions are/);
    assert.match(html, /<th[^>]*>90 % interval<\/th>/);
    assert.match(html, /<th[^>]*>bootstrap interval \(sampling noise\)<\/th>/);
    assert.match(html, /90 % interval: the bootstrap interval \(Poisson bootstrap of the journeys[^<]*widened by the 90 % conformal quantile/);
    assert.match(html, /Why this model: every model&#39;s expected distance to the true shares|Why this model: every model's expected distance to the true shares/);
    assert.match(html, /\$21,500/);
  });

  it("leads with the fixed rule when no model_recommendation was written, and shows no interval column without intervals", async () => {
    await writeFixtureTables(engine, settings, { only: ["channel_credit_by_model", "channel_performance"] });
    const html = await renderReportHtml(await loadReportData(engine, settings, graph, fixtureRun()));
    assert.match(html, /Recommended model: <code>owox_funnel<\/code>\. Rule: the OWOX funnel model/);
    assert.doesNotMatch(html, /90 % interval/);
  });

  it("shows a failed action's error, escaped, at the top of the run summary", async () => {
    const run = fixtureRun({ failing: true });
    run.actions.find((a) => a.status === "failed")!.error = "bad <b>thing</b>";
    const html = await renderReportHtml(await loadReportData(engine, settings, graph, run));
    assert.match(html, /1 action failed<\/strong> — 2 downstream actions were skipped/);
    assert.match(html, /bad &lt;b&gt;thing&lt;\/b&gt;/);
    assert.match(html, /<title>funnelcredit · run [^<]+ · failed<\/title>/);
  });
});

describe("funnel graph", () => {
  const row = (from: string, to: string, p: number, n: number, device: string | null) =>
    ({ from_step: from, to_step: to, user_type: null, device, region: null, probability: p, level: "segment", sample_size: n });

  it("averages segments by sample size when the model wrote no overall row", () => {
    // (0.5 × 100 + 0.2 × 300) / 400 = 0.275
    const [t] = overallTransitions([row("a", "b", 0.5, 100, "desktop"), row("a", "b", 0.2, 300, "mobile")]);
    assert.equal(t!.probability, 0.275);
    assert.equal(t!.sample_size, 400);
  });

  it("takes the global estimate a segment fell back to as the overall probability", () => {
    const global = { ...row("a", "b", 0.31, 5000, "tablet"), level: "global" };
    const [t] = overallTransitions([row("a", "b", 0.5, 100, "desktop"), global]);
    assert.equal(t!.probability, 0.31);
    assert.equal(t!.level, "global");
  });

  it("summarises the reliability levels per transition when there are too many segments for a heatmap", async () => {
    const engine = await memoryEngine();
    try {
      const rows = Array.from({ length: 40 }, (_, i) => ({ ...row("site_visit", "view_item", 0.5, 100, `device_${i}`), level: i % 3 ? "user_type_device" : "global" }));
      await engine.writeRows(fixtureTarget(settings, "funnel_transition_probabilities"), SCHEMAS.funnel_transition_probabilities, rows, { mode: "replace" });
      const html = await renderReportHtml(await loadReportData(engine, settings, graph, fixtureRun()));
      assert.match(html, /Reliability level used per transition<\/span><span class="fig-sub">share of the 40 segments/);
      assert.doesNotMatch(html, /Transition probability per segment/);
    } finally {
      await engine.close();
    }
  });

  it("prefers the rows written for all segments", () => {
    const all = row("a", "b", 0.4, 1000, null);
    assert.deepEqual(overallTransitions([row("a", "b", 0.5, 100, "desktop"), all]), [all]);
  });

  it("draws the steps in settings order", () => {
    const spec = funnelGraphSpec([row("view_item", "add_to_cart", 0.3, 10, null), row("site_visit", "view_item", 0.5, 10, null)], ["site_visit", "view_item", "add_to_cart"]);
    const nodes = ((spec!.layer as { data: { values: { node: string }[] } }[])[1]!.data.values).map((n) => n.node);
    assert.deepEqual(nodes, ["site_visit", "view_item", "add_to_cart"]);
  });
});

describe("funnelcredit report", () => {
  it("writes the report of the latest run in run history to the artifacts folder", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "funnelcredit-report-cli-"));
    try {
      const warehouse = path.join(dir, "warehouse.duckdb");
      const engine = await DuckDBEngine.open({ path: warehouse, memoryLimit: "1GB", threads: 1 });
      const run = fixtureRun({ failing: true });
      await engine.writeRows({ ...historyTarget, database: "funnelcredit-local" }, RUN_HISTORY_SCHEMA, run.actions.map((a) => historyRow(run, a)), { mode: "replace" });
      await engine.close();
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
      try {
        await yargs().command(reportCommand).strict().fail((msg, err) => { throw err ?? new Error(msg); })
          .parseAsync(["report", "--project", PROJECT_DIR, "--warehouse", warehouse, "--artifacts", path.join(dir, "artifacts")]);
      } finally {
        process.stdout.write = write;
      }
      const file = path.join(dir, "artifacts", "runs", run.runId, "report.html");
      assert.ok(existsSync(file), `no ${file}; output: ${out.join("")}`);
      assert.deepEqual(out, [`${file}\n`]);
      assert.match(readFileSync(file, "utf8"), /1 action failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
