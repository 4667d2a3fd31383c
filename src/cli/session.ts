/**
 * What every warehouse command needs, opened once and always closed: project (settings + graph),
 * engine, the warehouse lease, the artifact store.
 */
import path from "node:path";
import { loadProject, type Project } from "../compile/project.ts";
import { openEngine } from "../engines/registry.ts";
import type { Engine } from "../engines/engine.ts";
import { createArtifactStore, type ArtifactStore } from "../artifacts/store.ts";
import { newRunId } from "../runner/runner.ts";
import type { Logger } from "../util/logger.ts";
import { artifactsLocation, loggerFor, parseVars, type EngineArgs } from "./options.ts";
import { loadProjectSettings, type ProjectSettings } from "../config/settings.ts";
import { resolveGa4OptionalColumns } from "../compile/ga4-columns.ts";

export interface Session {
  project: Project;
  engine: Engine;
  artifacts: ArtifactStore;
  logger: Logger;
  runId: string;
  args: EngineArgs;
}

/**
 * `lease: false` (a dry run) takes no warehouse lease where the engine can do without (it writes nothing);
 * `lease: true` takes it even without compiling (a command that changes what the next run does).
 * `beforeCompile` runs once the warehouse is open and leased, before the project compiles against it
 * (`run --import`: the files the run reads are loaded first, so the compile sees the GA4 export's columns).
 */
export async function withSession<T>(
  args: EngineArgs, fn: (s: Session) => Promise<T>,
  opts: { compile?: boolean; lease?: boolean; beforeCompile?: (engine: Engine, ps: ProjectSettings, logger: Logger) => Promise<void> } = {},
): Promise<T> {
  const vars = parseVars(args);
  const ps = loadProjectSettings(args.project, vars);
  const runId = newRunId();
  // --json lines of this invocation carry its run id from the first one.
  const logger = loggerFor(args).with({ runId });
  for (const d of ps.settings.deprecations) logger.warn(d);
  // The jobs' code loads while the engine opens (DuckDB opens its file on a thread of its own).
  const jobs = opts.compile === false ? undefined : import("../../jobs/index.ts");
  jobs?.catch(() => undefined); // awaited below; a failure surfaces there, not as an unhandled rejection
  // The engine takes the run lease its own way (DuckDB: a file beside the warehouse, for every
  // session; BigQuery: a row in the meta dataset, for runs that write) and releases it on close.
  const engine = await openEngine(
    args.engine,
    args as unknown as Record<string, unknown>,
    { projectDir: args.project, defaultProject: ps.workflow.defaultProject, defaultLocation: ps.workflow.defaultLocation, maximumBytesBilled: ps.settings.maximumBytesBilled },
    {
      runId, waitMs: args["wait-for-lease"] * 1000, writes: opts.lease === true || (opts.compile !== false && opts.lease !== false),
      meta: { database: ps.workflow.defaultProject, schema: ps.settings.datasets.meta },
    },
  );
  if (engine.resources) logger.debug(engine.resources, { event: "engine_opened" });
  try {
    await opts.beforeCompile?.(engine, ps, logger);
    const project: Project = opts.compile === false
      ? { ...ps, graph: { actions: [], projectConfig: { defaultDatabase: "", defaultSchema: "", assertionSchema: "", vars: {} } }, jobs: [] }
      : await loadProject(args.project, { vars: await withGa4Columns(engine, ps, vars, logger), jobs: (await jobs!).ALL_JOBS });
    const artifacts = await createArtifactStore(artifactsLocation(args));
    return await fn({ project, engine, artifacts, logger, runId, args });
  } finally {
    await engine.close();
  }
}

/**
 * vars.ga4_optional_columns = "auto": the columns the newest GA4 table really has, read before compiling (an
 * export from before mid-2023 has no collected_traffic_source). When the export cannot be read yet (no GA4 table
 * loaded), the compiled default stands and staging reports its own error if it fails.
 */
async function withGa4Columns(engine: Engine, ps: ProjectSettings, vars: Record<string, string>, logger: Logger): Promise<Record<string, string>> {
  try {
    const found = await resolveGa4OptionalColumns(engine, ps.settings, ps.settings.ga4Project ?? ps.workflow.defaultProject);
    return found === undefined ? vars : { ...vars, ga4_optional_columns: found };
  } catch (e) {
    logger.debug("ga4_optional_columns: GA4 export schema not readable, compiling with both columns assumed", { error: String(e) });
    return vars;
  }
}
