/**
 * The scoring request body and its validation: every problem is a 400 naming the field. Pure.
 *
 *   { "lead": { "lead_id": "L1", "lead_source": "Google", "total_visits": 3, "user_id": "u1", … },
 *     "model_version": "lead_scoring@…" }   // optional: the current model when absent
 */
import type { Row, Value } from "../engines/engine.ts";
import type { Encoder } from "../models/encoding.ts";

interface ScoreRequest {
  lead: Row;
  modelVersion?: string;
}

export class PayloadError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "PayloadError";
  }
}

const TRUE_OR_FALSE = new Set(["yes", "no", "true", "false", "y", "n", "1", "0", "t", "f"]);
const MAX_FIELDS = 1000;
const MAX_TEXT = 10_000;

/** Parse and check the body's shape (any lead field must be a string, number, boolean or null). */
export function parseScoreRequest(body: string): ScoreRequest {
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch (e) {
    throw new PayloadError("body", `not JSON (${(e as Error).message})`);
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new PayloadError("body", "expected a JSON object with a \"lead\" object");
  const b = o as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== "lead" && k !== "model_version") throw new PayloadError(k, "unknown field; the body has \"lead\" and optionally \"model_version\"");
  if (b.model_version !== undefined && (typeof b.model_version !== "string" || b.model_version === "")) throw new PayloadError("model_version", "expected a non-empty string");
  const lead = b.lead;
  if (!lead || typeof lead !== "object" || Array.isArray(lead)) throw new PayloadError("lead", "expected an object of lead columns");
  const entries = Object.entries(lead as Record<string, unknown>);
  if (entries.length > MAX_FIELDS) throw new PayloadError("lead", `${entries.length} fields; at most ${MAX_FIELDS}`);
  const row: Row = {};
  for (const [k, v] of entries) {
    if (v === null || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) row[k] = v as Value;
    else if (typeof v === "string") {
      if (v.length > MAX_TEXT) throw new PayloadError(`lead.${k}`, `text of ${v.length} characters; at most ${MAX_TEXT}`);
      row[k] = v;
    } else throw new PayloadError(`lead.${k}`, `expected a string, number, boolean or null, got ${Array.isArray(v) ? "an array" : typeof v}`);
  }
  for (const id of ["lead_id", "user_id", "client_id"]) {
    const v = row[id];
    if (v !== undefined && v !== null && typeof v !== "string" && typeof v !== "number") throw new PayloadError(`lead.${id}`, "expected a string");
  }
  return { lead: row, ...(typeof b.model_version === "string" ? { modelVersion: b.model_version } : {}) };
}

/**
 * Check the lead's values against the model's feature kinds: a numeric feature takes a number (or a
 * numeric string), a boolean one true/false or a yes/no-like word; a categorical one text. Missing and
 * null values are allowed (the model has a default direction for missing values).
 */
export function checkAgainstEncoder(lead: Row, encoder: Encoder): void {
  for (const f of encoder.features) {
    const v = lead[f.name];
    if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) continue;
    if (f.kind === "numeric" && typeof v !== "number" && !(typeof v === "string" && Number.isFinite(Number(v.trim())))) {
      throw new PayloadError(`lead.${f.name}`, `expected a number, got ${JSON.stringify(v)}`);
    }
    if (f.kind === "boolean" && typeof v !== "boolean" && !(typeof v === "number" && (v === 0 || v === 1)) && !(typeof v === "string" && TRUE_OR_FALSE.has(v.trim().toLowerCase()))) {
      throw new PayloadError(`lead.${f.name}`, `expected true/false (or yes/no), got ${JSON.stringify(v)}`);
    }
    if (f.kind === "categorical" && typeof v !== "string") throw new PayloadError(`lead.${f.name}`, `expected text, got ${JSON.stringify(v)}`);
  }
}
