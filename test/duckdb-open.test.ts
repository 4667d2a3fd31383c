/**
 * Opening a warehouse file: what every command pays before its first statement. The bq_* macro
 * library persists in the file, so it is written only when the file does not hold this version of it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { macrosVersion } from "../src/engines/duckdb/translate/compat.ts";
import { memoryEngine } from "./support/warehouse.ts";

describe("opening a DuckDB warehouse file", function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-duckdb-open-"));
    file = path.join(dir, "w.duckdb");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const macroText = async (e: DuckDBEngine, name: string): Promise<string> =>
    String((await e.queryNative(`SELECT macro_definition FROM duckdb_functions() WHERE function_name = '${name}'`))[0]?.macro_definition);

  it("installs the macro library in a new file, with its version, and translated SQL uses it", async () => {
    const e = await DuckDBEngine.open({ path: file });
    try {
      assert.deepEqual(await e.queryNative("SELECT bq_macros_version() AS v"), [{ v: macrosVersion() }]);
      assert.deepEqual(await e.query("SELECT DATE_TRUNC(DATE '2024-05-15', WEEK(MONDAY)) AS d"), [{ d: "2024-05-13" }]);
    } finally {
      await e.close();
    }
  });

  it("leaves the macros of a file holding this version as they are, and rewrites those of any other version", async () => {
    let e = await DuckDBEngine.open({ path: file });
    // A changed macro stands for "written by someone else": re-opening must not rewrite it while the version matches.
    await e.runNative("CREATE OR REPLACE MACRO bq_plain_part(p) AS 'marker'");
    await e.close();
    e = await DuckDBEngine.open({ path: file });
    try {
      assert.match(await macroText(e, "bq_plain_part"), /marker/);
      // Another library version (an older funnelcredit wrote the file): every macro is written afresh.
      await e.runNative("CREATE OR REPLACE MACRO bq_macros_version() AS 'older'");
    } finally {
      await e.close();
    }
    e = await DuckDBEngine.open({ path: file });
    try {
      assert.doesNotMatch(await macroText(e, "bq_plain_part"), /marker/);
      assert.deepEqual(await e.queryNative("SELECT bq_macros_version() AS v"), [{ v: macrosVersion() }]);
    } finally {
      await e.close();
    }
  });

  it("installs the macros in a file written before the version marker existed", async () => {
    let e = await DuckDBEngine.open({ path: file });
    await e.runNative("DROP MACRO bq_macros_version; DROP MACRO bq_plain_part");
    await e.close();
    e = await DuckDBEngine.open({ path: file });
    try {
      assert.match(await macroText(e, "bq_plain_part"), /week/i);
      assert.deepEqual(await e.queryNative("SELECT bq_macros_version() AS v"), [{ v: macrosVersion() }]);
    } finally {
      await e.close();
    }
  });
});

describe("a DuckDB warehouse: its transactions and table schemas", function () {
  this.timeout(60_000);
  let e: DuckDBEngine;
  beforeEach(async () => {
    e = await memoryEngine();
    await e.ensureDataset("p", "s");
  });
  afterEach(async () => e.close());

  it("commits statements and row writes started at the same time, one after another, none lost", async () => {
    await e.execute(["CREATE TABLE `p.s.t` (k INT64)"]);
    // What a lease's release beside a waiting acquire does: two transactions on the one connection at once.
    const writes = [
      ...[1, 2, 3, 4].map((k) => e.execute([`INSERT INTO \`p.s.t\` (k) VALUES (${k})`, `INSERT INTO \`p.s.t\` (k) VALUES (${k * 10})`])),
      e.writeRows({ database: "p", schema: "s", name: "t" }, [{ name: "k", type: "INT64" }], [{ k: 5 }], { mode: "append" }),
    ];
    await Promise.all(writes);
    const ks = (await e.query("SELECT k FROM `p.s.t` ORDER BY k")).map((r) => Number(r.k));
    assert.deepEqual(ks, [1, 2, 3, 4, 5, 10, 20, 30, 40], "every concurrent transaction committed");
    // A failing one rolls back alone and does not stop the next.
    const [bad, good] = await Promise.allSettled([e.execute(["INSERT INTO `p.s.t` (k) VALUES (6)", "SELECT * FROM `p.s.missing`"]), e.execute(["INSERT INTO `p.s.t` (k) VALUES (7)"])]);
    assert.equal(bad.status, "rejected", "the statement on a missing table fails");
    assert.equal(good.status, "fulfilled", "the transaction after a failed one commits");
    assert.deepEqual((await e.query("SELECT k FROM `p.s.t` WHERE k IN (6, 7)")).map((r) => Number(r.k)), [7], "the failed transaction's insert was rolled back");
  });

  it("gives a table's and a view's columns as they read now, none for a missing table, and fails for a view that no longer binds", async () => {
    await e.runNative(`CREATE TABLE s.t (id BIGINT, amount DECIMAL(38,9), ts TIMESTAMP, tags VARCHAR[], params STRUCT("key" VARCHAR, value STRUCT(int_value BIGINT, double_value DOUBLE))[])`);
    await e.runNative(`CREATE VIEW s.v AS SELECT * FROM s.t`);
    await e.runNative(`ALTER TABLE s.t ADD COLUMN ok BOOLEAN`);
    const t = await e.tableSchema({ database: "p", schema: "s", name: "t" });
    assert.deepEqual(t.map((c) => c.name), ["id", "amount", "ts", "tags", "params", "ok"]);
    // The engine reports a column's kind only (lists and structs as RECORD), as its catalog query did.
    assert.deepEqual(t.map((c) => c.type), ["INT64", "NUMERIC", "TIMESTAMP", "RECORD", "RECORD", "BOOL"]);
    // The view reads the column added after its creation, as BigQuery's view would.
    assert.deepEqual((await e.tableSchema({ database: "p", schema: "s", name: "v" })).map((c) => c.name), t.map((c) => c.name));
    assert.deepEqual(await e.tableSchema({ database: "p", schema: "s", name: "missing" }), []);
    await e.runNative(`DROP TABLE s.t`);
    await assert.rejects(e.tableSchema({ database: "p", schema: "s", name: "v" }), /Table with name t does not exist/);
  });
});
