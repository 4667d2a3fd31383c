import assert from "node:assert/strict";
import { coalitionMask, fitShapley, loadShapley, orderedShapley, shapleyToJSON, type CoalitionRow } from "../src/models/shapley.ts";
import { mulberry32, neumaierSum } from "../src/models/numeric.ts";

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);
const A = 1;
const B = 2;
const C = 4;

/*
 * Two channels, v(S) = conversion rate of journeys with exactly S:
 *   {A}: 1 conv / 4 journeys = .25 (value 10), {B}: 2/4 = .5 (value 20), {A,B}: 3/4 = .75 (value 30); v(∅) = 0.
 *   φ_A = ½[(v(A) − v(∅)) + (v(AB) − v(B))] = ½[.25 + .25] = .25
 *   φ_B = ½[(v(B) − v(∅)) + (v(AB) − v(A))] = ½[.5 + .5]  = .5      Σφ = .75 = v(N)
 *   shares 1/3, 2/3 → conversions 6 → 2, 4; value 60 → 20, 40.
 */
const TWO: CoalitionRow[] = [
  { channels: A, conversions: 1, nulls: 3, value: 10 },
  { channels: B, conversions: 2, nulls: 2, value: 20 },
  { channels: A | B, conversions: 3, nulls: 1, value: 30 },
];

/*
 * Three channels, exact-set conversion rates: A .1, B .2, C 0, AB .4, AC .3, BC .2, ABC .6 (18 conversions).
 * Weights: |S| = 0 → 1/3, |S| = 1 → 1/6, |S| = 2 → 1/3.
 *   φ_A = 1/3·.1 + 1/6·(.4−.2) + 1/6·(.3−0) + 1/3·(.6−.2) = .0333 + .0333 + .05 + .1333 = .25
 *   φ_B = 1/3·.2 + 1/6·(.4−.1) + 1/6·(.2−0) + 1/3·(.6−.3) = .0667 + .05 + .0333 + .1    = .25
 *   φ_C = 1/3·0  + 1/6·(.3−.1) + 1/6·(.2−.2) + 1/3·(.6−.4) = 0 + .0333 + 0 + .0667       = .1
 *   Σ = .6 = v(ABC); shares 5/12, 5/12, 1/6 → 7.5, 7.5, 3 conversions.
 * "subsets" (Zhao): φ_i = Σ_{T∋i} conv(T)/|T|: A = 1 + 4/2 + 3/2 + 6/3 = 6.5, B = 2 + 2 + 1 + 2 = 7,
 *   C = 0 + 1.5 + 1 + 2 = 4.5 (Σ 18 = all conversions).
 */
const THREE: CoalitionRow[] = [
  { channels: A, conversions: 1, nulls: 9 },
  { channels: B, conversions: 2, nulls: 8 },
  { channels: C, conversions: 0, nulls: 10 },
  { channels: A | B, conversions: 4, nulls: 6 },
  { channels: A | C, conversions: 3, nulls: 7 },
  { channels: B | C, conversions: 2, nulls: 8 },
  { channels: A | B | C, conversions: 6, nulls: 4 },
];

/*
 * An opener: Display (A) only opens journeys, Brand (B) closes them. {B}: 9 of 10 convert (returning buyers),
 * {A,B}: 30 of 100, {A}: 0 of 1000. Display's journeys bring 30 of the 39 conversions.
 * exact: v(∅) = 0, v(A) = 0, v(B) = .9, v(AB) = .3
 *   φ_A = ½(v(A) − v(∅)) + ½(v(AB) − v(B)) = 0 + ½(−.6) = −.3 (all of it negative) → clipped to share 0
 *   φ_B = ½(.9 − 0) + ½(.3 − 0) = .6 → share 1, all 39 conversions.
 * subsets: v(A) = 0, v(B) = 9, v(AB) = 39 → φ_A = ½·0 + ½(39 − 9) = 15, φ_B = ½·9 + ½·39 = 24 (Σ 39), nothing negative.
 */
const OPENER: CoalitionRow[] = [
  { channels: B, conversions: 9, nulls: 1 },
  { channels: A | B, conversions: 30, nulls: 70 },
  { channels: A, conversions: 0, nulls: 1000 },
];

