/**
 * Bootstrap intervals of channel shares on the `channel_paths` aggregate, and their coverage of a world's
 * true shares. Poisson bootstrap (Hanley & MacGibbon 2006): each path row's conversions and non-conversions
 * are redrawn as Poisson(count), which for many journeys is resampling journeys with replacement, and
 * costs one pass over the aggregate per replicate, not over the journeys. Models re-fitted per replicate:
 * first touch, last touch, linear (from the paths) and the channel Markov chain of order 1 (removal
 * effects, src/models/channel-markov.ts). Intervals are the 5th–95th percentiles (90 %). Pure: no I/O.
 */
import { createRng, type Rng } from "../demo/prng.ts";
import { fitChannelMarkov, type ChannelPathRow } from "../models/channel-markov.ts";

export type PathModel = (rows: readonly ChannelPathRow[]) => Record<string, number>;

function normalise(credit: Map<string, number>): Record<string, number> {
  let total = 0;
  for (const v of credit.values()) total += v;
  return Object.fromEntries([...credit].map(([c, v]) => [c, total > 0 ? v / total : 0]));
}

function positional(weight: (i: number, n: number) => number): PathModel {
  return (rows) => {
    const credit = new Map<string, number>();
    for (const r of rows) {
      if (r.conversions <= 0) continue;
      r.path.forEach((c, i) => credit.set(c, (credit.get(c) ?? 0) + r.conversions * weight(i, r.path.length)));
    }
    return normalise(credit);
  };
}

/** The models bootstrapped, by their names in channel_credit_by_model. */
const PATH_MODELS: Readonly<Record<string, PathModel>> = {
  first_touch: positional((i) => (i === 0 ? 1 : 0)),
  last_touch: positional((i, n) => (i === n - 1 ? 1 : 0)),
  linear: positional((_, n) => 1 / n),
  markov_order_1: (rows) => {
    const m = fitChannelMarkov(rows, { order: 1, useNulls: true, includeTransitions: false });
    return normalise(new Map(m.credits.map((c) => [c.channel, c.conversions])));
  },
};

/**
 * Poisson(mean) draw: Knuth's product method below 30, a rounded normal approximation above (its error
 * is far below the bootstrap's own).
 */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean >= 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) k++;
  return k;
}

export interface ShareInterval {
  lo: number;
  hi: number;
}

/** 90 % intervals per model and channel from `replicates` Poisson-bootstrap replicates. Deterministic in `seed`. */
export function bootstrapIntervals(rows: readonly ChannelPathRow[], replicates: number, seed: number, models: Readonly<Record<string, PathModel>> = PATH_MODELS): Record<string, Record<string, ShareInterval>> {
  const rng = createRng(seed);
  const draws: Record<string, Record<string, number[]>> = Object.fromEntries(Object.keys(models).map((m) => [m, {}]));
  const channels = [...new Set(rows.flatMap((r) => r.path))];
  for (let b = 0; b < replicates; b++) {
    const sample: ChannelPathRow[] = [];
    for (const r of rows) {
      const conversions = poisson(rng, r.conversions);
      const nulls = poisson(rng, r.nulls ?? 0);
      if (conversions + nulls > 0) sample.push({ path: r.path, conversions, nulls });
    }
    if (!sample.some((r) => r.conversions > 0)) continue;
    for (const [name, fit] of Object.entries(models)) {
      const shares = fit(sample);
      for (const c of channels) (draws[name]![c] ??= []).push(shares[c] ?? 0);
    }
  }
  const quantile = (xs: number[], q: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
  };
  return Object.fromEntries(Object.entries(draws).map(([m, byChannel]) => [
    m, Object.fromEntries(Object.entries(byChannel).map(([c, xs]) => [c, { lo: quantile(xs, 0.05), hi: quantile(xs, 0.95) }])),
  ]));
}

/** Share of `channels` whose true share lies inside the interval (a channel with no interval has [0, 0]). */
export function intervalCoverage(intervals: Readonly<Record<string, ShareInterval>>, truth: Readonly<Record<string, number>>, channels: readonly string[]): number {
  let inside = 0;
  for (const c of channels) {
    const iv = intervals[c] ?? { lo: 0, hi: 0 };
    const t = truth[c] ?? 0;
    if (t >= iv.lo - 1e-12 && t <= iv.hi + 1e-12) inside++;
  }
  return channels.length ? inside / channels.length : 0;
}
