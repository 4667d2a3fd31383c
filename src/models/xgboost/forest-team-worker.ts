/**
 * worker_threads entry of a ForestTeam (forest-team.ts): one forest, then any number of blocks of rows, each handed
 * over and answered through shared memory alone, so the thread that asks can wait for the answer synchronously.
 * Protocol: TeamInit in (the one message); `{ ready: true }` out; then, per block, the asking thread writes the rows
 * into `input`, the block and the operation into `control`, and bumps control[SEQ]; this thread computes, writes the
 * answer into `output` and sets control[DONE] to that sequence number (control[FAILED] = 1 and the message in
 * `error` when it could not).
 */
import { parentPort } from "node:worker_threads";
import type { Forest, PredictOptions } from "./forest.ts";
import { predictMargin } from "./model.ts";
import { prepareTreeShap, treeShap } from "./tree-shap.ts";

/** Slots of a worker's control block (an Int32Array over shared memory). */
export const SEQ = 0;
export const DONE = 1;
export const OP = 2;
export const BEGIN = 3;
export const END = 4;
export const FAILED = 5;
export const ERROR_BYTES = 6;
export const CONTROL_SLOTS = 7;

/** Operations. */
export const OP_MARGIN = 1;
export const OP_SHAP = 2;
export const OP_EXIT = 3;

export interface TeamInit {
  forest: Forest;
  nCols: number;
  opts: PredictOptions;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

if (parentPort) {
  const port = parentPort;
  port.once("message", (init: TeamInit) => {
    try {
      prepareTreeShap(init.forest);
    } catch (e) {
      port.postMessage({ ready: false, error: (e as Error)?.message ?? String(e) });
      return;
    }
    port.postMessage({ ready: true });
    serve(init);
  });
}

/** Answers blocks until told to exit. Blocks this thread between blocks (it has nothing else to do). */
function serve(init: TeamInit): void {
  const { forest, nCols: F, opts } = init;
  const control = new Int32Array(init.control);
  const input = new Float32Array(init.input);
  const output = new Float64Array(init.output);
  const error = new Uint8Array(init.error);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, SEQ, seen);
    seen = Atomics.load(control, SEQ);
    const op = Atomics.load(control, OP);
    if (op === OP_EXIT) return;
    const begin = Atomics.load(control, BEGIN);
    const end = Atomics.load(control, END);
    const rows = end - begin;
    try {
      const X = input.subarray(begin * F, end * F);
      if (op === OP_MARGIN) output.set(predictMargin(forest, X, rows, F, opts), begin);
      else output.set(treeShap(forest, X, rows, F, opts), begin * (F + 1));
      Atomics.store(control, FAILED, 0);
    } catch (e) {
      const text = new TextEncoder().encode((e as Error)?.message ?? String(e)).subarray(0, error.length);
      error.set(text);
      Atomics.store(control, ERROR_BYTES, text.length);
      Atomics.store(control, FAILED, 1);
    }
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}
