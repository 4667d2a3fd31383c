/**
 * worker_threads entry of the TreeSHAP pool (shap-pool.ts): one forest per worker, its TreeSHAP tables built once,
 * then any number of row blocks. Protocol: ShapInit in, `{ ready: true }` out; then ShapJob in, ShapResult out.
 */
import { parentPort } from "node:worker_threads";
import type { Forest, PredictOptions } from "./forest.ts";
import { prepareTreeShap, treeShap } from "./tree-shap.ts";

export interface ShapInit {
  forest: Forest;
  nCols: number;
  opts: PredictOptions;
}
export interface ShapJob {
  id: number;
  X: Float32Array;
  nRows: number;
}
export type ShapResult = { id: number; phi: Float64Array } | { id: number; error: string };

if (parentPort) {
  const port = parentPort;
  let init: ShapInit | undefined;
  port.on("message", (m: ShapInit | ShapJob) => {
    if (!init) {
      init = m as ShapInit;
      try {
        prepareTreeShap(init.forest);
        port.postMessage({ ready: true });
      } catch (e) {
        port.postMessage({ ready: false, error: (e as Error)?.message ?? String(e) });
      }
      return;
    }
    const job = m as ShapJob;
    try {
      const phi = treeShap(init.forest, job.X, job.nRows, init.nCols, init.opts);
      port.postMessage({ id: job.id, phi } satisfies ShapResult, [phi.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ id: job.id, error: (e as Error)?.message ?? String(e) } satisfies ShapResult);
    }
  });
}
