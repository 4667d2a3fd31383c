import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession, type Session } from "../session.ts";
import { UserError } from "../../util/errors.ts";
import type { RunRecord } from "../../runner/run-record.ts";
import { latestRunId } from "../../report/data.ts";
import { checkRunId, storedRunRecord } from "../run-records.ts";
import { writeRunReport } from "../../report/write.ts";

interface ReportArgs extends EngineArgs {
  run?: string;
  open: boolean;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report",
  describe: "write the HTML report of a run (default: the latest) to the artifacts folder",
  builder: (y) =>
    engineOptions(y)
      .option("run", { type: "string", describe: "run id (default: the latest run in run history)", coerce: (v: unknown) => (v === undefined ? v : checkRunId("--run", v)) })
      .option("open", { type: "boolean", default: false, describe: "also open the report in the default browser (xdg-open on Linux, open on macOS)" }) as never,
  handler: async (args) => {
    await withSession(args, async (s) => {
      const run = await findRun(s, args.run);
      const file = await writeRunReport(s.engine, s.project.settings, run, s.artifacts, { database: s.project.workflow.defaultProject });
      if (s.logger.json) s.logger.info("report written", { event: "report_written", runId: run.runId, report: file });
      if (args.open) openFile(file, s.logger);
      else if (!s.logger.json) process.stdout.write(`${file}\n`);
    }, { compile: false });
  },
};

/** The run record from the artifact store (runs/<id>/run.json), else rebuilt from run_history. */
async function findRun(s: Session, runId: string | undefined): Promise<RunRecord> {
  const graph = { projectConfig: { defaultDatabase: s.project.workflow.defaultProject, defaultSchema: "", assertionSchema: "", vars: {} } };
  const id = runId ?? (await latestRunId(s.engine, s.project.settings, graph));
  if (!id) throw new UserError(`no run to report: run history (${s.project.settings.datasets.meta}.run_history) is empty; run \`funnelcredit run\` first or pass --run ID`);
  const rebuilt = await storedRunRecord(s, id);
  if (!rebuilt) throw new UserError(`no run ${id}: neither ${s.artifacts.uri(`runs/${id}/run.json`)} nor rows in run_history; check the id with --run`);
  return rebuilt;
}

/**
 * The program that opens a file with the desktop's default application: `open` on macOS, `xdg-open`
 * elsewhere (Linux, BSD). Found on PATH like any command.
 */
export function openerFor(platform: NodeJS.Platform): string {
  return platform === "darwin" ? "open" : "xdg-open";
}

function openFile(file: string, logger: Session["logger"]): void {
  const name = openerFor(process.platform);
  const opener = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, name)).find((p) => existsSync(p));
  // Printed either way: over SSH or in a container the path is what the user can use.
  if (!logger.json) process.stdout.write(`${file}\n`);
  if (file.startsWith("gs://")) return logger.warn(`--open: the report is in Cloud Storage (${file}); download it to open it`);
  if (!opener) return logger.warn(`--open: ${name} is not on PATH; open the file above in a browser`);
  const child = spawn(opener, [file], { detached: true, stdio: "ignore" });
  child.on("error", (e) => logger.warn(`--open: ${opener} failed (${e.message}); open the file above in a browser`));
  child.unref();
}
