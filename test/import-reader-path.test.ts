/**
 * GA4 import against what DuckDB's own JSON reader would accept (issue 15, target 4): read_json with the
 * export's column types converts values the export schema does not allow (1.5 into an INT64 becomes 2,
 * true becomes 1, an object into a STRING becomes its JSON text, "yes" becomes true, NaN / Infinity tokens
 * and 1e400 are read). Any faster path that hands files to the reader must still refuse each of these,
 * naming the line and field; these tests pin that down.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDb } from "./support/duckdb.ts";
import { importGa4 } from "../src/import/index.ts";
import { InputError } from "../src/util/errors.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "fc-import-reader-"));
function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

function ga4Line(o: Record<string, unknown>): string {
  return JSON.stringify({ event_date: "20240301", event_timestamp: 1709251200000000, event_name: "page_view", user_pseudo_id: "1.1", ...o });
}

describe("GA4 import refuses what DuckDB's JSON reader would convert (issue 15, target 4)", () => {
  it("reports the unknown top-level keys it dropped, like the exact path", async () => {
    const db = await openDb();
    try {
      const r = await importGa4(db.local, [file("extra.ndjson", [ga4Line({ extra_key: 1, _source_table: "x" }), ga4Line({ other: { a: 1 } })].join("\n"))]);
      assert.deepEqual(r.ignoredFields, ["extra_key", "other"]);
    } finally {
      db.close();
    }
  });

  // Values DuckDB's JSON reader would take (converting them) but the export schema does not allow.
  const lenient: [string, string, string, RegExp][] = [
    ["an object in a STRING field", ga4Line({ event_name: { a: 1 } }), "event_name", /expected a string/],
    ["an array in a STRING field", ga4Line({ user_pseudo_id: ["a"] }), "user_pseudo_id", /expected a string/],
    ["a fraction in an INT64 field", ga4Line({ event_params: [{ key: "k", value: { int_value: 1.5 } }] }), "event_params[0].value.int_value", /expected an integer/],
    ["true in an INT64 field", ga4Line({ event_params: [{ key: "k", value: { int_value: true } }] }), "event_params[0].value.int_value", /expected an integer/],
    ["true in a FLOAT64 field", ga4Line({ event_value_in_usd: true }), "event_value_in_usd", /expected a number/],
    ["a padded number string in a FLOAT64 field", ga4Line({ event_value_in_usd: " 1.5" }), "event_value_in_usd", /expected a number/],
    ["a NaN string in a FLOAT64 field", ga4Line({ event_value_in_usd: "NaN" }), "event_value_in_usd", /expected a number/],
    ["1 in a BOOL field", ga4Line({ is_active_user: 1 }), "is_active_user", /expected true or false/],
    ["yes in a BOOL field", ga4Line({ is_active_user: "yes" }), "is_active_user", /expected true or false/],
    ["a string where a record belongs", ga4Line({ device: "mobile" }), "device", /expected an object/],
    ["a number in an array of records", ga4Line({ event_params: [{ key: "k", value: {} }, 5] }), "event_params[1]", /expected an object/],
    ["an INT64 between 2^63 and 2^64", ga4Line({}).replace(/}$/, `,"event_params":[{"key":"k","value":{"int_value":9223372036854775808}}]}`), "event_params[0].value.int_value", /outside the INT64 range/],
  ];
  for (const [what, line, field, reason] of lenient) {
    it(`refuses ${what}, naming line and field`, async () => {
      const db = await openDb();
      try {
        await assert.rejects(importGa4(db.local, [file("bad.ndjson", [ga4Line({}), line, ga4Line({})].join("\n"))]), (e: unknown) => {
          assert.ok(e instanceof InputError, String(e));
          assert.equal(e.line, 2, e.message);
          assert.equal(e.field, field, e.message);
          assert.match(e.reason, reason);
          return true;
        });
        assert.equal(Number((await db.conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ga4_export'`)).getRows()[0]![0]), 0);
      } finally {
        db.close();
      }
    });
  }

  it("refuses the NaN and Infinity tokens DuckDB reads but JSON does not have, naming the line", async () => {
    const db = await openDb();
    try {
      for (const token of ["NaN", "Infinity", "-Infinity", "1e400"]) {
        const bad = ga4Line({}).replace(/}$/, `,"event_value_in_usd":${token}}`);
        await assert.rejects(importGa4(db.local, [file("tok.ndjson", [ga4Line({}), bad].join("\n"))]), (e: unknown) => {
          assert.ok(e instanceof InputError, String(e));
          assert.equal(e.line, 2, `${token}: ${e.message}`);
          return true;
        });
      }
    } finally {
      db.close();
    }
  });

  it("takes INT64 written as strings, and refuses a line that is JSON null naming it", async () => {
    const db = await openDb();
    try {
      const r = await importGa4(db.local, [file("strs.ndjson", [ga4Line({ event_timestamp: "1709251200000000" }), ga4Line({})].join("\n"))]);
      assert.equal(r.rows, 2);
      await assert.rejects(importGa4(db.local, [file("null.ndjson", [ga4Line({}), "null"].join("\n"))]), (e: unknown) => e instanceof InputError && e.line === 2);
    } finally {
      db.close();
    }
  });
});
