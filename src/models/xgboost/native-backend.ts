/**
 * Optional native backend: Debian's `libxgboost0` (XGBoost 1.7.4, OpenMP) through `koffi` (optional
 * npm dependency). Detected at run time; `createNativeBackend` reports why it is unavailable instead of
 * throwing, so callers can fall back to WASM. Models are converted to the 0.7 binary format (see
 * json-model.ts) so both backends produce the same kind of artifact.
 * Notes: XGBGetLastError / XGBSetGlobalConfig are thread-local, so every call stays in the calling
 * thread (use a worker thread for big fits, not koffi's async pool). Every handle is freed in finally.
 */
import type { Logger } from "../../util/logger.ts";
import { XGBoostError, XGBoostInputError } from "./errors.ts";
import { legacyBinaryFromJson } from "./json-model.ts";
import { paramStrings, resolveParams } from "./params.ts";
import { validateFitInput } from "./validate.ts";
import { checkRounds, type BackendFitOptions, type XGBoostBackend } from "./wasm-backend.ts";

/** Shared-object name installed by `apt-get install libxgboost0` (file libxgboost.so.1.6.0, reports 1.7.4). */
export const NATIVE_LIBRARY = "libxgboost.so.0";

export type NativeProbe = { ok: true; backend: NativeBackend } | { ok: false; reason: string };

/** Pointers come back from koffi as bigint (or null); handles are passed back unchanged. */
type Ptr = bigint | null;
type KoffiFn = (...args: unknown[]) => unknown;
interface KoffiLib {
  func(prototype: string): KoffiFn;
}
interface KoffiModule {
  load(path: string): KoffiLib;
  view(ptr: Ptr, bytes: number): ArrayBuffer;
}

interface Api {
  version: string;
  lastError: () => string;
  setGlobalConfig: (json: string) => number;
  dmCreate: (data: Float32Array, nrow: number, ncol: number, missing: number, out: Ptr[]) => number;
  dmSetFloat: (h: Ptr, field: string, data: Float32Array, len: number) => number;
  dmFree: (h: Ptr) => number;
  bCreate: (dmats: Ptr[], len: number, out: Ptr[]) => number;
  bSetParam: (h: Ptr, name: string, value: string) => number;
  bUpdate: (h: Ptr, iter: number, dtrain: Ptr) => number;
  bSave: (h: Ptr, config: string, outLen: number[], outPtr: Ptr[]) => number;
  bLoad: (h: Ptr, buf: Uint8Array, len: number) => number;
  bPredict: (h: Ptr, dm: Ptr, config: string, outShape: Ptr[], outDim: number[], outResult: Ptr[]) => number;
  bFree: (h: Ptr) => number;
  view: (ptr: Ptr, bytes: number) => ArrayBuffer;
}

let apiPromise: Promise<Api | string> | undefined;

