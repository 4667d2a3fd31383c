/**
 * The demo shop simulated at session grain, in JS from seeded PRNG streams: users with one or more devices
 * (one GA4 `user_pseudo_id` each), logged-in and anonymous sessions, channels with true effects, a funnel
 * with drop-off, purchases, CRM transactions, call-centre and e-mail events, costs and B2B leads.
 * generate.ts expands sessions into GA4 events in DuckDB SQL. Pure: no I/O.
 *
 * Each part draws from its own stream (streamRng): the web (users, sessions, funnel, purchases), leads,
 * e-mail clicks, the call centre, the invalid rows and the costs. Tuning one part (more leads, a stronger
 * lead signal) leaves every other part's draws, and so its rows, unchanged.
 */
import {
  DEMO_CHANNELS,
  DEMO_COMPANY_SIZES,
  DEMO_DEVICE_PURCHASE_LIFT,
  DEMO_DEVICES,
  DEMO_INDUSTRIES,
  DEMO_LANGUAGES,
  DEMO_PLACES,
  DEMO_PRODUCTS,
  DEMO_SENIORITIES,
  type DemoChannel,
  type DemoDevice,
  type DemoPlace,
  type DemoProduct,
} from "./catalog.ts";
import { createRng, streamRng, type Rng } from "./prng.ts";

/** Event codes of a session, one character per event, in order. */
export const EVENT_CODES: Readonly<Record<string, string>> = {
  f: "first_visit",
  s: "session_start",
  p: "page_view",
  v: "view_item",
  a: "add_to_cart",
  b: "begin_checkout",
  $: "purchase",
  l: "generate_lead",
  e: "user_engagement",
};
/** Seconds between consecutive events of a session (plus up to EVENT_JITTER_SECONDS). */
export const EVENT_STEP_SECONDS = 20;
export const EVENT_JITTER_SECONDS = 15;

interface SimItem {
  product: DemoProduct;
  quantity: number;
}

export interface SimSession {
  key: number;
  day: number;
  /** Start, epoch micros. */
  ts: number;
  pseudoId: string;
  userId: string | null;
  gaSessionId: number;
  gaSessionNumber: number;
  codes: string;
  channel: DemoChannel;
  campaign: string;
  gclid: string | null;
  /** source/medium/campaign event params present (GA4 sometimes loses them). */
  sendSourceParams: boolean;
  landingPath: string;
  firstTouch: DemoChannel;
  firstTouchCampaign: string;
  firstTouchTs: number;
  device: DemoDevice;
  place: DemoPlace;
  language: string;
  items: SimItem[];
  transactionId: string | null;
  revenue: number | null;
  tax: number | null;
  shipping: number | null;
  /** User lifetime revenue before this session. */
  ltv: number;
  tier: string | null;
}

export interface SimTransactionRow {
  transaction_id: string;
  user_id: string | null;
  client_id: string | null;
  /** epoch micros */
  transaction_created: number;
  transaction_status: string;
  transaction_revenue: number;
  transaction_region: string;
}

/** Custom events keep raw strings, like a file would have them. */
interface SimCustomEvent {
  name: string;
  category: string | null;
  time: string | null;
  user_id: string | null;
  client_id: string | null;
  transaction_id: string | null;
  revenue: string | null;
  cost: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  geo_region: string | null;
}

interface SimCostRow {
  /** Days since 1970-01-01. */
  date: number;
  source: string;
  medium: string;
  campaign: string;
  cost: number;
  clicks: number;
  impressions: number;
}

interface SimLead {
  lead_id: string;
  created_at: number;
  converted_at: number | null;
  converted: boolean;
  user_id: string | null;
  client_id: string;
  company_size: string;
  employees: number;
  industry: string;
  job_seniority: string;
  country: string;
  annual_revenue_musd: number;
  newsletter_opt_in: boolean;
  lead_source: string;
  sessions_before_lead: number;
  viewed_items_before_lead: boolean;
}

