import type { CommandModule } from "yargs";
import { engineOptions, selectionOf, selectionOptions, type EngineArgs, type SelectionArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { costPlan, formatPlan } from "../../runner/plan.ts";
import { silentProgress } from "../../runner/progress.ts";

type PlanArgs = EngineArgs & SelectionArgs;

export const planCommand: CommandModule<object, PlanArgs> = {
  command: "plan",
  describe: "print the bytes BigQuery would process and their on-demand cost, per action and in total, for a first run and for a daily incremental run (dry runs; nothing is written)",
  builder: (y) =>
    selectionOptions(engineOptions(y), "plan") as never,
  handler: async (args) => {
    await withSession(args, async (s) => {
      const plan = await costPlan({
        graph: s.project.graph, engine: s.engine, settings: s.project.settings, artifacts: s.artifacts,
        selection: selectionOf(args), runId: s.runId, logger: s.logger, progress: silentProgress,
      });
      const price = { perTib: s.project.settings.onDemandPricePerTib, currency: s.project.settings.currency };
      if (s.logger.json) {
        const TIB = 1024 ** 4;
        for (const r of plan.rows) process.stdout.write(JSON.stringify({ event: "plan_action", ...r }) + "\n");
        process.stdout.write(JSON.stringify({
          event: "plan_total", engine: plan.engine, firstRunBytes: plan.firstRun, dailyBytes: plan.daily, dailyWholeBytes: plan.dailyWhole,
          firstRunCost: (plan.firstRun / TIB) * price.perTib, dailyCost: (plan.daily / TIB) * price.perTib, currency: price.currency,
          notEstimated: plan.notEstimated,
        }) + "\n");
        return;
      }
      process.stdout.write(formatPlan(plan, price) + "\n");
    }, { lease: false });
  },
};
