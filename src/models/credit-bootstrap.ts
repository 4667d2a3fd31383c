/**
 * Bootstrap intervals of channel credit shares on the `channel_paths` aggregate. Poisson bootstrap
 * (Hanley & MacGibbon 2006; Chamandy et al. 2012): each path row's conversions and non-conversions are
 * redrawn as Poisson(count), which for many journeys is resampling journeys with replacement, and costs
 * one pass over the aggregate per replicate, not one over the journeys. Each replicate re-fits the model
 * from the paths; the interval is the 5th–95th percentile of the replicate shares (90 %).
 *
 * What the intervals are: sampling noise of a model's shares on data of this size. Not the model's bias —
 * on benchmark worlds most of a model's distance to the true shares is bias, which a bootstrap cannot see.
 * Pure: no I/O. Cost: replicates × one fit per model (Shapley: 2^channels coalitions per fit).
 */
import { createRng, type Rng } from "../demo/prng.ts";
import { fitChannelMarkov, type ChannelPathRow, type MarkovOrder } from "./channel-markov.ts";
import { fitShapley, type ShapleyValueFunction } from "./shapley.ts";
import { compareStrings } from "./numeric.ts";

/** A model re-fitted from path rows: share per channel. */
type PathModel = (rows: readonly ChannelPathRow[]) => Record<string, number>;

function normalise(credit: Map<string, number>): Record<string, number> {
  let total = 0;
  for (const v of credit.values()) total += v;
  return Object.fromEntries([...credit].map(([c, v]) => [c, total > 0 ? v / total : 0]));
}

/**
 * Channels numbered in the order first met, and each path's channels as those numbers, kept by the path array (the
 * bootstrap's replicates share the arrays of the rows they redraw).
 */
function channelIndex(): { index: Map<string, number>; names: string[]; ids: (path: readonly string[]) => Int32Array } {
  const index = new Map<string, number>();
  const names: string[] = [];
  const idsOf = new WeakMap<readonly string[], Int32Array>();
  const ids = (path: readonly string[]): Int32Array => {
    let t = idsOf.get(path);
    if (!t) {
      t = Int32Array.from(path, (c) => {
        let k = index.get(c);
        if (k === undefined) index.set(c, (k = names.push(c) - 1));
        return k;
      });
      idsOf.set(path, t);
    }
    return t;
  };
  return { index, names, ids };
}

/**
 * A heuristic from a weight per touch (weights of a path are normalised to one conversion). A path's weights do not
 * depend on its counts, and the bootstrap's replicates share the path arrays of the rows they redraw: each path's
 * channels (as indices) and weights are worked out on its first fit and kept (per model, by the path array), and a
 * fit adds up into an array. The sums are the same as adding `conversions × weight / sum` per touch into a Map in row
 * order, as this did before (bit for bit: same operations, same order), at a fraction of the cost (the five
 * heuristics were 7 of credit_intervals' 12 CPU s at 10M events).
 */
function positionalModel(weight: (i: number, path: readonly string[]) => number): PathModel {
  const channels = channelIndex();
  const touchesOf = new WeakMap<readonly string[], { at: Int32Array; w: Float64Array; sum: number }>();
  const touches = (path: readonly string[]): { at: Int32Array; w: Float64Array; sum: number } => {
    let t = touchesOf.get(path);
    if (!t) {
      const w = Float64Array.from(path, (_, i) => weight(i, path));
      let sum = 0;
      for (const x of w) sum += x;
      touchesOf.set(path, (t = { at: channels.ids(path), w, sum }));
    }
    return t;
  };
  return (rows) => {
    const converting = rows.filter((r) => r.conversions > 0 && r.path.length > 0);
    const paths = converting.map((r) => touches(r.path));
    const { names } = channels;
    const credit = new Float64Array(names.length);
    // The channels in the order they are first credited (the keys of the result, as the Map's were).
    const seen = new Uint8Array(names.length);
    const order: number[] = [];
    for (let k = 0; k < converting.length; k++) {
      const conversions = converting[k]!.conversions;
      const { at, w, sum } = paths[k]!;
      for (let i = 0; i < at.length; i++) {
        const c = at[i]!;
        if (!seen[c]) {
          seen[c] = 1;
          order.push(c);
        }
        credit[c]! += sum > 0 ? (conversions * w[i]!) / sum : 0;
      }
    }
    let total = 0;
    for (const c of order) total += credit[c]!;
    return Object.fromEntries(order.map((c) => [names[c]!, total > 0 ? credit[c]! / total : 0]));
  };
}

