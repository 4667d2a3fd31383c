/**
 * Worlds with known causal channel effects, for the accuracy benchmark. A world is a set of channels and
 * the parameters of the mechanism in mechanism.ts; `drawWorld` draws fresh parameters for every
 * (family, seed), so the benchmark is not tuned to one parameter set. Pure: no I/O.
 *
 * Families (each stresses one way observational paths confuse "appears before conversions" with
 * "causes conversions"):
 * - harvesting: pull channels (direct, brand search, organic) close most sales but only capture intent
 *   push channels created; without one pull route the visit comes through another.
 * - synergy: pairs of push channels add intent only when a user has seen both.
 * - decay: intent fades within days, so only recent touches matter.
 * - selection_bias: some push channels are shown mostly to users who were going to buy (retargeting-like),
 *   with little effect of their own.
 * - cross_device: the same mechanism, observed through several devices per user and rare logins.
 * Every world draws 5–15 channels and short (28 days, quick decisions) or long (60 days, slow) journeys, and how
 * strongly intent shows before a purchase (pages, product views), as in real GA4 data; intentSignal 0 hides it.
 */
import { createRng, type Rng } from "../demo/prng.ts";

export const FAMILIES = ["harvesting", "synergy", "decay", "selection_bias", "cross_device"] as const;
export type Family = (typeof FAMILIES)[number];

export interface WorldChannel {
  /** Channel name as the pipeline reports it (the channel rules map source → this name). */
  key: string;
  /**
   * push: sessions arrive on their own schedule (ads, e-mails), `rate` sessions per user over the window.
   * pull: the user comes back on their own when intent is high; `rate` is the weight of this route among
   * the pull routes switched on (switch one off and the visit takes another).
   */
  kind: "push" | "pull";
  rate: number;
  /** Intent added by one session (decays with the world's half-life). */
  lift: number;
  /** Multiplier of the conversion hazard in this channel's sessions (a pull visit comes to buy). */
  close: number;
  /** Exposure ∝ propensity^targeting: 0 = shown to anyone, > 0 = shown to high-intent users (selection). */
  targeting: number;
}

interface Synergy {
  a: string;
  b: string;
  /** Intent added once the user has seen both. */
  lift: number;
}

export interface World {
  family: Family;
  seed: number;
  /** Users simulated for the observed data. */
  users: number;
  days: number;
  journeys: "short" | "long";
  channels: WorldChannel[];
  synergies: Synergy[];
  /** Intent a user has with no exposure at all (pull visits and conversions still happen from it). */
  baseIntent: number;
  /** Pull visits per day per unit of propensity × intent. */
  pullRate: number;
  /** Conversion hazard scale: p(session) = 1 − exp(−hazard · propensity · intent · close). */
  hazard: number;
  halfLifeDays: number;
  /** Standard deviation of log propensity (lognormal, median 1). */
  propensitySigma: number;
  /** Share of users with more than one device (one GA4 client id each). */
  multiDeviceShare: number;
  /** Probability a session is logged in (carries user_id). */
  loginShare: number;
  /**
   * How strongly a user's current intent (propensity × intent, observe.ts) shows in what the GA4 export records
   * before any purchase: pages per session and product views. 0 = intent fully hidden (no method can see the
   * confounder: the identifiability limit); 1 = pages scale with the intent level.
   */
  intentSignal: number;
}

/** Options of `drawWorld` that are not drawn: the intent signal's strength (drawn per world when absent). */
export interface WorldOptions {
  intentSignal?: number;
}

