/**
 * Fault injection for the kill tests, loaded into a CLI child with `--import`: the process SIGKILLs
 * itself at a chosen point, so the point is deterministic and the kill is real (no cleanup, no
 * rollback, WAL left behind). Nothing in src/ knows about it.
 *
 *   FC_KILL_AT=<phase>:<action or table>
 *     before:<action>    when the runner submits the action's SQL (nothing of it ran)
 *     during:<action>    inside the action's transaction, after its statements, before COMMIT
 *     writeback:<table>  inside a job's write-back of <table>, after the new table is built, before COMMIT
 *     unrecorded:<action> after the action committed, before its run-history row is written
 */
import { DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import type { ColumnSchema, ExecOptions, Row, Target, WriteOptions } from "../../src/engines/engine.ts";

const spec = process.env.FC_KILL_AT ?? "";
const i = spec.indexOf(":");
const phase = spec.slice(0, i);
const name = spec.slice(i + 1);

function die(): never {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable");
}

/** Run `fn` with COMMIT on the engine's connection replaced by a SIGKILL. */
async function killAtCommit<T>(engine: DuckDBEngine, fn: () => Promise<T>): Promise<T> {
  const conn = engine.conn as unknown as { run: (sql: string) => Promise<unknown> };
  const orig = conn.run;
  conn.run = async (sql: string) => (sql === "COMMIT" ? die() : orig.call(engine.conn, sql));
  try {
    return await fn();
  } finally {
    conn.run = orig;
  }
}

if (phase) {
  const proto = DuckDBEngine.prototype as unknown as {
    execute: (this: DuckDBEngine, s: string[], o?: ExecOptions) => Promise<unknown>;
    writeRows: (this: DuckDBEngine, t: Target, sc: ColumnSchema[], r: Row[], o: WriteOptions) => Promise<unknown>;
  };
  const execute = proto.execute;
  const writeRows = proto.writeRows;
  proto.execute = async function (statements, opts = {}) {
    if (opts.action === name && phase === "before") die();
    if (opts.action === name && phase === "during") return killAtCommit(this, () => execute.call(this, statements, opts));
    return execute.call(this, statements, opts);
  };
  proto.writeRows = async function (t, schema, rows, opts) {
    if (phase === "writeback" && t.name === name) return killAtCommit(this, () => writeRows.call(this, t, schema, rows, opts));
    if (phase === "unrecorded" && t.name === "run_history" && rows.some((r) => r.action === name)) die();
    return writeRows.call(this, t, schema, rows, opts);
  };
}