interface PathModelSettings {
  /** vars.position_based_weights: first, middle (split over the middle touches), last. */
  positionBasedWeights: readonly [number, number, number];
  /** vars.non_direct_excluded_channels. */
  nonDirectExcludedChannels: readonly string[];
  markovOrder: number;
  markovUseNulls: boolean;
  shapleyValueFunction: ShapleyValueFunction;
  shapleyMaxExactChannels: number;
}

/**
 * The registered models that can be re-fitted from `channel_paths` alone, by their registry names, with
 * the rules of heuristic_touch_credit (position_based: one touch 1, two touches ½ each; last_non_direct:
 * the last touch not excluded, else the last). time_decay and owox_funnel need touch times / funnel
 * steps, which the path aggregate does not hold: they get no interval.
 */
export function pathModels(s: PathModelSettings): Record<string, PathModel> {
  const [first, middle, last] = s.positionBasedWeights;
  const excluded = new Set(s.nonDirectExcludedChannels);
  return {
    first_touch: positionalModel((i) => (i === 0 ? 1 : 0)),
    last_touch: positionalModel((i, p) => (i === p.length - 1 ? 1 : 0)),
    last_non_direct: positionalModel((i, p) => {
      let k = p.length - 1;
      while (k >= 0 && excluded.has(p[k]!)) k--;
      return i === (k < 0 ? p.length - 1 : k) ? 1 : 0;
    }),
    linear: positionalModel(() => 1),
    position_based: positionalModel((i, p) => {
      const n = p.length;
      if (n === 1) return 1;
      if (n === 2) return 0.5;
      return i === 0 ? first : i === n - 1 ? last : middle / (n - 2);
    }),
    [`markov_order_${s.markovOrder}`]: (rows) => {
      const m = fitChannelMarkov(rows, { order: s.markovOrder as MarkovOrder, useNulls: s.markovUseNulls, includeTransitions: false });
      return normalise(new Map(m.credits.map((c) => [c.channel, c.conversions])));
    },
    shapley: shapleyModel(s),
  };
}

/**
 * Shapley from the coalitions of the paths: the channels of the rows given (sorted), each path's coalition a mask
 * over them. As for the heuristics, each path's channels are indexed once and its mask kept while the rows' channels
 * stay the same (they do from replicate to replicate but for a rare channel drawn out): building the masks anew for
 * every replicate was most of the Shapley fits' cost. Each mask is coalitionMask(path, channels).
 */
function shapleyModel(s: PathModelSettings): PathModel {
  const { index, names, ids } = channelIndex();
  let channelsKey = "";
  let positions = new Int32Array(0);
  let masksOf = new WeakMap<readonly string[], number>();
  return (rows) => {
    const rowIds = rows.map((r) => ids(r.path));
    const present = new Uint8Array(names.length);
    for (const t of rowIds) for (const k of t) present[k] = 1;
    const channels = names.filter((_, k) => present[k]).sort(compareStrings);
    const key = channels.join("\u0000");
    if (key !== channelsKey) {
      channelsKey = key;
      masksOf = new WeakMap();
      positions = new Int32Array(names.length).fill(-1);
      channels.forEach((c, i) => (positions[index.get(c)!] = i));
    }
    const coalitions = [];
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      if (r.path.length === 0) continue;
      let mask = masksOf.get(r.path);
      if (mask === undefined) {
        mask = 0;
        for (const g of rowIds[k]!) mask |= 1 << positions[g]!;
        masksOf.set(r.path, mask);
      }
      coalitions.push({ channels: mask, conversions: r.conversions, nulls: r.nulls ?? 0, value: 0 });
    }
    const m = fitShapley(coalitions, { channels, valueFunction: s.shapleyValueFunction, maxExactChannels: s.shapleyMaxExactChannels, seed: 1 });
    return Object.fromEntries(m.credits.map((c) => [c.channel, c.share]));
  };
}

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

/** One model's bootstrap: the full-data fit, the 90 % interval per channel, and its spread. */
export interface ModelBootstrap {
  /** Shares of the model re-fitted on all rows (the centre the replicates deviate from). */
  point: Record<string, number>;
  intervals: Record<string, ShareInterval>;
  /** Mean over replicates of the L1 distance between the replicate's shares and `point`: instability. */
  meanL1: number;
  replicates: number;
}

