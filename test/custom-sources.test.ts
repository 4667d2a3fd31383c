/**
 * Custom-event and cost sources as settings (vars.custom_event_sources, vars.cost_sources): tables in their own shapes
 * mapped onto the contracts of includes/catalog.js, unioned in staging, bad rows quarantined with their source's name.
 * (1) hand-made fixtures on DuckDB, computed by hand; (2) the demo sample with its two analyst-owned tables and a
 * Google Ads Data-Transfer-shaped cost table through the whole DAG on DuckDB and on the BigQuery engine (strict local
 * BigQuery), equal table by table.
 */
import { canonicalRows } from "./support/canonical.ts";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { loadProjectSettings } from "../src/config/settings.ts";
import { duckIdent, type DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Engine, Row } from "../src/engines/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { compiledProject, memoryEngine, runProject, rowsOf, assertRunSucceeded, fixtureTable, PROJECT_DIR } from "./support/warehouse.ts";
import { startStrictBigQuery } from "./support/strict-bigquery.ts";
import { loadInputs, STAGING, INTERMEDIATE, META, type Ga4Event } from "./fixtures/warehouse/builders.ts";

/** The call centre's log: local New York wall-clock text, cents, outcome codes; the webinar export: UTC timestamps. */
const CALL_CENTRE = {
  name: "call_centre", table: "calls", priority: 2, session_timeout_minutes: 30, conversion_events: ["call_sale"],
  columns: {
    name: { column: "outcome", values: { sale: "call_sale" }, default: "call" },
    category: { value: "call" },
    time: { column: "started", time_zone: "America/New_York" },
    user_id: "cust",
    transaction_id: "order_ref",
    revenue: { column: "cents", scale: 0.01 },
    utm_source: { value: "phone" },
    utm_medium: { value: "call" },
  },
};
const WEBINARS = {
  name: "webinars", table: "webinars", priority: 1,
  columns: { name: { value: "webinar_attended" }, category: { value: "webinar" }, time: "attended_at", user_id: "member", transaction_id: "order_ref", revenue: "amount", utm_campaign: "topic" },
};
/** Google Ads and Meta Ads as the Data Transfer Service writes them (fixture tables below). */
const COST_SOURCES = [
  { name: "google_ads", preset: "google_ads_dts", dataset: "google_ads", customer_id: "123-456-7890" },
  { name: "meta_ads", preset: "meta_ads_dts", dataset: "facebook_ads" },
];

async function googleAdsTables(engine: { runNative(sql: string): Promise<unknown> } | DuckDBEngine, schema: string): Promise<void> {
  await fixtureTable(engine as DuckDBEngine, schema, "ads_CampaignBasicStats_1234567890", {
    campaign_id: "BIGINT", customer_id: "BIGINT", segments_date: "DATE", segments_ad_network_type: "VARCHAR", segments_device: "VARCHAR",
    metrics_clicks: "BIGINT", metrics_cost_micros: "BIGINT", metrics_impressions: "BIGINT", _DATA_DATE: "DATE", _LATEST_DATE: "DATE",
  }, [
    [111, 1234567890, "2024-06-01", "SEARCH", "DESKTOP", 10, 2_500_000, 100, "2024-06-01", "2024-06-02"],
    [111, 1234567890, "2024-06-01", "SEARCH", "MOBILE", 5, 1_500_000, 50, "2024-06-01", "2024-06-02"],
    [222, 1234567890, "2024-06-01", "CONTENT", "DESKTOP", 1, 500_000, 1000, "2024-06-01", "2024-06-02"],
    [222, 1234567890, null, "CONTENT", "DESKTOP", 1, 500_000, 1000, "2024-06-01", "2024-06-02"],
    [222, 1234567890, "2024-06-02", "CONTENT", "DESKTOP", 1, -1_000_000, 1000, "2024-06-02", "2024-06-02"],
  ]);
  // A daily snapshot of the campaigns: the latest names win.
  await fixtureTable(engine as DuckDBEngine, schema, "ads_Campaign_1234567890", {
    campaign_id: "BIGINT", campaign_name: "VARCHAR", customer_id: "BIGINT", _DATA_DATE: "DATE", _LATEST_DATE: "DATE",
  }, [
    [111, "Brand (old name)", 1234567890, "2024-06-01", "2024-06-02"],
    [111, "Brand", 1234567890, "2024-06-02", "2024-06-02"],
    [222, "Display retargeting", 1234567890, "2024-06-02", "2024-06-02"],
  ]);
}

