/**
 * The analyst's tables (spend and return per model, campaign and segment grain, paths and timing) on a
 * hand-made warehouse whose figures are computed by hand below: the same fixture and assertions on the
 * DuckDB engine and on the BigQuery engine against the strict local BigQuery (the real client; every
 * statement analyzed by ZetaSQL as GoogleSQL). Upstream tables (session_credit, transactions,
 * conversion_journeys, the costs source) are written as fixtures, so each figure follows from a few rows.
 * Their columns are checked against the catalog (includes/catalog.js), the contract the report reads.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import type { ColumnSchema, Engine, Row, Target } from "../src/engines/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { CATALOG, tableLocation, tableSchema } from "../src/catalog/index.ts";
import type { Project } from "../src/compile/project.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import { BOTH_ENGINES, STRICT_PROJECT as P, type Warehouse } from "./support/both-engines.ts";
import { loadInputs, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import { funnelMarkovJob } from "../jobs/funnel-markov.ts";
import { channelMarkovJob } from "../jobs/channel-markov.ts";
import { shapleyJob } from "../jobs/shapley.ts";
import { mlAttributionJob } from "../jobs/ml-attribution.ts";

const S = (name: string): ColumnSchema => ({ name, type: "STRING" });
const F = (name: string): ColumnSchema => ({ name, type: "FLOAT64" });
const I = (name: string): ColumnSchema => ({ name, type: "INT64" });
const TS = (name: string): ColumnSchema => ({ name, type: "TIMESTAMP" });
const D = (name: string): ColumnSchema => ({ name, type: "DATE" });
const B = (name: string): ColumnSchema => ({ name, type: "BOOL" });

const SESSION_CREDIT: ColumnSchema[] = [
  S("session_key"), S("model"), S("transaction_id"), F("conversions"), F("value"), S("channel"), D("session_date"),
  S("source"), S("medium"), S("campaign"), S("device"), S("user_type"), S("region"), D("conversion_date"),
];
const TRANSACTIONS: ColumnSchema[] = [S("transaction_id"), S("chain_key"), S("session_key"), TS("transaction_at"), D("transaction_date"), F("value"), S("source_system"), B("is_distributed")];
const JOURNEYS: ColumnSchema[] = [
  S("journey_key"), S("chain_key"), S("transaction_id"), B("converted"), F("value"), TS("journey_end_at"),
  { name: "touches", type: "RECORD", mode: "REPEATED", fields: [S("session_key"), S("channel"), TS("touch_at"), I("position")] },
  I("truncated_touch_count"), S("user_type"), S("device"), S("region"),
];

/*
 * Sessions (source / medium / campaign → channel by the default channel_rules; device, user type, region):
 *   s1 google/cpc/brand → Paid Search, desktop, New, Bavaria      s2 newsletter/email/spring → Email, mobile, Returning, Bavaria
 *   s3 google/cpc/generic → Paid Search, mobile, New, Berlin      s4 google/cpc/brand → Paid Search, desktop, New, Berlin
 *   s5 (direct)/(none)/(not set) → Direct, desktop, Returning, Berlin
 * Transactions: T1 2026-03-01 value 100 (path s1 > s2), T2 2026-03-01 value 60 (s3), T3 2026-03-02 value 40 (s4 > s5).
 * Credit: last_touch gives each transaction to its last session; linear splits it equally.
 */
const SESSIONS: Record<string, [string, string, string, string, string, string, string]> = {
  s1: ["Paid Search", "google", "cpc", "brand", "desktop", "New", "Bavaria"],
  s2: ["Email", "newsletter", "email", "spring", "mobile", "Returning", "Bavaria"],
  s3: ["Paid Search", "google", "cpc", "generic", "mobile", "New", "Berlin"],
  s4: ["Paid Search", "google", "cpc", "brand", "desktop", "New", "Berlin"],
  s5: ["Direct", "(direct)", "(none)", "(not set)", "desktop", "Returning", "Berlin"],
};
function credit(session: string, model: string, tx: string, share: number, txValue: number): Row {
  const [channel, source, medium, campaign, device, user_type, region] = SESSIONS[session]!;
  const conversion_date = tx === "T3" ? "2026-03-02" : "2026-03-01"; // the transactions' dates (TRANSACTION_ROWS)
  return { session_key: session, model, transaction_id: tx, conversions: share, value: share * txValue, channel, session_date: "2026-03-01", source, medium, campaign, device, user_type, region, conversion_date };
}
const CREDIT: Row[] = [
  credit("s2", "last_touch", "T1", 1, 100), credit("s1", "linear", "T1", 0.5, 100), credit("s2", "linear", "T1", 0.5, 100),
  credit("s3", "last_touch", "T2", 1, 60), credit("s3", "linear", "T2", 1, 60),
  credit("s5", "last_touch", "T3", 1, 40), credit("s4", "linear", "T3", 0.5, 40), credit("s5", "linear", "T3", 0.5, 40),
];
const tx = (id: string, day: string, value: number): Row => ({
  transaction_id: id, chain_key: `u:${id}`, session_key: null, transaction_at: new Date(`${day}T12:00:00Z`), transaction_date: day, value, source_system: "ga4", is_distributed: true,
});
const TRANSACTION_ROWS = [tx("T1", "2026-03-01", 100), tx("T2", "2026-03-01", 60), tx("T3", "2026-03-02", 40)];

