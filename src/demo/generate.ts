/**
 * Deterministic demo data: a GA4 export (`events_YYYYMMDD` per day, a few `events_intraday_` copies of the
 * last days), CRM transactions, custom events (with a few intentionally invalid rows), costs and leads.
 *
 * How: simulate.ts decides everything at session grain in JS from seeded PRNG streams (users, devices, channels,
 * funnel depth, purchases, leads: journeys.ts and the files it names) and hands every row out as it is drawn;
 * nothing grows in JS memory with the size. Sessions go through the appender into a TEMP table, sorted by day once
 * drawn (session-table.ts), and DuckDB expands each day into GA4-shaped events, one INSERT per day (ga4-export.ts),
 * with per-event detail (timestamps jitter, pages, bundle ids) from `hash(session_key, event_index, seed)`
 * (ga4-events-sql.ts). The other sources are appended as they are drawn and put in order at the end, with the
 * importers' DDL (source-tables.ts, custom-sources.ts). DuckDB runs under at most GENERATE_MEMORY_LIMIT while
 * it generates and spills past it. Same seed → the same rows in every table, in the same order: the engine
 * opens with preserve_insertion_order off, so each table's order comes from an ORDER BY on narrow keys (event
 * rows: event_timestamp, session, event index). Compare tables with checksums all the same.
 * Determinism relies on DuckDB's `hash()`, stable within one DuckDB version.
 */
import type { LocalLoading } from "../engines/engine.ts";
import { openCustomSourceTables } from "./custom-sources.ts";
import { simulateRows, type SimTotals } from "./simulate.ts";
import { expandSessions } from "./ga4-export.ts";
import { FLUSH_SESSIONS, openDaySessionTables } from "./session-table.ts";
import { byteSize } from "../util/byte-size.ts";
import { streamCrmTransactions, streamCustomEvents, streamLeads, writeCosts } from "./source-tables.ts";

/**
 * DuckDB's memory_limit while the demo is generated (a lower limit of the engine stays): the generator's
 * statements are one day's events at a time and spill past it. DuckDB's RSS runs a few hundred MB past its
 * limit; at 512 MiB the process passed 1 GB at 10M events, at 256 MiB it stays well under (figures: the
 * README's Measured). The engine's own limit is restored afterwards, for the run that follows.
 */
export const GENERATE_MEMORY_LIMIT_BYTES = 256 * 2 ** 20;

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
  /** DuckDB's memory_limit while generating, bytes (never raised above the engine's). Default GENERATE_MEMORY_LIMIT_BYTES. */
  memoryLimitBytes?: number;
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

/**
 * Generate the demo warehouse. Replaces the tables it writes. Prints nothing; reports progress through
 * `onProgress(done, total)` (total = days + intraday days + 2: the simulation streamed into DuckDB, each day and intraday table, the source tables).
 */
export async function generateDemo(local: LocalLoading, opts: DemoOptions = {}): Promise<DemoResult> {
  const { connection: conn, ident: q } = local;
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
  const restoreMemoryLimit = await lowerMemoryLimit(local, opts.memoryLimitBytes ?? GENERATE_MEMORY_LIMIT_BYTES);
  const sessions = await openDaySessionTables(local, days);
  const transactions = await streamCrmTransactions(local, src);
  const customEvents = await streamCustomEvents(local, src);
  const leads = await streamLeads(local, src);
  const customRows = await openCustomSourceTables(local, src, seed);
  let ga4Written: { events: number; tables: string[] };
  let sim: SimTotals;
  try {
    const steps = simulateRows({ users, days, startMs, seed }, {
      session: (s) => {
        sessions.add(s);
        customRows.add(s);
      },
      transaction: transactions.push,
      customEvent: customEvents.push,
      lead: leads.push,
    });
    // The simulation yields after each user: write what it buffered.
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) {
        sim = step.value;
        break;
      }
      if (sessions.buffered >= FLUSH_SESSIONS) await sessions.flush();
      if (customRows.buffered >= FLUSH_SESSIONS) await customRows.flush();
    }
    await sessions.sortByDay();
    progress();
    ga4Written = await expandSessions(local, sessions, { ga4Schema: ga4, startMs, days, seed, intradayDays, onStep: progress });
    tables.push(...ga4Written.tables);

    // Source tables: same DDL as the importers write.
    await transactions.finish();
    await customEvents.finishWith(sim.invalidCustomEvents);
    await writeCosts(local, src, sim.costs);
    await leads.finish();
    tables.push(...["crm_transactions", "custom_events", "costs", "leads"].map((t) => `${src}.${t}`));
    tables.push(...await customRows.finish());
    progress();
  } finally {
    await sessions.drop();
    for (const t of [transactions, customEvents, leads]) await t.drop();
    await restoreMemoryLimit();
  }
  const events = ga4Written.events;

  const txIds = Number((await conn.runAndReadAll(`SELECT count(DISTINCT transaction_id) FROM ${q(src)}.crm_transactions`)).getRows()[0]![0]);
  return { events, sessions: sim.sessionCount, users: sim.users, transactions: txIds, tables };
}

/**
 * Lower DuckDB's memory_limit to `bytes` if it is higher (never raise it); returns what puts the engine's
 * limit back. A limit it cannot read is left alone.
 */
async function lowerMemoryLimit(local: LocalLoading, bytes: number): Promise<() => Promise<void>> {
  const conn = local.connection;
  const before = String((await conn.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0]![0]);
  if (!(byteSize(before) > bytes)) return async () => {};
  await conn.run(`SET memory_limit = '${Math.floor(bytes / 2 ** 20)}MiB'`);
  return async () => {
    await conn.run(`SET memory_limit = ${local.literal(before)}`);
  };
}
