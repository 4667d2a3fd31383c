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
import { loggerFor, parseVars, type EngineArgs } from "./options.ts";
import { loadProjectSettings } from "../config/settings.ts";

export interface Session {
  project: Project;
  engine: Engine;
  artifacts: ArtifactStore;
  logger: Logger;
  runId: string;
  args: EngineArgs;
}

/** `lease: false` (a dry run) takes no warehouse lease where the engine can do without (it writes nothing). */
export async function withSession<T>(args: EngineArgs, fn: (s: Session) => Promise<T>, opts: { compile?: boolean; lease?: boolean } = {}): Promise<T> {
  const vars = parseVars(args.vars);
  const project: Project = opts.compile === false
    ? { ...loadProjectSettings(args.project, vars), graph: { actions: [], projectConfig: { defaultDatabase: "", defaultSchema: "", assertionSchema: "", vars: {} } }, jobs: [] }
    : await loadProject(args.project, { vars });
  const runId = newRunId();
  // --json lines of this invocation carry its run id from the first one.
  const logger = loggerFor(args).with({ runId });
  // The engine takes the run lease its own way (DuckDB: a file beside the warehouse, for every
  // session; BigQuery: a row in the meta dataset, for runs that write) and releases it on close.
  const engine = await openEngine(
    args.engine,
    args as unknown as Record<string, unknown>,
    { projectDir: args.project, defaultProject: project.workflow.defaultProject, defaultLocation: project.workflow.defaultLocation, maximumBytesBilled: project.settings.maximumBytesBilled },
    {
      runId, waitMs: args["wait-for-lease"] * 1000, writes: opts.compile !== false && opts.lease !== false,
      meta: { database: project.workflow.defaultProject, schema: project.settings.datasets.meta },
    },
  );
  try {
    const artifacts = await createArtifactStore(args.artifacts.startsWith("gs://") ? args.artifacts : path.resolve(args.project, args.artifacts));
    return await fn({ project, engine, artifacts, logger, runId, args });
  } finally {
    await engine.close();
  }
}
