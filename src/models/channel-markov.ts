/**
 * Channel-level Markov attribution: the model of the R/Python package ChannelAttribution
 * (`markov_model`, Altomare & Loris; source read: `cran/ChannelAttribution` src/ChannelAttribution.cpp and
 * `DavideAltomare/ChannelAttribution` python/src/cypack/functions.cpp), fitted on aggregated path rows,
 * with the removal effects computed **exactly** by solving the absorbing chain instead of by simulation.
 *
 * What ChannelAttribution does, and what we reproduce:
 * - States. Order 1: one state per channel; consecutive repeats of a channel collapse. Order k ≥ 2
 *   (`states: "sliding"`, the package's rule): the states of a path are its windows of k consecutive
 *   touches of the *raw* path (repeats are not collapsed first), a path shorter than k is one shorter
 *   state, and consecutive identical states collapse. `states: "padded"` is the textbook variant (collapse
 *   repeats, then k-tuples ending at each touch, padded with (start) at the front); it is not the package's.
 * - Transitions. Each path is (start) → s1 → … → sm → (conversion) with weight `conversions` and
 *   → (null) with weight `nulls`; the inner transitions carry `conversions + nulls`. Rows with zero weight
 *   add nothing. With `useNulls: false` (the package without `var_null`) nulls are ignored entirely.
 *   Transition probabilities are the counts normalised by row.
 * - Removal effect. The package simulates walks and reports RE_c = (# converting walks that visit a state
 *   containing c) / (# converting walks). That is the removal effect with c's inflow redirected to
 *   (null): RE_c = 1 − P'_c(conv) / P(conv), which we compute exactly, P = absorption probability in
 *   (conversion) from (start) of the chain, P'_c the same with every state containing c made absorbing
 *   in (null).
 * - Attributed conversions: total × RE_c / Σ_j RE_j (package: `total_conversion`).
 * - Value (package: `total_conversion_value`). For each simulated conversion the package draws a value
 *   from the empirical distribution of per-path mean values `value/conversions` of the paths whose last
 *   state is the walk's last state, weighted by conversions; the draw is credited to every channel the
 *   walk visited; channel value = total value × V_c / Σ_j V_j. In expectation the draw is
 *   m(s) = Σ value / Σ conversions over paths ending in s, so V_c/Σ conversions-walks is the removal effect
 *   of the value-weighted chain: h = r + Q h with reward r(s) = P(s→conv)·m(s),
 *   REv_c = 1 − h'_c(start)/h(start); attributed value = total value × REv_c / Σ_j REv_j. (The package's
 *   simulation also truncates walks at the longest observed path; the exact solution is its limit.)
 *
 * Differences from the package, on purpose: counts may be fractional (the package casts them to integers);
 * channels are sorted by name (the package lists them in order of first appearance); results are exact,
 * not simulated, so they match the package only up to its simulation noise.
 *
 * Solvers. The chain is absorbing: x = b + Q x with Q the transient part. Up to
 * {@link DENSE_STATE_LIMIT} states (order 1 always: ≤ channels + 1) each removal is a dense Gaussian
 * elimination with partial pivoting (O(n³)). Above, symmetric Gauss–Seidel on the sparse rows, warm-started
 * from the full solution, stopped when the a-posteriori bound ‖x − x*‖∞ ≤ ‖(I−Q)⁻¹‖∞ · ‖b + Qx − x‖∞ is
 * below `tolerance` (‖(I−Q)⁻¹‖∞ = the largest expected number of steps to absorption, computed once;
 * removing states can only shorten walks, so it bounds every removal chain too).
 */
import {
  ModelInputError,
  compareStrings,
  neumaierAccumulator,
  proportionalShares,
  requireNonNegative,
} from "./numeric.ts";

/** One aggregated path row, ChannelAttribution's `(path, total_conversions, total_conversion_value, total_null)`. */
export interface ChannelPathRow {
  /** Channel ids, oldest touch first (raw: repeats allowed, they are handled as the package does). */
  path: readonly string[];
  conversions: number;
  /** Total conversion value of the row's conversions; 0 / absent when value is not modelled. */
  value?: number;
  /** Journeys with this path that did not convert. */
  nulls?: number;
}

export type MarkovOrder = 1 | 2 | 3 | 4;
type HigherOrderStates = "sliding" | "padded";

