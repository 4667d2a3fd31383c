/**
 * Time split and weighted training sets for the ML attribution model. Pure functions, no I/O.
 */
import { ModelInputError, compareStrings } from "../models/numeric.ts";
import { encodeJourney, type FeatureEncoding, type FeatureRow } from "./features.ts";

export type SplitPart = "train" | "validation" | "test";

export interface SplitWindow {
  /** First and last day (YYYY-MM-DD) in the window. */
  from: string;
  to: string;
  days: number;
  /** Journeys (conversions + non-conversions) in the window. */
  journeys: number;
}

export interface TimeSplit {
  train: SplitWindow;
  validation: SplitWindow;
  test: SplitWindow;
  /** Window of a day; throws for a day that was not in the input. */
  partOf(date: string): SplitPart;
}

/**
 * Split whole days by time: the oldest days go to train until `fractions[0]` of the journeys is
 * reached, then validation until `fractions[0] + fractions[1]`, the newest days to test. A day is never
 * split (journeys of one day stay together). Day d goes to train when the journeys of the days before
 * it are < f₀·W, else to validation when < (f₀+f₁)·W, else to test. If a window would be empty
 * (very uneven days), it takes a day from the largest window (keeping the days in time order), so
 * every window has at least one day.
 * Complexity: O(d log d) for d days.
 * @throws ModelInputError with fewer than 3 days with journeys.
 */
export function timeSplit(journeysByDay: ReadonlyMap<string, number>, fractions: readonly [number, number, number]): TimeSplit {
  const days = [...journeysByDay.entries()].filter(([, w]) => w > 0).sort((a, b) => compareStrings(a[0], b[0]));
  if (days.length < 3) {
    throw new ModelInputError(`the ML attribution time split needs journeys on at least 3 different days (train, validation, test); ml_journey_features has ${days.length}`);
  }
  const total = days.reduce((s, [, w]) => s + w, 0);
  const b1 = fractions[0] * total;
  const b2 = (fractions[0] + fractions[1]) * total;
  const counts = [0, 0, 0];
  let before = 0;
  for (const [, w] of days) {
    counts[before < b1 ? 0 : before < b2 ? 1 : 2]! += 1;
    before += w;
  }
  // Windows are contiguous, so counts describe them. An empty window takes a day from the largest one
  // (ties: the older window), which keeps every window non-empty and the order train < validation < test.
  for (let p = 0; p < 3; p++) {
    if (counts[p] === 0) {
      const largest = counts.indexOf(Math.max(...counts));
      counts[largest]! -= 1;
      counts[p] = 1;
    }
  }
  const names: SplitPart[] = ["train", "validation", "test"];
  const part: SplitPart[] = names.flatMap((nm, p) => Array<SplitPart>(counts[p]!).fill(nm));
  const partByDay = new Map(days.map(([d], i) => [d, part[i]!]));
  const windowOf = (p: SplitPart): SplitWindow => {
    const idx = part.flatMap((x, i) => (x === p ? [i] : []));
    return { from: days[idx[0]!]![0], to: days[idx[idx.length - 1]!]![0], days: idx.length, journeys: idx.reduce((s, i) => s + days[i]![1], 0) };
  };
  return {
    train: windowOf("train"),
    validation: windowOf("validation"),
    test: windowOf("test"),
    partOf(date: string): SplitPart {
      const p = partByDay.get(date);
      if (p === undefined) throw new ModelInputError(`day ${date} was not in the time split`);
      return p;
    },
  };
}

/** A weighted, aggregated data set in XGBoost's layout. */
export interface WeightedSet {
  X: Float32Array;
  y: Float32Array;
  weights: Float32Array;
  /** Number of rows of X. */
  rows: number;
  /** Unique feature vectors (≤ rows / 1 … rows / 2). */
  uniqueVectors: number;
}

/**
 * Aggregated training rows (notes/xgboost-wasm.md §3): rows with the same feature vector (`key`) are
 * merged across days, then each unique vector gives two rows: label 1 with weight = conversions and
 * label 0 with weight = non-conversions (a zero-weight row is left out). Exact for log loss: the model
 * equals one trained on the expanded journeys. Vectors are ordered by key, so the set is deterministic.
 * Complexity: O(r log r + u·F) for r rows, u unique vectors, F features.
 */
export function weightedSet(enc: FeatureEncoding, rows: readonly FeatureRow[]): WeightedSet {
  const merged = new Map<string, { row: FeatureRow; conv: number; non: number }>();
  for (const r of rows) {
    const m = merged.get(r.key);
    if (m) {
      m.conv += r.conversions;
      m.non += r.nonConversions;
    } else merged.set(r.key, { row: r, conv: r.conversions, non: r.nonConversions });
  }
  const keys = [...merged.keys()].sort(compareStrings);
  let n = 0;
  for (const k of keys) {
    const m = merged.get(k)!;
    n += (m.conv > 0 ? 1 : 0) + (m.non > 0 ? 1 : 0);
  }
  const F = enc.featureNames.length;
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  const weights = new Float32Array(n);
  let i = 0;
  for (const k of keys) {
    const m = merged.get(k)!;
    for (const [label, w] of [[1, m.conv], [0, m.non]] as const) {
      if (w <= 0) continue;
      encodeJourney(enc, m.row, X, i * F);
      y[i] = label;
      weights[i] = w;
      i++;
    }
  }
  return { X, y, weights, rows: n, uniqueVectors: keys.length };
}

/**
 * Right-censoring: the last day of the data minus `days` days. Journeys ending after it are left out of
 * fitting and testing, because a journey that has not converted by the end of the data may still convert
 * (its chain's open window is cut by the data's end, not by the user); they are still credited when they
 * converted. `days` = 0 keeps everything. Returns null when there are no rows.
 * Complexity: O(r).
 */
export function censorCutoff(dates: Iterable<string>, days: number): string | null {
  let last: string | null = null;
  for (const d of dates) if (last === null || d > last) last = d;
  if (last === null) return null;
  const t = Date.parse(`${last}T00:00:00Z`) - days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}
