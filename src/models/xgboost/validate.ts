import { XGBoostInputError } from "./errors.ts";

/** Largest training matrix accepted (rows × columns). The wasm32 heap (2 GB cap) aborts near 6M × 20. */
export const MAX_CELLS = 80_000_000;

/** The value `create_model` hard-codes as "missing" in the WASM build. */
export const WASM_MISSING = -1;

export interface FitInput {
  /** Row-major features, `nRows × nCols`; NaN means missing. */
  X: Float32Array;
  nRows: number;
  nCols: number;
  /** Labels in [0, 1] (fractional labels with weights encode aggregated rows exactly). */
  y: Float32Array;
  /** Per-row weights ≥ 0, not all 0. */
  weights?: Float32Array;
  /**
   * Treat a feature value of exactly -1 as missing (the WASM build's convention). Without it a real -1
   * is refused, because WASM would silently treat it as missing while the TS predictor would not.
   */
  minusOneIsMissing?: boolean;
}

/**
 * Checks shapes, values, labels and weights before anything reaches a backend.
 * Complexity O(nRows × nCols). @throws XGBoostInputError naming the first bad cell.
 */
export function validateFitInput(inp: FitInput): void {
  const { X, nRows, nCols, y, weights } = inp;
  if (!(X instanceof Float32Array)) throw new XGBoostInputError("X must be a Float32Array (row-major)");
  if (!Number.isInteger(nRows) || nRows < 1) throw new XGBoostInputError(`nRows must be a positive integer, got ${nRows}`);
  if (!Number.isInteger(nCols) || nCols < 1) throw new XGBoostInputError(`nCols must be a positive integer, got ${nCols}`);
  if (nRows * nCols > MAX_CELLS) {
    throw new XGBoostInputError(
      `Training matrix ${nRows} × ${nCols} = ${nRows * nCols} cells exceeds the cap of ${MAX_CELLS} (the WASM heap is limited to 2 GB); aggregate identical rows with weights, sample rows, or use the native backend`,
    );
  }
  if (X.length !== nRows * nCols) throw new XGBoostInputError(`X has ${X.length} values, expected nRows × nCols = ${nRows * nCols}`);
  if (!(y instanceof Float32Array) || y.length !== nRows) {
    throw new XGBoostInputError(`y must be a Float32Array of length nRows = ${nRows}, got ${y?.length}`);
  }
  for (let i = 0; i < X.length; i++) {
    const v = X[i];
    if (v !== v) continue; // NaN = missing
    if (v === Infinity || v === -Infinity) {
      throw new XGBoostInputError(`X[row ${Math.floor(i / nCols)}, col ${i % nCols}] is ${v}; features must be finite (use NaN for missing)`);
    }
    if (v === WASM_MISSING && !inp.minusOneIsMissing) {
      throw new XGBoostInputError(
        `X[row ${Math.floor(i / nCols)}, col ${i % nCols}] is exactly -1, which the WASM XGBoost treats as missing; shift or re-encode the feature, use NaN for missing, or pass minusOneIsMissing: true`,
      );
    }
  }
  for (let i = 0; i < nRows; i++) {
    const v = y[i];
    if (!(v >= 0 && v <= 1)) throw new XGBoostInputError(`label y[${i}] = ${v}; labels must be in [0, 1] for binary:logistic`);
  }
  if (weights !== undefined) {
    if (!(weights instanceof Float32Array) || weights.length !== nRows) {
      throw new XGBoostInputError(`weights must be a Float32Array of length nRows = ${nRows}, got ${weights?.length}`);
    }
    let sum = 0;
    for (let i = 0; i < nRows; i++) {
      const w = weights[i];
      if (!(w >= 0) || w === Infinity) throw new XGBoostInputError(`weight[${i}] = ${w}; weights must be finite and ≥ 0`);
      sum += w;
    }
    if (!(sum > 0)) throw new XGBoostInputError("all weights are 0; nothing to train on");
  }
}

