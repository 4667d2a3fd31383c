/**
 * Inspection of a trained forest in TypeScript: prediction, feature importance, truncation
 * for early stopping, and the `BoostedModel` artifact with its tagged-JSON form. Pure functions over
 * typed arrays; no I/O. The binary parser lives in forest.ts, TreeSHAP in tree-shap.ts.
 */
import { XGBoostInputError, XGBoostModelFormatError } from "./errors.ts";
import { checkShape, parseModel, treeCount, truncateModelBytes, type Forest, type PredictOptions } from "./forest.ts";
import { treeShap } from "./tree-shap.ts";
import { resolveParams, type BoostParams, type ResolvedParams } from "./params.ts";
import type { BackendName } from "./wasm-backend.ts";

export { parseModel, truncateModelBytes, type Forest, type PredictOptions };

/**
 * Leaf reached by row `rowOff` of X in the tree rooted at `node`.
 * Rule (XGBoost): left iff x < threshold; missing (NaN, or -1 when `m1`) → default side.
 */
function leafOf(forest: Forest, X: Float32Array, rowOff: number, node: number, m1: boolean): number {
  const { left, right, feature, threshold, defaultLeft } = forest;
  let l = left[node];
  while (l >= 0) {
    const x = X[rowOff + feature[node]];
    if (x !== x || (m1 && x === -1)) node = defaultLeft[node] ? l : right[node];
    else node = x < threshold[node] ? l : right[node];
    l = left[node];
  }
  return node;
}

/**
 * Margin (log-odds) per row: f(x) = base_margin + Σ_t leaf_t(x).
 * Accumulated in float64 (XGBoost uses float32: differences ~1e-7).
 * Complexity O(nRows × nTrees × depth). Empty X → empty result.
 */
export function predictMargin(forest: Forest, X: Float32Array, nRows: number, nCols: number, opts: PredictOptions = {}): Float64Array {
  checkShape(forest, X, nRows, nCols);
  const T = treeCount(forest, opts.nTrees);
  const m1 = !!opts.minusOneIsMissing;
  const out = new Float64Array(nRows);
  const { treeStart, leafValue } = forest;
  for (let r = 0; r < nRows; r++) {
    const off = r * nCols;
    let m = forest.baseMargin;
    for (let t = 0; t < T; t++) m += leafValue[leafOf(forest, X, off, treeStart[t], m1)];
    out[r] = m;
  }
  return out;
}

/**
 * Margins of several tree prefixes in one pass: entry k is predictMargin with `nTrees: stages[k]`, bit for
 * bit (the same trees summed in the same order), for the cost of the longest prefix alone instead of
 * the sum of all prefixes. `stages` ascending, each in 0..numTrees.
 * Complexity O(nRows × max(stages) × depth).
 */
export function stagedMargins(forest: Forest, X: Float32Array, nRows: number, nCols: number, stages: readonly number[], opts: { minusOneIsMissing?: boolean } = {}): Float64Array[] {
  checkShape(forest, X, nRows, nCols);
  stages.forEach((k, i) => {
    treeCount(forest, k);
    if (i > 0 && k < stages[i - 1]!) throw new XGBoostInputError(`stages must be ascending, got ${stages.join(", ")}`);
  });
  const m1 = !!opts.minusOneIsMissing;
  const out = stages.map(() => new Float64Array(nRows));
  const { treeStart, leafValue } = forest;
  for (let r = 0; r < nRows; r++) {
    const off = r * nCols;
    let m = forest.baseMargin;
    let t = 0;
    for (let s = 0; s < stages.length; s++) {
      for (const end = stages[s]!; t < end; t++) m += leafValue[leafOf(forest, X, off, treeStart[t], m1)];
      out[s]![r] = m;
    }
  }
  return out;
}

