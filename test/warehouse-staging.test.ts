/**
 * GA4 staging and sessionization on hand-made export rows (DuckDB).
 */
import assert from "node:assert/strict";
import { compiledProject, memoryEngine, runProject, rowsOf, assertRunSucceeded, PROJECT_DIR } from "./support/warehouse.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs, STAGING, INTERMEDIATE, type Ga4Event } from "./fixtures/warehouse/builders.ts";

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

  it("keeps cookieless (consent mode) events out of sessions, counted by dq_consent_mode_events (regression: one giant ga4:(none):(none) session)", async () => {
    const ga4: Ga4Event[] = [
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1, page: `${URL}/` },
      // Cookieless events on two days, different sources: before the fix one session "ga4:(none):(none)" held all three.
      { day: "20240102", time: "11:00:00", name: "page_view", client: null, session: null, page: `${URL}/?utm_source=news&utm_medium=email` },
      { day: "20240102", time: "11:30:00", name: "page_view", client: null, session: null, page: `${URL}/?gclid=x` },
      { day: "20240103", time: "09:00:00", name: "scroll", client: null, session: null },
      // A client id without ga_session_id is not cookieless: its own session, as before.
      { day: "20240103", time: "09:30:00", name: "page_view", client: "B", session: null },
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({}, []);
    const run = await runProject(project, engine, { selection: { actions: ["stg_ga4_sessions", "dq_consent_mode_events"], includeDependencies: true } });
    assertRunSucceeded(run);
    const sessions = await rowsOf(engine, STAGING, "stg_ga4_sessions", "session_key");
    assert.deepEqual(sessions.map((r) => [r.session_key, r.event_count]), [["ga4:A:1", 1], ["ga4:B:(none)", 1]]);
    // The events stay staged (flagged), so nothing is lost silently.
    const events = await rowsOf(engine, STAGING, "stg_ga4_events", "event_at");
    assert.deepEqual(events.map((r) => r.is_consent_mode), [false, true, true, true, false]);
    const dq = run.actions.find((a) => a.action.endsWith("dq_consent_mode_events"))!;
    assert.equal(dq.status, "warning");
    assert.equal(dq.rows, 3);
  });

  it("a cookieless (consent mode) purchase leaves transactions to the CRM's record of it, not lost with its missing session", async () => {
    const ga4: Ga4Event[] = [
      { day: "20240102", time: "10:00:00", name: "purchase", client: null, session: null, transactionId: "T8", revenue: 8 },
      { day: "20240102", time: "11:00:00", name: "purchase", client: null, session: null, transactionId: "T9", revenue: 9 },
    ];
    // transaction_id, user_id, client_id, transaction_created, transaction_status, transaction_revenue, transaction_region
    const crm = [["T9", "V", null, "2024-01-02 11:05:00", "completed", 9, null]];
    await loadInputs(engine, { ga4, crm });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["transactions"], includeDependencies: true } }));
    const tx = await rowsOf(engine, INTERMEDIATE, "transactions", "transaction_id");
    // T8 has no session anywhere (counted by dq_consent_mode_events); T9 comes from the CRM (GA4's cookieless record used to win and be dropped).
    assert.deepEqual(tx.map((r) => [r.transaction_id, r.source_system, r.value]), [["T9", "crm", 9]]);
  });

  it("keeps events that differ only in batch_event_index apart (regression: they were taken for one re-delivered event)", async () => {
    const ga4: Ga4Event[] = [
      // One batch of two identical-looking page views (same client, session, timestamp, name, bundle): two events.
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1, batch: 1 },
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1, batch: 2 },
      // A true re-delivery of batch index 2: kept once.
      { day: "20240102", time: "10:00:00", name: "page_view", client: "A", session: 1, batch: 2 },
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["stg_ga4_sessions"], includeDependencies: true } }));
    const rows = await rowsOf(engine, STAGING, "stg_ga4_events", "duplicate_count");
    assert.deepEqual(rows.map((r) => [r.event_name, r.duplicate_count]), [["page_view", 1], ["page_view", 2]]);
    const sessions = await rowsOf(engine, STAGING, "stg_ga4_sessions", "session_key");
    assert.deepEqual(sessions.map((r) => [r.session_key, r.event_count, r.is_engaged]), [["ga4:A:1", 2, true]]);
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

describe("ga4_optional_columns (GA4 exports before mid-2023)", () => {
  it("reads auto, none or a list, and fails naming the var otherwise", () => {
    const of = (v?: string) => ({ ...loadProjectSettings(PROJECT_DIR, v === undefined ? {} : { ga4_optional_columns: v }).settings.ga4OptionalColumns });
    assert.deepEqual(of(), { auto: true, collectedTrafficSource: true, batchEventIndex: true });
    assert.deepEqual(of("none"), { auto: false, collectedTrafficSource: false, batchEventIndex: false });
    assert.deepEqual(of("batch_event_index"), { auto: false, collectedTrafficSource: false, batchEventIndex: true });
    assert.throws(() => of("collected_traffic_sources"), /vars\.ga4_optional_columns = "collected_traffic_sources": expected "auto", "none" or a comma list/);
  });

  it("compiles staging without the columns the export lacks", async () => {
    const stg = (p: Awaited<ReturnType<typeof compiledProject>>) => p.graph.actions.find((a) => a.name.endsWith("stg_ga4_events"))!.query!;
    assert.match(stg(await compiledProject({}, [])), /collected_traffic_source\.manual_source[\s\S]*batch_event_index/);
    const none = stg(await compiledProject({ ga4_optional_columns: "none" }, []));
    assert.doesNotMatch(none, /collected_traffic_source\./);
    assert.match(none, /CAST\(NULL AS INT64\) AS batch_event_index/);
  });
});
