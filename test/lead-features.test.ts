import { strict as assert } from "node:assert";
import { compiledProject, memoryEngine, fixtureTable, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Project } from "../src/compile/project.ts";
import type { Row } from "../src/engines/engine.ts";

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

  it("ties sessions to the lead's user by the logins before the cut-off only, as sessions.user_id ties them with all", async () => {
    // Lead L4 (user U4, cut-off 2024-03-10 12:00) and three browsers (client ids), each event its own session:
    // K1: anonymous on 03-05, logs in as U4 on 03-20 (after the cut-off): sessions.user_id gives K1's 03-05 session to
    //     U4, but nobody could have tied it to the lead at the cut-off;
    // K2: anonymous on 03-06, logs in as U4 on 03-08: both sessions are U4's at the cut-off;
    // K3: logs in as U4 on 03-02, then as V4 on 03-09: at the cut-off the whole client is V4's (the last login).
    const ev2 = (time: string, user: string | null, client: string, name = "page_view"): unknown[] =>
      [name, null, time, user, client, null, null, null, "google", "organic", null, null, null, null];
    const project = await compiledProject({});
    const engine = await memoryEngine();
    try {
      const ds = project.settings.datasets;
      await fixtureTable(engine, ds.sources, "leads", LEADS, [["L4", "2024-03-10 12:00:00", null, false, "U4", null, null]]);
      await fixtureTable(engine, ds.sources, "custom_events", CUSTOM, [
        ev2("2024-03-05 10:00:00", null, "K1", "view_item"), ev2("2024-03-20 10:00:00", "U4", "K1"),
        ev2("2024-03-06 10:00:00", null, "K2", "view_item"), ev2("2024-03-08 10:00:00", "U4", "K2"),
        ev2("2024-03-02 10:00:00", "U4", "K3"), ev2("2024-03-09 10:00:00", "V4", "K3"),
      ]);
      await ensureSourceTables(engine, project.settings);
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["lead_features", "funnel_events"], includeDependencies: true } }));
      // The warehouse's identity (every login) does give K1's anonymous session to U4: the case is real.
      const [k1] = await engine.queryNative(`SELECT user_id FROM "${ds.intermediate}".sessions WHERE client_id = 'K1' AND session_start_at < TIMESTAMP '2024-03-10 12:00:00'`);
      assert.equal(k1!.user_id, "U4");
      const [l4] = await rowsOf(engine, ds.intermediate, "lead_features", "lead_id");
      assert.equal(num(l4!.web_session_count), 2, "K2's two sessions; not K1's (tied after the cut-off) nor K3's (V4's at the cut-off)");
      assert.ok(Math.abs(num(l4!.web_days_since_first_visit)! - (4 + 2 / 24)) < 1e-9, "the first session is K2's of 03-06 10:00");
      // Both anonymous sessions view an item (funnel step 2). In the warehouse's chain of U4 (K1 joined by the later
      // login) funnel_events keeps the step once, in K1's earlier session; the lead's own K2 session reached it too.
      const steps = await engine.queryNative(`SELECT count(*) AS n FROM "${ds.intermediate}".funnel_events WHERE step = 'view_item'`);
      assert.equal(Number(steps[0]!.n), 1);
      assert.equal(num(l4!.web_deepest_funnel_step), 2);
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