/** Logistic function 1 / (1 + e^-z), stable for large |z|. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Probability per row: σ(predictMargin). Same complexity and edge cases. */
export function predictProba(forest: Forest, X: Float32Array, nRows: number, nCols: number, opts: PredictOptions = {}): Float64Array {
  const m = predictMargin(forest, X, nRows, nCols, opts);
  for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]);
  return m;
}

/** softplus(z) = log(1 + e^z), stable. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/**
 * Weighted log loss after each tree, from cumulative margins in one pass:
 *   L_k = Σ_i w_i [ y_i·log(1+e^{-m_ik}) + (1-y_i)·log(1+e^{m_ik}) ] / Σ_i w_i,
 *   m_ik = base_margin + Σ_{t<k} leaf_t(x_i), for k = 1..nTrees.
 * (Margin form: exact and stable, no probability clipping.) Fractional labels are allowed.
 * Complexity O(nRows × nTrees × depth), memory O(nTrees).
 * @returns Float64Array of length nTrees; entry k-1 is the loss of the first k trees.
 */
export function logLossCurve(
  forest: Forest,
  X: Float32Array,
  nRows: number,
  nCols: number,
  y: Float32Array,
  weights?: Float32Array,
  opts: { minusOneIsMissing?: boolean } = {},
): Float64Array {
  checkShape(forest, X, nRows, nCols);
  if (y.length !== nRows) throw new XGBoostInputError(`validation y has ${y.length} labels, expected ${nRows}`);
  if (weights && weights.length !== nRows) throw new XGBoostInputError(`validation weights have ${weights.length} values, expected ${nRows}`);
  const T = forest.numTrees;
  const m1 = !!opts.minusOneIsMissing;
  const sums = new Float64Array(T);
  let wSum = 0;
  const { treeStart, leafValue } = forest;
  for (let r = 0; r < nRows; r++) {
    const w = weights ? weights[r] : 1;
    if (w === 0) continue;
    wSum += w;
    const yi = y[r];
    const off = r * nCols;
    let m = forest.baseMargin;
    for (let t = 0; t < T; t++) {
      m += leafValue[leafOf(forest, X, off, treeStart[t], m1)];
      sums[t] += w * (yi * softplus(-m) + (1 - yi) * softplus(m));
    }
  }
  if (!(wSum > 0)) throw new XGBoostInputError("validation set has no rows with positive weight");
  for (let t = 0; t < T; t++) sums[t] /= wSum;
  return sums;
}

export type ImportanceType = "weight" | "gain" | "cover" | "total_gain" | "total_cover";

/**
 * Per-feature importance with XGBoost's `get_score` semantics: weight = number of splits on the
 * feature; total_gain / total_cover = Σ over those splits of loss_chg / sum_hess; gain / cover = the
 * totals divided by weight (0 for unused features). O(nodes).
 * @returns Float64Array of length numFeature.
 */
export function featureImportance(forest: Forest, type: ImportanceType, opts: { nTrees?: number } = {}): Float64Array {
  const T = treeCount(forest, opts.nTrees);
  const count = new Float64Array(forest.numFeature);
  const gain = new Float64Array(forest.numFeature);
  const cover = new Float64Array(forest.numFeature);
  for (let n = 0, end = forest.treeStart[T]; n < end; n++) {
    const f = forest.feature[n];
    if (f < 0) continue;
    count[f] += 1;
    gain[f] += forest.gain[n];
    cover[f] += forest.cover[n];
  }
  switch (type) {
    case "weight":
      return count;
    case "total_gain":
      return gain;
    case "total_cover":
      return cover;
    case "gain":
    case "cover": {
      const src = type === "gain" ? gain : cover;
      for (let f = 0; f < src.length; f++) src[f] = count[f] > 0 ? src[f] / count[f] : 0;
      return src;
    }
    default:
      throw new XGBoostInputError(`unknown importance type "${String(type)}"; use weight, gain, cover, total_gain or total_cover`);
  }
}

// ---------------------------------------------------------------------------------------------
// The trained artifact.

