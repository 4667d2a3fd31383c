/**
 * Warehouse side of the CRM push: read lead_scores and the push state, write the state (replace, one
 * row per destination and lead) and dead letters (append) in the meta dataset.
 */
import { qualified, type ColumnSchema, type Engine, type Row, type Target } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import type { DeadLetter, PushState, ScoreToPush } from "./push.ts";
import { toScoreToPush } from "./push.ts";
import { tableLocation, tableSchema } from "../catalog/index.ts";

const CRM_PUSH_STATE_SCHEMA: ColumnSchema[] = tableSchema("crm_push_state");

const CRM_PUSH_DEAD_LETTERS_SCHEMA: ColumnSchema[] = tableSchema("crm_push_dead_letters");

interface PushTables {
  scores: Target;
  state: Target;
  deadLetters: Target;
}

export function pushTables(settings: Settings, database: string): PushTables {
  return {
    scores: tableLocation("lead_scores", { settings, database }),
    state: tableLocation("crm_push_state", { settings, database }),
    deadLetters: tableLocation("crm_push_dead_letters", { settings, database }),
  };
}


export async function readScores(engine: Engine, t: PushTables): Promise<ScoreToPush[]> {
  if (!(await engine.tableExists(t.scores))) return [];
  const rows = await engine.query(`SELECT lead_id, score, probability, segment, model_version, scored_at, key_factors FROM ${qualified(t.scores)} ORDER BY lead_id`);
  return rows.map(toScoreToPush);
}

export async function readState(engine: Engine, t: PushTables): Promise<PushState[]> {
  if (!(await engine.tableExists(t.state))) return [];
  const rows = await engine.query(`SELECT destination, lead_id, payload_hash, score, acknowledged_at, run_id FROM ${qualified(t.state)}`);
  return rows.map((r) => ({
    destination: String(r.destination), lead_id: String(r.lead_id), payload_hash: String(r.payload_hash), score: Number(r.score),
    acknowledged_at: r.acknowledged_at as Date, run_id: String(r.run_id),
  }));
}

/** State after a push: previous rows, overwritten by the newly acknowledged ones (same destination and lead). */
export function mergeState(previous: readonly PushState[], acknowledged: readonly PushState[]): PushState[] {
  const key = (s: PushState): string => `${s.destination}\u0000${s.lead_id}`;
  const m = new Map(previous.map((s) => [key(s), s]));
  for (const s of acknowledged) m.set(key(s), s);
  return [...m.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export async function writeState(engine: Engine, t: PushTables, state: readonly PushState[]): Promise<void> {
  await engine.ensureDataset(t.state.database, t.state.schema);
  await engine.writeRows(t.state, CRM_PUSH_STATE_SCHEMA, state as unknown as Row[], { mode: "replace" });
}

export async function appendDeadLetters(engine: Engine, t: PushTables, rows: readonly DeadLetter[]): Promise<void> {
  if (!rows.length) return;
  await engine.ensureDataset(t.deadLetters.database, t.deadLetters.schema);
  await engine.writeRows(t.deadLetters, CRM_PUSH_DEAD_LETTERS_SCHEMA, rows as unknown as Row[], { mode: "append" });
}
