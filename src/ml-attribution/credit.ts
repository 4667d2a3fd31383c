/**
 * Per-journey channel credit from a fitted conversion model, and its roll-up to channel and day tables.
 * Pure functions, no I/O: the model enters as a `predict` (probabilities) or `shap` function.
 *
 * Three methods, each giving a converting journey's channels shares that add up to 1:
 * - removal effect (marginal contribution): raw_i = P(conv | all touches) − P(conv | all but channel i);
 * - Shapley over the journey's channels with the model as value function v(S) = P(conv | only S's touches);
 * - TreeSHAP: raw_i = Σ of the TreeSHAP contributions (margin scale) of channel i's features.
 *
 * Value of the empty coalition: v(∅) = 0. A journey without touches is not a journey the model has
 * seen (every journey has ≥ 1 touch), so the model's prediction there would be an extrapolation; with
 * v(∅) = 0 a one-channel journey gives its channel all the credit, as every other model in the project does.
 *
 * Negative-part policy (all methods, {@link normaliseCredit}): a channel whose raw credit is negative
 * (removing it would *raise* the predicted probability, or its SHAP contribution is negative) gets 0;
 * the positive parts are normalised to add up to 1. When no channel has a positive part, the conversion
 * is split equally between the journey's channels (it must still be credited to someone; equal split is
 * the uninformative choice). Negative parts are clipped, not netted against the positives, so one
 * channel's negative estimate never inflates the others beyond their own positive evidence.
 */
import { ModelInputError, compareStrings, mulberry32, neumaierAccumulator, type NeumaierAccumulator } from "../models/numeric.ts";
import { getOrMake } from "../util/maps.ts";
import { channelColumns, encodeJourney, type FeatureEncoding, type FeatureRow, type JourneyFeatures } from "./features.ts";

/** Probabilities for the rows of a row-major matrix with the encoding's columns. */
export type Predict = (X: Float32Array) => Float64Array;
/** TreeSHAP contributions [n × (F + 1)], bias last (BoostedModel.shap). */
type Shap = (X: Float32Array) => Float64Array;

/**
 * Shares from raw credit under the negative-part policy (module comment): clip negatives (and NaN) to 0,
 * normalise; all ≤ 0 → equal split. Empty input → empty output. O(n).
 */
export function normaliseCredit(raw: ArrayLike<number>): Float64Array {
  const n = raw.length;
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = raw[i]!;
    out[i] = v > 0 ? v : 0;
    sum += out[i]!;
  }
  if (sum > 0 && Number.isFinite(sum)) for (let i = 0; i < n; i++) out[i] = out[i]! / sum;
  else out.fill(n > 0 ? 1 / n : 0);
  return out;
}

/** Rows per predict call: bounds the memory of coalition matrices (rows × F × 4 bytes). */
const DEFAULT_BATCH_ROWS = 32_768;

/**
 * The model as value function for a batch of coalitions: one probability per (journey index, keep-mask over
 * the journey's channels), in batch order. Masks are never empty, and are shared by the journeys of one size: read
 * them only. Lets sequence models (which drop a channel's touches rather than its feature columns) share the Shapley
 * and removal code.
 */
export type CoalitionValues = (batch: ReadonlyArray<{ index: number; mask: Uint8Array }>) => Float64Array;

/**
 * {@link CoalitionValues} of a feature-vector model: the journey encoded with the masked-out channels' columns empty.
 * One matrix serves every batch (encodeJourney writes every column of a row): a new one per batch (up to
 * DEFAULT_BATCH_ROWS × F × 4 bytes, 11.7 MB at 89 columns) made V8 run a full collection of the job's whole heap
 * for about every other batch.
 */
export function encodedCoalitionValues(enc: FeatureEncoding, journeys: readonly JourneyFeatures[], predict: Predict): CoalitionValues {
  const F = enc.featureNames.length;
  const matrix = reusedMatrix(F);
  return (batch) => {
    const X = matrix(batch.length);
    batch.forEach((b, r) => encodeJourney(enc, journeys[b.index]!, X, r * F, b.mask));
    return predict(X);
  };
}