interface ChannelMarkovOptions {
  /** Markov order 1..4 (default 1). */
  order?: MarkovOrder;
  /** ChannelAttribution's `var_null`: use the rows' nulls (default true). */
  useNulls?: boolean;
  /** State rule for order ≥ 2 (default "sliding", ChannelAttribution's). */
  states?: HigherOrderStates;
  /** Target bound on the absolute error of each absorption probability (default 1e-12). */
  tolerance?: number;
  /** Safety cap on Gauss–Seidel sweeps per solve (default 100 000). */
  maxSweeps?: number;
  /** Include the transition table in the result (default true; large for order ≥ 3). */
  includeTransitions?: boolean;
}

interface TransitionRow {
  from: string;
  to: string;
  probability: number;
  /** Weighted count the probability is estimated from. */
  count: number;
}

interface ChannelMarkovCredit {
  channel: string;
  /** RE_c = 1 − P'_c(conv)/P(conv) ∈ [0, 1]. */
  removalEffect: number;
  /** Same on the value-weighted chain. */
  removalEffectValue: number;
  conversions: number;
  value: number;
}

interface ChannelMarkovSolverInfo {
  method: "dense" | "gauss-seidel";
  transientStates: number;
  transientTransitions: number;
  /** Total Gauss–Seidel sweeps over all solves (0 for dense). */
  sweeps: number;
  /** Largest a-posteriori bound on the absolute error of an absorption probability (relative for value). */
  errorBound: number;
}

/** A fitted channel Markov model: plain data, serialisable as tagged JSON. */
export interface ChannelMarkovModel {
  kind: "channel-markov";
  version: 1;
  order: MarkovOrder;
  useNulls: boolean;
  states: HigherOrderStates;
  /** Channels sorted by code unit; `credits` follows the same order. */
  channels: string[];
  credits: ChannelMarkovCredit[];
  totalConversions: number;
  totalValue: number;
  totalNulls: number;
  /** P(conversion) from (start) in the full chain. */
  conversionProbability: number;
  /** Rows sorted by (from, to); empty when `includeTransitions` was false. */
  transitions: TransitionRow[];
  solver: ChannelMarkovSolverInfo;
}

const START_STATE = "(start)";
const CONVERSION_STATE = "(conversion)";
const NULL_STATE = "(null)";
/** Above this many transient states the removal solves switch from dense elimination to Gauss–Seidel. */
const DENSE_STATE_LIMIT = 96;

/** The transient part of the absorbing chain in CSR form plus the one-step absorption vectors. */
interface Chain {
  n: number;
  rowPtr: Int32Array;
  col: Int32Array;
  prob: Float64Array;
  counts: Float64Array;
  /** P(s → conversion), P(s → null), and their counts. */
  pConv: Float64Array;
  pNull: Float64Array;
  convCount: Float64Array;
  nullCount: Float64Array;
  /** P(s → conversion) · m(s), m(s) = mean value per conversion of paths whose last state is s. */
  reward: Float64Array;
  /** Digits of each state's key (channel id + 1, 0 = none/pad), n × order. */
  digits: Int32Array;
}

/** The chain's order (default 1); ModelInputError outside 1..4. */
function requireOrder(order: number | undefined): MarkovOrder {
  const k = order ?? 1;
  if (k !== 1 && k !== 2 && k !== 3 && k !== 4) throw new ModelInputError(`channel Markov: order must be 1, 2, 3 or 4 (got ${String(order)})`);
  return k;
}

/**
 * The channels sorted (so ids, and every output, do not depend on row order), their ids, and the base of the state
 * keys (channel id + 1 per window position); ModelInputError when base^order exceeds exact integers.
 */
function channelIndex(names: ReadonlySet<string>, order: number): { channels: string[]; channelId: Map<string, number>; base: number } {
  const channels = [...names].sort(compareStrings);
  const base = channels.length + 1;
  if (Math.pow(base, order) > Number.MAX_SAFE_INTEGER) {
    throw new ModelInputError(`channel Markov: ${channels.length} channels at order ${order} exceed the state key space; lower the order or group channels`);
  }
  return { channels, channelId: new Map(channels.map((c, i) => [c, i])), base };
}

/**
 * Fit ChannelAttribution's Markov model on aggregated path rows with exact removal effects.
 *
 * Complexity: O(Σ path lengths) to build the chain; order 1: O(C · (C+1)³) for the C removal solves;
 * higher orders: O(C · sweeps · nnz), sweeps ≈ log(tolerance)/log(ρ(Q)).
 * Edge cases: a channel that is never on a weighted path, or only on non-converting ones, gets
 * RE 0 and 0 conversions/value (never NaN); no conversions at all → all zeros; an empty path is
 * (start) → (conversion)/(null) directly and credits nobody (its conversions still count in the total,
 * as in the package, so they are spread by RE share).
 * Throws ModelInputError for negative/non-finite counts or an unsupported order.
 */