export const MODEL_JSON_TYPE = "funnelcredit.xgboost";
export const MODEL_JSON_VERSION = 1;

export interface BoostedModelMeta {
  featureNames: readonly string[];
  params: ResolvedParams;
  /** 0-based index of the last tree kept; the model holds bestIteration + 1 trees. */
  bestIteration: number;
  /** Rounds trained before early-stopping truncation. */
  roundsTrained: number;
  backend: BackendName;
  backendVersion: string;
  /** Whether an exact -1 feature value means missing (see FitInput.minusOneIsMissing). */
  minusOneIsMissing: boolean;
  /** Weighted validation log loss after each trained round, when a validation set was given. */
  validationLogLoss?: readonly number[];
}

/** Tagged JSON form; `bytes` is the base64 XGBoost 0.7 binary model (loads in WASM and native 1.7). */
export interface BoostedModelJSON {
  type: typeof MODEL_JSON_TYPE;
  version: typeof MODEL_JSON_VERSION;
  bytes: string;
  featureNames: string[];
  params: ResolvedParams;
  bestIteration: number;
  roundsTrained: number;
  backend: BackendName;
  backendVersion: string;
  minusOneIsMissing: boolean;
  validationLogLoss?: number[];
}

/**
 * Where a model's margins and TreeSHAP values are computed instead of in this thread (a ForestTeam, forest-team.ts):
 * the same values, row for row.
 */
export interface ForestEvaluator {
  predictMargin(X: Float32Array, nRows: number): Float64Array;
  shap(X: Float32Array, nRows: number): Float64Array;
}

/**
 * A trained binary:logistic forest: the model bytes (the artifact), the parsed forest and metadata.
 * X arguments are row-major Float32Array with `featureNames.length` columns; NaN = missing.
 */
export class BoostedModel {
  readonly forest: Forest;
  readonly featureNames: readonly string[];
  #evaluator: ForestEvaluator | undefined;
  #evaluating = false;

  constructor(
    readonly bytes: Uint8Array,
    readonly meta: BoostedModelMeta,
  ) {
    this.forest = parseModel(bytes);
    this.featureNames = meta.featureNames;
    if (this.forest.numFeature !== meta.featureNames.length) {
      throw new XGBoostModelFormatError(
        `model has ${this.forest.numFeature} features but ${meta.featureNames.length} feature names were given`,
      );
    }
    if (this.forest.numTrees !== meta.bestIteration + 1) {
      throw new XGBoostModelFormatError(`model has ${this.forest.numTrees} trees but bestIteration is ${meta.bestIteration}`);
    }
  }

  get backend(): BackendName {
    return this.meta.backend;
  }
  get numTrees(): number {
    return this.forest.numTrees;
  }

