/**
 * Rows of the `custom_events` source (the custom-events contract itself; custom-sources.ts writes the two
 * analyst-owned tables in their own shapes): e-mail clicks, call-centre calls (some ending in an offline,
 * CRM-only order) and a few intentionally invalid rows the staging model must quarantine. Each kind draws
 * from its own stream ("email", "calls", "invalid_rows").
 */
import { DEMO_PRODUCTS, type DemoChannel, type DemoPlace } from "./world.ts";
import type { Rng } from "./prng.ts";
import type { SimCustomEvent, SimTransactionRow } from "./sim-rows.ts";
import { iso, money, pad } from "./format.ts";

/** The click in the newsletter that brought an e-mail session, a few seconds to a minute and a half before it. */
export function emailClick(rng: Rng, c: { sessionStartMs: number; userId: string | null; clientId: string; channel: DemoChannel; campaign: string; place: DemoPlace }): SimCustomEvent {
  return {
    name: "email_click",
    category: "email",
    time: iso(c.sessionStartMs - rng.int(3, 90) * 1000),
    user_id: c.userId,
    client_id: c.clientId,
    transaction_id: null,
    revenue: null,
    cost: null,
    utm_source: c.channel.source,
    utm_medium: c.channel.medium,
    utm_campaign: c.campaign,
    utm_term: null,
    utm_content: rng.pick(["header_link", "product_tile", "footer"]),
    geo_region: c.place.region,
  };
}

interface CallContext {
  userId: string | null;
  /** The user's CRM id, used when an order makes the caller known. */
  newUserId: string;
  place: DemoPlace;
  startMs: number;
  endMs: number;
  nextOrderId: () => string;
}

/** A user phones the call centre (3 % of users); 45 % of calls end in an offline, CRM-only order. */
export function drawCall(rng: Rng, c: CallContext): { event: SimCustomEvent; transaction: SimTransactionRow | null; userId: string | null } | null {
  if (!rng.chance(0.03)) return null;
  const callMs = c.startMs + Math.floor(rng.next() * (c.endMs - c.startMs - 3_600_000));
  const order = rng.chance(0.45);
  let userId = c.userId;
  let transaction: SimTransactionRow | null = null;
  if (order) {
    userId ??= c.newUserId;
    const product = rng.pick(DEMO_PRODUCTS);
    const rev = money(product.price * rng.int(1, 5));
    transaction = {
      transaction_id: c.nextOrderId(),
      user_id: userId,
      client_id: null,
      transaction_created: (callMs + rng.int(60, 1200) * 1000) * 1000,
      transaction_status: rng.pick(["completed", "cancelled"], (x) => (x === "completed" ? 93 : 7)),
      transaction_revenue: rev,
      transaction_region: c.place.region,
    };
  }
  const event: SimCustomEvent = {
    name: "call",
    category: "call_centre",
    time: iso(callMs),
    user_id: userId,
    client_id: null,
    transaction_id: transaction?.transaction_id ?? null,
    revenue: transaction ? transaction.transaction_revenue.toFixed(2) : null,
    cost: (2.5 + rng.int(0, 400) / 100).toFixed(2),
    utm_source: "phone",
    utm_medium: "offline",
    utm_campaign: order ? "phone_orders" : "support",
    utm_term: null,
    utm_content: null,
    geo_region: c.place.region,
  };
  return { event, transaction, userId };
}

/** The share of bad rows past which a run fails (vars.bad_row_max_share's default): a demo's sample stays within it. */
const DEFAULT_BAD_ROW_MAX_SHARE = 0.05;

/**
 * Intentionally invalid custom-event rows the staging model must quarantine: 0.2 % of the events × 3
 * kinds (no id at all; an unparseable time; a negative revenue), well under the default warning share. Where 0.2 %
 * rounds to none (fewer than 250 valid events), one row of each kind while the rows stay within the default
 * vars.bad_row_max_share (5 %), so fewer (the kinds in order) in a sample of fewer than 57 valid events, none below 19:
 * three rows regardless made 3 of 23 events (13 %) at 300 users × 14 days, the demo ended FAILED and so did every
 * `run` after it.
 */
export function invalidCustomEvents(rng: Rng, validCount: number, c: { users: number; uw: number; startMs: number; endMs: number }): SimCustomEvent[] {
  const perKind = Math.round(validCount * 0.002);
  // r bad rows among validCount + r stay within the share while r ≤ validCount × share / (1 − share).
  const rows = perKind >= 1 ? 3 * perKind : Math.min(3, Math.floor((validCount * DEFAULT_BAD_ROW_MAX_SHARE) / (1 - DEFAULT_BAD_ROW_MAX_SHARE) + 1e-9));
  const bad: SimCustomEvent[] = [];
  for (let i = 0; bad.length < rows; i++) {
    const base: SimCustomEvent = {
      name: "call",
      category: "call_centre",
      time: iso(c.startMs + Math.floor(rng.next() * (c.endMs - c.startMs))),
      user_id: null,
      client_id: null,
      transaction_id: null,
      revenue: null,
      cost: "3.10",
      utm_source: "phone",
      utm_medium: "offline",
      utm_campaign: "support",
      utm_term: null,
      utm_content: null,
      geo_region: null,
    };
    bad.push({ ...base }); // no id at all
    bad.push({ ...base, user_id: `U${pad(rng.int(1, c.users), c.uw)}`, time: rng.chance(0.5) ? "yesterday afternoon" : "2024-02-30 25:61:00" });
    bad.push({ ...base, user_id: `U${pad(rng.int(1, c.users), c.uw)}`, transaction_id: `O${pad(900000 + i, 6)}`, revenue: "-49.90", utm_campaign: "phone_orders" });
  }
  return bad.slice(0, rows);
}
