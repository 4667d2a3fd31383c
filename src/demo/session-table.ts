/**
 * The demo's streaming writer: simulated sessions into a TEMP table through the appender, one row per session
 * with what the GA4 events SQL (ga4-events-sql.ts) reads, as they are drawn (never all in JS memory at once).
 */
import type { LocalLoading } from "../engines/engine.ts";
import type { SimSession } from "./sim-rows.ts";
import { appendCell, type Cell } from "./appender.ts";

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

/**
 * A TEMP table of simulated sessions filled through the appender: `add` each session as it is drawn (the
 * appender flushes in chunks, and DuckDB spills the table to its temp folder past memory_limit), `close`
 * before expanding it, `drop` at the end.
 */
export interface SessionTable {
  /** Qualified name, for SQL. */
  readonly name: string;
  add(s: SimSession): void;
  close(): void;
  drop(): Promise<void>;
}

export async function openSessionTable(local: LocalLoading): Promise<SessionTable> {
  const { connection: conn, ident: q } = local;
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

