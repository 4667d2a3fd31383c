import assert from "node:assert/strict";
import {
  parseChannelPath,
  encodePathChannel,
  decodePathChannel,
  formatChannelPath,
  splitChannelPath,
} from "../src/models/paths.ts";

describe("models/paths", () => {
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
