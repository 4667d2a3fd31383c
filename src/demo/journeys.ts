/**
 * One web user's journey in the demo shop, session by session, from the web stream: the user (place,
 * devices, a latent purchase propensity), each visit (device, channel, start time), the funnel with drop-off
 * and what a session leaves in the other sources (CRM rows of a purchase, an e-mail click, a lead, a paid
 * click for the costs). Channels act through their true effects (world.ts), which is what attribution
 * models should recover.
 */
import {
  DEMO_CHANNELS,
  DEMO_DEVICE_PURCHASE_LIFT,
  DEMO_DEVICES,
  DEMO_LANGUAGES,
  DEMO_PLACES,
  DEMO_PRODUCTS,
  type DemoChannel,
  type DemoDevice,
  type DemoPlace,
  type DemoProduct,
} from "./world.ts";
import type { Rng } from "./prng.ts";
import type { SimCustomEvent, SimItem, SimLead, SimSession, SimTransactionRow } from "./sim-rows.ts";
import { EVENT_STEP_SECONDS } from "./event-codes.ts";
import { DAY_MS, pad } from "./format.ts";
import { drawPurchase, type Purchase } from "./purchases.ts";
import { drawLead, LEAD_SESSION_RATE } from "./leads.ts";
import { emailClick } from "./custom-events.ts";
import { tallyPaidSession, type PaidSessionTally } from "./costs.ts";

const HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.6, 4.4, 4.5, 5, 5.5, 6.5, 7, 6, 4, 2];
const SITE_PAGES = ["/", "/collections/apparel", "/collections/drinkware", "/collections/bags", "/collections/office", "/collections/lifestyle", "/sale", "/new-arrivals"];
const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The random streams a journey draws from: the web (users, sessions, funnel, purchases), leads, e-mail clicks. */
export interface JourneyStreams {
  web: Rng;
  leads: Rng;
  email: Rng;
}

/** Ids running across users. */
export interface JourneyCounters {
  sessionKey: number;
  transactions: number;
  leads: number;
  pseudoIds: number;
}

/** Where a journey's rows go, each as it is drawn: a list, or a writer that keeps none of them. */
export interface RowSink<T> {
  push(...rows: T[]): unknown;
}

/** Where a journey's rows go: each session as it is drawn, the other rows into their sinks. */
export interface JourneySinks {
  onSession: (s: SimSession) => void;
  transactions: RowSink<SimTransactionRow>;
  customEvents: RowSink<SimCustomEvent>;
  leads: RowSink<SimLead>;
  paidSessions: PaidSessionTally;
}

