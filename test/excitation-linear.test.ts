/**
 * The excitation_linear model on hand-made GA4 sessions (DuckDB): channel_excitation, excitation_linear_touch_credit,
 * excitation_linear_channel_credit, and its rows in session_credit and channel_credit_by_model, computed by hand.
 *
 * Sessions (days after 2024-03-01 00:00; the data's span is day 0 to day 10; window 3 days → fraction 0.3, cut at day 10):
 *   chain A: Display 0, Brand 1 (buys, 100)     chain B: Display 5, Brand 6     chain C: Brand 2, Brand 2.5 (buys, 50)
 *   chain D: Email 2, Display 3 (buys, 60)      chain E: Display 10
 * (default channel grouping: display/cpm → Display, newsletter/email → Email, brand/referral → Referral)
 * Incoming excitation (sessions of the channel in the 3 days after another channel's session of the chain, over what
 * the chain's own count of the channel spread evenly would put there):
 *   Brand:   observed 2 (A, B; C's second Brand follows Brand, not another channel); expected A: 1 × 0.3 (after Display 0)
 *            + B: 1 × 0.3 (after Display 5) = 0.6 → ratio 3.333333333 > 1.15: responsive.
 *   Display: observed 1 (D: 1 day after Email); expected A: 0.3 (after Brand 1) + B: 0.3 (after Brand 6, window to day 9)
 *            + D: 0.3 (after Email 2) = 0.9 → ratio 1.111111111: not responsive.
 *   Email:   observed 0; expected D: 0.3 (after Display 3) → ratio 0.
 * The model's channel totals (the rule as measured in bench/studies/calib.ts): linear's credit — A Display 0.5, Brand 0.5 (50, 50);
 * C Brand 0.5 + 0.5 (25 + 25); D Email 0.5, Display 0.5 (30, 30) → Display 1 (80), Brand 1.5 (100), Email 0.5 (30) —
 * without the responsive Brand, scaled back up to 3 conversions and 210: Display 1 × 3 / 1.5 = 2, 80 × 210 / 110 =
 * 152.727272727; Email 1, 57.272727273; Brand 0.
 * Its session credit (touch weights: Brand 0, the others 1): A Display 1 (Brand only follows it: 0); C has only
 * responsive touches: linear over them, Brand 0.5 + 0.5; D Email 0.5, Display 0.5. Every transaction gives out 1.
 */