async function loadApi(libraryPath: string): Promise<Api | string> {
  let koffi: KoffiModule;
  try {
    const mod = (await import("koffi")) as unknown as KoffiModule & { default?: KoffiModule };
    koffi = mod.default ?? mod;
  } catch (e) {
    return `the optional npm dependency koffi is not installed (${(e as Error).message})`;
  }
  let lib: KoffiLib;
  try {
    lib = koffi.load(libraryPath);
  } catch (e) {
    return `cannot load ${libraryPath}: ${(e as Error).message}`;
  }
  try {
    const f = (proto: string): KoffiFn => lib.func(proto);
    const ver = f("void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)");
    const major = [0];
    const minor = [0];
    const patch = [0];
    ver(major, minor, patch);
    if (major[0] < 1 || (major[0] === 1 && minor[0] < 7)) return `${libraryPath} is XGBoost ${major[0]}.${minor[0]}.${patch[0]}; need ≥ 1.7`;
    return {
      version: `xgboost ${major[0]}.${minor[0]}.${patch[0]} (native ${libraryPath})`,
      lastError: f("const char *XGBGetLastError()") as Api["lastError"],
      setGlobalConfig: f("int XGBSetGlobalConfig(const char *json)") as Api["setGlobalConfig"],
      dmCreate: f("int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ void **out)") as Api["dmCreate"],
      dmSetFloat: f("int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64_t len)") as Api["dmSetFloat"],
      dmFree: f("int XGDMatrixFree(void *handle)") as Api["dmFree"],
      bCreate: f("int XGBoosterCreate(void **dmats, uint64_t len, _Out_ void **out)") as Api["bCreate"],
      bSetParam: f("int XGBoosterSetParam(void *handle, const char *name, const char *value)") as Api["bSetParam"],
      bUpdate: f("int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)") as Api["bUpdate"],
      bSave: f("int XGBoosterSaveModelToBuffer(void *handle, const char *config, _Out_ uint64_t *out_len, _Out_ void **out_dptr)") as Api["bSave"],
      bLoad: f("int XGBoosterLoadModelFromBuffer(void *handle, const uint8_t *buf, uint64_t len)") as Api["bLoad"],
      bPredict: f(
        "int XGBoosterPredictFromDMatrix(void *handle, void *dmat, const char *config, _Out_ void **out_shape, _Out_ uint64_t *out_dim, _Out_ void **out_result)",
      ) as Api["bPredict"],
      bFree: f("int XGBoosterFree(void *handle)") as Api["bFree"],
      view: (ptr, bytes) => koffi.view(ptr, bytes),
    };
  } catch (e) {
    return `${libraryPath} does not export the XGBoost C API expected: ${(e as Error).message}`;
  }
}

/**
 * Detects koffi + libxgboost0 and returns a backend, or the reason it is unavailable.
 * `libraryPath` defaults to the environment variable FUNNELCREDIT_XGBOOST_LIB, then libxgboost.so.0.
 */
export async function createNativeBackend(opts: { logger?: Logger; libraryPath?: string } = {}): Promise<NativeProbe> {
  const libraryPath = opts.libraryPath ?? process.env.FUNNELCREDIT_XGBOOST_LIB ?? NATIVE_LIBRARY;
  if (opts.libraryPath !== undefined || !apiPromise) {
    const p = loadApi(libraryPath);
    if (opts.libraryPath === undefined) apiPromise = p;
    const api = await p;
    return typeof api === "string" ? { ok: false, reason: api } : { ok: true, backend: new NativeBackend(api) };
  }
  const api = await apiPromise;
  return typeof api === "string" ? { ok: false, reason: api } : { ok: true, backend: new NativeBackend(api) };
}

export class NativeBackend implements XGBoostBackend {
  readonly name = "native" as const;
  readonly version: string;
  #api: Api | undefined;

  constructor(api: Api) {
    this.#api = api;
    this.version = api.version;
  }

  #a(): Api {
    if (!this.#api) throw new XGBoostError("native backend used after dispose()", "engine");
    return this.#api;
  }

