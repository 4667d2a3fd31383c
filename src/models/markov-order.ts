/**
 * The Markov order of channel paths chosen by held-out likelihood. Pure functions, no I/O.
 *
 * A path c1 → … → cn ending in conversion or null is read as next-step events from (start): each step
 * predicts the next symbol (a channel, (conversion) or (null)) from the state = the last k symbols
 * (ChannelAttribution's sliding window; fewer at the start, padded with (start)). A higher order fits the
 * training paths better by construction; the order worth using is the one that predicts paths it has not
 * seen best (Singer et al. 2014, "Detecting memory and structure in human navigation patterns using Markov
 * chain models of varying order", PLoS ONE 9(7): held-out likelihood / cross-validation of the order).
 *
 * Estimates are smoothed by recursive interpolation with the next lower order (a Dirichlet prior centred
 * on it, MacKay & Peto 1995; order 0 = the symbol frequencies with add-one), so an unseen state of order k
 * falls back to order k − 1 instead of scoring −∞:
 *   P_k(x | s) = (n(s, x) + α · P_{k−1}(x | suffix(s))) / (n(s) + α).
 * Complexity: O(Σ path length · K) to count and to score, K = highest order.
 */
import { ModelInputError, mulberry32 } from "./numeric.ts";

export interface OrderPathRow {
  path: readonly string[];
  conversions: number;
  nulls: number;
}

export interface OrderScore {
  order: number;
  /** Mean log-likelihood per held-out step (nats); higher is better. */
  logLikelihood: number;
  /** Held-out steps scored (journeys × (path length + 1)). */
  steps: number;
}

export interface OrderSelection {
  /** The order with the highest held-out log-likelihood (ties: the lower order). */
  order: number;
  scores: OrderScore[];
  trainJourneys: number;
  heldOutJourneys: number;
}

const START = "\u0000start";
const CONVERSION = "\u0000conversion";
const NULL = "\u0000null";

/**
 * Split each row's journeys into train and held-out: ⌊count · share⌋ held out, and the fractional rest held
 * out with that probability (seeded), so the split is of journeys, not of distinct paths, and is deterministic.
 */
export function splitJourneys(rows: readonly OrderPathRow[], heldOutShare: number, seed: number): { train: OrderPathRow[]; heldOut: OrderPathRow[] } {
  if (!(heldOutShare > 0 && heldOutShare < 1)) throw new ModelInputError(`Markov order selection: the held-out share must be between 0 and 1 (got ${heldOutShare})`);
  const rng = mulberry32(seed);
  const take = (n: number): number => {
    const x = n * heldOutShare;
    const whole = Math.floor(x);
    return whole + (rng() < x - whole ? 1 : 0);
  };
  const train: OrderPathRow[] = [];
  const heldOut: OrderPathRow[] = [];
  rows.forEach((r, i) => {
    if (!(r.conversions >= 0 && r.nulls >= 0 && Number.isFinite(r.conversions + r.nulls))) {
      throw new ModelInputError(`Markov order selection: row ${i} (${r.path.join(" > ")}) has a negative or non-finite count`);
    }
    const c = take(r.conversions);
    const n = take(r.nulls);
    if (c + n > 0) heldOut.push({ path: r.path, conversions: c, nulls: n });
    if (r.conversions - c + r.nulls - n > 0) train.push({ path: r.path, conversions: r.conversions - c, nulls: r.nulls - n });
  });
  return { train, heldOut };
}

/** The (state, next) events of a path ending in `end`, with states of the highest order K as symbol lists. */
function events(path: readonly string[], end: string, K: number, visit: (history: readonly string[], next: string) => void): void {
  const seq = [...path, end];
  const hist: string[] = Array.from({ length: K }, () => START);
  for (const x of seq) {
    visit(hist, x);
    hist.push(x);
    hist.shift();
  }
}

interface Counts {
  /** Per order k: state key → (next → count, total). */
  byOrder: Array<Map<string, { total: number; next: Map<string, number> }>>;
  symbols: Set<string>;
}

function count(rows: readonly OrderPathRow[], K: number): Counts {
  const byOrder = Array.from({ length: K + 1 }, () => new Map<string, { total: number; next: Map<string, number> }>());
  const symbols = new Set<string>([CONVERSION, NULL]);
  for (const r of rows) {
    for (const c of r.path) symbols.add(c);
    for (const [end, w] of [[CONVERSION, r.conversions], [NULL, r.nulls]] as const) {
      if (w <= 0) continue;
      events(r.path, end, K, (hist, next) => {
        for (let k = 0; k <= K; k++) {
          const key = hist.slice(K - k).join("\u0001");
          let s = byOrder[k]!.get(key);
          if (!s) byOrder[k]!.set(key, (s = { total: 0, next: new Map() }));
          s.total += w;
          s.next.set(next, (s.next.get(next) ?? 0) + w);
        }
      });
    }
  }
  return { byOrder, symbols };
}

/** P_k(next | history) by recursive interpolation (module comment); order 0 = add-one symbol frequencies. */
function probability(c: Counts, hist: readonly string[], next: string, k: number, alpha: number, vocab: number): number {
  const K = hist.length;
  const s0 = c.byOrder[0]!.get("");
  let p = ((s0?.next.get(next) ?? 0) + 1) / ((s0?.total ?? 0) + vocab);
  for (let j = 1; j <= k; j++) {
    const s = c.byOrder[j]!.get(hist.slice(K - j).join("\u0001"));
    if (!s) continue;
    p = ((s.next.get(next) ?? 0) + alpha * p) / (s.total + alpha);
  }
  return p;
}

/**
 * Held-out log-likelihood per step of orders `orders` (default 1–3) on `rows` (channel_paths: path,
 * conversions, nulls), trained on the other journeys; picks the best. `alpha` is the prior weight of the
 * lower order (default 1 journey). Deterministic for a seed.
 */
export function selectMarkovOrder(rows: readonly OrderPathRow[], opts: { orders?: readonly number[]; heldOutShare?: number; seed?: number; alpha?: number } = {}): OrderSelection {
  const orders = [...(opts.orders ?? [1, 2, 3])].sort((a, b) => a - b);
  if (!orders.length || orders.some((k) => !Number.isInteger(k) || k < 1 || k > 4)) throw new ModelInputError(`Markov order selection: orders must be integers from 1 to 4 (got ${orders.join(", ")})`);
  const alpha = opts.alpha ?? 1;
  const { train, heldOut } = splitJourneys(rows, opts.heldOutShare ?? 0.3, opts.seed ?? 1);
  const K = orders[orders.length - 1]!;
  const counts = count(train, K);
  for (const r of heldOut) for (const ch of r.path) counts.symbols.add(ch);
  const vocab = counts.symbols.size;
  const scores: OrderScore[] = orders.map((order) => {
    let ll = 0;
    let steps = 0;
    for (const r of heldOut) {
      for (const [end, w] of [[CONVERSION, r.conversions], [NULL, r.nulls]] as const) {
        if (w <= 0) continue;
        events(r.path, end, K, (hist, next) => {
          ll += w * Math.log(probability(counts, hist, next, order, alpha, vocab));
          steps += w;
        });
      }
    }
    return { order, logLikelihood: steps > 0 ? ll / steps : 0, steps };
  });
  let best = scores[0]!;
  for (const s of scores) if (s.logLikelihood > best.logLikelihood + 1e-12) best = s;
  const sum = (xs: readonly OrderPathRow[]): number => xs.reduce((a, r) => a + r.conversions + r.nulls, 0);
  return { order: best.order, scores, trainJourneys: sum(train), heldOutJourneys: sum(heldOut) };
}
