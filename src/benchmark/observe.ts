/**
 * What the warehouse sees of a benchmark world: the observed users' journeys (mechanism.ts, every channel
 * on) as demo-shaped sessions (`SimSession`, expanded into GA4 export events by the demo's own
 * writeGa4Export) and CRM transactions (one completed row per conversion). Cross-device and anonymous
 * sessions come from here: each device is its own GA4 client id, and only logged-in sessions (and the
 * purchase) carry the user id. Pure: no I/O.
 */
import { DEMO_DEVICES, DEMO_LANGUAGES, DEMO_PLACES, DEMO_PRODUCTS, type DemoChannel } from "../demo/world.ts";
import type { SimSession, SimTransactionRow } from "../demo/sim-rows.ts";
import type { ChannelRule } from "../config/settings.ts";
import { drawUser, simulateUser, userSeed } from "./mechanism.ts";
import { worldSeed, type World, type WorldChannel } from "./worlds.ts";

/** Stream of the observed users (truth.ts draws its population from another). */
const OBSERVED_STREAM = 0;
const DAY_MS = 86_400_000;

interface ObservedWorld {
  sessions: SimSession[];
  transactions: SimTransactionRow[];
  /** vars.channel_rules naming every world channel by its key. */
  channelRules: ChannelRule[];
  conversions: number;
  users: number;
}

function demoChannel(c: WorldChannel): DemoChannel {
  const base = { key: c.key, campaigns: [`${c.key}_campaign`], acquisitionWeight: 0, returnWeight: 0, sessionLift: 1, carryLift: 1, costPerClick: 0, impressionsPerClick: 0 };
  // Direct is what GA4 reports for an untagged visit with no referrer; every other channel is utm-tagged.
  if (c.key === "direct") return { ...base, source: "(direct)", medium: "(none)", campaigns: ["(direct)"], tagged: false };
  return { ...base, source: c.key, medium: c.kind === "pull" ? "organic" : "bench", tagged: true, referrer: `https://${c.key.replace(/_/g, "-")}.example.com/` };
}

