/**
 * The demo's non-GA4 source tables, written with the importers' DDL (so the pipeline reads them as it reads
 * imported files): CRM transactions (shared with the accuracy benchmark), custom events, costs and leads.
 * Each replaces its table; the schema must exist.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { sourceTableDdl } from "../import/sources.ts";
import { q } from "../import/load.ts";
import type { SimCostRow, SimCustomEvent, SimLead, SimTransactionRow } from "./sim-rows.ts";
import { appendRows, type Cell } from "./appender.ts";

/** Replace one source table (schema must exist) with `rows`, typed by `types` in `ddl`'s column order. */
async function writeSourceTable(conn: DuckDBConnection, schema: string, table: string, ddl: string, types: string[], rows: Cell[][]): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE ${q(schema)}.${q(table)} (${ddl})`);
  await appendRows(conn, { schema, table }, types, rows);
}

/** Replace `<schema>.crm_transactions` with the importer's DDL and these rows. */
export async function writeCrmTransactions(conn: DuckDBConnection, schema: string, rows: readonly SimTransactionRow[]): Promise<void> {
  await writeSourceTable(
    conn, schema, "crm_transactions", sourceTableDdl("transactions"),
    ["VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP", "VARCHAR", "DOUBLE", "VARCHAR"],
    rows.map((t) => [t.transaction_id, t.user_id, t.client_id, t.transaction_created, t.transaction_status, t.transaction_revenue, t.transaction_region]),
  );
}

/** Replace `<schema>.custom_events`: every column a raw string, as a file has it. */
export async function writeCustomEvents(conn: DuckDBConnection, schema: string, rows: readonly SimCustomEvent[]): Promise<void> {
  await writeSourceTable(
    conn, schema,
    "custom_events",
    sourceTableDdl("custom_events"),
    new Array(14).fill("VARCHAR"),
    rows.map((e) => [e.name, e.category, e.time, e.user_id, e.client_id, e.transaction_id, e.revenue, e.cost, e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.geo_region]),
  );
}

/** Replace `<schema>.costs`. */
export async function writeCosts(conn: DuckDBConnection, schema: string, rows: readonly SimCostRow[]): Promise<void> {
  await writeSourceTable(
    conn, schema,
    "costs",
    sourceTableDdl("costs"),
    ["DATE", "VARCHAR", "VARCHAR", "VARCHAR", "DOUBLE", "BIGINT", "BIGINT"],
    rows.map((c) => [c.date, c.source, c.medium, c.campaign, c.cost, c.clicks, c.impressions]),
  );
}

const LEAD_COLUMNS: [string, string][] = [
  ["lead_id", "VARCHAR"],
  ["created_at", "TIMESTAMP"],
  ["converted_at", "TIMESTAMP"],
  ["converted", "BOOLEAN"],
  ["user_id", "VARCHAR"],
  ["client_id", "VARCHAR"],
  ["company_size", "VARCHAR"],
  ["employees", "BIGINT"],
  ["industry", "VARCHAR"],
  ["job_seniority", "VARCHAR"],
  ["country", "VARCHAR"],
  ["annual_revenue_musd", "DOUBLE"],
  ["newsletter_opt_in", "BOOLEAN"],
  ["lead_source", "VARCHAR"],
  ["sessions_before_lead", "BIGINT"],
  ["viewed_items_before_lead", "BOOLEAN"],
];

/** Replace `<schema>.leads` with the columns of a leads CSV (`SimLead`'s fields, in order). */
export async function writeLeads(conn: DuckDBConnection, schema: string, rows: readonly SimLead[]): Promise<void> {
  await writeSourceTable(
    conn, schema,
    "leads",
    LEAD_COLUMNS.map(([n, t]) => `${q(n)} ${t}`).join(", "),
    LEAD_COLUMNS.map(([, t]) => t),
    rows.map((l) => LEAD_COLUMNS.map(([n]) => (l as unknown as Record<string, Cell>)[n] ?? null)),
  );
}
