/**
 * Backend selection. WASM is always available; the native backend (koffi + Debian libxgboost0) is
 * optional and detected at run time. The choice is recorded on every model because `hist` binning
 * differs between XGBoost 0.7 (WASM) and 1.7 (native).
 */
import type { Logger } from "../../util/logger.ts";
import { XGBoostError } from "./errors.ts";
import { createWasmBackend, type XGBoostBackend } from "./wasm-backend.ts";

/** "wasm": WASM only (default: same results on every machine). "native": native or fail. "auto": native if available, else WASM. */
export type BackendChoice = "wasm" | "native" | "auto";

/** Creates the backend for `choice` (in the calling thread). */
export async function createBackend(choice: BackendChoice, logger?: Logger): Promise<XGBoostBackend> {
  if (choice === "wasm") return createWasmBackend({ logger });
  if (choice !== "native" && choice !== "auto") {
    throw new XGBoostError(`unknown backend "${String(choice)}"; use "wasm", "native" or "auto"`, "engine");
  }
  const { createNativeBackend } = await import("./native-backend.ts");
  const native = await createNativeBackend({ logger });
  if (native.ok) return native.backend;
  if (choice === "native") {
    throw new XGBoostError(`native XGBoost backend unavailable: ${native.reason}. Install it with "apt-get install -y libxgboost0" or use backend "wasm"`, "native");
  }
  logger?.debug("xgboost: native backend unavailable, using wasm", { reason: native.reason });
  return createWasmBackend({ logger });
}
