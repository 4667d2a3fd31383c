/**
 * The true channel shares of a world, from its own mechanism (never from observed data), on a large
 * population of users drawn apart from the observed ones:
 * - true Shapley: the Shapley value of the conversion function v(S) = expected conversions when only the
 *   channels in S run. v is a sum over users, and Shapley values are additive, so φ = Σ_users φ_u, where
 *   v_u depends only on the channels the user meets with everything on (switching channels off only
 *   removes sessions, mechanism.ts): exact over those k channels (2^k plays of the user's common random
 *   numbers) up to EXACT_MAX_CHANNELS, else the mean of PERMUTATIONS random orders (Castro et al. 2009).
 * - true incremental: v(all) − v(all without c), the conversions lost when c is switched off for everyone
 *   and the same users are re-simulated with the same random numbers.
 * Shares: Shapley values / v(all) (they add up to it, since v(∅) = 0: with no channel there is no session);
 * incremental effects / their sum (negatives, possible only through noise, count as 0).
 * Pure: no I/O. Complexity O(users · 2^k · touches).
 */
import { createRng } from "../demo/prng.ts";
import { drawUser, simulateUser, userSeed } from "./mechanism.ts";
import { worldSeed, type World } from "./worlds.ts";

const EXACT_MAX_CHANNELS = 8;
const PERMUTATIONS = 32;
/** Stream of the truth population (the observed users are stream 0). */
const TRUTH_STREAM = 1;

export interface TrueShares {
  channels: string[];
  shapley: Record<string, number>;
  incremental: Record<string, number>;
  /** Expected conversions of the truth population with everything on. */
  conversions: number;
  /** Conversions lost per channel switched off (not normalised). */
  incrementalConversions: Record<string, number>;
  users: number;
}

/** Shapley weights s!(k−s−1)!/k! for s = 0..k−1. */
function shapleyWeights(k: number): Float64Array {
  const w = new Float64Array(k);
  for (let s = 0; s < k; s++) {
    let x = 1 / k;
    // s!(k−1−s)!/(k−1)! = 1 / C(k−1, s)
    let c = 1;
    for (let i = 1; i <= s; i++) c = (c * (k - 1 - s + i)) / i;
    x /= c;
    w[s] = x;
  }
  return w;
}

export function trueShares(world: World, truthUsers: number): TrueShares {
  const n = world.channels.length;
  const seed = worldSeed(world.family, world.seed);
  const phi = new Float64Array(n);
  const incr = new Float64Array(n);
  let total = 0;
  const allOn = new Uint8Array(n).fill(1);
  const active = new Uint8Array(n);
  const rng = createRng(seed ^ 0x5bd1e995);
  const weightsByK = new Map<number, Float64Array>();
  for (let u = 0; u < truthUsers; u++) {
    const draws = drawUser(world, userSeed(seed, TRUTH_STREAM, u), u);
    const full = simulateUser(world, draws, allOn);
    if (full.expected <= 0) continue;
    total += full.expected;
    const hasPull = full.sessions.some((s) => s.touch.channel < 0);
    // The players of v_u: push channels with a session in the user's draws (their schedule does not depend
    // on other channels) and, once any pull visit happened, every pull channel (switch one route off and
    // the visit takes another that was never used with everything on). Other channels are dummies: φ = 0.
    const met = world.channels.map((c, i) => i).filter((i) =>
      world.channels[i]!.kind === "push" ? draws.touches.some((t) => t.channel === i) : hasPull);
    const k = met.length;
    const value = (mask: number): number => {
      if (mask === (1 << k) - 1) return full.expected;
      active.fill(0);
      for (let j = 0; j < k; j++) if (mask & (1 << j)) active[met[j]!] = 1;
      return simulateUser(world, draws, active).expected;
    };
    const fullMask = (1 << k) - 1;
    for (let j = 0; j < k; j++) incr[met[j]!]! += full.expected - value(fullMask & ~(1 << j));
    if (k <= EXACT_MAX_CHANNELS) {
      const v = new Float64Array(1 << k);
      for (let m = 1; m <= fullMask; m++) v[m] = value(m);
      let w = weightsByK.get(k);
      if (!w) weightsByK.set(k, (w = shapleyWeights(k)));
      for (let m = 0; m <= fullMask; m++) {
        let size = 0;
        for (let x = m; x; x &= x - 1) size++;
        if (size === k) continue;
        for (let j = 0; j < k; j++) if (!(m & (1 << j))) phi[met[j]!]! += w[size]! * (v[m | (1 << j)]! - v[m]!);
      }
    } else {
      const order = met.map((_, j) => j);
      for (let p = 0; p < PERMUTATIONS; p++) {
        for (let i = k - 1; i > 0; i--) {
          const r = rng.int(0, i);
          [order[i], order[r]] = [order[r]!, order[i]!];
        }
        let mask = 0;
        let prev = 0;
        for (const j of order) {
          mask |= 1 << j;
          const cur = value(mask);
          phi[met[j]!]! += (cur - prev) / PERMUTATIONS;
          prev = cur;
        }
      }
    }
  }
  const names = world.channels.map((c) => c.key);
  const incrPos = Array.from(incr, (x) => Math.max(0, x));
  const incrSum = incrPos.reduce((a, b) => a + b, 0);
  const phiSum = Array.from(phi).reduce((a, b) => a + b, 0);
  return {
    channels: names,
    shapley: Object.fromEntries(names.map((c, i) => [c, phiSum > 0 ? phi[i]! / phiSum : 0])),
    incremental: Object.fromEntries(names.map((c, i) => [c, incrSum > 0 ? incrPos[i]! / incrSum : 0])),
    conversions: total,
    incrementalConversions: Object.fromEntries(names.map((c, i) => [c, incr[i]!])),
    users: truthUsers,
  };
}