export function fitChannelMarkov(rows: readonly ChannelPathRow[], options: ChannelMarkovOptions = {}): ChannelMarkovModel {
  const order = requireOrder(options.order);
  const useNulls = options.useNulls ?? true;
  const stateRule: HigherOrderStates = options.states ?? "sliding";
  if (stateRule !== "sliding" && stateRule !== "padded") {
    throw new ModelInputError(`channel Markov: states must be "sliding" or "padded" (got ${String(stateRule)})`);
  }
  const tolerance = options.tolerance ?? 1e-12;
  const maxSweeps = options.maxSweeps ?? 100_000;

  // Channels, sorted, so that ids (and every output) do not depend on row order.
  const channelSet = new Set<string>();
  const totConv = neumaierAccumulator();
  const totVal = neumaierAccumulator();
  const totNull = neumaierAccumulator();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    requireNonNegative(r.conversions, `row ${i} conversions`);
    if (r.value !== undefined) requireNonNegative(r.value, `row ${i} value`);
    if (r.nulls !== undefined) requireNonNegative(r.nulls, `row ${i} nulls`);
    totConv.add(r.conversions);
    totVal.add(r.value ?? 0);
    totNull.add(r.nulls ?? 0);
    for (const c of r.path) channelSet.add(c);
  }
  const { channels, channelId, base } = channelIndex(channelSet, order);
  const chain = buildChain(rows, channelId, base, order, useNulls, stateRule);
  return modelFromChain(chain, channels, { order, useNulls, states: stateRule, tolerance, maxSweeps, includeTransitions: options.includeTransitions },
    { conversions: totConv.value(), value: totVal.value(), nulls: totNull.value() });
}

/**
 * One step of the chain summed over path rows, as sql/jobs/channel_markov_transitions.sql gives it: `from` null
 * is (start), `to` null is the path's end; a state is its channels (one at order 1; at order k the window of k raw
 * touches, fewer for a path shorter than k: the "sliding" rule). Consecutive identical states are no step,
 * empty channel names are dropped; several rows of the same step add up.
 */
export interface ChannelStepRow {
  from: readonly string[] | null;
  to: readonly string[] | null;
  /** Σ conversions of the paths taking this step. */
  conversions: number;
  /** Σ nulls of the paths taking this step. */
  nulls: number;
  /** End steps: Σ value of the paths ending here (the total value), and of those with conversions > 0 (the reward). */
  value: number;
  convertingValue: number;
}

/**
 * {@link fitChannelMarkov} (sliding states) from the chain's step counts instead of the paths: the same model
 * (the counts are the sums buildChain adds up, so only the adding order differs), at a cost that grows with
 * the steps, not the paths. Channels are every name on a step, weighted or not, as the path fit lists every
 * name on a row. Throws ModelInputError for a negative or non-finite sum, an order outside 1..4 or padded states.
 */
