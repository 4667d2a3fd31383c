/**
 * A TypeScript job: reads aggregates, fits a model, writes model/credit tables back.
 * It declares what it reads and writes by table name; the runner matches those names to the
 * compiled graph (downstream SQLX declares a job's output as a `declaration`), so SQL → job → SQL
 * runs in dependency order.
 */
import type { Engine, Row, ColumnSchema, Target } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../util/logger.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { ColumnTable } from "./column-table.ts";

export interface JobContext {
  engine: Engine;
  settings: Settings;
  runId: string;
  logger: Logger;
  artifacts: ArtifactStore;
  /** The clock, injected for determinism in tests. */
  now(): Date;
  /** The full target of a table the job declared (in reads or writes). */
  target(tableName: string): Target;
  /** `project.dataset.table` in backticks, for the job's GoogleSQL. */
  ref(tableName: string): string;
  /** Read rows with GoogleSQL (aggregates only: jobs never read raw events). */
  query(sql: string): Promise<Row[]>;
  /** `query`, held column-wise (for a large input: a fraction of the memory of row objects). */
  queryTable(sql: string): Promise<ColumnTable>;
  /** Write a declared output table atomically. */
  write(tableName: string, schema: ColumnSchema[], rows: Row[], mode?: "replace" | "append"): Promise<number>;
  /** Progress note for long fits. */
  progress(note: string): void;
  /** Warnings shown in the run summary and report. */
  warn(message: string): void;
}

export interface JobResult {
  /** Rows written in total. */
  rows: number;
  /** Small figures for the run record (AUC, iterations…). */
  metrics?: Record<string, number | string | boolean>;
  /**
   * Set when the job had nothing to do on this data (e.g. no conversions) or published nothing: the
   * action is recorded as skipped with this reason, not as succeeded or failed, and what reads its
   * outputs is skipped too — except the outputs it did write this run (they are current, e.g. emptied).
   */
  skipped?: string;
}

export interface JobDefinition {
  /** Action name, e.g. "channel_markov". */
  name: string;
  description: string;
  reads: string[];
  writes: string[];
  tags?: string[];
  run(ctx: JobContext): Promise<JobResult>;
  /**
   * The GoogleSQL queries the job runs to read its inputs, for the cost plan (`funnelcredit plan`): a dry run bills these
   * instead of every column of every table in `reads`. Only for a job whose reads are these queries alone (metadata
   * such as a table's schema is free); without it the plan bills `SELECT *` of each table the job reads.
   */
  planQueries?(ctx: Pick<JobContext, "settings" | "ref">): string[];
}
