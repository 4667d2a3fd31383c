/**
 * Data-driven Shapley attribution over channel coalitions.
 *
 * Players are channels; a journey's coalition is the set of channels on its path (a bitmask, bit i ↔
 * `channels[i]`). The Shapley value of channel i for a value function v is
 *   φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S))          (Shapley 1953)
 * and the channel's credit is its share of Σ φ, applied to the total conversions and total value.
 *
 * Value functions (`valueFunction`):
 * - "exact" (fitShapley's default; setting `exact_set_rate`): v(S) = conversion rate of the journeys whose channel set is exactly S, 0 when no
 *   journey has exactly S. This is Dalessandro et al. 2012 ("Causally motivated attribution for online
 *   advertising", ADKDD): v(S) estimates P(convert | exposed to S and nothing else), so v(S ∪ i) − v(S)
 *   reads as the incremental effect of adding i; it is also the counterfactual fractribution uses (the
 *   conversion probability of the path with a channel removed, 0 for paths never observed). Default
 *   because it is the only one of the three with that causal reading; its cost is variance for rare
 *   coalitions, and marginal contributions can be negative (clipped by default, see `negative`).
 * - "contains" (setting `containing_set_rate`): v(S) = conversion rate of the journeys whose channel set contains S (v(∅) = overall
 *   rate). Shao & Li 2011 ("Data-driven multi-touch attribution models", KDD) estimate conditional
 *   conversion probabilities given exposure to a channel (pair) this way; it pools more journeys per
 *   coalition (less variance) but mixes in the effect of the other channels those journeys saw.
 * - "subsets" (setting `subset_conversions`, the shapley job's default): v(S) = conversions of the journeys whose channel set is a subset of S (Zhao, Mahboobi &
 *   Bagheri 2018, "Shapley value methods for attribution modeling in online advertising"); then
 *   φ_i = Σ_{T ∋ i} conv(T)/|T| (their simplified formula) and Σ φ = total conversions. The ordered
 *   variant ({@link orderedShapley}) builds on it.
 *
 * Openers: under "exact" (and "contains"), a channel that only opens journeys is compared with journeys that lack it,
 * e.g. v({opener, closer}) − v({closer}); when the closer alone converts at a higher rate (returning buyers), that
 * marginal contribution is negative and clipping leaves the opener 0 even though the journeys it opens bring most of
 * the conversions (test/models-shapley.test.ts, "opener"). "subsets" never punishes it: each converting journey's
 * conversions are shared equally by its channels. The negative part of φ_i, Σ_S w(S)·min(0, v(S ∪ {i}) − v(S)), is
 * reported as `negativeContribution` so clipping is visible.
 *
 * Exact computation enumerates every coalition: O(2^n · n) time, O(2^n) memory (value table), used up to
 * `maxExactChannels` (default 15). Above, permutation sampling (Castro, Gómez & Tejada 2009): for M
 * seeded random orders, each channel's marginal contribution when it joins; φ̂_i = mean, standard error
 * = sd/√M, O(M · n) value look-ups.
 */
import { ModelInputError, mulberry32, neumaierAccumulator, proportionalShares, requireNonNegative, shuffleInPlace } from "./numeric.ts";

/** One aggregate: journeys whose channel set is `channels` (bit i ↔ ShapleyOptions.channels[i]). */
export interface CoalitionRow {
  channels: number;
  conversions: number;
  nulls: number;
  value?: number;
}

export type ShapleyValueFunction = "exact" | "contains" | "subsets";

export interface ShapleyOptions {
  /** Channel names; bit i of a row's mask is channels[i]. At most 30. */
  channels: readonly string[];
  valueFunction?: ShapleyValueFunction;
  /** "auto" (default): exact up to maxExactChannels, else sampled. */
  method?: "auto" | "exact" | "sampled";
  maxExactChannels?: number;
  /** Permutations drawn by the sampled method (default 4000). */
  samples?: number;
  /** Seed of the permutation sampler (default 1). */
  seed?: number;
  /** Negative Shapley values: "clip" to 0 before taking shares (default) or "keep" them. */
  negative?: "clip" | "keep";
}

interface ShapleyCredit {
  channel: string;
  /** Raw Shapley value φ_i on the value function's scale. */
  shapley: number;
  /** Standard error of φ_i (0 when exact). */
  standardError: number;
  /** Σ_S w(S)·min(0, v(S ∪ {i}) − v(S)): the negative marginal contributions inside φ_i (≤ 0; sampled: their mean). */
  negativeContribution: number;
  /** Share of total credit (after the `negative` rule). */
  share: number;
  conversions: number;
  value: number;
}

