/**
 * Deterministic demo data: a GA4 export (`events_YYYYMMDD` per day, a few `events_intraday_` copies of the
 * last days), CRM transactions, custom events (with a few intentionally invalid rows), costs and leads.
 *
 * How: simulate.ts decides everything at session grain in JS from one seeded PRNG (users, devices, channels,
 * funnel depth, purchases, leads); the sessions stream, as they are drawn, into a TEMP table through the
 * appender (never all in JS memory at once) and DuckDB expands
 * them into GA4-shaped events, one INSERT per day, with per-event detail (timestamps jitter, pages, bundle ids)
 * from `hash(session_key, event_index, seed)`. Same seed → the same rows in every table.
 * Event rows are inserted in (event_timestamp, session, event index) order; DuckDB keeps it while
 * preserve_insertion_order is on (its default), so compare tables with order-independent checksums.
 * Determinism relies on DuckDB's `hash()`, stable within one DuckDB version.
 */
import { DuckDBDateValue, DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from "@duckdb/node-api";
import { ga4Field, ga4LocalTypes } from "../import/ga4-schema.ts";
import { sourceTableDdl } from "../import/sources.ts";
import { lit, q } from "../import/load.ts";
import { customSourceRows } from "./custom-sources.ts";
import type { LocalLoading } from "../engines/engine.ts";
import { EVENT_CODES, EVENT_JITTER_SECONDS, EVENT_STEP_SECONDS, simulateStream, type SimSession, type SimStreamResult, type SimTransactionRow } from "./simulate.ts";

export interface DemoOptions {
  /** Web users (people). Default 20,000. */
  users?: number;
  /** Days of data. Default 60. */
  days?: number;
  /** First day, YYYY-MM-DD. Default 2024-01-01 (fixed, so output never depends on the clock). */
  startDate?: string;
  /** PRNG seed. Default 42. */
  seed?: number;
  /** Schema of the GA4 daily tables. Default `ga4_export`. */
  ga4Schema?: string;
  /** Schema of the other sources. Default `funnelcredit_sources`. */
  sourcesSchema?: string;
  /** Intraday tables duplicating the last N days. Default 2. */
  intradayDays?: number;
  /** Called after each step: simulation, each day written, source tables. */
  onProgress?: (done: number, total: number) => void;
}

export interface DemoResult {
  events: number;
  sessions: number;
  users: number;
  /** Distinct transaction ids in crm_transactions. */
  transactions: number;
  /** Tables written, `schema.table`. */
  tables: string[];
}

const HOST = "https://shop.example.com";
const STREAM_ID = 3456789012;

const SESSION_COLUMNS: [string, string][] = [
  ["session_key", "BIGINT"],
  ["day", "INTEGER"],
  ["ts", "BIGINT"],
  ["user_pseudo_id", "VARCHAR"],
  ["user_id", "VARCHAR"],
  ["ga_session_id", "BIGINT"],
  ["ga_session_number", "BIGINT"],
  ["codes", "VARCHAR"],
  ["source", "VARCHAR"],
  ["medium", "VARCHAR"],
  ["campaign", "VARCHAR"],
  ["tagged", "BOOLEAN"],
  ["send_params", "BOOLEAN"],
  ["gclid", "VARCHAR"],
  ["referrer", "VARCHAR"],
  ["landing_path", "VARCHAR"],
  ["ft_source", "VARCHAR"],
  ["ft_medium", "VARCHAR"],
  ["ft_name", "VARCHAR"],
  ["first_touch_ts", "BIGINT"],
  ["dev_category", "VARCHAR"],
  ["dev_os", "VARCHAR"],
  ["dev_os_version", "VARCHAR"],
  ["dev_browser", "VARCHAR"],
  ["dev_browser_version", "VARCHAR"],
  ["dev_brand", "VARCHAR"],
  ["dev_model", "VARCHAR"],
  ["language", "VARCHAR"],
  ["geo_continent", "VARCHAR"],
  ["geo_sub_continent", "VARCHAR"],
  ["geo_country", "VARCHAR"],
  ["geo_region", "VARCHAR"],
  ["geo_city", "VARCHAR"],
  ["items_json", "VARCHAR"],
  ["transaction_id", "VARCHAR"],
  ["revenue", "DOUBLE"],
  ["tax", "DOUBLE"],
  ["shipping", "DOUBLE"],
  ["quantity", "BIGINT"],
  ["unique_items", "BIGINT"],
  ["ltv", "DOUBLE"],
  ["tier", "VARCHAR"],
];

type Cell = string | number | boolean | null;

function sessionCells(s: SimSession): Cell[] {
  const ch = s.channel;
  const ft = s.firstTouch;
  const items = s.items.map((it, i) => ({
    item_id: it.product.id,
    item_name: it.product.name,
    item_brand: "Demo",
    item_category: it.product.category,
    price: it.product.price,
    price_in_usd: it.product.price,
    quantity: it.quantity,
    item_revenue: Math.round(it.product.price * it.quantity * 100) / 100,
    item_revenue_in_usd: Math.round(it.product.price * it.quantity * 100) / 100,
    affiliation: "Demo Store",
    item_list_name: it.product.category,
    item_list_index: String(i + 1),
  }));
  return [
    s.key,
    s.day,
    s.ts,
    s.pseudoId,
    s.userId,
    s.gaSessionId,
    s.gaSessionNumber,
    s.codes,
    ch.source,
    ch.medium,
    s.campaign,
    ch.tagged,
    s.sendSourceParams,
    s.gclid,
    ch.referrer ?? null,
    s.landingPath,
    ft.source,
    ft.medium,
    s.firstTouchCampaign,
    s.firstTouchTs,
    s.device.category,
    s.device.os,
    s.device.osVersion,
    s.device.browser,
    s.device.browserVersion,
    s.device.brand,
    s.device.model,
    s.language,
    s.place.continent,
    s.place.subContinent,
    s.place.country,
    s.place.region,
    s.place.city,
    JSON.stringify(items),
    s.transactionId,
    s.revenue,
    s.tax,
    s.shipping,
    s.items.reduce((a, it) => a + it.quantity, 0),
    s.items.length,
    Math.round(s.ltv * 100) / 100,
    s.tier,
  ];
}

function appendCell(a: DuckDBAppender, type: string, v: Cell): void {
  if (v === null) return a.appendNull();
  switch (type) {
    case "VARCHAR":
      return a.appendVarchar(String(v));
    case "BIGINT":
      return a.appendBigInt(BigInt(v as number));
    case "INTEGER":
      return a.appendInteger(v as number);
    case "DOUBLE":
      return a.appendDouble(v as number);
    case "BOOLEAN":
      return a.appendBoolean(v as boolean);
    case "TIMESTAMP":
      return a.appendTimestamp(new DuckDBTimestampValue(BigInt(v as number)));
    case "DATE":
      return a.appendDate(new DuckDBDateValue(v as number));
    default:
      throw new Error(`appendCell: unsupported type ${type}`);
  }
}

/** Append rows to an existing table whose column types are `types`. */
async function appendRows(
  conn: DuckDBConnection,
  where: { schema: string; catalog?: string; table: string },
  types: string[],
  rows: Iterable<Cell[]>,
): Promise<number> {
  const a = await conn.createAppender(where.table, where.schema, where.catalog ?? null);
  let n = 0;
  try {
    for (const r of rows) {
      for (let i = 0; i < types.length; i++) appendCell(a, types[i]!, r[i] ?? null);
      a.endRow();
      n++;
    }
  } finally {
    a.closeSync();
  }
  return n;
}

// ---- SQL expanding sessions into events ---------------------------------------------------------

/** One event_params entry; `kind` chooses the value member. NULL values are filtered out afterwards. */
function param(key: string, kind: "string" | "int" | "double", expr: string): string {
  const v = (k: string, t: string): string => (kind === k ? `CAST(${expr} AS ${t})` : `CAST(NULL AS ${t})`);
  return `{'key': ${lit(key)}, 'value': {'string_value': ${v("string", "VARCHAR")}, 'int_value': ${v("int", "BIGINT")}, 'float_value': CAST(NULL AS DOUBLE), 'double_value': ${v("double", "DOUBLE")}}}`;
}

function eventsSql(local: LocalLoading, sessionsTable: string, seed: number): string {
  const names = Object.entries(EVENT_CODES).map(([c, n]) => `WHEN ${lit(c)} THEN ${lit(n)}`).join(" ");
  const pages = `[${["/", "/collections/apparel", "/collections/drinkware", "/collections/bags", "/collections/office", "/collections/lifestyle", "/sale", "/new-arrivals", "/search", "/account"].map(lit).join(", ")}]`;
  const itemsType = local.columnType(ga4Field("items"));
  const landing = `(i <= landing_i)`;
  const utm = `concat_ws('&', CASE WHEN tagged THEN 'utm_source=' || source || '&utm_medium=' || medium || '&utm_campaign=' || campaign END, CASE WHEN gclid IS NOT NULL THEN 'gclid=' || gclid END)`;
  const params = [
    param("ga_session_id", "int", "ga_session_id"),
    param("ga_session_number", "int", "ga_session_number"),
    param("page_location", "string", "page_location"),
    param("page_title", "string", "page_title"),
    param("page_referrer", "string", `CASE WHEN ${landing} THEN referrer ELSE '${HOST}/' END`),
    param("source", "string", `CASE WHEN ${landing} AND send_params THEN source END`),
    param("medium", "string", `CASE WHEN ${landing} AND send_params THEN medium END`),
    param("campaign", "string", `CASE WHEN ${landing} AND send_params THEN campaign END`),
    param("gclid", "string", `CASE WHEN ${landing} THEN gclid END`),
    param("entrances", "int", `CASE WHEN i = landing_i THEN 1 END`),
    param("session_engaged", "string", `CASE WHEN i > landing_i THEN '1' END`),
    param("engaged_session_event", "int", `CASE WHEN i > landing_i THEN 1 END`),
    param("engagement_time_msec", "int", `CASE WHEN code IN ('p', 'e') AND i > landing_i THEN 1000 + h % 60000 END`),
    param("currency", "string", `CASE WHEN code IN ('v', 'a', 'b', '$') THEN 'USD' END`),
    param("value", "double", `CASE WHEN code = '$' THEN revenue WHEN code IN ('a', 'b') THEN list_sum(list_transform(item_list, x -> x.price * x.quantity)) END`),
    param("transaction_id", "string", `CASE WHEN code = '$' THEN transaction_id END`),
  ];
  return `
WITH s AS (
  SELECT *, CAST(json_transform(items_json, ${lit(JSON.stringify([{ item_id: "VARCHAR", item_name: "VARCHAR", item_brand: "VARCHAR", item_category: "VARCHAR", price: "DOUBLE", price_in_usd: "DOUBLE", quantity: "BIGINT", item_revenue: "DOUBLE", item_revenue_in_usd: "DOUBLE", affiliation: "VARCHAR", item_list_name: "VARCHAR", item_list_index: "VARCHAR" }]))}) AS ${itemsType}) AS item_list,
         strpos(codes, 'p') - 1 AS landing_i
  FROM ${sessionsTable} WHERE day = $day
),
indexed AS (
  SELECT *, unnest(range(length(codes))) AS i FROM s
),
events AS (
  SELECT *, substr(codes, i + 1, 1) AS code, hash(session_key, i, ${seed}) AS h,
         ts + i * ${EVENT_STEP_SECONDS * 1_000_000} + CAST(hash(session_key, i, ${seed}) % ${EVENT_JITTER_SECONDS * 1_000_000} AS BIGINT) AS ets
  FROM indexed
),
pages AS (
  SELECT *,
    CASE WHEN i <= landing_i THEN landing_path
         WHEN code IN ('v', 'a') THEN '/product/' || item_list[1].item_id
         WHEN code = 'b' THEN '/checkout'
         WHEN code = '$' THEN '/checkout/confirmation'
         WHEN code = 'l' THEN '/bulk-orders/thank-you'
         ELSE ${pages}[1 + CAST(h % 10 AS INTEGER)] END AS path
  FROM events
),
segmented AS (
  SELECT *, replace(split_part(path, '/', -1), '-', ' ') AS seg FROM pages
),
located AS (
  SELECT *,
    '${HOST}' || path || CASE WHEN i <= landing_i AND (tagged OR gclid IS NOT NULL) THEN '?' || ${utm} ELSE '' END AS page_location,
    CASE WHEN path = '/' THEN 'Demo Store' WHEN path LIKE '/product/%' THEN item_list[1].item_name || ' | Demo Store' ELSE upper(left(seg, 1)) || substr(seg, 2) || ' | Demo Store' END AS page_title
  FROM segmented
)
SELECT
  strftime(make_timestamp(ets), '%Y%m%d') AS event_date,
  ets AS event_timestamp,
  CASE code ${names} END AS event_name,
  list_filter([${params.join(",\n    ")}], p -> p.value.string_value IS NOT NULL OR p.value.int_value IS NOT NULL OR p.value.double_value IS NOT NULL) AS event_params,
  CASE WHEN i > 0 THEN ets - ${EVENT_STEP_SECONDS * 1_000_000} END AS event_previous_timestamp,
  CASE WHEN code = '$' THEN revenue END AS event_value_in_usd,
  CAST(h % 2147483647 AS BIGINT) AS event_bundle_sequence_id,
  CAST(h % 900000 AS BIGINT) AS event_server_timestamp_offset,
  user_id,
  user_pseudo_id,
  {'analytics_storage': 'Yes', 'ads_storage': 'Yes', 'uses_transient_token': 'No'} AS privacy_info,
  CASE WHEN user_id IS NOT NULL THEN [{'key': 'customer_tier', 'value': {'string_value': tier, 'int_value': CAST(NULL AS BIGINT), 'float_value': CAST(NULL AS DOUBLE), 'double_value': CAST(NULL AS DOUBLE), 'set_timestamp_micros': ts}}] ELSE [] END AS user_properties,
  first_touch_ts AS user_first_touch_timestamp,
  {'revenue': ltv + CASE WHEN code = '$' THEN revenue ELSE 0 END, 'currency': 'USD'} AS user_ltv,
  {'category': dev_category, 'mobile_brand_name': dev_brand, 'mobile_model_name': dev_model, 'operating_system': dev_os,
   'operating_system_version': dev_os_version, 'language': language, 'is_limited_ad_tracking': 'No',
   'web_info': {'browser': dev_browser, 'browser_version': dev_browser_version}} AS device,
  {'continent': geo_continent, 'sub_continent': geo_sub_continent, 'country': geo_country, 'region': geo_region, 'city': geo_city, 'metro': '(not set)'} AS geo,
  {'medium': ft_medium, 'name': ft_name, 'source': ft_source} AS traffic_source,
  ${STREAM_ID} AS stream_id,
  'WEB' AS platform,
  {'hostname': 'shop.example.com'} AS event_dimensions,
  CASE WHEN code = '$' THEN {'total_item_quantity': quantity, 'purchase_revenue_in_usd': revenue, 'purchase_revenue': revenue,
    'shipping_value_in_usd': shipping, 'shipping_value': shipping, 'tax_value_in_usd': tax, 'tax_value': tax,
    'unique_items': unique_items, 'transaction_id': transaction_id} END AS ecommerce,
  CASE WHEN code IN ('v', 'a', 'b', '$') THEN item_list ELSE [] END AS items,
  CASE WHEN i <= landing_i AND (tagged OR gclid IS NOT NULL) THEN
    {'manual_campaign_name': CASE WHEN tagged THEN campaign END, 'manual_source': CASE WHEN tagged THEN source END,
     'manual_medium': CASE WHEN tagged THEN medium END, 'gclid': gclid} END AS collected_traffic_source,
  (strpos(codes, 'e') > 0) AS is_active_user,
  i AS batch_event_index,
  CAST(ga_session_id AS BIGINT) * 100 + CAST(h % 100 AS BIGINT) AS batch_page_id,
  ga_session_id AS batch_ordering_id
FROM located
ORDER BY event_timestamp, session_key, i`;
}

function dayString(startMs: number, day: number): string {
  return new Date(startMs + day * 86_400_000).toISOString().slice(0, 10).replace(/-/g, "");
}

export interface Ga4ExportOptions {
  /** Schema of the GA4 daily tables (must exist). */
  ga4Schema: string;
  /** Epoch millis of 00:00 UTC of day 0 (SimSession.day counts from it). */
  startMs: number;
  days: number;
  /** Seed of the per-event detail (timestamp jitter, pages, bundle ids). */
  seed: number;
  /** Intraday tables duplicating the last N days. */
  intradayDays: number;
  /** Called after the sessions are loaded, after each day table and after each intraday table. */
  onStep?: () => void;
}

/**
 * A TEMP table of simulated sessions filled through the appender: `add` each session as it is drawn (the
 * appender flushes in chunks, and DuckDB spills the table to its temp folder past memory_limit), `close`
 * before expanding it, `drop` at the end.
 */
interface SessionTable {
  /** Qualified name, for SQL. */
  readonly name: string;
  add(s: SimSession): void;
  close(): void;
  drop(): Promise<void>;
}

async function openSessionTable(conn: DuckDBConnection): Promise<SessionTable> {
  const table = `fc_demo_sessions_${process.pid}`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${q(table)} (${SESSION_COLUMNS.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`);
  const types = SESSION_COLUMNS.map(([, t]) => t);
  const a = await conn.createAppender(table, "main", "temp");
  let open = true;
  return {
    name: `temp.main.${q(table)}`,
    add(s: SimSession): void {
      const cells = sessionCells(s);
      for (let i = 0; i < types.length; i++) appendCell(a, types[i]!, cells[i] ?? null);
      a.endRow();
    },
    close(): void {
      if (open) a.closeSync();
      open = false;
    },
    async drop(): Promise<void> {
      if (open) a.closeSync();
      open = false;
      await conn.run(`DROP TABLE IF EXISTS temp.main.${q(table)}`);
    },
  };
}

/**
 * Expand a session table into a GA4 BigQuery export: one `events_YYYYMMDD` table per day (replaced) and
 * `events_intraday_` copies of the last `intradayDays`. Each day is one INSERT … SELECT over that day's
 * sessions, so the events are never all in memory at once.
 */
async function expandSessions(local: LocalLoading, sessionsTable: string, opts: Ga4ExportOptions): Promise<{ events: number; tables: string[] }> {
  const conn = local.connection;
  const columnsDdl = ga4LocalTypes(local.columnType).columnsDdl;
  const { ga4Schema: ga4, startMs, days, seed, intradayDays } = opts;
  const tables: string[] = [];
  let events = 0;
  const sql = eventsSql(local, sessionsTable, seed);
  for (let day = 0; day < days; day++) {
    const table = `events_${dayString(startMs, day)}`;
    const target = `${q(ga4)}.${q(table)}`;
    await conn.run(`CREATE OR REPLACE TABLE ${target} (${columnsDdl})`);
    const r = await conn.run(`INSERT INTO ${target} BY NAME ${sql.replace("$day", String(day))}`);
    events += Number(r.rowsChanged);
    tables.push(`${ga4}.${table}`);
    opts.onStep?.();
  }
  for (let day = days - intradayDays; day < days; day++) {
    const d = dayString(startMs, day);
    await conn.run(`CREATE OR REPLACE TABLE ${q(ga4)}.${q(`events_intraday_${d}`)} AS SELECT * FROM ${q(ga4)}.${q(`events_${d}`)}`);
    tables.push(`${ga4}.events_intraday_${d}`);
    opts.onStep?.();
  }
  return { events, tables };
}

/**
 * Expand simulated sessions into a GA4 BigQuery export: one `events_YYYYMMDD` table per day (replaced) and
 * `events_intraday_` copies of the last `intradayDays`. Shared by the demo and the accuracy benchmark, so both
 * produce events the same way. Returns the events written and the tables, `schema.table`.
 */
export async function writeGa4Export(local: LocalLoading, sessions: Iterable<SimSession>, opts: Ga4ExportOptions): Promise<{ events: number; tables: string[] }> {
  const conn = local.connection;
  const table = await openSessionTable(conn);
  try {
    for (const s of sessions) table.add(s);
    table.close();
    opts.onStep?.();
    return await expandSessions(local, table.name, opts);
  } finally {
    await table.drop();
  }
}

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

/**
 * Generate the demo warehouse. Replaces the tables it writes. Prints nothing; reports progress through
 * `onProgress(done, total)` (total = days + intraday days + 2: the simulation streamed into DuckDB, each day and intraday table, the source tables).
 */
export async function generateDemo(local: LocalLoading, opts: DemoOptions = {}): Promise<DemoResult> {
  const conn = local.connection;
  const users = opts.users ?? 20_000;
  const days = opts.days ?? 60;
  const seed = opts.seed ?? 42;
  const ga4 = opts.ga4Schema ?? "ga4_export";
  const src = opts.sourcesSchema ?? "funnelcredit_sources";
  const intradayDays = Math.min(opts.intradayDays ?? 2, days);
  const startDate = opts.startDate ?? "2024-01-01";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate) || Number.isNaN(Date.parse(startDate + "T00:00:00Z"))) {
    throw new Error(`generateDemo: startDate must be YYYY-MM-DD, got ${JSON.stringify(startDate)}`);
  }
  if (!(Number.isInteger(users) && users > 0 && Number.isInteger(days) && days > 0)) {
    throw new Error(`generateDemo: users and days must be positive integers`);
  }
  const startMs = Date.parse(startDate + "T00:00:00Z");
  const total = days + intradayDays + 2;
  let done = 0;
  const progress = (): void => opts.onProgress?.(++done, total);

  const tables: string[] = [];
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${q(ga4)}; CREATE SCHEMA IF NOT EXISTS ${q(src)}`);
  // Sessions stream from the simulation into the appender (and into the call-centre / webinar rows drawn
  // from them): at 10M events, keeping them as JS objects was most of the generator's 4.5 GB.
  const sessionTable = await openSessionTable(conn);
  const customRows = customSourceRows(seed);
  let ga4Written: { events: number; tables: string[] };
  let sim: SimStreamResult;
  try {
    sim = simulateStream({ users, days, startMs, seed }, (s) => {
      sessionTable.add(s);
      customRows.add(s);
    });
    sessionTable.close();
    progress();
    ga4Written = await expandSessions(local, sessionTable.name, { ga4Schema: ga4, startMs, days, seed, intradayDays, onStep: progress });
  } finally {
    await sessionTable.drop();
  }
  tables.push(...ga4Written.tables);
  const events = ga4Written.events;

  // Source tables: same DDL as the importers write.
  const writeSource = async (table: string, ddl: string, types: string[], rows: Cell[][]): Promise<void> => {
    await writeSourceTable(conn, src, table, ddl, types, rows);
    tables.push(`${src}.${table}`);
  };
  await writeCrmTransactions(conn, src, sim.transactions);
  tables.push(`${src}.crm_transactions`);
  await writeSource(
    "custom_events",
    sourceTableDdl("custom_events"),
    new Array(14).fill("VARCHAR"),
    sim.customEvents.map((e) => [e.name, e.category, e.time, e.user_id, e.client_id, e.transaction_id, e.revenue, e.cost, e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.geo_region]),
  );
  await writeSource(
    "costs",
    sourceTableDdl("costs"),
    ["DATE", "VARCHAR", "VARCHAR", "VARCHAR", "DOUBLE", "BIGINT", "BIGINT"],
    sim.costs.map((c) => [c.date, c.source, c.medium, c.campaign, c.cost, c.clicks, c.impressions]),
  );
  const leadCols: [string, string][] = [
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
  await writeSource(
    "leads",
    leadCols.map(([n, t]) => `${q(n)} ${t}`).join(", "),
    leadCols.map(([, t]) => t),
    sim.leads.map((l) => leadCols.map(([n]) => (l as unknown as Record<string, Cell>)[n] ?? null)),
  );
  tables.push(...await customRows.write(local, src));
  progress();

  const txIds = new Set(sim.transactions.map((t) => t.transaction_id));
  return { events, sessions: sim.sessionCount, users: sim.users, transactions: txIds.size, tables };
}
