import assert from "node:assert/strict";
import {
  exposurePath,
  firstPath,
  frequencyPath,
  parseChannelPath,
  removeIfLastAndNotAll,
  removeIfNotAll,
  transformPath,
  trimLongPath,
  uniquePath,
  encodePathChannel,
  decodePathChannel,
  formatChannelPath,
  splitChannelPath,
} from "../src/models/paths.ts";

// fractribution's README example path
const P = ["D", "A", "B", "B", "C", "D", "C", "C"];

describe("models/paths", () => {
  it("keeps every touch with the unique transform", () => {
    assert.deepEqual(uniquePath(P), P);
  });
  it("collapses consecutive repeats with the exposure transform (the default)", () => {
    assert.deepEqual(exposurePath(P), ["D", "A", "B", "C", "D", "C"]);
    assert.deepEqual(transformPath(P), ["D", "A", "B", "C", "D", "C"]);
    assert.deepEqual(exposurePath([]), []);
  });
  it("keeps first occurrences with the first transform", () => {
    assert.deepEqual(firstPath(P), ["D", "A", "B", "C"]);
  });
  it("counts touches per channel with the frequency transform", () => {
    assert.deepEqual(frequencyPath(P), ["D(2)", "A(1)", "B(2)", "C(3)"]);
  });
  it("trims a long path to its last N touches", () => {
    assert.deepEqual(trimLongPath(P, 3), ["D", "C", "C"]);
    assert.deepEqual(trimLongPath(P, 0), P);
    assert.deepEqual(trimLongPath(["A"], 5), ["A"]);
  });
  it("removes a channel unless it is the only one", () => {
    assert.deepEqual(removeIfNotAll(["direct", "seo", "direct"], "direct"), ["seo"]);
    assert.deepEqual(removeIfNotAll(["direct", "direct"], "direct"), ["direct", "direct"]);
    assert.deepEqual(removeIfLastAndNotAll(["seo", "direct", "direct"], "direct"), ["seo"]);
    assert.deepEqual(removeIfLastAndNotAll(["direct", "seo"], "direct"), ["direct", "seo"]);
  });
  it("parses ChannelAttribution path strings, trimming spaces", () => {
    assert.deepEqual(parseChannelPath("eta > iota >alpha>  eta"), ["eta", "iota", "alpha", "eta"]);
    assert.deepEqual(parseChannelPath(""), []);
  });

  it("writes paths with escaped channel names that read back exactly, even names holding ' > ', '%3E', quotes or unicode", () => {
    const hostile = ["Search > Paid", "<Other> / <Other>", "a>b", ">", " > ", "100%3E", "%253E%", `it's "q" = 1`, "Поиск 検索 🔍", " lead space", "trail space "];
    for (const c of hostile) {
      assert.ok(!encodePathChannel(c).includes(">"), c);
      assert.equal(decodePathChannel(encodePathChannel(c)), c);
    }
    assert.deepEqual(splitChannelPath(formatChannelPath(hostile)), hostile);
    assert.equal(formatChannelPath(["Search > Paid", "<Other>", "50%"]), "Search %3E Paid > <Other%3E > 50%25");
    // Names without '%' and '>' are written as ChannelAttribution writes them.
    assert.equal(formatChannelPath(["Email", "Paid Search", "(direct) / (none)"]), "Email > Paid Search > (direct) / (none)");
    assert.deepEqual(splitChannelPath("Email > Paid Search"), parseChannelPath("Email > Paid Search"));
  });
});
