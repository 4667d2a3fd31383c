/**
 * Test warehouse: the real compiled project on an in-memory DuckDB, with fixture source tables.
 * Compiling takes ~1.5 s, so a test file compiles once (`compiledProject`) and opens a fresh
 * engine per test.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadProject, type Project } from "../../src/compile/project.ts";
import { DuckDBEngine, duckIdent } from "../../src/engines/duckdb/engine.ts";
import { runGraph } from "../../src/runner/runner.ts";
import type { RunRecord } from "../../src/runner/run-record.ts";
import type { Selection } from "../../src/dag/dag.ts";
import { LocalArtifactStore } from "../../src/artifacts/store.ts";
import type { JobDefinition } from "../../src/jobs/job.ts";
import { ALL_JOBS } from "../../jobs/index.ts";
import type { Engine, ExecOptions, Row } from "../../src/engines/engine.ts";
import os from "node:os";
import { DuckDBInstance } from "@duckdb/node-api";

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The shared data sets beside the checkout (or beside the folder of a git worktree), or FUNNELCREDIT_SHARED_DATA. */
export const SHARED_DATA = process.env.FUNNELCREDIT_SHARED_DATA
  ?? [path.resolve(PROJECT_DIR, "..", "shared", "data"), path.resolve(PROJECT_DIR, "..", "..", "shared", "data")].find((p) => existsSync(p))
  ?? path.resolve(PROJECT_DIR, "..", "shared", "data");

const cache = new Map<string, Promise<Project>>();
/** The real project, compiled once per distinct vars. */
export function compiledProject(vars: Record<string, string> = {}, jobs?: JobDefinition[]): Promise<Project> {
  const key = JSON.stringify(vars) + (jobs ? `#${jobs.map((j) => j.name).join(",")}` : "");
  if (!cache.has(key)) cache.set(key, loadProject(PROJECT_DIR, { vars, jobs: jobs ?? ALL_JOBS }));
  return cache.get(key)!;
}

/** Each query's rows as JSON text, read from a warehouse file no command holds (what a CLI run left). */
export async function readWarehouseFile(warehouse: string, queries: string[]): Promise<string[]> {
  const db = await DuckDBInstance.create(warehouse);
  const c = await db.connect();
  try {
    const out: string[] = [];
    for (const q of queries) out.push(JSON.stringify((await c.runAndReadAll(q)).getRowObjectsJson()));
    return out;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

export async function memoryEngine(): Promise<DuckDBEngine> {
  return DuckDBEngine.open({ path: ":memory:", memoryLimit: "2GB", threads: 2 });
}

/**
 * Create a fixture table from typed column definitions (DuckDB types) and rows.
 * Values are given as SQL literals' JS equivalents; strings are quoted safely.
 */
export async function fixtureTable(engine: DuckDBEngine, schema: string, table: string, columns: Record<string, string>, rows: unknown[][]): Promise<void> {
  await engine.runNative(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(schema)}`);
  const cols = Object.entries(columns);
  await engine.runNative(`CREATE OR REPLACE TABLE ${duckIdent(schema)}.${duckIdent(table)} (${cols.map(([n, t]) => `${duckIdent(n)} ${t}`).join(", ")})`);
  if (!rows.length) return;
  const lit = (v: unknown, t: string): string => {
    if (v === null || v === undefined) return `CAST(NULL AS ${t})`;
    if (typeof v === "number" || typeof v === "bigint") return `CAST(${v} AS ${t})`;
    if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
    if (typeof v === "string") return `CAST('${v.replace(/'/g, "''")}' AS ${t})`;
    return `CAST('${JSON.stringify(v).replace(/'/g, "''")}' AS JSON)::${t}`;
  };
  const values = rows.map((r) => `(${r.map((v, i) => lit(v, cols[i]![1])).join(", ")})`).join(",\n");
  await engine.runNative(`INSERT INTO ${duckIdent(schema)}.${duckIdent(table)} VALUES ${values}`);
}

/** Where test runs keep their artifacts: one folder a process, so test files running in parallel never share run ids. */
export const TEST_ARTIFACTS_DIR = path.join(os.tmpdir(), `funnelcredit-test-artifacts-${process.pid}`);

