/** Shared XGBoost engine: training (WASM or native backend), TS prediction, TreeSHAP, artifacts. */
export { trainBoosted, bestPrefix, DEFAULT_WORKER_ROW_THRESHOLD, type TrainData, type TrainOptions } from "./train.ts";
export {
  BoostedModel,
  loadModel,
  toJSON,
  predictMargin,
  stagedMargins,
  predictProba,
  featureImportance,
  logLossCurve,
  parseModel,
  truncateModelBytes,
  sigmoid,
  MODEL_JSON_TYPE,
  MODEL_JSON_VERSION,
  type Forest,
  type PredictOptions,
  type ImportanceType,
  type BoostedModelMeta,
  type BoostedModelJSON,
} from "./model.ts";
export { treeShap, recursiveTreeShap, prepareTreeShap, treeShapForms, SHAP_TABLE_MAX_VALUES } from "./tree-shap.ts";
export { createWasmBackend, WasmBackend, PINNED_WASM_SHA256, type XGBoostBackend, type BackendFitOptions, type BackendName } from "./wasm-backend.ts";
export { createBackend, type BackendChoice } from "./backend.ts";
export { resolveParams, DEFAULT_PARAMS, KNOWN_PARAMS, type BoostParams, type ResolvedParams } from "./params.ts";
export { MAX_CELLS, type FitInput } from "./validate.ts";
export { XGBoostError, XGBoostInputError, XGBoostModelFormatError } from "./errors.ts";
export { createNativeBackend, NativeBackend, NATIVE_LIBRARY, type NativeProbe } from "./native-backend.ts";
export { legacyBinaryFromJson } from "./json-model.ts";
