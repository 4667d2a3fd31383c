/**
 * A forest's margins and TreeSHAP values on every core, asked for synchronously: the credit code calls a model's
 * `predict` and `shap` from deep inside synchronous loops (a batch of coalitions at a time), which a message-passing
 * pool could only serve by making every caller async. Here the rows of a call are split into one block per thread;
 * each worker (forest-team-worker.ts) is handed its block through shared memory and this thread computes the last
 * block meanwhile, then waits on the workers' answers (Atomics.wait). A row's values depend on that row alone, so
 * the answer is the same, bit for bit, as one call in this thread.
 */
import os from "node:os";
import type { Worker } from "node:worker_threads";
import { XGBoostError } from "./errors.ts";
import { checkShape, type Forest, type PredictOptions } from "./forest.ts";
import { predictMargin, type BoostedModel } from "./model.ts";
import { treeShap } from "./tree-shap.ts";
import { startWorker } from "./worker-thread.ts";
import { BEGIN, CONTROL_SLOTS, DONE, END, ERROR_BYTES, FAILED, OP, OP_EXIT, OP_MARGIN, OP_SHAP, SEQ, type TeamInit } from "./forest-team-worker.ts";

/** Rows a call hands over at a time (a longer call goes in pieces): the shared buffers hold this many. */
export const TEAM_BLOCK_ROWS = 16_384;

/** Below this many row × tree visits in a call, this thread answers alone (handing over costs more than it saves). */
export const TEAM_MIN_WORK = 200_000;

/** A worker that has not answered this long after this thread finished its own block is taken for lost. */
const LOST_AFTER_MS = 10 * 60_000;

export interface ForestTeamOptions extends PredictOptions {
  /** Threads, this one included (default: the cores, at most 4). */
  threads?: number;
  /** Row × tree visits below which a call stays in this thread (default TEAM_MIN_WORK). */
  minWork?: number;
}

interface Member {
  worker: Worker;
  control: Int32Array;
  error: Uint8Array;
}

export class ForestTeam {
  #closed = false;
  #seq = 0;

  private constructor(
    readonly forest: Forest,
    readonly nCols: number,
    readonly opts: PredictOptions,
    readonly minWork: number,
    private readonly members: Member[],
    private readonly input: Float32Array,
    private readonly output: Float64Array,
  ) {}

