/**
 * Warehouse side of the CRM push: read lead_scores and the push state, write the state (replace, one
 * row per destination and lead) and dead letters (append) in the meta dataset.
 */
import { qualified, type ColumnSchema, type Engine, type Row, type Target } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import type { DeadLetter, PushState, ScoreToPush } from "./push.ts";
import { toScoreToPush } from "./push.ts";

export const CRM_PUSH_STATE_SCHEMA: ColumnSchema[] = [
  { name: "destination", type: "STRING", description: "endpoint URL without credentials or query" },
  { name: "lead_id", type: "STRING" },
  { name: "payload_hash", type: "STRING", description: "sha256 of [lead_id, score, segment, model_version] last acknowledged" },
  { name: "score", type: "INT64" },
  { name: "acknowledged_at", type: "TIMESTAMP" },
  { name: "run_id", type: "STRING" },
];

export const CRM_PUSH_DEAD_LETTERS_SCHEMA: ColumnSchema[] = [
  { name: "destination", type: "STRING" },
  { name: "lead_id", type: "STRING" },
  { name: "payload", type: "STRING", description: "the JSON row that was sent" },
  { name: "idempotency_key", type: "STRING" },
  { name: "http_status", type: "INT64", description: "last HTTP status (NULL: network error)" },
  { name: "error", type: "STRING" },
  { name: "attempts", type: "INT64" },
  { name: "failed_at", type: "TIMESTAMP" },
  { name: "run_id", type: "STRING" },
];

export interface PushTables {
  scores: Target;
  state: Target;
  deadLetters: Target;
}

export function pushTables(settings: Settings, database: string): PushTables {
  return {
    scores: { database, schema: settings.datasets.outputs, name: "lead_scores" },
    state: { database, schema: settings.datasets.meta, name: "crm_push_state" },
    deadLetters: { database, schema: settings.datasets.meta, name: "crm_push_dead_letters" },
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
