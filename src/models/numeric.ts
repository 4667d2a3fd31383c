/**
 * Numeric helpers shared by the attribution models: compensated summation, largest-remainder rounding,
 * a seeded PRNG. Pure functions, no I/O.
 */
import { UserError } from "../util/errors.ts";

/** A model's input breaks a documented precondition; the message names the row/field and what to do. */
export class ModelInputError extends UserError {}

/**
 * Neumaier's compensated sum (improved Kahan–Babuška).
 *
 * Formula: s ← s + x_i, with the lost low-order part c ← c + ((s − t) + x_i) when |s| ≥ |x_i|, else
 * c ← c + ((x_i − t) + s); result s + c.
 * Reference: A. Neumaier, "Rundungsfehleranalyse einiger Verfahren zur Summation endlicher Summen",
 * ZAMM 54 (1974) 39–51.
 * Complexity: O(n), O(1) memory. Error bound ≈ 2u·Σ|x_i| independent of n (naive: n·u·Σ|x_i|).
 * Edge cases: empty input → 0; NaN/±Infinity propagate as in a naive sum.
 */
export function neumaierSum(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += s - t + x;
    else c += x - t + s;
    s = t;
  }
  return s + c;
}

/**
 * Incremental Neumaier accumulator, for sums built in a loop without an intermediate array.
 * Same formula and guarantees as {@link neumaierSum}.
 */
export interface NeumaierAccumulator {
  add(x: number): void;
  value(): number;
}
export function neumaierAccumulator(): NeumaierAccumulator {
  let s = 0;
  let c = 0;
  return {
    add(x: number): void {
      const t = s + x;
      if (Math.abs(s) >= Math.abs(x)) c += s - t + x;
      else c += x - t + s;
      s = t;
    },
    value: () => s + c,
  };
}

/**
 * Scale non-negative weights to shares of `total`: out_i = total · w_i / Σw (Σ by Neumaier).
 * Edge cases: Σw = 0 (or no weights) → all zeros, never NaN; negative weights are the caller's
 * responsibility (they are used as given).
 * Complexity: O(n).
 */
export function proportionalShares(weights: ArrayLike<number>, total: number): Float64Array {
  const out = new Float64Array(weights.length);
  const sw = neumaierSum(weights);
  if (sw === 0 || !Number.isFinite(sw)) return out;
  for (let i = 0; i < weights.length; i++) out[i] = (total * weights[i]!) / sw;
  return out;
}

/**
 * Make `parts` add up to `target` under Neumaier summation by moving the rounding remainder
 * (target − Σparts) onto one element, chosen deterministically: the element with the largest |part|,
 * ties to the lowest index. Repeats (at most 4 times) until neumaierSum(parts) === target, which holds
 * after one step except in pathological cancellation. Mutates and returns `parts`.
 * Complexity: O(n). Edge cases: empty parts → unchanged (caller decides what an empty split means).
 */
export function absorbRemainder(parts: Float64Array, target: number): Float64Array {
  if (parts.length === 0) return parts;
  let k = 0;
  for (let i = 1; i < parts.length; i++) if (Math.abs(parts[i]!) > Math.abs(parts[k]!)) k = i;
  for (let iter = 0; iter < 4; iter++) {
    const r = target - neumaierSum(parts);
    if (r === 0) break;
    parts[k] = parts[k]! + r;
  }
  return parts;
}

/**
 * Largest-remainder (Hamilton) rounding: integers n_i ≥ 0 with Σ n_i = total and n_i ∈ {⌊q_i⌋, ⌈q_i⌉},
 * q_i = total · w_i / Σw. Use it to split an amount in minor units (cents) over shares.
 * Reference: the Hamilton / Hare–Niemeyer apportionment method.
 * Complexity: O(n log n) (sort of remainders). Ties on equal remainders go to the lower index, so the
 * result is deterministic. Edge cases: Σw = 0 → all units to nobody is impossible, so the units go to
 * index order (equal weights); total must be a non-negative integer.
 */
export function largestRemainder(weights: ArrayLike<number>, total: number): Float64Array {
  if (!Number.isInteger(total) || total < 0) {
    throw new ModelInputError(`largestRemainder: total must be a non-negative integer (got ${total}); scale to minor units first`);
  }
  const n = weights.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  let sw = neumaierSum(weights);
  const w = Float64Array.from(weights as ArrayLike<number>);
  if (sw <= 0) {
    w.fill(1);
    sw = n;
  }
  const rem = new Float64Array(n);
  let assigned = 0;
  for (let i = 0; i < n; i++) {
    const q = (total * w[i]!) / sw;
    const f = Math.floor(q);
    out[i] = f;
    rem[i] = q - f;
    assigned += f;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rem[b]! - rem[a]! || a - b);
  for (let j = 0; assigned < total; j = (j + 1) % n) {
    out[order[j]!] = out[order[j]!]! + 1;
    assigned++;
  }
  return out;
}

/**
 * mulberry32: a 32-bit seeded PRNG returning floats in [0, 1).
 * Reference: Tommy Ettinger's public-domain mulberry32 (period 2^32; passes gjrand at 32 bits).
 * Complexity: O(1) per draw. Same seed → same sequence on every platform (integer ops only).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `arr` in place with draws from `rand` (uniform in [0,1)). O(n). */
export function shuffleInPlace<T>(arr: T[] | Int32Array, rand: () => number): void {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = t;
  }
}

/** Code-unit string comparison (locale-independent, so sorted output is identical on every machine). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throw a ModelInputError unless x is a finite number ≥ 0. `where` names the row and field. */
export function requireNonNegative(x: number, where: string): void {
  if (!(typeof x === "number" && Number.isFinite(x) && x >= 0)) {
    throw new ModelInputError(`${where} must be a finite number ≥ 0 (got ${String(x)}); fix or filter the row before fitting`);
  }
}
