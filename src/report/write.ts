/**
 * Write the run report: load what the run produced, render the page, store it next to the run
 * record as `runs/<runId>/report.html` in the artifact store. Called at the end of `run`/`demo`
 * and by `funnelcredit report`.
 */
import type { Engine } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import type { Graph } from "../dag/graph.ts";
import type { RunRecord } from "../runner/run-record.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import { loadReportData } from "./data.ts";
import { renderReportHtml } from "./html.ts";

interface WriteReportOptions {
  /**
   * The warehouse project (Dataform's defaultDatabase, i.e. `project.graph.projectConfig.defaultDatabase`).
   * Needed on BigQuery; DuckDB ignores it.
   */
  database?: string;
  locale?: string;
  now?: () => Date;
}

function reportArtifactName(runId: string): string {
  return `runs/${runId}/report.html`;
}

/** Render and store the report of `run`; returns the path or gs:// URI written. Never fails for missing tables. */
export async function writeRunReport(
  engine: Engine,
  settings: Settings,
  run: RunRecord,
  artifacts: ArtifactStore,
  opts: WriteReportOptions = {},
): Promise<string> {
  const graph: Pick<Graph, "projectConfig"> = {
    projectConfig: { defaultDatabase: opts.database ?? "", defaultSchema: settings.datasets.outputs, assertionSchema: "", vars: {} },
  };
  const data = await loadReportData(engine, settings, graph, run, { now: opts.now });
  const html = await renderReportHtml(data, { locale: opts.locale });
  return artifacts.put(reportArtifactName(run.runId), html, "text/html; charset=utf-8");
}
