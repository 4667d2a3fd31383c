import assert from "node:assert/strict";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  createTableStatement, createViewStatement, incrementalStatement, replacePartitionsStatements, assertionCountQuery,
} from "../src/runner/statements.ts";
import type { Action } from "../src/compile/graph.ts";

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");
/** Compare with test/golden/<name>.sql; UPDATE_GOLDEN=1 rewrites the files (review the diff!). */
function golden(name: string, sql: string): void {
  const file = path.join(GOLDEN, `${name}.sql`);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) writeFileSync(file, sql + "\n");
  assert.equal(sql + "\n", readFileSync(file, "utf8"), `${name}.sql differs (UPDATE_GOLDEN=1 to accept)`);
}

const action: Action = {
  name: "ds.sessions", kind: "incremental", target: { database: "p", schema: "ds", name: "sessions" }, dependencies: [], tags: [],
  partitionBy: "session_date", clusterBy: ["chain_key"], description: "one row per session", uniqueKey: ["session_key"],
};
const q = "SELECT session_key, chain_key, session_date FROM `p.ds.src`";

describe("statement builders", () => {
  it("creates a partitioned, clustered table with a description", () => golden("create-table", createTableStatement(action, q)));
  it("creates a view", () => golden("create-view", createViewStatement({ ...action, kind: "view" }, q)));
  it("merges on the unique key, updating every other column", () =>
    golden("merge", incrementalStatement(action, q, ["session_key", "chain_key", "session_date"])));
  it("adds the update partition filter to the merge condition", () =>
    golden("merge-partition-filter", incrementalStatement({ ...action, updatePartitionFilter: "session_date >= DATE '2024-01-01'" }, q, ["session_key", "chain_key", "session_date"])));
  it("inserts when there is no unique key", () =>
    golden("insert", incrementalStatement({ ...action, uniqueKey: undefined }, q, ["session_key", "chain_key", "session_date"])));
  it("replaces the partitions the new rows cover", () =>
    golden("replace-partitions", replacePartitionsStatements(action, q, ["session_key", "session_date"], "session_date").join(";\n")));
  it("counts an assertion's failing rows", () => golden("assertion", assertionCountQuery("SELECT 1 AS x")));
  it("escapes a description so it cannot end the OPTIONS string", () => {
    const sql = createTableStatement({ ...action, description: `x"); DROP TABLE t; --` }, q);
    assert.match(sql, /OPTIONS\(description="x\\"\); DROP TABLE t; --"\)/);
  });
});
