/**
 * Conversion journeys: one journey per conversion (journey_reset_at_conversion) on the shared DP6 MAM fixtures, and the
 * step time decay of the time-decay heuristic (time_decay_mode) on a hand-made journey (DuckDB).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { compiledProject, memoryEngine, runProject, assertRunSucceeded, fixtureTable, SHARED_DATA } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { importDp6Journeys } from "../src/import/dp6.ts";
import { loadInputs, SOURCES, INTERMEDIATE } from "./fixtures/warehouse/builders.ts";

describe("warehouse: conversion journeys and time decay", function () {
  this.timeout(300_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  async function dp6Journeys(vars: Record<string, string>): Promise<Record<string, string[]>> {
    await loadInputs(engine, {});
    await importDp6Journeys(engine.localLoading, path.join(SHARED_DATA, "dp6-mam-test-dataset", "test_dataset_multiple_conversions.csv"), { schema: SOURCES });
    const project = await compiledProject(vars, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["conversion_journeys"], includeDependencies: true } }));
    // DP6 session ids by (client id, start time), read from the file itself.
    const csv = (await readFile(path.join(SHARED_DATA, "dp6-mam-test-dataset", "test_dataset_multiple_conversions.csv"), "utf8")).trim().split("\n").slice(1);
    const ids = new Map(csv.map((line) => line.split(",")).map((f) => [`${f[0]}|${f[2]}`, f[1]!]));
    const rows = await engine.queryNative(`
      SELECT j.journey_key, list(s.client_id || '|' || strftime(s.session_start_at, '%Y-%m-%d %H:%M:%S') ORDER BY u.t.position) AS keys
      FROM "${INTERMEDIATE}".conversion_journeys AS j, UNNEST(j.touches) AS u(t)
      JOIN "${INTERMEDIATE}".sessions AS s ON s.session_key = u.t.session_key
      WHERE j.converted GROUP BY j.journey_key ORDER BY j.journey_key`);
    return Object.fromEntries(rows.map((r) => [String(r.journey_key), (r.keys as string[]).map((k) => ids.get(k) ?? k)]));
  }

  // DP6 user D: sessions 10 seo, 11 direct, 12 direct + purchase (D1), 13 direct, 14 direct, 15 seo, 16 direct + purchase.
  // One journey per conversion: the second purchase gets sessions 13–16 only (4 touches); with overlapping windows it
  // got 10–16 (7). User E buys twice in session 19: both purchases are one boundary, so each gets 17–19.
  it("starts a journey after the chain's previous conversion by default (DP6: D's second journey has 4 touches, not 7)", async () => {
    const journeys = await dp6Journeys({});
    assert.deepEqual(journeys["t:dp6-12-1"], ["10", "11", "12"]);
    assert.deepEqual(journeys["t:dp6-16-1"], ["13", "14", "15", "16"]);
    assert.deepEqual(journeys["t:dp6-19-1"], ["17", "18", "19"]);
    assert.deepEqual(journeys["t:dp6-19-2"], ["17", "18", "19"]);
    // A's session 1 (2021-07-20) is older than lookback_days (90) before the purchase.
    assert.deepEqual(journeys["t:dp6-4-1"], ["2", "3", "4"]);
  });

  it("keeps overlapping windows with journey_reset_at_conversion=false", async () => {
    const journeys = await dp6Journeys({ journey_reset_at_conversion: "false" });
    assert.deepEqual(journeys["t:dp6-16-1"], ["10", "11", "12", "13", "14", "15", "16"]);
  });

  /*
   * By hand, max_path_length 2. Chain u:1: s1 (03-01 09:00), then s2 and s3 at the same instant (03-02 09:00), then T1
   * (03-02 10:00, session s3). Newest first by (start, session_key): s3, s2, s1, so T1 keeps s2 (position 1) and s3 (2),
   * cuts 1, and its last touch is s3: Returning, tablet, region NULL (NULL though s1 and s2 have one). Chain u:2 never
   * converts: s4 (03-03), s5 (03-04, region NULL), s6 (03-05) make n:u:2 with s5, s6, 1 cut, last touch s6 (New, desktop,
   * West). Rows are stored out of time order.
   */
  it("keeps the last max_path_length touches in time order and takes user_type, device and region from the last one, NULL included", async () => {
    const project = await compiledProject({ max_path_length: "2" }, []);
    const ds = project.settings.datasets;
    const session = (key: string, chain: string, at: string, channel: string, userType: string, device: string, region: string | null) =>
      [key, chain, key, `2024-03-${at}`, channel, userType, device, region];
    await fixtureTable(engine, ds.intermediate, "sessions", {
      session_key: "VARCHAR", chain_key: "VARCHAR", credit_session_key: "VARCHAR", session_start_at: "TIMESTAMP",
      channel: "VARCHAR", user_type: "VARCHAR", device: "VARCHAR", region: "VARCHAR",
    }, [
      session("s3", "u:1", "02 09:00:00", "Direct", "Returning", "tablet", null),
      session("s6", "u:2", "05 09:00:00", "Email", "New", "desktop", "West"),
      session("s1", "u:1", "01 09:00:00", "Display", "New", "desktop", "North"),
      session("s5", "u:2", "04 09:00:00", "Paid Search", "New", "mobile", null),
      session("s2", "u:1", "02 09:00:00", "Email", "Returning", "mobile", "South"),
      session("s4", "u:2", "03 09:00:00", "Organic Search", "New", "mobile", "East"),
    ]);
    await fixtureTable(engine, ds.intermediate, "transactions", {
      transaction_id: "VARCHAR", chain_key: "VARCHAR", session_key: "VARCHAR", transaction_at: "TIMESTAMP", value: "DOUBLE", is_distributed: "BOOLEAN",
    }, [["T1", "u:1", "s3", "2024-03-02 10:00:00", 10, true]]);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["conversion_journeys"] } }));
    const rows = await engine.queryNative(`
      SELECT journey_key, [t.session_key || '@' || t.position FOR t IN touches] AS touches, truncated_touch_count, user_type, device, region
      FROM "${ds.intermediate}".conversion_journeys ORDER BY journey_key`);
    assert.deepEqual(rows.map((r) => ({ ...r, truncated_touch_count: Number(r.truncated_touch_count) })), [
      { journey_key: "n:u:2", touches: ["s5@1", "s6@2"], truncated_touch_count: 1, user_type: "New", device: "desktop", region: "West" },
      { journey_key: "t:T1", touches: ["s2@1", "s3@2"], truncated_touch_count: 1, user_type: "Returning", device: "tablet", region: null },
    ]);
  });

  /*
   * One journey (value 100) ending 2024-03-20 00:00; touches Δt before it: a 15 d, b 8 d, c 3 d, d 0 d.
   * step, 7 days: 0.5^floor(Δt/7) = 0.25, 0.5, 1, 1 (Σ 2.75) → shares 1/11, 2/11, 4/11, 4/11.
   * continuous, half-life 7 days: 2^(−15/7), 2^(−8/7), 2^(−3/7), 1 = 0.226790, 0.452548, 0.742262, 1 (Σ 2.421600).
   */
  for (const [mode, expected] of [
    ["step", [1 / 11, 2 / 11, 4 / 11, 4 / 11]],
    ["continuous", [2 ** (-15 / 7), 2 ** (-8 / 7), 2 ** (-3 / 7), 1].map((w, _, all) => w / all.reduce((a, b) => a + b, 0))],
  ] as const) {
    it(`weighs time-decay touches ${mode === "step" ? "0.5^floor(Δt/period) with time_decay_mode=step (DP6 MAM)" : "0.5^(Δt/half-life) by default"}`, async () => {
      const project = await compiledProject(mode === "step" ? { time_decay_mode: "step", time_decay_step_days: "7" } : {}, []);
      const ds = project.settings.datasets;
      const touch = (key: string, day: string, position: number) => ({ session_key: key, channel: key.toUpperCase(), touch_at: `2024-03-${day} 00:00:00`, position });
      await fixtureTable(engine, ds.intermediate, "conversion_journeys", {
        journey_key: "VARCHAR", chain_key: "VARCHAR", transaction_id: "VARCHAR", converted: "BOOLEAN", value: "DOUBLE", journey_end_at: "TIMESTAMP",
        touches: "STRUCT(session_key VARCHAR, channel VARCHAR, touch_at TIMESTAMP, position BIGINT)[]", truncated_touch_count: "BIGINT",
        user_type: "VARCHAR", device: "VARCHAR", region: "VARCHAR",
      }, [["t:T1", "u:1", "T1", true, 100, "2024-03-20 00:00:00", [touch("a", "05", 1), touch("b", "12", 2), touch("c", "17", 3), touch("d", "20", 4)], 0, "New", "desktop", "(not set)"]]);
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["heuristic_touch_credit"] } }));
      const rows = await engine.queryNative(`SELECT session_key, credit_share, value FROM "${ds.outputs}".heuristic_touch_credit WHERE model = 'time_decay' ORDER BY position`);
      assert.deepEqual(rows.map((r) => r.session_key), ["a", "b", "c", "d"]);
      rows.forEach((r, i) => {
        assert.ok(Math.abs(Number(r.credit_share) - expected[i]!) < 1e-9, `touch ${r.session_key}: share ${r.credit_share} ≠ ${expected[i]}`);
        assert.ok(Math.abs(Number(r.value) - 100 * expected[i]!) < 1e-7);
      });
    });
  }

  it("names the var when time_decay_mode or journey_reset_at_conversion is wrong", async () => {
    await assert.rejects(compiledProject({ time_decay_mode: "steps" }, []), /time_decay_mode.*"continuous" or "step"/);
    await assert.rejects(compiledProject({ journey_reset_at_conversion: "yes" }, []), /journey_reset_at_conversion.*"true" or "false"/);
  });
});
