/** Options shared by the commands, defined once. */
import path from "node:path";
import type { Argv } from "yargs";
import type { EngineConfig } from "../engines/create.ts";
import { SettingsError } from "../util/errors.ts";
import type { Settings, WorkflowSettings } from "../config/settings.ts";
import { Logger } from "../util/logger.ts";

export interface CommonArgs {
  project: string;
  json: boolean;
  verbose: boolean;
  vars?: string[];
}

export interface EngineArgs extends CommonArgs {
  engine: string;
  warehouse: string;
  "memory-limit": string;
  threads?: number;
  "bq-project"?: string;
  location?: string;
  "maximum-bytes-billed"?: string;
  label?: string[];
  artifacts: string;
  "wait-for-lease": number;
}

export function commonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option("project", { type: "string", default: process.cwd(), describe: "folder holding workflow_settings.yaml", coerce: (p: string) => path.resolve(p) })
    .option("json", { type: "boolean", default: false, describe: "machine-readable JSON log lines on stdout (for schedulers)" })
    .option("verbose", { type: "boolean", default: false, describe: "debug logging" })
    .option("vars", { type: "string", array: true, describe: "override settings: --vars lookback_days=30" }) as unknown as Argv<T & CommonArgs>;
}

export function engineOptions<T>(y: Argv<T>): Argv<T & EngineArgs> {
  return commonOptions(y)
    .option("engine", { type: "string", choices: ["duckdb", "bigquery"], default: "duckdb", describe: "warehouse engine" })
    .option("warehouse", { type: "string", default: ".funnelcredit/warehouse.duckdb", describe: "DuckDB file (engine duckdb)" })
    .option("memory-limit", { type: "string", default: "4GB", describe: "DuckDB memory_limit, e.g. 4GB or 512MB", coerce: checkMemoryLimit })
    .option("threads", { type: "number", describe: "DuckDB threads (default: cores)" })
    .option("bq-project", { type: "string", describe: "BigQuery project for jobs (default: defaultProject)" })
    .option("location", { type: "string", describe: "BigQuery location (default: defaultLocation)" })
    .option("maximum-bytes-billed", { type: "string", describe: "BigQuery per-job bytes cap (default: vars.maximum_bytes_billed)" })
    .option("label", { type: "string", array: true, describe: "BigQuery job label key=value (repeatable)" })
    .option("artifacts", { type: "string", default: ".funnelcredit/artifacts", describe: "folder or gs://bucket/prefix for models and reports" })
    .option("wait-for-lease", { type: "number", default: 0, describe: "seconds to wait when another run holds the warehouse" }) as unknown as Argv<T & EngineArgs>;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, byte: 1, bytes: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};
/** Below this DuckDB cannot even open its buffers ("Out of Memory Error" at start-up). */
const MIN_MEMORY_LIMIT_BYTES = 64 * 2 ** 20;

/**
 * `--memory-limit`: a size DuckDB's memory_limit accepts (number + unit), checked here because DuckDB
 * itself answers a bad one with only "Failed to set config".
 */
export function checkMemoryLimit(value: string): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(String(value));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new SettingsError(`--memory-limit ${JSON.stringify(value)}: expected a size with a unit, e.g. 4GB, 512MB or 2GiB`);
  }
  if (Number(m[1]) * unit < MIN_MEMORY_LIMIT_BYTES) {
    throw new SettingsError(`--memory-limit ${JSON.stringify(value)}: too small for DuckDB to start; give at least 64MiB (4GB is the default)`);
  }
  return value.trim();
}

export function parseVars(vars?: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of vars ?? []) {
    const i = v.indexOf("=");
    if (i <= 0) throw new SettingsError(`--vars ${v}: expected name=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export function engineConfig(args: EngineArgs, wf: WorkflowSettings, settings?: Pick<Settings, "maximumBytesBilled">): EngineConfig {
  if (args.engine === "bigquery") {
    const labels: Record<string, string> = {};
    for (const l of args.label ?? []) {
      const [k, v] = l.split("=");
      if (!k || v === undefined) throw new SettingsError(`--label ${l}: expected key=value`);
      labels[k] = v;
    }
    return {
      kind: "bigquery", projectId: args["bq-project"] ?? wf.defaultProject, location: args.location ?? wf.defaultLocation,
      labels,
      // The flag for one run, else vars.maximum_bytes_billed (0: no cap).
      maximumBytesBilled: args["maximum-bytes-billed"] ?? (settings?.maximumBytesBilled ? String(settings.maximumBytesBilled) : undefined),
    };
  }
  return { kind: "duckdb", path: path.resolve(args.project, args.warehouse), memoryLimit: args["memory-limit"], threads: args.threads };
}

export function loggerFor(args: CommonArgs): Logger {
  return new Logger({ json: args.json, level: args.verbose ? "debug" : "info" });
}