export interface JourneyWorld {
  days: number;
  /** Epoch millis of 00:00 UTC of day 0. */
  startMs: number;
  /** Width of the zero-padded user ids. */
  uw: number;
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

/** A web user and what their sessions so far have changed. */
export interface WebUser {
  place: DemoPlace;
  language: string;
  /** CRM id once known: registered, or made known by a checkout, a lead or a call. */
  userId: string | null;
  /** The CRM id the user gets when they become known. */
  newUserId: string;
  devices: DeviceState[];
  propensity: number;
  /** Lasting lift from the channels seen so far (each channel's carryLift, once). */
  carry: number;
  exposed: Set<string>;
  hadItemView: boolean;
  hadCart: boolean;
  ltv: number;
  leadDone: boolean;
  sessionCount: number;
}

/** A session's visit: the device, the channel that brought it, its start and whether the user logged in. */
interface Visit {
  day: number;
  dev: DeviceState;
  channel: DemoChannel;
  campaign: string;
  /** Start, epoch millis and epoch micros. */
  tsMs: number;
  ts: number;
  loggedIn: boolean;
}

/** How deep a session went down the funnel. */
interface Funnel {
  pageViews: number;
  viewed: boolean;
  carted: boolean;
  checkout: boolean;
  purchased: boolean;
  lead: boolean;
  items: SimItem[];
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 0.95 ? 0.95 : x;
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

/**
 * GA4 fills the source/medium/campaign event params for every session with a traffic source: UTM-tagged
 * ones and also untagged search engines and referrers (google / organic, partner-blog / referral). Only
 * direct visits have none. A few sessions lose them anyway (consent banners, redirects stripping the
 * referrer): 3 %; a tagged landing URL still carries its utm_* and collected_traffic_source then.
 */
function sendsSourceParams(rng: Rng, ch: DemoChannel): boolean {
  return ch.source !== "(direct)" && rng.chance(0.97);
}

/** User number `u`: place, whether registered, 1–3 devices (the second of another category, mostly). */
function drawWebUser(rng: Rng, u: number, uw: number): WebUser {
  const newUserId = `U${pad(u + 1, uw)}`;
  const place = rng.pick(DEMO_PLACES, (p) => p.weight);
  const language = DEMO_LANGUAGES[place.country] ?? "en-us";
  const userId: string | null = rng.chance(0.22) ? newUserId : null;
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
  return {
    place, language, userId, newUserId, devices, propensity,
    carry: 1, exposed: new Set<string>(), hadItemView: false, hadCart: false, ltv: 0, leadDone: false, sessionCount: 0,
  };
}

/**
 * Session `s` of a user on `day`: the device (the first for a first session, else half the time), the channel
 * (acquisition weights first; then return weights among the channels the user is eligible for, retargeting
 * twice as likely after an abandoned cart), a start time at a weighted hour, the device's first touch.
 */
function drawVisit(rng: Rng, user: WebUser, s: number, day: number, startMs: number, counters: JourneyCounters): Visit {
  const devices = user.devices;
  const dev = s === 0 || devices.length === 1 || rng.chance(0.5) ? devices[0]! : devices[rng.int(1, devices.length - 1)]!;
  const eligible = DEMO_CHANNELS.filter(
    (c) => (!c.needsPriorItemView || user.hadItemView) && (!c.needsRegistration || user.userId !== null),
  );
  const channel =
    user.sessionCount === 0
      ? rng.pick(DEMO_CHANNELS, (c) => c.acquisitionWeight)
      : rng.pick(eligible, (c) => c.returnWeight * (c.key === "display_retargeting" && user.hadCart ? 2 : 1));
  const campaign = rng.pick(channel.campaigns);
  // Start time: a weighted hour, never later than 23:30 so a session stays inside its day.
  const hour = rng.pick(HOUR_WEIGHTS.map((_, h) => h), (h) => HOUR_WEIGHTS[h]!);
  const secondOfDay = Math.min(hour * 3600 + rng.int(0, 3599), 86400 - 1800);
  const tsMs = startMs + day * DAY_MS + secondOfDay * 1000 + rng.int(0, 999);
  const ts = tsMs * 1000 + rng.int(0, 999);

  if (dev.sessions === 0) {
    counters.pseudoIds++;
    dev.pseudoId = `${rng.int(100000000, 2147483647)}.${Math.floor(tsMs / 1000)}`;
    dev.firstTouch = channel;
    dev.firstTouchCampaign = campaign;
    dev.firstTouchTs = ts;
  }
  dev.sessions++;
  user.sessionCount++;

  const loggedIn = user.userId !== null && (dev.loggedIn ? rng.chance(0.9) : rng.chance(0.55));
  if (loggedIn) dev.loggedIn = true;
  return { day, dev, channel, campaign, tsMs, ts, loggedIn };
}

/**
 * The funnel with drop-off. m is the session's purchase-intent multiplier: the user's propensity, the lasting
 * lift of every channel seen, this channel's and device's lift, more for a returning user and after a cart.
 * Whether the session submits a lead is drawn from the leads stream.
 */
function drawFunnel(streams: JourneyStreams, user: WebUser, v: Visit): Funnel {
  const rng = streams.web;
  if (!user.exposed.has(v.channel.key)) {
    user.exposed.add(v.channel.key);
    user.carry *= v.channel.carryLift;
  }
  const m = user.propensity * user.carry * v.channel.sessionLift * DEMO_DEVICE_PURCHASE_LIFT[v.dev.profile.category] * (user.sessionCount > 1 ? 1.25 : 1) * (user.hadCart ? 1.3 : 1);
  const pageViews = 1 + Math.min(14, Math.floor(rng.exp(1.6)));
  const viewed = rng.chance(clamp01(0.38 * Math.sqrt(m)));
  const carted = viewed && rng.chance(clamp01(0.25 * Math.pow(m, 0.7)));
  const checkout = carted && rng.chance(clamp01(0.55 * Math.pow(m, 0.3)));
  const purchased = checkout && rng.chance(clamp01(0.62 * Math.pow(m, 0.3)));
  const lead = !user.leadDone && streams.leads.chance(LEAD_SESSION_RATE * (1 + (user.hadItemView ? 1 : 0) + (viewed ? 1 : 0)));

  let items: SimItem[] = [];
  if (viewed) {
    const n = carted ? rng.pick([1, 2, 3], (k) => (k === 1 ? 60 : k === 2 ? 30 : 10)) : 1;
    const chosen = new Set<DemoProduct>();
    while (chosen.size < n) chosen.add(rng.pick(DEMO_PRODUCTS, (p) => 60 / (p.price + 10)));
    items = [...chosen].map((product) => ({ product, quantity: carted && rng.chance(0.2) ? 2 : 1 }));
  }
  return { pageViews, viewed, carted, checkout, purchased, lead, items };
}

/** The session's event codes (event-codes.ts), in order. */
function sessionCodes(firstOnDevice: boolean, f: Funnel, trackedPurchase: boolean): string {
  let codes = (firstOnDevice ? "f" : "") + "s" + "p".repeat(f.pageViews);
  if (f.viewed) codes += "v";
  if (f.carted) codes += "a";
  if (f.checkout) codes += "b";
  if (f.purchased && trackedPurchase) codes += "$";
  if (f.lead) codes += "l";
  if (f.pageViews > 1 || f.viewed) codes += "e";
  return codes;
}

/** One session of a user: hands it to the sinks with what it adds to the other sources; returns whether it bought. */
function simulateSession(streams: JourneyStreams, user: WebUser, s: number, day: number, world: JourneyWorld, counters: JourneyCounters, sinks: JourneySinks): boolean {
  const rng = streams.web;
  const v = drawVisit(rng, user, s, day, world.startMs, counters);
  const f = drawFunnel(streams, user, v);
  const { dev, channel, campaign, ts, tsMs } = v;

  let purchase: Purchase | null = null;
  if (f.purchased) {
    counters.transactions++;
    purchase = drawPurchase(rng, {
      transactionId: `T${pad(counters.transactions, 7)}`, items: f.items, userId: user.userId, newUserId: user.newUserId,
      clientId: dev.pseudoId, sessionTs: ts, pageViews: f.pageViews, region: user.place.region,
    });
    user.userId = purchase.userId;
    sinks.transactions.push(...purchase.crmRows);
  }
  const tracked = purchase?.tracked ? purchase : null;
  const sessionUserId = v.loggedIn || (f.purchased && user.userId !== null) ? user.userId : null;
  const codes = sessionCodes(dev.sessions === 1, f, tracked !== null);

  sinks.onSession({
    key: counters.sessionKey++,
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
    place: user.place,
    language: user.language,
    items: f.items,
    transactionId: tracked ? tracked.transactionId : null,
    revenue: tracked ? tracked.revenue : null,
    tax: tracked ? tracked.tax : null,
    shipping: tracked ? tracked.shipping : null,
    ltv: user.ltv,
    tier: sessionUserId ? (user.ltv > 150 ? "gold" : user.ltv > 0 ? "customer" : "registered") : null,
  });

  tallyPaidSession(sinks.paidSessions, day, channel, campaign);
  if (channel.key === "email") {
    sinks.customEvents.push(emailClick(streams.email, { sessionStartMs: tsMs, userId: user.userId, clientId: dev.pseudoId, channel, campaign, place: user.place }));
  }
  if (f.lead) {
    user.leadDone = true;
    counters.leads++;
    if (user.userId === null && streams.leads.chance(0.7)) user.userId = user.newUserId;
    const createdAt = ts + EVENT_STEP_SECONDS * (codes.indexOf("l") + 1) * 1_000_000;
    sinks.leads.push(drawLead(streams.leads, {
      leadId: `L${pad(counters.leads, 6)}`, createdAt, userId: user.userId, clientId: dev.pseudoId, place: user.place, channel,
      priorSessions: user.sessionCount - 1, viewedBefore: user.hadItemView, viewedNow: f.viewed, cartedEver: user.hadCart || f.carted,
    }));
  }
  if (f.viewed) user.hadItemView = true;
  if (f.carted && !f.purchased) user.hadCart = true;
  if (purchase) {
    user.hadCart = false;
    user.ltv += purchase.revenue;
  }
  return f.purchased;
}

/**
 * Web user number `u` and all their sessions: a start somewhere in the period, up to 31 sessions (registered
 * users come back more often), each followed by a pause (shorter after a purchase and for registered users).
 * Returns the user as the sessions left them (the call centre continues from there).
 */
export function simulateWebUser(streams: JourneyStreams, u: number, world: JourneyWorld, counters: JourneyCounters, sinks: JourneySinks): WebUser {
  const rng = streams.web;
  const user = drawWebUser(rng, u, world.uw);
  let t = rng.next() * world.days * 0.97; // days since start, fractional
  // Registered users come back more often.
  const maxSessions = 1 + Math.min(30, Math.floor(rng.exp(user.userId ? 4 : 2)));
  for (let s = 0; s < maxSessions; s++) {
    const day = Math.floor(t);
    if (day >= world.days) break;
    const purchased = simulateSession(streams, user, s, day, world, counters, sinks);
    t += 0.01 + rng.exp(purchased ? 8 : user.userId ? 2 : 3.5);
  }
  return user;
}
