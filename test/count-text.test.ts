import assert from "node:assert/strict";
import { countText } from "../src/util/count-text.ts";

describe("countText", () => {
  it("writes counts as toLocaleString('en-US') does", () => {
    const values = [0, 1, 7, 12, 999, 1000, 1001, 12345, 999999, 1000000, 1234567, 10203040, 2 ** 53 - 1, -1, -1000, -1234567, -0];
    for (let n = 1; n < 1e15; n = n * 7 + 3) values.push(n, -n);
    for (const n of values) assert.equal(countText(n), n.toLocaleString("en-US"), String(n));
  });

  it("hands fractions, huge and non-finite numbers to toLocaleString", () => {
    for (const n of [1.5, 1234.5678, 2 ** 60, NaN, Infinity, -Infinity]) assert.equal(countText(n), n.toLocaleString("en-US"));
  });
});
