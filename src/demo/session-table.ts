/**
 * The demo's streaming writer: simulated sessions into a TEMP table through the appender, one row per session
 * with what the GA4 events SQL (ga4-events-sql.ts) reads, as they are drawn (never all in JS memory at once).
 */
import type { LocalLoading } from "../engines/engine.ts";
import type { SimSession } from "./sim-rows.ts";
import type { Cell } from "./appender.ts";

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
 * The simulated sessions in DuckDB, read one day at a time. `add` appends each session as it is drawn (one
 * TEMP table, in the order drawn: user by user); `flush` hands the appender's rows to the table (the caller
 * flushes every FLUSH_SESSIONS or so, so that the appender holds few); `sortByDay` then rewrites the table
 * in day order, so that a day's rows sit together and `table(day)` reads only its own row groups. One table
 * scanned once a day cost days × sessions and, past memory_limit, read the spilled table back every day; a
 * table per day left a part-filled block per column of every day's table in memory (60 × 42 × 256 KB).
 * DuckDB spills the table and the sort to its temp folder past memory_limit. `drop` at the end.
 */
export interface DaySessionTables {
  /** Day `day`'s sessions, for SQL's FROM (after sortByDay). */
  table(day: number): string;
  add(s: SimSession): void;
  /** Sessions added since the last flush. */
  readonly buffered: number;
  flush(): Promise<void>;
  /** Close the appender and put the table in day order; call once, after the last add. */
  sortByDay(): Promise<void>;
  drop(): Promise<void>;
}

/** Sessions the appender may hold before a flush (a few MB). */
export const FLUSH_SESSIONS = 8192;

/**
 * Sessions put in day order by one ORDER BY; more are sorted a range of days at a time. Under the generator's 256 MiB,
 * one sort of 2.0M sessions (the 10M-event sample) fitted, one of ≈ 6M (30M events) ran out of memory ("failed to pin
 * block of size 256 KiB").
 */
export const SORT_SESSIONS = 1_000_000;

export async function openDaySessionTables(local: LocalLoading, days: number, opts: { sortSessions?: number } = {}): Promise<DaySessionTables> {
  const { connection: conn, ident: q } = local;
  const drawn = `fc_demo_sessions_${process.pid}`;
  const byDay = `fc_demo_sessions_by_day_${process.pid}`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${q(drawn)} (${SESSION_COLUMNS.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`);
  const types = SESSION_COLUMNS.map(([, t]) => t);
  const a = await conn.createAppender(drawn, "main", "temp");
  let open = true;
  let buffered = 0;
  let added = 0;
  const close = (): void => {
    if (open) a.closeSync();
    open = false;
  };
  return {
    table: (day) => `(SELECT * FROM temp.main.${q(byDay)} WHERE day = ${day})`,
    add(s: SimSession): void {
      if (!(s.day >= 0 && s.day < days)) throw new Error(`session ${s.key} is on day ${s.day}, outside the ${days} days simulated`);
      const cells = sessionCells(s);
      for (let i = 0; i < types.length; i++) local.appendCell(a, types[i]!, cells[i] ?? null);
      a.endRow();
      buffered++;
      added++;
    },
    get buffered(): number {
      return buffered;
    },
    async flush(): Promise<void> {
      if (open) a.flushSync();
      buffered = 0;
    },
    async sortByDay(): Promise<void> {
      close();
      // Ranges of days of about sortSessions sessions each (days are about equally full), each sorted and appended in
      // turn: the table ends in day order as from one sort, and each pass reads the drawn table once.
      const parts = Math.min(days, Math.max(1, Math.ceil(added / (opts.sortSessions ?? SORT_SESSIONS))));
      const per = Math.ceil(days / parts);
      for (let from = 0; from < days; from += per) {
        const range = `SELECT * FROM temp.main.${q(drawn)}${parts > 1 ? ` WHERE day >= ${from} AND day < ${from + per}` : ""} ORDER BY day`;
        await conn.run(from === 0 ? `CREATE OR REPLACE TEMP TABLE ${q(byDay)} AS ${range}` : `INSERT INTO temp.main.${q(byDay)} ${range}`);
      }
      await conn.run(`DROP TABLE temp.main.${q(drawn)}`);
    },
    async drop(): Promise<void> {
      close();
      await conn.run(`DROP TABLE IF EXISTS temp.main.${q(drawn)}; DROP TABLE IF EXISTS temp.main.${q(byDay)}`);
    },
  };
}
