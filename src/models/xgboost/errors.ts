import { UserError } from "../../util/errors.ts";

/**
 * XGBoost itself refused or failed (its C++ exception text is in `message`), or the engine could not
 * drive the backend safely (wasm hash mismatch, weight-injection guard failed, module aborted).
 * `backend` says which backend raised it.
 */
export class XGBoostError extends UserError {
  constructor(
    message: string,
    readonly backend: "wasm" | "native" | "engine",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The training or prediction input is invalid; the message names the row/column/param and what to do. */
export class XGBoostInputError extends UserError {}

/** A serialised model (binary bytes or tagged JSON) cannot be parsed. */
export class XGBoostModelFormatError extends UserError {}