  #rows(X: Float32Array): number {
    const F = this.featureNames.length;
    if (X.length % F !== 0) throw new XGBoostInputError(`X has ${X.length} values, not a multiple of ${F} features`);
    return X.length / F;
  }

  /**
   * Runs `fn` with this model's predict, predictMargin and shap computed by `evaluator` (undefined: in this thread),
   * then computes in this thread again.
   */
  async computedBy<T>(evaluator: ForestEvaluator | undefined, fn: () => T | Promise<T>): Promise<T> {
    if (this.#evaluating) throw new XGBoostInputError("the model is already computed by another evaluator");
    this.#evaluating = true;
    this.#evaluator = evaluator;
    try {
      return await fn();
    } finally {
      this.#evaluator = undefined;
      this.#evaluating = false;
    }
  }

  /** Probabilities, one per row. */
  predict(X: Float32Array): Float64Array {
    if (!this.#evaluator) return predictProba(this.forest, X, this.#rows(X), this.featureNames.length, { minusOneIsMissing: this.meta.minusOneIsMissing });
    const m = this.#evaluator.predictMargin(X, this.#rows(X));
    for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]!);
    return m;
  }

  /** Margins (log-odds), one per row. */
  predictMargin(X: Float32Array): Float64Array {
    if (this.#evaluator) return this.#evaluator.predictMargin(X, this.#rows(X));
    return predictMargin(this.forest, X, this.#rows(X), this.featureNames.length, { minusOneIsMissing: this.meta.minusOneIsMissing });
  }

  /** TreeSHAP contributions on the margin scale, [n × (F + 1)], bias last. */
  shap(X: Float32Array): Float64Array {
    if (this.#evaluator) return this.#evaluator.shap(X, this.#rows(X));
    return treeShap(this.forest, X, this.#rows(X), this.featureNames.length, { minusOneIsMissing: this.meta.minusOneIsMissing });
  }

  /** Importance by feature name. */
  featureImportance(type: ImportanceType = "gain"): Record<string, number> {
    const v = featureImportance(this.forest, type);
    return Object.fromEntries(this.featureNames.map((n, i) => [n, v[i]]));
  }

  toJSON(): BoostedModelJSON {
    return toJSON(this);
  }
}

/** Tagged JSON of a model (see BoostedModelJSON). */
export function toJSON(model: BoostedModel): BoostedModelJSON {
  const m = model.meta;
  return {
    type: MODEL_JSON_TYPE,
    version: MODEL_JSON_VERSION,
    bytes: Buffer.from(model.bytes.buffer, model.bytes.byteOffset, model.bytes.byteLength).toString("base64"),
    featureNames: [...m.featureNames],
    params: { ...m.params },
    bestIteration: m.bestIteration,
    roundsTrained: m.roundsTrained,
    backend: m.backend,
    backendVersion: m.backendVersion,
    minusOneIsMissing: m.minusOneIsMissing,
    ...(m.validationLogLoss ? { validationLogLoss: [...m.validationLogLoss] } : {}),
  };
}

/**
 * Rebuilds a model from its tagged JSON (object or string).
 * @throws XGBoostModelFormatError naming the missing or wrong field.
 */
export function loadModel(json: unknown): BoostedModel {
  const o = (typeof json === "string" ? JSON.parse(json) : json) as Partial<Record<keyof BoostedModelJSON, unknown>> | null;
  const bad = (why: string): never => {
    throw new XGBoostModelFormatError(`not a funnelcredit XGBoost model: ${why}`);
  };
  if (!o || typeof o !== "object") bad("expected an object");
  if (o!.type !== MODEL_JSON_TYPE) bad(`type is ${JSON.stringify(o!.type)}, expected "${MODEL_JSON_TYPE}"`);
  if (o!.version !== MODEL_JSON_VERSION) bad(`version ${JSON.stringify(o!.version)} is not supported (expected ${MODEL_JSON_VERSION})`);
  if (typeof o!.bytes !== "string") bad("bytes must be a base64 string");
  const names = o!.featureNames;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) bad("featureNames must be an array of strings");
  if (!Number.isInteger(o!.bestIteration)) bad("bestIteration must be an integer");
  const backend = o!.backend;
  if (backend !== "wasm" && backend !== "native") bad(`backend must be "wasm" or "native"`);
  let params: ResolvedParams;
  try {
    params = resolveParams(o!.params as BoostParams);
  } catch (e) {
    return bad(`params: ${(e as Error).message}`);
  }
  const curve = o!.validationLogLoss;
  return new BoostedModel(new Uint8Array(Buffer.from(o!.bytes as string, "base64")), {
    featureNames: names as string[],
    params,
    bestIteration: o!.bestIteration as number,
    roundsTrained: Number.isInteger(o!.roundsTrained) ? (o!.roundsTrained as number) : (o!.bestIteration as number) + 1,
    backend: backend as BackendName,
    backendVersion: typeof o!.backendVersion === "string" ? o!.backendVersion : "unknown",
    minusOneIsMissing: o!.minusOneIsMissing === true,
    ...(Array.isArray(curve) ? { validationLogLoss: curve as number[] } : {}),
  });
}
