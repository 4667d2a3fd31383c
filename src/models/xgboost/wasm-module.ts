/**
 * Local types for the Emscripten module of `ml-xgboost@1.1.2` (`dist/wasm/xgboost.js`), which ships no
 * declarations. Only what the wrapper uses is typed. All exported C functions take and return plain
 * numbers (pointers are byte offsets into the wasm heap); see /work/shared/notes/xgboost-wasm.md.
 */
export interface XGBoostWasmModule {
  /** Resolves (with the module itself) once the wasm instance is initialised. */
  isReady: Promise<unknown>;
  /** Heap views; replaced when memory grows, so re-read after every `_malloc`. */
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  /** `create_model(float* data, float* labels, int rows, int cols)` → learner handle (missing = -1). */
  _create_model(dataPtr: number, labelPtr: number, rows: number, cols: number): number;
  /** `set_param(handle, const char* name, const char* value)`. */
  _set_param(handle: number, namePtr: number, valuePtr: number): void;
  /** `train_full_model(handle, rounds)`: `rounds` boosting iterations on the handle's DMatrix. */
  _train_full_model(handle: number, rounds: number): void;
  /** `predict_one(handle, float* row, int cols, float* out)` → number of outputs written. */
  _predict_one(handle: number, rowPtr: number, cols: number, outPtr: number): number;
  /** `save_model(handle)` → byte size of the serialised model (kept inside the module), -1 on error. */
  _save_model(handle: number): number;
  /** `get_file_content(char* out, size)`: copies the bytes of the last `save_model`. */
  _get_file_content(outPtr: number, size: number): void;
  /** `load_model(char* bytes, size)` → learner handle, 0 on failure. */
  _load_model(bytesPtr: number, size: number): number;
  /** Frees a learner handle and its DMatrix (which in turn frees injected weights). */
  _free_memory_model(handle: number): void;
  UTF8ToString(ptr: number): string;
  /** Emscripten stack pointer; restored after a C++ exception unwinds through wasm frames. */
  stackSave(): number;
  stackRestore(ptr: number): void;
  /** Looked up at call time by the glue and by XGBoost's logger. */
  print: (text: string) => void;
  printErr: (text: string) => void;
  onAbort?: (what: unknown) => void;
  /** Called by C `exit()`; the original calls `process.exit`, so the wrapper replaces it. */
  exit: (status: number) => void;
  quit: (status: number, toThrow: unknown) => void;
}
