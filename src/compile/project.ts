/**
 * Load a funnelcredit project: validated settings, the compiled Dataform graph, and the jobs
 * merged into it — everything `run` needs, built once.
 */
import { loadProjectSettings, type ProjectSettings } from "../config/settings.ts";
import { mergeJobs } from "../dag/dag.ts";
import type { JobDefinition } from "../jobs/job.ts";
import { toGraph } from "./compile.ts";
import { compileDataformCached } from "./cache.ts";
import type { Graph } from "./graph.ts";

export interface Project extends ProjectSettings {
  graph: Graph;
  jobs: JobDefinition[];
  /** Whether Dataform's graph came from the compile cache (src/compile/cache.ts). */
  compileCached?: boolean;
}

export async function loadProject(projectDir: string, opts: { vars?: Record<string, string>; jobs?: JobDefinition[] } = {}): Promise<Project> {
  const ps = loadProjectSettings(projectDir, opts.vars);
  const { compiled, cached } = await compileDataformCached({ projectDir, vars: opts.vars });
  const jobs = opts.jobs ?? (await import("../../jobs/index.ts")).ALL_JOBS;
  const graph = mergeJobs(toGraph(compiled), jobs);
  return { ...ps, graph, jobs, compileCached: cached };
}
