/**
 * Calibrators (src/models/calibration.ts) as GoogleSQL expressions of the margin. Pure functions.
 */
import type { Calibrator, IsotonicCalibrator } from "../models/calibration.ts";
import { float64Literal } from "./numbers.ts";

/**
 * σ(z) in the form of the TypeScript `sigmoid`: 1 / (1 + e^−z) for z ≥ 0, e^z / (1 + e^z) below, written
 * with e = EXP(−|z|) so EXP never overflows (BigQuery raises an error on overflow).
 */
export function sigmoidSql(z: string): string {
  const e = `EXP(-ABS(${z}))`;
  return `IF(${z} >= 0, 1 / (1 + ${e}), ${e} / (1 + ${e}))`;
}

/**
 * The calibrated probability of a margin column `m`:
 * - Platt: σ(a·m + b);
 * - isotonic: the block's value inside a block, linear interpolation between blocks, the end values
 *   beyond them (the same cases as `applyIsotonic`, one WHEN per block edge), ½ without blocks.
 */
export function calibratorSql(cal: Calibrator, m: string): string {
  if (cal.kind === "platt") return sigmoidSql(`(${float64Literal(cal.a)} * ${m} + ${float64Literal(cal.b)})`);
  return isotonicSql(cal, m);
}

function isotonicSql(cal: IsotonicCalibrator, s: string): string {
  const K = cal.y.length;
  if (K === 0) return "0.5";
  const L = float64Literal;
  const whens = [`WHEN ${s} <= ${L(cal.xMax[0]!)} THEN ${L(cal.y[0]!)}`, `WHEN ${s} >= ${L(cal.xMin[K - 1]!)} THEN ${L(cal.y[K - 1]!)}`];
  for (let k = 0; k < K - 1; k++) {
    if (k > 0) whens.push(`WHEN ${s} <= ${L(cal.xMax[k]!)} THEN ${L(cal.y[k]!)}`);
    const x0 = cal.xMax[k]!;
    const dx = cal.xMin[k + 1]! - x0;
    const dy = cal.y[k + 1]! - cal.y[k]!;
    // t = (s − x0) / (x1 − x0); y_k + t·(y_{k+1} − y_k): the differences are computed here as in TS.
    whens.push(`WHEN ${s} < ${L(cal.xMin[k + 1]!)} THEN ${L(cal.y[k]!)} + (${s} - ${L(x0)}) / ${L(dx)} * ${L(dy)}`);
  }
  return `CASE\n      ${whens.join("\n      ")}\n    END`;
}