  /**
   * A team for this forest: threads − 1 workers, each with the forest and its TreeSHAP tables. Undefined on one core
   * (or `threads: 1`): the caller then computes in this thread.
   */
  static async open(forest: Forest, nCols: number, opts: ForestTeamOptions = {}): Promise<ForestTeam | undefined> {
    const threads = Math.max(1, Math.floor(opts.threads ?? Math.min(4, os.availableParallelism())));
    if (threads < 2) return undefined;
    const predict: PredictOptions = { ...(opts.nTrees === undefined ? {} : { nTrees: opts.nTrees }), ...(opts.minusOneIsMissing ? { minusOneIsMissing: true } : {}) };
    const inputBuffer = new SharedArrayBuffer(TEAM_BLOCK_ROWS * nCols * 4);
    const outputBuffer = new SharedArrayBuffer(TEAM_BLOCK_ROWS * (nCols + 1) * 8);
    const entry = new URL(import.meta.url.endsWith(".ts") ? "./forest-team-worker.ts" : "./forest-team-worker.js", import.meta.url);
    const members: Member[] = Array.from({ length: threads - 1 }, () => ({
      worker: startWorker(entry),
      control: new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4)),
      error: new Uint8Array(new SharedArrayBuffer(1024)),
    }));
    try {
      // The workers start and build their TreeSHAP tables side by side.
      await Promise.all(members.map(({ worker, control, error }) => new Promise<void>((resolve, reject) => {
        worker.once("message", (m: { ready: boolean; error?: string }) => (m.ready ? resolve() : reject(new XGBoostError(`forest worker: ${m.error}`, "engine"))));
        worker.once("error", (e) => reject(new XGBoostError(`forest worker failed: ${e.message}`, "engine", { cause: e })));
        worker.postMessage({ forest, nCols, opts: predict, control: control.buffer as SharedArrayBuffer, input: inputBuffer, output: outputBuffer, error: error.buffer as SharedArrayBuffer } satisfies TeamInit);
      })));
    } catch (e) {
      await Promise.all(members.map((m) => m.worker.terminate()));
      throw e;
    }
    return new ForestTeam(forest, nCols, predict, opts.minWork ?? TEAM_MIN_WORK, members, new Float32Array(inputBuffer), new Float64Array(outputBuffer));
  }

  /** predictMargin(forest, X, nRows, nCols, opts), on every thread when the call is large enough. */
  predictMargin(X: Float32Array, nRows: number): Float64Array {
    checkShape(this.forest, X, nRows, this.nCols);
    const out = new Float64Array(nRows);
    this.#blocks(X, nRows, OP_MARGIN, 1, out, (x, rows) => predictMargin(this.forest, x, rows, this.nCols, this.opts));
    return out;
  }

  /** treeShap(forest, X, nRows, nCols, opts): contributions [nRows × (nCols + 1)], bias last; on every thread when large enough. */
  shap(X: Float32Array, nRows: number): Float64Array {
    checkShape(this.forest, X, nRows, this.nCols);
    const out = new Float64Array(nRows * (this.nCols + 1));
    this.#blocks(X, nRows, OP_SHAP, this.nCols + 1, out, (x, rows) => treeShap(this.forest, x, rows, this.nCols, this.opts));
    return out;
  }

  /** Stops the workers. The team answers nothing after. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.members) {
      Atomics.store(m.control, OP, OP_EXIT);
      Atomics.add(m.control, SEQ, 1);
      Atomics.notify(m.control, SEQ);
    }
    await Promise.all(this.members.map((m) => m.worker.terminate()));
  }

  /**
   * Computes `out` (`width` values a row) for the rows of X in pieces of TEAM_BLOCK_ROWS: each piece split among the
   * workers and this thread (`local` computes a block here).
   */
  #blocks(X: Float32Array, nRows: number, op: number, width: number, out: Float64Array, local: (X: Float32Array, rows: number) => Float64Array): void {
    if (this.#closed) throw new XGBoostError("the forest team is closed", "engine");
    const F = this.nCols;
    const trees = this.opts.nTrees ?? this.forest.numTrees;
    if (nRows * Math.max(1, trees) < this.minWork || nRows < this.members.length + 1) {
      out.set(local(X, nRows));
      return;
    }
    for (let start = 0; start < nRows; start += TEAM_BLOCK_ROWS) {
      const rows = Math.min(TEAM_BLOCK_ROWS, nRows - start);
      const parts = this.members.length + 1;
      const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * rows) / parts));
      // The workers' blocks into shared memory; this thread's block (the last) is read where it is.
      this.input.set(X.subarray(start * F, (start + bounds[parts - 1]!) * F));
      const seq = ++this.#seq;
      this.members.forEach((m, k) => {
        Atomics.store(m.control, OP, op);
        Atomics.store(m.control, BEGIN, bounds[k]!);
        Atomics.store(m.control, END, bounds[k + 1]!);
        Atomics.store(m.control, SEQ, seq);
        Atomics.notify(m.control, SEQ);
      });
      const mine = local(X.subarray((start + bounds[parts - 1]!) * F, (start + rows) * F), rows - bounds[parts - 1]!);
      out.set(mine, (start + bounds[parts - 1]!) * width);
      for (const m of this.members) this.#await(m, seq);
      out.set(this.output.subarray(0, bounds[parts - 1]! * width), start * width);
    }
  }

  /** Waits until member `m` has answered block `seq`; throws its error, or when it stays silent (a lost worker). */
  #await(m: Member, seq: number): void {
    const deadline = Date.now() + LOST_AFTER_MS;
    for (;;) {
      const done = Atomics.load(m.control, DONE);
      if (done === seq) break;
      if (Date.now() > deadline) throw new XGBoostError(`a forest worker did not answer in ${LOST_AFTER_MS / 1000} s`, "engine");
      Atomics.wait(m.control, DONE, done, 1000);
    }
    if (Atomics.load(m.control, FAILED)) {
      const text = new TextDecoder().decode(m.error.slice(0, Atomics.load(m.control, ERROR_BYTES)));
      throw new XGBoostError(`forest worker: ${text}`, "engine");
    }
  }
}

/**
 * Runs `fn` with `model`'s predictions and TreeSHAP values computed on every core (a ForestTeam for its forest, closed
 * after), or in this thread on one core, for a model without trees, or when `opts.rows` (the rows `fn` will ask for,
 * when known) are too few to be worth starting the workers; the same values either way.
 */
export async function onAllCores<T>(model: BoostedModel, fn: () => T | Promise<T>, opts: Pick<ForestTeamOptions, "threads" | "minWork"> & { rows?: number } = {}): Promise<T> {
  const { rows, ...teamOpts } = opts;
  const worth = rows === undefined || rows * model.numTrees >= (opts.minWork ?? TEAM_MIN_WORK);
  const team = model.numTrees > 0 && worth
    ? await ForestTeam.open(model.forest, model.featureNames.length, { ...teamOpts, minusOneIsMissing: model.meta.minusOneIsMissing })
    : undefined;
  try {
    return await model.computedBy(team, fn);
  } finally {
    await team?.close();
  }
}
