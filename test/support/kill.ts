/**
 * Helpers of the kill/resume tests: a small source-only warehouse file, CLI runs in a child process
 * (optionally SIGKILLed at a point chosen by FC_KILL_AT, see kill-hook.ts), and per-table checksums.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DuckDBEngine, duckIdent } from "../../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../../src/catalog/index.ts";
import { generateDemo } from "../../src/demo/generate.ts";
import type { Project } from "../../src/compile/project.ts";
import { PROJECT_DIR } from "./warehouse.ts";

const HOOK = path.join(PROJECT_DIR, "test", "support", "kill-hook.ts");

/** A warehouse holding only the demo inputs (GA4 export, CRM, custom events, costs, leads). */
export async function makeSourceWarehouse(file: string, project: Project, opts: { users?: number; days?: number; seed?: number } = {}): Promise<void> {
  const engine = await DuckDBEngine.open({ path: file, memoryLimit: "1GB", threads: 2 });
  try {
    const ds = project.settings.datasets;
    await generateDemo(engine.localLoading, { users: opts.users ?? 300, days: opts.days ?? 5, seed: opts.seed ?? 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    await ensureSourceTables(engine, project.settings);
    await engine.runNative("CHECKPOINT");
  } finally {
    await engine.close();
  }
}

export function copyWarehouse(from: string, to: string): string {
  copyFileSync(from, to);
  if (existsSync(from + ".wal")) copyFileSync(from + ".wal", to + ".wal");
  return to;
}

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stderr: string }

/** `funnelcredit run …` in a child process; with `killAt`, it SIGKILLs itself there. */
export function cliRun(warehouse: string, args: string[], killAt?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", ...(killAt ? ["--import", HOOK] : []), "src/cli/main.ts", "run",
      "--warehouse", warehouse, "--artifacts", path.join(path.dirname(warehouse), "artifacts"), "--threads", "2", ...args], {
      cwd: PROJECT_DIR,
      env: { ...process.env, FC_KILL_AT: killAt ?? "" },
    });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The run id a killed CLI run leaves in its lease file (SIGKILL gives it no chance to remove it). */
export function runIdOfKilled(warehouse: string): string {
  return (JSON.parse(readFileSync(`${warehouse}.lease`, "utf8")) as { runId: string }).runId;
}

/**
 * Order-independent checksum of every table and view: row count and the sum of a hash of each row's
 * JSON text. The meta schema (run history: ids and times differ by design) is left out.
 */
export async function warehouseChecksums(file: string, skipSchemas: string[]): Promise<Record<string, string>> {
  const engine = await DuckDBEngine.open({ path: file, memoryLimit: "1GB", threads: 2 });
  try {
    const tables = await engine.queryNative(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_catalog = current_database() ORDER BY 1, 2`,
    );
    const out: Record<string, string> = {};
    for (const { s, t } of tables) {
      if (skipSchemas.includes(String(s)) || String(t).endsWith("*")) continue;
      // Floating-point sums may differ in the last bits with the order threads add them in: round.
      const cols = await engine.queryNative(
        `SELECT column_name AS c, data_type AS ty FROM information_schema.columns WHERE table_schema = '${s}' AND table_name = '${t}' ORDER BY ordinal_position`,
      );
      const select = cols.map(({ c, ty }) => /^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(String(ty)) ? `round(${duckIdent(String(c))}, 6) AS ${duckIdent(String(c))}` : duckIdent(String(c)));
      const [row] = await engine.queryNative(
        `SELECT COUNT(*) AS n, SUM(hash(to_json(x)::VARCHAR)::HUGEINT) AS h FROM (SELECT ${select.join(", ")} FROM ${duckIdent(String(s))}.${duckIdent(String(t))}) AS x`,
      );
      out[`${s}.${t}`] = `${row!.n}:${row!.h}`;
    }
    return out;
  } finally {
    await engine.close();
  }
}

/** Tables whose checksums differ, for a readable assertion message. */
export function diffChecksums(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).map((k) => `${k}: ${a[k] ?? "(missing)"} vs ${b[k] ?? "(missing)"}`);
}
