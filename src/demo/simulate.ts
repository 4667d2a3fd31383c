/**
 * The demo shop simulated at session grain, in JS from seeded PRNG streams: users with one or more devices
 * (one GA4 `user_pseudo_id` each), logged-in and anonymous sessions, channels with true effects, a funnel
 * with drop-off, purchases, CRM transactions, call-centre and e-mail events, costs and B2B leads.
 * generate.ts expands sessions into GA4 events in DuckDB SQL. Pure: no I/O.
 *
 * Each part draws from its own stream (streamRng): the web (users, sessions, funnel, purchases: journeys.ts),
 * leads (leads.ts), e-mail clicks and the call centre and the invalid rows (custom-events.ts) and the costs
 * (costs.ts). Tuning one part (more leads, a stronger lead signal) leaves every other part's draws, and so its
 * rows, unchanged.
 */
import { createRng, streamRng } from "./prng.ts";
import type { SimCostRow, SimCustomEvent, SimLead, SimSession, SimTransactionRow } from "./sim-rows.ts";
import { DAY_MS, pad } from "./format.ts";
import { simulateWebUser, type JourneyCounters, type JourneySinks, type JourneyStreams } from "./journeys.ts";
import { drawCall, invalidCustomEvents } from "./custom-events.ts";
import { costRows } from "./costs.ts";

export interface SimResult extends SimStreamResult {
  sessions: SimSession[];
}

/** What `simulateStream` keeps: everything but the sessions, which it hands out one at a time. */
export interface SimStreamResult {
  /** Sessions handed out. */
  sessionCount: number;
  transactions: SimTransactionRow[];
  customEvents: SimCustomEvent[];
  costs: SimCostRow[];
  leads: SimLead[];
  users: number;
  pseudoIds: number;
}

export interface SimOptions {
  users: number;
  days: number;
  /** Epoch millis of 00:00 UTC of the first day. */
  startMs: number;
  seed: number;
}

/** Simulate the whole demo world, sessions in memory. Deterministic in `opts`. */
export function simulate(opts: SimOptions): SimResult {
  const sessions: SimSession[] = [];
  const rest = simulateStream(opts, (s) => sessions.push(s));
  return { ...rest, sessions };
}

/**
 * Simulate the whole demo world, handing each session to `onSession` as it is drawn (user by user, in the
 * order `simulate` lists them) instead of keeping them: memory stays flat in the number of sessions. The
 * other rows (transactions, custom events, costs, leads) are a few per cent of the sessions and are kept,
 * since their order needs all of them. Same `opts` → the same sessions in the same order as `simulate`.
 */
export function simulateStream(opts: SimOptions, onSession: (s: SimSession) => void): SimStreamResult {
  const streams: JourneyStreams = { web: createRng(opts.seed), leads: streamRng(opts.seed, "leads"), email: streamRng(opts.seed, "email") };
  const callRng = streamRng(opts.seed, "calls");
  const badRng = streamRng(opts.seed, "invalid_rows");
  const costRng = streamRng(opts.seed, "costs");
  const { users, days, startMs } = opts;
  const sinks: JourneySinks = { onSession, transactions: [], customEvents: [], leads: [], paidSessions: new Map() };
  const { transactions, customEvents, leads } = sinks;
  const counters: JourneyCounters = { sessionKey: 0, transactions: 0, leads: 0, pseudoIds: 0 };
  const endMs = startMs + days * DAY_MS;
  const uw = Math.max(6, String(users).length + 1);
  let offlineCounter = 0;

  for (let u = 0; u < users; u++) {
    const user = simulateWebUser(streams, u, { days, startMs, uw }, counters, sinks);
    // Call centre: some users phone in; some calls end in an offline (CRM-only) order.
    const call = drawCall(callRng, { userId: user.userId, newUserId: user.newUserId, place: user.place, startMs, endMs, nextOrderId: () => `O${pad(++offlineCounter, 6)}` });
    if (call) {
      if (call.transaction) transactions.push(call.transaction);
      // The call-centre export holds the calls it could tie to a person (a CRM user; orders always
      // are): an anonymous caller's call has no id to export. Left in, such calls made 10–15 % of the
      // custom events invalid, past vars.bad_row_max_share, and every `run` after the demo failed.
      if (call.event.user_id !== null) customEvents.push(call.event);
    }
  }

  const bad = invalidCustomEvents(badRng, customEvents.length, { users, uw, startMs, endMs });
  for (const b of bad) customEvents.splice(badRng.int(0, customEvents.length), 0, b);
  const costs = costRows(costRng, sinks.paidSessions, { startMs, days });

  transactions.sort((a, b) => a.transaction_created - b.transaction_created || (a.transaction_id < b.transaction_id ? -1 : a.transaction_id > b.transaction_id ? 1 : 0));
  leads.sort((a, b) => a.created_at - b.created_at);
  return { sessionCount: counters.sessionKey, transactions, customEvents, costs, leads, users, pseudoIds: counters.pseudoIds };
}
