import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { SHARED_DATA } from "./support/warehouse.ts";
import {
  aggregateChannelPaths,
  channelMarkovToJSON,
  fitChannelMarkov,
  loadChannelMarkov,
  type ChannelMarkovModel,
  type ChannelPathRow,
} from "../src/models/channel-markov.ts";
import { neumaierSum } from "../src/models/numeric.ts";
import { parseChannelPath } from "../src/models/paths.ts";

const p = (s: string): string[] => parseChannelPath(s);
const credit = (m: ChannelMarkovModel, ch: string) => m.credits.find((c) => c.channel === ch)!;
const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

/*
 * Two channels, with nulls.
 *   "A > B": 1 conversion (value 10), 1 null      "B": 1 conversion (value 30)      "A": 1 null
 * Counts: start→A 2+1 = 3, start→B 1;  A→B 2, A→null 1;  B→conv 1+1 = 2, B→null 1.
 * P: start→A 3/4, start→B 1/4;  A→B 2/3, A→null 1/3;  B→conv 2/3, B→null 1/3.
 * P(conv) = 3/4·2/3·2/3 + 1/4·2/3 = 1/3 + 1/6 = 1/2   (= 2 conversions / 4 journeys)
 * Remove A (start→A goes to null): P' = 1/4·2/3 = 1/6 → RE_A = 1 − (1/6)/(1/2) = 2/3
 * Remove B: P' = 0 → RE_B = 1.   ΣRE = 5/3 → A: 2·(2/3)/(5/3) = 0.8, B: 2·1/(5/3) = 1.2
 */
const TWO: ChannelPathRow[] = [
  { path: p("A > B"), conversions: 1, value: 10, nulls: 1 },
  { path: p("B"), conversions: 1, value: 30, nulls: 0 },
  { path: p("A"), conversions: 0, value: 0, nulls: 1 },
];

