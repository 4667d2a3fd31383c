/**
 * Pseudonymised ids (reliability promise 5): run records, run history and reports never carry a
 * raw user or client id, and with vars.hash_user_ids the output tables carry SHA-256 hashes instead.
 * The hash is the plain SHA-256 hex of the id's UTF-8 text, the same in TypeScript and in GoogleSQL
 * (`TO_HEX(SHA256(id))`), so an operator can find a row again: WHERE TO_HEX(SHA256(user_id)) = '…'.
 */
import { createHash } from "node:crypto";
import type { Row, Value } from "../engines/engine.ts";

/** SHA-256 hex of an id; NULL stays NULL. */
export function hashId(id: string | null): string | null {
  return id === null ? null : createHash("sha256").update(id, "utf8").digest("hex");
}

/**
 * Columns holding (or embedding) a user's identity: GA4's user_pseudo_id is the client id, and
 * session and chain keys are built from it ("ga4:<client id>:<session>").
 */
const ID_COLUMN = /(^|_)(user_id|client_id|user_pseudo_id|session_key|session_id|chain_key|journey_key|credit_session_key|email|phone)$/i;

function isIdColumn(name: string): boolean {
  return ID_COLUMN.test(name);
}

/** A row safe for logs, run history and reports: id-like values replaced by `sha256:<16 hex>`. */
export function pseudonymiseRow(row: Row | undefined): Row | undefined {
  if (!row) return row;
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = isIdColumn(k) ? pseudonym(v) : v;
  return out;
}

function pseudonym(v: Value): Value {
  if (v === null) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "bigint") return `sha256:${hashId(String(v))!.slice(0, 16)}`;
  return "sha256:(not shown)";
}
