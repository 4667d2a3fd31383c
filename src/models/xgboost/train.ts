/**
 * Public training API. Trains `rounds` trees on a backend (in a worker thread for large inputs),
 * parses the model in TS, and, given a validation set, keeps the best prefix of trees by weighted
 * validation log loss (early stopping done in TS from cumulative margins: one pass for all rounds).
 */
import { quietLogger, type Logger } from "../../util/logger.ts";
import { createBackend, type BackendChoice } from "./backend.ts";
import { XGBoostError, XGBoostInputError, XGBoostModelFormatError } from "./errors.ts";
import { fitRequest, type FitRequest, type FitResponse } from "./fit-worker.ts";
import { BoostedModel, logLossCurve, parseModel, truncateModelBytes } from "./model.ts";
import { resolveParams, type BoostParams } from "./params.ts";
import { validateFitInput } from "./validate.ts";
import { checkRounds, type BackendName } from "./wasm-backend.ts";
import { startWorker } from "./worker-thread.ts";

export interface TrainData {
  /** Row-major features, `featureNames.length` columns; NaN = missing. */
  X: Float32Array;
  /** Labels in [0, 1]; with weights, a fractional label encodes an aggregated row exactly. */
  y: Float32Array;
  /** Per-row weights ≥ 0 (e.g. event counts of aggregated paths). */
  weights?: Float32Array;
  featureNames: readonly string[];
  /** Treat an exact -1 feature value as missing (otherwise -1 is refused). */
  minusOneIsMissing?: boolean;
}

export interface TrainOptions {
  params?: BoostParams;
  /** Boosting rounds to train (the upper bound when early stopping). */
  rounds: number;
  /**
   * Validation set (same columns). When given, the model keeps the first k trees where k minimises
   * the weighted validation log loss, subject to `earlyStoppingRounds`.
   */
  validation?: { X: Float32Array; y: Float32Array; weights?: Float32Array };
  /**
   * XGBoost's patience rule: stop at the first round that has not improved the best loss for this many
   * rounds and keep the best tree count up to there. Omitted: the global minimum over all rounds.
   */
  earlyStoppingRounds?: number;
  /** Default "wasm" (identical results on every machine); see BackendChoice. */
  backend?: BackendChoice;
  /** "auto" (default): a worker thread when nRows ≥ workerRowThreshold. */
  worker?: "auto" | "always" | "never";
  /** Default 50,000 rows. */
  workerRowThreshold?: number;
  logger?: Logger;
}

export const DEFAULT_WORKER_ROW_THRESHOLD = 50_000;

/**
 * Trains a binary:logistic gradient-boosted forest.
 * Deterministic: the same data, params (seed defaults to 0) and backend give byte-identical models.
 * @throws XGBoostInputError for invalid input/options, XGBoostError when XGBoost fails.
 */
