/** The embedded DuckDB engine's registration: options, config, and its file lease. */
import path from "node:path";
import { defineEngine, releasingOnClose, type EngineDriver } from "../driver.ts";
import type { DuckDBConfig } from "./engine.ts";
import { acquireLease } from "./file-lease.ts";

export const duckdbDriver: EngineDriver<unknown> = defineEngine<DuckDBConfig>({
  kind: "duckdb",
  describe: "embedded DuckDB file (default)",
  loadsLocalFiles: true,
  options: {
    warehouse: { type: "string", default: ".funnelcredit/warehouse.duckdb", describe: "DuckDB file (engine duckdb)" },
    "memory-limit": { type: "string", default: "4GB", describe: "DuckDB memory_limit" },
    threads: { type: "number", describe: "DuckDB threads (default: cores)" },
  },
  configure(values, ctx) {
    return {
      path: path.resolve(ctx.projectDir, String(values.warehouse ?? ".funnelcredit/warehouse.duckdb")),
      memoryLimit: String(values["memory-limit"] ?? "4GB"),
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
