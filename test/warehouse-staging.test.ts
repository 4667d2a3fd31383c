/**
 * GA4 staging and sessionization on hand-made export rows (DuckDB).
 */
import assert from "node:assert/strict";
import { compiledProject, memoryEngine, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs, STAGING, type Ga4Event } from "./fixtures/warehouse/builders.ts";

const URL = "https://shop.example.com";
describe("warehouse: GA4 staging and sessions", function () {
  this.timeout(120_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine.close(); });

  it("takes a session's source from its first event carrying traffic, (direct)/(none) otherwise, gclid as google/cpc", async () => {
    const ga4: Ga4Event[] = [
      // Session A.1: the first event has utm_* in the URL (news / email); a later event's params (google / organic) do not count.
      { day: "20240102", time: "10:00:00", name: "session_start", client: "A", session: 1 },
      { day: "20240102", time: "10:00:01", name: "page_view", client: "A", session: 1, page: `${URL}/?utm_source=news&utm_medium=email&utm_campaign=jan` },
      { day: "20240102", time: "10:01:00", name: "page_view", client: "A", session: 1, page: `${URL}/p`, params: { source: "google", medium: "organic" } },
      // Session A.2: nothing → (direct) / (none).
      { day: "20240102", time: "12:00:00", name: "page_view", client: "A", session: 2, page: `${URL}/` },
      // Session B.3: gclid in the URL → google / cpc.
      { day: "20240102", time: "11:00:00", name: "page_view", client: "B", session: 3, page: `${URL}/?gclid=abc` },
      // Session B.4: collected_traffic_source.
      { day: "20240102", time: "13:00:00", name: "page_view", client: "B", session: 4, collected: { source: "fb", medium: "paid_social", campaign: "c1" } },
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["stg_ga4_sessions"], includeDependencies: true } }));
    const rows = await rowsOf(engine, STAGING, "stg_ga4_sessions", "session_key");
    assert.deepEqual(rows.map((r) => [r.session_key, r.source, r.medium, r.campaign, r.has_traffic_source]), [
      ["ga4:A:1", "news", "email", "jan", true],
      ["ga4:A:2", "(direct)", "(none)", "(not set)", false],
      ["ga4:B:3", "google", "cpc", "(not set)", true],
      ["ga4:B:4", "fb", "paid_social", "c1", true],
    ]);
  });

  it("reads a purchase's value from whichever numeric field GA4 put it in (regression: only double_value was read)", async () => {
    // The builder stores numbers in int_value, as GA4 does for `value: 120`; no ecommerce record.
    const ga4: Ga4Event[] = [
      { day: "20240102", time: "10:00:00", name: "purchase", client: "A", session: 1, params: { value: 120, transaction_id: "T1" } },
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["stg_ga4_events"], includeDependencies: true } }));
    const rows = await rowsOf(engine, STAGING, "stg_ga4_events", "event_at");
    assert.deepEqual(rows.map((r) => [r.event_name, r.purchase_revenue]), [["purchase", 120]]);
  });

  it("reads intraday tables only for days without a daily table and keeps duplicated events once", async () => {
    const ga4: Ga4Event[] = [
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1 },
      // Exact duplicate of the event above (same client, timestamp, name, bundle).
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1 },
      // Intraday copy of 2024-01-02 (a daily table exists): ignored.
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1, intraday: true },
      { day: "20240102", time: "10:05:00", name: "scroll", client: "A", session: 1, intraday: true },
      // 2024-01-03 only has an intraday table: read.
      { day: "20240103", time: "09:00:00", name: "page_view", client: "C", session: 7, intraday: true },
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({}, []);
    const run = await runProject(project, engine, { selection: { actions: ["stg_ga4_events", "dq_duplicate_events"], includeDependencies: true } });
    assertRunSucceeded(run);
    const rows = await rowsOf(engine, STAGING, "stg_ga4_events", "event_at");
    // Hand count: 2024-01-02 daily → 1 distinct event (duplicate_count 2); intraday 01-02 dropped (2 rows); 01-03 intraday → 1.
    assert.deepEqual(rows.map((r) => [r.session_key, r.event_name, r.is_intraday, r.duplicate_count]), [
      ["ga4:A:1", "page_view", false, 2],
      ["ga4:C:7", "page_view", true, 1],
    ]);
    const dq = run.actions.find((a) => a.action.endsWith("dq_duplicate_events"))!;
    assert.equal(dq.status, "warning");
    assert.equal(dq.rows, 1);
  });
});