export async function trainBoosted(data: TrainData, opts: TrainOptions): Promise<BoostedModel> {
  const logger = opts.logger ?? quietLogger;
  const F = data.featureNames.length;
  if (F < 1) throw new XGBoostInputError("featureNames is empty; give one name per column of X");
  if (new Set(data.featureNames).size !== F) throw new XGBoostInputError("featureNames contains duplicates");
  if (!(data.X instanceof Float32Array) || data.X.length % F !== 0) {
    throw new XGBoostInputError(`X must be a row-major Float32Array whose length is a multiple of ${F} (featureNames.length)`);
  }
  const nRows = data.X.length / F;
  const minusOneIsMissing = !!data.minusOneIsMissing;
  validateFitInput({ X: data.X, nRows, nCols: F, y: data.y, weights: data.weights, minusOneIsMissing });
  const params = resolveParams(opts.params);
  checkRounds(opts.rounds);
  const val = opts.validation;
  if (val) {
    if (!(val.X instanceof Float32Array) || val.X.length % F !== 0) {
      throw new XGBoostInputError(`validation.X must be a Float32Array whose length is a multiple of ${F}`);
    }
    validateFitInput({ X: val.X, nRows: val.X.length / F, nCols: F, y: val.y, weights: val.weights, minusOneIsMissing });
  }
  const patience = opts.earlyStoppingRounds;
  if (patience !== undefined) {
    if (!val) throw new XGBoostInputError("earlyStoppingRounds needs a validation set");
    if (!Number.isInteger(patience) || patience < 1) throw new XGBoostInputError(`earlyStoppingRounds must be a positive integer, got ${patience}`);
  }
  const backendChoice = opts.backend ?? "wasm";
  const workerMode = opts.worker ?? "auto";
  const useWorker = workerMode === "always" || (workerMode === "auto" && nRows >= (opts.workerRowThreshold ?? DEFAULT_WORKER_ROW_THRESHOLD));

  const req: FitRequest = {
    X: data.X,
    nRows,
    nCols: F,
    y: data.y,
    weights: data.weights,
    params,
    rounds: opts.rounds,
    minusOneIsMissing,
    backend: backendChoice,
  };
  const t0 = performance.now();
  const fitted = useWorker ? await fitInWorker(req) : await fitInProcess(req, logger);
  logger.debug("xgboost: trained", {
    rows: nRows,
    features: F,
    rounds: opts.rounds,
    backend: fitted.backend,
    worker: useWorker,
    ms: Math.round(performance.now() - t0),
  });

  let bytes = fitted.bytes;
  let bestIteration = opts.rounds - 1;
  let curve: number[] | undefined;
  if (val) {
    const forest = parseModel(bytes);
    if (forest.numTrees !== opts.rounds) {
      throw new XGBoostModelFormatError(`backend returned ${forest.numTrees} trees for ${opts.rounds} rounds`);
    }
    const c = logLossCurve(forest, val.X, val.X.length / F, F, val.y, val.weights, { minusOneIsMissing });
    curve = Array.from(c);
    bestIteration = bestPrefix(c, patience);
    if (bestIteration + 1 < forest.numTrees) bytes = truncateModelBytes(bytes, bestIteration + 1);
  }
  return new BoostedModel(bytes, {
    featureNames: [...data.featureNames],
    params,
    bestIteration,
    roundsTrained: opts.rounds,
    backend: fitted.backend,
    backendVersion: fitted.backendVersion,
    minusOneIsMissing,
    ...(curve ? { validationLogLoss: curve } : {}),
  });
}

/**
 * Index of the best round under XGBoost's early-stopping rule: scan rounds, track the first strict
 * minimum; stop once `patience` rounds pass without improvement. `patience` undefined = global argmin
 * (first occurrence). O(rounds).
 */
export function bestPrefix(loss: ArrayLike<number>, patience?: number): number {
  let best = 0;
  for (let i = 1; i < loss.length; i++) {
    if (loss[i] < loss[best]) best = i;
    else if (patience !== undefined && i - best >= patience) break;
  }
  return best;
}

interface Fitted {
  bytes: Uint8Array;
  backend: BackendName;
  backendVersion: string;
}

async function fitInProcess(req: FitRequest, logger: Logger): Promise<Fitted> {
  return fitRequest(req, logger);
}

/** Runs one fit in a fresh worker thread (its WASM heap is freed when the worker exits). */
function fitInWorker(req: FitRequest): Promise<Fitted> {
  // The worker beside this file: fit-worker.ts under tsx, fit-worker.js when compiled.
  const entry = new URL(import.meta.url.endsWith(".ts") ? "./fit-worker.ts" : "./fit-worker.js", import.meta.url);
  return new Promise<Fitted>((resolve, reject) => {
    let settled = false;
    const worker = startWorker(entry);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.once("message", (res: FitResponse) => {
      finish(() => {
        if (res.ok) resolve({ bytes: res.bytes, backend: res.backend, backendVersion: res.backendVersion });
        else reject(reviveError(res));
      });
    });
    worker.once("error", (e) => finish(() => reject(new XGBoostError(`XGBoost worker failed: ${e.message}`, "engine", { cause: e }))));
    worker.once("exit", (code) =>
      finish(() => reject(new XGBoostError(`XGBoost worker exited (code ${code}) without a result`, "engine"))),
    );
    worker.postMessage(req);
  });
}

function reviveError(res: Extract<FitResponse, { ok: false }>): Error {
  if (res.name === "XGBoostInputError") return new XGBoostInputError(res.message);
  const backend = res.backend === "wasm" || res.backend === "native" ? res.backend : "engine";
  return new XGBoostError(res.message, backend);
}
