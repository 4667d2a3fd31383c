/**
 * The OWOX funnel model applied in SQL (funnel_event_credit) on a hand-made fixture, checked against
 * the hand computation and the pure reference implementation (distributeTransaction).
 *
 * Transaction T1 (value 100, distributed), chain events with properties New / desktop / Bavaria:
 *   e1 (start) → site_visit      P = 0.5 at level user_type_device_region → S = 0.5
 *   e2 site_visit → view_item    P = 0.8 at level user_type_device       → S = 0.2
 *   e3 view_item → purchase      no row for these properties; global P = 0.9 → S = 0.1
 *   ΣS = 0.8 → shares 0.625, 0.25, 0.125 → values 62.5, 25, 12.5; conversions the same shares.
 * Transaction T2 (value 40, GA-only: not distributed) → 100 % to its own session's credit session.
 */
import assert from "node:assert/strict";
import { distributeTransaction } from "../src/models/funnel-markov.ts";
import { assertRunSucceeded, compiledProject, fixtureTable, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";

/**
 * funnel_event_occurrences rows of one chain's funnel 0, closed by `transactionId` (user type New, desktop, Bavaria):
 * [event_key, representative_event_key, session_key, step, event_at]. The run builds funnel_events from them (each group's
 * first occurrence with the group's occurrences: what funnel_event_credit reads).
 */
async function occurrencesOf(engine: DuckDBEngine, schema: string, chain: string, transactionId: string, rows: [string, string, string, string, string][]): Promise<void> {
  await fixtureTable(engine, schema, "funnel_event_occurrences", {
    event_key: "VARCHAR", representative_event_key: "VARCHAR", chain_key: "VARCHAR", session_key: "VARCHAR", credit_session_key: "VARCHAR", funnel_index: "BIGINT",
    step: "VARCHAR", event_at: "TIMESTAMP", user_type: "VARCHAR", device: "VARCHAR", region: "VARCHAR", transaction_id: "VARCHAR",
  }, rows.map(([key, rep, session, step, at]) => [key, rep, chain, session, session, 0, step, at, "New", "desktop", "Bavaria", transactionId]));
}

describe("OWOX funnel credit in SQL", function () {
  this.timeout(60_000);
  it("scores events 1 − P(a → b) at the level the model chose and shares each transaction by score", async () => {
    const project = await compiledProject();
    const ds = project.settings.datasets;
    const engine = await memoryEngine();
    try {
      const ts = (m: number): string => `2024-03-01 10:${String(m).padStart(2, "0")}:00`;
      await occurrencesOf(engine, ds.intermediate, "u:1", "T1", [["e1", "e1", "s1", "site_visit", ts(0)], ["e2", "e2", "s2", "view_item", ts(10)], ["e3", "e3", "s3", "purchase", ts(20)]]);
      await fixtureTable(engine, ds.intermediate, "transactions", {
        transaction_id: "VARCHAR", chain_key: "VARCHAR", session_key: "VARCHAR", transaction_at: "TIMESTAMP", transaction_date: "DATE", value: "DOUBLE", source_system: "VARCHAR", is_distributed: "BOOLEAN",
      }, [
        ["T1", "u:1", "s3", ts(20), "2024-03-01", 100, "ga4", true],
        ["T2", "u:2", "s9", ts(30), "2024-03-01", 40, "ga4", false],
      ]);
      await fixtureTable(engine, ds.intermediate, "sessions", { session_key: "VARCHAR", credit_session_key: "VARCHAR" }, [
        ["s1", "s1"], ["s2", "s2"], ["s3", "s3"], ["s9", "s8"],
      ]);
      await fixtureTable(engine, ds.models, "funnel_transition_probabilities", {
        from_step: "VARCHAR", to_step: "VARCHAR", user_type: "VARCHAR", device: "VARCHAR", region: "VARCHAR", probability: "DOUBLE", level: "VARCHAR", sample_size: "BIGINT", transitions: "BIGINT",
      }, [
        ["(start)", "site_visit", "New", "desktop", "Bavaria", 0.5, "user_type_device_region", 400, 200],
        ["site_visit", "view_item", "New", "desktop", "Bavaria", 0.8, "user_type_device", 900, 720],
        ["view_item", "purchase", "Returning", "mobile", "Berlin", 0.3, "user_type_device_region", 500, 150],
        ["view_item", "purchase", "Returning", "mobile", "Berlin", 0.9, "global", 5000, 4500],
      ]);
      const run = await runProject(project, engine, { selection: { actions: ["funnel_events", "funnel_event_credit"] } });
      assertRunSucceeded(run);
      const rows = await engine.queryNative(`SELECT transaction_id, event_key, session_key, level, round(score, 9) AS score, round(value, 9) AS value, round(conversions, 9) AS conversions FROM "${ds.outputs}".funnel_event_credit ORDER BY 1, 2`);
      assert.deepEqual(rows, [
        { transaction_id: "T1", event_key: "e1", session_key: "s1", level: "user_type_device_region", score: 0.5, value: 62.5, conversions: 0.625 },
        { transaction_id: "T1", event_key: "e2", session_key: "s2", level: "user_type_device", score: 0.2, value: 25, conversions: 0.25 },
        { transaction_id: "T1", event_key: "e3", session_key: "s3", level: "global", score: 0.1, value: 12.5, conversions: 0.125 },
        { transaction_id: "T2", event_key: "transaction:T2", session_key: "s8", level: "undistributed", score: null, value: 40, conversions: 1 },
      ]);
      // The pure reference gives the same split for T1 (representative events: one per group).
      const ref = distributeTransaction([
        { eventKey: "e1", step: "site_visit", sessionKey: "s1", ts: 0, score: 0.5 },
        { eventKey: "e2", step: "view_item", sessionKey: "s2", ts: 600, score: 0.2 },
        { eventKey: "e3", step: "purchase", sessionKey: "s3", ts: 1200, score: 0.1 },
      ], 100, { halfLife: 7 * 86400 });
      assert.deepEqual(ref.map((r) => Math.round(r.value * 1e9) / 1e9), rows.slice(0, 3).map((r) => r.value));
    } finally {
      await engine.close();
    }
  });
  /*
   * Identical events (OWOX): T3 (value 90) at 2024-03-15 10:00; groups with the scores of their first occurrence:
   *   site_visit a1 (03-01, s1)                       P((start) → site_visit) = .5  → S = .5
   *   view_item  b1 (03-08, s2), b2 (03-15, s3)        P(site_visit → view_item) = .75 → S = .25
   *   purchase   c1 (03-15, s3)                        P(view_item → purchase) = .25 → S = .75
   *   ΣS = 1.5 → group shares 1/3, 1/6, 1/2 → 30, 15, 45.
   *   view_item's 15 by time decay, half-life 7 days: w(b1, 7 days before) = .5, w(b2) = 1 → 1/3, 2/3 → 5 (s2), 10 (s3).
   * Before, the group's first occurrence took it all (s2 15).
   */
  it("shares an event's credit among its identical occurrences by time decay, as distributeTransaction does", async () => {
    const project = await compiledProject();
    const ds = project.settings.datasets;
    const engine = await memoryEngine();
    try {
      const at = (day: string): string => `2024-03-${day} 10:00:00`;
      await occurrencesOf(engine, ds.intermediate, "u:3", "T3", [
        ["a1", "a1", "s1", "site_visit", at("01")], ["b1", "b1", "s2", "view_item", at("08")], ["b2", "b1", "s3", "view_item", at("15")], ["c1", "c1", "s3", "purchase", at("15")],
      ]);
      await fixtureTable(engine, ds.intermediate, "transactions", {
        transaction_id: "VARCHAR", chain_key: "VARCHAR", session_key: "VARCHAR", transaction_at: "TIMESTAMP", transaction_date: "DATE", value: "DOUBLE", source_system: "VARCHAR", is_distributed: "BOOLEAN",
      }, [["T3", "u:3", "s3", at("15"), "2024-03-15", 90, "ga4", true]]);
      await fixtureTable(engine, ds.intermediate, "sessions", { session_key: "VARCHAR", credit_session_key: "VARCHAR", session_date: "DATE", session_start_at: "TIMESTAMP", user_id: "VARCHAR" },
        [["s1", "s1", "2024-03-01", at("01"), "3"], ["s2", "s2", "2024-03-08", at("08"), "3"], ["s3", "s3", "2024-03-15", at("15"), "3"]]);
      await fixtureTable(engine, ds.models, "funnel_transition_probabilities", {
        from_step: "VARCHAR", to_step: "VARCHAR", user_type: "VARCHAR", device: "VARCHAR", region: "VARCHAR", probability: "DOUBLE", level: "VARCHAR", sample_size: "BIGINT", transitions: "BIGINT",
      }, [
        ["(start)", "site_visit", "New", "desktop", "Bavaria", 0.5, "global", 100, 50],
        ["site_visit", "view_item", "New", "desktop", "Bavaria", 0.75, "global", 100, 75],
        ["view_item", "purchase", "New", "desktop", "Bavaria", 0.25, "global", 100, 25],
      ]);
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["funnel_events", "funnel_event_credit", "owox_session_values"] } }));
      // funnel_events carries each group's occurrences in time order (what the credit reads instead of the occurrences' table).
      const groups = await engine.queryNative(`SELECT event_key, array_to_string(list_transform(occurrences, o -> o.event_key || '@' || strftime(o.event_at, '%d')), ' ') AS o FROM "${ds.intermediate}".funnel_events ORDER BY 1`);
      assert.deepEqual(groups.map((r) => [r.event_key, r.o]), [["a1", "a1@01"], ["b1", "b1@08 b2@15"], ["c1", "c1@15"]]);
      // Per session (OWOX values table): s2 gets a third of view_item's 15, s3 the rest beside the purchase's 45.
      const sessions = await engine.queryNative(`SELECT session_id, value FROM "${ds.outputs}".owox_session_values ORDER BY session_id`);
      assert.deepEqual(sessions.map((r) => [r.session_id, Number(r.value)]), [["s1", 30], ["s2", 5], ["s3", 55]]);
      const rows = await engine.queryNative(`SELECT event_key, group_event_key, session_key, decay_share, value, conversions FROM "${ds.outputs}".funnel_event_credit ORDER BY event_key`);
      assert.deepEqual(rows.map((r) => [r.event_key, r.group_event_key, r.session_key, Number(r.value)]), [
        ["a1", "a1", "s1", 30], ["b1", "b1", "s2", 5], ["b2", "b1", "s3", 10], ["c1", "c1", "s3", 45],
      ]);
      assert.deepEqual(rows.map((r) => Number(r.decay_share)), [1, 0.333333333, 0.666666667, 1]);
      // The pure reference on the same occurrences (ts in seconds, half-life 7 days).
      const sec = (day: string): number => Date.parse(`${at(day).replace(" ", "T")}Z`) / 1000;
      const ref = distributeTransaction([
        { eventKey: "a1", step: "site_visit", sessionKey: "s1", ts: sec("01"), score: 0.5 },
        { eventKey: "b1", step: "view_item", sessionKey: "s2", ts: sec("08"), score: 0.25 },
        { eventKey: "b1", step: "view_item", sessionKey: "s3", ts: sec("15"), score: 0.25 },
        { eventKey: "c1", step: "purchase", sessionKey: "s3", ts: sec("15"), score: 0.75 },
      ], 90, { halfLife: project.settings.owoxDecayHalfLifeDays * 86400, transactionTs: sec("15") });
      assert.deepEqual(ref.map((r) => Math.round(r.value * 1e9) / 1e9), rows.map((r) => Number(r.value)));
      assert.deepEqual(ref.map((r) => Math.round(r.conversions * 1e9) / 1e9), rows.map((r) => Number(r.conversions)));
    } finally {
      await engine.close();
    }
  });
});
