/**
 * Numbers as GoogleSQL text, so that SQL arithmetic reproduces the TypeScript predictor bit for bit.
 * Pure functions.
 */

/**
 * A FLOAT64 literal that parses back to exactly `x`: the shortest round-trip digits in exponent form
 * (`1.5e-1`). The exponent keeps DuckDB from reading the literal as a DECIMAL; BigQuery reads it as FLOAT64.
 * @throws RangeError for NaN or ±∞ (no portable literal).
 */
export function float64Literal(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`${x} has no portable SQL literal`);
  if (Object.is(x, -0)) return "0e+0";
  return x.toExponential();
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The next float64 above `x` (finite x). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = x > 0 ? u64[0]! + 1n : u64[0]! - 1n;
  return f64[0]!;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 below the float32 `t` (t finite, not the most negative float32). */
function float32Below(t: number): number {
  f32[0] = t;
  if (t === 0) return -1.401298464324817e-45;
  u32[0] = t > 0 ? u32[0]! - 1 : u32[0]! + 1;
  return f32[0]!;
}

/**
 * XGBoost compares features as float32: a row goes left iff `fround(x) < t` (t a float32 threshold,
 * x the FLOAT64 the warehouse holds). The same test on the FLOAT64 itself is `x < B`, with B the
 * smallest float64 that rounds (to nearest, ties to even) to t or above: B is the midpoint m between t
 * and the float32 below it, or the float64 just above m when m itself rounds down (a tie to the even
 * neighbour below). fround is monotone, so `fround(x) < t ⟺ x < B` for every finite x.
 * Reference: IEEE 754-2008 §4.3.1 (roundTiesToEven); notes on the XGBoost model format (split rule).
 */
export function float32LessThanBound(t: number): number {
  if (!Number.isFinite(t) || Math.fround(t) !== t) throw new RangeError(`split threshold ${t} is not a finite float32`);
  const below = float32Below(t);
  if (!Number.isFinite(below)) return t;
  const m = (below + t) / 2; // exact in float64: both are float32 of adjacent binades at most
  return Math.fround(m) >= t ? m : nextUp(m);
}
