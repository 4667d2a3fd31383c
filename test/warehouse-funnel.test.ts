/**
 * Funnel states and transitions, excluded sources, conversion windows, path length and channel paths
 * (OWOX rules 4, 6, 7, 8) on hand-made GA4 + CRM inputs (DuckDB).
 */
import assert from "node:assert/strict";
import { compiledProject, memoryEngine, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs, projectWithVars, INTERMEDIATE, type Ga4Event, type Inputs } from "./fixtures/warehouse/builders.ts";

const URL = "https://shop.example.com";
const ev = (day: string, time: string, name: string, client: string, session: number, more: Partial<Ga4Event> = {}): Ga4Event =>
  ({ day, time, name, client, session, ...more });

describe("warehouse: funnel, journeys and channel paths", function () {
  this.timeout(120_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  async function build(inputs: Inputs, vars: Record<string, string> = {}, actions = ["funnel_transitions", "channel_paths", "path_features"]): Promise<void> {
    await loadInputs(engine, inputs);
    // Vars holding commas (JSON lists of objects) cannot go through `dataform compile --vars`: see projectWithVars.
    const project = Object.values(vars).some((v) => v.includes(",")) ? await projectWithVars(vars) : await compiledProject(vars, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions, includeDependencies: true } }));
  }

  // Client F1: an engaged session with two identical view_items, a second session to purchase, a third one later.
  const funnelEvents: Ga4Event[] = [
    ev("20240301", "10:00:00", "page_view", "F1", 1, { params: { session_engaged: "1" } }),
    ev("20240301", "10:01:00", "view_item", "F1", 1),
    ev("20240301", "10:02:00", "view_item", "F1", 1),
    ev("20240301", "10:03:00", "add_to_cart", "F1", 1),
    ev("20240302", "10:00:00", "page_view", "F1", 2),
    ev("20240302", "10:01:00", "view_item", "F1", 2),
    ev("20240302", "10:02:00", "begin_checkout", "F1", 2),
    ev("20240302", "10:03:00", "purchase", "F1", 2, { transactionId: "T9", revenue: 10 }),
    ev("20240305", "10:00:00", "view_item", "F1", 3),
  ];

  it("collapses identical events of a funnel to the first one and starts a new funnel after each transaction", async () => {
    await build({ ga4: funnelEvents });
    const rows = await rowsOf(engine, INTERMEDIATE, "funnel_events", "event_at, step_index");
    // Funnel 0 (ends with T9): site_visit (engaged session 1), view_item at 10:01 of session 1 (the later two collapse into it),
    // add_to_cart, begin_checkout and purchase in session 2. Funnel 1: view_item of session 3, open.
    assert.deepEqual(rows.map((r) => [r.funnel_index, r.step, r.step_index, r.prev_step, r.session_key, r.transaction_id, r.user_type]), [
      [0, "site_visit", 1, null, "ga4:F1:1", "T9", "New"],
      [0, "view_item", 2, "site_visit", "ga4:F1:1", "T9", "New"],
      [0, "add_to_cart", 3, "view_item", "ga4:F1:1", "T9", "New"],
      [0, "begin_checkout", 4, "add_to_cart", "ga4:F1:2", "T9", "New"],
      [0, "purchase", 5, "begin_checkout", "ga4:F1:2", "T9", "New"],
      [1, "view_item", 2, null, "ga4:F1:3", null, "Returning"],
    ]);
    // Every occurrence stays in funnel_event_occurrences with its group's representative (the first view_item: 10:01 and
    // 10:02 of session 1, 10:01 of session 2); the
    // purchase event and T9's conversion step (same session, same instant) are one occurrence.
    const occurrences = await rowsOf(engine, INTERMEDIATE, "funnel_event_occurrences", "event_at, event_key");
    const firstView = rows.find((r) => r.funnel_index === 0 && r.step === "view_item")!.event_key;
    assert.deepEqual(occurrences.filter((o) => o.funnel_index === 0 && o.step === "view_item").map((o) => [o.session_key, o.representative_event_key]), [
      ["ga4:F1:1", firstView], ["ga4:F1:1", firstView], ["ga4:F1:2", firstView],
    ]);
    // The occurrence kept is the one with the smaller key: the purchase event's (a hex digest) before "tx:T9", with
    // the session's and the funnel's values.
    const purchase = occurrences.filter((o) => o.step === "purchase");
    assert.deepEqual(purchase.map((o) => [/^[0-9a-f]{32}$/.test(String(o.event_key)), o.session_key, o.credit_session_key, o.transaction_id, o.funnel_index, o.device, o.region]), [
      [true, "ga4:F1:2", "ga4:F1:2", "T9", 0, "desktop", "Bavaria"],
    ]);
    assert.equal(occurrences.filter((o) => o.event_key === o.representative_event_key).length, rows.length);
    const tr = await rowsOf(engine, INTERMEDIATE, "funnel_transitions", "user_type, from_step, to_step");
    assert.deepEqual(tr.map((r) => [r.user_type, r.from_step, r.to_step, r.device, r.region, r.transitions]), [
      ["New", "(start)", "site_visit", "desktop", "Bavaria", 1],
      ["New", "add_to_cart", "begin_checkout", "desktop", "Bavaria", 1],
      ["New", "begin_checkout", "purchase", "desktop", "Bavaria", 1],
      ["New", "site_visit", "view_item", "desktop", "Bavaria", 1],
      ["New", "view_item", "add_to_cart", "desktop", "Bavaria", 1],
      ["Returning", "(start)", "view_item", "desktop", "Bavaria", 1],
      ["Returning", "view_item", "(exit)", "desktop", "Bavaria", 1],
    ]);
  });

  it("gives a disabled step no events, so the funnel skips it", async () => {
    const steps = JSON.stringify([
      { name: "site_visit", match: { non_bounce: true } },
      { name: "view_item", match: { event_name: "view_item" } },
      { name: "add_to_cart", match: { event_name: "add_to_cart" }, enabled: false },
      { name: "checkout_page", match: { page_path_regex: "^/checkout" } },
      { name: "purchase", match: { ecommerce_action: "purchase" } },
    ]);
    const ga4 = funnelEvents.map((e) => (e.name === "begin_checkout" ? { ...e, name: "page_view", page: `${URL}/checkout?step=1` } : e));
    await build({ ga4 }, { funnel_steps: steps });
    const rows = await rowsOf(engine, INTERMEDIATE, "funnel_events", "event_at, step_index");
    assert.deepEqual(rows.filter((r) => r.funnel_index === 0).map((r) => [r.step, r.step_index, r.prev_step]), [
      ["site_visit", 1, null],
      ["view_item", 2, "site_visit"],
      ["checkout_page", 4, "view_item"],
      ["purchase", 5, "checkout_page"],
    ]);
  });

  // Chain u:W: email, direct, cpc, direct + purchase T10 (confirmed by CRM → distributed).
  // Chain c:X: direct, direct + purchase T11 (confirmed). Chain c:Y: organic, never converts.
  const pathInputs: Inputs = {
    ga4: [
      ev("20240401", "10:00:00", "page_view", "W1", 1, { user: "W", page: `${URL}/?utm_source=news&utm_medium=email` }),
      ev("20240402", "10:00:00", "page_view", "W1", 2, { user: "W" }),
      ev("20240403", "10:00:00", "page_view", "W1", 3, { user: "W", page: `${URL}/?gclid=x1` }),
      ev("20240404", "10:00:00", "purchase", "W1", 4, { user: "W", transactionId: "T10", revenue: 100 }),
      ev("20240401", "10:00:00", "page_view", "X", 5),
      ev("20240402", "10:00:00", "purchase", "X", 6, { transactionId: "T11", revenue: 20 }),
      ev("20240401", "10:00:00", "page_view", "Y", 7, { params: { source: "google", medium: "organic" } }),
    ],
    crm: [
      ["T10", "W", null, "2024-04-04 10:00:00", "completed", 100, null],
      ["T11", null, "X", "2024-04-02 10:00:00", "completed", 20, null],
    ],
  };

  it("moves an excluded source's value to the nearest earlier non-excluded session, and keeps it where there is none", async () => {
    await build(pathInputs);
    const sessions = await rowsOf(engine, INTERMEDIATE, "sessions", "session_key");
    assert.deepEqual(sessions.map((r) => [r.session_key, r.channel, r.is_excluded_source, r.credit_session_key]), [
      ["ga4:W1:1", "Email", false, "ga4:W1:1"],
      ["ga4:W1:2", "Direct", true, "ga4:W1:1"],
      ["ga4:W1:3", "Paid Search", false, "ga4:W1:3"],
      ["ga4:W1:4", "Direct", true, "ga4:W1:3"],
      ["ga4:X:5", "Direct", true, "ga4:X:5"],
      ["ga4:X:6", "Direct", true, "ga4:X:6"],
      ["ga4:Y:7", "Organic Search", false, "ga4:Y:7"],
    ]);
    const paths = await rowsOf(engine, INTERMEDIATE, "channel_paths", "path");
    // Exposure transform: consecutive repeats collapse (Direct > Direct → Direct).
    assert.deepEqual(paths.map((r) => [r.path, r.total_conversions, r.total_conversion_value, r.total_null]), [
      ["Direct", 1, 20, 0],
      ["Email > Paid Search", 1, 100, 0],
      ["Organic Search", 0, 0, 1],
    ]);
  });

  it("applies fractribution's path transforms to its worked example: unique, exposure, first, frequency", async () => {
    // fractribution's example path D A B B C D C C (its README, path_transforms), one session a day, the last one buying.
    // D = Email, A = Organic Search, B = Paid Search, C = Referral; none is an excluded source. By hand:
    //   unique    keeps every touch:                     D > A > B > B > C > D > C > C
    //   exposure  collapses consecutive repeats:         D > A > B > C > D > C
    //   first     keeps each channel's first touch:      D > A > B > C
    //   frequency first touch with its touch count:      D(2) > A(1) > B(2) > C(3)
    const channel = { D: { source: "news", medium: "email" }, A: { source: "google", medium: "organic" }, B: { source: "google", medium: "cpc" }, C: { source: "partner.example.org", medium: "referral" } };
    const touches = ["D", "A", "B", "B", "C", "D", "C", "C"] as const;
    const ga4 = touches.flatMap((c, i) => [
      ev(`2024040${i + 1}`, "10:00:00", "page_view", "P1", i + 1, { user: "P", params: channel[c] }),
      ...(i === touches.length - 1 ? [ev(`2024040${i + 1}`, "10:05:00", "purchase", "P1", i + 1, { user: "P", transactionId: "T20", revenue: 50 })] : []),
    ]);
    const name = { D: "Email", A: "Organic Search", B: "Paid Search", C: "Referral" };
    const expected = {
      unique: "D > A > B > B > C > D > C > C",
      exposure: "D > A > B > C > D > C",
      first: "D > A > B > C",
      frequency: "D(2) > A(1) > B(2) > C(3)",
    };
    for (const [transform, path] of Object.entries(expected)) {
      await engine.close();
      engine = await memoryEngine();
      await build({ ga4, crm: [["T20", "P", null, "2024-04-08 10:05:00", "completed", 50, null]] }, { path_transform: transform }, ["channel_paths"]);
      const paths = await rowsOf(engine, INTERMEDIATE, "channel_paths", "path");
      const want = path.replace(/[DABC]/g, (c) => name[c as keyof typeof name]);
      assert.deepEqual(paths.map((r) => [r.path, r.total_conversions, r.total_conversion_value, r.total_null]), [[want, 1, 50, 0]], `path_transform ${transform}`);
    }
  });

  it("applies the 'unique' path transform and reads imported paths when path_source is import", async () => {
    await build(pathInputs, { path_transform: "unique" });
    let paths = await rowsOf(engine, INTERMEDIATE, "channel_paths", "path");
    assert.deepEqual(paths.map((r) => r.path), ["Direct > Direct", "Email > Paid Search", "Organic Search"]);
    await engine.close();
    engine = await memoryEngine();
    await build({ paths: [["A > B", 2, 20, 1], ["B", 0, 0, 3]] }, { path_source: "import" }, ["channel_paths"]);
    paths = await rowsOf(engine, INTERMEDIATE, "channel_paths", "path");
    assert.deepEqual(paths.map((r) => [r.path, r.total_conversions, r.total_conversion_value, r.total_null]), [["A > B", 2, 20, 1], ["B", 0, 0, 3]]);
  });

  it("writes every imported path in one form, whether it came written that way or not", async () => {
    // Split on '>', names trimmed, empty names dropped, '%' → '%25'; paths already in that form pass as they are.
    // "A>B", " A  >  B " and "A > B" are one path: conversions 1 + 2 + 4 = 7, value 10 + 20 + 40, nulls 1 + 0 + 2.
    await build({
      paths: [
        ["A>B", 1, 10, 1], [" A  >  B ", 2, 20, 0], ["A > B", 4, 40, 2],
        ["C > > D", 1, 5, 0], ["50% off > x", 1, 1, 1], ["ü > Paid Search", 3, 0, 0], ["Direct", 0, 0, 9], ["a  b > c", 1, 2, 3],
      ],
    }, { path_source: "import" }, ["channel_paths"]);
    const paths = await rowsOf(engine, INTERMEDIATE, "channel_paths", "path");
    assert.deepEqual(paths.map((r) => [r.path, r.total_conversions, r.total_conversion_value, r.total_null]), [
      ["50%25 off > x", 1, 1, 1],
      ["A > B", 7, 70, 3],
      ["C > D", 1, 5, 0],
      ["Direct", 0, 0, 9],
      ["a  b > c", 1, 2, 3],
      ["ü > Paid Search", 3, 0, 0],
    ]);
  });

  it("keeps every session of the lookback window with journey_reset_at_conversion=false (not cut by an earlier transaction) and truncates long paths from the start", async () => {
    const ga4: Ga4Event[] = [
      ev("20240101", "10:00:00", "page_view", "L1", 1, { params: { source: "google", medium: "organic" } }),
      ev("20240210", "10:00:00", "page_view", "L1", 2, { page: `${URL}/?utm_source=news&utm_medium=email` }),
      ev("20240220", "10:00:00", "page_view", "L1", 3, { page: `${URL}/?gclid=g` }),
      ev("20240225", "10:00:00", "purchase", "L1", 4, { params: { source: "blog", medium: "referral" }, transactionId: "T20", revenue: 100 }),
      ev("20240301", "10:00:00", "purchase", "L1", 5, { params: { source: "fb", medium: "social" }, transactionId: "T21", revenue: 50 }),
    ];
    const crm = [
      ["T20", null, "L1", "2024-02-25 10:00:00", "completed", 100, null],
      ["T21", null, "L1", "2024-03-01 10:00:00", "completed", 50, null],
    ];
    await build({ ga4, crm }, { lookback_days: "30", max_path_length: "2", journey_reset_at_conversion: "false" });
    const journeys = await rowsOf(engine, INTERMEDIATE, "conversion_journeys", "journey_key");
    // T20: window 2024-01-26 … 02-25 holds sessions 2, 3, 4 → the last two kept, 1 truncated.
    // T21: window 2024-01-31 … 03-01 holds sessions 2, 3, 4, 5 (T20 does not cut it) → the last two kept, 2 truncated.
    assert.deepEqual(journeys.map((j) => [j.journey_key, j.converted, j.value, (j.touches as { session_key: string; channel: string; position: number }[]).map((t) => [t.session_key, t.channel, t.position]), j.truncated_touch_count]), [
      ["t:T20", true, 100, [["ga4:L1:3", "Paid Search", 1], ["ga4:L1:4", "Referral", 2]], 1],
      ["t:T21", true, 50, [["ga4:L1:4", "Referral", 1], ["ga4:L1:5", "Organic Social", 2]], 2],
    ]);
    const features = await rowsOf(engine, INTERMEDIATE, "path_features", "path");
    assert.deepEqual(features.map((f) => [f.path, f.touch_count, f.conversion_count, f.truncated_journey_count]), [
      ["Paid Search > Referral", 2, 1, 1],
      ["Referral > Organic Social", 2, 1, 1],
    ]);
  });
});
