import assert from "node:assert/strict";
import {
  DEFAULT_RELIABILITY,
  UnknownFunnelStep,
  distributeTransaction,
  fitFunnelMarkov,
  funnelMarkovToJSON,
  isReliable,
  loadFunnelMarkov,
  scoreFunnelChain,
  transitionProbability,
  type FunnelTransitionRow,
} from "../src/models/funnel-markov.ts";
import { neumaierSum } from "../src/models/numeric.ts";

const STEPS = ["view", "cart", "purchase"];
const row = (fromStep: string, toStep: string, userType: string, device: string, region: string, n: number): FunnelTransitionRow => ({
  fromStep,
  toStep,
  userType,
  device,
  region,
  n,
});

/*
 * view → cart / (exit) counts per (user type, device, region); rule: 1.96·√(p(1−p)/n) < 0.1.
 *  1 new/mobile/EU        50 / 50  n 100  p .5    hw .0980 → reliable: level 1, p = .5
 *  2 new/mobile/US         1 / 3   n 4    p .25   hw .424  ✗; (new, mobile) = 51/104: p .4904, hw .0961 → level 2
 *  3 returning/desktop/EU  2 / 2   n 4    ✗; (returning, desktop) same 4 ✗; (desktop) = 3 + 4 → 92/104:
 *                                          p .8846, hw .0614 → level 3, p = 92/104
 *  4 new/desktop/US       90 / 10  n 100  p .9    hw .0588 → level 1
 *  5 returning/tablet/EU   1 / 1   n 2    ✗ at every level up to (tablet) → global: 144/210
 * plus for combo 1: (start) → view 100 (p 1 → score 0), cart → purchase 20 / exit 80 (p .2, hw .0784 → score .8).
 */
const ROWS: FunnelTransitionRow[] = [
  row("view", "cart", "new", "mobile", "EU", 50),
  row("view", "(exit)", "new", "mobile", "EU", 50),
  row("view", "cart", "new", "mobile", "US", 1),
  row("view", "(exit)", "new", "mobile", "US", 3),
  row("view", "cart", "returning", "desktop", "EU", 2),
  row("view", "(exit)", "returning", "desktop", "EU", 2),
  row("view", "cart", "new", "desktop", "US", 90),
  row("view", "(exit)", "new", "desktop", "US", 10),
  row("view", "cart", "returning", "tablet", "EU", 1),
  row("view", "(exit)", "returning", "tablet", "EU", 1),
  row("(start)", "view", "new", "mobile", "EU", 100),
  row("cart", "purchase", "new", "mobile", "EU", 20),
  row("cart", "(exit)", "new", "mobile", "EU", 80),
];
const props = (userType: string, device: string, region: string) => ({ userType, device, region });