/** A row-major matrix of `rows` × F, the same memory each call (grown when more rows are asked for); overwritten by the next call. */
export function reusedMatrix(F: number): (rows: number) => Float32Array {
  let buffer = new Float32Array(0);
  return (rows) => {
    if (buffer.length < rows * F) buffer = new Float32Array(rows * F);
    return buffer.length === rows * F ? buffer : buffer.subarray(0, rows * F);
  };
}

/**
 * Evaluate v(S) for coalitions of many journeys in batches. `coalitionsOf(n, i)` lists keep-masks over the
 * n = sizes[i] channels of journey i; an empty mask has value 0 without a prediction. `consume(i, values)`
 * receives the values in the order of the masks. Journeys are consumed in input order.
 */
function evaluateCoalitions(
  sizes: ArrayLike<number>,
  values: CoalitionValues,
  coalitionsOf: (n: number, index: number) => Uint8Array[],
  consume: (index: number, values: Float64Array) => void,
  batchRows = DEFAULT_BATCH_ROWS,
): void {
  let pending: Array<{ index: number; masks: Uint8Array[] }> = [];
  let pendingRows = 0;
  const flush = (): void => {
    if (!pending.length) return;
    const batch: Array<{ index: number; mask: Uint8Array }> = [];
    for (const p of pending) for (const m of p.masks) if (anyKept(m)) batch.push({ index: p.index, mask: m });
    const pr = batch.length ? values(batch) : new Float64Array(0);
    let r = 0;
    for (const p of pending) {
      const v = new Float64Array(p.masks.length);
      for (let k = 0; k < p.masks.length; k++) v[k] = anyKept(p.masks[k]!) ? pr[r++]! : 0;
      consume(p.index, v);
    }
    pending = [];
    pendingRows = 0;
  };
  for (let i = 0; i < sizes.length; i++) {
    const masks = coalitionsOf(sizes[i]!, i);
    let rows = 0;
    for (const m of masks) if (anyKept(m)) rows++;
    if (pendingRows > 0 && pendingRows + rows > batchRows) flush();
    pending.push({ index: i, masks });
    pendingRows += rows;
  }
  flush();
}

/** Whether a coalition keeps a channel (an empty one has value 0 without a prediction). */
function anyKept(mask: Uint8Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i]) return true;
  return false;
}

/**
 * `make(n)`, made once per journey size: the coalitions of a removal or exact Shapley pass depend only on the number
 * of channels, and the masks are only read (a mask per coalition of every journey was most of the job's garbage).
 */
function masksBySize(make: (n: number) => Uint8Array[]): (n: number) => Uint8Array[] {
  const bySize = new Map<number, Uint8Array[]>();
  return (n) => getOrMake(bySize, n, () => make(n));
}

function fullMask(n: number): Uint8Array {
  return new Uint8Array(n).fill(1);
}

/**
 * Removal-effect (marginal contribution) shares per journey, in the order of `journey.channels`:
 * raw_i = P(all) − P(all but i), then {@link normaliseCredit}.
 * Complexity: Σ (k_j + 1) predictions for journeys with k_j channels.
 */
export function removalEffectShares(enc: FeatureEncoding, journeys: readonly JourneyFeatures[], predict: Predict, batchRows?: number): Float64Array[] {
  return removalEffectSharesBy(journeys.map((j) => j.channels.length), encodedCoalitionValues(enc, journeys, predict), batchRows);
}

/** {@link removalEffectShares} with any value function: `sizes[i]` channels in journey i. */
export function removalEffectSharesBy(sizes: ArrayLike<number>, values: CoalitionValues, batchRows?: number): Float64Array[] {
  return removalDifferencesBy(sizes, values, batchRows).map(normaliseCredit);
}

/**
 * Raw removal differences per journey, in the order of its channels: d_i = v(all) − v(all but i), not
 * normalised (a journey that converts anyway gives every channel ≈ 0, which per-journey shares cannot say).
 * Complexity: Σ (k_j + 1) values for journeys with k_j channels.
 */
