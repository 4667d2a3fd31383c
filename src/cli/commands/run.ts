import type { CommandModule } from "yargs";
import { checkDefinitionsBeforeRun, runGraph } from "../../runner/runner.ts";
import { repeatCommand } from "../../runner/definitions.ts";
import { createProgress } from "../../runner/progress.ts";
import { select } from "../../dag/dag.ts";
import { resumePlan } from "../../runner/history.ts";
import { mergeResumedRecord, type RunRecord } from "../../runner/run-record.ts";
import { checkRunId, storedRunRecord } from "../run-records.ts";
import { checkInputQuality } from "../input-quality.ts";
import { engineOptions, selectionOf, selectionOptions, type EngineArgs, type SelectionArgs } from "../options.ts";
import { registerEnvironmentSecrets } from "../../safety/secrets.ts";
import { withSession } from "../session.ts";
import { finishRun } from "../finish-run.ts";
import { cancellableRun } from "../signals.ts";
import { ensureSourceTables } from "../../catalog/index.ts";
import { UserError } from "../../util/errors.ts";
import { RUN_IMPORT_KINDS } from "../../import/kinds.ts";
import type { ImportRequest } from "./import.ts";

interface RunArgs extends EngineArgs, SelectionArgs {
  "full-refresh": boolean;
  "dry-run": boolean;
  "accept-changed-definitions": boolean;
  resume?: string;
  import?: ImportRequest[];
}

/** `--import KIND=FILE` → the import the `import` command would make of it, with its defaults. */
function parseRunImports(entries: unknown): ImportRequest[] | undefined {
  if (entries === undefined) return undefined;
  const byKind = new Map<string, ImportRequest>();
  for (const e of [entries].flat().map(String)) {
    const eq = e.indexOf("=");
    const kind = e.slice(0, eq).trim();
    const file = e.slice(eq + 1);
    if (eq <= 0 || !file) throw new UserError(`--import ${JSON.stringify(e)}: expected KIND=FILE, e.g. --import paths=paths.csv`);
    if (!RUN_IMPORT_KINDS.includes(kind)) throw new UserError(`--import ${JSON.stringify(e)}: the kind is one of ${RUN_IMPORT_KINDS.join(", ")}` + (kind === "leads" ? " (leads need their id and label columns: funnelcredit import leads … --id-column … --label-column …)" : ""));
    // Several files of one kind load together, as `import KIND FILE FILE` does (one transaction).
    const req = byKind.get(kind) ?? { kind, files: [], append: false, intraday: false, "ignore-unknown-columns": false };
    req.files.push(file);
    byKind.set(kind, req);
  }
  return [...byKind.values()];
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: "run",
  describe: "run the DAG (or selected actions/tags) on the chosen engine",
  builder: (y) =>
    selectionOptions(engineOptions(y), "run")
      .option("full-refresh", { type: "boolean", default: false, describe: "rebuild incremental tables from scratch" })
      .option("accept-changed-definitions", { type: "boolean", default: false, describe: "run although an incremental table holds days built under another definition (a changed var such as funnel_steps, an edited model, an upgrade): keep those days and record the new definition (otherwise such a run stops, exit 2, naming the tables and what changed)" })
      .option("dry-run", { type: "boolean", default: false, describe: "validate every statement (BigQuery: estimate bytes) without running" })
      .option("resume", { type: "string", describe: "run id to resume: skip actions that succeeded in it", coerce: (v: unknown) => (v === undefined ? v : checkRunId("--resume", v)) })
      .option("import", {
        type: "string", array: true, coerce: parseRunImports,
        describe: `KIND=FILE: first load a local file as \`funnelcredit import KIND FILE\` does (its defaults: replace, bad rows per vars.import_bad_rows), then run, in one process; repeatable (KIND: ${RUN_IMPORT_KINDS.join(", ")}; embedded engine)`,
      }) as never,
  handler: async (args) => {
    registerEnvironmentSecrets();
    if (args.import && args["dry-run"]) throw new UserError("--import with --dry-run: a dry run writes nothing; import first (funnelcredit import), then plan the run");
    if (args.import && args.resume !== undefined) throw new UserError("--import with --resume: a resumed run re-runs only what failed, over the inputs it started with; import first (funnelcredit import), then resume");
    const imports = args.import;
    // Cancellable from the moment the lease is held: a signal then ends the run recorded as cancelled.
    const code = await withSession(args, (s) => cancellableRun(async (signal) => {
      const selection = selectionOf(args);
      let alreadySucceeded: Set<string> | undefined;
      let earlier: RunRecord | undefined;
      if (args.resume !== undefined) {
        // Read before this attempt adds its own rows under the same run id.
        earlier = await storedRunRecord(s, args.resume);
        // Skip what succeeded in the run, unless something it reads has been (or will be) rebuilt since.
        const plan = await resumePlan(s.engine, s.project, args.resume, select(s.project.graph, selection));
        alreadySucceeded = plan.skip;
        if (!plan.known) s.logger.warn(`run ${args.resume} is not in the run history (${s.project.settings.datasets.meta}.run_history): nothing to skip, every selected action runs`);
        s.logger.info(`resuming run ${args.resume}: ${plan.skip.size} action(s) already done` + (plan.rerun.size ? `, ${plan.rerun.size} run again because their inputs changed` : ""));
        for (const [a, why] of plan.rerun) s.logger.debug(`resume: ${a} runs again: ${why}`);
      }
      // An incremental table built under another definition stops the run here, before the warehouse is touched.
      const definitions = await checkDefinitionsBeforeRun({
        graph: s.project.graph, engine: s.engine, settings: s.project.settings, selection, fullRefresh: args["full-refresh"],
        alreadySucceeded, acceptChangedDefinitions: args["accept-changed-definitions"], command: repeatCommand(process.argv.slice(2)),
      });
      // Inputs not loaded yet are created empty (every engine), so a GA4-only project runs the whole DAG.
      if (!args["dry-run"]) await ensureSourceTables(s.engine, s.project.settings, s.project.workflow.defaultProject);
      // A resumed run's lines carry the resumed run's id (its record's), and this attempt's.
      const logger = args.resume ? s.logger.with({ runId: args.resume, attempt: s.runId }) : s.logger;
      const ran = await runGraph({
        graph: s.project.graph, engine: s.engine, settings: s.project.settings, artifacts: s.artifacts,
        selection,
        fullRefresh: args["full-refresh"], dryRun: args["dry-run"], runId: args.resume ?? s.runId, logger,
        progress: createProgress(logger), alreadySucceeded, definitions, acceptChangedDefinitions: args["accept-changed-definitions"], attempt: args.resume !== undefined ? `resume_${s.runId}` : undefined, signal,
      });
      // One record per run id: the resumed attempt's record carries what the earlier attempt did for the
      // actions it skipped (their warnings too), so run.json and the report do not show them as skipped.
      const run = earlier && !args["dry-run"] ? mergeResumedRecord(earlier, ran) : ran;
      if (!args["dry-run"] && run.status !== "cancelled") await checkInputQuality(s, run);
      return finishRun(s, run);
    }), {
      lease: !args["dry-run"],
      beforeCompile: imports && (async (engine, ps, logger) => {
        const { importFiles } = await import("./import.ts");
        for (const req of imports) await importFiles(engine, ps.settings, req, (m) => logger.info(m));
      }),
    });
    process.exitCode = code;
  },
};
