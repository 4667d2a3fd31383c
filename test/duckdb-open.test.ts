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
