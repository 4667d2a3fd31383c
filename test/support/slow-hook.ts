/**
 * For the cancellation tests, loaded into a CLI child with `--import`: the action named by
 * FC_SLOW_ACTION first runs a statement that takes minutes (a 10^10-row cross join), inside its own
 * transaction, so a signal sent when the action starts finds it running. Nothing in src/ knows about it.
 */
import { DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import type { ExecOptions } from "../../src/engines/engine.ts";

export const SLOW_STATEMENT =
  "CREATE TEMP TABLE slow_probe AS SELECT COUNT(*) AS n FROM UNNEST(GENERATE_ARRAY(1, 100000)) AS a CROSS JOIN UNNEST(GENERATE_ARRAY(1, 100000)) AS b";

const name = process.env.FC_SLOW_ACTION ?? "";
if (name) {
  const proto = DuckDBEngine.prototype as unknown as { execute: (this: DuckDBEngine, s: string[], o?: ExecOptions) => Promise<unknown> };
  const execute = proto.execute;
  proto.execute = async function (statements, opts = {}) {
    return execute.call(this, opts.action === name ? [SLOW_STATEMENT, ...statements] : statements, opts);
  };
}
