/**
 * The causal mechanism of a benchmark world, at user grain, with common random numbers: every random
 * number a user can need is drawn once (`drawUser`), and `simulateUser(world, draws, active)` plays the
 * user's journey with only the `active` channels switched on, using no randomness of its own. So "switch
 * channel c off for everyone and re-simulate" changes only what c causes, never the luck of the draw.
 *
 * Mechanism (time in days from the window start):
 * - propensity z ~ lognormal(0, σ); intent I(t) = Σ lift_k · 2^(−(t − t_k)/halfLife) over the user's past
 *   sessions, plus a synergy lift once both channels of a pair were seen.
 * - push channel c: sessions at Poisson times, rate_c · z^targeting_c / E[z^targeting_c] per window.
 * - pull visits: candidate times of a Poisson process with rate PULL_MAX_RATE, kept with probability
 *   min(1, pullRate · z · (baseIntent + I(t)) / PULL_MAX_RATE) (thinning); the visit takes a pull channel
 *   chosen among the active ones by weight (`rate`); with none active there is no visit.
 * - a session of channel c converts with p = 1 − exp(−hazard · z · (baseIntent + I) · close_c), I after
 *   the session's own lift. The user's expected conversions in the window: 1 − Π(1 − p_s) (first conversion).
 * Switching push channels off only removes sessions and intent; a pull visit whose route is off takes
 * another pull route (truth.ts accounts for both). Pure: no I/O.
 */
import { createRng } from "../demo/prng.ts";
import type { World } from "./worlds.ts";

/** Highest pull-visit rate per day (thinning bound); rates above it are capped. */
const PULL_MAX_RATE = 0.5;

interface DrawnTouch {
  /** Push channel index, or -1 for a pull-visit candidate. */
  channel: number;
  /** Days from the window start. */
  t: number;
  /** Thinning (pull), route choice (pull), conversion, device and login draws, uniform in [0, 1). */
  uKeep: number;
  uRoute: number;
  uConvert: number;
  uDevice: number;
  uLogin: number;
  uDetail: number;
}

interface UserDraws {
  index: number;
  propensity: number;
  devices: number;
  /** Push sessions and pull candidates, by time. */
  touches: DrawnTouch[];
}

interface PlayedSession {
  channel: number;
  t: number;
  /** Conversion probability of this session. */
  p: number;
  /** The user's intent level at the session, relative to an unexposed median user: z · (baseIntent + I) / baseIntent. */
  intentLevel: number;
  touch: DrawnTouch;
}

interface PlayedUser {
  sessions: PlayedSession[];
  /** Expected conversions (probability of at least one conversion in the window). */
  expected: number;
  /** Index in `sessions` of the observed conversion (first session whose draw is below its p), or -1. */
  converted: number;
}

/** A 32-bit seed for user `index` of a world; `stream` separates observed users from truth users. */
export function userSeed(worldSeed: number, stream: number, index: number): number {
  let h = Math.imul(worldSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35) ^ Math.imul(index + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Every random number user `index` can need, drawn once. */
export function drawUser(world: World, seed: number, index: number): UserDraws {
  const rng = createRng(seed);
  const sigma = world.propensitySigma;
  const propensity = Math.exp(sigma * rng.normal());
  const devices = rng.chance(world.multiDeviceShare) ? rng.int(2, 3) : 1;
  const touches: DrawnTouch[] = [];
  const touch = (channel: number, t: number): DrawnTouch => ({
    channel, t, uKeep: rng.next(), uRoute: rng.next(), uConvert: rng.next(), uDevice: rng.next(), uLogin: rng.next(), uDetail: rng.next(),
  });
  world.channels.forEach((c, ci) => {
    if (c.kind !== "push") return;
    // E[z^β] of a lognormal(0, σ) is exp(β²σ²/2): targeting moves exposure to high-propensity users, not its mean.
    const rate = (c.rate * Math.pow(propensity, c.targeting)) / Math.exp((c.targeting * c.targeting * sigma * sigma) / 2) / world.days;
    if (rate <= 0) return;
    for (let t = rng.exp(1 / rate); t < world.days; t += rng.exp(1 / rate)) touches.push(touch(ci, t));
  });
  for (let t = rng.exp(1 / PULL_MAX_RATE); t < world.days; t += rng.exp(1 / PULL_MAX_RATE)) touches.push(touch(-1, t));
  touches.sort((a, b) => a.t - b.t || a.channel - b.channel);
  return { index, propensity, devices, touches };
}

/**
 * Play a user's journey with the channels whose `active[i]` is 1. Deterministic in (world, draws, active).
 * Complexity O(touches · (pull channels + synergies)).
 */
export function simulateUser(world: World, draws: UserDraws, active: Uint8Array): PlayedUser {
  const chs = world.channels;
  const decayPerDay = Math.LN2 / world.halfLifeDays;
  const z = draws.propensity;
  const seen = new Uint8Array(chs.length);
  const synergyDone = new Uint8Array(world.synergies.length);
  const synergyIdx = world.synergies.map((s) => [chs.findIndex((c) => c.key === s.a), chs.findIndex((c) => c.key === s.b)] as const);
  let pullWeight = 0;
  for (let i = 0; i < chs.length; i++) if (chs[i]!.kind === "pull" && active[i]) pullWeight += chs[i]!.rate;
  let intent = 0;
  let lastT = 0;
  let notConverted = 1;
  let converted = -1;
  const sessions: PlayedSession[] = [];
  for (const tc of draws.touches) {
    intent *= Math.exp(-decayPerDay * (tc.t - lastT));
    lastT = tc.t;
    let ch = tc.channel;
    if (ch >= 0) {
      if (!active[ch]) continue;
    } else {
      if (pullWeight <= 0) continue;
      const rate = Math.min(PULL_MAX_RATE, world.pullRate * z * (world.baseIntent + intent));
      if (tc.uKeep * PULL_MAX_RATE >= rate) continue;
      let r = tc.uRoute * pullWeight;
      for (let i = 0; i < chs.length; i++) {
        if (chs[i]!.kind !== "pull" || !active[i]) continue;
        ch = i;
        r -= chs[i]!.rate;
        if (r < 0) break;
      }
    }
    const c = chs[ch]!;
    intent += c.lift;
    seen[ch] = 1;
    for (let k = 0; k < synergyIdx.length; k++) {
      const [a, b] = synergyIdx[k]!;
      if (!synergyDone[k] && seen[a] && seen[b]) {
        synergyDone[k] = 1;
        intent += world.synergies[k]!.lift;
      }
    }
    const p = 1 - Math.exp(-world.hazard * z * (world.baseIntent + intent) * c.close);
    if (converted < 0 && tc.uConvert < p) converted = sessions.length;
    notConverted *= 1 - p;
    sessions.push({ channel: ch, t: tc.t, p, intentLevel: (z * (world.baseIntent + intent)) / world.baseIntent, touch: tc });
  }
  return { sessions, expected: 1 - notConverted, converted };
}
