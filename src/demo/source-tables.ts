/**
 * The demo's non-GA4 source tables, written with the importers' DDL (so the pipeline reads them as it reads
 * imported files): CRM transactions (shared with the accuracy benchmark), custom events, costs and leads.
 * Each replaces its table; the schema must exist.
 */
import { sourceTableDdl } from "../import/sources.ts";
import type { LocalLoading } from "../engines/engine.ts";
import type { SimCostRow, SimCustomEvent, SimLead, SimTransactionRow } from "./sim-rows.ts";
import { appendRows, type Cell } from "./appender.ts";
import { invalidEventPlaces, type SimTotals } from "./simulate.ts";

/** Replace one source table (schema must exist) with `rows`, typed by `types` in `ddl`'s column order. */
async function writeSourceTable(local: LocalLoading, schema: string, table: string, ddl: string, types: string[], rows: Cell[][]): Promise<void> {
  await local.connection.run(`CREATE OR REPLACE TABLE ${local.ident(schema)}.${local.ident(table)} (${ddl})`);
  await appendRows(local, { schema, table }, types, rows);
}

const TRANSACTION_TYPES = ["VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP", "VARCHAR", "DOUBLE", "VARCHAR"];
const transactionCells = (t: SimTransactionRow): Cell[] =>
  [t.transaction_id, t.user_id, t.client_id, t.transaction_created, t.transaction_status, t.transaction_revenue, t.transaction_region];
const CUSTOM_EVENT_TYPES: string[] = new Array(14).fill("VARCHAR");
const customEventCells = (e: SimCustomEvent): Cell[] =>
  [e.name, e.category, e.time, e.user_id, e.client_id, e.transaction_id, e.revenue, e.cost, e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.geo_region];

/** Replace `<schema>.crm_transactions` with the importer's DDL and these rows. */
export async function writeCrmTransactions(local: LocalLoading, schema: string, rows: readonly SimTransactionRow[]): Promise<void> {
  await writeSourceTable(
    local, schema, "crm_transactions", sourceTableDdl(local, "transactions"),
    TRANSACTION_TYPES,
    rows.map(transactionCells),
  );
}

/** Replace `<schema>.custom_events`: every column a raw string, as a file has it. */
export async function writeCustomEvents(local: LocalLoading, schema: string, rows: readonly SimCustomEvent[]): Promise<void> {
  await writeSourceTable(
    local, schema,
    "custom_events",
    sourceTableDdl(local, "custom_events"),
    CUSTOM_EVENT_TYPES,
    rows.map(customEventCells),
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
    leadDdl(local),
    LEAD_COLUMNS.map(([, t]) => t),
    rows.map(leadCells),
  );
}

const leadDdl = (local: LocalLoading): string => LEAD_COLUMNS.map(([n, t]) => `${local.ident(n)} ${t}`).join(", ");
const leadCells = (l: SimLead): Cell[] => LEAD_COLUMNS.map(([n]) => (l as unknown as Record<string, Cell>)[n] ?? null);

/**
 * A source table written as its rows are drawn, in the order simulate.ts gives its table (SimTotals): each
 * row goes through the appender into a TEMP table together with its sort keys, and `finish` copies them in
 * that order into the table (replaced when opened). The sort is on narrow rows of plain columns.
 */
export interface StreamedTable<T> {
  push(row: T): void;
  finish(): Promise<void>;
  /** Drop the TEMP table (finish does); safe to call twice. */
  drop(): Promise<void>;
}

async function openStreamed<T>(
  local: LocalLoading, schema: string, table: string, ddl: string, types: string[],
  keys: [string, string][], orderBy: string, cells: (row: T, seq: number) => Cell[],
  lastRows?: () => Cell[][],
): Promise<StreamedTable<T>> {
  const { connection: conn, ident: q } = local;
  const target = `${q(schema)}.${q(table)}`;
  const temp = `fc_demo_${table}_${process.pid}`;
  await conn.run(`CREATE OR REPLACE TABLE ${target} (${ddl})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${q(temp)} (${ddl}, ${keys.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`);
  const allTypes = [...types, ...keys.map(([, t]) => t)];
  const a = await conn.createAppender(temp, "main", "temp");
  let open = true;
  let seq = 0;
  const append = (row: Cell[]): void => {
    for (let i = 0; i < allTypes.length; i++) local.appendCell(a, allTypes[i]!, row[i] ?? null);
    a.endRow();
  };
  const close = (): void => {
    if (open) a.closeSync();
    open = false;
  };
  const drop = async (): Promise<void> => {
    close();
    await conn.run(`DROP TABLE IF EXISTS temp.main.${q(temp)}`);
  };
  return {
    push: (row) => append(cells(row, seq++)),
    async finish(): Promise<void> {
      for (const row of lastRows?.() ?? []) append(row);
      close();
      await conn.run(`INSERT INTO ${target} SELECT * EXCLUDE (${keys.map(([n]) => q(n)).join(", ")}) FROM temp.main.${q(temp)} ORDER BY ${orderBy}`);
      await drop();
    },
    drop,
  };
}

/** `<schema>.crm_transactions`, streamed: ordered by (transaction_created, transaction_id, order drawn). */
export function streamCrmTransactions(local: LocalLoading, schema: string): Promise<StreamedTable<SimTransactionRow>> {
  return openStreamed(local, schema, "crm_transactions", sourceTableDdl(local, "transactions"), TRANSACTION_TYPES,
    [["fc_seq", "BIGINT"]], "transaction_created, transaction_id, fc_seq", (t, seq) => [...transactionCells(t), seq]);
}

/** `<schema>.leads`, streamed: ordered by (created_at, order drawn). */
export function streamLeads(local: LocalLoading, schema: string): Promise<StreamedTable<SimLead>> {
  return openStreamed(local, schema, "leads", leadDdl(local), LEAD_COLUMNS.map(([, t]) => t),
    [["fc_seq", "BIGINT"]], "created_at, fc_seq", (l, seq) => [...leadCells(l), seq]);
}

/**
 * `<schema>.custom_events`, streamed: the valid events in the order drawn, and at `finish` the invalid ones
 * (SimTotals.invalidCustomEvents) at the places their `at` gives them.
 */
export async function streamCustomEvents(local: LocalLoading, schema: string): Promise<StreamedTable<SimCustomEvent> & { finishWith(invalid: SimTotals["invalidCustomEvents"]): Promise<void> }> {
  let invalid: SimTotals["invalidCustomEvents"] = [];
  // Valid event i sorts as (i, 1, 0); an invalid one as (valid events before it, 0, its index in the table).
  const t = await openStreamed<SimCustomEvent>(local, schema, "custom_events", sourceTableDdl(local, "custom_events"), CUSTOM_EVENT_TYPES,
    [["fc_before", "BIGINT"], ["fc_valid", "INTEGER"], ["fc_slot", "BIGINT"]], "fc_before, fc_valid, fc_slot",
    (e, seq) => [...customEventCells(e), seq, 1, 0],
    () => {
      const places = invalidEventPlaces(invalid.map((b) => b.at));
      return invalid.map((b, j) => [...customEventCells(b.row), places[j]!.validBefore, 0, places[j]!.slot]);
    });
  return {
    ...t,
    finishWith(rows) {
      invalid = rows;
      return t.finish();
    },
  };
}