describe("custom-event and cost sources", function () {
  this.timeout(900_000);

  describe("settings", () => {
    it("name the var, the source and the field of a bad source", () => {
      const bad = (v: unknown, re: RegExp, k = "custom_event_sources") =>
        assert.throws(() => loadProjectSettings(PROJECT_DIR, { [k]: JSON.stringify(v) }), (e: Error) => new RegExp(`vars\\.${k} = .*`).test(e.message) && re.test(e.message));
      bad([{ name: "calls", table: "calls", columns: { name: "a" } }], /source 1 \(calls\): columns: map time \(required\)/);
      bad([{ name: "calls", table: "calls", columns: { name: "a", time: "t" } }], /source 1 \(calls\): columns: map user_id or client_id/);
      bad([{ name: "calls", table: "calls", columns: { name: "a", time: "t", user_id: "u", colour: "c" } }], /columns: colour is not a contract field/);
      bad([{ name: "calls", table: "calls", columns: { name: "a", time: { column: "t", time_zone: "not a zone!" }, user_id: "u" } }], /time: "time_zone" is for time only/);
      bad([{ name: "custom_events", table: "x", columns: {} }], /the name "custom_events" is used twice/);
      bad([{ name: "g", preset: "google_ads_dts" }], /needs "customer_id"/, "cost_sources");
      bad([{ name: "g", preset: "tiktok" }], /unknown preset "tiktok" \(known: google_ads_dts, meta_ads_dts, csv\)/, "cost_sources");
      assert.throws(() => loadProjectSettings(PROJECT_DIR, { funnel_steps: JSON.stringify([{ name: "a", match: { event_name: "a" } }, { name: "b", match: { custom_fields: { colour: "x" } } }]) }), /step "b": "custom_fields"/);
    });

    it("resolve a Data Transfer preset to its tables, with the customer id and the lookup of campaign names", () => {
      const s = loadProjectSettings(PROJECT_DIR, { cost_sources: JSON.stringify(COST_SOURCES) }).settings;
      const g = JSON.parse(JSON.stringify(s.costSources.find((x) => x.name === "google_ads"))) as typeof s.costSources[number];
      assert.deepEqual(g.table, { schema: "google_ads", name: "ads_CampaignBasicStats_1234567890" });
      assert.deepEqual(g.lookup?.table, { schema: "google_ads", name: "ads_Campaign_1234567890" });
      assert.equal(g.columns.cost!.scale, 0.000001);
      assert.deepEqual(Array.from(s.costSources, (x) => x.name), ["costs", "google_ads", "meta_ads"]);
    });
  });

  describe("on DuckDB, hand-made sources", () => {
    let engine: DuckDBEngine;
    beforeEach(async () => { engine = await memoryEngine(); });
    afterEach(async () => { await engine.close(); });

    it("unions two sources of different shapes: time zones, cents, sessions by timeout, conversions, priority, funnel steps by custom fields, per-source quarantine", async () => {
      const ga4: Ga4Event[] = [
        { day: "20240601", time: "09:00:00", name: "page_view", client: "A", session: 1, user: "u1", page: "https://shop.example.com/?utm_source=google&utm_medium=cpc" },
      ];
      await loadInputs(engine, { ga4 });
      await fixtureTable(engine, "funnelcredit_sources", "calls", { call_ref: "VARCHAR", started: "VARCHAR", cust: "VARCHAR", outcome: "VARCHAR", cents: "BIGINT", order_ref: "VARCHAR" }, [
        // New York is UTC−4 in June: 08:00 local = 12:00 UTC.
        ["c1", "2024-06-01 08:00:00", "u1", "sale", 12345, null],   // call_sale, 123.45, a conversion (transaction = its event key)
        ["c2", "2024-06-01 08:20:00", "u1", "no_sale", null, null],  // 20 min later: same session (timeout 30)
        ["c3", "2024-06-01 09:30:00", "u1", "callback", null, "T9"], // 70 min later: a new session; reports T9 with no revenue
        ["c4", "yesterday", "u1", "no_sale", null, null],            // quarantined: call_centre: unparseable time
        ["c5", "2024-06-01 10:00:00", null, "no_sale", null, null],  // quarantined: call_centre: missing user_id and client_id
      ]);
      await fixtureTable(engine, "funnelcredit_sources", "webinars", { att: "VARCHAR", attended_at: "TIMESTAMP", member: "VARCHAR", order_ref: "VARCHAR", amount: "DOUBLE", topic: "VARCHAR" }, [
        ["w1", "2024-06-01 14:00:00", "u1", "T9", 50, "launch"],  // T9 again: webinars has priority 1 < call_centre's 2, so its record wins
        ["w2", null, "u1", null, null, "launch"],                  // quarantined: webinars: missing time
        ["w3", "2024-06-01 15:00:00", "u1", null, -5, "launch"],   // quarantined: webinars: negative revenue
      ]);
      const project = await compiledProject({
        custom_event_sources: JSON.stringify([CALL_CENTRE, WEBINARS]),
        funnel_steps: JSON.stringify([
          { name: "site_visit", match: { non_bounce: true } },
          { name: "phone_call", match: { custom_fields: { source: "call_centre" } } },
          { name: "webinar", match: { custom_fields: { category: "webinar" } } },
          { name: "purchase", match: { event_name: "purchase" } },
        ]),
      }, []);
      const run = await runProject(project, engine, { selection: { actions: ["funnel_event_occurrences", "custom_events_quarantine", "dq_custom_events_quarantined"], includeDependencies: true } });
      assert.equal(run.actions.find((a) => a.action.endsWith("dq_custom_events_quarantined"))!.rows, 4);

      const quarantined = await rowsOf(engine, META, "custom_events_quarantine", "source, row_number");
      assert.deepEqual(quarantined.map((r) => [r.source, r.reason]), [
        // Rows are numbered by their text within a source: "2024-…" sorts before "yesterday".
        ["call_centre", "call_centre: missing user_id and client_id"],
        ["call_centre", "call_centre: unparseable time"],
        ["webinars", "webinars: missing time"],
        ["webinars", "webinars: negative revenue"],
      ]);

      const events = await rowsOf(engine, STAGING, "stg_custom_events", "event_at");
      const iso = (v: unknown) => (v as Date).toISOString().slice(0, 19);
      assert.deepEqual(events.map((r) => [r.source, r.event_name, iso(r.event_at), r.revenue, r.utm_medium]), [
        ["call_centre", "call_sale", "2024-06-01T12:00:00", 123.45, "call"],
        ["call_centre", "call", "2024-06-01T12:20:00", null, "call"],
        ["call_centre", "call", "2024-06-01T13:30:00", null, "call"],
        ["webinars", "webinar_attended", "2024-06-01T14:00:00", 50, null],
      ]);
      // Sessions: c1 and c2 together (20 min apart), c3 alone (70 min later).
      assert.equal(events[0]!.session_key, events[1]!.session_key);
      assert.notEqual(events[1]!.session_key, events[2]!.session_key);
      // The sale is a conversion of its own; T9 comes from the webinar (priority 1), worth 50, not the call's nothing.
      assert.equal(events[0]!.transaction_id, events[0]!.event_key);
      const tx = await rowsOf(engine, INTERMEDIATE, "int_transactions_deduplicated", "transaction_id");
      const byId = Object.fromEntries(tx.map((r) => [String(r.transaction_id), r]));
      assert.equal(byId[String(events[0]!.event_key)]!.value, 123.45);
      assert.equal(byId.T9!.value, 50);
      assert.equal(byId.T9!.session_key, events[3]!.session_key);

      const steps = await rowsOf(engine, INTERMEDIATE, "funnel_event_occurrences", "event_at, step");
      const stepOf = Object.fromEntries(steps.map((r) => [String(r.event_key), r.step]));
      assert.equal(stepOf[String(events[1]!.event_key)], "phone_call");
      assert.equal(stepOf[String(events[3]!.event_key)], "webinar");
      assert.equal(stepOf["tx:T9"], "purchase");
    });

    it("maps Google Ads and Meta Ads Data Transfer tables to costs by channel, quarantining bad rows by source, next to the costs table", async () => {
      await loadInputs(engine, { costs: [["2024-06-01", "newsletter", "email", "june", 3, 0, 0]] });
      await googleAdsTables(engine, "google_ads");
      await fixtureTable(engine, "facebook_ads", "AdInsights", { DateStart: "DATE", CampaignId: "VARCHAR", CampaignName: "VARCHAR", Spend: "DOUBLE", Clicks: "BIGINT", Impressions: "BIGINT" }, [
        ["2024-06-01", "9", "Prospecting", 12.5, 7, 900],
        ["2024-06-01", "9", "Prospecting", null, 1, 10],   // quarantined: meta_ads: missing cost
      ]);
      const project = await compiledProject({ cost_sources: JSON.stringify(COST_SOURCES) }, []);
      const run = await runProject(project, engine, { selection: { actions: ["stg_costs", "costs_quarantine", "dq_costs_quarantined"], includeDependencies: true } });
      assertRunSucceeded(run);
      const costs = await rowsOf(engine, STAGING, "stg_costs", "source, medium");
      // Google Ads search 2.5 + 1.5 = 4 (micros / 10^6), 15 clicks, 150 impressions, under the campaign's latest name.
      assert.deepEqual(costs.map((r) => [String(r.cost_date).slice(0, 10), r.source, r.medium, r.campaign, r.channel, r.cost, Number(r.click_count), Number(r.impression_count)]), [
        ["2024-06-01", "facebook", "paid_social", "Prospecting", "Paid Social", 12.5, 7, 900],
        ["2024-06-01", "google", "cpc", "Brand", "Paid Search", 4, 15, 150],
        ["2024-06-01", "google", "display", "Display retargeting", "Display", 0.5, 1, 1000],
        ["2024-06-01", "newsletter", "email", "june", "Email", 3, 0, 0],
      ]);
      const q = await rowsOf(engine, META, "costs_quarantine", "cost_source, reason");
      assert.deepEqual(q.map((r) => r.reason), ["google_ads: missing date", "google_ads: negative cost", "meta_ads: missing cost"]);
      assert.equal(run.actions.find((a) => a.action.endsWith("dq_costs_quarantined"))!.status, "warning");
    });
  });

  describe("the demo's two sources and a Data-Transfer cost table through the whole DAG", () => {
    const P = "funnelcredit-local";
    const DEMO = { users: 400, days: 10, seed: 7, intradayDays: 0 };
    const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-custom-sources"));
    const canonical = (rows: Row[]): string[] => canonicalRows(rows);

    it("runs on DuckDB and on the BigQuery engine with equal outputs; each source's bad rows are quarantined with its name", async () => {
      const vars = {
        ml_min_auc: "0", lead_label_maturity_days: "0",
        custom_event_sources: JSON.stringify([
          {
            name: "call_centre", table: "call_centre_calls", session_timeout_minutes: 30, conversion_events: ["call_sale"],
            columns: {
              name: { column: "outcome", values: { sale: "call_sale" }, default: "call" }, category: { value: "call" },
              time: { column: "started_local", time_zone: "America/New_York" }, user_id: "customer_ref",
              revenue: { column: "order_value_cents", scale: 0.01 }, utm_source: { value: "phone" }, utm_medium: { value: "call" }, utm_campaign: "campaign_code",
            },
          },
          { name: "webinars", model: "webinar_events", priority: 2, columns: ["name", "category", "time", "user_id", "utm_source", "utm_medium", "utm_campaign"] },
        ]),
        cost_sources: JSON.stringify([COST_SOURCES[0]]),
      };
      const project = await compiledProject(vars);
      const ds = project.settings.datasets;
      const bq = await startStrictBigQuery({ projectId: P, location: "EU" });
      const duck = await memoryEngine();
      try {
        bq.addDataset(ds.ga4, "EU");
        bq.addDataset(ds.sources, "EU");
        bq.addDataset("google_ads", "EU");
        await generateDemo(bq.duck.localLoading, { ...DEMO, ga4Schema: `${P}/${ds.ga4}`, sourcesSchema: `${P}/${ds.sources}` });
        await generateDemo(duck.localLoading, { ...DEMO, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
        await googleAdsTables(bq.duck, `${P}/google_ads`);
        await googleAdsTables(duck, "google_ads");
        const runOn = async (e: Engine): Promise<RunRecord> => {
          await ensureSourceTables(e, project.settings, e === duck ? "" : P);
          return runGraph({ graph: project.graph, engine: e, settings: project.settings, artifacts, now: () => new Date("2026-06-01T00:00:00Z"), fullRefresh: true });
        };
        const duckRun = await runOn(duck);
        const bqRun = await runOn(bq.engine());
        const failed = (r: RunRecord) => r.actions.filter((a) => a.status === "failed" && !/only \d+ labelled leads/.test(String(a.error))).map((a) => `${a.action}: ${a.error}`);
        assert.deepEqual(failed(duckRun), []);
        assert.deepEqual(failed(bqRun), []);
        const statusOf = (r: RunRecord) => Object.fromEntries(r.actions.map((a) => [a.action, a.status]));
        assert.deepEqual(statusOf(bqRun), statusOf(duckRun));

        // Both sources reach sessions and credit: calls as the Call Centre channel, webinars as webinar / email.
        const sessions = await duck.queryNative(`SELECT source, medium, COUNT(*) AS n FROM ${ds.intermediate}.int_sessions_unioned WHERE source_system = 'custom' GROUP BY 1, 2 ORDER BY 1, 2`);
        // (The demo's built-in custom_events table brings its own: newsletter / email, phone / offline.)
        const pairs = sessions.map((r) => `${String(r.source)} / ${String(r.medium)}`);
        assert.ok(pairs.includes("phone / call") && pairs.includes("webinar / email"), pairs.join(", "));
        const credit = await duck.queryNative(`SELECT DISTINCT channel FROM ${ds.outputs}.channel_credit_daily WHERE channel = 'Call Centre'`);
        assert.equal(credit.length, 1, "call-centre sales earn credit");

        // Bad rows by source, the same on both engines.
        const quarantine = "SELECT source, reason FROM %s.custom_events_quarantine WHERE source != 'custom_events' ORDER BY 1, 2";
        const want = (await duck.queryNative(quarantine.replace("%s", ds.meta))).map((r) => [r.source, r.reason]);
        assert.deepEqual(want, [["call_centre", "call_centre: missing user_id and client_id"], ["call_centre", "call_centre: unparseable time"], ["webinars", "webinars: missing user_id and client_id"]]);
        const have = (await bq.rows(`${P}.${ds.meta}.custom_events_quarantine`)).filter((r) => r.source !== "custom_events").map((r) => [r.source, r.reason]).sort((a, b) => String(a).localeCompare(String(b)));
        assert.deepEqual(have, want);
        const costQ = await bq.rows(`${P}.${ds.meta}.costs_quarantine`);
        assert.deepEqual(costQ.map((r) => r.reason).sort(), ["google_ads: missing date", "google_ads: negative cost"]);

        // Every output and model table equal, and the staged costs.
        const differing: string[] = [];
        let compared = 0;
        for (const schema of [ds.outputs, ds.models]) {
          const tables = (await duck.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE' ORDER BY 1`)).map((r) => String(r.table_name));
          for (const t of [...tables.map((x) => [schema, x] as const)]) {
            const a = canonical(await duck.queryNative(`SELECT * FROM ${duckIdent(t[0])}.${duckIdent(t[1])}`));
            const b = canonical(await bq.rows(`${P}.${t[0]}.${t[1]}`));
            compared++;
            if (JSON.stringify(a) !== JSON.stringify(b)) differing.push(`${t[0]}.${t[1]}`);
          }
        }
        assert.deepEqual(differing, []);
        assert.ok(compared >= 15, `only ${compared} tables compared`);
        const costs = (r: Row[]) => canonical(r.filter((x) => x.source === "google"));
        assert.deepEqual(costs(await bq.rows(`${P}.${ds.staging}.stg_costs`)), costs(await duck.queryNative(`SELECT * FROM ${ds.staging}.stg_costs`)));
        // The Data Transfer rows (the demo's costs table has google rows of its own): search and display, under the latest names.
        const dts = await duck.queryNative(`SELECT medium, channel, cost FROM ${ds.staging}.stg_costs WHERE campaign IN ('Brand', 'Display retargeting') ORDER BY medium`);
        assert.deepEqual(dts.map((r) => [r.medium, r.channel, r.cost]), [["cpc", "Paid Search", 4], ["display", "Display", 0.5]]);
      } finally {
        await bq.close();
        await duck.close();
      }
    });
  });
});
