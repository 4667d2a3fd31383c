/**
 * The leads' web behaviour (`web_*` columns of lead_features) for scoring on request, as a snapshot
 * read once when the server starts.
 *
 * Why a snapshot: the embedded warehouse is one DuckDB file that one process opens for writing (its
 * lease, src/engines/duckdb/file-lease.ts, and DuckDB's own file lock); a server holding it open, even
 * read-only, would block every scheduled run for as long as it serves. Reading lead_features once and
 * closing the warehouse (and its lease) keeps runs free and answers without a warehouse round trip;
 * the price is staleness: restart the server after a run to see newer behaviour. The same code serves a
 * BigQuery warehouse (one query at start, no per-request cost).
 */
import type { Engine, Row, Target } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";

export interface BehaviourSnapshot {
  /** Web behaviour columns (web_*), by user id and by client id (the newest lead's row wins). */
  byUserId: Map<string, Row>;
  byClientId: Map<string, Row>;
  columns: string[];
  leads: number;
  readAt: Date;
}

export const EMPTY_BEHAVIOUR: BehaviourSnapshot = { byUserId: new Map(), byClientId: new Map(), columns: [], leads: 0, readAt: new Date(0) };

/** Read the snapshot; an absent lead_features gives an empty one. */
export async function readBehaviour(engine: Engine, leadFeatures: Target, now: Date): Promise<BehaviourSnapshot> {
  if (!(await engine.tableExists(leadFeatures))) return { ...EMPTY_BEHAVIOUR, readAt: now };
  const columns = (await engine.tableSchema(leadFeatures)).map((c) => c.name).filter((c) => c.startsWith("web_"));
  const select = ["user_id", "client_id", ...columns].map((c) => `\`${c}\``).join(", ");
  const rows = await engine.query(
    `SELECT ${select} FROM ${qualified(leadFeatures)} WHERE user_id IS NOT NULL OR client_id IS NOT NULL ORDER BY created_at, lead_id`,
  );
  const byUserId = new Map<string, Row>();
  const byClientId = new Map<string, Row>();
  for (const r of rows) {
    const web: Row = {};
    for (const c of columns) web[c] = r[c] ?? null;
    if (r.user_id !== null && r.user_id !== undefined) byUserId.set(String(r.user_id), web);
    if (r.client_id !== null && r.client_id !== undefined) byClientId.set(String(r.client_id), web);
  }
  return { byUserId, byClientId, columns, leads: rows.length, readAt: now };
}

/**
 * The lead with its web behaviour: by user_id first, then client_id; values the payload gives itself win.
 * Returns where the behaviour came from.
 */
export function withBehaviour(lead: Row, snap: BehaviourSnapshot): { row: Row; source: "warehouse" | "payload" | "none" } {
  const uid = lead.user_id;
  const cid = lead.client_id;
  const web = (uid !== undefined && uid !== null ? snap.byUserId.get(String(uid)) : undefined)
    ?? (cid !== undefined && cid !== null ? snap.byClientId.get(String(cid)) : undefined);
  if (web) return { row: { ...web, ...lead }, source: "warehouse" };
  return { row: lead, source: Object.keys(lead).some((k) => k.startsWith("web_")) ? "payload" : "none" };
}
