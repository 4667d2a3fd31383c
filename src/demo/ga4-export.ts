/**
 * Writing a GA4 BigQuery export from simulated sessions: one `events_YYYYMMDD` table per day and
 * `events_intraday_` copies of the last days. Shared by the demo and the accuracy benchmark, so both produce
 * events the same way.
 */
import type { LocalLoading } from "../engines/engine.ts";
import { ga4LocalTypes } from "../import/ga4-schema.ts";
import type { SimSession } from "./sim-rows.ts";
import { eventsSql, eventWindowsSql } from "./ga4-events-sql.ts";
import { byteSize } from "../util/byte-size.ts";
import { FLUSH_SESSIONS, openDaySessionTables, type DaySessionTables } from "./session-table.ts";

/**
 * DuckDB's memory per event row while a day's events are sorted: the row carries its session's columns (the
 * sort runs before the lists and structs are built). Measured: 143 MB (1 thread) and 174 MB (2 threads) of
 * ORDER_BY for 193,645 events of a 750k-user day, ≈ 0.75–0.95 KB a row.
 */
const SORTED_EVENT_BYTES = 1024;
/**
 * Share of memory_limit one statement's sort may take: the rest holds the rows being inserted, the session
 * table's pages and what a thread pins. Sorting a whole 10M-event day (≈ 190k events) under 256 MiB took
 * 140–175 MB beside the rows being inserted, and the 750k-user × 60-day sample ran out of memory on its 58th day table.
 */
const SORT_SHARE = 0.25;

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
 * Expand sessions sorted by day (session-table.ts) into a GA4 BigQuery export: one `events_YYYYMMDD` table
 * per day (replaced) and `events_intraday_` copies of the last `intradayDays`. Each day is one
 * INSERT … SELECT over that day's sessions, so the events are never all in memory at once.
 */
export async function expandSessions(local: LocalLoading, sessions: Pick<DaySessionTables, "table">, opts: Ga4ExportOptions): Promise<{ events: number; tables: string[] }> {
  const { connection: conn, ident: q } = local;
  const columnsDdl = ga4LocalTypes(local.columnType).columnsDdl;
  const { ga4Schema: ga4, startMs, days, seed, intradayDays } = opts;
  const tables: string[] = [];
  let events = 0;
  const limit = byteSize(String((await conn.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0]![0]));
  // A limit it cannot read: each day in one statement, as before windows.
  const perStatement = Number.isFinite(limit) ? Math.max(1, Math.floor((SORT_SHARE * limit) / SORTED_EVENT_BYTES)) : Infinity;
  for (let day = 0; day < days; day++) {
    const table = `events_${dayString(startMs, day)}`;
    const target = `${q(ga4)}.${q(table)}`;
    await conn.run(`CREATE OR REPLACE TABLE ${target} (${columnsDdl})`);
    events += await insertDay(local, target, sessions.table(day), seed, perStatement);
    tables.push(`${ga4}.${table}`);
    await local.checkpointWhenHolding();
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
 * Insert one day's events into `target`, in the order eventsSql sorts them. A day with more than `perStatement`
 * events is inserted in event-timestamp windows of at most about that many (eventWindowsSql), one INSERT each,
 * in time order and in one transaction: each sort holds a window, not the day, and the table gets the same rows
 * in the same order. Returns the rows inserted.
 */
async function insertDay(local: LocalLoading, target: string, sessionsTable: string, seed: number, perStatement: number): Promise<number> {
  const conn = local.connection;
  const count = Number((await conn.runAndReadAll(`SELECT coalesce(sum(length(codes)), 0) FROM ${sessionsTable}`)).getRows()[0]![0]);
  const windows = Math.ceil(count / perStatement);
  if (windows <= 1) return Number((await conn.run(`INSERT INTO ${target} BY NAME ${eventsSql(local, sessionsTable, seed)}`)).rowsChanged);
  const bounds = (await conn.runAndReadAll(eventWindowsSql(sessionsTable, seed, windows))).getRows().map((r) => BigInt(r[0] as bigint));
  let rows = 0;
  await conn.run("BEGIN TRANSACTION");
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      if (bounds[k] === bounds[k + 1]) continue;
      rows += Number((await conn.run(`INSERT INTO ${target} BY NAME ${eventsSql(local, sessionsTable, seed, { from: bounds[k]!, to: bounds[k + 1]! })}`)).rowsChanged);
    }
    await conn.run("COMMIT");
  } catch (e) {
    await conn.run("ROLLBACK");
    throw e;
  }
  if (rows !== count) throw new Error(`demo: day table ${target} got ${rows} events in ${windows} windows, expected ${count}`);
  return rows;
}

/**
 * Expand simulated sessions into a GA4 BigQuery export: one `events_YYYYMMDD` table per day (replaced) and
 * `events_intraday_` copies of the last `intradayDays`. Shared by the demo and the accuracy benchmark, so both
 * produce events the same way. Returns the events written and the tables, `schema.table`.
 */
export async function writeGa4Export(local: LocalLoading, sessions: Iterable<SimSession>, opts: Ga4ExportOptions): Promise<{ events: number; tables: string[] }> {
  const tables = await openDaySessionTables(local, opts.days);
  try {
    for (const s of sessions) {
      tables.add(s);
      if (tables.buffered >= FLUSH_SESSIONS) await tables.flush();
    }
    await tables.sortByDay();
    opts.onStep?.();
    return await expandSessions(local, tables, opts);
  } finally {
    await tables.drop();
  }
}