/*
 * Costs (date, source, medium, campaign, cost, clicks, impressions); channels by the same rules as sessions:
 *   2026-03-01 google/cpc/brand 30 (10 clicks, 100 impr.), google/cpc/generic 20 (5, 50), bing/cpc/NULL 5 (1, 10) → Paid Search 55 (16, 160)
 *   2026-03-02 google/cpc/brand 25 (4, 80) → Paid Search 25; facebook/paid_social/retarget 10 (2, 40) → Paid Social 10 (credited by nobody)
 */
const COSTS: Row[] = [
  { date: "2026-03-01", source: "google", medium: "cpc", campaign: "brand", cost: 30, clicks: 10, impressions: 100 },
  { date: "2026-03-01", source: "google", medium: "cpc", campaign: "generic", cost: 20, clicks: 5, impressions: 50 },
  { date: "2026-03-01", source: "bing", medium: "cpc", campaign: null, cost: 5, clicks: 1, impressions: 10 },
  { date: "2026-03-02", source: "google", medium: "cpc", campaign: "brand", cost: 25, clicks: 4, impressions: 80 },
  { date: "2026-03-02", source: "facebook", medium: "paid_social", campaign: "retarget", cost: 10, clicks: 2, impressions: 40 },
];

/*
 * Journeys for the path tables (touches oldest first; end = the conversion):
 *   J1 value 100: Paid Search 02-20 12:00, Paid Search 02-25, Email 03-01 10:00; end 03-01 12:00 → "Paid Search ×2 > Email", 3 touches, lag 9 days
 *   J2 value 60:  Paid Search 03-01 08:00; end 03-01 09:00 → "Paid Search", 1 touch, lag 0
 *   J3 value 40:  Paid Search 02-28 20:00, Direct 03-02 10:00; end 03-02 10:30 → "Paid Search > Direct", 2, lag 1 (1 d 14.5 h)
 *   J4 value 30:  Paid Search 03-02 09:00; end 03-02 09:30 → "Paid Search", 1, lag 0
 *   J5 not converted: Email (left out of every path table)
 *   J6 value 10:  Email 02-25 00:00, Paid Search 02-26, Email 02-27 00:00; end 02-27 01:00 → "Email > Paid Search > Email", 3, lag 2 (2 d 1 h)
 */
function journey(key: string, converted: boolean, value: number, end: string, touches: [string, string][]): Row {
  return {
    journey_key: key, chain_key: `c:${key}`, transaction_id: converted ? key : null, converted, value, journey_end_at: new Date(end),
    touches: touches.map(([channel, at], i) => ({ session_key: `${key}-${i + 1}`, channel, touch_at: new Date(at), position: i + 1 })),
    truncated_touch_count: 0, user_type: "New", device: "desktop", region: "Bavaria",
  };
}
const JOURNEY_ROWS: Row[] = [
  journey("J1", true, 100, "2026-03-01T12:00:00Z", [["Paid Search", "2026-02-20T12:00:00Z"], ["Paid Search", "2026-02-25T12:00:00Z"], ["Email", "2026-03-01T10:00:00Z"]]),
  journey("J2", true, 60, "2026-03-01T09:00:00Z", [["Paid Search", "2026-03-01T08:00:00Z"]]),
  journey("J3", true, 40, "2026-03-02T10:30:00Z", [["Paid Search", "2026-02-28T20:00:00Z"], ["Direct", "2026-03-02T10:00:00Z"]]),
  journey("J4", true, 30, "2026-03-02T09:30:00Z", [["Paid Search", "2026-03-02T09:00:00Z"]]),
  journey("J5", false, 0, "2026-03-03T09:00:00Z", [["Email", "2026-03-03T09:00:00Z"]]),
  journey("J6", true, 10, "2026-02-27T01:00:00Z", [["Email", "2026-02-25T00:00:00Z"], ["Paid Search", "2026-02-26T00:00:00Z"], ["Email", "2026-02-27T00:00:00Z"]]),
];

