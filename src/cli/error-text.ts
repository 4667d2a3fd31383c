/**
 * What a failed command prints. Errors the user can act on (UserError, EngineError) print their message; DuckDB running
 * out of its memory_limit outside an action (the importers and the demo's generator write through the engine's
 * connection directly, not through `execute`) prints DuckDB's first line and which knob to turn; anything else is a
 * defect and prints its stack.
 */
import { UserError } from "../util/errors.ts";
import { EngineError } from "../engines/engine.ts";

const DEFAULT_MEMORY_HINT = "raise --memory-limit (auto gives DuckDB half the memory available, between 1GiB and 3GiB)";
const MEMORY_HINTS: Record<string, string> = {
  import: `${DEFAULT_MEMORY_HINT}, or import the files in several runs (the first as usual, the others with --append)`,
  demo: "the sample generator keeps DuckDB under 256 MiB and spills the rest to disk; a smaller sample (--users, --days) needs less",
};

export function commandErrorText(e: unknown, command: string | undefined): string {
  if (e instanceof UserError || e instanceof EngineError) return e.message;
  const message = String((e as Error)?.message ?? e);
  if (/out of memory error/i.test(message)) {
    const hint = (command && MEMORY_HINTS[command]) ?? DEFAULT_MEMORY_HINT;
    return `duckdb: ${message.split("\n")[0]}\n  hint: ${hint}`;
  }
  return (e as Error)?.stack ?? message;
}