export async function runProject(
  project: Project,
  engine: DuckDBEngine,
  opts: { selection?: Selection; fullRefresh?: boolean; now?: () => Date; runId?: string; alreadySucceeded?: Set<string> } = {},
): Promise<RunRecord> {
  return runGraph({
    graph: project.graph, engine, settings: project.settings,
    artifacts: new LocalArtifactStore(TEST_ARTIFACTS_DIR),
    selection: opts.selection, fullRefresh: opts.fullRefresh, now: opts.now, runId: opts.runId, alreadySucceeded: opts.alreadySucceeded,
  });
}

/** Rows of a table, ordered, for assertions. */
export async function rowsOf(engine: DuckDBEngine, schema: string, table: string, orderBy = "1"): Promise<Row[]> {
  return engine.queryNative(`SELECT * FROM ${duckIdent(schema)}.${duckIdent(table)} ORDER BY ${orderBy}`);
}

/** Fail with the errors of every failed action (makes test failures readable). */
export function assertRunSucceeded(run: RunRecord): void {
  const bad = run.actions.filter((a) => a.status === "failed");
  if (bad.length) throw new Error(`run failed:\n${bad.map((a) => `  ${a.action}: ${a.error}`).join("\n")}`);
}

/** The GA4 export's daily tables (`events_YYYYMMDD`, not intraday) in `schema`, oldest first; from `events_<from>` on when given. */
export async function ga4DayTables(engine: DuckDBEngine, schema: string, from?: string): Promise<string[]> {
  const since = from === undefined ? "" : ` AND table_name >= 'events_${from}'`;
  return (await engine.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' AND regexp_matches(table_name, '^events_[0-9]{8}$')${since} ORDER BY 1`)).map((r) => String(r.table_name));
}

/** An engine whose statements for `failing` throw: the run fails there, as when BigQuery refuses a job. */
export function failingAt(engine: Engine, failing: string): Engine {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== "execute" || typeof v !== "function") return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      return (statements: string[], opts?: ExecOptions) => {
        if (opts?.action === failing) return Promise.reject(new Error(`injected failure in ${failing}`));
        return (v as (...a: unknown[]) => unknown).call(target, statements, opts);
      };
    },
  });
}

/**
 * The daily-run fixture over a GA4 export: its last three day tables (d1, d2, d3) have not arrived yet (renamed
 * held_…), and of d1 a fifth of the events arrive a day late (d1 holds the rest). `arrive(d)` brings a held day in: d1's
 * late events into d1, or d2 / d3 whole. `lateRows`: d1's late events.
 */
export async function holdBackLastDays(engine: DuckDBEngine, ga4Schema: string): Promise<{ days: string[]; held: [string, string, string]; lateRows: number; arrive(day: string): Promise<void> }> {
  const ga4 = duckIdent(ga4Schema);
  const t = (name: string): string => `${ga4}.${duckIdent(name)}`;
  const days = await ga4DayTables(engine, ga4Schema);
  const held = days.slice(-3) as [string, string, string];
  const [d1] = held;
  for (const d of held) await engine.runNative(`ALTER TABLE ${t(d)} RENAME TO ${duckIdent(`held_${d}`)}`);
  const late = `hash(event_timestamp, user_pseudo_id, event_name) % 5 = 0`;
  await engine.runNative(`CREATE TABLE ${t(d1)} AS SELECT * FROM ${t(`held_${d1}`)} WHERE NOT (${late})`);
  await engine.runNative(`DELETE FROM ${t(`held_${d1}`)} WHERE NOT (${late})`);
  const lateRows = Number((await engine.queryNative(`SELECT COUNT(*) AS n FROM ${t(`held_${d1}`)}`))[0]!.n);
  return {
    days, held, lateRows,
    async arrive(day) {
      if (day === d1) {
        await engine.runNative(`INSERT INTO ${t(d1)} SELECT * FROM ${t(`held_${d1}`)}`);
        await engine.runNative(`DROP TABLE ${t(`held_${d1}`)}`);
      } else {
        await engine.runNative(`ALTER TABLE ${t(`held_${day}`)} RENAME TO ${duckIdent(day)}`);
      }
    },
  };
}
