/**
 * Writing a GA4 BigQuery export from simulated sessions: one `events_YYYYMMDD` table per day and
 * `events_intraday_` copies of the last days. Shared by the demo and the accuracy benchmark, so both produce
 * events the same way.
 */
import type { LocalLoading } from "../engines/engine.ts";
import { ga4LocalTypes } from "../import/ga4-schema.ts";
import type { SimSession } from "./sim-rows.ts";
import { eventsSql } from "./ga4-events-sql.ts";
import { FLUSH_SESSIONS, openDaySessionTables, type DaySessionTables } from "./session-table.ts";

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
  for (let day = 0; day < days; day++) {
    const table = `events_${dayString(startMs, day)}`;
    const target = `${q(ga4)}.${q(table)}`;
    await conn.run(`CREATE OR REPLACE TABLE ${target} (${columnsDdl})`);
    const r = await conn.run(`INSERT INTO ${target} BY NAME ${eventsSql(local, sessions.table(day), seed)}`);
    events += Number(r.rowsChanged);
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
