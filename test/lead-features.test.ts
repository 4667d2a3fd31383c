import { strict as assert } from "node:assert";
import { compiledProject, memoryEngine, fixtureTable, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Project } from "../src/compile/project.ts";
import type { Row } from "../src/engines/engine.ts";
import { loadGa4, loadInputs, type Ga4Event } from "./fixtures/warehouse/builders.ts";

const LEADS = {
  lead_id: "VARCHAR", created_at: "TIMESTAMP", converted_at: "TIMESTAMP", converted: "BOOLEAN", user_id: "VARCHAR", client_id: "VARCHAR", industry: "VARCHAR",
};
const CUSTOM = Object.fromEntries(
  ["name", "category", "time", "user_id", "client_id", "transaction_id", "revenue", "cost", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "geo_region"].map((c) => [c, "VARCHAR"]),
);
// name, time, user, source, medium (the other columns NULL). Lead L1 (user U1) is created 2024-03-10 12:00.
const ev = (name: string, time: string, user: string, source: string, medium: string): unknown[] =>
  [name, null, time, user, null, null, null, null, source, medium, null, null, null, null];
const EVENTS = [
  ev("email_open", "2024-03-01 10:00:00", "U1", "newsletter", "email"), // session A: Email, before
  ev("download_whitepaper", "2024-03-08 09:00:00", "U1", "google", "cpc"), // session B: Paid Search, before
  ev("view_item", "2024-03-08 09:05:00", "U1", "google", "cpc"), // funnel step 2 in B, before
  ev("email_click", "2024-03-10 11:00:00", "U1", "newsletter", "email"), // session C starts before the cut-off…
  ev("call", "2024-03-10 13:00:00", "U1", "newsletter", "email"), // …but this event of C is after it
  ev("add_to_cart", "2024-03-10 13:30:00", "U1", "newsletter", "email"), // funnel step 3 in C, after the cut-off
  ev("download", "2024-03-12 10:00:00", "U1", "google", "cpc"), // session D, after
  ev("email_open", "2023-01-01 10:00:00", "U1", "newsletter", "email"), // older than lead_behaviour_lookback_days (180)
];

async function build(vars: Record<string, string>): Promise<{ engine: DuckDBEngine; rows: Map<string, Row> }> {
  const project: Project = await compiledProject(vars);
  const engine = await memoryEngine();
  const ds = project.settings.datasets;
  await fixtureTable(engine, ds.sources, "leads", LEADS, [
    ["L1", "2024-03-10 12:00:00", "2024-04-01 00:00:00", true, "U1", null, "Retail"],
    ["L2", "2024-03-10 12:00:00", null, false, null, null, "Retail"],
    ["L3", "2024-03-11 12:00:00", null, false, "U3", null, null],
  ]);
  await fixtureTable(engine, ds.sources, "custom_events", CUSTOM, EVENTS);
  await ensureSourceTables(engine, project.settings);
  const run = await runProject(project, engine, { selection: { actions: ["lead_features"], includeDependencies: true } });
  assertRunSucceeded(run);
  const rows = await rowsOf(engine, ds.intermediate, "lead_features", "lead_id");
  return { engine, rows: new Map(rows.map((r) => [String(r.lead_id), r])) };
}

const num = (v: unknown): number | null => (v === null ? null : Number(v));

