import assert from "node:assert/strict";
import type { Target } from "../src/engines/engine.ts";
import { assertRunSucceeded, compiledProject, fixtureTable, memoryEngine, rowsOf, runProject } from "./support/warehouse.ts";
import { CONVERSION_JOURNEYS_COLUMNS } from "./fixtures/ml/journeys.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";

/**
 * The ML aggregates' user covariates must be measured before the journey's conversion. Two journeys of one
 * two-device user, by hand:
 * - converting journey t:B1: an anonymous desktop visit (s1, 'New', North), then the purchase on mobile (s2). The
 *   purchase logs the user in, so sessions.device of s2 is OWOX's 'cross' and conversion_journeys (last touch) says
 *   device 'cross': a trace of the conversion itself. The journey's state when it began is s1: New, desktop, North.
 * - open journey n:U1 after it: one mobile visit s3, 'Returning' (the user converted before it began).
 * Engagement: pages the first touch's session viewed before its first checkout or purchase event (stg_ga4_sessions
 * counts them from the staged events). s1 viewed 8
 * pages ('7+ pages'); s3 viewed 2, began a checkout, then 5 more that do not count ('2-3 pages', not '7+').
 */
describe("ML journey covariates: the user's state at the journey's first touch", function () {
  this.timeout(120_000);

  it("takes user type, device, region and engagement from the first touch, the device that session recorded (never the purchase's 'cross') and only pages viewed before a checkout", async () => {
    const ts = (s: string): string => s.replace("T", " ").replace("Z", "");
    const touch = (key: string, channel: string, at: string, position: number) => ({ session_key: key, channel, touch_at: ts(at), position });
    const journeys = [
      ["t:B1", "u:U1", "B1", true, 50, ts("2024-03-05T10:10:00Z"),
        [touch("s1", "Display", "2024-03-01T09:00:00Z", 1), touch("s2", "Direct", "2024-03-05T10:00:00Z", 2)], 0, "New", "cross", "North"],
      ["n:U1", "u:U1", null, false, 0, ts("2024-03-09T08:00:00Z"),
        [touch("s3", "Email", "2024-03-09T08:00:00Z", 1)], 0, "Returning", "cross", "North"],
    ];
    const sessions = [["s1", "New", "North"], ["s2", "New", "North"], ["s3", "Returning", "North"]];
    const identity = [["s1", "desktop"], ["s2", "mobile"], ["s3", "mobile"]];
    const at = (day: string, minute: number): string => ts(`${day}T08:${String(minute).padStart(2, "0")}:00Z`);
    const events = [
      ...Array.from({ length: 8 }, (_, k) => ["s1", "page_view", at("2024-03-01", k)]),
      ["s2", "page_view", at("2024-03-05", 0)], ["s2", "purchase", at("2024-03-05", 1)],
      ["s3", "page_view", at("2024-03-09", 0)], ["s3", "page_view", at("2024-03-09", 1)], ["s3", "begin_checkout", at("2024-03-09", 2)],
      ...Array.from({ length: 5 }, (_, k) => ["s3", "page_view", at("2024-03-09", 3 + k)]),
    ];
    for (const vars of [{}, { ml_families: '["lstm"]' }] as Array<Record<string, string>>) {
      const project = await compiledProject(vars);
      const engine = await memoryEngine();
      try {
        const targetOf = (name: string): Target => project.graph.actions.find((a) => a.kind !== "job" && a.target.name === name)!.target;
        const fixture = (name: string, columns: Record<string, string>, rows: unknown[][]) => fixtureTable(engine, targetOf(name).schema, name, columns, rows);
        await fixture("conversion_journeys", CONVERSION_JOURNEYS_COLUMNS, journeys);
        await fixture("sessions", { session_key: "VARCHAR", user_type: "VARCHAR", region: "VARCHAR" }, sessions);
        await fixture("int_session_identity", { session_key: "VARCHAR", device: "VARCHAR" }, identity);
        await ensureSourceTables(engine, project.settings); // an empty GA4 export: stg_ga4_sessions' first-run day reads it
        // Staged events as stg_ga4_events holds them; stg_ga4_sessions counts each session's pages before its checkout.
        await fixture("stg_ga4_events", {
          session_key: "VARCHAR", event_name: "VARCHAR", event_at: "TIMESTAMP", event_date: "DATE", client_id: "VARCHAR", clean_user_id: "VARCHAR",
          event_source: "VARCHAR", event_medium: "VARCHAR", event_campaign: "VARCHAR", is_session_engaged: "BOOLEAN", device_category: "VARCHAR",
          geo_region: "VARCHAR", hostname: "VARCHAR", is_intraday: "BOOLEAN", is_consent_mode: "BOOLEAN",
        }, events.map(([key, name, at]) => [key, name, at, at!.slice(0, 10), "c1", null, null, null, null, null, null, null, null, false, false]));
        const table = "ml_families" in vars ? "ml_journey_sequences" : "ml_journey_features";
        assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["stg_ga4_sessions", "ml_journeys", table] } }));
        const got = (await rowsOf(engine, targetOf(table).schema, table, "conversions DESC"))
          .map((r) => [r.user_type, r.device, r.region, r.engagement, Number(r.conversions)]);
        assert.deepEqual(got, [["New", "desktop", "North", "7+ pages", 1], ["Returning", "mobile", "North", "2-3 pages", 0]], table);
      } finally {
        await engine.close();
      }
    }
  });
});