/** Channel rules for the world: source → channel key (direct by GA4's (direct)/(none)). */
function worldChannelRules(world: World): ChannelRule[] {
  return world.channels.map((c) => (c.key === "direct" ? { channel: "direct", source: "^\\(direct\\)$" } : { channel: c.key, source: `^${c.key}$` }));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * What a session shows of the user's intent before any purchase, as high-intent visitors do in real GA4 data:
 * pages = round((1 + ⌊4·u⌋) · level^(signal/2)), 1–30, and a product view (view_item) with probability
 * 1 − exp(−0.1 · signal · level), `level` = the intent level at the session (mechanism.ts; 1 = an unexposed
 * median user). With signal 0: 1–4 pages by u alone and no product view outside a purchase — intent hidden.
 * The view's uniform is derived from two of the session's draws (no new draw: the hidden world is unchanged).
 */
export function engagement(signal: number, level: number, uDetail: number, uLogin: number): { pageViews: number; viewsProduct: boolean } {
  const base = 1 + Math.floor(uDetail * 4);
  if (signal <= 0) return { pageViews: base, viewsProduct: false };
  const pageViews = Math.max(1, Math.min(30, Math.round(base * Math.pow(level, signal / 2))));
  const uView = (uDetail * 7919 + uLogin * 104_729) % 1;
  return { pageViews, viewsProduct: uView < 1 - Math.exp(-0.1 * signal * level) };
}

/** The observed export of `world` (its `users` users, stream OBSERVED_STREAM), starting at `startMs`. */
export function observeWorld(world: World, startMs: number): ObservedWorld {
  const seed = worldSeed(world.family, world.seed);
  const channels = world.channels.map(demoChannel);
  const allOn = new Uint8Array(world.channels.length).fill(1);
  const sessions: SimSession[] = [];
  const transactions: SimTransactionRow[] = [];
  const uw = Math.max(6, String(world.users).length + 1);
  let key = 0;
  let conversions = 0;
  for (let u = 0; u < world.users; u++) {
    const draws = drawUser(world, userSeed(seed, OBSERVED_STREAM, u), u);
    const played = simulateUser(world, draws, allOn);
    if (!played.sessions.length) continue;
    const userId = `U${pad(u + 1, uw)}`;
    // Device profiles, place: fixed per user from the user's first draw (no extra randomness needed).
    const first = played.sessions[0]!.touch;
    const place = DEMO_PLACES[Math.floor(first.uDetail * DEMO_PLACES.length)]!;
    const devices = Array.from({ length: draws.devices }, (_, d) => ({
      profile: DEMO_DEVICES[(u * 7 + d * 3) % DEMO_DEVICES.length]!,
      pseudoId: `${1_000_000_000 + ((u * 2_654_435_761 + d * 40_503) % 1_000_000_000)}.${Math.floor(startMs / 1000) + u}`,
      sessions: 0,
      firstTouch: null as DemoChannel | null,
      firstTouchCampaign: "",
      firstTouchTs: 0,
    }));
    let registered = false;
    played.sessions.forEach((s, i) => {
      const dev = devices[i === 0 ? 0 : Math.floor(s.touch.uDevice * devices.length)]!;
      const channel = channels[s.channel]!;
      const day = Math.floor(s.t);
      // Start inside its day, never after 23:30, so a session's events stay on its day.
      const secondOfDay = Math.min(Math.floor((s.t - day) * 86400), 86400 - 1800);
      const tsMs = startMs + day * DAY_MS + secondOfDay * 1000;
      const ts = tsMs * 1000;
      if (dev.sessions === 0) {
        dev.firstTouch = channel;
        dev.firstTouchCampaign = channel.campaigns[0]!;
        dev.firstTouchTs = ts;
      }
      dev.sessions++;
      const converts = i === played.converted;
      const loggedIn = s.touch.uLogin < world.loginShare;
      if (loggedIn || converts) registered = true;
      const product = DEMO_PRODUCTS[Math.floor(s.touch.uDetail * DEMO_PRODUCTS.length)]!;
      const { pageViews, viewsProduct } = engagement(world.intentSignal, s.intentLevel, s.touch.uDetail, s.touch.uLogin);
      const revenue = converts ? Math.round(product.price * 108) / 100 : null;
      const transactionId = converts ? `B${pad(u + 1, uw)}` : null;
      const sessionUserId = loggedIn || converts ? userId : null;
      sessions.push({
        key: key++, day, ts, pseudoId: dev.pseudoId, userId: sessionUserId,
        gaSessionId: Math.floor(tsMs / 1000), gaSessionNumber: dev.sessions,
        codes: (dev.sessions === 1 ? "f" : "") + "s" + "p".repeat(pageViews) + (converts ? "vab$" : viewsProduct ? "v" : "") + "e",
        channel, campaign: channel.campaigns[0]!, gclid: null, sendSourceParams: channel.tagged, landingPath: "/",
        firstTouch: dev.firstTouch!, firstTouchCampaign: dev.firstTouchCampaign, firstTouchTs: dev.firstTouchTs,
        device: dev.profile, place, language: DEMO_LANGUAGES[place.country] ?? "en-us",
        items: converts || viewsProduct ? [{ product, quantity: 1 }] : [],
        transactionId, revenue, tax: converts ? Math.round(product.price * 8) / 100 : null, shipping: converts ? 0 : null,
        ltv: 0, tier: sessionUserId ? "registered" : null,
      });
      if (converts) {
        conversions++;
        transactions.push({
          transaction_id: transactionId!, user_id: registered ? userId : null, client_id: dev.pseudoId,
          transaction_created: ts + 60_000_000 * (pageViews + 4), transaction_status: "completed",
          transaction_revenue: revenue!, transaction_region: place.region,
        });
      }
    });
  }
  sessions.sort((a, b) => a.ts - b.ts || a.key - b.key);
  transactions.sort((a, b) => a.transaction_created - b.transaction_created || (a.transaction_id < b.transaction_id ? -1 : 1));
  return { sessions, transactions, channelRules: worldChannelRules(world), conversions, users: world.users };
}