export function fitChannelMarkovFromSteps(steps: readonly ChannelStepRow[], options: ChannelMarkovOptions = {}): ChannelMarkovModel {
  const order = requireOrder(options.order);
  if ((options.states ?? "sliding") !== "sliding") throw new ModelInputError(`channel Markov from step counts: states must be "sliding" (got ${String(options.states)}); fit padded states on the paths`);
  const useNulls = options.useNulls ?? true;
  const channelSet = new Set<string>();
  const totConv = neumaierAccumulator();
  const totVal = neumaierAccumulator();
  const totNull = neumaierAccumulator();
  for (let i = 0; i < steps.length; i++) {
    const r = steps[i]!;
    for (const [what, v] of [["conversions", r.conversions], ["nulls", r.nulls], ["value", r.value], ["convertingValue", r.convertingValue]] as const) {
      requireNonNegative(v, `step ${i} ${what}`);
    }
    for (const state of [r.from, r.to]) {
      if (state === null) continue;
      if (state.length === 0 || state.length > order) throw new ModelInputError(`step ${i}: a state holds 1 to ${order} channels (got ${state.length})`);
      for (const c of state) channelSet.add(c);
    }
    if (r.to === null && r.from !== null) {
      totConv.add(r.conversions);
      totVal.add(r.value);
      totNull.add(r.nulls);
    }
  }
  const { channels, channelId, base } = channelIndex(channelSet, order);
  const pow: number[] = [];
  for (let j = 0, p = 1; j < order; j++, p *= base) pow.push(p);
  // The key buildChain gives the same window: Σ_j (channel id + 1) · base^j, 0 for (start).
  const keyOf = (state: readonly string[] | null): number => {
    let key = 0;
    if (state) for (let j = 0; j < state.length; j++) key += (channelId.get(state[j]!)! + 1) * pow[j]!;
    return key;
  };
  const weightOf = (r: ChannelStepRow): number => r.conversions + (useNulls ? r.nulls : 0);
  const weighted = steps.filter((r) => weightOf(r) > 0);
  // States for the windows on a weighted step only (as buildChain creates them for the windows a weighted path
  // visits), numbered in key order so that the chain does not depend on the order of the rows.
  const keys = new Set<number>();
  for (const r of weighted) for (const state of [r.from, r.to]) if (state !== null) keys.add(keyOf(state));
  const counted: ChainCounts = { stateKeys: [0], edges: [new Map()], convCount: [0], nullCount: [0], valueSum: [0] };
  const stateIndex = new Map<number, number>([[0, 0]]);
  for (const key of [...keys].sort((a, b) => a - b)) {
    stateIndex.set(key, counted.stateKeys.length);
    counted.stateKeys.push(key);
    counted.edges.push(new Map());
    counted.convCount.push(0);
    counted.nullCount.push(0);
    counted.valueSum.push(0);
  }
  for (const r of weighted) {
    const from = stateIndex.get(keyOf(r.from))!;
    if (r.to === null) {
      counted.convCount[from] = counted.convCount[from]! + r.conversions;
      counted.valueSum[from] = counted.valueSum[from]! + r.convertingValue;
      if (useNulls) counted.nullCount[from] = counted.nullCount[from]! + r.nulls;
      continue;
    }
    const to = stateIndex.get(keyOf(r.to))!;
    // Two spellings of one name (escaped or not) can make a step from a state to itself: no step, as on the path.
    if (to === from) continue;
    const m = counted.edges[from]!;
    m.set(to, (m.get(to) ?? 0) + weightOf(r));
  }
  const chain = chainFromCounts(counted, base, order);
  return modelFromChain(chain, channels, { order, useNulls, states: "sliding", tolerance: options.tolerance ?? 1e-12, maxSweeps: options.maxSweeps ?? 100_000, includeTransitions: options.includeTransitions },
    { conversions: totConv.value(), value: totVal.value(), nulls: totNull.value() });
}

/** Removal effects, credits and the transition table of a built chain. */
function modelFromChain(
  chain: Chain,
  channels: string[],
  o: { order: MarkovOrder; useNulls: boolean; states: HigherOrderStates; tolerance: number; maxSweeps: number; includeTransitions?: boolean },
  totals: { conversions: number; value: number; nulls: number },
): ChannelMarkovModel {
  const { order, useNulls, tolerance, maxSweeps } = o;
  const stateRule = o.states;
  const C = channels.length;
  const model = solveRemovals(chain, C, order, tolerance, maxSweeps);
  const totalConversions = totals.conversions;
  const totalValue = totals.value;
  const convShares = proportionalShares(model.re, totalConversions);
  const valShares = proportionalShares(model.reValue, totalValue);
  const credits: ChannelMarkovCredit[] = channels.map((channel, c) => ({
    channel,
    removalEffect: model.re[c]!,
    removalEffectValue: model.reValue[c]!,
    conversions: convShares[c]!,
    value: valShares[c]!,
  }));

  return {
    kind: "channel-markov",
    version: 1,
    order,
    useNulls,
    states: stateRule,
    channels,
    credits,
    totalConversions,
    totalValue,
    totalNulls: totals.nulls,
    conversionProbability: model.pConv,
    transitions: o.includeTransitions === false ? [] : transitionRows(chain, channels, order, stateRule),
    solver: model.info,
  };
}

/** Serialise a fitted model (tagged JSON; the model is plain data). */
export function channelMarkovToJSON(model: ChannelMarkovModel): string {
  return JSON.stringify(model);
}

/** Load a model written by {@link channelMarkovToJSON}; throws ModelInputError on a wrong tag/version. */
export function loadChannelMarkov(json: string | unknown): ChannelMarkovModel {
  const obj: unknown = typeof json === "string" ? JSON.parse(json) : json;
  if (typeof obj !== "object" || obj === null || (obj as { kind?: unknown }).kind !== "channel-markov") {
    throw new ModelInputError(`not a channel-markov model (expected kind "channel-markov"); was it written by channelMarkovToJSON?`);
  }
  if ((obj as { version?: unknown }).version !== 1) {
    throw new ModelInputError(`channel-markov model version ${String((obj as { version?: unknown }).version)} is not supported (expected 1); refit the model`);
  }
  return obj as ChannelMarkovModel;
}

/**
 * Merge rows with the same path (sums conversions, value, nulls). Not needed for correctness (the
 * transition counts are additive) but it shrinks the work: the 1M-row synthetic file has 204,753 paths.
 * O(Σ path lengths). Output order: first occurrence.
 */