  /** Checks a C API return code; the message is thread-local, so read it right away. */
  #check(rc: number, what: string): void {
    if (rc === 0) return;
    // Keep XGBoost's message, drop the C++ backtrace it appends.
    const msg = this.#a().lastError().split("\nStack trace:")[0].trim();
    throw new XGBoostError(`XGBoost ${what} failed: ${msg}`, "native");
  }

  #quiet(): void {
    // Thread-local: silences "Loading model from XGBoost < 1.0.0" and training chatter in this thread.
    this.#check(this.#a().setGlobalConfig('{"verbosity":0}'), "XGBSetGlobalConfig");
  }

  #dmatrix(X: Float32Array, nRows: number, nCols: number): Ptr {
    const out: Ptr[] = [null];
    this.#check(this.#a().dmCreate(X, nRows, nCols, NaN, out), "XGDMatrixCreateFromMat");
    return out[0];
  }

  /** Same contract as WasmBackend.fit; returns 0.7 binary bytes converted from the 1.7 JSON model. */
  fit(X: Float32Array, nRows: number, nCols: number, y: Float32Array, opts: BackendFitOptions): Uint8Array {
    validateFitInput({ X, nRows, nCols, y, weights: opts.weights, minusOneIsMissing: opts.minusOneIsMissing });
    const params = resolveParams(opts.params);
    checkRounds(opts.rounds);
    const a = this.#a();
    this.#quiet();
    let data = X;
    if (opts.minusOneIsMissing) {
      data = X.slice();
      for (let i = 0; i < data.length; i++) if (data[i] === -1) data[i] = NaN;
    }
    let dm: Ptr = null;
    let booster: Ptr = null;
    try {
      dm = this.#dmatrix(data, nRows, nCols);
      this.#check(a.dmSetFloat(dm, "label", y, nRows), "set labels");
      if (opts.weights) this.#check(a.dmSetFloat(dm, "weight", opts.weights, nRows), "set weights");
      const out: Ptr[] = [null];
      this.#check(a.bCreate([dm], 1, out), "XGBoosterCreate");
      booster = out[0];
      for (const [k, v] of [["objective", "binary:logistic"], ["booster", "gbtree"], ["verbosity", "0"], ...paramStrings(params)]) {
        this.#check(a.bSetParam(booster, k, v), `set_param(${k}=${v})`);
      }
      for (let i = 0; i < opts.rounds; i++) this.#check(a.bUpdate(booster, i, dm), `training round ${i}`);
      const len = [0];
      const ptr: Ptr[] = [null];
      this.#check(a.bSave(booster, '{"format":"json"}', len, ptr), "XGBoosterSaveModelToBuffer");
      const text = new TextDecoder().decode(new Uint8Array(a.view(ptr[0], Number(len[0]))));
      return legacyBinaryFromJson(text);
    } finally {
      if (booster !== null) a.bFree(booster);
      if (dm !== null) a.dmFree(dm);
    }
  }

  /** Probabilities from native XGBoost for 0.7 binary model bytes (NaN = missing). */
  predict(modelBytes: Uint8Array, X: Float32Array, nRows: number, nCols: number): Float32Array {
    return this.#predict(modelBytes, X, nRows, nCols, 0, nRows);
  }

  /**
   * Native `pred_contribs` (path-dependent TreeSHAP, float32): [nRows × (nCols + 1)], bias last.
   * Used to audit the TS TreeSHAP, which is the faster since its per-leaf tables (tree-shap.ts): 20,000 rows × 30
   * columns, 100 trees of depth 6, TS in one thread 4,700–6,000 rows/s, this at 2 threads 1,870; 60 columns, 300 trees:
   * 1,610 against 570–670 (session 26; it was about 2.7× faster than the recursive TS algorithm).
   */
  predictContributions(modelBytes: Uint8Array, X: Float32Array, nRows: number, nCols: number): Float32Array {
    return this.#predict(modelBytes, X, nRows, nCols, 2, nRows * (nCols + 1));
  }

  #predict(modelBytes: Uint8Array, X: Float32Array, nRows: number, nCols: number, type: 0 | 2, outLen: number): Float32Array {
    if (X.length !== nRows * nCols) throw new XGBoostInputError(`X has ${X.length} values, expected ${nRows * nCols}`);
    const a = this.#a();
    this.#quiet();
    let dm: Ptr = null;
    let booster: Ptr = null;
    try {
      const out: Ptr[] = [null];
      this.#check(a.bCreate([], 0, out), "XGBoosterCreate");
      booster = out[0];
      this.#check(a.bLoad(booster, modelBytes, modelBytes.length), "XGBoosterLoadModelFromBuffer");
      dm = this.#dmatrix(X, nRows, nCols);
      const shape: Ptr[] = [null];
      const dim = [0];
      const result: Ptr[] = [null];
      const config = `{"type":${type},"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false}`;
      this.#check(a.bPredict(booster, dm, config, shape, dim, result), "XGBoosterPredictFromDMatrix");
      // Owned by the booster and overwritten by the next call: copy.
      return new Float32Array(a.view(result[0], outLen * 4).slice(0));
    } finally {
      if (dm !== null) a.dmFree(dm);
      if (booster !== null) a.bFree(booster);
    }
  }

  dispose(): void {
    this.#api = undefined;
  }
}
