import type { Logger } from "../../util/logger.ts";
import type { XGBoostBackend } from "./wasm-backend.ts";

export type NativeProbe = { ok: true; backend: XGBoostBackend } | { ok: false; reason: string };

export async function createNativeBackend(_opts: { logger?: Logger } = {}): Promise<NativeProbe> {
  return { ok: false, reason: "not implemented yet" };
}
