/** Running compiled scoring SQL from a job: the statements saved for a scheduled query, then run, then counted. */
import type { JobContext } from "../jobs/job.ts";
import type { EnsembleSql } from "./ensemble.ts";

/**
 * Saves `sql` as the artifact `artifact` (what a scheduled query runs), runs it job by job (each job is one
 * script: the temporary functions of the `functions` form live in it) and returns the rows of `table`.
 */
export async function executeScoringSql(ctx: JobContext, sql: EnsembleSql, opts: { artifact: string; trees: number; table: string }): Promise<number> {
  await ctx.artifacts.put(opts.artifact, sql.statements.join(";\n\n") + ";\n", "application/sql");
  ctx.progress(`${opts.trees} trees in ${sql.statements.length} statement(s) (${sql.form}), longest ${sql.maxStatementChars} characters`);
  for (const job of sql.jobs) await ctx.engine.execute(job);
  const [n] = await ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.ref(opts.table)}`);
  return Number(n?.n ?? 0);
}