describe("models/funnel-markov", () => {
  const model = fitFunnelMarkov(ROWS, { steps: STEPS });

  it("falls back from (user type, device, region) to (user type, device), (device) and global when a level is unreliable", () => {
    const t1 = transitionProbability(model, "view", "cart", props("new", "mobile", "EU"));
    assert.deepEqual([t1.level, t1.p, t1.n], ["user_type_device_region", 0.5, 100]);
    const t2 = transitionProbability(model, "view", "cart", props("new", "mobile", "US"));
    assert.deepEqual([t2.level, t2.p, t2.n], ["user_type_device", 51 / 104, 104]);
    const t3 = transitionProbability(model, "view", "cart", props("returning", "desktop", "EU"));
    assert.deepEqual([t3.level, t3.p, t3.n], ["device", 92 / 104, 104]);
    const t4 = transitionProbability(model, "view", "cart", props("returning", "tablet", "EU"));
    assert.deepEqual([t4.level, t4.p, t4.n], ["global", 144 / 210, 210]);
    // A combination never seen falls through to the levels that have data.
    const t5 = transitionProbability(model, "view", "cart", props("returning", "desktop", "APAC"));
    assert.equal(t5.level, "device");
  });

  it("tabulates every observed combination and pair with the level used", () => {
    const r = model.probabilities.find((x) => x.fromStep === "view" && x.toStep === "cart" && x.region === "US" && x.device === "mobile")!;
    assert.equal(r.level, "user_type_device");
    assert.equal(r.count, 51);
    assert.equal(model.probabilities.length, 5 * 5); // 5 combinations × 5 observed (from, to) pairs
    assert.ok(model.probabilities.every((x) => Number.isFinite(x.p)));
  });

  it("uses the half-width rule by default and lets the rule be changed", () => {
    assert.equal(isReliable(DEFAULT_RELIABILITY, 0.5, 100), true); // .098
    assert.equal(isReliable(DEFAULT_RELIABILITY, 0.5, 96), false); // .1000
    assert.equal(isReliable(DEFAULT_RELIABILITY, 0.3, 0), false);
    const strict = fitFunnelMarkov(ROWS, { steps: STEPS, reliability: { kind: "min-transitions", minTransitions: 150 } });
    assert.equal(transitionProbability(strict, "view", "cart", props("new", "mobile", "EU")).level, "global");
  });

  it("scores each event 1 − P(previous step → step)", () => {
    const events = [
      { eventKey: "e3", step: "purchase", sessionKey: "s1", ts: 3 },
      { eventKey: "e1", step: "view", sessionKey: "s1", ts: 1 },
      { eventKey: "e2", step: "cart", sessionKey: "s1", ts: 2 },
    ];
    const scored = scoreFunnelChain(model, events, props("new", "mobile", "EU"));
    // purchase: 1 − P(cart → purchase) = 1 − .2;  view: 1 − P((start) → view) = 0;  cart: 1 − .5
    assert.deepEqual(scored.map((e) => [e.eventKey, e.fromStep, +e.score.toFixed(12)]), [
      ["e3", "cart", 0.8],
      ["e1", "(start)", 0],
      ["e2", "view", 0.5],
    ]);
  });

  it("rejects a step outside the funnel with a message naming the setting", () => {
    assert.throws(() => fitFunnelMarkov([row("view", "add_to_crt", "new", "mobile", "EU", 1)], { steps: STEPS }), (e: unknown) => {
      assert.ok(e instanceof UnknownFunnelStep);
      assert.match((e as Error).message, /"add_to_crt".*vars\.funnel_steps/);
      return true;
    });
  });

  /*
   * view (score .2) and cart (score .6) twice: group shares .2/.8 = .25, .6/.8 = .75 → view 25 of 100.
   * cart's 75 by time decay, half-life 10, transaction at 20: w(ts 10) = 2^−1 = .5, w(ts 20) = 1 → 1/3, 2/3 → 25, 50.
   */
  it("shares an event's credit among its identical occurrences by time decay", () => {
    const credits = distributeTransaction(
      [
        { eventKey: "view", step: "view", sessionKey: "s1", ts: 0, score: 0.2 },
        { eventKey: "cart", step: "cart", sessionKey: "s1", ts: 10, score: 0.6 },
        { eventKey: "cart", step: "cart", sessionKey: "s2", ts: 20, score: 0.6 },
      ],
      100,
      { halfLife: 10, transactionTs: 20 },
    );
    assert.deepEqual(credits.map((c) => +c.value.toFixed(10)), [25, 25, 50]);
    assert.deepEqual(credits.map((c) => +c.conversions.toFixed(12)), [0.25, 0.25, 0.5]);
    assert.deepEqual(credits.map((c) => +c.decayShare.toFixed(12)), [1, 0.333333333333, 0.666666666667]);
  });

  it("distributes a transaction's value so the credits sum exactly to it", () => {
    const events = Array.from({ length: 7 }, (_, i) => ({ eventKey: `k${i % 4}`, step: "view", sessionKey: `s${i}`, ts: i * 3.7, score: 0.1 + i / 10 }));
    for (const value of [1, 123.45, 0.3, 99999.99]) {
      const credits = distributeTransaction(events, value, { halfLife: 5 });
      assert.equal(neumaierSum(credits.map((c) => c.value)), value);
      assert.equal(neumaierSum(credits.map((c) => c.conversions)), 1);
    }
    // All scores 0: groups share equally.
    const flat = distributeTransaction(
      [
        { eventKey: "a", step: "view", sessionKey: "s", ts: 1, score: 0 },
        { eventKey: "b", step: "cart", sessionKey: "s", ts: 2, score: 0 },
      ],
      10,
      { halfLife: 1 },
    );
    assert.deepEqual(flat.map((c) => c.value), [5, 5]);
    assert.deepEqual(distributeTransaction([], 10, { halfLife: 1 }), []);
  });

  it("gives the same output for the same input and round-trips through JSON", () => {
    assert.deepEqual(fitFunnelMarkov(ROWS, { steps: STEPS }), model);
    const loaded = loadFunnelMarkov(funnelMarkovToJSON(model));
    assert.deepEqual(loaded, model);
    assert.deepEqual(transitionProbability(loaded, "view", "cart", props("new", "mobile", "US")), transitionProbability(model, "view", "cart", props("new", "mobile", "US")));
  });
});
