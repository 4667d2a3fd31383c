/**
 * Side-by-side comparison of attribution models by their channel shares: one table, and for every pair
 * of models the top-3 agreement (Jaccard of the top-3 sets, whether the top-3 ranking is identical) and
 * Spearman's rank correlation over all channels.
 */
import { ModelInputError, compareStrings } from "./numeric.ts";

export interface ModelShares {
  /** Model name, e.g. "markov_order_1", "shapley", "last_click". */
  model: string;
  /** Channel → share (or credit; only the order and relative size matter). Missing channels count as 0. */
  shares: Readonly<Record<string, number>>;
}

interface ComparisonRow {
  channel: string;
  /** Share per model, in the order of the input models. */
  shares: number[];
}

interface PairAgreement {
  modelA: string;
  modelB: string;
  topA: string[];
  topB: string[];
  /** |topA ∩ topB| / |topA ∪ topB|. */
  topJaccard: number;
  /** topA and topB list the same channels in the same order. */
  topRanksMatch: boolean;
  /** Spearman's ρ with average ranks for ties; null when a model gives every channel the same share. */
  spearman: number | null;
}

interface ModelComparison {
  models: string[];
  /** One row per channel (union over models), sorted by the first model's share desc, then name. */
  table: ComparisonRow[];
  pairs: PairAgreement[];
}

/**
 * Compare models. `topK` defaults to 3.
 * Ranking: share descending, ties by channel name (code-unit order), so the top-k is deterministic.
 * Complexity: O(m² · c log c) for m models and c channels.
 * Throws ModelInputError for duplicate model names or non-finite shares.
 */
export function compareModels(models: readonly ModelShares[], topK = 3): ModelComparison {
  const names = models.map((m) => m.model);
  if (new Set(names).size !== names.length) throw new ModelInputError(`compareModels: duplicate model names in ${names.join(", ")}`);
  const channelSet = new Set<string>();
  for (const m of models) {
    for (const [c, s] of Object.entries(m.shares)) {
      if (!Number.isFinite(s)) throw new ModelInputError(`compareModels: model "${m.model}" channel "${c}" share is ${s}; expected a finite number`);
      channelSet.add(c);
    }
  }
  const channels = [...channelSet].sort(compareStrings);
  const vec = models.map((m) => channels.map((c) => m.shares[c] ?? 0));
  const ranked = vec.map((v) =>
    channels
      .map((c, i) => ({ c, s: v[i]! }))
      .sort((a, b) => b.s - a.s || compareStrings(a.c, b.c))
      .map((x) => x.c),
  );
  const table: ComparisonRow[] = (ranked[0] ?? channels).map((c) => {
    const i = channels.indexOf(c);
    return { channel: c, shares: vec.map((v) => v[i]!) };
  });
  const pairs: PairAgreement[] = [];
  for (let a = 0; a < models.length; a++) {
    for (let b = a + 1; b < models.length; b++) {
      const topA = ranked[a]!.slice(0, topK);
      const topB = ranked[b]!.slice(0, topK);
      const inter = topA.filter((c) => topB.includes(c)).length;
      const union = new Set([...topA, ...topB]).size;
      pairs.push({
        modelA: names[a]!,
        modelB: names[b]!,
        topA,
        topB,
        topJaccard: union === 0 ? 1 : inter / union,
        topRanksMatch: topA.length === topB.length && topA.every((c, i) => topB[i] === c),
        spearman: spearman(vec[a]!, vec[b]!),
      });
    }
  }
  return { models: names, table, pairs };
}

/** Average ranks (1-based; ties get the mean of their positions). O(n log n). */
function averageRanks(x: readonly number[]): Float64Array {
  const idx = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(x.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && x[idx[j + 1]!] === x[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]!] = avg;
    i = j + 1;
  }
  return r;
}

/**
 * Spearman's rank correlation: Pearson correlation of the average ranks (correct with ties).
 * Reference: Spearman 1904; tie handling as in Kendall & Gibbons, Rank Correlation Methods.
 * Complexity: O(n log n). Edge cases: n < 2 or a constant vector → null (undefined correlation).
 */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new ModelInputError(`spearman: vectors differ in length (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 2) return null;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mean;
    const dy = ry[i]! - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}