/** Seed of one (family, seed) pair: families draw independent worlds for the same seed. */
export function worldSeed(family: Family, seed: number): number {
  let h = 2166136261 ^ seed;
  for (const ch of family) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

const PULL_NAMES = ["direct", "brand_search", "organic_search"];
const PUSH_NAMES = [
  "paid_social", "display", "email", "video", "affiliate", "generic_search", "podcast", "influencer",
  "native_ads", "partner", "sms", "push_notify",
];

/**
 * Draw a world of `family` for `seed`: channel count, journey length and every channel's effect are drawn
 * fresh (same (family, seed, users) → same world).
 */
export function drawWorld(family: Family, seed: number, users: number, options: WorldOptions = {}): World {
  const rng = createRng(worldSeed(family, seed));
  const nChannels = rng.int(5, 15);
  const nPull = nChannels >= 7 ? 3 : 2;
  const journeys: World["journeys"] = rng.chance(0.5) ? "short" : "long";
  const days = journeys === "short" ? 28 : 60;
  const channels: WorldChannel[] = [];
  // One close for every pull route: a returning visit converts the same whichever way the user came, so a
  // pull channel's own incremental effect is its (small) lift and what its absence diverts elsewhere.
  const pullClose = family === "harvesting" ? uniform(rng, 1.5, 2.5) : uniform(rng, 0.8, 1.5);
  for (let i = 0; i < nPull; i++) {
    channels.push({
      key: PULL_NAMES[i]!,
      kind: "pull",
      rate: i === 0 ? uniform(rng, 2, 4) : uniform(rng, 0.5, 2),
      lift: family === "harvesting" ? 0 : uniform(rng, 0, 0.15),
      close: pullClose,
      targeting: 0,
    });
  }
  // Push sessions per user over the window, shared among the push channels (more channels, fewer each):
  // a few sessions per user, as in web analytics data, whatever the channel count.
  const pushBudget = journeys === "long" ? 3 : 2;
  const pushWeights = Array.from({ length: nChannels - nPull }, () => uniform(rng, 0.3, 1));
  const weightSum = pushWeights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < nChannels - nPull; i++) {
    const selected = family === "selection_bias" && i % 2 === 0;
    channels.push({
      key: PUSH_NAMES[i]!,
      kind: "push",
      rate: (pushBudget * pushWeights[i]!) / weightSum,
      lift: selected ? uniform(rng, 0, 0.1) : family === "synergy" ? uniform(rng, 0.05, 0.4) : uniform(rng, 0.1, 1.2),
      close: family === "harvesting" ? uniform(rng, 0.05, 0.25) : uniform(rng, 0.2, 0.8),
      targeting: selected ? uniform(rng, 1, 2) : 0,
    });
  }
  const push = channels.filter((c) => c.kind === "push");
  const synergies: Synergy[] = [];
  if (family === "synergy") {
    const pairs = Math.min(3, Math.floor(push.length / 2));
    for (let i = 0; i < pairs; i++) synergies.push({ a: push[2 * i]!.key, b: push[2 * i + 1]!.key, lift: uniform(rng, 1.5, 3) });
  }
  if (options.intentSignal !== undefined && !(options.intentSignal >= 0 && options.intentSignal <= 2)) {
    throw new RangeError(`intentSignal must be in [0, 2], got ${options.intentSignal}`);
  }
  const world: World = {
    family,
    seed,
    users,
    days,
    journeys,
    channels,
    synergies,
    baseIntent: 0.25,
    pullRate: journeys === "short" ? 0.12 : 0.06,
    hazard: journeys === "short" ? 0.03 : 0.01,
    halfLifeDays: family === "decay" ? uniform(rng, 0.5, 2) : journeys === "short" ? uniform(rng, 4, 10) : uniform(rng, 10, 30),
    propensitySigma: family === "selection_bias" ? 0.9 : 0.5,
    multiDeviceShare: family === "cross_device" ? 0.6 : 0.2,
    loginShare: family === "cross_device" ? 0.1 : 0.5,
    intentSignal: 0,
  };
  // Drawn after every other parameter (halfLifeDays above draws too), so they are the same whether the signal is
  // drawn or given, and a world with intentSignal 0 is the world drawn before the signal existed.
  const drawnSignal = uniform(rng, 0.5, 1);
  return { ...world, intentSignal: options.intentSignal ?? drawnSignal };
}
