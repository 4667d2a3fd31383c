/** The embedded DuckDB engine's registration: options, config, and its file lease. */
import os from "node:os";
import path from "node:path";
import { defineEngine, releasingOnClose, type EngineDriver } from "../driver.ts";
import type { DuckDBConfig } from "./engine.ts";
import { acquireLease } from "./file-lease.ts";
import { SettingsError } from "../../util/errors.ts";
import { byteSize } from "../../util/byte-size.ts";

export const duckdbDriver: EngineDriver<unknown> = defineEngine<DuckDBConfig>({
  kind: "duckdb",
  describe: "embedded DuckDB file (default)",
  loadsLocalFiles: true,
  options: {
    warehouse: { type: "string", default: ".funnelcredit/warehouse.duckdb", describe: "DuckDB file (engine duckdb)" },
    "memory-limit": { type: "string", default: "auto", describe: "DuckDB memory_limit, e.g. 4GB or 512MB; auto: half the memory available at start, between 1GiB and 3GiB (DuckDB spills to disk beyond it)", coerce: checkMemoryLimit },
    threads: { type: "number", describe: "DuckDB threads (default: cores)" },
  },
  configure(values, ctx) {
    return {
      path: path.resolve(ctx.projectDir, String(values.warehouse ?? ".funnelcredit/warehouse.duckdb")),
      memoryLimit: values["memory-limit"] === undefined || values["memory-limit"] === "auto" ? defaultMemoryLimit() : String(values["memory-limit"]),
      threads: values.threads === undefined ? undefined : Number(values.threads),
    };
  },
  async open(config, lease) {
    // One opener per file: the lease file is taken before DuckDB opens (and locks) the warehouse,
    // so a second run can wait for it (--wait-for-lease) or be told which run holds it.
    const held = lease ? await acquireLease(`${config.path}.lease`, lease.runId, { waitMs: lease.waitMs }) : undefined;
    try {
      const { DuckDBEngine } = await import("./engine.ts");
      const engine = await DuckDBEngine.open(config);
      return held ? releasingOnClose(engine, () => held.release(), "afterClose") : engine;
    } catch (e) {
      held?.release();
      throw e;
    }
  },
});

/** Below this DuckDB cannot even open its buffers ("Out of Memory Error" at start-up). */
const MIN_MEMORY_LIMIT_BYTES = 64 * 2 ** 20;

const AUTO_MIN_BYTES = 2 ** 30;
/**
 * 3GiB: the process stays under 4 GB. DuckDB fills its buffer up to the limit and Node, the jobs and
 * DuckDB's untracked allocations come on top: under the old 4GiB cap the demo pipeline at 3.4M events
 * peaked at 4.41 GB.
 */
const AUTO_MAX_BYTES = 3 * 2 ** 30;

/**
 * `--memory-limit auto`: half of what the machine can spare now (the rest is Node, the jobs' own memory
 * and the page cache DuckDB reads through), between 1GiB and 3GiB; DuckDB spills to its temp folder
 * beyond the limit. A small machine is not asked for more than it has; a big one keeps the whole
 * process under 4 GB (pass --memory-limit to give DuckDB more).
 */
export function autoMemoryLimit(availableBytes: number): string {
  const bytes = Math.min(AUTO_MAX_BYTES, Math.max(AUTO_MIN_BYTES, availableBytes / 2));
  return `${Math.floor(bytes / 2 ** 20)}MiB`;
}

/** `--memory-limit auto` on this machine now. */
export function defaultMemoryLimit(): string {
  return autoMemoryLimit(availableMemoryBytes());
}

/** Memory available to this process: free memory (Linux: MemAvailable), within a container's limit when set. */
function availableMemoryBytes(): number {
  const constrained = typeof process.constrainedMemory === "function" ? process.constrainedMemory() : 0;
  const free = os.freemem();
  return constrained && constrained > 0 && constrained < Number.MAX_SAFE_INTEGER ? Math.min(free, constrained) : free;
}

/**
 * `--memory-limit`: auto, or a size DuckDB's memory_limit accepts (number + unit), checked here
 * because DuckDB itself answers a bad one with only "Failed to set config".
 */
function checkMemoryLimit(value: string): string {
  if (String(value).trim() === "auto") return "auto";
  const bytes = byteSize(String(value));
  if (Number.isNaN(bytes)) {
    throw new SettingsError(`--memory-limit ${JSON.stringify(value)}: expected a size with a unit, e.g. 4GB, 512MB or 2GiB`);
  }
  if (bytes < MIN_MEMORY_LIMIT_BYTES) {
    throw new SettingsError(`--memory-limit ${JSON.stringify(value)}: too small for DuckDB to start; give at least 64MiB (the default, auto, gives between 1GiB and 3GiB)`);
  }
  return value.trim();
}
