/**
 * Identity chains, multi-source transactions and user properties (OWOX rules 1–3, 5) on hand-made inputs (DuckDB).
 */
import assert from "node:assert/strict";
import { createRng } from "../src/demo/prng.ts";
import { compiledProject, fixtureTable, memoryEngine, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs, custom, INTERMEDIATE, STAGING, type Ga4Event } from "./fixtures/warehouse/builders.ts";

const URL = "https://shop.example.com";
const pv = (day: string, client: string, session: number, more: Partial<Ga4Event> = {}): Ga4Event =>
  ({ day, time: "10:00:00", name: "page_view", client, session, ...more });

describe("warehouse: identity, transactions, user properties", function () {
  this.timeout(120_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  it("chains sessions by user id, gives a client's whole chain its last user id, and distrusts invalid or over-active user ids", async () => {
    const ga4: Ga4Event[] = [
      pv("20240101", "C", 1),                              // anonymous; client C's last user id is U2 → u:U2
      pv("20240102", "C", 2, { user: "U1" }),              // OWOX: client C carries U1 and U2, the whole chain takes the last → u:U2
      pv("20240103", "C", 3, { user: "U2" }),              // → u:U2
      pv("20240104", "D", 4, { user: "U1" }),              // U1 on a device of its own → u:U1
      pv("20240101", "E", 5, { user: "undefined" }),       // invalid ids → not logged in → c:E
      pv("20240101", "E", 6, { user: "0", time: "11:00:00" }),
      pv("20240101", "E", 7, { user: "", time: "12:00:00" }),
      // 'bot' has 3 sessions on 2024-01-05 (> max_sessions_per_user_day = 2) → not logged in that day (c:F) …
      pv("20240105", "F", 8, { user: "bot" }),
      pv("20240105", "F", 9, { user: "bot", time: "11:00:00" }),
      pv("20240105", "F", 10, { user: "bot", time: "12:00:00" }),
      // … but logged in on a normal day.
      pv("20240106", "G", 11, { user: "bot" }),
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({ max_sessions_per_user_day: "2" }, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["sessions"], includeDependencies: true } }));
    const rows = await rowsOf(engine, INTERMEDIATE, "sessions", "session_start_at, session_key");
    const chains = Object.fromEntries(rows.map((r) => [r.session_key, [r.chain_key, r.user_id]]));
    assert.deepEqual(chains, {
      "ga4:C:1": ["u:U2", "U2"], "ga4:C:2": ["u:U2", "U2"], "ga4:C:3": ["u:U2", "U2"], "ga4:D:4": ["u:U1", "U1"],
      "ga4:E:5": ["c:E", null], "ga4:E:6": ["c:E", null], "ga4:E:7": ["c:E", null],
      "ga4:F:8": ["c:F", null], "ga4:F:9": ["c:F", null], "ga4:F:10": ["c:F", null],
      "ga4:G:11": ["u:bot", "bot"],
    });
    // The session's own logged-in id is kept beside the resolved one.
    assert.equal(rows.find((r) => r.session_key === "ga4:C:2")!.session_user_id, "U1");
  });

  it("applies the multi-source rules: GA-only not distributed, GA wins over CRM, CRM-only offline sessions, custom events first", async () => {
    const ga4: Ga4Event[] = [
      pv("20240201", "P", 1, { page: `${URL}/?utm_source=news&utm_medium=email` }),
      { day: "20240202", time: "10:00:00", name: "purchase", client: "P", session: 2, transactionId: "T1", revenue: 100 }, // GA only
      { day: "20240202", time: "11:00:00", name: "purchase", client: "P", session: 2, transactionId: "T7", revenue: 60 },  // also a custom event
      { day: "20240201", time: "10:00:00", name: "purchase", client: "Q", session: 3, transactionId: "T2", revenue: 80 },  // also in CRM
      pv("20240201", "R", 4, { params: { source: "google", medium: "organic" } }),
    ];
    const crm = [
      ["T2", null, "Q", "2024-02-01 10:05:00", "completed", 75, null],
      ["T3", null, "R", "2024-02-03 09:00:00", "completed", 30, "Hesse"],   // two product lines: 30 + 20
      ["T3", null, "R", "2024-02-03 09:00:00", "completed", 20, "Hesse"],
      ["T4", "V", null, "2024-02-03 12:00:00", "completed", 40, null],      // nobody online
      ["T5", null, "Q", "2024-02-03 12:00:00", "refunded", 10, null],       // only completed counts
      ["T6", null, "Q", "2024-02-04 12:00:00", "canceled", 5, null],
    ];
    const customRows = [
      custom("purchase", "2024-02-04 12:00:00", null, "Q", { transaction_id: "T6", revenue: "5" }),  // overlaps a canceled CRM transaction → dropped
      custom("purchase", "2024-02-02 11:00:00", null, "P", { transaction_id: "T7" }),                // wins over GA; value from GA (60)
    ];
    await loadInputs(engine, { ga4, crm, custom: customRows });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["sessions", "transactions"], includeDependencies: true } }));
    const tx = await rowsOf(engine, INTERMEDIATE, "transactions", "transaction_id");
    assert.deepEqual(tx.map((r) => [r.transaction_id, r.source_system, r.value, r.is_distributed, r.chain_key]), [
      ["T1", "ga4", 100, false, "c:P"],
      ["T2", "ga4", 80, true, "c:Q"],
      ["T3", "crm", 50, true, "c:R"],
      ["T4", "crm", 40, false, "u:V"],
      ["T7", "custom", 60, true, "c:P"],
    ]);
    const sessions = await rowsOf(engine, INTERMEDIATE, "sessions", "session_start_at");
    const offline = sessions.filter((r) => r.source_system === "crm").map((r) => [r.chain_key, r.source, r.medium, r.channel, r.region]);
    // Region: the first region the chain showed in 365 days (R's online session was in Bavaria, before the CRM's Hesse).
    assert.deepEqual(offline, [["c:R", "crm", "offline", "Offline", "Bavaria"], ["u:V", "crm", "offline", "Offline", "(not set)"]]);
    // T3's offline session is its converting session.
    const t3 = tx.find((r) => r.transaction_id === "T3")!;
    assert.ok(sessions.some((s) => s.session_key === t3.session_key && s.source_system === "crm"));
  });

  it("sets user type, cross-device and first region per session", async () => {
    const ga4: Ga4Event[] = [
      { day: "20240501", time: "10:00:00", name: "purchase", client: "K1", session: 1, user: "U9", device: "desktop", region: "Bavaria", transactionId: "T12", revenue: 10 },
      pv("20240510", "K2", 2, { user: "U9", device: "mobile", region: "Berlin" }),
      pv("20240510", "K3", 3, { device: "mobile", region: "Hesse" }),
    ];
    const crm = [["T13", "U10", null, "2024-05-03 10:00:00", "completed", 5, "Saxony"]];
    await loadInputs(engine, { ga4, crm });
    const project = await compiledProject({}, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["sessions"], includeDependencies: true } }));
    const rows = await rowsOf(engine, INTERMEDIATE, "sessions", "session_start_at, session_key");
    // The offline session's region: the first region of the chain (here its own transaction_region).
    // K1.1 converts (New: no conversion before it); K2.2 comes after U9's conversion → Returning, two devices → cross, first region Bavaria.
    assert.deepEqual(rows.map((r) => [r.chain_key, r.user_type, r.device, r.region]), [
      ["u:U9", "New", "desktop", "Bavaria"],
      ["u:U10", "New", "(not set)", "Saxony"],
      ["u:U9", "Returning", "cross", "Bavaria"],
      ["c:K3", "New", "mobile", "Hesse"],
    ]);
  });

  it("takes user type, device and first region from exactly the chain's transactions and sessions of the window up to the session (random chains with ties, window edges and NULLs)", async () => {
    // user_properties_window_days = 3: a session sees the chain's sessions that started at most 3 days (to the
    // microsecond) before it, those starting with it included; several devices → 'cross' (logged-in chains); the first
    // region by (start, session_key). Timestamps on a grid of 12 hours, so windows end exactly on other sessions.
    const rng = createRng(20240501);
    const rnd = (n: number): number => rng.int(0, n - 1);
    const WINDOW_MS = 3 * 86_400_000;
    const t0 = Date.UTC(2024, 4, 1);
    type S = { key: string; chain: string; user: string | null; at: number; device: string | null; region: string | null };
    const sessions: S[] = [];
    for (let c = 0; c < 60; c++) {
      const user = c % 3 === 0 ? null : `U${c}`;
      const n = 1 + rnd(25);
      for (let i = 0; i < n; i++) {
        sessions.push({
          key: `k${String(rnd(1000)).padStart(3, "0")}-${c}-${i}`, chain: user ? `u:${user}` : `c:C${c}`, user, at: t0 + rnd(24) * 43_200_000,
          device: [null, "mobile", "desktop", "tablet"][rnd(c % 2 === 0 ? 2 : 4)]!, region: [null, null, "A", "B", "C"][rnd(5)]!,
        });
      }
    }
    // Transactions on the same grid: 'Returning' when the chain has one in [start − 3 days, start).
    const transactions = Array.from({ length: 120 }, (_, i) => {
      const s = sessions[rnd(sessions.length)]!;
      return { id: `t${i}`, chain: s.chain, at: t0 + rnd(24) * 43_200_000 };
    });
    const expected = new Map(sessions.map((s) => {
      const frame = sessions.filter((p) => p.chain === s.chain && p.at <= s.at && p.at >= s.at - WINDOW_MS);
      const devices = new Set(frame.map((p) => p.device).filter((d) => d !== null));
      const first = frame.filter((p) => p.region !== null).sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : 1))[0];
      const returning = transactions.some((t) => t.chain === s.chain && t.at < s.at && t.at >= s.at - WINDOW_MS);
      return [s.key, [s.user !== null && devices.size > 1 ? "cross" : s.device ?? "(not set)", first?.region ?? "(not set)", returning ? "Returning" : "New"]];
    }));
    const ts = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    await fixtureTable(engine, INTERMEDIATE, "int_session_identity", {
      session_key: "VARCHAR", chain_key: "VARCHAR", user_id: "VARCHAR", session_user_id: "VARCHAR", is_user_id_distrusted: "BOOLEAN", client_id: "VARCHAR",
      source_system: "VARCHAR", session_start_at: "TIMESTAMP", session_date: "DATE", source: "VARCHAR", medium: "VARCHAR", campaign: "VARCHAR",
      device: "VARCHAR", region: "VARCHAR", is_engaged: "BOOLEAN", event_count: "BIGINT",
    }, sessions.map((s) => [s.key, s.chain, s.user, s.user, false, s.chain, "ga4", ts(s.at), ts(s.at).slice(0, 10), "google", "organic", "(not set)", s.device, s.region, true, 1]));
    await fixtureTable(engine, INTERMEDIATE, "transactions", { transaction_id: "VARCHAR", chain_key: "VARCHAR", transaction_at: "TIMESTAMP" },
      transactions.map((t) => [t.id, t.chain, ts(t.at)]));
    const project = await compiledProject({ user_properties_window_days: "3" }, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["sessions"] } }));
    const rows = await rowsOf(engine, INTERMEDIATE, "sessions", "session_key");
    assert.equal(rows.length, sessions.length);
    const cross = [...expected.values()].filter(([d]) => d === "cross").length;
    const tied = sessions.length - new Set(sessions.map((s) => `${s.chain} ${s.at}`)).size;
    assert.ok(cross > 20 && tied > 50, `${sessions.length} sessions, ${cross} cross, ${tied} tied`);
    const returning = [...expected.values()].filter((e) => e[2] === "Returning").length;
    assert.ok(returning > 50 && returning < sessions.length - 50, `${returning} returning`);
    for (const r of rows) assert.deepEqual([r.device, r.region, r.user_type], expected.get(String(r.session_key)), `session ${r.session_key}`);
  });

  it("refuses a NULL in a required column in the query that builds the table, naming it and the row, and leaves the table as it was", async () => {
    const identity = (chain: string | null) => fixtureTable(engine, INTERMEDIATE, "int_session_identity", {
      session_key: "VARCHAR", chain_key: "VARCHAR", user_id: "VARCHAR", session_user_id: "VARCHAR", is_user_id_distrusted: "BOOLEAN", client_id: "VARCHAR",
      source_system: "VARCHAR", session_start_at: "TIMESTAMP", session_date: "DATE", source: "VARCHAR", medium: "VARCHAR", campaign: "VARCHAR",
      device: "VARCHAR", region: "VARCHAR", is_engaged: "BOOLEAN", event_count: "BIGINT",
    }, [["s1", "c:A", null, null, false, "A", "ga4", "2024-05-01 10:00:00", "2024-05-01", "google", "organic", "(not set)", "mobile", null, true, 1],
      ["s2", chain, null, null, false, "B", "ga4", "2024-05-02 10:00:00", "2024-05-02", "google", "organic", "(not set)", "mobile", null, true, 1]]);
    await fixtureTable(engine, INTERMEDIATE, "transactions", { transaction_id: "VARCHAR", chain_key: "VARCHAR", transaction_at: "TIMESTAMP" }, []);
    const project = await compiledProject({}, []);
    await identity("c:B");
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["sessions"] } }));
    const before = await rowsOf(engine, INTERMEDIATE, "sessions", "session_key");
    await identity(null);
    const run = await runProject(project, engine, { selection: { actions: ["sessions"] } });
    const failed = run.actions.find((a) => a.action === `${INTERMEDIATE}.sessions`)!;
    assert.equal(failed.status, "failed");
    assert.match(String(failed.error), /sessions: chain_key is NULL on the row with session_key s2/);
    assert.deepEqual(await rowsOf(engine, INTERMEDIATE, "sessions", "session_key"), before);
  });

  it("refuses a key on two rows in the query that builds the table (no assertion reading it again), naming the key's value, and leaves the table as it was", async () => {
    const identity = (secondKey: string) => fixtureTable(engine, INTERMEDIATE, "int_session_identity", {
      session_key: "VARCHAR", chain_key: "VARCHAR", user_id: "VARCHAR", session_user_id: "VARCHAR", is_user_id_distrusted: "BOOLEAN", client_id: "VARCHAR",
      source_system: "VARCHAR", session_start_at: "TIMESTAMP", session_date: "DATE", source: "VARCHAR", medium: "VARCHAR", campaign: "VARCHAR",
      device: "VARCHAR", region: "VARCHAR", is_engaged: "BOOLEAN", event_count: "BIGINT",
    }, [["s1", "c:A", null, null, false, "A", "ga4", "2024-05-01 10:00:00", "2024-05-01", "google", "organic", "(not set)", "mobile", null, true, 1],
      [secondKey, "c:B", null, null, false, "B", "ga4", "2024-05-02 10:00:00", "2024-05-02", "google", "organic", "(not set)", "mobile", null, true, 1]]);
    await fixtureTable(engine, INTERMEDIATE, "transactions", { transaction_id: "VARCHAR", chain_key: "VARCHAR", transaction_at: "TIMESTAMP" }, []);
    const project = await compiledProject({}, []);
    // The check is the build's own: sessions has no uniqueKey assertion action any more.
    assert.ok(!project.graph.actions.some((a) => a.kind === "assertion" && a.target.name.includes("intermediate_sessions_")));
    await identity("s2");
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["sessions"] } }));
    const before = await rowsOf(engine, INTERMEDIATE, "sessions", "session_key");
    assert.equal(before.length, 2);
    await identity("s1");
    const run = await runProject(project, engine, { selection: { actions: ["sessions"] } });
    const failed = run.actions.find((a) => a.action === `${INTERMEDIATE}.sessions`)!;
    assert.equal(failed.status, "failed");
    assert.match(String(failed.error), /sessions: \d+ rows with session_key s1 \(the unique key: session_key\)/);
    assert.deepEqual(await rowsOf(engine, INTERMEDIATE, "sessions", "session_key"), before);
  });

  it("quarantines invalid custom events with a reason and builds custom sessions from ids, utm, region and date", async () => {
    const rows = [
      custom("view", "2024-06-01 09:00:00", "u1", "c1", { utm_source: "news", utm_medium: "email" }),
      custom("purchase", "2024-06-01 15:00:00", "u1", "c1", { utm_source: "news", utm_medium: "email", transaction_id: "T30", revenue: "10" }), // same session
      custom("view", "2024-06-02 09:00:00", "u1", "c1", { utm_source: "news", utm_medium: "email" }),  // next day → new session
      custom("view", "2024-06-01 10:00:00", "u1", "c1", { utm_source: "other", utm_medium: "email" }), // other utm → new session
      custom("view", "2024-06-01 10:00:00", null, null),                        // missing user_id and client_id
      custom("view", "yesterday", "u1", null),                                  // unparseable time
      custom("purchase", "2024-06-01 10:00:00", "u1", null, { revenue: "-5" }), // negative revenue
      custom("", "2024-06-01 10:00:00", "u1", null),                            // missing name
    ];
    await loadInputs(engine, { custom: rows });
    const project = await compiledProject({}, []);
    const run = await runProject(project, engine, { selection: { actions: ["sessions", "custom_events_quarantine", "dq_custom_events_quarantined"], includeDependencies: true } });
    assertRunSucceeded(run);
    const q = await rowsOf(engine, "funnelcredit_meta", "custom_events_quarantine", "reason");
    assert.deepEqual(q.map((r) => [r.reason, r.name, r.time]), [
      ["missing name", "", "2024-06-01 10:00:00"],
      ["missing user_id and client_id", "view", "2024-06-01 10:00:00"],
      ["negative revenue", "purchase", "2024-06-01 10:00:00"],
      ["unparseable time", "view", "yesterday"],
    ]);
    const dq = run.actions.find((a) => a.action.endsWith("dq_custom_events_quarantined"))!;
    assert.equal(dq.status, "warning");
    assert.equal(dq.rows, 4);
    const valid = await rowsOf(engine, STAGING, "stg_custom_events", "event_at");
    assert.equal(valid.length, 4);
    const sessions = await rowsOf(engine, INTERMEDIATE, "sessions", "session_start_at");
    assert.deepEqual(sessions.map((r) => [r.source_system, r.source, r.medium, r.session_date, r.event_count]), [
      ["custom", "news", "email", "2024-06-01", 2],
      ["custom", "other", "email", "2024-06-01", 1],
      ["custom", "news", "email", "2024-06-02", 1],
    ]);
  });
});

