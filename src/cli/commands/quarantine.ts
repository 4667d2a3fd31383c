import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { qualified, type Target } from "../../engines/engine.ts";
import { formatTable, jsonRows } from "../text-table.ts";
import { positiveLimit } from "./show.ts";

interface QuarantineArgs extends EngineArgs {
  limit: number;
}

/**
 * Where bad input rows are set aside, each with a reason (README "Guarantees"): the importers' rows
 * (import_quarantine), custom events failing validation and unusable amounts (staging models).
 */
const QUARANTINE_TABLES = ["import_quarantine", "custom_events_quarantine", "amount_quarantine"] as const;

export const quarantineCommand: CommandModule<object, QuarantineArgs> = {
  command: "quarantine",
  describe: "print the rows set aside as bad input, with their reasons: counts per reason and the newest rows of each quarantine table",
  builder: (y) => engineOptions(y).option("limit", { type: "number", default: 10, describe: "rows to print per table", coerce: positiveLimit }) as never,
  handler: async (args) => {
    await withSession(args, async (s) => {
      let total = 0;
      for (const name of QUARANTINE_TABLES) {
        const target: Target = { database: s.project.workflow.defaultProject, schema: s.project.settings.datasets.meta, name };
        if (!(await s.engine.tableExists(target))) continue;
        const reasons = await s.engine.query(`SELECT reason, COUNT(*) AS \`rows\` FROM ${qualified(target)} GROUP BY reason ORDER BY \`rows\` DESC, reason`);
        const count = reasons.reduce((n, r) => n + Number(r.rows), 0);
        total += count;
        if (!count) continue;
        const rows = await s.engine.query(`SELECT * FROM ${qualified(target)} ORDER BY quarantined_at DESC LIMIT ${args.limit}`);
        if (s.logger.json) {
          process.stdout.write(jsonRows(rows.map((r) => ({ table: name, ...r }))) + "\n");
          continue;
        }
        process.stdout.write(`${target.schema}.${name}: ${count.toLocaleString("en-US")} ${count === 1 ? "row" : "rows"}` + (count > rows.length ? ` (newest ${rows.length})` : "") + "\n");
        process.stdout.write(reasons.map((r) => `  ${Number(r.rows).toLocaleString("en-US")} × ${String(r.reason)}`).join("\n") + "\n\n");
        // The reason first: it is what the reader came for.
        const columns = ["reason", ...Object.keys(rows[0]!).filter((c) => c !== "reason")];
        process.stdout.write(formatTable(rows, columns) + "\n\n");
      }
      if (!total) s.logger.info(`no quarantined rows in ${s.project.settings.datasets.meta} (${QUARANTINE_TABLES.join(", ")})`);
    }, { compile: false, lease: false });
  },
};
