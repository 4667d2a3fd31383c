/**
 * The demo's non-GA4 source tables, written with the importers' DDL (so the pipeline reads them as it reads
 * imported files): CRM transactions (shared with the accuracy benchmark), custom events, costs and leads.
 * Each replaces its table; the schema must exist.
 */
import { sourceTableDdl } from "../import/sources.ts";
import type { LocalLoading } from "../engines/engine.ts";
import type { SimCostRow, SimCustomEvent, SimLead, SimTransactionRow } from "./sim-rows.ts";
import { appendRows, type Cell } from "./appender.ts";

/** Replace one source table (schema must exist) with `rows`, typed by `types` in `ddl`'s column order. */
async function writeSourceTable(local: LocalLoading, schema: string, table: string, ddl: string, types: string[], rows: Cell[][]): Promise<void> {
  await local.connection.run(`CREATE OR REPLACE TABLE ${local.ident(schema)}.${local.ident(table)} (${ddl})`);
  await appendRows(local.connection, { schema, table }, types, rows);
}

/** Replace `<schema>.crm_transactions` with the importer's DDL and these rows. */
export async function writeCrmTransactions(local: LocalLoading, schema: string, rows: readonly SimTransactionRow[]): Promise<void> {
  await writeSourceTable(
    local, schema, "crm_transactions", sourceTableDdl(local, "transactions"),
    ["VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP", "VARCHAR", "DOUBLE", "VARCHAR"],
    rows.map((t) => [t.transaction_id, t.user_id, t.client_id, t.transaction_created, t.transaction_status, t.transaction_revenue, t.transaction_region]),
  );
}

/** Replace `<schema>.custom_events`: every column a raw string, as a file has it. */
export async function writeCustomEvents(local: LocalLoading, schema: string, rows: readonly SimCustomEvent[]): Promise<void> {
  await writeSourceTable(
    local, schema,
    "custom_events",
    sourceTableDdl(local, "custom_events"),
    new Array(14).fill("VARCHAR"),
    rows.map((e) => [e.name, e.category, e.time, e.user_id, e.client_id, e.transaction_id, e.revenue, e.cost, e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.geo_region]),
  );
}

/** Replace `<schema>.costs`. */
export async function writeCosts(local: LocalLoading, schema: string, rows: readonly SimCostRow[]): Promise<void> {
  await writeSourceTable(
    local, schema,
    "costs",
    sourceTableDdl(local, "costs"),
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
export async function writeLeads(local: LocalLoading, schema: string, rows: readonly SimLead[]): Promise<void> {
  await writeSourceTable(
    local, schema,
    "leads",
    LEAD_COLUMNS.map(([n, t]) => `${local.ident(n)} ${t}`).join(", "),
    LEAD_COLUMNS.map(([, t]) => t),
    rows.map((l) => LEAD_COLUMNS.map(([n]) => (l as unknown as Record<string, Cell>)[n] ?? null)),
  );
}
