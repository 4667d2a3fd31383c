/**
 * The ZetaSQL oracle's analyses are remembered by statement and catalog (test/support/zetasql.ts): a statement
 * analyzed again over the same tables is answered without the server, and anything that could change the answer
 * (a column's type, a table, a constant, a function) is a different question, sent to the server.
 */
import assert from "node:assert/strict";
import { startZetaSQL, type ZetaSQL } from "./support/zetasql.ts";

describe("ZetaSQL analyses remembered by statement and catalog", function () {
  this.timeout(60_000);
  let zeta: ZetaSQL;
  // A statement no other test file analyzes: the memory is the process's, shared with the files run before.
  const sql = `SELECT amount * 2 AS doubled, ${Date.now()} AS marker FROM orders WHERE region = cache_test_region`;
  const tables = { "orders": [{ name: "amount", type: "INT64" }, { name: "region", type: "STRING" }] };

  before(async () => {
    zeta = await startZetaSQL();
  });
  after(async () => {
    await zeta.stop();
  });

  it("gives each caller its own copy: changing an answer does not change the next", async () => {
    const catalog = { tables, constants: { cache_test_region: "STRING" } };
    const a = await zeta.analyze(sql, catalog);
    assert.ok(a.ok);
    a.columns.push({ name: "added", type: "STRING" });
    const b = await zeta.analyze(sql, catalog); // from memory
    assert.ok(b.ok);
    assert.equal(b.columns.length, 2);
    b.columns.push({ name: "added", type: "STRING" });
    const c = await zeta.analyze(sql, catalog);
    assert.ok(c.ok);
    assert.equal(c.columns.length, 2);
  });

  it("answers from memory after the server stopped, and asks the server when the catalog differs", async () => {
    const catalog = { tables, constants: { cache_test_region: "STRING" } };
    const first = await zeta.analyze(sql, catalog);
    assert.deepEqual(first, { ok: true, columns: [{ name: "doubled", type: "INT64" }, { name: "marker", type: "INT64" }] });
    await zeta.stop();
    // The same question: answered, although no server is left to ask.
    assert.deepEqual(await zeta.analyze(sql, { tables: structuredClone(tables), constants: { cache_test_region: "STRING" } }), first);
    // Each of these could change the answer, so each goes to the (stopped) server and fails.
    const differing = [
      { tables: { "orders": [{ name: "amount", type: "FLOAT64" }, { name: "region", type: "STRING" }] }, constants: { cache_test_region: "STRING" } },
      { tables: { ...tables, "other": [{ name: "x", type: "INT64" }] }, constants: { cache_test_region: "STRING" } },
      { tables, constants: { cache_test_region: "INT64" } },
      { tables, constants: { cache_test_region: "STRING" }, functions: { f: { args: ["INT64"], returns: "INT64" } } },
    ];
    for (const c of differing) assert.equal((await zeta.analyze(sql, c)).ok, false, JSON.stringify(c));
    assert.equal((await zeta.analyze(`${sql} `, catalog)).ok, false, "another statement text");
  });
});
