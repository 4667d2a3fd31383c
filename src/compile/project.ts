/**
 * Load a funnelcredit project: validated settings, the compiled Dataform graph, and the jobs
 * merged into it — everything `run` needs, built once.
 */
import { loadProjectSettings, type ProjectSettings } from "../config/settings.ts";
import { mergeJobs } from "../dag/dag.ts";
import type { JobDefinition } from "../jobs/job.ts";
import { toGraph } from "./compile.ts";
import { compileDataformCached } from "./cache.ts";
import type { Graph } from "../dag/graph.ts";

export interface Project extends ProjectSettings {
  graph: Graph;
  jobs: JobDefinition[];
  /** Whether Dataform's graph came from the compile cache (src/compile/cache.ts). */
  compileCached?: boolean;
}

/** `jobs`: the TypeScript jobs to merge into the graph (the CLI passes jobs/index.ts's ALL_JOBS). */
export async function loadProject(projectDir: string, opts: { vars?: Record<string, string>; jobs: JobDefinition[] }): Promise<Project> {
  const ps = loadProjectSettings(projectDir, opts.vars);
  const { compiled, cached } = await compileDataformCached({ projectDir, vars: opts.vars });
  const graph = mergeJobs(toGraph(compiled), opts.jobs);
  return { ...ps, graph, jobs: opts.jobs, compileCached: cached };
}
