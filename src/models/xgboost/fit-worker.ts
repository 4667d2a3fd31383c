/**
 * worker_threads entry: one fit per worker, so the WASM heap (which never shrinks) is released when
 * the worker exits. Protocol: one FitRequest in, one FitResponse out.
 */
import { parentPort } from "node:worker_threads";
import { createBackend, type BackendChoice } from "./backend.ts";
import type { Logger } from "../../util/logger.ts";
import type { BoostParams } from "./params.ts";
import type { BackendName } from "./wasm-backend.ts";

export interface FitRequest {
  X: Float32Array;
  nRows: number;
  nCols: number;
  y: Float32Array;
  weights?: Float32Array;
  params?: BoostParams;
  rounds: number;
  minusOneIsMissing?: boolean;
  backend: BackendChoice;
}

export type FitResponse =
  | { ok: true; bytes: Uint8Array; backend: BackendName; backendVersion: string }
  | { ok: false; name: string; message: string; backend?: string };

/** Fit one request on a fresh backend, disposed on every path: the same in a worker and in-process. */
export async function fitRequest(req: FitRequest, logger?: Logger): Promise<{ bytes: Uint8Array; backend: BackendName; backendVersion: string }> {
  const be = await createBackend(req.backend, logger);
  try {
    const bytes = be.fit(req.X, req.nRows, req.nCols, req.y, {
      weights: req.weights,
      params: req.params,
      rounds: req.rounds,
      minusOneIsMissing: req.minusOneIsMissing,
    });
    return { bytes, backend: be.name, backendVersion: be.version };
  } finally {
    be.dispose();
  }
}

if (parentPort) {
  const port = parentPort;
  port.once("message", async (req: FitRequest) => {
    let res: FitResponse;
    const transfer: ArrayBuffer[] = [];
    try {
      const fitted = await fitRequest(req);
      res = { ok: true, ...fitted };
      transfer.push(fitted.bytes.buffer as ArrayBuffer);
    } catch (e) {
      const err = e as Error & { backend?: string };
      res = { ok: false, name: err?.name ?? "Error", message: err?.message ?? String(e), backend: err?.backend };
    }
    port.postMessage(res, transfer);
    port.close();
  });
}
