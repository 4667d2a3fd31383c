/**
 * Which transactions count and which are distributed over their journeys (OWOX rule 3), end to end on DuckDB:
 * a GA4-only setup (no CRM connected) gets funnel credit; vars.crm_confirms_transactions; a transaction the CRM
 * holds as cancelled counts from no source.
 */
import assert from "node:assert/strict";
import { compiledProject, memoryEngine, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs, custom, INTERMEDIATE, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import { funnelMarkovJob } from "../jobs/funnel-markov.ts";
import { channelMarkovJob } from "../jobs/channel-markov.ts";
import { shapleyJob } from "../jobs/shapley.ts";
import { mlAttributionJob } from "../jobs/ml-attribution.ts";

const URL = "https://shop.example.com";
const ev = (day: string, time: string, name: string, client: string, session: number, more: Partial<Ga4Event> = {}): Ga4Event =>
  ({ day, time, name, client, session, ...more });

describe("warehouse: which transactions count and which are distributed", function () {
  this.timeout(180_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  it("distributes GA4 transactions over the funnel when no CRM is connected, so owox_funnel differs from last touch", async () => {
    // Client A: an email session (engaged, view_item, add_to_cart), then a paid-search session that buys T1 (100).
    // Clients B and C open funnels that do not convert, so no transition has probability 1 and every event scores > 0.
    const ga4: Ga4Event[] = [
      ev("20240301", "10:00:00", "page_view", "A", 1, { page: `${URL}/?utm_source=news&utm_medium=email`, params: { session_engaged: "1" } }),
      ev("20240301", "10:01:00", "view_item", "A", 1),
      ev("20240301", "10:02:00", "add_to_cart", "A", 1),
      ev("20240302", "10:00:00", "page_view", "A", 2, { page: `${URL}/?gclid=g1` }),
      ev("20240302", "10:01:00", "begin_checkout", "A", 2),
      ev("20240302", "10:02:00", "purchase", "A", 2, { transactionId: "T1", revenue: 100 }),
      ev("20240301", "11:00:00", "page_view", "B", 3, { params: { session_engaged: "1" } }),
      ev("20240301", "11:01:00", "view_item", "B", 3),
      ev("20240301", "12:00:00", "page_view", "C", 4, { params: { session_engaged: "1" } }),
      ev("20240301", "12:01:00", "view_item", "C", 4),
      ev("20240301", "12:02:00", "add_to_cart", "C", 4),
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({}, [funnelMarkovJob, channelMarkovJob, shapleyJob, mlAttributionJob]);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["session_credit"], includeDependencies: true } }));
    const tx = await rowsOf(engine, INTERMEDIATE, "transactions", "transaction_id");
    assert.deepEqual(tx.map((r) => [r.transaction_id, r.source_system, r.is_distributed]), [["T1", "ga4", true]]);
    const credit = await engine.queryNative(`SELECT model, session_key, value FROM funnelcredit.session_credit WHERE model IN ('owox_funnel', 'last_touch') ORDER BY model, session_key`);
    const byModel = (m: string): Record<string, number> => Object.fromEntries(credit.filter((r) => r.model === m).map((r) => [r.session_key as string, r.value as number]));
    assert.deepEqual(byModel("last_touch"), { "ga4:A:2": 100 });
    const owox = byModel("owox_funnel");
    // Session 1 holds site_visit, view_item and add_to_cart: it earns part of T1 (before the fix it got nothing).
    assert.ok(owox["ga4:A:1"]! > 0 && owox["ga4:A:2"]! > 0, `owox_funnel credit: ${JSON.stringify(owox)}`);
    assert.ok(Math.abs(owox["ga4:A:1"]! + owox["ga4:A:2"]! - 100) < 1e-6, "the transaction's value is conserved");
    assert.notDeepEqual(owox, byModel("last_touch"));
  });

  // T1 (GA4, 2024-03-02) is not in the CRM; T2 (GA4, 2024-03-02) is, completed; T3 (GA4, 2024-03-20) lies after the last CRM day.
  const confirmationInputs = {
    ga4: [
      ev("20240302", "10:00:00", "purchase", "P", 1, { transactionId: "T1", revenue: 10 }),
      ev("20240302", "11:00:00", "purchase", "Q", 2, { transactionId: "T2", revenue: 20 }),
      ev("20240320", "10:00:00", "purchase", "R", 3, { transactionId: "T3", revenue: 30 }),
    ],
    crm: [
      ["T2", null, "Q", "2024-03-02 11:05:00", "completed", 20, null],
      ["T9", "V", null, "2024-03-01 09:00:00", "completed", 5, null],
    ],
  };
  for (const [mode, expected] of [
    // auto: the CRM covers 03-01…03-02, so T1 there counts as cancelled in the CRM (not distributed); T3 stands.
    ["auto", { T1: false, T2: true, T3: true }],
    ["always", { T1: false, T2: true, T3: false }],
    ["never", { T1: true, T2: true, T3: true }],
  ] as const) {
    it(`crm_confirms_transactions=${mode} decides which GA4 transactions the CRM must confirm`, async () => {
      await loadInputs(engine, confirmationInputs);
      const project = await compiledProject(mode === "auto" ? {} : { crm_confirms_transactions: mode }, []);
      assert.equal(project.settings.crmConfirmsTransactions, mode);
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["transactions"], includeDependencies: true } }));
      const tx = await rowsOf(engine, INTERMEDIATE, "transactions", "transaction_id");
      const ga4 = Object.fromEntries(tx.filter((r) => r.source_system === "ga4").map((r) => [r.transaction_id, r.is_distributed]));
      assert.deepEqual(ga4, expected);
    });
  }

  it("rejects an unknown crm_confirms_transactions, naming the var", async () => {
    await assert.rejects(compiledProject({ crm_confirms_transactions: "sometimes" }, []), /crm_confirms_transactions.*"auto", "always" or "never"/);
  });

  it("drops a transaction the CRM holds as cancelled whether GA4 or custom events report it", async () => {
    const ga4: Ga4Event[] = [
      ev("20240402", "10:00:00", "purchase", "P", 1, { transactionId: "T5", revenue: 50 }),   // CRM: cancelled
      ev("20240402", "11:00:00", "purchase", "P", 2, { transactionId: "T6", revenue: 60 }),   // CRM: one line completed, one refunded
      ev("20240402", "12:00:00", "purchase", "P", 3, { transactionId: "T7", revenue: 70 }),   // CRM: completed
    ];
    const crm = [
      ["T5", null, "P", "2024-04-02 10:05:00", "cancelled", 50, null],
      ["T6", null, "P", "2024-04-02 11:05:00", "completed", 30, null],
      ["T6", null, "P", "2024-04-02 11:05:00", "refunded", 30, null],
      ["T7", null, "P", "2024-04-02 12:05:00", "completed", 70, null],
      ["T8", null, "P", "2024-04-03 12:05:00", "canceled", 5, null],
    ];
    const customRows = [custom("purchase", "2024-04-03 12:00:00", null, "P", { transaction_id: "T8", revenue: "5" })];
    await loadInputs(engine, { ga4, crm, custom: customRows });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["transactions"], includeDependencies: true } }));
    const tx = await rowsOf(engine, INTERMEDIATE, "transactions", "transaction_id");
    assert.deepEqual(tx.map((r) => [r.transaction_id, r.source_system, r.value]), [["T7", "ga4", 70]]);
  });
});
