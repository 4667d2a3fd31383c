import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { qualified } from "../../engines/engine.ts";
import { runHistoryTarget } from "../../report/data.ts";
import { storedRunRecord } from "../run-records.ts";
import type { RunRecord } from "../../runner/run-record.ts";
import { formatTable } from "../text-table.ts";
import { positiveLimit } from "./show.ts";

interface RunsArgs extends EngineArgs {
  limit: number;
}

/** What `runs` prints per run. */
interface RunLine {
  run_id: string;
  started_at: Date;
  status: RunRecord["status"];
  duration_s: number;
  succeeded: number;
  failed: number;
  skipped: number;
  warnings: string[];
}

function runLine(run: RunRecord): RunLine {
  const count = (st: string): number => run.actions.filter((a) => a.status === st).length;
  return {
    run_id: run.runId, started_at: run.startedAt, status: run.status,
    duration_s: Math.round((run.endedAt.getTime() - run.startedAt.getTime()) / 100) / 10,
    succeeded: count("succeeded") + count("warning"), failed: count("failed"), skipped: count("skipped"), warnings: run.warnings,
  };
}

export const runsCommand: CommandModule<object, RunsArgs> = {
  command: "runs",
  describe: "list recent runs, newest first: status, duration, actions and warnings (run history and run records)",
  builder: (y) => engineOptions(y).option("limit", { type: "number", default: 10, describe: "runs to list", coerce: positiveLimit }) as never,
  handler: async (args) => {
    await withSession(args, async (s) => {
      const history = runHistoryTarget(s.project.settings, { projectConfig: { defaultDatabase: s.project.workflow.defaultProject, defaultSchema: "", assertionSchema: "", vars: {} } });
      const ids = (await s.engine.tableExists(history))
        ? (await s.engine.query(`SELECT run_id, MIN(started_at) AS run_started_at FROM ${qualified(history)} GROUP BY run_id ORDER BY run_started_at DESC, run_id DESC LIMIT ${args.limit}`)).map((r) => String(r.run_id))
        : [];
      if (!ids.length) {
        s.logger.info(`no runs recorded yet in ${history.schema}.${history.name}: \`funnelcredit run\` records one`);
        return;
      }
      // The run record (runs/<id>/run.json) holds the run's own warnings (input checks, jobs) beside the actions'.
      const lines: RunLine[] = [];
      for (const id of ids) {
        const run = await storedRunRecord(s, id);
        if (run) lines.push(runLine(run));
      }
      if (s.logger.json) {
        for (const l of lines) process.stdout.write(JSON.stringify({ ...l, started_at: l.started_at.toISOString() }) + "\n");
        return;
      }
      const table = formatTable(lines.map((l) => ({
        run_id: l.run_id, started_at: l.started_at, status: l.status, duration_s: l.duration_s,
        succeeded: l.succeeded, failed: l.failed, skipped: l.skipped, warnings: l.warnings.length,
      })));
      process.stdout.write(table + "\n");
      for (const l of lines.filter((x) => x.warnings.length)) {
        process.stdout.write(`\n${l.run_id}:\n` + l.warnings.map((w) => `  ! ${w}`).join("\n") + "\n");
      }
    }, { compile: false, lease: false });
  },
};
