/**
 * What every warehouse command needs, opened once and always closed: project (settings + graph),
 * engine, the warehouse lease, the artifact store.
 */
import path from "node:path";
import { loadProject, type Project } from "../compile/project.ts";
import { createEngine } from "../engines/create.ts";
import type { Engine } from "../engines/engine.ts";
import { createArtifactStore, type ArtifactStore } from "../artifacts/store.ts";
import { acquireLease } from "../runner/lease.ts";
import { acquireTableLease, RUN_LEASE_TABLE } from "../runner/table-lease.ts";
import { newRunId } from "../runner/runner.ts";
import type { Logger } from "../util/logger.ts";
import { engineConfig, loggerFor, parseVars, type EngineArgs } from "./options.ts";
import { loadProjectSettings } from "../config/settings.ts";

export interface Session {
  project: Project;
  engine: Engine;
  artifacts: ArtifactStore;
  logger: Logger;
  runId: string;
  args: EngineArgs;
}

/** `lease: false` (a dry run) takes no warehouse lease: it writes nothing, so it needs none. */
export async function withSession<T>(args: EngineArgs, fn: (s: Session) => Promise<T>, opts: { compile?: boolean; lease?: boolean } = {}): Promise<T> {
  const logger = loggerFor(args);
  const vars = parseVars(args.vars);
  const project: Project = opts.compile === false
    ? { ...loadProjectSettings(args.project, vars), graph: { actions: [], projectConfig: { defaultDatabase: "", defaultSchema: "", assertionSchema: "", vars: {} } }, jobs: [] }
    : await loadProject(args.project, { vars });
  const cfg = engineConfig(args, project.workflow);
  const runId = newRunId();
  const lease = cfg.kind === "duckdb"
    ? await acquireLease(`${cfg.path}.lease`, runId, { waitMs: args["wait-for-lease"] * 1000 })
    : undefined;
  try {
    const engine = await createEngine(cfg);
    try {
      // A shared warehouse (BigQuery): the lease is a row in the meta dataset, one run per dataset.
      const tableLease = cfg.kind === "bigquery" && opts.compile !== false && opts.lease !== false
        ? await acquireTableLease(engine, { database: project.workflow.defaultProject, schema: project.settings.datasets.meta, name: RUN_LEASE_TABLE }, runId, { waitMs: args["wait-for-lease"] * 1000 })
        : undefined;
      try {
        const artifacts = await createArtifactStore(args.artifacts.startsWith("gs://") ? args.artifacts : path.resolve(args.project, args.artifacts));
        return await fn({ project, engine, artifacts, logger, runId, args });
      } finally {
        await tableLease?.release();
      }
    } finally {
      await engine.close();
    }
  } finally {
    lease?.release();
  }
}
