/**
 * WASM backend: drives the Emscripten module of `ml-xgboost@1.1.2` (XGBoost 0.7x) directly, bypassing
 * the package's wrapper (stack-passed arrays, 16 MB limit, subsample=0.5 default, per-row mallocs).
 * All layout-dependent facts are from /work/shared/notes/xgboost-wasm.md and are only valid for the
 * pinned wasm file, whose sha256 is checked on load.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { quietLogger, type Logger } from "../../util/logger.ts";
import { XGBoostError, XGBoostInputError } from "./errors.ts";
import { paramStrings, resolveParams, type BoostParams, type ResolvedParams } from "./params.ts";
import { validateFitInput, WASM_MISSING } from "./validate.ts";
import type { XGBoostWasmModule } from "./wasm-module.ts";

/** sha256 of `ml-xgboost@1.1.2/dist/wasm/xgboost.wasm`; the weight-injection offsets depend on it. */
export const PINNED_WASM_SHA256 = "76f1511879cc511bac60595187e28bad8673fb013546ffffb92615e6e79fef52";
const GLUE_ID = "ml-xgboost/dist/wasm/xgboost";
const MAX_ROUNDS = 10_000;

/** Which engine produced a model; recorded in run metadata because `hist` binning differs. */
export type BackendName = "wasm" | "native";

export interface BackendFitOptions {
  weights?: Float32Array;
  params?: BoostParams;
  rounds: number;
  /** See FitInput.minusOneIsMissing. */
  minusOneIsMissing?: boolean;
}

/** The interface both backends implement. Calls are synchronous; run big fits in a worker. */
export interface XGBoostBackend {
  readonly name: BackendName;
  /** Backend version string (for run metadata). */
  readonly version: string;
  /** Trains `rounds` trees with binary:logistic and returns the XGBoost 0.7 binary model bytes. */
  fit(X: Float32Array, nRows: number, nCols: number, y: Float32Array, opts: BackendFitOptions): Uint8Array;
  /** Probabilities from the backend's own predictor for a 0.7 binary model (NaN = missing). */
  predict(modelBytes: Uint8Array, X: Float32Array, nRows: number, nCols: number): Float32Array;
  /** Releases the backend; the instance must not be used afterwards. */
  dispose(): void;
}

let wasmHashChecked: string | undefined;

function checkWasmHash(wasmFile: string): void {
  if (wasmHashChecked === wasmFile) return;
  const got = createHash("sha256").update(readFileSync(wasmFile)).digest("hex");
  if (got !== PINNED_WASM_SHA256) {
    throw new XGBoostError(
      `${wasmFile} has sha256 ${got}, expected ${PINNED_WASM_SHA256} (ml-xgboost 1.1.2); the engine's memory layout assumptions would not hold. Reinstall ml-xgboost@1.1.2 exactly`,
      "wasm",
    );
  }
  wasmHashChecked = wasmFile;
}

/**
 * Loads a fresh, independent module instance: the glue is removed from `require.cache` so each call
 * gets its own heap. Hides `WebAssembly.instantiateStreaming` during the synchronous require (node's
 * fetch cannot read a file path; the glue then instantiates from the ArrayBuffer quietly), routes its
 * output to `logger.debug`, removes the `uncaughtException` listener it installs, and replaces its
 * `exit` (which calls `process.exit`) with a throw.
 */
async function loadModule(logger: Logger): Promise<XGBoostWasmModule> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve(GLUE_ID);
  checkWasmHash(path.join(path.dirname(gluePath), "xgboost.wasm"));
  const listenersBefore = new Set(process.listeners("uncaughtException"));
  // `WebAssembly` is not in the ES2023 lib typings (no DOM), hence the cast.
  const wasmApi = (globalThis as unknown as { WebAssembly: { instantiateStreaming?: unknown } }).WebAssembly;
  const savedStreaming = wasmApi.instantiateStreaming;
  let M: XGBoostWasmModule;
  delete require.cache[gluePath];
  try {
    wasmApi.instantiateStreaming = undefined;
    M = require(gluePath) as XGBoostWasmModule;
  } finally {
    wasmApi.instantiateStreaming = savedStreaming;
    delete require.cache[gluePath];
    for (const l of process.listeners("uncaughtException")) {
      if (!listenersBefore.has(l)) process.removeListener("uncaughtException", l);
    }
  }
  const sink = (text: string): void => logger.debug(`xgboost-wasm: ${text}`);
  M.print = sink;
  M.printErr = sink;
  M.exit = (status: number) => {
    throw new XGBoostError(`XGBoost called exit(${status}); this module instance is unusable, create a new one`, "wasm");
  };
  await M.isReady;
  M.print = sink;
  M.printErr = sink;
  return M;
}