describe("lead features (SQL) use nothing at or after the lead's cut-off", () => {
  it("counts sessions, e-mails, calls, downloads and funnel depth only before created_at", async () => {
    const { engine, rows } = await build({});
    try {
      const l1 = rows.get("L1")!;
      // Sessions A, B, C start before 2024-03-10 12:00; D is after; the 2023 e-mail is outside the 180-day window.
      assert.equal(num(l1.web_session_count), 3);
      // e-mails: 03-01 open and 03-10 11:00 click (not the 2023 one); the 13:00 call in session C is after the cut-off.
      assert.equal(num(l1.web_email_event_count), 2);
      assert.equal(num(l1.web_call_count), 0);
      // download_whitepaper (03-08) only; the 03-12 download is later.
      assert.equal(num(l1.web_download_count), 1);
      // Funnel: site_visit (1) and view_item (2) before; add_to_cart (3) in session C only after the cut-off.
      assert.equal(num(l1.web_deepest_funnel_step), 2);
      assert.equal(num(l1.web_distinct_channel_count), 2);
      assert.equal(l1.web_first_channel, "Email");
      assert.equal(l1.web_last_channel, "Email");
      // First touch 03-01 10:00 → cut-off 03-10 12:00 = 9 days 2 hours; last visit C at 11:00 → 1 hour.
      assert.ok(Math.abs(num(l1.web_days_since_first_visit)! - (9 + 2 / 24)) < 1e-9);
      assert.ok(Math.abs(num(l1.web_days_since_last_visit)! - 1 / 24) < 1e-9);
      assert.equal(l1.web_had_3_visits_within_48h, false);
      assert.equal(l1.industry, "Retail", "CRM columns pass through");
      // No web identity → unknown (NULL), not 0; an identity without activity → 0.
      assert.equal(rows.get("L2")!.web_session_count, null);
      assert.equal(num(rows.get("L3")!.web_session_count), 0);
    } finally {
      await engine.close();
    }
  });

  it("moves the cut-off with lead_cutoff_hours", async () => {
    // Cut-off 03-12 12:00: session D (03-12 10:00), the call and add_to_cart now count.
    const { engine, rows } = await build({ lead_cutoff_hours: "48" });
    try {
      const l1 = rows.get("L1")!;
      assert.equal(num(l1.web_session_count), 4);
      assert.equal(num(l1.web_call_count), 1);
      assert.equal(num(l1.web_download_count), 2);
      assert.equal(num(l1.web_deepest_funnel_step), 3);
    } finally {
      await engine.close();
    }
  });
});

