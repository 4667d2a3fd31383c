/**
 * `funnelcredit import custom-events|costs --source NAME FILES…`: a local CSV or NDJSON file loaded as it is, every column
 * as text, into the table of a configured source (vars.custom_event_sources / vars.cost_sources). The source's column
 * mapping then reads it; validation and quarantine happen in staging, naming the source.
 */
import { existsSync } from "node:fs";
import { InputError, UserError } from "../util/errors.ts";
import type { MappedSource } from "../config/settings.ts";
import { displayName } from "./read.ts";
import type { LocalLoading } from "../engines/engine.ts";

/** The configured source of that name, which must read a table (a model source is shaped in SQL, not loaded). */
export function sourceTableOf(sources: readonly MappedSource[], name: string, setting: string): { schema: string; name: string } {
  const source = sources.find((s) => s.name === name && !s.builtin);
  if (!source) {
    const names = sources.filter((s) => !s.builtin).map((s) => s.name);
    throw new UserError(`--source ${name}: no such source in vars.${setting}` + (names.length ? ` (configured: ${names.join(", ")})` : " (none configured; add it in workflow_settings.yaml first)"));
  }
  if (!source.table) throw new UserError(`--source ${name}: the source reads the model ${source.model}; load the table that model reads instead`);
  if (source.table.database) throw new UserError(`--source ${name}: its table is in project ${source.table.database}; import loads into the embedded warehouse only`);
  return source.table;
}

/** Replace (or append to) the source's table with the files' rows, all columns text; returns the row count. */
export async function importSourceFiles(local: LocalLoading, files: readonly string[], target: { schema: string; name: string }, mode: "replace" | "append"): Promise<number> {
  const { connection: conn, ident, literal } = local;
  const reads = files.map((file) => {
    if (!existsSync(file)) throw new InputError(displayName(file), undefined, undefined, "no such file");
    const ndjson = /\.(ndjson|jsonl|json)$/i.test(file);
    return ndjson
      ? `SELECT COLUMNS(*)::VARCHAR FROM read_json_auto(${literal(file)}, format = 'newline_delimited')`
      : `SELECT * FROM read_csv(${literal(file)}, header = true, all_varchar = true)`;
  });
  const table = `${ident(target.schema)}.${ident(target.name)}`;
  const rows = reads.join(" UNION ALL BY NAME ");
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(target.schema)}`);
  await conn.run("BEGIN TRANSACTION");
  try {
    if (mode === "replace") await conn.run(`CREATE OR REPLACE TABLE ${table} AS ${rows}`);
    else await conn.run(`INSERT INTO ${table} BY NAME ${rows}`);
    const n = (await conn.runAndReadAll(`SELECT COUNT(*) AS n FROM ${table}`)).getRowObjects()[0]!.n;
    await conn.run("COMMIT");
    return Number(n);
  } catch (e) {
    await conn.run("ROLLBACK");
    throw new InputError(displayName(files[0]!), undefined, undefined, `could not load into ${target.schema}.${target.name}: ${(e as Error).message}`);
  }
}
