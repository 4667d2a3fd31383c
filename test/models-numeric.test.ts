import assert from "node:assert/strict";
import { absorbRemainder, largestRemainder, mulberry32, neumaierSum, proportionalShares } from "../src/models/numeric.ts";

describe("models/numeric", () => {
  it("keeps the small terms a naive sum loses", () => {
    // naive: ((1 + 1e100) + 1) − 1e100 = 0; exact: 2
    assert.equal(neumaierSum([1, 1e100, 1, -1e100]), 2);
    assert.equal(neumaierSum([]), 0);
  });

  it("splits integer units by largest remainder, ties to the lower index", () => {
    // 10 · (1/3, 1/3, 1/3) = 3.33 each → floors 3,3,3 (9), one unit left → index 0
    assert.deepEqual([...largestRemainder([1, 1, 1], 10)], [4, 3, 3]);
    // 7 · (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4 → floors 3,2,1 (6), largest remainder .5 → index 0
    assert.deepEqual([...largestRemainder([5, 3, 2], 7)], [4, 2, 1]);
  });

  it("gives zero shares, not NaN, when all weights are zero", () => {
    assert.deepEqual([...proportionalShares([0, 0], 10)], [0, 0]);
  });

  it("moves the rounding remainder onto the largest part so the parts add up exactly", () => {
    const parts = Float64Array.from([0.1, 0.2, 0.3, 0.4].map((x) => x * 1.1));
    absorbRemainder(parts, 1.1);
    assert.equal(neumaierSum(parts), 1.1);
  });

  it("draws the same sequence for the same seed", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.notDeepEqual(xs, Array.from({ length: 5 }, mulberry32(43)));
  });
});
