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

/** Where `simulateRows` hands each row as it is drawn. */
export interface SimSinks {
  session(s: SimSession): void;
  transaction(t: SimTransactionRow): void;
  customEvent(e: SimCustomEvent): void;
  lead(l: SimLead): void;
}

/**
 * What `simulateRows` returns after handing out its rows: the counts, the costs (one row per paid
 * campaign-day, small) and the intentionally invalid custom events with the place each takes among the
 * valid ones. The tables' order, from what was handed out (simulateStream applies it in JS, the demo
 * generator in SQL): transactions by (transaction_created, transaction_id, order drawn), leads by
 * (created_at, order drawn), custom events in the order drawn with each invalid row inserted at `at`, the
 * index it takes in the list at its turn (invalid rows in the order listed).
 */
export interface SimTotals {
  sessionCount: number;
  /** Valid custom events handed out. */
  customEventCount: number;
  invalidCustomEvents: { row: SimCustomEvent; at: number }[];
  costs: SimCostRow[];
  users: number;
  pseudoIds: number;
}

/** Simulate the whole demo world, sessions in memory. Deterministic in `opts`. */
export function simulate(opts: SimOptions): SimResult {
  const sessions: SimSession[] = [];
  const rest = simulateStream(opts, (s) => sessions.push(s));
  return { ...rest, sessions };
}

/**
 * Simulate the whole demo world, handing each session to `onSession` as it is drawn (user by user, in the
 * order `simulate` lists them) instead of keeping them. The other rows (transactions, custom events, leads)
 * are kept and put in their tables' order (SimTotals). Same `opts` → the same sessions in the same order as `simulate`.
 */
export function simulateStream(opts: SimOptions, onSession: (s: SimSession) => void): SimStreamResult {
  const transactions: SimTransactionRow[] = [];
  const customEvents: SimCustomEvent[] = [];
  const leads: SimLead[] = [];
  const totals = runToEnd(simulateRows(opts, {
    session: onSession,
    transaction: (t) => transactions.push(t),
    customEvent: (e) => customEvents.push(e),
    lead: (l) => leads.push(l),
  }));
  for (const b of totals.invalidCustomEvents) customEvents.splice(b.at, 0, b.row);
  // Array.prototype.sort is stable: ties keep the order drawn.
  transactions.sort((a, b) => a.transaction_created - b.transaction_created || (a.transaction_id < b.transaction_id ? -1 : a.transaction_id > b.transaction_id ? 1 : 0));
  leads.sort((a, b) => a.created_at - b.created_at);
  const { sessionCount, costs, users, pseudoIds } = totals;
  return { sessionCount, transactions, customEvents, costs, leads, users, pseudoIds };
}

/** Run a generator to its end, ignoring what it yields; its return value. */
export function runToEnd<R>(g: Generator<unknown, R>): R {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/**
 * Simulate the whole demo world, handing every row to `sinks` as it is drawn and keeping none but the
 * costs' tally: memory stays flat in the number of users. Yields after each user, so that a caller can
 * write what it buffered before going on (the demo generator awaits its writes there). Same `opts` → the
 * same rows in the same order.
 */
export function* simulateRows(opts: SimOptions, sinks: SimSinks): Generator<void, SimTotals> {
  const streams: JourneyStreams = { web: createRng(opts.seed), leads: streamRng(opts.seed, "leads"), email: streamRng(opts.seed, "email") };
  const callRng = streamRng(opts.seed, "calls");
  const badRng = streamRng(opts.seed, "invalid_rows");
  const costRng = streamRng(opts.seed, "costs");
  const { users, days, startMs } = opts;
  let customEventCount = 0;
  const journeySinks: JourneySinks = {
    onSession: sinks.session,
    transactions: { push: (...rows) => rows.forEach(sinks.transaction) },
    customEvents: { push: (...rows) => rows.forEach((e) => { customEventCount++; sinks.customEvent(e); }) },
    leads: { push: (...rows) => rows.forEach(sinks.lead) },
    paidSessions: new Map(),
  };
  const counters: JourneyCounters = { sessionKey: 0, transactions: 0, leads: 0, pseudoIds: 0 };
  const endMs = startMs + days * DAY_MS;
  const uw = Math.max(6, String(users).length + 1);
  let offlineCounter = 0;

  for (let u = 0; u < users; u++) {
    const user = simulateWebUser(streams, u, { days, startMs, uw }, counters, journeySinks);
    // Call centre: some users phone in; some calls end in an offline (CRM-only) order.
    const call = drawCall(callRng, { userId: user.userId, newUserId: user.newUserId, place: user.place, startMs, endMs, nextOrderId: () => `O${pad(++offlineCounter, 6)}` });
    if (call) {
      if (call.transaction) journeySinks.transactions.push(call.transaction);
      // The call-centre export holds the calls it could tie to a person (a CRM user; orders always
      // are): an anonymous caller's call has no id to export. Left in, such calls made 10–15 % of the
      // custom events invalid, past vars.bad_row_max_share, and every `run` after the demo failed.
      if (call.event.user_id !== null) journeySinks.customEvents.push(call.event);
    }
    yield;
  }

  const bad = invalidCustomEvents(badRng, customEventCount, { users, uw, startMs, endMs });
  const invalid = bad.map((row, j) => ({ row, at: badRng.int(0, customEventCount + j) }));
  const costs = costRows(costRng, journeySinks.paidSessions, { startMs, days });
  return { sessionCount: counters.sessionKey, customEventCount, invalidCustomEvents: invalid, costs, users, pseudoIds: counters.pseudoIds };
}

/**
 * Where the invalid custom events end up when each is inserted at its `at` (SimTotals), as sort keys that
 * need no list: `validBefore`, the number of valid events before it, and `slot`, its index in the final
 * list (orders invalid rows with the same `validBefore`). Valid event i sorts as (i, after every invalid
 * row with validBefore = i). Inserting into a list of all events would cost O(events × invalid rows).
 */
export function invalidEventPlaces(ats: readonly number[]): { validBefore: number; slot: number }[] {
  // The last insert keeps its index; an earlier one takes the at-th slot not taken by a later insert.
  const taken: number[] = []; // sorted
  const countUpTo = (s: number): number => {
    let lo = 0;
    let hi = taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (taken[mid]! <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const slots = new Array<number>(ats.length);
  for (let j = ats.length - 1; j >= 0; j--) {
    const at = ats[j]!;
    let s = at;
    for (;;) {
      const next = at + countUpTo(s);
      if (next === s) break;
      s = next;
    }
    slots[j] = s;
    taken.splice(countUpTo(s), 0, s);
  }
  return slots.map((slot) => ({ slot, validBefore: slot - countUpTo(slot - 1) }));
}
