/**
 * TreeSHAP on every core: the rows are split into one block per thread, the worker threads (shap-worker.ts) take all
 * but the last block, this thread the last. A row's values depend on that row alone, so they are the same, bit for
 * bit, as one treeShap call over all rows. Each worker builds the forest's TreeSHAP tables once (≈ 0.1–0.3 s for 100
 * trees of depth 6) and keeps them for every block it is given: open a pool once for a job's batches.
 */
import os from "node:os";
import type { Worker } from "node:worker_threads";
import type { Forest, PredictOptions } from "./forest.ts";
import { checkShape } from "./forest.ts";
import { XGBoostError } from "./errors.ts";
import { treeShap } from "./tree-shap.ts";
import { startWorker } from "./worker-thread.ts";
import type { ShapInit, ShapJob, ShapResult } from "./shap-worker.ts";

/** Below this many row × tree visits a call stays in this thread (≈ 0.2 s at 5,600 rows/s for 100 trees): a worker's start and its tables cost about that. */
export const PARALLEL_SHAP_MIN_WORK = 1_000_000;

/** The pool's threads unless told: the cores, at most 4. */
const defaultThreads = (): number => Math.min(4, os.availableParallelism());

export interface TreeShapPoolOptions extends PredictOptions {
  /** Threads, this one included (default: the cores, at most 4; 1: no worker). */
  threads?: number;
  /** treeShapPoolFor: the row × tree visits below which no pool is opened (default PARALLEL_SHAP_MIN_WORK). */
  minWork?: number;
}

export class TreeShapPool {
  #next = 0;
  readonly #pending = new Map<number, { resolve: (phi: Float64Array) => void; reject: (e: Error) => void }>();
  #failed: Error | undefined;

  private constructor(
    readonly forest: Forest,
    readonly nCols: number,
    readonly opts: PredictOptions,
    readonly workers: Worker[],
  ) {
    for (const w of workers) {
      w.on("message", (r: ShapResult) => {
        const p = this.#pending.get(r.id);
        if (!p) return;
        this.#pending.delete(r.id);
        if ("error" in r) p.reject(new XGBoostError(`TreeSHAP worker: ${r.error}`, "engine"));
        else p.resolve(r.phi);
      });
      const fail = (e: Error): void => {
        this.#failed ??= e;
        for (const p of this.#pending.values()) p.reject(e);
        this.#pending.clear();
      };
      w.on("error", (e) => fail(new XGBoostError(`TreeSHAP worker failed: ${e.message}`, "engine", { cause: e })));
      w.on("exit", (code) => fail(new XGBoostError(`TreeSHAP worker exited (code ${code})`, "engine")));
    }
  }

  /** Starts the workers (threads − 1) and waits until each has the forest's tables. */
  static async open(forest: Forest, nCols: number, opts: TreeShapPoolOptions = {}): Promise<TreeShapPool> {
    const threads = Math.max(1, Math.floor(opts.threads ?? defaultThreads()));
    const { threads: _, minWork: __, ...predict } = opts;
    const entry = new URL(import.meta.url.endsWith(".ts") ? "./shap-worker.ts" : "./shap-worker.js", import.meta.url);
    const workers: Worker[] = [];
    try {
      for (let i = 1; i < threads; i++) workers.push(startWorker(entry));
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once("message", (m: { ready: boolean; error?: string }) => (m.ready ? resolve() : reject(new XGBoostError(`TreeSHAP worker: ${m.error}`, "engine"))));
        w.once("error", (e) => reject(new XGBoostError(`TreeSHAP worker failed: ${e.message}`, "engine", { cause: e })));
        w.postMessage({ forest, nCols, opts: predict } satisfies ShapInit);
      })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new TreeShapPool(forest, nCols, predict, workers);
  }

  /** TreeSHAP contributions [nRows × (nCols + 1)], bias last: treeShap(forest, X, nRows, nCols, opts), on every thread. */
  async shap(X: Float32Array, nRows: number): Promise<Float64Array> {
    checkShape(this.forest, X, nRows, this.nCols);
    if (this.#failed) throw this.#failed;
    const parts = Math.min(this.workers.length + 1, Math.max(1, nRows));
    if (parts === 1) return treeShap(this.forest, X, nRows, this.nCols, this.opts);
    const F = this.nCols;
    const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * nRows) / parts));
    const results = this.workers.slice(0, parts - 1).map((w, k) => {
      const id = this.#next++;
      const block = X.slice(bounds[k]! * F, bounds[k + 1]! * F);
      return new Promise<Float64Array>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        w.postMessage({ id, X: block, nRows: bounds[k + 1]! - bounds[k]! } satisfies ShapJob, [block.buffer]);
      });
    });
    const last = treeShap(this.forest, X.subarray(bounds[parts - 1]! * F, nRows * F), nRows - bounds[parts - 1]!, F, this.opts);
    const out = new Float64Array(nRows * (F + 1));
    const blocks = await Promise.all(results);
    blocks.forEach((phi, k) => out.set(phi, bounds[k]! * (F + 1)));
    out.set(last, bounds[parts - 1]! * (F + 1));
    return out;
  }

  async close(): Promise<void> {
    this.#failed ??= new XGBoostError("TreeSHAP pool closed", "engine");
    for (const w of this.workers) w.removeAllListeners("exit");
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * A pool for `rows` rows of this forest when the work is worth the workers (PARALLEL_SHAP_MIN_WORK, more than one
 * core), else undefined: the caller then calls treeShap in this thread.
 */
export async function treeShapPoolFor(forest: Forest, nCols: number, rows: number, opts: TreeShapPoolOptions = {}): Promise<TreeShapPool | undefined> {
  const threads = opts.threads ?? defaultThreads();
  if (threads < 2 || rows * forest.numTrees < (opts.minWork ?? PARALLEL_SHAP_MIN_WORK)) return undefined;
  return TreeShapPool.open(forest, nCols, { ...opts, threads });
}

/** treeShap(forest, X, nRows, nCols, opts) on every core when worth it (treeShapPoolFor), for one call. */
export async function treeShapOnAllCores(forest: Forest, X: Float32Array, nRows: number, nCols: number, opts: TreeShapPoolOptions = {}): Promise<Float64Array> {
  const pool = await treeShapPoolFor(forest, nCols, nRows, opts);
  if (!pool) return treeShap(forest, X, nRows, nCols, opts);
  try {
    return await pool.shap(X, nRows);
  } finally {
    await pool.close();
  }
}
