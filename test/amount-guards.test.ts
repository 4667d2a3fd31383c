/**
 * NaN, ±Infinity, 1e309 and negative amounts: staging sets them aside with a reason and counts them (CRM
 * transactions, GA4 purchase values, custom-event revenue), so no credit table gets a NaN row; a job that still
 * receives a non-finite number fails naming the table, the row's key, the column and the value (DuckDB).
 */
import assert from "node:assert/strict";
import { assertRunSucceeded, compiledProject, fixtureTable, memoryEngine, rowsOf, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs, custom, GA4, INTERMEDIATE, META, STAGING, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import { channelMarkovJob } from "../jobs/channel-markov.ts";
import { shapleyJob } from "../jobs/shapley.ts";
import { mlAttributionJob } from "../jobs/ml-attribution.ts";
import { funnelMarkovJob } from "../jobs/funnel-markov.ts";
import { amountProblem } from "../src/util/amounts.ts";
import { splitScript } from "../src/runner/statements.ts";

const ev = (day: string, time: string, name: string, client: string, session: number, more: Partial<Ga4Event> = {}): Ga4Event =>
  ({ day, time, name, client, session, params: { source: "news", medium: "email" }, ...more });

describe("amounts that are NaN, infinite or negative", function () {
  this.timeout(180_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  it("are set aside in staging with a reason and counted; the credit tables stay finite and conserved", async () => {
    const ga4: Ga4Event[] = [
      ev("20240301", "10:00:00", "purchase", "G", 1, { transactionId: "G_OK", revenue: 10 }),
      // GA4 purchase values given as the `value` event parameter (no ecommerce revenue), made NaN / inf / negative below.
      ev("20240301", "11:00:00", "purchase", "G", 2, { transactionId: "G_NAN", params: { source: "news", medium: "email", value: "NaN" } }),
      ev("20240301", "12:00:00", "purchase", "G", 3, { transactionId: "G_INF", params: { source: "news", medium: "email", value: "1e309" } }),
      ev("20240301", "13:00:00", "purchase", "G", 4, { transactionId: "G_NEG", params: { source: "news", medium: "email", value: "-5" } }),
    ];
    const crm = [
      ["C_OK", "U1", null, "2024-03-01 09:00:00", "completed", 20, null],
      ["C_NAN", "U1", null, "2024-03-01 09:10:00", "completed", "NaN", null],
      ["C_INF", "U1", null, "2024-03-01 09:20:00", "completed", "inf", null],
      ["C_NEGINF", "U1", null, "2024-03-01 09:30:00", "completed", "-inf", null],
      ["C_BIG", "U1", null, "2024-03-01 09:40:00", "completed", "1e309", null],
      ["C_LINE", "U1", null, "2024-03-01 09:50:00", "completed", 30, null],       // one good line, one NaN line:
      ["C_LINE", "U1", null, "2024-03-01 09:50:00", "completed", "NaN", null],    // the whole transaction is left out
      ["C_NEG", "U1", null, "2024-03-01 10:00:00", "completed", -7, null],
    ];
    const customRows = [
      custom("purchase", "2024-03-01 14:00:00", null, "K", { transaction_id: "K_OK", revenue: "3" }),
      custom("purchase", "2024-03-01 14:10:00", null, "K", { transaction_id: "K_NAN", revenue: "NaN" }),
      custom("purchase", "2024-03-01 14:20:00", null, "K", { transaction_id: "K_INF", revenue: "inf" }),
      custom("purchase", "2024-03-01 14:30:00", null, "K", { transaction_id: "K_NEGINF", revenue: "-inf" }),
      custom("purchase", "2024-03-01 14:40:00", null, "K", { transaction_id: "K_BIG", revenue: "1e309" }),
      custom("view", "2024-03-01 14:50:00", null, "K", { cost: "NaN" }),
    ];
    await loadInputs(engine, { ga4, crm, custom: customRows });
    // The `value` parameters as GA4 exports them: double_value (the importer gives string params as string_value).
    // (The import stores the local export as one table, ga4_events; the day is its _TABLE_SUFFIX.)
    await engine.runNative(`UPDATE ${GA4}.ga4_events SET event_params = list_transform(event_params, p -> CASE WHEN p.key = 'value'
      THEN {'key': p.key, 'value': {'string_value': NULL::VARCHAR, 'int_value': NULL::BIGINT, 'float_value': NULL::DOUBLE, 'double_value': CAST(p.value.string_value AS DOUBLE)}}
      ELSE p END) WHERE _TABLE_SUFFIX = '20240301'`);
    const project = await compiledProject({}, [funnelMarkovJob, channelMarkovJob, shapleyJob, mlAttributionJob]);
    const run = await runProject(project, engine, {
      selection: { actions: ["session_credit", "channel_credit_daily", "amount_quarantine", "dq_amounts_quarantined", "custom_events_quarantine"], includeDependencies: true },
    });
    assertRunSucceeded(run);

    const q = await rowsOf(engine, META, "amount_quarantine", "source, transaction_id");
    assert.deepEqual(q.map((r) => [r.source, r.transaction_id, r.field, r.reason]), [
      ["crm_transactions", "C_BIG", "transaction_revenue", "infinite amount"],
      ["crm_transactions", "C_INF", "transaction_revenue", "infinite amount"],
      ["crm_transactions", "C_LINE", "transaction_revenue", "NaN amount"],
      ["crm_transactions", "C_NAN", "transaction_revenue", "NaN amount"],
      ["crm_transactions", "C_NEG", "transaction_revenue", "negative amount"],
      ["crm_transactions", "C_NEGINF", "transaction_revenue", "infinite amount"],
      ["ga4_purchase", "G_INF", "purchase_revenue", "infinite amount"],
      ["ga4_purchase", "G_NAN", "purchase_revenue", "NaN amount"],
      ["ga4_purchase", "G_NEG", "purchase_revenue", "negative amount"],
    ]);
    const dq = run.actions.find((a) => a.action.endsWith("dq_amounts_quarantined"))!;
    assert.equal(dq.status, "warning");
    assert.equal(dq.rows, 9);
    const cq = await rowsOf(engine, META, "custom_events_quarantine", "time");
    assert.deepEqual(cq.map((r) => [r.transaction_id, r.reason]), [
      ["K_NAN", "NaN revenue"], ["K_INF", "infinite revenue"], ["K_NEGINF", "infinite revenue"], ["K_BIG", "infinite revenue"], [null, "NaN cost"],
    ]);

    // Only the good transactions are staged and counted, each with its own value.
    const crmStaged = await rowsOf(engine, STAGING, "stg_crm_transactions", "transaction_id");
    assert.deepEqual(crmStaged.map((r) => [r.transaction_id, r.value]), [["C_OK", 20]]);
    const tx = await rowsOf(engine, INTERMEDIATE, "transactions", "transaction_id");
    assert.deepEqual(tx.map((r) => [r.transaction_id, r.value]), [["C_OK", 20], ["G_OK", 10], ["K_OK", 3]]);
    for (const table of ["session_credit", "channel_credit_daily"]) {
      const rows = await engine.queryNative(`SELECT * FROM funnelcredit.${table}`);
      assert.ok(rows.length > 0, table);
      for (const r of rows) {
        for (const col of ["conversions", "value"]) assert.equal(amountProblem(r[col] as number), null, `${table}.${col} = ${r[col]} (${JSON.stringify(r)})`);
      }
    }
    // session_credit's post-operations check that every model's credit adds up to the transactions'.
    assert.equal(run.actions.find((a) => a.action.endsWith(".session_credit"))!.status, "succeeded");
  });

  for (const job of [channelMarkovJob, shapleyJob]) {
    it(`${job.name} fails on a non-finite channel_paths amount, naming table, path, column and value`, async () => {
      const project = await compiledProject({}, [channelMarkovJob, shapleyJob]);
      const ds = project.settings.datasets;
      for (const [bad, shown] of [["NaN", "NaN"], ["inf", "Infinity"], ["-inf", "-Infinity"]] as const) {
        await fixtureTable(engine, ds.intermediate, "channel_paths", { path: "VARCHAR", total_conversions: "DOUBLE", total_conversion_value: "DOUBLE", total_null: "DOUBLE" }, [
          ["Email > Paid Search", 3, 30, 5],
          ["Display", 1, bad, 2],
        ]);
        const run = await runProject(project, engine, { selection: { actions: [job.name] } });
        const action = run.actions.find((a) => a.action === job.name)!;
        assert.equal(action.status, "failed");
        assert.equal(action.error, `channel_paths row 1 (path = "Display"): column total_conversion_value is ${shown}; it must be a finite, non-negative number (a NaN or infinite amount upstream? staging sets those aside in amount_quarantine)`);
      }
    });
  }

  it("fails session_credit's conservation check when a credit total is NaN or credit is lost", async () => {
    const project = await compiledProject({}, []);
    const ds = project.settings.datasets;
    const action = project.graph.actions.find((a) => a.target.schema === ds.outputs && a.target.name === "session_credit")!;
    // The check as a full refresh runs it (every day), over session_credit and transactions as given.
    const check = splitScript(action.postOps!.join(";\n")).filter((s) => /conversions and value of the transactions/.test(s));
    assert.equal(check.length, 1);
    const transactions = async (rows: unknown[][]) => fixtureTable(engine, ds.intermediate, "transactions", { transaction_id: "VARCHAR", transaction_date: "DATE", value: "DOUBLE" }, rows);
    const credit = async (rows: unknown[][]) => fixtureTable(engine, ds.outputs, "session_credit", { session_key: "VARCHAR", model: "VARCHAR", transaction_id: "VARCHAR", conversions: "DOUBLE", value: "DOUBLE", conversion_date: "DATE" }, rows);
    await transactions([["T1", "2024-03-01", 10], ["T2", "2024-03-02", 20]]);
    const [d1, d2] = ["2024-03-01", "2024-03-02"];
    await credit([["s1", "last_touch", "T1", 1, 10, d1], ["s2", "last_touch", "T2", 1, 20, d2], ["s1", "linear", "T1", 1, 10, d1], ["s2", "linear", "T2", 1, 20, d2]]);
    await engine.execute(check, { action: action.target.schema + ".session_credit" });
    await credit([["s1", "last_touch", "T1", 1, 10, d1], ["s2", "last_touch", "T2", 1, "NaN", d2], ["s1", "linear", "T1", 1, 10, d1], ["s2", "linear", "T2", 0.5, 10, d2]]);
    await assert.rejects(engine.execute(check, { action: action.target.schema + ".session_credit" }),
      /session_credit: the credit of model\(s\) last_touch, linear does not add up to the conversions and value of the transactions of every day/);
  });
});
