/**
 * The self_controlled model (a self-controlled case series per channel, shrunk toward linear's split where the
 * channels' excesses are within noise) on hand-made GA4 sessions (DuckDB): self_controlled_channel_credit and its rows
 * in session_credit and channel_credit_by_model, computed by hand. Both fixtures run with a 3-day risk window and the
 * responsive cut-off at z 1.5 (self_controlled_window_days, self_controlled_responsive_z), so the numbers stay small;
 * one runs fixture 1 with the default window (auto: a quarter of the span, 2.5 days).
 * Days after 2024-03-01 00:00; a purchase 5 minutes into its session; the data's span is day 0 to day 10, so a 3-day
 * window is 0.3 of it (cut at day 10). Default channel grouping: display/cpm → Display, newsletter/email → Email,
 * brand/referral → Referral. Incoming excitation z = (observed − expected) / √expected (channel_excitation; the counts
 * as in test/excitation-linear.test.ts).
 *
 * Fixture 1 (the excesses within noise → linear's split over the kept channels):
 *   chain A: Display 0, Brand 1 (buys, 100)     chain B: Display 5, Brand 6     chain C: Brand 2, Brand 2.5 (buys, 50)
 *   chain D: Email 2, Display 3 (buys, 60)      chain E: Display 10            chain F: Email 7
 *   chain G: Display 4, Display 8 (buys, 40)
 *   z: Brand (2 − 0.6) / √0.6 = 1.81 > 1.5, responsive; Display (1 − 0.9) / √0.9 = 0.11; Email −0.55 (F, G: one channel each,
 *   nothing there). Each session of a converting chain (A, C, D, G: one conversion each): the chain's conversions in
 *   [start, start + 3 days] (observed) against 1 × the window's share of the span (expected):
 *   Display: A0 1 / 0.3, D3 1 / 0.3 (its own session's), G4 0 / 0.3, G8 1 / 0.2 → 3 / 1.1, excess 1.9; 6 sessions.
 *   Email:   D2 1 / 0.3 → excess 0.7; 2 sessions.        Brand: 3 / 0.9, excess 2.1 (responsive: none).
 *   Linear: Display 2, Email 0.5, Brand 1.5 of 4 conversions. Prior (kept excess 2.6 by linear over the kept 2.5):
 *   Display 2.08, Email 0.52. τ² = max(0, mean((1.9 − 2.08)² − 3, (0.7 − 0.52)² − 1)) = 0: each estimate is its prior.
 *   Credit of 4 conversions and 250: Display 3.2, 200, share 0.8, touch weight 3.2 / 6; Email 0.8, 50, weight 0.8 / 2.
 *   Session credit: A Display 1; C only Brand: 0.5 + 0.5; D Email 0.4 / (0.4 + 0.5333) = 3/7, Display 4/7; G 0.5 + 0.5.
 *
 * Fixture 2 (the excesses differ beyond noise → pulled from linear's split toward them):
 *   18 chains P: Display 0, Email 5, Display 6 (buys, 30); chain Q1: Email 1, Brand 2 (buys, 20); 5 chains Q: Email 1,
 *   Brand 2; chain E: Display 10.
 *   z: Brand (6 − 1.8) / √1.8 = 3.13 > 3, responsive; Display (18 − 10.8) / √10.8 = 2.19; Email < 0.
 *   Display: 37 sessions; observed 18 (its own converting sessions), expected 18 × (0.3 + 0.3) = 10.8, excess 7.2; linear 12.
 *   Email: 24 sessions; observed 18 (P: the conversion a day later) + 1 (Q1), expected 19 × 0.3 = 5.7, excess 13.3; linear 6.5.
 *   Prior: 20.5 × 12 / 18.5 = 13.297297297, 20.5 × 6.5 / 18.5 = 7.202702703. τ² = ((7.2 − 13.2973)² − 18 + (13.3 − 7.2027)² − 19) / 2
 *   = 18.677034332. Estimates (τ² e + v p) / (τ² + v): Display 10.192372566, Email 10.225218486.
 *   Credit of 19 conversions and 560: Display 9.484717284, 279.549562062, share 0.499195646540; Email 9.515282716,
 *   280.450437938. (Linear's split would give Display 0.649, the unshrunk excess 0.351.)
 *   Session credit summed: Display 36 × w_D / (2 w_D + w_E) = 10.150467031 (value 304.514010922), Email 8.849532969
 *   (255.485989078), Brand 0.
 */
import assert from "node:assert/strict";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { canonicalRows } from "./support/canonical.ts";
import { STRICT_PROJECT, runDemoSampleOnBothEngines } from "./support/both-engines.ts";
import { BRAND_SOURCE as BRAND, DISPLAY_SOURCE as DISPLAY, EMAIL_SOURCE as EMAIL, loadInputs, visitBuilder, type Ga4Event } from "./fixtures/warehouse/builders.ts";