/**
 * Recovers XGBoost's message from a C++ exception thrown through wasm. With exception catching disabled
 * the glue throws the string `"<ptr> - Exception catching is disabled…"`; `ptr` points at the thrown
 * object, a libc++ `std::runtime_error` whose second word is a pointer to the message characters.
 */
function decodeWasmException(M: XGBoostWasmModule, thrown: unknown): string | undefined {
  let ptr: number | undefined;
  if (typeof thrown === "number") ptr = thrown;
  else if (typeof thrown === "string") {
    const m = /^(\d+) - Exception catching is disabled/.exec(thrown);
    if (m) ptr = Number(m[1]);
  }
  if (ptr === undefined) return undefined;
  const heapBytes = M.HEAPU8.length;
  if (ptr <= 0 || ptr + 8 > heapBytes || ptr % 4 !== 0) return undefined;
  const msgPtr = M.HEAPU32[(ptr + 4) >> 2];
  if (msgPtr <= 0 || msgPtr >= heapBytes) return undefined;
  const text = M.UTF8ToString(msgPtr).trim();
  return text.length > 0 && text.length < 4096 ? text : undefined;
}

/** Creates a WASM backend with its own module instance (its heap only grows; drop it to release memory). */
export async function createWasmBackend(opts: { logger?: Logger } = {}): Promise<WasmBackend> {
  return new WasmBackend(await loadModule(opts.logger ?? quietLogger));
}

export class WasmBackend implements XGBoostBackend {
  readonly name = "wasm" as const;
  readonly version = "xgboost 0.7x (ml-xgboost 1.1.2 wasm)";
  #M: XGBoostWasmModule | undefined;
  #broken: string | undefined;

  /** Use `createWasmBackend()`; the module must be initialised. */
  constructor(M: XGBoostWasmModule) {
    this.#M = M;
    M.onAbort = (what: unknown) => {
      this.#broken = `the WASM module aborted (${String(what)})`;
    };
  }

  /** Current wasm heap size in bytes (it never shrinks). */
  get heapBytes(): number {
    return this.#module().HEAPU8.length;
  }

  #module(): XGBoostWasmModule {
    if (!this.#M) throw new XGBoostError("WASM backend used after dispose()", "engine");
    if (this.#broken) throw new XGBoostError(`${this.#broken}; create a new backend instance`, "wasm");
    return this.#M;
  }

  /** Runs one exported call; turns C++ exceptions and aborts into XGBoostError. */
  #call<T>(what: string, fn: () => T): T {
    const M = this.#module();
    const sp = M.stackSave();
    try {
      return fn();
    } catch (e) {
      if (e instanceof XGBoostError) throw e;
      M.stackRestore(sp);
      const msg = decodeWasmException(M, e);
      if (msg !== undefined) throw new XGBoostError(`XGBoost ${what} failed: ${msg}`, "wasm", { cause: e });
      if (this.#broken) throw new XGBoostError(`XGBoost ${what} failed: ${this.#broken}`, "wasm", { cause: e });
      throw new XGBoostError(`XGBoost ${what} failed: ${e instanceof Error ? e.message : String(e)}`, "wasm", { cause: e });
    }
  }

  #malloc(bytes: number): number {
    const M = this.#module();
    const p = M._malloc(Math.max(bytes, 4));
    if (!p) throw new XGBoostError(`wasm malloc of ${bytes} bytes failed (heap is capped at 2 GB)`, "wasm");
    return p;
  }