interface ShapleyModel {
  kind: "shapley";
  version: 1;
  valueFunction: ShapleyValueFunction;
  method: "exact" | "sampled";
  samples: number;
  seed: number;
  channels: string[];
  credits: ShapleyCredit[];
  totalConversions: number;
  totalValue: number;
  /** v(N) − v(∅): what the raw Shapley values add up to (efficiency). */
  grandCoalitionGain: number;
}

const MAX_SHAPLEY_CHANNELS = 30;

/**
 * Fit channel Shapley values on coalition aggregates. Rows with the same mask may repeat (they add).
 * Edge cases: no rows / no conversions → all credits 0 (no NaN); a channel never observed has φ = 0
 * under "exact"/"subsets"; Σφ ≤ 0 after clipping → all shares 0.
 * Throws ModelInputError for more than 30 channels, masks with bits beyond `channels`, bad counts.
 */
export function fitShapley(rows: readonly CoalitionRow[], options: ShapleyOptions): ShapleyModel {
  const channels = [...options.channels];
  const n = channels.length;
  if (n > MAX_SHAPLEY_CHANNELS) {
    throw new ModelInputError(`Shapley: ${n} channels; at most ${MAX_SHAPLEY_CHANNELS} fit in a bitmask — group channels first`);
  }
  const vf = options.valueFunction ?? "exact";
  if (vf !== "exact" && vf !== "contains" && vf !== "subsets") {
    throw new ModelInputError(`Shapley: valueFunction must be "exact", "contains" or "subsets" (got ${String(vf)})`);
  }
  const maxExact = options.maxExactChannels ?? 15;
  const method: "exact" | "sampled" =
    options.method === "exact" || (options.method !== "sampled" && n <= maxExact) ? "exact" : "sampled";
  if (method === "exact" && n > 26) {
    throw new ModelInputError(`Shapley: exact enumeration of ${n} channels needs 2^${n} coalitions; use method "sampled"`);
  }
  const samples = options.samples ?? 4000;
  const seed = options.seed ?? 1;
  const full = n === 0 ? 0 : (1 << n) - 1;

  // Aggregate rows by mask.
  const conv = new Map<number, number>();
  const tries = new Map<number, number>();
  const totConv = neumaierAccumulator();
  const totVal = neumaierAccumulator();
  rows.forEach((r, i) => {
    requireNonNegative(r.conversions, `coalition row ${i} conversions`);
    requireNonNegative(r.nulls, `coalition row ${i} nulls`);
    if (r.value !== undefined) requireNonNegative(r.value, `coalition row ${i} value`);
    if (!Number.isInteger(r.channels) || r.channels < 0 || (r.channels & ~full) !== 0) {
      throw new ModelInputError(`coalition row ${i}: mask ${r.channels} has bits beyond the ${n} channels given; check the channel list`);
    }
    conv.set(r.channels, (conv.get(r.channels) ?? 0) + r.conversions);
    tries.set(r.channels, (tries.get(r.channels) ?? 0) + r.conversions + r.nulls);
    totConv.add(r.conversions);
    totVal.add(r.value ?? 0);
  });

  const v = makeValueFunction(vf, n, conv, tries, method === "exact");
  const phi = new Float64Array(n);
  const se = new Float64Array(n);
  const neg = new Float64Array(n);
  if (method === "exact") exactShapley(n, v, phi, neg);
  else sampledShapley(n, v, samples, seed, phi, se, neg);

  const clip = (options.negative ?? "clip") === "clip";
  const weights = Float64Array.from(phi, (x) => (clip ? Math.max(0, x) : x));
  const shares = proportionalShares(weights, 1);
  const totalConversions = totConv.value();
  const totalValue = totVal.value();
  const convShares = proportionalShares(weights, totalConversions);
  const valShares = proportionalShares(weights, totalValue);
  return {
    kind: "shapley",
    version: 1,
    valueFunction: vf,
    method,
    samples: method === "sampled" ? samples : 0,
    seed,
    channels,
    credits: channels.map((channel, i) => ({
      channel,
      shapley: phi[i]!,
      negativeContribution: neg[i]!,
      standardError: se[i]!,
      share: shares[i]!,
      conversions: convShares[i]!,
      value: valShares[i]!,
    })),
    totalConversions,
    totalValue,
    grandCoalitionGain: n === 0 ? 0 : v(full) - v(0),
  };
}

/** Serialise / load a Shapley model as tagged JSON. */
export function shapleyToJSON(model: ShapleyModel): string {
  return JSON.stringify(model);
}
export function loadShapley(json: string | unknown): ShapleyModel {
  const obj: unknown = typeof json === "string" ? JSON.parse(json) : json;
  if (typeof obj !== "object" || obj === null || (obj as { kind?: unknown }).kind !== "shapley" || (obj as { version?: unknown }).version !== 1) {
    throw new ModelInputError(`not a version-1 shapley model (expected kind "shapley"); refit with fitShapley`);
  }
  return obj as ShapleyModel;
}

