import { strict as assert } from "node:assert";
import { inferFeatureKinds, fitEncoder, encodeRows, columnSources, describeValue, loadEncoder, MINUS_ONE_SUBSTITUTE } from "../src/models/encoding.ts";
import type { Row } from "../src/engines/engine.ts";

const rows: Row[] = [
  { size: "Small", employees: 10, opt_in: true, dnc: "No", when: new Date(0), const: "x", score: -1 },
  { size: "Small", employees: 12, opt_in: false, dnc: "Yes", when: new Date(0), const: "x", score: 2 },
  { size: "Large", employees: null, opt_in: null, dnc: "", when: new Date(0), const: "x", score: 3 },
  { size: null, employees: 30, opt_in: true, dnc: "no", when: new Date(0), const: "x", score: 4 },
  { size: "Odd", employees: 5, opt_in: true, dnc: "no", when: new Date(0), const: "x", score: 5 },
];

describe("feature typing and encoding", () => {
  it("types columns and skips dates and constants with a reason", () => {
    const { features, skipped } = inferFeatureKinds(rows, ["size", "employees", "opt_in", "dnc", "when", "const", "score"]);
    assert.deepEqual(features, [
      { name: "size", kind: "categorical" },
      { name: "employees", kind: "numeric" },
      { name: "opt_in", kind: "boolean" },
      { name: "dnc", kind: "boolean" },
      { name: "score", kind: "numeric" },
    ]);
    assert.deepEqual(skipped.map((s) => s.name), ["when", "const"]);
  });

  it("one-hot encodes kept levels with a rare bucket; missing is NaN everywhere; -1 is nudged", () => {
    const { features } = inferFeatureKinds(rows, ["size", "employees", "opt_in", "score"]);
    // minLevelCount 2: only "Small" (2 rows) is kept; Large/Odd and unseen levels → __rare__.
    const enc = fitEncoder(rows, features, { minLevelCount: 2 });
    assert.deepEqual(enc.columns, ["size=Small", "size=__rare__", "employees", "opt_in", "score"]);
    const X = encodeRows(enc, [...rows, { size: "Unseen", employees: 1, opt_in: false, score: 1 }]);
    const row = (i: number): number[] => Array.from(X.subarray(i * 5, i * 5 + 5));
    assert.deepEqual(row(0), [1, 0, 10, 1, MINUS_ONE_SUBSTITUTE]);
    assert.ok(row(0)[4] !== -1 && row(0)[4]! > -1);
    assert.deepEqual(row(2).map((v) => (Number.isNaN(v) ? "NaN" : v)), [0, 1, "NaN", "NaN", 3]);
    assert.deepEqual(row(3).slice(0, 2).map(String), ["NaN", "NaN"]);
    assert.deepEqual(row(5).slice(0, 2), [0, 1]);
    assert.deepEqual(Array.from(columnSources(enc)), [0, 0, 1, 2, 3]);
    assert.equal(describeValue(enc, 0, rows[2]!), "__rare__");
    assert.equal(describeValue(enc, 0, rows[3]!), "missing");
    assert.deepEqual(loadEncoder(JSON.parse(JSON.stringify(enc))), enc);
  });

  it("ordinal encoding uses frequency ranks, no label", () => {
    const enc = fitEncoder(rows, [{ name: "size", kind: "categorical" }], { categorical: "ordinal", minLevelCount: 1 });
    assert.deepEqual(enc.features[0]!.levels, ["Small", "Large", "Odd"]);
    const X = encodeRows(enc, rows);
    assert.deepEqual(Array.from(X).map(String), ["0", "0", "1", "NaN", "2"]);
  });
});
