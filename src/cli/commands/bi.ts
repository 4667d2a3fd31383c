import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { UserError } from "../../util/errors.ts";
import { lookmlView, type BiView } from "../../bi/lookml.ts";

interface BiArgs extends EngineArgs { what: string; out: string }

export const biCommand: CommandModule<object, BiArgs> = {
  command: "bi <what>",
  describe: "files for BI tools: `bi lookml --out DIR` writes a LookML view per reporting view, typed from the warehouse",
  builder: (y) =>
    engineOptions(y)
      .positional("what", { type: "string", choices: ["lookml"], demandOption: true })
      .option("out", { type: "string", demandOption: true, describe: "folder for the .view.lkml files (created when missing)" }) as never,
  handler: async (args) => {
    await withSession(args, async (s) => {
      const reporting = s.project.settings.datasets.reporting;
      const views = s.project.graph.actions.filter((a) => a.kind === "view" && a.target.schema === reporting).sort((a, b) => a.target.name.localeCompare(b.target.name));
      mkdirSync(args.out, { recursive: true });
      const written: string[] = [];
      const missing: string[] = [];
      for (const v of views) {
        // Typed from the built view: one the last run could not build (no leads yet: rpt_lead_scores) is named and skipped.
        if (!(await s.engine.tableExists(v.target))) {
          missing.push(v.target.name);
          continue;
        }
        const schema = await s.engine.tableSchema(v.target);
        const view: BiView = {
          name: v.target.name,
          sqlTableName: [s.project.workflow.defaultProject, reporting, v.target.name].join("."),
          description: v.description,
          columns: schema.map((c) => ({ name: c.name, type: c.type, mode: c.mode, description: v.columns?.[c.name] })),
        };
        const file = path.join(args.out, `${v.target.name}.view.lkml`);
        writeFileSync(file, lookmlView(view));
        written.push(file);
      }
      if (!written.length) throw new UserError(`no reporting view of ${reporting} exists yet: run \`funnelcredit run\` first (the LookML is typed from the built views)`);
      s.logger.info(`wrote ${written.length} LookML views to ${args.out}: ${written.map((f) => path.basename(f, ".view.lkml")).join(", ")}`);
      if (missing.length) s.logger.warn(`not built yet, so no LookML: ${missing.map((m) => `${reporting}.${m}`).join(", ")}; run \`funnelcredit run\` and generate again`);
    });
  },
};
