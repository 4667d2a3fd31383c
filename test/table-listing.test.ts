/**
 * TableListing (src/engines/table-listing.ts) on DuckDB: describeTable's and tableExists' answers from one listing per
 * dataset (DuckDBEngine.tableShapesIn), held until the run says it may have changed a table.
 */
import assert from "node:assert/strict";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Target } from "../src/engines/engine.ts";
import { TableListing } from "../src/engines/table-listing.ts";

const t = (schema: string, name: string): Target => ({ database: "", schema, name });

describe("TableListing", () => {
  let e: DuckDBEngine;
  beforeEach(async () => {
    e = await DuckDBEngine.open({ path: ":memory:" });
    await e.runNative("CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t1 (x INTEGER); CREATE VIEW a.v1 AS SELECT 1 AS x; CREATE TABLE b.t1 (x INTEGER)");
  });
  afterEach(async () => e.close());

  it("DuckDB's tableShapesIn gives describeTable's answer for every table and view of one schema, none for a missing one", async () => {
    const shapes = await e.tableShapesIn(undefined, "a");
    assert.deepEqual([...shapes].sort(), [["t1", { kind: "table" }], ["v1", { kind: "view" }]]);
    for (const name of ["t1", "v1", "missing"]) assert.deepEqual(shapes.get(name), await e.describeTable(t("a", name)), name);
    assert.deepEqual(await e.tableShapesIn(undefined, "missing"), new Map());
  });

  it("answers from one listing per dataset until a table is changed, then asks the engine", async () => {
    const asked: string[] = [];
    const counting = new Proxy(e, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (prop === "describeTable" || prop === "tableExists") return (x: Target) => { asked.push(`${String(prop)} ${x.schema}.${x.name}`); return (v as (x: Target) => unknown).call(target, x); };
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const tables = new TableListing(counting);
    await tables.list([t("a", "t1"), t("a", "v1"), t("missing", "x")]);
    assert.deepEqual(await tables.describe(t("a", "v1")), { kind: "view" });
    assert.equal(await tables.exists(t("a", "t1")), true);
    assert.equal(await tables.exists(t("missing", "x")), false);
    assert.deepEqual(asked, [], "answered from the listing");
    // A dataset not listed is asked about.
    assert.equal(await tables.exists(t("b", "t1")), true);
    assert.deepEqual(asked, ["tableExists b.t1"]);
    // The listing holds until the run says it changes a table: a table made meanwhile is not seen before that.
    await e.runNative("DROP VIEW a.v1; CREATE TABLE a.v1 AS SELECT 1 AS x; CREATE TABLE a.t2 (x INTEGER)");
    assert.equal(await tables.exists(t("a", "t2")), false);
    tables.changing(t("a", "v1"));
    assert.deepEqual(await tables.describe(t("a", "v1")), { kind: "table" });
    assert.equal(await tables.exists(t("a", "t2")), false, "another table of the dataset still from the listing");
    tables.changingAll();
    assert.equal(await tables.exists(t("a", "t2")), true);
    assert.deepEqual(asked, ["tableExists b.t1", "describeTable a.v1", "tableExists a.t2"]);
  });

  it("asks the engine for everything when the engine cannot list", async () => {
    const unlisting = new Proxy(e, { get: (target, prop) => (prop === "tableShapesIn" ? undefined : ((v) => (typeof v === "function" ? v.bind(target) : v))(Reflect.get(target, prop))) });
    const tables = new TableListing(unlisting);
    await tables.list([t("a", "t1")]);
    await e.runNative("CREATE TABLE a.t3 (x INTEGER)");
    assert.equal(await tables.exists(t("a", "t3")), true);
  });
});