const ANALYST_TABLES = ["channel_performance", "campaign_performance", "segment_credit_daily", "conversion_paths", "path_length_distribution", "time_lag_distribution", "assisted_conversions"];

/** Numbers compared to 1e-9; rows keyed for readable failures. */
function near(actual: unknown, expected: number | null, what: string): void {
  if (expected === null) return assert.equal(actual, null, `${what}: expected NULL, got ${String(actual)}`);
  assert.ok(typeof actual === "number" || typeof actual === "bigint", `${what}: expected ${expected}, got ${String(actual)}`);
  assert.ok(Math.abs(Number(actual) - expected) < 1e-9, `${what}: expected ${expected}, got ${String(actual)}`);
}
function expectRows(rows: Row[], key: (r: Row) => string, expected: Record<string, Record<string, number | null>>, what: string): void {
  const byKey = new Map(rows.map((r) => [key(r), r]));
  assert.deepEqual([...byKey.keys()].sort(), Object.keys(expected).sort(), `${what}: rows`);
  for (const [k, cols] of Object.entries(expected)) for (const [c, v] of Object.entries(cols)) near(byKey.get(k)![c], v, `${what} ${k} ${c}`);
}
const dateText = (v: unknown): string => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));


for (const { name, open } of BOTH_ENGINES) {
  describe(`analyst tables on ${name}: spend and return, campaigns and segments, paths and timing`, function () {
    this.timeout(600_000);
    let project: Project;
    let wh: Warehouse;
    const rows = new Map<string, Row[]>();
    const at = (schema: string, table: string): Target => ({ database: wh.database, schema, name: table });

    before(async () => {
      project = await compiledProject({}, []);
      wh = await open(project);
      const ds = project.settings.datasets;
      const write = (t: Target, schema: ColumnSchema[], r: Row[]) => wh.engine.writeRows(t, schema, r, { mode: "replace" });
      await wh.engine.ensureDataset(wh.database, ds.outputs);
      await wh.engine.ensureDataset(wh.database, ds.intermediate);
      await wh.engine.ensureDataset(wh.database, ds.sources);
      await write(at(ds.outputs, "session_credit"), SESSION_CREDIT, CREDIT);
      await write(at(ds.intermediate, "transactions"), TRANSACTIONS, TRANSACTION_ROWS);
      await write(at(ds.intermediate, "conversion_journeys"), JOURNEYS, JOURNEY_ROWS);
      await write(tableLocation("costs", { settings: project.settings, database: wh.database }), tableSchema("costs"), COSTS);
      const run = await runGraph({
        graph: project.graph, engine: wh.engine, settings: project.settings,
        artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-analyst-tables")),
        selection: { actions: ["stg_cost_sources_checked", "stg_costs", ...ANALYST_TABLES, ...ANALYST_TABLES.map((t) => `rpt_${t}`)] },
      });
      assertRunSucceeded(run);
      // Each table's uniqueKey check ran with it and passed: for a table rebuilt whole, in the query that builds it
      // (helpers.eachKeyOnce); for the tables restated by conversion day, the post-operations (partitions.checks).
      const RESTATED = new Set(["channel_performance", "campaign_performance", "segment_credit_daily"]);
      for (const t of ANALYST_TABLES.filter((x) => !RESTATED.has(x))) {
        assert.ok(run.actions.some((a) => a.action.endsWith(`.${t}`) && a.kind === "table" && a.status === "succeeded"), `${t}: built`);
        const query = project.graph.actions.find((a) => a.kind === "table" && a.target.name === t)?.query ?? "";
        assert.match(query, new RegExp(`ERROR\\(CONCAT\\('${t}: ', CAST\\(rows_with_key AS STRING\\)`), `${t}: its key checked by its build`);
      }
      for (const t of RESTATED) assert.ok(run.actions.some((a) => a.action.endsWith(`.${t}`) && a.kind === "incremental" && a.status === "succeeded"), `${t}: built with its checks`);
      for (const t of ANALYST_TABLES) rows.set(t, await wh.engine.query(`SELECT * FROM \`${wh.database ? wh.database + "." : ""}${ds.outputs}.${t}\``));
    });
    after(async () => wh?.close());

    it("builds each table with exactly the columns and types its catalog entry declares", async () => {
      const declared = CATALOG.filter((c) => "model" in c.producer && ANALYST_TABLES.includes(c.name));
      assert.deepEqual(declared.map((c) => c.name).sort(), [...ANALYST_TABLES].sort(), "every analyst table is in the catalog as a SQL model's table");
      for (const t of declared) {
        const built = await wh.engine.tableSchema(tableLocation(t.name, { settings: project.settings, database: wh.database }));
        assert.deepEqual(built.map((c) => `${c.name} ${c.type}`), t.columns.map((c) => `${c.name} ${c.type}`), `${t.name} vs includes/catalog.js`);
      }
    });

    /*
     * channel_performance (cost; last_touch conversions/value; linear conversions/value):
     *   03-01 Paid Search: cost 55, 16 clicks, 160 impr.; last_touch T2 → 1 / 60 (CPA 55, ROAS 60/55);
     *         linear ½ T1 + T2 → 1.5 / 110 (CPA 55/1.5 = 36.67, ROAS 2), vs last touch (1.5 − 1)/1 = +0.5
     *   03-01 Email: no cost row (cost 0; CPA NULL — unknown, not free; ROAS NULL); last_touch T1 → 1 / 100; linear ½ → 0.5 / 50, change −0.5
     *   03-02 Paid Search: cost 25; last_touch none → CPA NULL, ROAS 0; linear ½ T3 → 0.5 / 20, CPA 50, ROAS 0.8; change NULL (last touch 0)
     *   03-02 Direct: last_touch 1 / 40; linear 0.5 / 20, change −0.5
     *   03-02 Paid Social: cost 10, credited by no model: conversions 0, CPA NULL, ROAS 0, change NULL — a row for each model
     */
    it("puts each day's spend beside every model's credit: CPA, ROAS and the change vs last touch", () => {
      const lt = (c: number, v: number) => ({ last_touch_conversions: c, last_touch_value: v });
      expectRows(rows.get("channel_performance")!, (r) => `${dateText(r.date)} ${r.model} ${r.channel}`, {
        "2026-03-01 last_touch Paid Search": { cost: 55, clicks: 16, impressions: 160, conversions: 1, value: 60, cpa: 55, roas: 60 / 55, ...lt(1, 60), conversions_change_vs_last_touch: 0 },
        "2026-03-01 linear Paid Search": { cost: 55, clicks: 16, impressions: 160, conversions: 1.5, value: 110, cpa: 55 / 1.5, roas: 2, ...lt(1, 60), conversions_change_vs_last_touch: 0.5 },
        "2026-03-01 last_touch Email": { cost: 0, clicks: 0, conversions: 1, value: 100, cpa: null, roas: null, ...lt(1, 100), conversions_change_vs_last_touch: 0 },
        "2026-03-01 linear Email": { cost: 0, conversions: 0.5, value: 50, cpa: null, roas: null, ...lt(1, 100), conversions_change_vs_last_touch: -0.5 },
        "2026-03-02 last_touch Paid Search": { cost: 25, clicks: 4, impressions: 80, conversions: 0, value: 0, cpa: null, roas: 0, ...lt(0, 0), conversions_change_vs_last_touch: null },
        "2026-03-02 linear Paid Search": { cost: 25, conversions: 0.5, value: 20, cpa: 50, roas: 0.8, ...lt(0, 0), conversions_change_vs_last_touch: null },
        "2026-03-02 last_touch Direct": { cost: 0, conversions: 1, value: 40, roas: null, ...lt(1, 40), conversions_change_vs_last_touch: 0 },
        "2026-03-02 linear Direct": { conversions: 0.5, value: 20, ...lt(1, 40), conversions_change_vs_last_touch: -0.5 },
        "2026-03-02 last_touch Paid Social": { cost: 10, clicks: 2, impressions: 40, conversions: 0, value: 0, cpa: null, roas: 0, conversions_change_vs_last_touch: null },
        "2026-03-02 linear Paid Social": { cost: 10, conversions: 0, cpa: null, roas: 0 },
      }, "channel_performance");
    });

    /*
     * campaign_performance, linear (last_touch in brackets):
     *   03-01 google/cpc/brand: cost 30; ½ T1 → 0.5 / 50, CPA 60, ROAS 50/30 [0 → CPA NULL, ROAS 0]; change NULL
     *   03-01 google/cpc/generic: cost 20; T2 → 1 / 60, CPA 20, ROAS 3 [same]; change 0
     *   03-01 bing/cpc/(not set): cost 5 (a missing campaign reads '(not set)'), no credit
     *   03-01 newsletter/email/spring: no cost; 0.5 / 50 [1 / 100]
     *   03-02 google/cpc/brand: cost 25; ½ T3 → 0.5 / 20, CPA 50, ROAS 0.8 [0]
     *   03-02 (direct)/(none)/(not set): 0.5 / 20 [1 / 40]; 03-02 facebook/paid_social/retarget: cost 10, no credit
     */
    it("breaks spend and return down by source, medium and campaign, matching costs to the credited sessions' traffic", () => {
      const all = rows.get("campaign_performance")!;
      const key = (r: Row) => `${dateText(r.date)} ${r.model} ${r.channel} ${r.source}/${r.medium}/${r.campaign}`;
      expectRows(all.filter((r) => r.model === "linear"), key, {
        "2026-03-01 linear Paid Search google/cpc/brand": { cost: 30, clicks: 10, impressions: 100, conversions: 0.5, value: 50, cpa: 60, roas: 50 / 30, last_touch_conversions: 0, conversions_change_vs_last_touch: null },
        "2026-03-01 linear Paid Search google/cpc/generic": { cost: 20, conversions: 1, value: 60, cpa: 20, roas: 3, last_touch_conversions: 1, conversions_change_vs_last_touch: 0 },
        "2026-03-01 linear Paid Search bing/cpc/(not set)": { cost: 5, clicks: 1, conversions: 0, cpa: null, roas: 0 },
        "2026-03-01 linear Email newsletter/email/spring": { cost: 0, conversions: 0.5, value: 50, cpa: null, roas: null, last_touch_conversions: 1, last_touch_value: 100, conversions_change_vs_last_touch: -0.5 },
        "2026-03-02 linear Paid Search google/cpc/brand": { cost: 25, conversions: 0.5, value: 20, cpa: 50, roas: 0.8, last_touch_conversions: 0 },
        "2026-03-02 linear Direct (direct)/(none)/(not set)": { cost: 0, conversions: 0.5, value: 20, cpa: null, last_touch_conversions: 1, last_touch_value: 40, conversions_change_vs_last_touch: -0.5 },
        "2026-03-02 linear Paid Social facebook/paid_social/retarget": { cost: 10, conversions: 0, cpa: null, roas: 0 },
      }, "campaign_performance (linear)");
      near(all.find((r) => key(r) === "2026-03-01 last_touch Paid Search google/cpc/brand")!.cpa, null, "last_touch brand CPA (no conversions)");
      // Campaigns add up to their channel, for every model, day and figure.
      const sum = (rs: Row[], k: (r: Row) => string, col: string) => rs.reduce((m, r) => m.set(k(r), (m.get(k(r)) ?? 0) + Number(r[col])), new Map<string, number>());
      const byChannel = (r: Row) => `${dateText(r.date)} ${r.model} ${r.channel}`;
      for (const col of ["cost", "clicks", "impressions", "conversions", "value", "last_touch_conversions", "last_touch_value"]) {
        const campaigns = sum(all, byChannel, col);
        for (const [k, v] of sum(rows.get("channel_performance")!, byChannel, col)) near(campaigns.get(k) ?? 0, v, `${k} ${col}: campaigns vs channel`);
      }
    });

    /* segment_credit_daily, linear on 03-01: s1 desktop/New/Bavaria 0.5 (50), s2 mobile/Returning/Bavaria 0.5 (50), s3 mobile/New/Berlin 1 (60). */
    it("rolls every model's credit up by device, user type, region and campaign", () => {
      const all = rows.get("segment_credit_daily")!;
      const linear0301 = all.filter((r) => r.model === "linear" && dateText(r.credit_date) === "2026-03-01");
      expectRows(linear0301, (r) => `${r.campaign} ${r.device} ${r.user_type} ${r.region}`, {
        "brand desktop New Bavaria": { conversions: 0.5, value: 50 },
        "spring mobile Returning Bavaria": { conversions: 0.5, value: 50 },
        "generic mobile New Berlin": { conversions: 1, value: 60 },
      }, "segment_credit_daily (linear, 03-01)");
      const byDevice = (model: string) => Object.fromEntries(["desktop", "mobile"].map((d) => [d, all.filter((r) => r.model === model && r.device === d).reduce((a, r) => a + Number(r.conversions), 0)]));
      // linear: desktop s1 ½ + s4 ½ + s5 ½ = 1.5, mobile s2 ½ + s3 1 = 1.5; last_touch: desktop s5 = 1, mobile s2 + s3 = 2.
      assert.deepEqual(byDevice("linear"), { desktop: 1.5, mobile: 1.5 });
      assert.deepEqual(byDevice("last_touch"), { desktop: 1, mobile: 2 });
    });

    it("ranks conversion paths with their conversions, value and length, folding repeated channels", () => {
      expectRows(rows.get("conversion_paths")!, (r) => String(r.path), {
        "Paid Search": { conversions: 2, value: 90, path_length: 1, conversion_share: 0.4, path_rank: 1 },
        "Paid Search ×2 > Email": { conversions: 1, value: 100, path_length: 3, conversion_share: 0.2, path_rank: 2 },
        "Paid Search > Direct": { conversions: 1, value: 40, path_length: 2, conversion_share: 0.2, path_rank: 3 },
        "Email > Paid Search > Email": { conversions: 1, value: 10, path_length: 3, conversion_share: 0.2, path_rank: 4 },
      }, "conversion_paths");
    });

    it("counts conversions by path length and by whole days from first touch, with cumulative shares", () => {
      expectRows(rows.get("path_length_distribution")!, (r) => String(r.path_length), {
        1: { conversions: 2, value: 90, conversion_share: 0.4, cumulative_share: 0.4 },
        2: { conversions: 1, value: 40, conversion_share: 0.2, cumulative_share: 0.6 },
        3: { conversions: 2, value: 110, conversion_share: 0.4, cumulative_share: 1 },
      }, "path_length_distribution");
      expectRows(rows.get("time_lag_distribution")!, (r) => String(r.days_to_conversion), {
        0: { conversions: 2, value: 90, conversion_share: 0.4, cumulative_share: 0.4 },
        1: { conversions: 1, value: 40, conversion_share: 0.2, cumulative_share: 0.6 },
        2: { conversions: 1, value: 10, conversion_share: 0.2, cumulative_share: 0.8 },
        9: { conversions: 1, value: 100, conversion_share: 0.2, cumulative_share: 1 },
      }, "time_lag_distribution");
    });

    /*
     * Paid Search: last touch of J2, J4 (2, value 90); assists J1, J3, J6 (3, value 150) → ratio 1.5.
     * Email: last touch of J1, J6 (2, 110); assists J6 (its first touch; 1, 10) → 0.5. Direct: closes J3 (1, 40), assists none → 0.
     */
    it("counts each channel's last-touch and assisted conversions and their ratio", () => {
      expectRows(rows.get("assisted_conversions")!, (r) => String(r.channel), {
        "Paid Search": { last_touch_conversions: 2, last_touch_value: 90, assisted_conversions: 3, assisted_value: 150, assist_ratio: 1.5 },
        Email: { last_touch_conversions: 2, last_touch_value: 110, assisted_conversions: 1, assisted_value: 10, assist_ratio: 0.5 },
        Direct: { last_touch_conversions: 1, last_touch_value: 40, assisted_conversions: 0, assisted_value: 0, assist_ratio: 0 },
      }, "assisted_conversions");
    });

    it("serves each table through its reporting view with the currency", async () => {
      const ds = project.settings.datasets;
      for (const t of ANALYST_TABLES) {
        const view = await wh.engine.query(`SELECT * FROM \`${wh.database ? wh.database + "." : ""}${ds.reporting}.rpt_${t}\``);
        assert.equal(view.length, rows.get(t)!.length, `rpt_${t} has the table's rows`);
        assert.ok(view.every((r) => r.currency === project.settings.currency), `rpt_${t}: currency`);
      }
    });
  });
}

