import { strict as assert } from "node:assert";
import { fitPsiBins, binShares, psi, psiOf, ksTwoSample, kolmogorovQ, binIndex } from "../src/models/drift.ts";

const close = (a: number, b: number, tol: number, what = ""): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

describe("population stability index", () => {
  it("matches the hand computation for two bins", () => {
    // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5 = 0.274653…
    close(psi([0.5, 0.5], [0.25, 0.75]), 0.2746530721670274, 1e-12);
    assert.equal(psi([0.3, 0.7], [0.3, 0.7]), 0);
  });

  it("fixes quantile bins at training, with a missing bin last", () => {
    // 1..10 in 5 bins: edges at the 20/40/60/80 % values 2, 4, 6, 8 → 0.2 each, missing 0.
    const bins = fitPsiBins([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5);
    assert.deepEqual(bins.upper, [2, 4, 6, 8]);
    assert.deepEqual(bins.expected, [0.2, 0.2, 0.2, 0.2, 0.2, 0]);
    // Current 1, 1, 1, NaN → [0.75, 0, 0, 0, 0, 0.25]; empty bins floored at 1e-4:
    // (0.75−0.2)ln(0.75/0.2) + 3·(1e-4−0.2)ln(1e-4/0.2) + (1e-4−0.2)ln(1e-4/0.2) + (0.25−1e-4)ln(0.25/1e-4) = 8.759876…
    assert.deepEqual(binShares(bins, [1, 1, 1, NaN]), [0.75, 0, 0, 0, 0, 0.25]);
    close(psiOf(bins, [1, 1, 1, NaN]), 8.759876416753114, 1e-9);
  });

  it("gives every distinct value its own bin when there are few (codes, booleans)", () => {
    const bins = fitPsiBins([0, 1, 1, 1, NaN], 10);
    assert.deepEqual(bins.upper, [0]);
    assert.deepEqual(bins.expected, [0.2, 0.6, 0.2]);
    assert.equal(binIndex(bins, 0), 0);
    assert.equal(binIndex(bins, 1), 1);
    assert.equal(binIndex(bins, 7), 1);
    assert.equal(binIndex(bins, NaN), 2);
  });

  it("drops duplicate quantile edges under heavy ties", () => {
    const values = [...new Array(90).fill(0), ...Array.from({ length: 10 }, (_, i) => i + 1)];
    const bins = fitPsiBins(values, 10);
    assert.deepEqual(bins.upper, [0]);
    close(bins.expected[0]!, 0.9, 1e-12);
  });

  it("is 0 when one side has no data", () => {
    assert.equal(psi([0.5, 0.5, 0], [0, 0, 0]), 0);
  });
});

describe("two-sample Kolmogorov–Smirnov", () => {
  it("matches the hand computation", () => {
    // a = 1..4, b = 3..6: F_a − F_b at 1, 2, 3, 4 = .25, .5, .5, .5 → D = 0.5.
    // nₑ = 2, λ = (√2 + 0.12 + 0.11/√2)·0.5 = 0.805998; Q(λ) = 2 Σ (−1)^{j−1} e^{−2j²λ²} = 0.534416.
    const r = ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]);
    assert.equal(r.statistic, 0.5);
    close(r.pValue, 0.5344157192165071, 1e-9);
  });

  it("moves both CDFs past ties before comparing and ignores missing values", () => {
    // x = 1: 2/3 − 1/3; x = 2: 1 − 1 → D = 1/3.
    const r = ksTwoSample([1, 1, 2, NaN], [1, 2, 2]);
    close(r.statistic, 1 / 3, 1e-15);
    assert.equal(r.nA, 3);
  });

  it("gives D = 0, p = 1 for identical or empty samples", () => {
    assert.deepEqual(ksTwoSample([1, 2, 3], [3, 2, 1]).statistic, 0);
    assert.equal(ksTwoSample([], [1]).pValue, 1);
    assert.equal(kolmogorovQ(0), 1);
    assert.ok(kolmogorovQ(3) < 1e-6);
  });
});

describe("drift inputs after a JSON round trip", () => {
  it("ignores nulls (NaN serialised) in a KS sample instead of looping", () => {
    const sample = JSON.parse(JSON.stringify([1, NaN, 2, 3])) as number[];
    const r = ksTwoSample(sample, [1, 2, 3]);
    assert.equal(r.statistic, 0);
    assert.equal(r.nA, 3);
  });
});
