/** The BigQuery engine's registration: options, config, and its table lease. */
import { SettingsError } from "../../util/errors.ts";
import { defineEngine, releasingOnClose, type EngineDriver } from "../driver.ts";
import type { BigQueryConfig } from "./engine.ts";
import { acquireTableLease, RUN_LEASE_TABLE } from "./table-lease.ts";

export const bigqueryDriver: EngineDriver<unknown> = defineEngine<BigQueryConfig>({
  kind: "bigquery",
  describe: "Google BigQuery (Application Default Credentials)",
  loadsLocalFiles: false,
  options: {
    "bq-project": { type: "string", describe: "BigQuery project for jobs (default: defaultProject)" },
    location: { type: "string", describe: "BigQuery location (default: defaultLocation)" },
    "maximum-bytes-billed": { type: "string", describe: "BigQuery per-job bytes cap (default: vars.maximum_bytes_billed)" },
    label: { type: "string", array: true, describe: "BigQuery job label key=value (repeatable)" },
  },
  configure(values, ctx) {
    const labels: Record<string, string> = {};
    for (const l of (values.label as string[] | undefined) ?? []) {
      const [k, v] = l.split("=");
      if (!k || v === undefined) throw new SettingsError(`--label ${l}: expected key=value`);
      labels[k] = v;
    }
    return {
      projectId: (values["bq-project"] as string | undefined) ?? ctx.defaultProject,
      location: (values.location as string | undefined) ?? ctx.defaultLocation,
      labels,
      // The flag for one run, else vars.maximum_bytes_billed (0: no cap).
      maximumBytesBilled: (values["maximum-bytes-billed"] as string | undefined) ?? (ctx.maximumBytesBilled ? String(ctx.maximumBytesBilled) : undefined),
    };
  },
  async open(config, lease) {
    const { createBigQueryEngine } = await import("./engine.ts");
    const engine = createBigQueryEngine(config);
    // A shared warehouse: only writing runs lease, one per meta dataset (a row in <meta>.run_lease).
    if (!lease?.writes) return engine;
    try {
      const held = await acquireTableLease(engine, { ...lease.meta, name: RUN_LEASE_TABLE }, lease.runId, { waitMs: lease.waitMs });
      return releasingOnClose(engine, () => held.release(), "beforeClose");
    } catch (e) {
      await engine.close();
      throw e;
    }
  },
});