/*
 * From a GA4 export through the real pipeline (staging, sessions, journeys, every model and job): one user,
 * session 1 (2024-03-01 10:00, google / cpc / brand, mobile), session 2 (12:00, newsletter / email / spring)
 * with purchase T1 of 100; costs 2024-03-01 google / cpc / brand 50 (5 clicks, 100 impressions). A channel rule
 * on the campaign ("Brand Search": medium cpc, campaign ^brand) must map the cost row and the session alike.
 *   linear: Brand Search ½ → 0.5 / 50, CPA 100, ROAS 1; Email 0.5 / 50.   last_touch: Brand Search 0 (CPA NULL, ROAS 0); Email 1 / 100.
 */
describe("analyst tables from a GA4 export through the whole pipeline (DuckDB)", function () {
  this.timeout(600_000);

  it("gives session_credit each session's traffic and segment, and maps costs to channels by the same channel rules", async () => {
    const engine = await memoryEngine();
    try {
      const ev = (time: string, name: string, session: number, more: Partial<Ga4Event>): Ga4Event => ({ day: "20240301", time, name, client: "A", session, ...more });
      await loadInputs(engine, {
        ga4: [
          ev("10:00:00", "page_view", 1, { collected: { source: "google", medium: "cpc", campaign: "brand" }, device: "mobile", region: "Berlin" }),
          ev("12:00:00", "page_view", 2, { collected: { source: "newsletter", medium: "email", campaign: "spring" }, region: "Berlin" }),
          ev("12:05:00", "purchase", 2, { transactionId: "T1", revenue: 100, region: "Berlin" }),
        ],
        costs: [["2024-03-01", "google", "cpc", "brand", 50, 5, 100]],
      });
      const rules = [{ channel: "Brand Search", medium: "^cpc$", campaign: "^brand" }, { channel: "Paid Search", medium: "^cpc$" }, { channel: "Email", medium: "^email$" }];
      const project = await compiledProject({ channel_rules: JSON.stringify(rules) }, [funnelMarkovJob, channelMarkovJob, shapleyJob, mlAttributionJob]);
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["channel_performance", "campaign_performance", "segment_credit_daily"], includeDependencies: true } }));
      const ds = project.settings.datasets;

      const credit = await engine.queryNative(`
        SELECT c.session_key, c.model, c.source, c.medium, c.campaign, c.device, c.user_type, c.region,
               s.source AS s_source, s.medium AS s_medium, s.campaign AS s_campaign, s.device AS s_device, s.user_type AS s_user_type, s.region AS s_region
        FROM "${ds.outputs}".session_credit AS c JOIN "${ds.intermediate}".sessions AS s USING (session_key)`);
      assert.ok(new Set(credit.map((r) => r.model)).size >= 8, `every model credits: ${[...new Set(credit.map((r) => r.model))].join(", ")}`);
      for (const r of credit) for (const c of ["source", "medium", "campaign", "device", "user_type", "region"]) assert.equal(r[c], r[`s_${c}`], `${r.session_key} ${r.model} ${c}`);
      const brand = credit.find((r) => r.campaign === "brand")!;
      assert.deepEqual([brand.source, brand.medium, brand.device, brand.user_type, brand.region], ["google", "cpc", "mobile", "New", "Berlin"]);

      const perf = await engine.queryNative(`SELECT * FROM "${ds.outputs}".channel_performance WHERE model IN ('linear', 'last_touch')`);
      expectRows(perf, (r) => `${r.model} ${r.channel}`, {
        "linear Brand Search": { cost: 50, clicks: 5, impressions: 100, conversions: 0.5, value: 50, cpa: 100, roas: 1, last_touch_conversions: 0, conversions_change_vs_last_touch: null },
        "linear Email": { cost: 0, conversions: 0.5, value: 50, roas: null, last_touch_conversions: 1, conversions_change_vs_last_touch: -0.5 },
        "last_touch Brand Search": { cost: 50, conversions: 0, cpa: null, roas: 0 },
        "last_touch Email": { conversions: 1, value: 100, last_touch_value: 100, conversions_change_vs_last_touch: 0 },
      }, "channel_performance from GA4");
      const campaigns = await engine.queryNative(`SELECT source, medium, campaign, cost, conversions FROM "${ds.outputs}".campaign_performance WHERE model = 'linear' ORDER BY campaign`);
      assert.deepEqual(campaigns.map((r) => [r.source, r.medium, r.campaign, r.cost, r.conversions]), [["google", "cpc", "brand", 50, 0.5], ["newsletter", "email", "spring", 0, 0.5]]);
    } finally {
      await engine.close();
    }
  });
});
