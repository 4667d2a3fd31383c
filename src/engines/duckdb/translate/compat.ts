/**
 * Session setup that gives translated GoogleSQL BigQuery's semantics on DuckDB
 * (engine-feasibility.md §2.1): UTC, BigQuery's NULL ordering, the bq_* macro library and the
 * FARM_FINGERPRINT UDF. memory_limit and threads are the engine's business, not set here.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { BIGINT, DuckDBScalarFunction, VARCHAR } from "../node-api.ts";
import { bigqueryFingerprint } from "farmhash-modern";
import { packageRoot } from "../../../util/package-root.ts";

/**
 * The UTF-8 bytes of `s` in one buffer reused call after call (valid until the next call). farmhash-modern encodes a
 * string with a new TextEncoder each call: 2M channel-share keys took 1.2–2.1 µs a hash that way, 0.2 µs this way,
 * the same fingerprints (lone surrogates become U+FFFD either way).
 */
const encoder = new TextEncoder();
let utf8Buffer = new Uint8Array(1024);
function utf8(s: string): Uint8Array {
  if (utf8Buffer.length < s.length * 3) utf8Buffer = new Uint8Array(s.length * 3);
  return utf8Buffer.subarray(0, encoder.encodeInto(s, utf8Buffer).written);
}

/** sql/duckdb/bq_macros.sql in the installed package (from src/ under tsx, or from dist/). */
const MACROS_PATH = path.join(packageRoot(), "sql", "duckdb", "bq_macros.sql");

let macrosText: string | undefined;

/** The macro library's statements (CREATE OR REPLACE MACRO …), comments removed. */
function macroStatements(): string[] {
  macrosText ??= readFileSync(MACROS_PATH, "utf8");
  return macrosText
    .split("\n")
    .filter((l) => !/^\s*--/.test(l))
    .join("\n")
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Marker macro: `SELECT bq_macros_version()` gives the hash of the macro library installed in the file. */
const VERSION_MACRO = "bq_macros_version";

/** SHA-256 (first 16 hex digits) of the macro library as this package ships it. */
export function macrosVersion(): string {
  return createHash("sha256").update(macroStatements().join(";\n")).digest("hex").slice(0, 16);
}

/** The library version a warehouse file holds, or undefined (never installed, or from before the marker). */
async function installedMacrosVersion(conn: DuckDBConnection): Promise<string | undefined> {
  try {
    const r = await conn.runAndReadAll(`SELECT ${VERSION_MACRO}() AS v`);
    return String(r.getRowObjects()[0]?.v);
  } catch {
    return undefined;
  }
}

/**
 * Prepare a connection for translated SQL: session settings, the bq_* macros and the
 * bq_farm_fingerprint UDF. Idempotent; the macros are written only when the file lacks this version
 * of them. The UDF is connection-scoped: views using FARM_FINGERPRINT work only through connections
 * prepared here.
 */
export async function installCompat(conn: DuckDBConnection): Promise<void> {
  await conn.run("SET TimeZone = 'UTC'");
  // BigQuery sorts NULLs first ascending and last descending (DuckDB: last in both).
  await conn.run("SET default_null_order = 'nulls_first_on_asc_last_on_desc'");
  // The macros persist in the warehouse file: a file that already holds this library keeps it
  // (rewriting ~70 catalog entries took ~80 ms of every command's start). A marker macro holds the
  // library's hash, written in the same transaction as the macros.
  const version = macrosVersion();
  if ((await installedMacrosVersion(conn)) !== version) {
    await conn.run("BEGIN TRANSACTION");
    try {
      // One call for the whole library: ~70 calls cost a round trip each (measured: 62–94 → 36–59 ms CPU of a new warehouse's first command).
      await conn.run([...macroStatements(), `CREATE OR REPLACE MACRO ${VERSION_MACRO}() AS '${version}'`].join(";\n"));
      await conn.run("COMMIT");
    } catch (e) {
      await conn.run("ROLLBACK").catch(() => undefined);
      throw e;
    }
  }
  conn.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: "bq_farm_fingerprint",
      returnType: BIGINT,
      parameterTypes: [VARCHAR],
      mainFunction: (_info, input, output) => {
        const v = input.getColumnVector(0);
        for (let row = 0; row < input.rowCount; row++) {
          const s = v.getItem(row);
          // FARM_FINGERPRINT = farmhash Fingerprint64 of the UTF-8 bytes, as a signed INT64.
          output.setItem(row, s === null ? null : bigqueryFingerprint(utf8(String(s))));
        }
        output.flush();
      },
    }),
  );
}
