/** Giving a finished job's memory back before the SQL after it (see collectGarbage). */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection now. A job leaves its rows and models as garbage (ml_attribution: ≈ 1 GB on 10M
 * events), and V8 collects only when JavaScript allocates again: during the SQL actions after it, which
 * allocate almost nothing in Node while DuckDB fills its memory limit, the garbage stayed resident on top of
 * it. Node exposes `gc` only under --expose-gc: the flag is set for the moment a new context is made, which then
 * has it (as jest-leak-detector does). Best effort: where that fails, nothing is collected.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    gc = typeof globalThis.gc === "function" ? (globalThis.gc as () => void) : null;
    if (!gc) {
      try {
        v8.setFlagsFromString("--expose-gc");
        const fn: unknown = runInNewContext("gc");
        gc = typeof fn === "function" ? (fn as () => void) : null;
        v8.setFlagsFromString("--no-expose-gc");
      } catch {
        gc = null;
      }
    }
  }
  gc?.();
}
