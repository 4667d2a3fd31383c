/** DuckDBEngine.tablesIn: every table and view of the asked schemas, in one catalog query, agreeing with tableExists. */
import assert from "node:assert/strict";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Target } from "../src/engines/engine.ts";

describe("DuckDB tablesIn", () => {
  it("lists exactly the tables and views of the asked schemas, as tableExists answers for each", async () => {
    const e = await DuckDBEngine.open({ path: ":memory:" });
    try {
      await e.runNative("CREATE SCHEMA a; CREATE SCHEMA b; CREATE SCHEMA c; CREATE TABLE a.t1 (x INTEGER); CREATE TABLE b.t2 (x INTEGER); CREATE VIEW a.v1 AS SELECT 1 AS x; CREATE TABLE b.t1 (x INTEGER); CREATE TABLE c.t3 (x INTEGER)");
      const listed = await e.tablesIn(["a", "b", "a", "missing"]);
      assert.deepEqual([...listed].sort(), ["a.t1", "a.v1", "b.t1", "b.t2"]);
      const t = (schema: string, name: string): Target => ({ database: "", schema, name });
      for (const target of [t("a", "t1"), t("a", "t2"), t("b", "t2"), t("a", "v1"), t("a", "missing")]) {
        assert.equal(listed.has(`${target.schema}.${target.name}`), await e.tableExists(target), `${target.schema}.${target.name}`);
      }
      assert.deepEqual([...(await e.tablesIn([]))], []);
    } finally {
      await e.close();
    }
  });
});