/** Linear-interpolated quantile of a sample (type 7, R's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/** Poisson-bootstrap replicates of each model. Deterministic in `seed`. A replicate with no conversion is drawn again is not: it is skipped. */
export function bootstrapModels(rows: readonly ChannelPathRow[], replicates: number, seed: number, models: Readonly<Record<string, PathModel>>): Record<string, ModelBootstrap> {
  const rng = createRng(seed);
  const channels = [...new Set(rows.flatMap((r) => r.path))].sort(compareStrings);
  const points = Object.fromEntries(Object.entries(models).map(([m, fit]) => [m, fit(rows)]));
  const draws: Record<string, Record<string, number[]>> = Object.fromEntries(Object.keys(models).map((m) => [m, {}]));
  const l1: Record<string, number[]> = Object.fromEntries(Object.keys(models).map((m) => [m, []]));
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
      let d = 0;
      for (const c of channels) {
        const v = shares[c] ?? 0;
        (draws[name]![c] ??= []).push(v);
        d += Math.abs(v - (points[name]![c] ?? 0));
      }
      l1[name]!.push(d);
    }
  }
  return Object.fromEntries(Object.keys(models).map((m) => {
    const byChannel = draws[m]!;
    const n = l1[m]!.length;
    return [m, {
      point: points[m]!,
      intervals: Object.fromEntries(Object.entries(byChannel).map(([c, xs]) => [c, { lo: quantile(xs, 0.05), hi: quantile(xs, 0.95) }])),
      meanL1: n ? l1[m]!.reduce((a, b) => a + b, 0) / n : 0,
      replicates: n,
    }];
  }));
}

/**
 * A bootstrap interval moved onto a published share: the published share (from SQL over sessions) and the
 * path re-fit can differ a little (path transforms, rounding), so the interval keeps the re-fit's deviations
 * [q05 − point, q95 − point] around the published share, clipped to [0, 1] (the basic shift of a
 * percentile interval; it always contains the published share).
 */
export function intervalAround(share: number, point: number, iv: ShareInterval): ShareInterval {
  return {
    lo: Math.max(0, Math.min(share, share + (iv.lo - point))),
    hi: Math.min(1, Math.max(share, share + (iv.hi - point))),
  };
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

/** One replicate's share of a channel under a model, computed elsewhere (SQL: channel_share_replicates). */
export interface ShareReplicate {
  model: string;
  /** 0: the data itself (the point estimate); 1 … B: bootstrap replicates. */
  replicate: number;
  channel: string;
  share: number;
}

/**
 * Each model's bootstrap from replicate shares computed outside (the models written in SQL over sessions, whose
 * replicates SQL computes: channel_share_replicates), summarised as `bootstrapModels` does: replicate 0 is the
 * point, the 90 % interval the 5th–95th percentile over replicates 1 … B, a channel missing from a replicate has
 * share 0 there. A model without replicate 0 published nothing and is left out; replicates absent from the rows (the
 * model would publish nothing on them) are not counted, as `bootstrapModels` skips a replicate with no conversion.
 */
export function bootstrapFromReplicates(rows: readonly ShareReplicate[]): Record<string, ModelBootstrap> {
  const byModel = new Map<string, Map<number, Map<string, number>>>();
  for (const r of rows) {
    const reps = byModel.get(r.model) ?? new Map<number, Map<string, number>>();
    byModel.set(r.model, reps);
    const shares = reps.get(r.replicate) ?? new Map<string, number>();
    reps.set(r.replicate, shares);
    shares.set(r.channel, r.share);
  }
  const out: Record<string, ModelBootstrap> = {};
  for (const [model, reps] of [...byModel].sort((a, b) => compareStrings(a[0], b[0]))) {
    const point = reps.get(0);
    if (!point) continue;
    const channels = [...point.keys()].sort(compareStrings);
    const draws: Record<string, number[]> = Object.fromEntries(channels.map((c) => [c, []]));
    const l1: number[] = [];
    for (const [b, shares] of [...reps].sort((x, y) => x[0] - y[0])) {
      if (b === 0) continue;
      let d = 0;
      for (const c of channels) {
        const v = shares.get(c) ?? 0;
        draws[c]!.push(v);
        d += Math.abs(v - point.get(c)!);
      }
      l1.push(d);
    }
    out[model] = {
      point: Object.fromEntries(point),
      intervals: l1.length ? Object.fromEntries(channels.map((c) => [c, { lo: quantile(draws[c]!, 0.05), hi: quantile(draws[c]!, 0.95) }])) : {},
      meanL1: l1.length ? l1.reduce((a, b) => a + b, 0) / l1.length : 0,
      replicates: l1.length,
    };
  }
  return out;
}