  #cString(text: string): number {
    const M = this.#module();
    const bytes = new TextEncoder().encode(text);
    const p = this.#malloc(bytes.length + 1);
    M.HEAPU8.set(bytes, p);
    M.HEAPU8[p + bytes.length] = 0;
    return p;
  }

  /**
   * Trains `rounds` trees (binary:logistic) and returns the model bytes from `save_model`.
   * Input is validated first (see validateFitInput); NaN is mapped to the WASM missing marker -1.
   * Per-row weights are injected into the training DMatrix (guarded, see injectWeights).
   * Every wasm allocation is released on every path.
   * @throws XGBoostInputError for invalid input, XGBoostError with XGBoost's own message otherwise.
   */
  fit(X: Float32Array, nRows: number, nCols: number, y: Float32Array, opts: BackendFitOptions): Uint8Array {
    validateFitInput({ X, nRows, nCols, y, weights: opts.weights, minusOneIsMissing: opts.minusOneIsMissing });
    const params = resolveParams(opts.params);
    checkRounds(opts.rounds);
    const M = this.#module();
    let dataPtr = 0;
    let labelPtr = 0;
    let handle = 0;
    const strings: number[] = [];
    try {
      dataPtr = this.#malloc(X.length * 4);
      labelPtr = this.#malloc(nRows * 4);
      const heap = M.HEAPF32;
      heap.set(X, dataPtr >> 2);
      for (let i = dataPtr >> 2, end = i + X.length; i < end; i++) if (heap[i] !== heap[i]) heap[i] = WASM_MISSING;
      heap.set(y, labelPtr >> 2);
      handle = this.#call("create_model", () => M._create_model(dataPtr, labelPtr, nRows, nCols));
      if (!handle) throw new XGBoostError("XGBoost create_model returned a null handle", "wasm");
      // The DMatrix copied data and labels.
      M._free(dataPtr);
      dataPtr = 0;
      M._free(labelPtr);
      labelPtr = 0;
      if (opts.weights) this.#injectWeights(handle, nRows, nCols, y, opts.weights);
      for (const [name, value] of [["objective", "binary:logistic"], ["booster", "gbtree"], ["silent", "1"], ...wasmParams(params)]) {
        const n = this.#cString(name);
        strings.push(n);
        const v = this.#cString(value);
        strings.push(v);
        this.#call(`set_param(${name}=${value})`, () => M._set_param(handle, n, v));
      }
      this.#call("train", () => M._train_full_model(handle, opts.rounds));
      return this.#saveModel(handle);
    } finally {
      const Mf = this.#M;
      if (Mf && !this.#broken) {
        if (dataPtr) Mf._free(dataPtr);
        if (labelPtr) Mf._free(labelPtr);
        for (const s of strings) Mf._free(s);
        if (handle) Mf._free_memory_model(handle);
      }
    }
  }

  #saveModel(handle: number): Uint8Array {
    const M = this.#module();
    const size = this.#call("save_model", () => M._save_model(handle));
    if (!(size > 0)) throw new XGBoostError(`XGBoost save_model returned ${size}`, "wasm");
    const out = this.#malloc(size);
    try {
      this.#call("get_file_content", () => M._get_file_content(out, size));
      return M.HEAPU8.slice(out, out + size);
    } finally {
      M._free(out);
    }
  }

  /**
   * Per-row weights for the WASM build, which exports no `XGDMatrixSetFloatInfo`: writes a libc++
   * `std::vector<float>` {begin, end, cap} into `MetaInfo::weights_` of the handle's DMatrix.
   * Path (wasm32 words): handle+4 → DMatrixHandle* → shared_ptr<DMatrix>* → DMatrix*; DMatrix+8 →
   * DataSource*; MetaInfo at DataSource+8: num_row u64 (+0), num_col u64 (+8), num_nonzero (+16),
   * labels (+24), root_index (+36), group_ptr (+48), weights (+60), base_margin (+72).
   * Guards: num_row/num_col, label count and first/last label equal ours, weights and base_margin empty;
   * otherwise refuse (nothing written). The DMatrix destructor frees the buffer (operator delete → free).
   */
  #injectWeights(handle: number, nRows: number, nCols: number, y: Float32Array, weights: Float32Array): void {
    const M = this.#module();
    const refuse = (why: string): never => {
      throw new XGBoostError(
        `weight injection refused: ${why}. The ml-xgboost build differs from the pinned 1.1.2 layout; train without weights on expanded rows or use the native backend`,
        "wasm",
      );
    };
    const heapBytes = M.HEAPU8.length;
    const word = (addr: number): number => {
      if (addr <= 0 || addr % 4 !== 0 || addr + 4 > heapBytes) refuse(`pointer 0x${addr.toString(16)} is outside the heap`);
      return M.HEAPU32[addr >> 2];
    };
    const dmatrixHandle = word(handle + 4);
    const sharedPtr = word(dmatrixHandle);
    const dmatrix = word(sharedPtr);
    const source = word(dmatrix + 8);
    const info = source + 8;
    if (word(info) !== nRows || word(info + 4) !== 0) refuse(`num_row is not ${nRows}`);
    if (word(info + 8) !== nCols || word(info + 12) !== 0) refuse(`num_col is not ${nCols}`);
    const labBegin = word(info + 24);
    const labEnd = word(info + 28);
    if (labEnd - labBegin !== nRows * 4) refuse(`labels vector does not hold ${nRows} floats`);
    const F = M.HEAPF32;
    word(labBegin);
    word(labEnd - 4);
    if (F[labBegin >> 2] !== y[0] || F[(labEnd >> 2) - 1] !== y[nRows - 1]) {
      refuse("labels vector does not start/end with our labels");
    }
    for (const off of [60, 64, 68, 72, 76, 80]) if (word(info + off) !== 0) refuse("weights or base_margin are not empty");
    const p = this.#malloc(nRows * 4);
    M.HEAPF32.set(weights, p >> 2);
    const U = M.HEAPU32;
    U[(info + 60) >> 2] = p;
    U[(info + 64) >> 2] = p + nRows * 4;
    U[(info + 68) >> 2] = p + nRows * 4;
  }

  /**
   * Probabilities from XGBoost's own predictor (`predict_one`, ~150k rows/s): used to audit the TS
   * predictor. NaN is mapped to -1 (missing) for the call.
   */
  predict(modelBytes: Uint8Array, X: Float32Array, nRows: number, nCols: number): Float32Array {
    if (X.length !== nRows * nCols) throw new XGBoostInputError(`X has ${X.length} values, expected ${nRows * nCols}`);
    const M = this.#module();
    let bytesPtr = 0;
    let handle = 0;
    let rowPtr = 0;
    let outPtr = 0;
    try {
      bytesPtr = this.#malloc(modelBytes.length);
      M.HEAPU8.set(modelBytes, bytesPtr);
      handle = this.#call("load_model", () => M._load_model(bytesPtr, modelBytes.length));
      if (!handle) throw new XGBoostError("XGBoost load_model failed (not a 0.7 binary model?)", "wasm");
      rowPtr = this.#malloc(nCols * 4);
      outPtr = this.#malloc(64);
      const out = new Float32Array(nRows);
      for (let r = 0; r < nRows; r++) {
        const heap = M.HEAPF32;
        const base = rowPtr >> 2;
        for (let c = 0; c < nCols; c++) {
          const v = X[r * nCols + c];
          heap[base + c] = v !== v ? WASM_MISSING : v;
        }
        const k = this.#call("predict_one", () => M._predict_one(handle, rowPtr, nCols, outPtr));
        if (k !== 1) throw new XGBoostError(`predict_one returned ${k} outputs, expected 1 (binary:logistic)`, "wasm");
        out[r] = M.HEAPF32[outPtr >> 2];
      }
      return out;
    } finally {
      const Mf = this.#M;
      if (Mf && !this.#broken) {
        if (bytesPtr) Mf._free(bytesPtr);
        if (rowPtr) Mf._free(rowPtr);
        if (outPtr) Mf._free(outPtr);
        if (handle) Mf._free_memory_model(handle);
      }
    }
  }

  dispose(): void {
    this.#M = undefined;
  }
}

/** 0.7 names; `silent` is set separately. */
function wasmParams(p: ResolvedParams): Array<[string, string]> {
  return paramStrings(p);
}

export function checkRounds(rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
    throw new XGBoostInputError(`rounds must be an integer in 1..${MAX_ROUNDS}, got ${rounds}`);
  }
}
