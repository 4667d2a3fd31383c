import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { findAction } from "../../dag/dag.ts";
import { CATALOG, tableLocation } from "../../catalog/index.ts";
import { qualified, type Target } from "../../engines/engine.ts";
import { UserError } from "../../util/errors.ts";
import type { Project } from "../../compile/project.ts";
import { formatTable, jsonRows } from "../text-table.ts";

interface ShowArgs extends EngineArgs {
  table: string;
  limit: number;
}

export const showCommand: CommandModule<object, ShowArgs> = {
  command: "show <table>",
  describe: "print the first rows of a warehouse table or view (a model, source, job output or meta table)",
  builder: (y) =>
    engineOptions(y)
      .positional("table", { type: "string", demandOption: true, describe: "table name (channel_performance) or schema.table" })
      .option("limit", { type: "number", default: 20, describe: "rows to print", coerce: positiveLimit }) as never,
  handler: async (args) => {
    await withSession(args, async (s) => {
      const target = tableTarget(s.project, args.table);
      if (!(await s.engine.tableExists(target))) {
        throw new UserError(`${target.schema}.${target.name} does not exist in the warehouse yet: run \`funnelcredit run\` (or check --warehouse / --engine)`);
      }
      const [{ n }] = (await s.engine.query(`SELECT COUNT(*) AS n FROM ${qualified(target)}`)) as [{ n: number }];
      const rows = await s.engine.query(`SELECT * FROM ${qualified(target)} LIMIT ${args.limit}`);
      if (s.logger.json) {
        if (rows.length) process.stdout.write(jsonRows(rows) + "\n");
        return;
      }
      const columns = rows[0] ? Object.keys(rows[0]) : (await s.engine.tableSchema(target)).map((c) => c.name);
      process.stdout.write(`${target.schema}.${target.name}: ${Number(n).toLocaleString("en-US")} rows` + (Number(n) > rows.length ? ` (first ${rows.length})` : "") + "\n");
      process.stdout.write(formatTable(rows, columns) + "\n");
    }, { lease: false });
  },
};

/** --limit: a whole number of rows from 1 on (it is written into the query). */
export function positiveLimit(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new UserError(`--limit ${String(v)}: expected a whole number of rows from 1 to 1000000`);
  return n;
}

/**
 * Where a name points: an action of the compiled graph (models, views, sources, job outputs; `schema.table`
 * when a name is in two schemas), else a catalog table only commands write (quarantine, CRM push state).
 */
function tableTarget(project: Project, name: string): Target {
  try {
    const a = findAction(project.graph, name);
    if (a.kind === "job") throw new UserError(`${name} is a job (${a.fileName}): show one of the tables it writes (${a.job?.writes.join(", ")})`);
    if (a.kind === "operation" && !a.hasOutput) throw new UserError(`${name} is an operation without an output table`);
    return a.target;
  } catch (e) {
    const t = CATALOG.find((c) => c.name === name || `${project.settings.datasets[c.layer]}.${c.name}` === name);
    if (t && !t.shards) return tableLocation(t.name, { settings: project.settings, database: project.workflow.defaultProject });
    throw e;
  }
}
