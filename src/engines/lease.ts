/**
 * The run lease: one writing run at a time per warehouse. Each engine keeps its own kind (DuckDB: a
 * lease file beside the warehouse file, taken before the file is opened; BigQuery: a lease row in
 * the meta dataset); the rest of funnelcredit only asks for one through `openEngine`.
 */
import { UserError } from "../util/errors.ts";

/** Who holds a lease, until when. */
export interface LeaseInfo { pid: number; host: string; runId: string; expiresAt: string }

/** Another run holds the warehouse (the message names it and the --wait-for-lease option). */
export class LeaseHeldError extends UserError {}

/** What a run asks of the engine when it opens it. */
export interface LeaseRequest {
  runId: string;
  /** How long to wait for another run's lease, in ms (0: fail at once with LeaseHeldError). */
  waitMs: number;
  /**
   * The run writes the warehouse (run, demo). A shared warehouse (BigQuery) leases only writing
   * runs; a single-file warehouse (DuckDB) has one opener, so it leases every session.
   */
  writes: boolean;
  /** The dataset (schema) of run bookkeeping, where a table lease lives. */
  meta: { database: string; schema: string };
}
