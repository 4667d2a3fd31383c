import type { CommandModule } from "yargs";
import { runGraph } from "../../runner/runner.ts";
import { createProgress } from "../../runner/progress.ts";
import { succeededActions } from "../../runner/history.ts";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { finishRun } from "../finish-run.ts";
import { DuckDBEngine } from "../../engines/duckdb/engine.ts";
import { ensureSourceTables } from "../../engines/duckdb/sources.ts";

interface RunArgs extends EngineArgs {
  actions?: string[];
  tags?: string[];
  "include-deps": boolean;
  "include-dependents": boolean;
  "full-refresh": boolean;
  "dry-run": boolean;
  resume?: string;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: "run",
  describe: "run the DAG (or selected actions/tags) on the chosen engine",
  builder: (y) =>
    engineOptions(y)
      .option("actions", { type: "string", array: true, describe: "action or table names to run" })
      .option("tags", { type: "string", array: true, describe: "run actions with these tags" })
      .option("include-deps", { type: "boolean", default: false, describe: "also run what the selection depends on" })
      .option("include-dependents", { type: "boolean", default: false, describe: "also run what depends on the selection" })
      .option("full-refresh", { type: "boolean", default: false, describe: "rebuild incremental tables from scratch" })
      .option("dry-run", { type: "boolean", default: false, describe: "validate every statement (BigQuery: estimate bytes) without running" })
      .option("resume", { type: "string", describe: "run id to resume: skip actions that succeeded in it" }) as never,
  handler: async (args) => {
    const code = await withSession(args, async (s) => {
      if (s.engine instanceof DuckDBEngine && !args["dry-run"]) await ensureSourceTables(s.engine, s.project.settings);
      const alreadySucceeded = args.resume ? await succeededActions(s.engine, s.project, args.resume) : undefined;
      const run = await runGraph({
        graph: s.project.graph, engine: s.engine, settings: s.project.settings, artifacts: s.artifacts,
        selection: { actions: args.actions, tags: args.tags, includeDependencies: args["include-deps"], includeDependents: args["include-dependents"] },
        fullRefresh: args["full-refresh"], dryRun: args["dry-run"], runId: args.resume ?? s.runId, logger: s.logger,
        progress: createProgress(s.logger), alreadySucceeded,
      });
      return finishRun(s, run);
    });
    process.exitCode = code;
  },
};
