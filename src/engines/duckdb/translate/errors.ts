/**
 * A GoogleSQL construct the DuckDB translator does not (or cannot faithfully) translate.
 * Thrown at translation time, never silently passed through: the message names the construct,
 * where it is, and the portable form to write instead (sql/duckdb/README.md "Do not use in models").
 */
export class TranslationError extends Error {
  /** Short name of the construct, e.g. "SELECT AS STRUCT". */
  readonly construct: string;
  /** 1-based line and column in the GoogleSQL text, when known. */
  readonly line?: number;
  readonly column?: number;
  /** What to write instead. */
  readonly alternative?: string;

  constructor(args: { construct: string; reason?: string; alternative?: string; line?: number; column?: number }) {
    const where = args.line !== undefined ? ` at ${args.line}:${args.column ?? 1}` : "";
    const why = args.reason ? `: ${args.reason}` : "";
    const alt = args.alternative ? `; write ${args.alternative} instead` : "";
    super(`${args.construct}${where} does not translate to DuckDB${why}${alt}`);
    this.name = "TranslationError";
    this.construct = args.construct;
    this.line = args.line;
    this.column = args.column;
    this.alternative = args.alternative;
  }
}