describe("self_controlled on hand-made sessions (DuckDB)", function () {
  this.timeout(300_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  const visit = visitBuilder();
  const ga4 = (): Ga4Event[] => [
    ...visit("A", 0, DISPLAY), ...visit("A", 1, BRAND, 100),
    ...visit("B", 5, DISPLAY), ...visit("B", 6, BRAND),
    ...visit("C", 2, BRAND), ...visit("C", 2.5, BRAND, 50),
    ...visit("D", 2, EMAIL), ...visit("D", 3, DISPLAY, 60),
    ...visit("E", 10, DISPLAY),
    ...visit("F", 7, EMAIL),
    ...visit("G", 4, DISPLAY), ...visit("G", 8, DISPLAY, 40),
  ];
  const [display, email, brand] = ["Display", "Email", "Referral"];
  const SMALL = { self_controlled_window_days: "3", self_controlled_responsive_z: "1.5" };

  it("gives a responsive channel none and keeps linear's split of the others when their excess conversions differ by no more than noise", async () => {
    await loadInputs(engine, { ga4: ga4() });
    const project = await compiledProject(SMALL);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["session_credit", "channel_credit_by_model"], includeDependencies: true } }));
    const ds = project.settings.datasets;

    const credit = await engine.queryNative(`SELECT channel, is_responsive, sessions, window_conversions, expected_conversions, excess_conversions,
      prior_conversions, shrunk_excess, touch_weight, conversions, value, share FROM "${ds.outputs}".self_controlled_channel_credit ORDER BY channel`);
    assert.deepEqual(credit.map((r) => [r.channel, r.is_responsive, Number(r.sessions), Number(r.window_conversions), Number(r.expected_conversions),
      Number(r.excess_conversions), Number(r.prior_conversions), Number(r.shrunk_excess), Number(r.touch_weight), Number(r.conversions), Number(r.value), Number(r.share)]), [
      [display, false, 6, 3, 1.1, 1.9, 2.08, 2.08, 0.533333333333, 3.2, 200, 0.8],
      [email, false, 2, 1, 0.3, 0.7, 0.52, 0.52, 0.4, 0.8, 50, 0.2],
      [brand, true, 4, 3, 0.9, 2.1, 1.56, 0, 0, 0, 0, 0],
    ]);
    const byModel = await engine.queryNative(`SELECT channel, conversions, value FROM "${ds.outputs}".channel_credit_by_model WHERE model = 'self_controlled' ORDER BY channel`);
    assert.deepEqual(byModel.map((r) => [r.channel, Number(r.conversions), Number(r.value)]), credit.map((r) => [r.channel, Number(r.conversions), Number(r.value)]));

    const sessions = await engine.queryNative(`SELECT transaction_id, channel, conversions, value FROM "${ds.outputs}".session_credit
      WHERE model = 'self_controlled' ORDER BY transaction_id, session_date, session_key`);
    assert.deepEqual(sessions.map((r) => [r.channel, Number(r.conversions), Number(r.value)]), [
      [display, 0.5, 20], [display, 0.5, 20],                                 // G (T13 sorts first)
      [display, 1, 100], [brand, 0, 0],                                       // A: Brand is responsive
      [brand, 0.5, 25], [brand, 0.5, 25],                                     // C: only responsive touches: equally
      [email, 0.428571429, 25.714285714], [display, 0.571428571, 34.285714286],       // D: 3/7, 4/7
    ]);
  });

  it("pulls the credit from linear's split toward the channels' excess conversions when they differ beyond noise", async () => {
    const events: Ga4Event[] = [];
    for (let i = 0; i < 18; i++) events.push(...visit(`P${i}`, 0, DISPLAY), ...visit(`P${i}`, 5, EMAIL), ...visit(`P${i}`, 6, DISPLAY, 30));
    events.push(...visit("Q0", 1, EMAIL), ...visit("Q0", 2, BRAND, 20));
    for (let i = 1; i < 6; i++) events.push(...visit(`Q${i}`, 1, EMAIL), ...visit(`Q${i}`, 2, BRAND));
    events.push(...visit("E", 10, DISPLAY));
    await loadInputs(engine, { ga4: events });
    const project = await compiledProject({ self_controlled_window_days: "3" });
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["session_credit", "channel_credit_by_model"], includeDependencies: true } }));
    const ds = project.settings.datasets;
    const credit = await engine.queryNative(`SELECT channel, is_responsive, sessions, window_conversions, expected_conversions, excess_conversions,
      prior_conversions, shrunk_excess, conversions, value, share FROM "${ds.outputs}".self_controlled_channel_credit ORDER BY channel`);
    // To 6 decimals: the linear model's totals (the prior and the scale) carry its 9-decimal rounding of thirds.
    const r6 = (x: unknown): number => Math.round(Number(x) * 1e6) / 1e6;
    assert.deepEqual(credit.map((r) => [r.channel, r.is_responsive, Number(r.sessions), Number(r.window_conversions), Number(r.expected_conversions),
      Number(r.excess_conversions), r6(r.prior_conversions), r6(r.shrunk_excess), r6(r.conversions), r6(r.value), r6(r.share)]), [
      [display, false, 37, 18, 10.8, 7.2, 13.297297, 10.192373, 9.484717, 279.549562, 0.499196],
      [email, false, 24, 19, 5.7, 13.3, 7.202703, 10.225218, 9.515283, 280.450438, 0.500804],
      [brand, true, 6, 1, 0.3, 0.7, 0.554054, 0, 0, 0, 0],
    ]);
    const sessions = await engine.queryNative(`SELECT channel, SUM(conversions) AS c, SUM(value) AS v FROM "${ds.outputs}".session_credit
      WHERE model = 'self_controlled' GROUP BY channel ORDER BY channel`);
    assert.deepEqual(sessions.map((r) => [r.channel, r6(r.c), r6(r.v)]), [
      [display, 10.150467, 304.514011],
      [email, 8.849533, 255.485989],
      [brand, 0, 0],
    ]);
  });

  it("by default (self_controlled_window_days auto) takes a quarter of the data's span as the window", async () => {
    // Fixture 1 with a 2.5-day window (10 days / 4): Display A0 1 / 0.25, D3 1 / 0.25, G4 0 / 0.25, G8 1 / 0.2 → 3 / 0.95;
    // Email D2 1 / 0.25; Brand A1, C2, C2.5 1 / 0.25 each → 3 / 0.75. Prior: kept excess 2.05 + 0.75 = 2.8 by linear
    // (2, 0.5 of the kept 2.5): 2.24, 0.56; τ² = 0, so the split stays 0.8 / 0.2.
    await loadInputs(engine, { ga4: ga4() });
    const project = await compiledProject({ self_controlled_responsive_z: "1.5" });
    assert.equal(project.settings.selfControlledWindowDays, "auto");
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["self_controlled_channel_credit"], includeDependencies: true } }));
    const credit = await engine.queryNative(`SELECT channel, window_conversions, expected_conversions, excess_conversions, prior_conversions, share
      FROM "${project.settings.datasets.outputs}".self_controlled_channel_credit ORDER BY channel`);
    assert.deepEqual(credit.map((r) => [r.channel, Number(r.window_conversions), Number(r.expected_conversions), Number(r.excess_conversions),
      Number(r.prior_conversions), Number(r.share)]), [
      [display, 3, 0.95, 2.05, 2.24, 0.8],
      [email, 1, 0.25, 0.75, 0.56, 0.2],
      [brand, 3, 0.75, 2.25, 1.68, 0],
    ]);
  });

  it("counts a conversion in a session's window while TIMESTAMP_DIFF in whole seconds is within it, to the microsecond", async () => {
    // 3-day window = 259,200 s. Chain H buys 3 days + 0.999 s after its first session (TIMESTAMP_DIFF truncates:
    // 259,200 s, inside); chain J 3 days + 1 s after (259,201 s, outside). Each purchase session is in its own window.
    const at = (client: string, session: number, time: string, buy?: number): Ga4Event => ({
      day: time.slice(0, 10).replace(/-/g, ""), time: time.slice(11), name: buy ? "purchase" : "page_view", client, session,
      collected: DISPLAY, ...(buy ? { transactionId: `T${client}`, revenue: buy } : {}),
    });
    await loadInputs(engine, { ga4: [
      at("H", 1, "2024-03-02T00:00:00"), at("H", 2, "2024-03-05T00:00:00.999", 10),
      at("J", 3, "2024-03-02T00:00:00"), at("J", 4, "2024-03-05T00:00:01", 10),
    ] });
    const project = await compiledProject(SMALL);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["self_controlled_chain_windows"], includeDependencies: true } }));
    const rows = await engine.queryNative(`SELECT w.window_conversions, (SELECT ANY_VALUE(s.client_id) FROM "${project.settings.datasets.intermediate}".sessions AS s
      WHERE s.chain_key = w.chain_key) AS client FROM "${project.settings.datasets.intermediate}".self_controlled_chain_windows AS w ORDER BY client`);
    assert.deepEqual(rows.map((r) => [r.client, Number(r.window_conversions)]), [["H", 2], ["J", 1]]);
  });

  it("names the var when a setting is out of range", async () => {
    await assert.rejects(compiledProject({ self_controlled_window_days: "0" }), /self_controlled_window_days/);
    await assert.rejects(compiledProject({ self_controlled_window_days: "quarter" }), /self_controlled_window_days.*"auto"/);
    await assert.rejects(compiledProject({ self_controlled_responsive_z: "-1" }), /self_controlled_responsive_z/);
  });

  it("gives the same credit on the strict local BigQuery as on DuckDB (demo sample)", async () => {
    // The demo has every channel responsive at the default cut-off (test/pipeline.test.ts), so none is here: every
    // channel gets its excess, and the table has rows to compare.
    const project = await compiledProject({ excitation_responsive_ratio: "100" });
    const ds = project.settings.datasets;
    const bq = await runDemoSampleOnBothEngines(engine, project, ["self_controlled_channel_credit"]);
    try {
      const want = canonicalRows(await engine.queryNative(`SELECT * FROM "${ds.outputs}".self_controlled_channel_credit`));
      assert.ok(want.length >= 5, `${want.length} channels`);
      assert.deepEqual(canonicalRows(await bq.rows(`${STRICT_PROJECT}.${ds.outputs}.self_controlled_channel_credit`)), want);
    } finally {
      await bq.close();
    }
  });
});
