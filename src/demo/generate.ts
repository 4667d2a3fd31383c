/**
 * Deterministic demo data: a GA4 export (`events_YYYYMMDD` per day, a few `events_intraday_` copies of the
 * last days), CRM transactions, custom events (with a few intentionally invalid rows), costs and leads.
 *
 * How: simulate.ts decides everything at session grain in JS from seeded PRNG streams (users, devices, channels,
 * funnel depth, purchases, leads: journeys.ts and the files it names); the sessions stream, as they are drawn,
 * into a TEMP table through the appender (session-table.ts, never all in JS memory at once) and DuckDB expands
 * them into GA4-shaped events, one INSERT per day (ga4-export.ts), with per-event detail (timestamps jitter,
 * pages, bundle ids) from `hash(session_key, event_index, seed)` (ga4-events-sql.ts); the other sources are
 * written with the importers' DDL (source-tables.ts). Same seed → the same rows in every table.
 * Event rows are inserted in (event_timestamp, session, event index) order; DuckDB keeps it while
 * preserve_insertion_order is on (its default), so compare tables with order-independent checksums.
 * Determinism relies on DuckDB's `hash()`, stable within one DuckDB version.
 */
import type { LocalLoading } from "../engines/engine.ts";
import { customSourceRows } from "./custom-sources.ts";
import { simulateStream, type SimStreamResult } from "./simulate.ts";
import { expandSessions } from "./ga4-export.ts";
import { openSessionTable } from "./session-table.ts";
import { writeCosts, writeCrmTransactions, writeCustomEvents, writeLeads } from "./source-tables.ts";

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
  // Sessions stream from the simulation into the appender (and into the call-centre / webinar rows drawn
  // from them): at 10M events, keeping them as JS objects was most of the generator's 4.5 GB.
  const sessionTable = await openSessionTable(local);
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
  await writeCrmTransactions(local, src, sim.transactions);
  await writeCustomEvents(local, src, sim.customEvents);
  await writeCosts(local, src, sim.costs);
  await writeLeads(local, src, sim.leads);
  tables.push(...["crm_transactions", "custom_events", "costs", "leads"].map((t) => `${src}.${t}`));
  tables.push(...await customRows.write(local, src));
  progress();

  const txIds = new Set(sim.transactions.map((t) => t.transaction_id));
  return { events, sessions: sim.sessionCount, users: sim.users, transactions: txIds.size, tables };
}
