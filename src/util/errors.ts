/**
 * User-facing errors: each names what is wrong (file, line, field, setting) and what to do.
 * The CLI prints `message` without a stack for these.
 */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting in workflow_settings.yaml (or a CLI flag) is missing or invalid. */
export class SettingsError extends UserError {}

/** An input file or row cannot be read. */
export class InputError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ""}${field ? ` field "${field}"` : ""}: ${reason}`);
  }
}

/** Dataform compilation failed; `file`/`line` point into definitions/ or includes/. */
export class CompileError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    reason: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ""}: ${reason}`);
  }
}
