/**
 * Whose data a warehouse's inputs are. The demo replaces its input tables (the GA4 export, the CRM and custom-event
 * sources) with the sample, and its default warehouse is the one `import` and `run` use too: run after an import, it
 * would overwrite the user's transactions or leads, and mix its GA4 days with the imported ones. So the demo marks the
 * warehouse it fills (`<meta>.demo_sample`), an import removes the mark, and the demo writes only into a warehouse
 * that is marked or whose input tables hold no rows.
 */
import type { LocalLoading } from "../engines/engine.ts";
import { UserError } from "../util/errors.ts";
import { tableSchema } from "../catalog/index.ts";
import { countText } from "../util/count-text.ts";

const MARK_TABLE = "demo_sample";

/** Where the demo writes and where its mark is: the settings' datasets. */
export interface SampleDatasets {
  ga4: string;
  sources: string;
  meta: string;
}

/**
 * Refuse (UserError naming the tables and their rows) when the demo would overwrite data it did not write: the warehouse
 * is not marked as the demo's and a table of the GA4 or sources dataset holds rows. Empty tables (made by `run`) do not count.
 */
export async function assertDemoMayWrite(local: LocalLoading, ds: SampleDatasets, warehouse: string): Promise<void> {
  const { connection: conn, ident: q, literal: lit } = local;
  if (await isMarked(local, ds.meta)) return;
  const tables = (await conn.runAndReadAll(
    `SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() ` +
      `AND schema_name IN (${lit(ds.ga4)}, ${lit(ds.sources)}) ORDER BY schema_name, table_name`,
  )).getRows().map((r) => [String(r[0]), String(r[1])] as const);
  const held: string[] = [];
  for (const [schema, table] of tables) {
    const [[n]] = (await conn.runAndReadAll(`SELECT count(*) FROM ${q(schema)}.${q(table)}`)).getRows();
    if (Number(n) > 0) held.push(`${schema}.${table} (${countText(Number(n))} ${Number(n) === 1 ? "row" : "rows"})`);
  }
  if (held.length === 0) return;
  const shown = held.length > 5 ? [...held.slice(0, 5), `and ${held.length - 5} more`] : held;
  throw new UserError(
    `demo: ${warehouse} holds input data not marked as the demo's sample (imported, written by hand, or the sample of a funnelcredit before the mark): ${shown.join(", ")}. ` +
      `The demo replaces these datasets' tables with its sample, so it would overwrite or mix with them. ` +
      `Run it into a warehouse of its own (funnelcredit demo --warehouse .funnelcredit/demo.duckdb), or delete ${warehouse} to start over.`,
  );
}

/** Mark the warehouse as holding the demo's sample (after the sample is written). */
export async function markDemoSample(local: LocalLoading, meta: string, sample: { users: number; days: number; seed: number }): Promise<void> {
  const { connection: conn, ident: q } = local;
  const table = `${q(meta)}.${q(MARK_TABLE)}`;
  const values: Record<string, string> = { users: String(sample.users), days: String(sample.days), seed: String(sample.seed), generated_at: "current_timestamp" };
  const columns = tableSchema(MARK_TABLE);
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${q(meta)}`);
  await conn.run(`CREATE OR REPLACE TABLE ${table} (${columns.map((c) => `${q(c.name)} ${local.columnType(c)}`).join(", ")})`);
  await conn.run(`INSERT INTO ${table} VALUES (${columns.map((c) => `CAST(${values[c.name]} AS ${local.columnType(c)})`).join(", ")})`);
}

/** Remove the mark: the warehouse's inputs are no longer (only) the demo's. Called after every import. */
export async function forgetDemoSample(local: LocalLoading, meta: string): Promise<void> {
  await local.connection.run(`DROP TABLE IF EXISTS ${local.ident(meta)}.${local.ident(MARK_TABLE)}`);
}

async function isMarked(local: LocalLoading, meta: string): Promise<boolean> {
  const { connection: conn, literal: lit } = local;
  const found = (await conn.runAndReadAll(
    `SELECT 1 FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() AND schema_name = ${lit(meta)} AND table_name = ${lit(MARK_TABLE)}`,
  )).getRows();
  return found.length > 0;
}