export function removalDifferencesBy(sizes: ArrayLike<number>, values: CoalitionValues, batchRows?: number): Float64Array[] {
  const out: Float64Array[] = new Array(sizes.length);
  evaluateCoalitions(
    sizes, values,
    masksBySize((n) => {
      const masks = [fullMask(n)];
      for (let i = 0; i < n; i++) {
        const m = fullMask(n);
        m[i] = 0;
        masks.push(m);
      }
      return masks;
    }),
    (index, v) => {
      const raw = new Float64Array(v.length - 1);
      for (let i = 0; i < raw.length; i++) raw[i] = v[0]! - v[i + 1]!;
      out[index] = raw;
    },
    batchRows,
  );
  return out;
}

export interface ShapleyOptions {
  /** Exact over all 2^k coalitions up to this many channels in a journey; permutation sampling above. */
  maxExactChannels: number;
  /** Permutations per journey when sampling. */
  permutations: number;
  /** PRNG seed; journey i uses seed + i, so results do not depend on batching. */
  seed: number;
  batchRows?: number;
}

interface ShapleyShares {
  shares: Float64Array[];
  /** Journeys whose values were sampled (more channels than maxExactChannels). */
  sampledJourneys: number;
}

/** Shapley weights s!(n−s−1)!/n! for s = 0..n−1. */
function shapleyWeights(n: number): Float64Array {
  const w = new Float64Array(n);
  // s!(n−s−1)!/n! = 1 / (n · C(n−1, s)).
  let binom = 1;
  for (let s = 0; s < n; s++) {
    w[s] = 1 / (n * binom);
    binom = (binom * (n - 1 - s)) / (s + 1);
  }
  return w;
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

/**
 * Shapley shares over each journey's channels with the model as value function, v(S) = P(conv | the
 * journey restricted to S), v(∅) = 0; then {@link normaliseCredit} (Σφ = P(all) > 0, so shares are φ/Σφ
 * unless some φ < 0).
 * Exact (k ≤ maxExactChannels): φ_i = Σ_{S ⊆ N∖{i}} |S|!(k−|S|−1)!/k! · (v(S ∪ {i}) − v(S)), 2^k − 1
 * predictions. Sampled: Castro, Gómez & Tejada (2009), "Polynomial calculation of the Shapley value
 * based on sampling", Computers & Operations Research 36(5): mean marginal contribution over seeded
 * random permutations, k·M predictions; each permutation's contributions add up to v(N), so the estimate
 * is efficient exactly.
 * Reference: Shapley (1953); Dalessandro et al. (2012), "Causally motivated attribution for online
 * advertising", ADKDD (Shapley credit with a conversion model as value function).
 */
export function shapleyShares(enc: FeatureEncoding, journeys: readonly JourneyFeatures[], predict: Predict, opts: ShapleyOptions): ShapleyShares {
  return shapleySharesBy(journeys.map((j) => j.channels.length), encodedCoalitionValues(enc, journeys, predict), opts);
}

/** {@link shapleyShares} with any value function: `sizes[i]` channels in journey i. */
export function shapleySharesBy(sizes: ArrayLike<number>, values: CoalitionValues, opts: ShapleyOptions): ShapleyShares {
  if (!Number.isInteger(opts.maxExactChannels) || opts.maxExactChannels < 1 || opts.maxExactChannels > 20) {
    throw new ModelInputError(`shapleyShares: maxExactChannels must be an integer from 1 to 20, got ${opts.maxExactChannels}`);
  }
  if (!Number.isInteger(opts.permutations) || opts.permutations < 1) throw new ModelInputError(`shapleyShares: permutations must be a positive integer, got ${opts.permutations}`);
  const out: Float64Array[] = new Array(sizes.length);
  const perms = new Map<number, Int32Array[]>();
  let sampled = 0;
  // Mask m (bit i = channel i) at position m − 1; the empty coalition is not evaluated.
  const exactMasks = masksBySize((n) => {
    const masks: Uint8Array[] = [];
    for (let m = 1; m < 1 << n; m++) {
      const keep = new Uint8Array(n);
      for (let i = 0; i < n; i++) keep[i] = (m >> i) & 1;
      masks.push(keep);
    }
    return masks;
  });
  evaluateCoalitions(
    sizes, values,
    (n, index) => {
      if (n <= opts.maxExactChannels) return exactMasks(n);
      sampled++;
      const rand = mulberry32((opts.seed + index) >>> 0);
      const list: Int32Array[] = [];
      const masks: Uint8Array[] = [];
      for (let p = 0; p < opts.permutations; p++) {
        const order = Int32Array.from({ length: n }, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const k = Math.floor(rand() * (i + 1));
          const t = order[i]!;
          order[i] = order[k]!;
          order[k] = t;
        }
        list.push(order);
        // Prefixes of size 1..n−1 (the full set is evaluated once, below).
        const keep = new Uint8Array(n);
        for (let t = 0; t < n - 1; t++) {
          keep[order[t]!] = 1;
          masks.push(keep.slice());
        }
      }
      masks.push(fullMask(n));
      perms.set(index, list);
      return masks;
    },
    (index, v) => {
      const n = sizes[index]!;
      const phi = new Float64Array(n);
      const list = perms.get(index);
      if (list === undefined) {
        const w = shapleyWeights(n);
        const value = (m: number): number => (m === 0 ? 0 : v[m - 1]!);
        for (let m = 0; m < 1 << n; m++) {
          const s = popcount(m);
          for (let i = 0; i < n; i++) {
            if ((m >> i) & 1) continue;
            phi[i] += w[s]! * (value(m | (1 << i)) - value(m));
          }
        }
      } else {
        const full = v[v.length - 1]!;
        let r = 0;
        for (const order of list) {
          let prev = 0;
          for (let t = 0; t < n; t++) {
            const cur = t === n - 1 ? full : v[r++]!;
            phi[order[t]!] += cur - prev;
            prev = cur;
          }
        }
        for (let i = 0; i < n; i++) phi[i] = phi[i]! / list.length;
        perms.delete(index);
      }
      out[index] = normaliseCredit(phi);
    },
    opts.batchRows,
  );
  return { shares: out, sampledJourneys: sampled };
}

interface TreeShapCredit {
  shares: Float64Array[];
  /** Σ_j weight_j |φ_jf| / Σ_j weight_j per feature (TreeSHAP importance over the given journeys). */
  meanAbsShap: Float64Array;
}

/**
 * TreeSHAP shares: raw_i = Σ of the contributions of channel i's feature columns (has, touches,
 * recency, position, first, last; margin scale) for the channels present in the journey; then
 * {@link normaliseCredit}. Contributions of non-channel features (path length, user properties) and of
 * absent channels are not channel credit and are left out.
 * Reference: Lundberg, Erion & Lee (2018), "Consistent individualized feature attribution for tree
 * ensembles", arXiv:1802.03888.
 * Complexity: one TreeSHAP pass per journey (batched).
 */
export function treeShapCredit(enc: FeatureEncoding, journeys: readonly JourneyFeatures[], weights: ArrayLike<number>, shap: Shap, batchRows = DEFAULT_BATCH_ROWS): TreeShapCredit {
  const F = enc.featureNames.length;
  const shares: Float64Array[] = new Array(journeys.length);
  const absSum = new Float64Array(F);
  let wSum = 0;
  const columns = new Map(enc.channels.map((c) => [c, channelColumns(enc, c)]));
  const matrix = reusedMatrix(F);
  for (let start = 0; start < journeys.length; start += batchRows) {
    const batch = journeys.slice(start, start + batchRows);
    const X = matrix(batch.length);
    batch.forEach((j, i) => encodeJourney(enc, j, X, i * F));
    const phi = shap(X);
    batch.forEach((j, i) => {
      const off = i * (F + 1);
      const w = weights[start + i]!;
      wSum += w;
      for (let f = 0; f < F; f++) absSum[f] += w * Math.abs(phi[off + f]!);
      shares[start + i] = normaliseCredit(j.channels.map((c) => (columns.get(c.channel) ?? []).reduce((s, col) => s + phi[off + col]!, 0)));
    });
  }
  for (let f = 0; f < F; f++) absSum[f] = wSum > 0 ? absSum[f]! / wSum : 0;
  return { shares, meanAbsShap: absSum };
}

/** Unique converting feature vectors of `rows` (all days) with their conversions, ordered by key. */
export function convertingVectors(rows: readonly FeatureRow[]): { keys: string[]; journeys: JourneyFeatures[]; conversions: number[] } {
  const vectors = new Map<string, { j: JourneyFeatures; conversions: number }>();
  for (const r of rows) {
    if (r.conversions <= 0) continue;
    const v = vectors.get(r.key);
    if (v) v.conversions += r.conversions;
    else vectors.set(r.key, { j: r, conversions: r.conversions });
  }
  const keys = [...vectors.keys()].sort(compareStrings);
  return { keys, journeys: keys.map((k) => vectors.get(k)!.j), conversions: keys.map((k) => vectors.get(k)!.conversions) };
}

export interface ChannelCredit {
  channel: string;
  conversions: number;
  value: number;
  /** conversions / Σ conversions (0 when nothing converted). */
  share: number;
}

export interface DailyCredit {
  date: string;
  channel: string;
  conversions: number;
  value: number;
}

/** What {@link rollUpCredit} reads of a row: journeys with one key (vector or sequence) on one day, and its channels. */
export interface CreditRow {
  date: string;
  key: string;
  conversions: number;
  value: number;
  channels: ReadonlyArray<{ channel: string }>;
}

/**
 * Roll per-vector shares up to channel totals and channel × day: each row adds conversions × share_i
 * and value × share_i to its channels. Sums are Neumaier-compensated and rows are visited in (date, key)
 * order, so the result does not depend on the input order. Rows without conversions are skipped.
 * @throws ModelInputError when a converting row's key has no shares.
 */
export function rollUpCredit(rows: readonly CreditRow[], sharesByKey: ReadonlyMap<string, Float64Array>): { totals: ChannelCredit[]; daily: DailyCredit[] } {
  const sorted = rows.filter((r) => r.conversions > 0).sort((a, b) => compareStrings(a.date, b.date) || compareStrings(a.key, b.key));
  const acc = (): { c: NeumaierAccumulator; v: NeumaierAccumulator } => ({ c: neumaierAccumulator(), v: neumaierAccumulator() });
  const total = new Map<string, ReturnType<typeof acc>>();
  const daily = new Map<string, Map<string, ReturnType<typeof acc>>>();
  for (const r of sorted) {
    const shares = sharesByKey.get(r.key);
    if (!shares) throw new ModelInputError(`rollUpCredit: no credit shares for the feature vector ${r.key}`);
    let day = daily.get(r.date);
    if (!day) daily.set(r.date, (day = new Map()));
    r.channels.forEach((c, i) => {
      const s = shares[i]!;
      if (s === 0) return;
      for (const m of [total, day!]) {
        let a = m.get(c.channel);
        if (!a) m.set(c.channel, (a = acc()));
        a.c.add(r.conversions * s);
        a.v.add(r.value * s);
      }
    });
  }
  const channels = [...total.keys()].sort(compareStrings);
  const sum = neumaierAccumulator();
  for (const c of channels) sum.add(total.get(c)!.c.value());
  const all = sum.value();
  const totals = channels.map((channel) => {
    const a = total.get(channel)!;
    return { channel, conversions: a.c.value(), value: a.v.value(), share: all > 0 ? a.c.value() / all : 0 };
  });
  const dailyRows: DailyCredit[] = [];
  for (const date of [...daily.keys()].sort(compareStrings)) {
    const day = daily.get(date)!;
    for (const channel of [...day.keys()].sort(compareStrings)) {
      const a = day.get(channel)!;
      dailyRows.push({ date, channel, conversions: a.c.value(), value: a.v.value() });
    }
  }
  return { totals, daily: dailyRows };
}

interface CappedShares {
  shares: Map<string, number>;
  /** Channels held at the cap. */
  capped: string[];
  /** False when the cap cannot hold (cap × channels with credit < 1): every such channel gets an equal share. */
  feasible: boolean;
}

/**
 * Cap every channel's share at `cap` and redistribute the excess to the other channels in proportion to
 * their shares (water-filling): repeat { channels above the cap are fixed at the cap; the rest share
 * 1 − cap·|capped| in proportion to their original shares } until no share exceeds the cap. At most n
 * rounds, O(n²). Shares are normalised first; channels with share 0 stay at 0 (redistribution is
 * proportional). cap ≥ 1 returns the shares unchanged (off).
 * Edge cases: all shares 0 → unchanged; cap × (channels with share > 0) < 1 → infeasible: equal shares.
 */
export function capShares(shares: ReadonlyMap<string, number>, cap: number): CappedShares {
  if (!(cap > 0)) throw new ModelInputError(`capShares: cap must be > 0, got ${cap}`);
  const entries = [...shares.entries()].sort((a, b) => compareStrings(a[0], b[0]));
  const sum = entries.reduce((s, [, v]) => s + Math.max(v, 0), 0);
  if (cap >= 1 || sum <= 0) return { shares: new Map(entries), capped: [], feasible: true };
  const orig = new Map(entries.map(([c, v]) => [c, Math.max(v, 0) / sum]));
  const positive = entries.filter(([c]) => orig.get(c)! > 0).map(([c]) => c);
  if (cap * positive.length < 1 - 1e-12) {
    return { shares: new Map(entries.map(([c]) => [c, orig.get(c)! > 0 ? 1 / positive.length : 0])), capped: positive, feasible: false };
  }
  const capped = new Set<string>();
  let out = new Map(orig);
  for (let round = 0; round <= entries.length; round++) {
    const over = [...out.entries()].filter(([c, v]) => !capped.has(c) && v > cap + 1e-15).map(([c]) => c);
    if (!over.length) break;
    for (const c of over) capped.add(c);
    const rest = 1 - cap * capped.size;
    const freeSum = [...orig.entries()].filter(([c]) => !capped.has(c)).reduce((s, [, v]) => s + v, 0);
    out = new Map([...orig.entries()].map(([c, v]) => [c, capped.has(c) ? cap : freeSum > 0 ? (v * rest) / freeSum : 0]));
  }
  return { shares: out, capped: [...capped].sort(compareStrings), feasible: true };
}

/**
 * Apply {@link capShares} to channel credit: conversions and value shares are capped separately, and
 * each channel's daily rows are scaled by the same factor as its total, so days still add up to totals.
 */
export function capChannelCredit(totals: readonly ChannelCredit[], daily: readonly DailyCredit[], cap: number): { totals: ChannelCredit[]; daily: DailyCredit[]; capped: string[]; feasible: boolean } {
  if (cap >= 1) return { totals: [...totals], daily: [...daily], capped: [], feasible: true };
  const convTotal = totals.reduce((s, t) => s + t.conversions, 0);
  const valueTotal = totals.reduce((s, t) => s + t.value, 0);
  const conv = capShares(new Map(totals.map((t) => [t.channel, t.conversions])), cap);
  const val = capShares(new Map(totals.map((t) => [t.channel, t.value])), cap);
  const factor = new Map(totals.map((t) => [t.channel, {
    c: t.conversions > 0 ? (conv.shares.get(t.channel)! * convTotal) / t.conversions : 1,
    v: t.value > 0 ? (val.shares.get(t.channel)! * valueTotal) / t.value : 1,
  }]));
  return {
    totals: totals.map((t) => ({ channel: t.channel, conversions: t.conversions * factor.get(t.channel)!.c, value: t.value * factor.get(t.channel)!.v, share: conv.shares.get(t.channel)! })),
    daily: daily.map((d) => ({ ...d, conversions: d.conversions * (factor.get(d.channel)?.c ?? 1), value: d.value * (factor.get(d.channel)?.v ?? 1) })),
    capped: conv.capped,
    feasible: conv.feasible && val.feasible,
  };
}