interface SimResult extends SimStreamResult {
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

interface SimOptions {
  users: number;
  days: number;
  /** Epoch millis of 00:00 UTC of the first day. */
  startMs: number;
  seed: number;
}

const DAY_MS = 86_400_000;
const HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.6, 4.4, 4.5, 5, 5.5, 6.5, 7, 6, 4, 2];
const SITE_PAGES = ["/", "/collections/apparel", "/collections/drinkware", "/collections/bags", "/collections/office", "/collections/lifestyle", "/sale", "/new-arrivals"];
const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 0.95 ? 0.95 : x;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function money(x: number): number {
  return Math.round(x * 100) / 100;
}

interface DeviceState {
  pseudoId: string;
  profile: DemoDevice;
  sessions: number;
  firstTouch: DemoChannel | null;
  firstTouchCampaign: string;
  firstTouchTs: number;
  loggedIn: boolean;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function gclid(rng: Rng): string {
  let s = "Cj0KCQ";
  for (let i = 0; i < 24; i++) s += BASE62[rng.int(0, 61)];
  return s;
}

function landingPath(rng: Rng, ch: DemoChannel, products: readonly DemoProduct[]): string {
  if (ch.key === "direct") return rng.chance(0.7) ? "/" : "/account";
  if (ch.key === "display_retargeting" || ch.key === "email" || rng.chance(0.35)) {
    const p = rng.pick(products);
    return `/product/${p.id}`;
  }
  return rng.pick(SITE_PAGES);
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
  const rng = createRng(opts.seed);
  const leadRng = streamRng(opts.seed, "leads");
  const emailRng = streamRng(opts.seed, "email");
  const callRng = streamRng(opts.seed, "calls");
  const badRng = streamRng(opts.seed, "invalid_rows");
  const costRng = streamRng(opts.seed, "costs");
  const { users, days, startMs } = opts;
  const transactions: SimTransactionRow[] = [];
  const customEvents: SimCustomEvent[] = [];
  const leads: SimLead[] = [];
  const costSessions = new Map<string, number>();
  const endMs = startMs + days * DAY_MS;
  const uw = Math.max(6, String(users).length + 1);
  let sessionKey = 0;
  let txCounter = 0;
  let offlineCounter = 0;
  let leadCounter = 0;
  let pseudoIds = 0;

  for (let u = 0; u < users; u++) {
    const place = rng.pick(DEMO_PLACES, (p) => p.weight);
    const language = DEMO_LANGUAGES[place.country] ?? "en-us";
    let userId: string | null = rng.chance(0.22) ? `U${pad(u + 1, uw)}` : null;
    const nDevices = rng.pick([1, 2, 3], (n) => (n === 1 ? 68 : n === 2 ? 26 : 6));
    const devices: DeviceState[] = [];
    for (let d = 0; d < nDevices; d++) {
      const firstCategory = devices[0]?.profile.category;
      const profile = rng.pick(DEMO_DEVICES, (x) => (x.category === firstCategory ? x.weight * 0.2 : x.weight));
      devices.push({
        pseudoId: "",
        profile,
        sessions: 0,
        firstTouch: null,
        firstTouchCampaign: "",
        firstTouchTs: 0,
        loggedIn: false,
      });
    }
    // Latent purchase propensity (lognormal, median ≈ 0.7); channel and device effects multiply it. Its spread
    // is what no model sees: 0.45 leaves the channels, devices and paths enough weight that the ML attribution
    // model's test AUC stays clear of its publishing floor (ml_min_auc) on the demo.
    const propensity = Math.exp(0.45 * rng.normal() - 0.35);
    let carry = 1;
    const exposed = new Set<string>();
    let hadItemView = false;
    let hadCart = false;
    let ltv = 0;
    let leadDone = false;
    let sessionCount = 0;
    const tier = (): string => (ltv > 150 ? "gold" : ltv > 0 ? "customer" : "registered");

    let t = rng.next() * days * 0.97; // days since start, fractional
    // Registered users come back more often.
    const maxSessions = 1 + Math.min(30, Math.floor(rng.exp(userId ? 4 : 2)));
    for (let s = 0; s < maxSessions; s++) {
      const day = Math.floor(t);
      if (day >= days) break;
      const dev = s === 0 || devices.length === 1 || rng.chance(0.5) ? devices[0]! : devices[rng.int(1, devices.length - 1)]!;
      const eligible = DEMO_CHANNELS.filter(
        (c) => (!c.needsPriorItemView || hadItemView) && (!c.needsRegistration || userId !== null),
      );
      const channel =
        sessionCount === 0
          ? rng.pick(DEMO_CHANNELS, (c) => c.acquisitionWeight)
          : rng.pick(eligible, (c) => c.returnWeight * (c.key === "display_retargeting" && hadCart ? 2 : 1));
      const campaign = rng.pick(channel.campaigns);
      // Start time: a weighted hour, never later than 23:30 so a session stays inside its day.
      const hour = rng.pick(HOUR_WEIGHTS.map((_, h) => h), (h) => HOUR_WEIGHTS[h]!);
      const secondOfDay = Math.min(hour * 3600 + rng.int(0, 3599), 86400 - 1800);
      const tsMs = startMs + day * DAY_MS + secondOfDay * 1000 + rng.int(0, 999);
      const ts = tsMs * 1000 + rng.int(0, 999);

      if (dev.sessions === 0) {
        pseudoIds++;
        dev.pseudoId = `${rng.int(100000000, 2147483647)}.${Math.floor(tsMs / 1000)}`;
        dev.firstTouch = channel;
        dev.firstTouchCampaign = campaign;
        dev.firstTouchTs = ts;
      }
      dev.sessions++;
      sessionCount++;

      const loggedIn = userId !== null && (dev.loggedIn ? rng.chance(0.9) : rng.chance(0.55));
      if (loggedIn) dev.loggedIn = true;

      // Funnel with drop-off. m is the session's purchase-intent multiplier.
      if (!exposed.has(channel.key)) {
        exposed.add(channel.key);
        carry *= channel.carryLift;
      }
      const m = propensity * carry * channel.sessionLift * DEMO_DEVICE_PURCHASE_LIFT[dev.profile.category] * (sessionCount > 1 ? 1.25 : 1) * (hadCart ? 1.3 : 1);
      const pageViews = 1 + Math.min(14, Math.floor(rng.exp(1.6)));
      const viewed = rng.chance(clamp01(0.38 * Math.sqrt(m)));
      const carted = viewed && rng.chance(clamp01(0.25 * Math.pow(m, 0.7)));
      const checkout = carted && rng.chance(clamp01(0.55 * Math.pow(m, 0.3)));
      const purchased = checkout && rng.chance(clamp01(0.62 * Math.pow(m, 0.3)));
      const lead = !leadDone && leadRng.chance(LEAD_SESSION_RATE * (1 + (hadItemView ? 1 : 0) + (viewed ? 1 : 0)));

      let items: SimItem[] = [];
      if (viewed) {
        const n = carted ? rng.pick([1, 2, 3], (k) => (k === 1 ? 60 : k === 2 ? 30 : 10)) : 1;
        const chosen = new Set<DemoProduct>();
        while (chosen.size < n) chosen.add(rng.pick(DEMO_PRODUCTS, (p) => 60 / (p.price + 10)));
        items = [...chosen].map((product) => ({ product, quantity: carted && rng.chance(0.2) ? 2 : 1 }));
      }

      let transactionId: string | null = null;
      let revenue: number | null = null;
      let tax: number | null = null;
      let shipping: number | null = null;
      let trackedPurchase = false;
      if (purchased) {
        txCounter++;
        transactionId = `T${pad(txCounter, 7)}`;
        const subtotal = money(items.reduce((a, it) => a + it.product.price * it.quantity, 0));
        tax = money(subtotal * 0.08);
        shipping = subtotal >= 50 ? 0 : 5.99;
        revenue = money(subtotal + tax + shipping);
        // ~5 % of purchases never reach GA4 (ad blockers, closed tabs): CRM-only.
        trackedPurchase = rng.chance(0.95);
        if (userId === null && rng.chance(0.55)) userId = `U${pad(u + 1, uw)}`; // account created at checkout
        const status = rng.pick(["completed", "refunded", "cancelled"], (x) => (x === "completed" ? 90 : 5));
        const created = ts + (EVENT_STEP_SECONDS * (pageViews + 6) + rng.int(5, 300)) * 1_000_000;
        // One CRM row per product line (and one for shipping + tax), as CRMs export them.
        const crmId = transactionId; // a closure does not keep the narrowing to string
        const crmLine = (revenue: number): void => {
          transactions.push({
            transaction_id: crmId,
            user_id: userId,
            client_id: dev.pseudoId,
            transaction_created: created,
            transaction_status: status,
            transaction_revenue: revenue,
            transaction_region: place.region,
          });
        };
        for (const it of items) crmLine(money(it.product.price * it.quantity));
        if (shipping > 0) {
          crmLine(money(shipping + tax));
        } else {
          transactions[transactions.length - 1]!.transaction_revenue = money(
            transactions[transactions.length - 1]!.transaction_revenue + tax,
          );
        }
      }
      const sessionUserId = loggedIn || (purchased && userId !== null) ? userId : null;

      let codes = (dev.sessions === 1 ? "f" : "") + "s" + "p".repeat(pageViews);
      if (viewed) codes += "v";
      if (carted) codes += "a";
      if (checkout) codes += "b";
      if (purchased && trackedPurchase) codes += "$";
      if (lead) codes += "l";
      if (pageViews > 1 || viewed) codes += "e";

      onSession({
        key: sessionKey++,
        day,
        ts,
        pseudoId: dev.pseudoId,
        userId: sessionUserId,
        gaSessionId: Math.floor(tsMs / 1000),
        gaSessionNumber: dev.sessions,
        codes,
        channel,
        campaign,
        gclid: channel.gclid && rng.chance(0.92) ? gclid(rng) : null,
        sendSourceParams: sendsSourceParams(rng, channel),
        landingPath: landingPath(rng, channel, DEMO_PRODUCTS),
        firstTouch: dev.firstTouch!,
        firstTouchCampaign: dev.firstTouchCampaign,
        firstTouchTs: dev.firstTouchTs,
        device: dev.profile,
        place,
        language,
        items,
        transactionId: trackedPurchase ? transactionId : null,
        revenue: trackedPurchase ? revenue : null,
        tax: trackedPurchase ? tax : null,
        shipping: trackedPurchase ? shipping : null,
        ltv,
        tier: sessionUserId ? tier() : null,
      });

      if (channel.costPerClick > 0 || channel.dailyCost) {
        const k = `${day}|${channel.source}|${channel.medium}|${campaign}`;
        costSessions.set(k, (costSessions.get(k) ?? 0) + 1);
      }
      if (channel.key === "email") {
        customEvents.push({
          name: "email_click",
          category: "email",
          time: iso(tsMs - emailRng.int(3, 90) * 1000),
          user_id: userId,
          client_id: dev.pseudoId,
          transaction_id: null,
          revenue: null,
          cost: null,
          utm_source: channel.source,
          utm_medium: channel.medium,
          utm_campaign: campaign,
          utm_term: null,
          utm_content: emailRng.pick(["header_link", "product_tile", "footer"]),
          geo_region: place.region,
        });
      }
      if (lead) {
        leadDone = true;
        leadCounter++;
        if (userId === null && leadRng.chance(0.7)) userId = `U${pad(u + 1, uw)}`;
        const createdAt = ts + EVENT_STEP_SECONDS * (codes.indexOf("l") + 1) * 1_000_000;
        leads.push(drawLead(leadRng, {
          leadId: `L${pad(leadCounter, 6)}`, createdAt, userId, clientId: dev.pseudoId, place, channel,
          priorSessions: sessionCount - 1, viewedBefore: hadItemView, viewedNow: viewed, cartedEver: hadCart || carted,
        }));
      }
      if (viewed) hadItemView = true;
      if (carted && !purchased) hadCart = true;
      if (purchased) {
        hadCart = false;
        ltv += revenue ?? 0;
      }
      t += 0.01 + rng.exp(purchased ? 8 : userId ? 2 : 3.5);
    }

    // Call centre: some users phone in; some calls end in an offline (CRM-only) order.
    const call = drawCall(callRng, { userId, newUserId: `U${pad(u + 1, uw)}`, place, startMs, endMs, nextOrderId: () => `O${pad(++offlineCounter, 6)}` });
    if (call) {
      userId = call.userId;
      if (call.transaction) transactions.push(call.transaction);
      // The call-centre export holds the calls it could tie to a person (a CRM user; orders always
      // are): an anonymous caller's call has no id to export. Left in, such calls made 10–15 % of the
      // custom events invalid, past vars.bad_row_max_share, and every `run` after the demo failed.
      if (call.event.user_id !== null) customEvents.push(call.event);
    }
  }

  const bad = invalidCustomEvents(badRng, customEvents.length, { users, uw, startMs, endMs });
  for (const b of bad) customEvents.splice(badRng.int(0, customEvents.length), 0, b);
  const costs = costRows(costRng, costSessions, { startMs, days });

  transactions.sort((a, b) => a.transaction_created - b.transaction_created || (a.transaction_id < b.transaction_id ? -1 : a.transaction_id > b.transaction_id ? 1 : 0));
  leads.sort((a, b) => a.created_at - b.created_at);
  return { sessionCount: sessionKey, transactions, customEvents, costs, leads, users, pseudoIds };
}

// ---- parts with their own random stream ---------------------------------------------------------

/**
 * Chance that a session submits the bulk-order lead form, times 1 + (items viewed before) + (items viewed
 * now). About 4,000 leads at 20,000 users × 60 days: enough for a time split whose newest 15 % (the test
 * set) holds several hundred leads, so the lead-scoring figures on the demo mean something.
 */
const LEAD_SESSION_RATE = 0.05;

/**
 * GA4 fills the source/medium/campaign event params for every session with a traffic source: UTM-tagged
 * ones and also untagged search engines and referrers (google / organic, partner-blog / referral). Only
 * direct visits have none. A few sessions lose them anyway (consent banners, redirects stripping the
 * referrer): 3 %; a tagged landing URL still carries its utm_* and collected_traffic_source then.
 */
function sendsSourceParams(rng: Rng, ch: DemoChannel): boolean {
  return ch.source !== "(direct)" && rng.chance(0.97);
}

interface LeadContext {
  leadId: string;
  /** epoch micros */
  createdAt: number;
  userId: string | null;
  clientId: string;
  place: DemoPlace;
  channel: DemoChannel;
  priorSessions: number;
  viewedBefore: boolean;
  viewedNow: boolean;
  cartedEver: boolean;
}

/**
 * True lead-conversion model, in log-odds: behaviour before the lead (repeat visits, items viewed, a cart),
 * firmographics (size, industry, seniority), the channel that brought the lead and the newsletter opt-in.
 * Strong enough that a model can learn it from a few thousand leads (the true model's AUC ≈ 0.8), not so
 * strong that one column gives the label away (lead_leakage_max_auc).
 */
function leadLogit(c: LeadContext, size: (typeof DEMO_COMPANY_SIZES)[number], industry: (typeof DEMO_INDUSTRIES)[number], seniority: (typeof DEMO_SENIORITIES)[number], optIn: boolean): number {
  return -2.4 +
    0.3 * Math.min(c.priorSessions, 8) +
    (c.viewedBefore || c.viewedNow ? 0.6 : 0) +
    (c.cartedEver ? 0.9 : 0) +
    1.6 * size.effect +
    1.6 * industry.effect +
    1.6 * seniority.effect +
    (c.channel.key === "referral" || c.channel.key === "email" ? 0.6 : 0) +
    (optIn ? 0.4 : 0);
}

/** One B2B lead: firmographics, outcome (converted within weeks, or not) and what the CRM knows of its web visits. */
function drawLead(rng: Rng, c: LeadContext): SimLead {
  const size = rng.pick(DEMO_COMPANY_SIZES, (x) => x.weight);
  const industry = rng.pick(DEMO_INDUSTRIES, (x) => x.weight);
  const seniority = rng.pick(DEMO_SENIORITIES, (x) => x.weight);
  const employees = rng.int(size.employees[0], size.employees[1]);
  const optIn = rng.chance(0.4);
  const converted = rng.chance(1 / (1 + Math.exp(-leadLogit(c, size, industry, seniority, optIn))));
  return {
    lead_id: c.leadId,
    created_at: c.createdAt,
    converted_at: converted ? c.createdAt + Math.floor(rng.exp(14 * 86400) + 3600) * 1_000_000 : null,
    converted,
    user_id: c.userId,
    client_id: c.clientId,
    company_size: size.label,
    employees,
    industry: industry.label,
    job_seniority: seniority.label,
    country: c.place.country,
    annual_revenue_musd: money(employees * 0.12 * Math.exp(0.5 * rng.normal())),
    newsletter_opt_in: optIn,
    lead_source: c.channel.key,
    sessions_before_lead: c.priorSessions,
    viewed_items_before_lead: c.viewedBefore,
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
function drawCall(rng: Rng, c: CallContext): { event: SimCustomEvent; transaction: SimTransactionRow | null; userId: string | null } | null {
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

/**
 * Intentionally invalid custom-event rows the staging model must quarantine: 0.2 % of the events × 3
 * kinds (no id at all; an unparseable time; a negative revenue), well under the default warning share.
 */
function invalidCustomEvents(rng: Rng, validCount: number, c: { users: number; uw: number; startMs: number; endMs: number }): SimCustomEvent[] {
  const nBad = Math.max(1, Math.round(validCount * 0.002));
  const bad: SimCustomEvent[] = [];
  for (let i = 0; i < nBad; i++) {
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
  return bad;
}

/** Daily costs: paid clicks ≈ sessions × (1.08–1.23); cost = clicks × cpc × noise; e-mail has a fixed daily fee. */
function costRows(rng: Rng, costSessions: ReadonlyMap<string, number>, c: { startMs: number; days: number }): SimCostRow[] {
  const costs: SimCostRow[] = [];
  const startDay = Math.floor(c.startMs / DAY_MS);
  for (let day = 0; day < c.days; day++) {
    for (const ch of DEMO_CHANNELS) {
      if (!(ch.costPerClick > 0 || ch.dailyCost)) continue;
      for (const campaign of ch.campaigns) {
        const n = costSessions.get(`${day}|${ch.source}|${ch.medium}|${campaign}`) ?? 0;
        if (ch.dailyCost) {
          costs.push({ date: startDay + day, source: ch.source, medium: ch.medium, campaign, cost: ch.dailyCost / ch.campaigns.length, clicks: n, impressions: 0 });
          continue;
        }
        if (n === 0) continue;
        const clicks = Math.round(n * (1.08 + 0.15 * rng.next()));
        costs.push({
          date: startDay + day,
          source: ch.source,
          medium: ch.medium,
          campaign,
          cost: money(clicks * ch.costPerClick * (0.85 + 0.3 * rng.next())),
          clicks,
          impressions: Math.round(clicks * ch.impressionsPerClick * (0.7 + 0.6 * rng.next())),
        });
      }
    }
  }
  return costs;
}
