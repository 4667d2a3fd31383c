import type { CommandModule } from "yargs";
import { runGraph } from "../../runner/runner.ts";
import { createProgress } from "../../runner/progress.ts";
import { historyTarget, resumePlan } from "../../runner/history.ts";
import { inputQuality } from "../../import/quarantine.ts";
import { truncationSummary } from "../../safety/bounds.ts";
import { RUN_HISTORY_SCHEMA, historyRow, type ActionRecord, type RunRecord } from "../../runner/run-record.ts";
import { select } from "../../dag/dag.ts";
import { engineOptions, type EngineArgs } from "../options.ts";
import { registerEnvironmentSecrets } from "../../safety/secrets.ts";
import { withSession, type Session } from "../session.ts";
import { finishRun } from "../finish-run.ts";
import { DuckDBEngine } from "../../engines/duckdb/engine.ts";
import { ensureSourceTables } from "../../engines/duckdb/sources.ts";

/**
 * Bad input after the run: quarantined rows are counted in the summary and report; a bad-row share
 * past vars.bad_row_max_share fails the run (recorded in run history as the check "input_quality").
 */
async function checkInputQuality(s: Session, run: RunRecord): Promise<void> {
  const db = s.project.graph.projectConfig.defaultDatabase;
  let q;
  try {
    q = await inputQuality(s.engine, db, s.project.settings, run.runId);
  } catch (e) {
    run.warnings.push(`could not count quarantined input rows: ${(e as Error).message}`);
    return;
  }
  run.warnings.push(...q.warnings);
  try {
    run.warnings.push(...(await truncationSummary(s.engine, db, s.project.settings)));
  } catch (e) {
    run.warnings.push(`could not count what max_path_length / max_sessions_per_user_day cut: ${(e as Error).message}`);
  }
  if (!q.failure) return;
  const at = new Date();
  const rec: ActionRecord = { action: "input_quality", kind: "check", status: "failed", startedAt: at, endedAt: at, error: q.failure };
  run.actions.push(rec);
  run.status = "failed";
  try {
    await s.engine.writeRows(historyTarget(s.project), RUN_HISTORY_SCHEMA, [historyRow(run, rec)], { mode: "append" });
  } catch (e) {
    run.warnings.push(`could not record input_quality in run history: ${(e as Error).message}`);
  }
}

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
    registerEnvironmentSecrets();
    const code = await withSession(args, async (s) => {
      if (s.engine instanceof DuckDBEngine && !args["dry-run"]) await ensureSourceTables(s.engine, s.project.settings);
      const selection = { actions: args.actions, tags: args.tags, includeDependencies: args["include-deps"], includeDependents: args["include-dependents"] };
      let alreadySucceeded: Set<string> | undefined;
      if (args.resume) {
        // Skip what succeeded in the run, unless something it reads has been (or will be) rebuilt since.
        const plan = await resumePlan(s.engine, s.project, args.resume, select(s.project.graph, selection));
        alreadySucceeded = plan.skip;
        if (!plan.known) s.logger.warn(`run ${args.resume} is not in the run history (${s.project.settings.datasets.meta}.run_history): nothing to skip, every selected action runs`);
        s.logger.info(`resuming run ${args.resume}: ${plan.skip.size} action(s) already done` + (plan.rerun.size ? `, ${plan.rerun.size} run again because their inputs changed` : ""));
        for (const [a, why] of plan.rerun) s.logger.debug(`resume: ${a} runs again: ${why}`);
      }
      const run = await runGraph({
        graph: s.project.graph, engine: s.engine, settings: s.project.settings, artifacts: s.artifacts,
        selection,
        fullRefresh: args["full-refresh"], dryRun: args["dry-run"], runId: args.resume ?? s.runId, logger: s.logger,
        progress: createProgress(s.logger), alreadySucceeded, attempt: args.resume ? `resume_${s.runId}` : undefined,
      });
      if (!args["dry-run"]) await checkInputQuality(s, run);
      return finishRun(s, run);
    }, { lease: !args["dry-run"] });
    process.exitCode = code;
  },
};
