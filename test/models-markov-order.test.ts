import assert from "node:assert/strict";
import { selectMarkovOrder, splitJourneys, type OrderPathRow } from "../src/models/markov-order.ts";
import { mulberry32 } from "../src/models/numeric.ts";

/** Journeys of a first-order chain over `channels`: a random transition table (seeded), stop → conversion/null by the last channel. */
function firstOrderPaths(journeys: number, channels: number, seed: number): OrderPathRow[] {
  const rng = mulberry32(seed);
  const names = Array.from({ length: channels }, (_, i) => `C${i}`);
  const next = names.map(() => names.map(() => rng()));
  const stop = names.map(() => 0.3 + 0.3 * rng());
  const conv = names.map(() => rng() * 0.4);
  const rows = new Map<string, OrderPathRow>();
  for (let j = 0; j < journeys; j++) {
    let c = Math.floor(rng() * channels);
    const path = [names[c]!];
    while (rng() > stop[c]! && path.length < 8) {
      const w = next[c]!;
      let r = rng() * w.reduce((a, b) => a + b, 0);
      let k = 0;
      while ((r -= w[k]!) > 0) k++;
      c = k;
      path.push(names[c]!);
    }
    const key = path.join(">");
    const row = rows.get(key) ?? { path, conversions: 0, nulls: 0 };
    if (rng() < conv[c]!) row.conversions++;
    else row.nulls++;
    rows.set(key, row);
  }
  return [...rows.values()];
}

describe("Markov order chosen by held-out likelihood", () => {
  it("picks order 2 when the outcome depends on the channel two steps back, which order 1 cannot see", () => {
    // Two-touch paths; a journey converts iff its FIRST channel is A, whatever the second is. At the last step
    // order 1 sees only the second channel (P(conversion) = ½ either way); order 2 sees both.
    const rows: OrderPathRow[] = [
      { path: ["A", "A"], conversions: 100, nulls: 0 }, { path: ["A", "B"], conversions: 100, nulls: 0 },
      { path: ["B", "A"], conversions: 0, nulls: 100 }, { path: ["B", "B"], conversions: 0, nulls: 100 },
    ];
    const s = selectMarkovOrder(rows, { orders: [1, 2] });
    assert.equal(s.order, 2);
    const [o1, o2] = s.scores;
    // Per journey: 3 steps; order 1 loses ≈ ln 2 at the end step, order 2 ≈ 0: a gap of ≈ ln 2 / 3 = 0.231 per step.
    assert.ok(o2!.logLikelihood - o1!.logLikelihood > 0.2, JSON.stringify(s.scores));
    assert.equal(o1!.steps, 3 * s.heldOutJourneys);
  });

  it("keeps order 1 for paths drawn from a first-order chain (higher orders only fit the noise)", () => {
    const s = selectMarkovOrder(firstOrderPaths(3000, 8, 7), { orders: [1, 2, 3] });
    assert.equal(s.order, 1, JSON.stringify(s.scores));
    assert.ok(s.scores[0]!.logLikelihood > s.scores[2]!.logLikelihood, JSON.stringify(s.scores));
  });

  it("scores an unseen held-out state by the lower orders instead of −∞", () => {
    const train: OrderPathRow[] = [{ path: ["A", "B"], conversions: 3, nulls: 1 }, { path: ["Z", "Q"], conversions: 0, nulls: 2 }];
    const s = selectMarkovOrder(train, { orders: [1, 2, 3], heldOutShare: 0.5, seed: 3 });
    for (const x of s.scores) assert.ok(Number.isFinite(x.logLikelihood), JSON.stringify(s.scores));
  });

  it("splits journeys, not paths: every journey lands in exactly one part, about the held-out share of them held out", () => {
    const rows = firstOrderPaths(5000, 5, 11);
    const { train, heldOut } = splitJourneys(rows, 0.3, 5);
    const total = (xs: OrderPathRow[], k: "conversions" | "nulls"): number => xs.reduce((a, r) => a + r[k], 0);
    for (const k of ["conversions", "nulls"] as const) assert.equal(total(train, k) + total(heldOut, k), total(rows, k));
    const share = (total(heldOut, "conversions") + total(heldOut, "nulls")) / 5000;
    assert.ok(Math.abs(share - 0.3) < 0.02, `held out ${share}`);
    assert.deepEqual(splitJourneys(rows, 0.3, 5), { train, heldOut }, "deterministic for a seed");
    assert.throws(() => splitJourneys(rows, 1, 5), /held-out share must be between 0 and 1/);
    assert.throws(() => selectMarkovOrder(rows, { orders: [0] }), /orders must be integers from 1 to 4/);
  });
});
