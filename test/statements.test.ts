import assert from "node:assert/strict";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  createTableStatement, createViewStatement, incrementalStatement, assertionCountQuery,
  dropBeforeReplace, dropStatement, partitionSpec,
} from "../src/runner/statements.ts";
import type { Action } from "../src/dag/graph.ts";

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
  it("counts an assertion's failing rows", () => golden("assertion", assertionCountQuery("SELECT 1 AS x")));
  it("drops the other kind before a CREATE OR REPLACE, as Dataform does", () =>
    golden("drop-before-replace", [dropStatement(action.target, "view"), dropStatement(action.target, "table")].join(";\n")));
  it("reads a PARTITION BY expression as the spec BigQuery reports (tables.get)", () => {
    assert.deepEqual(
      ["session_date", "`session_date`", "DATE(event_ts)", "TIMESTAMP_TRUNC(ts, HOUR)", "DATE_TRUNC(d, MONTH)", "_PARTITIONDATE", "RANGE_BUCKET(x, GENERATE_ARRAY(0, 100, 10))", "DATE(ts, 'UTC')", "", undefined].map(partitionSpec),
      ["DAY(session_date)", "DAY(session_date)", "DAY(event_ts)", "HOUR(ts)", "MONTH(d)", "DAY(_PARTITIONTIME)", "RANGE(x)", null, undefined, undefined],
    );
  });
  it("drops only what CREATE OR REPLACE cannot replace: the other kind, or another partitioning where the engine has partitions", () => {
    const table = { kind: "table" as const };
    assert.equal(dropBeforeReplace(undefined, { kind: "view" }, true), undefined);
    assert.equal(dropBeforeReplace(table, { kind: "view" }, true), "table");
    assert.equal(dropBeforeReplace({ kind: "view" }, { kind: "table", partitionBy: "d" }, false), "view");
    assert.equal(dropBeforeReplace({ kind: "view" }, { kind: "view" }, true), undefined);
    assert.equal(dropBeforeReplace(table, { kind: "table" }, true), undefined);
    assert.equal(dropBeforeReplace(table, { kind: "table", partitionBy: "d" }, true), "table");
    assert.equal(dropBeforeReplace(table, { kind: "table", partitionBy: "d" }, false), undefined);
    assert.equal(dropBeforeReplace({ kind: "table", partitioning: "DAY(d)" }, { kind: "table", partitionBy: "DATE(d)" }, true), undefined);
    assert.equal(dropBeforeReplace({ kind: "table", partitioning: "DAY(d)" }, { kind: "table", partitionBy: "e" }, true), "table");
    assert.equal(dropBeforeReplace({ kind: "table", partitioning: "DAY(d)" }, { kind: "table" }, true), "table");
    // A form it cannot read: BigQuery decides, nothing is dropped every run.
    assert.equal(dropBeforeReplace({ kind: "table", partitioning: "DAY(d)" }, { kind: "table", partitionBy: "DATE(d, 'UTC')" }, true), undefined);
  });
  it("escapes a description so it cannot end the OPTIONS string", () => {
    const sql = createTableStatement({ ...action, description: `x"); DROP TABLE t; --` }, q);
    assert.match(sql, /OPTIONS\(description="x\\"\); DROP TABLE t; --"\)/);
  });
});