describe("models/shapley", () => {
  it("gives an opener 0 under the exact-set value function, reports the clipped negative part, and credits it under subsets", () => {
    const exact = fitShapley(OPENER, { channels: ["Display", "Brand"], valueFunction: "exact" });
    close(exact.credits[0]!.shapley, -0.3);
    close(exact.credits[0]!.negativeContribution, -0.3);
    assert.equal(exact.credits[0]!.share, 0);
    close(exact.credits[1]!.shapley, 0.6);
    assert.equal(exact.credits[1]!.negativeContribution, 0);
    close(exact.credits[1]!.conversions, 39);
    const subsets = fitShapley(OPENER, { channels: ["Display", "Brand"], valueFunction: "subsets" });
    assert.deepEqual(subsets.credits.map((c) => [c.shapley, c.negativeContribution, c.conversions]), [[15, 0, 15], [24, 0, 24]]);
    // Conversion rate of journeys containing S punishes the opener too (v(AB) < v(B), v(A) < v(∅)).
    const contains = fitShapley(OPENER, { channels: ["Display", "Brand"], valueFunction: "contains" });
    assert.ok(contains.credits[0]!.shapley < 0 && contains.credits[0]!.share === 0);
    // The sampled method reports the same negative part (2 channels: each order is equally likely).
    const sampled = fitShapley(OPENER, { channels: ["Display", "Brand"], valueFunction: "exact", method: "sampled", samples: 4000 });
    close(sampled.credits[0]!.negativeContribution, sampled.credits[0]!.shapley, 1e-12);
    close(sampled.credits[0]!.shapley, -0.3, 0.03);
  });

  it("computes exact Shapley values on a 2-channel example worked by hand", () => {
    const m = fitShapley(TWO, { channels: ["A", "B"] });
    assert.equal(m.method, "exact");
    close(m.credits[0]!.shapley, 0.25);
    close(m.credits[1]!.shapley, 0.5);
    close(m.credits[0]!.conversions, 2);
    close(m.credits[1]!.conversions, 4);
    close(m.credits[0]!.value, 20);
    close(m.credits[1]!.value, 40);
    close(m.grandCoalitionGain, 0.75);
  });

  it("computes exact Shapley values on a 3-channel example worked by hand", () => {
    const m = fitShapley(THREE, { channels: ["A", "B", "C"] });
    assert.deepEqual(m.credits.map((c) => +c.shapley.toFixed(12)), [0.25, 0.25, 0.1]);
    assert.deepEqual(m.credits.map((c) => +c.conversions.toFixed(12)), [7.5, 7.5, 3]);
  });

  it("matches Zhao et al.'s simplified formula with the subsets value function", () => {
    const m = fitShapley(THREE, { channels: ["A", "B", "C"], valueFunction: "subsets" });
    assert.deepEqual(m.credits.map((c) => +c.shapley.toFixed(12)), [6.5, 7, 4.5]);
  });

  /*
   * "contains" on TWO: v(∅) = 6/12 = .5, v(A) = (1+3)/(4+4) = .5, v(B) = (2+3)/8 = .625, v(AB) = .75.
   *   φ_A = ½[(.5 − .5) + (.75 − .625)] = .0625,  φ_B = ½[(.625 − .5) + (.75 − .5)] = .1875.
   */
  it("supports the contains-S value function", () => {
    const m = fitShapley(TWO, { channels: ["A", "B"], valueFunction: "contains" });
    close(m.credits[0]!.shapley, 0.0625);
    close(m.credits[1]!.shapley, 0.1875);
  });

  it("makes credits add up to total conversions and value", () => {
    const m = fitShapley(TWO, { channels: ["A", "B"] });
    close(neumaierSum(m.credits.map((c) => c.conversions)), m.totalConversions);
    close(neumaierSum(m.credits.map((c) => c.value)), m.totalValue);
  });

  it("agrees with the exact values within the sampled method's reported standard error", () => {
    const rand = mulberry32(7);
    const n = 7;
    const rows: CoalitionRow[] = [];
    for (let mask = 1; mask < 1 << n; mask++) {
      if (rand() < 0.3) continue;
      const tries = 20 + Math.floor(rand() * 80);
      rows.push({ channels: mask, conversions: Math.floor(rand() * tries), nulls: tries });
    }
    const channels = Array.from({ length: n }, (_, i) => `c${i}`);
    for (const valueFunction of ["exact", "contains", "subsets"] as const) {
      const exact = fitShapley(rows, { channels, valueFunction });
      const sampled = fitShapley(rows, { channels, valueFunction, method: "sampled", samples: 3000, seed: 11 });
      assert.equal(sampled.method, "sampled");
      for (let i = 0; i < n; i++) {
        const { shapley, standardError } = sampled.credits[i]!;
        assert.ok(standardError > 0);
        assert.ok(Math.abs(shapley - exact.credits[i]!.shapley) <= 4 * standardError, `${valueFunction} c${i}: ${shapley} vs ${exact.credits[i]!.shapley} ± ${standardError}`);
      }
    }
  });

  it("switches to sampling above maxExactChannels and is deterministic for a seed", () => {
    const rows = [{ channels: coalitionMask(["a", "c"], ["a", "b", "c"]), conversions: 3, nulls: 1 }];
    const a = fitShapley(rows, { channels: ["a", "b", "c"], maxExactChannels: 2, samples: 200, seed: 5 });
    const b = fitShapley(rows, { channels: ["a", "b", "c"], maxExactChannels: 2, samples: 200, seed: 5 });
    assert.equal(a.method, "sampled");
    assert.deepEqual(a, b);
    assert.deepEqual(loadShapley(shapleyToJSON(a)), a);
  });

  it("gives zero credit, not NaN, when nothing converts", () => {
    const m = fitShapley([{ channels: A, conversions: 0, nulls: 5 }], { channels: ["A", "B"] });
    assert.deepEqual(m.credits.map((c) => [c.shapley, c.conversions, c.value]), [[0, 0, 0], [0, 0, 0]]);
  });

  it("rejects a mask naming a channel outside the list", () => {
    assert.throws(() => fitShapley([{ channels: 4, conversions: 1, nulls: 0 }], { channels: ["A", "B"] }), /bits beyond the 2 channels/);
  });

  /*
   * Ordered Shapley: [A,B] 2 conv, [B,A] 4 conv, [A] 1 conv, [A,A,B] 0 conv.
   *   A@1: 2/2 + 1 = 2, B@2: 2/2 = 1, B@1: 4/2 = 2, A@2: 4/2 = 2 → A 4, B 3 (Σ 7).
   */
  it("credits channels by touch position with ordered Shapley", () => {
    const r = orderedShapley(
      [
        { path: [0, 1], conversions: 2 },
        { path: [1, 0], conversions: 4 },
        { path: [0], conversions: 1 },
        { path: [0, 0, 1], conversions: 0 },
      ],
      ["A", "B"],
    );
    assert.deepEqual(
      r.byPosition.map((c) => [c.channel, c.position, c.conversions]),
      [["A", 1, 2], ["A", 2, 2], ["B", 1, 2], ["B", 2, 1]],
    );
    assert.deepEqual(r.byChannel.map((c) => c.conversions), [4, 3]);
    assert.equal(r.totalConversions, 7);
  });
});
