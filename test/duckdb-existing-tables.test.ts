/** DuckDBEngine.existingTables: which of many targets exist, in one catalog query, agreeing with tableExists. */
import assert from "node:assert/strict";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Target } from "../src/engines/engine.ts";

describe("DuckDB existingTables", () => {
  it("names exactly the tables and views that exist, as tableExists answers for each", async () => {
    const e = await DuckDBEngine.open({ path: ":memory:" });
    try {
      await e.runNative("CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t1 (x INTEGER); CREATE TABLE b.t2 (x INTEGER); CREATE VIEW a.v1 AS SELECT 1 AS x; CREATE TABLE b.t1 (x INTEGER)");
      const t = (schema: string, name: string): Target => ({ database: "", schema, name });
      const asked = [t("a", "t1"), t("a", "t2"), t("b", "t2"), t("a", "v1"), t("c", "t1"), t("a", "missing")];
      const found = await e.existingTables(asked);
      assert.deepEqual([...found].sort(), ["a.t1", "a.v1", "b.t2"]);
      for (const target of asked) assert.equal(found.has(`${target.schema}.${target.name}`), await e.tableExists(target), `${target.schema}.${target.name}`);
      assert.deepEqual([...(await e.existingTables([]))], []);
    } finally {
      await e.close();
    }
  });
});
