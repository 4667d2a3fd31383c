/**
 * Plain data structures for the compiled graph (after Dataform core's own): actions with targets,
 * dependencies by action name, and the SQL Dataform rendered. Jobs join as actions of kind "job".
 */
import type { Target } from "../engines/engine.ts";
import type { JobDefinition } from "../jobs/job.ts";

export type ActionKind = "table" | "view" | "incremental" | "assertion" | "operation" | "declaration" | "job";

export interface Action {
  /** "schema.name": unique within a project (the runner refuses duplicates). */
  name: string;
  kind: ActionKind;
  target: Target;
  /** Names of the actions this one reads. */
  dependencies: string[];
  tags: string[];
  fileName?: string;
  description?: string;
  disabled?: boolean;
  query?: string;
  incrementalQuery?: string;
  preOps?: string[];
  postOps?: string[];
  incrementalPreOps?: string[];
  incrementalPostOps?: string[];
  uniqueKey?: string[];
  partitionBy?: string;
  clusterBy?: string[];
  updatePartitionFilter?: string;
  labels?: Record<string, string>;
  /** Operations: statements to run; hasOutput when they create `target`. */
  queries?: string[];
  hasOutput?: boolean;
  /** Assertions: the table whose rows they check. */
  parentAction?: string;
  /** Documented columns (from config.columns). */
  columns?: Record<string, string>;
  job?: JobDefinition;
}

interface ProjectConfig {
  defaultDatabase: string;
  defaultSchema: string;
  assertionSchema: string;
  defaultLocation?: string;
  vars: Record<string, string>;
}

export interface Graph {
  actions: Action[];
  projectConfig: ProjectConfig;
}

export function actionName(t: Pick<Target, "schema" | "name">): string {
  return `${t.schema}.${t.name}`;
}
