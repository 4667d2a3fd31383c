/**
 * Fast, pipeline-free view of benchmark worlds for the credit-calibration study (bench/studies/calib.ts):
 * each world's true incremental shares (truth.ts's formula, incremental part only) and what the pipeline
 * would observe — the observed users' sessions (observe.ts, the same draws the GA4 export is written
 * from) stitched into journeys the way identity stitching does at best (a device is the user once any of
 * its sessions is logged in or it bought; otherwise the device is its own user). Journeys end at the first
 * conversion; a user who never converts is one non-converting journey. The hidden world (propensity,
 * intent, channel kind) is never read past the truth: features come only from these journeys.
 */
import { drawWorld, worldSeed, type Family, type World } from "../../src/benchmark/worlds.ts";
import { drawUser, simulateUser, userSeed } from "../../src/benchmark/mechanism.ts";
import { observeWorld } from "../../src/benchmark/observe.ts";

const TRUTH_STREAM = 1;
const DAY_US = 86_400_000_000;

export interface Touch {
  channel: string;
  /** Days from the window start. */
  t: number;
  /** Page views of the session (the export's `p` events): engagement, an intent proxy. */
  pages: number;
  /** The session viewed a product without buying, or bought. */
  viewsProduct: boolean;
}

export interface Journey {
  touches: Touch[];
  converted: boolean;
}

export interface CalibWorld {
  family: Family;
  seed: number;
  channels: string[];
  days: number;
  journeys: Journey[];
  /** True incremental shares (conversions lost when the channel is switched off for everyone, normalised). */
  truth: Record<string, number>;
}

/** truth.ts's incremental part: Σ_users (v_u(all) − v_u(all − c)), negatives → 0, normalised. */
export function trueIncremental(world: World, truthUsers: number): Record<string, number> {
  const n = world.channels.length;
  const seed = worldSeed(world.family, world.seed);
  const incr = new Float64Array(n);
  const allOn = new Uint8Array(n).fill(1);
  for (let u = 0; u < truthUsers; u++) {
    const draws = drawUser(world, userSeed(seed, TRUTH_STREAM, u), u);
    const full = simulateUser(world, draws, allOn);
    if (full.expected <= 0) continue;
    for (let c = 0; c < n; c++) {
      const active = new Uint8Array(n).fill(1);
      active[c] = 0;
      incr[c]! += full.expected - simulateUser(world, draws, active).expected;
    }
  }
  const pos = Array.from(incr, (x) => Math.max(0, x));
  const s = pos.reduce((a, b) => a + b, 0);
  return Object.fromEntries(world.channels.map((c, i) => [c.key, s > 0 ? pos[i]! / s : 0]));
}

/** The observed journeys of `world` (see the file comment). */
export function observedJourneys(world: World): Journey[] {
  const start = Date.parse("2024-03-01T00:00:00Z");
  const obs = observeWorld(world, start);
  const userOfDevice = new Map<string, string>();
  for (const s of obs.sessions) if (s.userId) userOfDevice.set(s.pseudoId, s.userId);
  const byUser = new Map<string, Touch[] & { conv?: number }>();
  const conv = new Map<string, number>();
  for (const s of obs.sessions) {
    const who = userOfDevice.get(s.pseudoId) ?? s.pseudoId;
    const list = byUser.get(who) ?? [];
    const pages = (s.codes.match(/p/g) ?? []).length;
    const t = (s.ts - start * 1000) / DAY_US;
    list.push({ channel: s.channel.key, t, pages, viewsProduct: s.codes.includes("v") });
    byUser.set(who, list);
    if (s.transactionId && !conv.has(who)) conv.set(who, t);
  }
  const out: Journey[] = [];
  for (const [who, list] of byUser) {
    list.sort((a, b) => a.t - b.t);
    const ct = conv.get(who);
    if (ct === undefined) out.push({ touches: list, converted: false });
    else out.push({ touches: list.filter((x) => x.t <= ct), converted: true });
  }
  return out;
}

export function calibWorld(family: Family, seed: number, users: number, truthUsers: number): CalibWorld {
  const world = drawWorld(family, seed, users);
  return {
    family, seed, channels: world.channels.map((c) => c.key), days: world.days,
    journeys: observedJourneys(world), truth: trueIncremental(world, truthUsers),
  };
}