/** Bitmask of a set of channel names against `channels` (throws on an unknown name). */
export function coalitionMask(set: Iterable<string>, channels: readonly string[]): number {
  let m = 0;
  for (const c of set) {
    const i = channels.indexOf(c);
    if (i < 0) throw new ModelInputError(`channel "${c}" is not in the channel list (${channels.join(", ")})`);
    m |= 1 << i;
  }
  return m;
}

/** Number of set bits. O(1). */
export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * v(S) as a function of the mask. With `table` (exact enumeration, n ≤ 26) all 2^n values are built
 * up front: "contains" by a superset-sum (SOS) transform, "subsets" by a subset-sum (zeta) transform,
 * each O(2^n · n). Otherwise values are computed on demand from the observed masks and cached.
 */
function makeValueFunction(
  vf: ShapleyValueFunction,
  n: number,
  conv: ReadonlyMap<number, number>,
  tries: ReadonlyMap<number, number>,
  table: boolean,
): (mask: number) => number {
  if (vf === "exact") {
    return (mask) => {
      const t = tries.get(mask) ?? 0;
      return t > 0 ? conv.get(mask)! / t : 0;
    };
  }
  if (table) {
    const size = 1 << n;
    const c = new Float64Array(size);
    const t = new Float64Array(size);
    for (const [m, x] of conv) c[m] = x;
    for (const [m, x] of tries) t[m] = x;
    for (let i = 0; i < n; i++) {
      const bit = 1 << i;
      for (let m = 0; m < size; m++) {
        if (vf === "contains") {
          if (!(m & bit)) {
            c[m] = c[m]! + c[m | bit]!;
            t[m] = t[m]! + t[m | bit]!;
          }
        } else if (m & bit) {
          c[m] = c[m]! + c[m ^ bit]!;
        }
      }
    }
    if (vf === "subsets") return (mask) => c[mask]!;
    return (mask) => (t[mask]! > 0 ? c[mask]! / t[mask]! : 0);
  }
  const cache = new Map<number, number>();
  const entries = [...tries.keys()];
  return (mask) => {
    let r = cache.get(mask);
    if (r !== undefined) return r;
    let cs = 0;
    let ts = 0;
    for (const m of entries) {
      const inside = vf === "contains" ? (m & mask) === mask : (m & ~mask) === 0;
      if (inside) {
        cs += conv.get(m) ?? 0;
        ts += tries.get(m)!;
      }
    }
    r = vf === "subsets" ? cs : ts > 0 ? cs / ts : 0;
    cache.set(mask, r);
    return r;
  };
}

/**
 * Exact Shapley by enumerating all 2^n coalitions once (each S contributes to every i ∉ S). O(2^n·n).
 * `neg` receives the negative terms' sum per channel (plain summation: all terms have one sign).
 */
function exactShapley(n: number, v: (mask: number) => number, phi: Float64Array, neg: Float64Array): void {
  if (n === 0) return;
  const size = 1 << n;
  // w(s) = s!(n−s−1)!/n! = 1 / (n · C(n−1, s))
  const w = new Float64Array(n);
  let binom = 1;
  for (let s = 0; s < n; s++) {
    w[s] = 1 / (n * binom);
    binom = (binom * (n - 1 - s)) / (s + 1);
  }
  const vals = new Float64Array(size);
  for (let m = 0; m < size; m++) vals[m] = v(m);
  // Neumaier-compensated accumulation per channel (2^n terms of mixed sign).
  const sum = new Float64Array(n);
  const comp = new Float64Array(n);
  for (let m = 0; m < size; m++) {
    const ws = w[popcount(m)]!;
    const vm = vals[m]!;
    for (let i = 0; i < n; i++) {
      const bit = 1 << i;
      if (m & bit) continue;
      const x = ws * (vals[m | bit]! - vm);
      if (x < 0) neg[i] = neg[i]! + x;
      const s = sum[i]!;
      const t = s + x;
      comp[i] = comp[i]! + (Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s);
      sum[i] = t;
    }
  }
  for (let i = 0; i < n; i++) phi[i] = sum[i]! + comp[i]!;
}