describe("models/channel-markov", () => {
  it("estimates transition probabilities by normalising path-weighted counts", () => {
    const m = fitChannelMarkov(TWO);
    const t = (from: string, to: string) => m.transitions.find((r) => r.from === from && r.to === to)!;
    close(t("(start)", "A").probability, 3 / 4);
    close(t("(start)", "B").probability, 1 / 4);
    close(t("A", "B").probability, 2 / 3);
    close(t("A", "(null)").probability, 1 / 3);
    close(t("B", "(conversion)").probability, 2 / 3);
    assert.equal(t("B", "(conversion)").count, 2);
    close(m.conversionProbability, 1 / 2);
  });

  it("redirects a removed channel's inflow to (null)", () => {
    const m = fitChannelMarkov(TWO);
    close(credit(m, "A").removalEffect, 2 / 3);
    close(credit(m, "B").removalEffect, 1);
  });

  it("attributes total × RE / ΣRE conversions to each channel", () => {
    const m = fitChannelMarkov(TWO);
    close(credit(m, "A").conversions, 0.8);
    close(credit(m, "B").conversions, 1.2);
    assert.equal(m.totalConversions, 2);
  });

  it("collapses consecutive repeats of a channel", () => {
    const repeated = TWO.map((r) => (r.path.join() === "A,B" ? { ...r, path: p("A > A > A > B > B") } : r));
    assert.deepEqual(fitChannelMarkov(repeated).credits, fitChannelMarkov(TWO).credits);
  });

  /*
   * Without nulls (var_null unset): the "A" row (0 conversions) drops out.
   *   start→A 1, start→B 1; A→B 1; B→conv 2.  P(conv) = 1.
   *   Remove A: P' = 1/2 → RE_A = 1/2;  remove B: P' = 0 → RE_B = 1.  ΣRE = 3/2 → A 2/3, B 4/3.
   */
  it("ignores nulls when useNulls is false", () => {
    const m = fitChannelMarkov(TWO, { useNulls: false });
    close(m.conversionProbability, 1);
    close(credit(m, "A").removalEffect, 1 / 2);
    close(credit(m, "A").conversions, 2 / 3);
    close(credit(m, "B").conversions, 4 / 3);
    assert.ok(!m.transitions.some((r) => r.to === "(null)"));
  });

  /*
   * Value: "A": 1 conv, value 30, 1 null;  "A > B": 1 conv, value 10, 1 null.
   *   start→A 4 (P 1); A→conv 1, A→null 1, A→B 2 (P 1/4, 1/4, 1/2); B→conv 1, B→null 1 (1/2, 1/2).
   *   Conversions: RE_A = 1, RE_B = 1 − (1/4)/(1/2) = 1/2 → A 4/3, B 2/3 of 2.
   *   Value per conversion of the last state: m(A) = 30, m(B) = 10.
   *   h(start) = 1/4·30 + 1/2·1/2·10 = 10;  without B: 7.5 → REv_B = 1/4;  REv_A = 1.
   *   Value 40 → A 40·1/1.25 = 32, B 40·0.25/1.25 = 8 (not 40·(2/3)/2 ≈ 13.3: value follows value-weighted RE).
   */
  it("attributes value by removal effects of the value-weighted chain (mean value per conversion of the last state)", () => {
    const m = fitChannelMarkov([
      { path: p("A"), conversions: 1, value: 30, nulls: 1 },
      { path: p("A > B"), conversions: 1, value: 10, nulls: 1 },
    ]);
    close(credit(m, "B").removalEffect, 1 / 2);
    close(credit(m, "B").removalEffectValue, 1 / 4);
    close(credit(m, "A").conversions, 4 / 3);
    close(credit(m, "A").value, 32, 1e-10);
    close(credit(m, "B").value, 8, 1e-10);
  });

  it("gives a zero-conversion channel 0, not NaN", () => {
    const rows = [...TWO, { path: p("C"), conversions: 0, value: 0, nulls: 5 }, { path: p("D > A"), conversions: 0, value: 0, nulls: 0 }];
    for (const useNulls of [true, false]) {
      const m = fitChannelMarkov(rows, { useNulls });
      assert.deepEqual(m.channels, ["A", "B", "C", "D"]);
      for (const ch of ["C", "D"]) {
        assert.equal(credit(m, ch).removalEffect, 0);
        assert.equal(credit(m, ch).conversions, 0);
        assert.equal(credit(m, ch).value, 0);
      }
      assert.ok(m.credits.every((c) => Number.isFinite(c.conversions) && Number.isFinite(c.value)));
    }
    const none = fitChannelMarkov([{ path: p("A"), conversions: 0, nulls: 3 }]);
    assert.deepEqual(none.credits.map((c) => [c.conversions, c.value]), [[0, 0]]);
  });

  /*
   * Order 2, ChannelAttribution's sliding windows over the raw path:
   *   "A > B > C" 1 conv → (A,B) (B,C);  "A > A > B" 1 null → (A,A) (A,B);  "C" 1 conv 1 null → (C) (shorter than 2)
   *   start→AB 1, start→AA 1, start→C 2;  AA→AB 1;  AB→BC 1, AB→null 1;  BC→conv 1;  C→conv 1, C→null 1.
   *   x(BC) = 1, x(AB) = 1/2, x(AA) = 1/2, x(C) = 1/2 → P = 1/4·1/2 + 1/4·1/2 + 1/2·1/2 = 1/2.
   *   Remove A (AB, AA): P' = 1/2·1/2 = 1/4 → RE 1/2.  Remove B (AB, BC): 1/4 → 1/2.  Remove C (BC, C): 0 → 1.
   *   ΣRE = 2 → A 0.5, B 0.5, C 1 of 2 conversions.
   */
  it("builds order-2 states from sliding windows of the raw path, as ChannelAttribution does", () => {
    const rows = [
      { path: p("A > B > C"), conversions: 1, nulls: 0 },
      { path: p("A > A > B"), conversions: 0, nulls: 1 },
      { path: p("C"), conversions: 1, nulls: 1 },
    ];
    const m = fitChannelMarkov(rows, { order: 2 });
    const from = [...new Set(m.transitions.map((r) => r.from))];
    assert.deepEqual(from, ["(start)", "A,A", "A,B", "B,C", "C"]);
    close(m.transitions.find((r) => r.from === "A,B" && r.to === "B,C")!.probability, 1 / 2);
    close(credit(m, "A").removalEffect, 1 / 2);
    close(credit(m, "B").removalEffect, 1 / 2);
    close(credit(m, "C").removalEffect, 1);
    close(credit(m, "C").conversions, 1);

    const padded = fitChannelMarkov(rows, { order: 2, states: "padded" });
    assert.deepEqual([...new Set(padded.transitions.map((r) => r.from))], ["(start)", "(start),A", "(start),C", "A,B", "B,C"]);
  });

  it("gives the same output object for the same input, and survives a JSON round trip", () => {
    const a = fitChannelMarkov(TWO, { order: 2 });
    const b = fitChannelMarkov(TWO, { order: 2 });
    assert.deepEqual(a, b);
    assert.deepEqual(loadChannelMarkov(channelMarkovToJSON(a)), a);
    assert.throws(() => loadChannelMarkov({ kind: "shapley" }), /channel-markov/);
  });

  it("rejects negative counts and unsupported orders with a message saying what to fix", () => {
    assert.throws(() => fitChannelMarkov([{ path: ["A"], conversions: -1 }]), /row 0 conversions/);
    assert.throws(() => fitChannelMarkov(TWO, { order: 5 as 1 }), /order must be 1, 2, 3 or 4/);
  });

  describe("on ChannelAttribution's PathData (10,000 rows)", () => {
    const text = readFileSync(path.join(SHARED_DATA, "channelattribution-pathdata", "PathData.csv"), "utf8");
    const rows: ChannelPathRow[] = text
      .split("\n")
      .slice(1)
      .filter((l) => l.length > 0)
      .map((l) => {
        const m = /^"([^"]*)",([^,]+),([^,]+),([^,]+)$/.exec(l);
        assert.ok(m, `unparsable line ${l}`);
        return { path: parseChannelPath(m[1]!), conversions: Number(m[2]), value: Number(m[3]), nulls: Number(m[4]) };
      });

    it("attributes all 19,785 conversions and the total value over 12 channels", () => {
      assert.equal(rows.length, 10_000);
      const m = fitChannelMarkov(rows);
      assert.equal(m.channels.length, 12);
      assert.equal(m.totalConversions, 19_785);
      close(neumaierSum(m.credits.map((c) => c.conversions)), 19_785, 1e-8);
      close(neumaierSum(m.credits.map((c) => c.value)), 74_802.9715872109, 1e-7);
      // Flow conservation: P(conv from start) is the observed conversion share.
      close(m.conversionProbability, 19_785 / (19_785 + 68_602), 1e-12);
      assert.ok(m.credits.every((c) => c.removalEffect >= 0 && c.removalEffect <= 1));
    });

    it("solves higher orders sparsely to a certified 1e-10", () => {
      const agg = aggregateChannelPaths(rows);
      assert.equal(agg.length, 5_408);
      for (const order of [2, 3] as const) {
        const m = fitChannelMarkov(agg, { order });
        assert.equal(m.solver.method, "gauss-seidel");
        assert.ok(m.solver.errorBound < 1e-10, `error bound ${m.solver.errorBound}`);
        close(m.conversionProbability, 19_785 / (19_785 + 68_602), 1e-10);
        close(neumaierSum(m.credits.map((c) => c.conversions)), 19_785, 1e-8);
      }
    });

    it("gives the same credits for rows aggregated by path", () => {
      const a = fitChannelMarkov(rows);
      const b = fitChannelMarkov(aggregateChannelPaths(rows));
      for (let i = 0; i < a.credits.length; i++) close(a.credits[i]!.conversions, b.credits[i]!.conversions, 1e-8);
    });
  });
});