describe("warehouse: data-quality assertions", function () {
  this.timeout(120_000);
  it("dq_custom_events_quarantined passes while quarantined custom events are at most vars.bad_row_warn_share", async () => {
    // 1 bad of 4 rows = 25 %: a warning by default (1 %), a pass with bad_row_warn_share = 0.3.
    for (const [vars, status] of [[{}, "warning"], [{ bad_row_warn_share: "0.05", bad_row_max_share: "0.3" }, "warning"], [{ bad_row_warn_share: "0.3", bad_row_max_share: "0.3" }, "succeeded"]] as const) {
      const engine = await memoryEngine();
      try {
        await loadInputs(engine, { custom: [custom("view", "not a time", "u1", null), ...["09", "10", "11"].map((h) => custom("view", `2024-06-01 ${h}:00:00`, "u1", null))] });
        const project = await compiledProject(vars, []);
        const run = await runProject(project, engine, { selection: { actions: ["dq_custom_events_quarantined"], includeDependencies: true } });
        const dq = run.actions.find((a) => a.action.endsWith("dq_custom_events_quarantined"))!;
        assert.equal(dq.status, status, JSON.stringify(vars));
        assert.equal(dq.rows, status === "warning" ? 1 : 0);
      } finally {
        await engine.close();
      }
    }
  });

  it("warn by default and fail the run only when listed in failing_assertions", async () => {
    for (const [vars, status] of [[{}, "warning"], [{ failing_assertions: '["dq_custom_events_quarantined"]' }, "failed"]] as const) {
      const engine = await memoryEngine();
      try {
        await loadInputs(engine, { custom: [custom("view", "not a time", "u1", null)] });
        const project = await compiledProject(vars, []);
        const run = await runProject(project, engine, { selection: { actions: ["dq_custom_events_quarantined"], includeDependencies: true } });
        const dq = run.actions.find((a) => a.action.endsWith("dq_custom_events_quarantined"))!;
        assert.equal(dq.status, status);
        assert.equal(dq.rows, 1);
        assert.equal(run.status, status === "failed" ? "failed" : "succeeded");
      } finally {
        await engine.close();
      }
    }
  });
});
