/**
 * Time split and weighted training sets for the ML attribution model. Pure functions, no I/O.
 */
import { ModelInputError, compareStrings } from "../models/numeric.ts";
import { encodeJourney, type FeatureEncoding, type FeatureRow } from "./features.ts";

type SplitPart = "train" | "validation" | "test";

interface SplitWindow {
  /** First and last day (YYYY-MM-DD) in the window. */
  from: string;
  to: string;
  days: number;
  /** Journeys (conversions + non-conversions) in the window. */
  journeys: number;
  /** Conversions in the window. */
  conversions: number;
}

export interface TimeSplit {
  train: SplitWindow;
  validation: SplitWindow;
  test: SplitWindow;
  /** Window of a day; throws for a day that was not in the input. */
  partOf(date: string): SplitPart;
}

/** Journeys and conversions ending on one day. */
export interface DayCounts {
  journeys: number;
  conversions: number;
}

/**
 * Conversions the validation and the test window each need at least (when the data has them): fewer make
 * the test AUC noise (its standard error grows like 1/√positives; Hanley & McNeil 1982) and early stopping
 * arbitrary. 50 positives give an AUC standard error of about 0.03–0.04 at AUC 0.7.
 */
const MIN_WINDOW_CONVERSIONS = 50;

/**
 * Split whole days by the calendar: of the d days with journeys, in time order, day i goes to train when
 * i < f₀·d, to validation when i < (f₀+f₁)·d, else to test. Calendar, not journeys: non-converting journeys
 * end at the user's last session, so journeys per day pile up towards the end of the data and a
 * journey-weighted split left the test window about one day. Then each later window is widened backwards,
 * one day at a time, until it has `minConversions` conversions, as long as train keeps at least half of
 * all conversions (test first, then validation). If a window would be empty it takes a day from the
 * largest window (keeping the days in time order), so every window has at least one day. A day is never
 * split. Complexity: O(d log d) for d days.
 * @throws TooFewDaysError (a ModelInputError) with fewer than 3 days with journeys.
 */
/** Too short a history for the time split: nothing to fit yet, as with no conversions (the job skips). */
export class TooFewDaysError extends ModelInputError {}

export function timeSplit(byDay: ReadonlyMap<string, DayCounts>, fractions: readonly [number, number, number], minConversions = MIN_WINDOW_CONVERSIONS): TimeSplit {
  const days = [...byDay.entries()].filter(([, c]) => c.journeys > 0).sort((a, b) => compareStrings(a[0], b[0]));
  if (days.length < 3) {
    throw new TooFewDaysError(`the ML attribution time split needs journeys on at least 3 different days (train, validation, test); ml_journey_features has ${days.length}`);
  }
  const d = days.length;
  const counts = [0, 0, 0];
  for (let i = 0; i < d; i++) counts[i < fractions[0] * d ? 0 : i < (fractions[0] + fractions[1]) * d ? 1 : 2]! += 1;
  // Windows are contiguous, so counts describe them. An empty window takes a day from the largest one
  // (ties: the older window), which keeps every window non-empty and the order train < validation < test.
  for (let p = 0; p < 3; p++) {
    if (counts[p] === 0) {
      const largest = counts.indexOf(Math.max(...counts));
      counts[largest]! -= 1;
      counts[p] = 1;
    }
  }
  const conv = days.map(([, c]) => c.conversions);
  const total = conv.reduce((a, b) => a + b, 0);
  const sum = (from: number, to: number): number => conv.slice(from, to).reduce((a, b) => a + b, 0);
  // b1 = first validation day, b2 = first test day.
  let b1 = counts[0]!;
  let b2 = counts[0]! + counts[1]!;
  const trainKeeps = (newB1: number): boolean => newB1 >= 1 && sum(0, newB1) >= total / 2;
  while (sum(b2, d) < minConversions && b2 - 1 > b1) b2--;
  while (sum(b2, d) < minConversions && b2 - 1 === b1 && trainKeeps(b1 - 1)) { b1--; b2--; }
  while (sum(b1, b2) < minConversions && trainKeeps(b1 - 1)) b1--;
  counts[0] = b1;
  counts[1] = b2 - b1;
  counts[2] = d - b2;
  const names: SplitPart[] = ["train", "validation", "test"];
  const part: SplitPart[] = names.flatMap((nm, p) => Array<SplitPart>(counts[p]!).fill(nm));
  const partByDay = new Map(days.map(([day], i) => [day, part[i]!]));
  const windowOf = (p: SplitPart): SplitWindow => {
    const idx = part.flatMap((x, i) => (x === p ? [i] : []));
    return {
      from: days[idx[0]!]![0], to: days[idx[idx.length - 1]!]![0], days: idx.length,
      journeys: idx.reduce((s, i) => s + days[i]![1].journeys, 0), conversions: idx.reduce((s, i) => s + days[i]![1].conversions, 0),
    };
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

/** Rows with the same key (feature vector, touch sequence) merged: the first row, conversions and non-conversions summed. */
export function mergeByVector<R extends { key: string; conversions: number; nonConversions: number }>(rows: readonly R[]): Map<string, { row: R; conv: number; non: number }> {
  const merged = new Map<string, { row: R; conv: number; non: number }>();
  for (const r of rows) {
    const m = merged.get(r.key);
    if (m) {
      m.conv += r.conversions;
      m.non += r.nonConversions;
    } else merged.set(r.key, { row: r, conv: r.conversions, non: r.nonConversions });
  }
  return merged;
}

/**
 * Aggregated training rows (notes/xgboost-wasm.md §3): rows with the same feature vector (`key`) are
 * merged across days, then each unique vector gives two rows: label 1 with weight = conversions and
 * label 0 with weight = non-conversions (a zero-weight row is left out). Exact for log loss: the model
 * equals one trained on the expanded journeys. Vectors are ordered by key, so the set is deterministic.
 * Complexity: O(r log r + u·F) for r rows, u unique vectors, F features.
 */
export function weightedSet(enc: FeatureEncoding, rows: readonly FeatureRow[]): WeightedSet {
  const merged = mergeByVector(rows);
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
