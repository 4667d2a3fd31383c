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

describe("OWOX funnel credit in SQL", function () {
  this.timeout(60_000);
  it("scores events 1 − P(a → b) at the level the model chose and shares each transaction by score", async () => {
    const project = await compiledProject();
    const ds = project.settings.datasets;
    const engine = await memoryEngine();
    try {
      const ts = (m: number): string => `2024-03-01 10:${String(m).padStart(2, "0")}:00`;
      await fixtureTable(engine, ds.intermediate, "funnel_events", {
        event_key: "VARCHAR", chain_key: "VARCHAR", session_key: "VARCHAR", credit_session_key: "VARCHAR", funnel_index: "BIGINT",
        step: "VARCHAR", step_index: "INTEGER", event_at: "TIMESTAMP", prev_step: "VARCHAR", user_type: "VARCHAR", device: "VARCHAR", region: "VARCHAR", transaction_id: "VARCHAR",
      }, [
        ["e1", "u:1", "s1", "s1", 0, "site_visit", 1, ts(0), null, "New", "desktop", "Bavaria", "T1"],
        ["e2", "u:1", "s2", "s2", 0, "view_item", 2, ts(10), "site_visit", "New", "desktop", "Bavaria", "T1"],
        ["e3", "u:1", "s3", "s3", 0, "purchase", 5, ts(20), "view_item", "New", "desktop", "Bavaria", "T1"],
      ]);
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
      const run = await runProject(project, engine, { selection: { actions: ["funnel_event_credit"] } });
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
});