export function aggregateChannelPaths(rows: readonly ChannelPathRow[]): ChannelPathRow[] {
  const index = new Map<string, number>();
  const out: { path: readonly string[]; conversions: number; value: number; nulls: number }[] = [];
  for (const r of rows) {
    const key = r.path.join("\u0000");
    const k = index.get(key);
    if (k === undefined) {
      index.set(key, out.length);
      out.push({ path: r.path, conversions: r.conversions, value: r.value ?? 0, nulls: r.nulls ?? 0 });
    } else {
      const o = out[k]!;
      o.conversions += r.conversions;
      o.value += r.value ?? 0;
      o.nulls += r.nulls ?? 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Chain construction

function buildChain(
  rows: readonly ChannelPathRow[],
  channelId: ReadonlyMap<string, number>,
  base: number,
  order: number,
  useNulls: boolean,
  stateRule: HigherOrderStates,
): Chain {
  const stateIndex = new Map<number, number>();
  const stateKeys: number[] = [0]; // (start) has key 0: no digits
  stateIndex.set(0, 0);
  const edges: Map<number, number>[] = [new Map()];
  const convCount: number[] = [0];
  const nullCount: number[] = [0];
  const valueSum: number[] = [0];

  const ids: number[] = [];
  const seq: number[] = [];
  const pow: number[] = [];
  for (let j = 0, p = 1; j < order; j++, p *= base) pow.push(p);

  const stateOf = (key: number): number => {
    let s = stateIndex.get(key);
    if (s === undefined) {
      s = stateKeys.length;
      stateIndex.set(key, s);
      stateKeys.push(key);
      edges.push(new Map());
      convCount.push(0);
      nullCount.push(0);
      valueSum.push(0);
    }
    return s;
  };

  for (const r of rows) {
    const wc = r.conversions;
    const wn = useNulls ? (r.nulls ?? 0) : 0;
    const w = wc + wn;
    if (w <= 0) continue;
    ids.length = 0;
    for (const c of r.path) ids.push(channelId.get(c)!);
    pathStates(ids, order, stateRule, pow, seq);
    let prev = 0;
    for (const key of seq) {
      const s = stateOf(key);
      const m = edges[prev]!;
      m.set(s, (m.get(s) ?? 0) + w);
      prev = s;
    }
    if (wc > 0) {
      convCount[prev] = convCount[prev]! + wc;
      valueSum[prev] = valueSum[prev]! + (r.value ?? 0);
    }
    if (wn > 0) nullCount[prev] = nullCount[prev]! + wn;
  }
  return chainFromCounts({ stateKeys, edges, convCount, nullCount, valueSum }, base, order);
}

/** What a chain is built from: per state (index 0 = (start)) its key, its weighted out-edges and its end counts. */
interface ChainCounts {
  stateKeys: number[];
  edges: Map<number, number>[];
  convCount: number[];
  nullCount: number[];
  /** Σ value of the converting paths whose last state this is. */
  valueSum: number[];
}

/** The CSR chain of {@link Chain} from counts: probabilities are the counts normalised by row. */
function chainFromCounts(counted: ChainCounts, base: number, order: number): Chain {
  const { stateKeys, edges, convCount, nullCount, valueSum } = counted;
  const n = stateKeys.length;
  const rowPtr = new Int32Array(n + 1);
  let nnz = 0;
  for (let s = 0; s < n; s++) {
    rowPtr[s] = nnz;
    nnz += edges[s]!.size;
  }
  rowPtr[n] = nnz;
  const col = new Int32Array(nnz);
  const counts = new Float64Array(nnz);
  const prob = new Float64Array(nnz);
  const pConv = new Float64Array(n);
  const pNull = new Float64Array(n);
  const reward = new Float64Array(n);
  const digits = new Int32Array(n * order);
  for (let s = 0; s < n; s++) {
    const m = edges[s]!;
    const targets = [...m.keys()].sort((a, b) => a - b);
    let k = rowPtr[s]!;
    const acc = neumaierAccumulator();
    for (const t of targets) {
      col[k] = t;
      counts[k] = m.get(t)!;
      acc.add(counts[k]!);
      k++;
    }
    acc.add(convCount[s]!);
    acc.add(nullCount[s]!);
    const out = acc.value();
    if (out > 0) {
      for (let e = rowPtr[s]!; e < rowPtr[s + 1]!; e++) prob[e] = counts[e]! / out;
      pConv[s] = convCount[s]! / out;
      pNull[s] = nullCount[s]! / out;
      // ChannelAttribution: the value of a conversion ending in s is drawn from value/conversions of the
      // paths ending in s, weighted by conversions; its mean is Σ value / Σ conversions.
      if (convCount[s]! > 0) reward[s] = pConv[s]! * (valueSum[s]! / convCount[s]!);
    }
    let key = stateKeys[s]!;
    for (let j = 0; j < order; j++) {
      digits[s * order + j] = key % base;
      key = Math.floor(key / base);
    }
  }
  return { n, rowPtr, col, prob, counts, pConv, pNull, convCount: Float64Array.from(convCount), nullCount: Float64Array.from(nullCount), reward, digits };
}

/**
 * The state keys a path visits (excluding start/end), per the module's state rules. A key is
 * Σ_j d_j · base^j with d_j = channel id + 1 (0 = no channel: a short window's tail, or a (start) pad).
 * Sliding: window i holds touches i..i+k−1 at digit positions 0..k−1. Padded: state i holds touches
 * i−k+1..i of the collapsed path at digit positions 0..k−1 (oldest first), missing ones 0.
 */
function pathStates(ids: readonly number[], order: number, rule: HigherOrderStates, pow: readonly number[], out: number[]): void {
  out.length = 0;
  const L = ids.length;
  if (L === 0) return;
  if (order === 1) {
    for (let i = 0; i < L; i++) if (i === 0 || ids[i] !== ids[i - 1]) out.push(ids[i]! + 1);
    return;
  }
  if (rule === "sliding") {
    if (L <= order) {
      let key = 0;
      for (let j = 0; j < L; j++) key += (ids[j]! + 1) * pow[j]!;
      out.push(key);
      return;
    }
    let last = -1;
    for (let i = 0; i + order <= L; i++) {
      let key = 0;
      for (let j = 0; j < order; j++) key += (ids[i + j]! + 1) * pow[j]!;
      if (key !== last) out.push(key);
      last = key;
    }
    return;
  }
  // padded: collapse repeats first, then k-tuples ending at each touch.
  const col: number[] = [];
  for (let i = 0; i < L; i++) if (i === 0 || ids[i] !== ids[i - 1]) col.push(ids[i]!);
  for (let i = 0; i < col.length; i++) {
    let key = 0;
    for (let j = 0; j < order; j++) {
      const p = i - order + 1 + j;
      if (p >= 0) key += (col[p]! + 1) * pow[j]!;
    }
    out.push(key);
  }
}

function stateLabel(digits: Int32Array, s: number, order: number, channels: readonly string[], rule: HigherOrderStates): string {
  if (s === 0) return START_STATE;
  const parts: string[] = [];
  for (let j = 0; j < order; j++) {
    const d = digits[s * order + j]!;
    if (d > 0) parts.push(channels[d - 1]!);
    else if (rule === "padded") parts.push(START_STATE);
  }
  return parts.join(",");
}

function transitionRows(chain: Chain, channels: readonly string[], order: number, rule: HigherOrderStates): TransitionRow[] {
  const labels: string[] = [];
  for (let s = 0; s < chain.n; s++) labels.push(stateLabel(chain.digits, s, order, channels, rule));
  const byLabel = Array.from({ length: chain.n }, (_, s) => s).sort((a, b) => compareStrings(labels[a]!, labels[b]!));
  const rank = new Int32Array(chain.n);
  byLabel.forEach((s, i) => (rank[s] = i));
  const out: TransitionRow[] = [];
  for (const s of byLabel) {
    const from = labels[s]!;
    const row: TransitionRow[] = [];
    // "(conversion)" and "(null)" sort before channel names ("(" < letters), as labels do.
    if (chain.convCount[s]! > 0) row.push({ from, to: CONVERSION_STATE, probability: chain.pConv[s]!, count: chain.convCount[s]! });
    if (chain.nullCount[s]! > 0) row.push({ from, to: NULL_STATE, probability: chain.pNull[s]!, count: chain.nullCount[s]! });
    const inner: number[] = [];
    for (let e = chain.rowPtr[s]!; e < chain.rowPtr[s + 1]!; e++) inner.push(e);
    inner.sort((a, b) => rank[chain.col[a]!]! - rank[chain.col[b]!]!);
    for (const e of inner) row.push({ from, to: labels[chain.col[e]!]!, probability: chain.prob[e]!, count: chain.counts[e]! });
    row.sort((a, b) => compareStrings(a.to, b.to));
    out.push(...row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Removal effects

interface RemovalResult {
  pConv: number;
  re: Float64Array;
  reValue: Float64Array;
  info: ChannelMarkovSolverInfo;
}

function solveRemovals(chain: Chain, C: number, order: number, tolerance: number, maxSweeps: number): RemovalResult {
  const { n } = chain;
  // States containing each channel.
  const containing: number[][] = Array.from({ length: C }, () => []);
  for (let s = 1; s < n; s++) {
    const seen = new Set<number>();
    for (let j = 0; j < order; j++) {
      const d = chain.digits[s * order + j]!;
      if (d > 0 && !seen.has(d)) {
        seen.add(d);
        containing[d - 1]!.push(s);
      }
    }
  }
  const re = new Float64Array(C);
  const reValue = new Float64Array(C);
  const dense = n <= DENSE_STATE_LIMIT;
  const info: ChannelMarkovSolverInfo = {
    method: dense ? "dense" : "gauss-seidel",
    transientStates: n,
    transientTransitions: chain.col.length,
    sweeps: 0,
    errorBound: 0,
  };
  const removed = new Uint8Array(n);
  const solve = dense
    ? (x: Float64Array, h: Float64Array) => denseSolve(chain, removed, x, h, info)
    : makeGaussSeidel(chain, removed, tolerance, maxSweeps, info);

  const x0 = new Float64Array(n);
  const h0 = new Float64Array(n);
  solve(x0, h0);
  const p = x0[0]!;
  const v = h0[0]!;
  const x = new Float64Array(n);
  const h = new Float64Array(n);
  for (let c = 0; c < C; c++) {
    const states = containing[c]!;
    if (states.length === 0) continue; // never on a weighted path: RE 0
    for (const s of states) removed[s] = 1;
    x.set(x0);
    h.set(h0);
    for (const s of states) {
      x[s] = 0;
      h[s] = 0;
    }
    solve(x, h);
    // Exact arithmetic gives 0 ≤ P' ≤ P; clamp the last-ulp noise so RE stays in [0, 1].
    re[c] = p > 0 ? Math.min(1, Math.max(0, 1 - x[0]! / p)) : 0;
    reValue[c] = v > 0 ? Math.min(1, Math.max(0, 1 - h[0]! / v)) : 0;
    for (const s of states) removed[s] = 0;
  }
  return { pConv: p, re, reValue, info };
}

/**
 * Dense Gaussian elimination with partial pivoting on (I − Q) restricted to the states not removed,
 * two right-hand sides (conversion probability, value reward). O(n³). Writes the solutions into x, h
 * (removed states 0) and records the residual in info.errorBound.
 */
function denseSolve(chain: Chain, removed: Uint8Array, x: Float64Array, h: Float64Array, info: ChannelMarkovSolverInfo): void {
  const { n, rowPtr, col, prob, pConv, reward } = chain;
  const act: number[] = [];
  const pos = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) if (!removed[s]) {
    pos[s] = act.length;
    act.push(s);
  }
  const m = act.length;
  const w = m + 2;
  const A = new Float64Array(m * w);
  for (let i = 0; i < m; i++) {
    const s = act[i]!;
    A[i * w + i] = 1;
    for (let e = rowPtr[s]!; e < rowPtr[s + 1]!; e++) {
      const j = pos[col[e]!]!;
      if (j >= 0) A[i * w + j] = A[i * w + j]! - prob[e]!;
    }
    A[i * w + m] = pConv[s]!;
    A[i * w + m + 1] = reward[s]!;
  }
  for (let k = 0; k < m; k++) {
    let piv = k;
    for (let i = k + 1; i < m; i++) if (Math.abs(A[i * w + k]!) > Math.abs(A[piv * w + k]!)) piv = i;
    if (piv !== k) {
      for (let j = k; j < w; j++) {
        const t = A[k * w + j]!;
        A[k * w + j] = A[piv * w + j]!;
        A[piv * w + j] = t;
      }
    }
    const d = A[k * w + k]!;
    for (let i = k + 1; i < m; i++) {
      const f = A[i * w + k]! / d;
      if (f === 0) continue;
      for (let j = k; j < w; j++) A[i * w + j] = A[i * w + j]! - f * A[k * w + j]!;
    }
  }
  const sol = new Float64Array(m * 2);
  for (let r = 0; r < 2; r++) {
    for (let i = m - 1; i >= 0; i--) {
      let acc = A[i * w + m + r]!;
      for (let j = i + 1; j < m; j++) acc -= A[i * w + j]! * sol[j * 2 + r]!;
      sol[i * 2 + r] = acc / A[i * w + i]!;
    }
  }
  x.fill(0);
  h.fill(0);
  for (let i = 0; i < m; i++) {
    x[act[i]!] = sol[i * 2]!;
    h[act[i]!] = sol[i * 2 + 1]!;
  }
  const res = residual(chain, removed, x, h);
  info.errorBound = Math.max(info.errorBound, res.conv * m, res.value * m);
}

/** ‖b + Qx − x‖∞ over the states not removed, for both systems (value relative to max reward). */
function residual(chain: Chain, removed: Uint8Array, x: Float64Array, h: Float64Array): { conv: number; value: number } {
  const { n, rowPtr, col, prob, pConv, reward } = chain;
  let rc = 0;
  let rv = 0;
  let scale = 0;
  for (let s = 0; s < n; s++) scale = Math.max(scale, h[s]!);
  for (let s = 0; s < n; s++) {
    if (removed[s]) continue;
    let a = pConv[s]!;
    let b = reward[s]!;
    for (let e = rowPtr[s]!; e < rowPtr[s + 1]!; e++) {
      a += prob[e]! * x[col[e]!]!;
      b += prob[e]! * h[col[e]!]!;
    }
    rc = Math.max(rc, Math.abs(a - x[s]!));
    rv = Math.max(rv, Math.abs(b - h[s]!));
  }
  return { conv: rc, value: scale > 0 ? rv / scale : rv };
}

/**
 * Symmetric Gauss–Seidel for x = b + Qx (two right-hand sides), states removed held at 0. The stopping
 * rule uses the a-posteriori bound ‖e‖∞ ≤ T · ‖r‖∞ with T = max expected steps to absorption.
 */
function makeGaussSeidel(
  chain: Chain,
  removed: Uint8Array,
  tolerance: number,
  maxSweeps: number,
  info: ChannelMarkovSolverInfo,
): (x: Float64Array, h: Float64Array) => void {
  const { n, rowPtr, col, prob, pConv, reward } = chain;
  // Diagonal (self-loops cannot occur with the package's rules, but the solver does not rely on it).
  const diag = new Float64Array(n);
  for (let s = 0; s < n; s++) for (let e = rowPtr[s]!; e < rowPtr[s + 1]!; e++) if (col[e] === s) diag[s] = diag[s]! + prob[e]!;

  const sweep = (xs: Float64Array[], bs: Float64Array[], forward: boolean): Float64Array => {
    const k = xs.length;
    const maxDelta = new Float64Array(k);
    for (let idx = 0; idx < n; idx++) {
      const s = forward ? idx : n - 1 - idx;
      if (removed[s]) continue;
      const inv = 1 / (1 - diag[s]!);
      for (let r = 0; r < k; r++) {
        const x = xs[r]!;
        let acc = bs[r]![s]!;
        for (let e = rowPtr[s]!; e < rowPtr[s + 1]!; e++) {
          const t = col[e]!;
          if (t !== s) acc += prob[e]! * x[t]!;
        }
        acc *= inv;
        const d = Math.abs(acc - x[s]!);
        if (d > maxDelta[r]!) maxDelta[r] = d;
        x[s] = acc;
      }
    }
    return maxDelta;
  };

  // T = max_s E[steps to absorption] = ‖(I − Q)⁻¹‖∞, from t = 1 + Q t; a bound factor, so 1e-9 relative suffices.
  const ones = new Float64Array(n).fill(1);
  const t = new Float64Array(n);
  let T = 1;
  for (let k = 0, prev = Infinity; k < maxSweeps; k++) {
    const d = sweep([t], [ones], k % 2 === 1)[0]!;
    let mx = 0;
    for (let s = 0; s < n; s++) mx = Math.max(mx, t[s]!);
    T = mx;
    info.sweeps++;
    const rho = prev < Infinity && prev > 0 ? Math.min(d / prev, 0.999999) : 0.999999;
    if (d * rho / (1 - rho) <= 1e-9 * mx) break;
    prev = d;
  }
  T *= 1 + 1e-6;

  return (x: Float64Array, h: Float64Array): void => {
    // h ≤ max_s m(s) (an expected conversion value), so the value tolerance is relative to it.
    let scaleH = 0;
    for (let s = 0; s < n; s++) if (pConv[s]! > 0) scaleH = Math.max(scaleH, reward[s]! / pConv[s]!);
    if (scaleH === 0) scaleH = 1;
    for (let k = 0; k < maxSweeps; k++) {
      const d = sweep([x, h], [pConv, reward], k % 2 === 1);
      info.sweeps++;
      if (d[0]! * T <= tolerance * 0.5 && (d[1]! / scaleH) * T <= tolerance * 0.5) {
        const res = residual(chain, removed, x, h);
        const bound = Math.max(res.conv, res.value) * T;
        if (bound <= tolerance) {
          info.errorBound = Math.max(info.errorBound, bound);
          return;
        }
      }
    }
    const res = residual(chain, removed, x, h);
    info.errorBound = Math.max(info.errorBound, Math.max(res.conv, res.value) * T);
  };
}
