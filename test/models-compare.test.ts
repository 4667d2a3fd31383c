import assert from "node:assert/strict";
import { compareModels, spearman } from "../src/models/compare.ts";

describe("models/compare", () => {
  /*
   * m1 a .4 b .3 c .2 d .1 → top3 a,b,c;  m2 a .4 b .1 c .2 d .3 → top3 a,d,c.
   * Jaccard {a,b,c} vs {a,c,d} = 2/4.  Ranks (1 = lowest) m1 a4 b3 c2 d1, m2 a4 b1 c2 d3:
   * d = 0, 2, 0, −2 → ρ = 1 − 6·8/(4·15) = 0.2.
   */
  it("reports top-3 Jaccard, rank agreement and Spearman per pair", () => {
    const cmp = compareModels([
      { model: "m1", shares: { a: 0.4, b: 0.3, c: 0.2, d: 0.1 } },
      { model: "m2", shares: { a: 0.4, b: 0.1, c: 0.2, d: 0.3 } },
      { model: "m3", shares: { a: 0.4, b: 0.3, c: 0.2, d: 0.1 } },
    ]);
    const p12 = cmp.pairs.find((p) => p.modelA === "m1" && p.modelB === "m2")!;
    assert.deepEqual(p12.topA, ["a", "b", "c"]);
    assert.deepEqual(p12.topB, ["a", "d", "c"]);
    assert.equal(p12.topJaccard, 0.5);
    assert.equal(p12.topRanksMatch, false);
    assert.ok(Math.abs(p12.spearman! - 0.2) < 1e-12);
    const p13 = cmp.pairs.find((p) => p.modelA === "m1" && p.modelB === "m3")!;
    assert.equal(p13.topJaccard, 1);
    assert.equal(p13.topRanksMatch, true);
    assert.equal(p13.spearman, 1);
    assert.deepEqual(cmp.table.map((r) => r.channel), ["a", "b", "c", "d"]);
    assert.deepEqual(cmp.table[3]!.shares, [0.1, 0.3, 0.1]);
  });

  it("counts a channel missing from one model as 0 and handles ties with average ranks", () => {
    // x ranks: 1.5, 1.5, 3; y ranks 1, 2, 3 → Pearson of ranks = 0.8660…
    assert.ok(Math.abs(spearman([1, 1, 2], [1, 2, 3])! - Math.sqrt(3) / 2) < 1e-12);
    assert.equal(spearman([1, 1], [1, 2]), null);
    const cmp = compareModels([
      { model: "x", shares: { a: 1 } },
      { model: "y", shares: { b: 1 } },
    ]);
    assert.deepEqual(cmp.table.map((r) => [r.channel, ...r.shares]), [["a", 1, 0], ["b", 0, 1]]);
    assert.equal(cmp.pairs[0]!.spearman, -1);
  });
});