import assert from "node:assert/strict";
import { createRng } from "../src/demo/prng.ts";
import { assertRunSucceeded, compiledProject, fixtureTable, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { BRAND_SOURCE as BRAND, DISPLAY_SOURCE as DISPLAY, EMAIL_SOURCE as EMAIL, loadInputs, INTERMEDIATE, visitBuilder, type Ga4Event } from "./fixtures/warehouse/builders.ts";

describe("excitation_linear on hand-made sessions (DuckDB)", function () {
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
  ];
  const [display, email, brand] = ["Display", "Email", "Referral"];

  it("gives a channel that only comes right after another none, scales the others' linear credit up to every conversion, and shares a journey of only such channels linearly", async () => {
    await loadInputs(engine, { ga4: ga4() });
    const project = await compiledProject();
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["session_credit", "channel_credit_by_model"], includeDependencies: true } }));
    const ds = project.settings.datasets;

    const ex = await engine.queryNative(`SELECT channel, sessions, incoming_observed AS io, round(incoming_expected, 9) AS ie, incoming_ratio, is_responsive
      FROM "${INTERMEDIATE}".channel_excitation ORDER BY channel`);
    assert.deepEqual(ex.map((r) => [r.channel, Number(r.sessions), Number(r.io), Number(r.ie), Number(r.incoming_ratio), r.is_responsive]), [
      [display, 4, 1, 0.9, 1.111111111, false],
      [email, 1, 0, 0.3, 0, false],
      [brand, 4, 2, 0.6, 3.333333333, true],
    ]);

    const credit = await engine.queryNative(`SELECT channel, is_responsive, linear_conversions, touch_weight, conversions, value, share
      FROM "${ds.outputs}".excitation_linear_channel_credit ORDER BY channel`);
    assert.deepEqual(credit.map((r) => [r.channel, r.is_responsive, Number(r.linear_conversions), Number(r.touch_weight), Number(r.conversions), Number(r.value), Number(r.share)]), [
      [display, false, 1, 1, 2, 152.727272727, 0.666666666667],
      [email, false, 0.5, 1, 1, 57.272727273, 0.333333333333],
      [brand, true, 1.5, 0, 0, 0, 0],
    ]);
    const byModel = await engine.queryNative(`SELECT channel, conversions, value FROM "${ds.outputs}".channel_credit_by_model WHERE model = 'excitation_linear' ORDER BY channel`);
    assert.deepEqual(byModel.map((r) => [r.channel, Number(r.conversions), Number(r.value)]), credit.map((r) => [r.channel, Number(r.conversions), Number(r.value)]));

    const sessions = await engine.queryNative(`SELECT transaction_id, channel, conversions, value FROM "${ds.outputs}".session_credit
      WHERE model = 'excitation_linear' ORDER BY transaction_id, session_date, session_key`);
    assert.deepEqual(sessions.map((r) => [r.channel, Number(r.conversions), Number(r.value)]), [
      [display, 1, 100], [brand, 0, 0],                // A: Brand follows Display: 0
      [brand, 0.5, 25], [brand, 0.5, 25],              // C: only responsive touches: plain linear
      [email, 0.5, 30], [display, 0.5, 30],            // D: linear over the two
    ]);
  });

  it("counts every session following another channel's session of its chain within the window (random chains with ties and window edges)", async () => {
    // excitation_window_days = 1: a pair (k, x) of one chain counts for x's channel when x.channel ≠ k.channel and
    // k < x ≤ k + 1 day. Start times on a 6-hour grid (ties, and pairs exactly one day apart).
    const rng = createRng(20240301);
    const rnd = (n: number): number => rng.int(0, n - 1);
    const DAY = 86_400_000;
    const t0 = Date.UTC(2024, 2, 1);
    const channels = ["Display", "Email", "Referral", "Organic Search"];
    const sessions = Array.from({ length: 600 }, (_, i) => ({ key: `s${i}`, chain: `c${rnd(40)}`, channel: channels[rnd(channels.length)]!, at: t0 + rnd(40) * DAY / 4 }));
    const observed = new Map<string, number>();
    for (const k of sessions) {
      for (const s of sessions) {
        if (s.chain === k.chain && s.channel !== k.channel && s.at > k.at && s.at <= k.at + DAY) observed.set(s.channel, (observed.get(s.channel) ?? 0) + 1);
      }
    }
    const ts = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    await fixtureTable(engine, INTERMEDIATE, "sessions", { session_key: "VARCHAR", chain_key: "VARCHAR", channel: "VARCHAR", session_start_at: "TIMESTAMP" },
      sessions.map((r) => [r.key, r.chain, r.channel, ts(r.at)]));
    const project = await compiledProject({ excitation_window_days: "1" }, []);
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["channel_excitation"] } }));
    const rows = await engine.queryNative(`SELECT channel, incoming_observed FROM "${INTERMEDIATE}".channel_excitation ORDER BY channel`);
    assert.ok([...observed.values()].reduce((a, b) => a + b, 0) > 500, JSON.stringify([...observed]));
    assert.deepEqual(rows.map((r) => [r.channel, Number(r.incoming_observed)]), [...channels].sort().map((c) => [c, observed.get(c) ?? 0]));
  });

  it("names the var when a setting is out of range", async () => {
    await assert.rejects(compiledProject({ excitation_responsive_ratio: "0.5" }), /excitation_responsive_ratio/);
    await assert.rejects(compiledProject({ excitation_window_days: "0" }), /excitation_window_days/);
  });
});