/** Permutation-sampling estimate with per-channel standard errors. O(samples · n) value look-ups. */
function sampledShapley(n: number, v: (mask: number) => number, samples: number, seed: number, phi: Float64Array, se: Float64Array, neg: Float64Array): void {
  if (n === 0) return;
  if (!Number.isInteger(samples) || samples < 2) {
    throw new ModelInputError(`Shapley: samples must be an integer ≥ 2 (got ${samples})`);
  }
  const rand = mulberry32(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  // Welford's running mean / variance per channel.
  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);
  const v0 = v(0);
  for (let k = 1; k <= samples; k++) {
    shuffleInPlace(perm, rand);
    let mask = 0;
    let prev = v0;
    for (let j = 0; j < n; j++) {
      const i = perm[j]!;
      mask |= 1 << i;
      const cur = v(mask);
      const x = cur - prev;
      prev = cur;
      if (x < 0) neg[i] = neg[i]! + x / samples;
      const d = x - mean[i]!;
      mean[i] = mean[i]! + d / k;
      m2[i] = m2[i]! + d * (x - mean[i]!);
    }
  }
  for (let i = 0; i < n; i++) {
    phi[i] = mean[i]!;
    se[i] = Math.sqrt(m2[i]! / (samples - 1) / samples);
  }
}

// ---------------------------------------------------------------------------------------------------
// Ordered Shapley (Zhao et al. 2018)

/** One aggregate for the ordered variant: channel indices in order of first touch. */
interface OrderedPathRow {
  path: readonly number[];
  conversions: number;
  value?: number;
}

interface OrderedShapleyCredit {
  channel: string;
  /** 1-based touch position (order of first occurrence). */
  position: number;
  conversions: number;
  value: number;
}

interface OrderedShapleyResult {
  /** Per (channel, position), sorted by channel index then position; zero cells omitted. */
  byPosition: OrderedShapleyCredit[];
  /** Per channel, Σ over positions (= Zhao's simplified Shapley with the "subsets" value function). */
  byChannel: { channel: string; conversions: number; value: number }[];
  totalConversions: number;
  totalValue: number;
}

/**
 * Ordered Shapley values (Zhao, Mahboobi & Bagheri 2018, §4): with v(S) = conversions of coalitions
 * contained in S, the Shapley value splits each journey's conversions equally over its |T| distinct
 * channels (φ_i = Σ_{T∋i} conv(T)/|T|); the ordered variant keeps the position j at which channel i first
 * appears: φ_i^j = Σ_{paths with i at position j} conv(path)/|path|. Value is split the same way.
 * Repeated channels keep their first occurrence (fractribution's `first` transform). Empty paths credit
 * nobody; their conversions are not in the credits (they are in totalConversions).
 * Complexity: O(Σ path lengths). Edge cases: no conversions → empty `byPosition`, zero `byChannel`.
 */
export function orderedShapley(rows: readonly OrderedPathRow[], channels: readonly string[]): OrderedShapleyResult {
  const n = channels.length;
  const cells = new Map<number, { c: ReturnType<typeof neumaierAccumulator>; v: ReturnType<typeof neumaierAccumulator> }>();
  let maxLen = 0;
  const totC = neumaierAccumulator();
  const totV = neumaierAccumulator();
  rows.forEach((r, i) => {
    requireNonNegative(r.conversions, `ordered path row ${i} conversions`);
    if (r.value !== undefined) requireNonNegative(r.value, `ordered path row ${i} value`);
    totC.add(r.conversions);
    totV.add(r.value ?? 0);
    const seen = new Set<number>();
    const p: number[] = [];
    for (const ch of r.path) {
      if (!Number.isInteger(ch) || ch < 0 || ch >= n) {
        throw new ModelInputError(`ordered path row ${i}: channel index ${ch} is not in 0..${n - 1}; check the channel list`);
      }
      if (!seen.has(ch)) {
        seen.add(ch);
        p.push(ch);
      }
    }
    if (p.length === 0 || (r.conversions === 0 && !r.value)) return;
    maxLen = Math.max(maxLen, p.length);
    p.forEach((ch, j) => {
      const key = ch * 1_000_000 + j;
      let cell = cells.get(key);
      if (!cell) {
        cell = { c: neumaierAccumulator(), v: neumaierAccumulator() };
        cells.set(key, cell);
      }
      cell.c.add(r.conversions / p.length);
      cell.v.add((r.value ?? 0) / p.length);
    });
  });
  const byPosition: OrderedShapleyCredit[] = [...cells.keys()]
    .sort((a, b) => a - b)
    .map((key) => {
      const cell = cells.get(key)!;
      return { channel: channels[Math.floor(key / 1_000_000)]!, position: (key % 1_000_000) + 1, conversions: cell.c.value(), value: cell.v.value() };
    });
  const byChannel = channels.map((channel) => {
    const c = neumaierAccumulator();
    const v = neumaierAccumulator();
    for (const cell of byPosition) if (cell.channel === channel) {
      c.add(cell.conversions);
      v.add(cell.value);
    }
    return { channel, conversions: c.value(), value: v.value() };
  });
  return { byPosition, byChannel, totalConversions: totC.value(), totalValue: totV.value() };
}