describe("lead features (SQL) count GA4 events from int_session_day_events", () => {
  // Client C1 (no user id), cookieless events aside. Lead L9 is created 2024-03-10 12:00 (cut-off; 30 days before:
  // 2024-02-09 12:00), lead L10 2024-03-01 10:02. Pages are intent pages (/pricing, /demo, /contact) or not.
  const page = (p: string) => `https://shop.example${p}`;
  const e = (day: string, time: string, name: string, session: number | null, p?: string): Ga4Event =>
    ({ day, time, name, client: session === null ? null : "C1", session, ...(p ? { page: page(p) } : {}) });
  const FEB_09 = [e("20240209", "11:50:00", "page_view", 1, "/pricing"), e("20240209", "12:10:00", "page_view", 1, "/blog")]; // S1: L9's 30-day boundary falls inside it
  const MAR_01 = [e("20240301", "10:00:00", "file_download", 2), e("20240301", "10:05:00", "page_view", 2, "/contact")]; // S2: L10's cut-off falls inside it
  const MAR_05 = [e("20240305", "23:50:00", "page_view", 4, "/"), e("20240305", "10:00:00", "page_view", null, "/pricing")]; // S4 starts; a cookieless view
  const MAR_06 = [e("20240306", "00:10:00", "page_view", 4, "/pricing")]; // S4 crosses midnight: a second event day
  const MAR_10 = [e("20240310", "11:58:00", "page_view", 3, "/demo"), e("20240310", "12:00:00", "page_view", 3, "/pricing"), e("20240310", "12:05:00", "download_whitepaper", 3)]; // S3: L9's cut-off at its second event
  const MAR_11 = [e("20240311", "09:00:00", "page_view", 5, "/pricing")]; // S5: after both cut-offs
  const VARS = { start_date: "20240201", reprocess_days: "1" };

  async function warehouse(): Promise<{ engine: DuckDBEngine; project: Project }> {
    const project = await compiledProject(VARS);
    const engine = await memoryEngine();
    await loadInputs(engine, {});
    await fixtureTable(engine, project.settings.datasets.sources, "leads", LEADS, [
      ["L9", "2024-03-10 12:00:00", null, false, null, "C1", null],
      ["L10", "2024-03-01 10:02:00", null, false, null, "C1", null],
    ]);
    await ensureSourceTables(engine, project.settings);
    return { engine, project };
  }
  const leadFeatures = async (engine: DuckDBEngine, project: Project) => {
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["lead_features"], includeDependencies: true } }));
    return new Map((await rowsOf(engine, project.settings.datasets.intermediate, "lead_features", "lead_id")).map((r) => [String(r.lead_id), r]));
  };
  const assertHandCounts = (rows: Map<string, Row>) => {
    const l9 = rows.get("L9")!;
    // Before 03-10 12:00: S1 (2 events), S2 (2), S4 (2, on 03-05 and 03-06), S3's 11:58 view (its 12:00 view is at the
    // cut-off, not before); the cookieless view belongs to no session.
    assert.equal(num(l9.web_session_count), 4);
    assert.equal(num(l9.web_page_view_count), 6);
    // From 02-09 12:00 on: S1's 12:10 view, S2, S4, S3's first view.
    assert.equal(num(l9.web_event_count_30d), 6);
    // /pricing (S1), /contact (S2), /pricing (S4, 03-06), /demo (S3).
    assert.equal(num(l9.web_intent_page_view_count), 4);
    // S2's file_download; S3's download_whitepaper is after the cut-off.
    assert.equal(num(l9.web_download_count), 1);
    // 4 sessions over 5 event days (02-09, 03-01, 03-05, 03-06, 03-10).
    assert.equal(num(l9.web_sessions_per_active_day), 4 / 5);
    // 7 events; first touch 02-09 11:50, 720 whole hours before the cut-off = 720 / 168 weeks.
    assert.ok(Math.abs(num(l9.web_events_per_week)! - 7 / (720 / 168)) < 1e-9, String(l9.web_events_per_week));
    assert.equal(l9.web_intent_before_download, true);
    const l10 = rows.get("L10")!;
    // Before 03-01 10:02: S1's two views and S2's download (its /contact view comes after): 3 events, all in 30 days.
    assert.equal(num(l10.web_session_count), 2);
    assert.equal(num(l10.web_page_view_count), 2);
    assert.equal(num(l10.web_event_count_30d), 3);
    assert.equal(num(l10.web_intent_page_view_count), 1);
    assert.equal(num(l10.web_download_count), 1);
    assert.equal(num(l10.web_sessions_per_active_day), 1);
  };

  it("counts only events before the cut-off in sessions straddling it or its 30-day boundary, a session's event days included", async () => {
    const { engine, project } = await warehouse();
    try {
      await loadGa4(engine, [...FEB_09, ...MAR_01, ...MAR_05, ...MAR_06, ...MAR_10, ...MAR_11]);
      assertHandCounts(await leadFeatures(engine, project));
    } finally {
      await engine.close();
    }
  });

  it("gives the same counts after daily runs as days arrive (int_session_day_events incremental)", async () => {
    const { engine, project } = await warehouse();
    try {
      await loadGa4(engine, [...FEB_09, ...MAR_01, ...MAR_05]);
      await leadFeatures(engine, project);
      for (const day of [MAR_06, MAR_10, MAR_11]) {
        await loadGa4(engine, day, "append");
        await leadFeatures(engine, project);
      }
      // S4's two event days are two rows, written by different runs.
      const s4 = await engine.queryNative(`SELECT event_date FROM ${project.settings.datasets.intermediate}.int_session_day_events WHERE session_key = 'ga4:C1:4' ORDER BY 1`);
      assert.equal(s4.length, 2);
      assertHandCounts(await leadFeatures(engine, project));
    } finally {
      await engine.close();
    }
  });
});
