/**
 * Pure conversions at the BigQuery boundary: REST wire rows → `Row`, `Row` → NDJSON for load jobs,
 * table schemas both ways, and the naming rules BigQuery puts on job ids and labels.
 */
import type { ColumnSchema, ColumnType, Row, Value } from "../engine.ts";
import { columnTypeOf } from "../../googlesql/types.ts";

/** A field of a BigQuery REST `TableSchema` (only what we read). */
export interface WireField {
  name?: string | null;
  type?: string | null;
  mode?: string | null;
  fields?: WireField[] | null;
  description?: string | null;
}
/** A REST result row: `{f: [{v}]}`; REPEATED values are `[{v}]`, RECORD values are `{f: […]}`. */
export interface WireRow {
  f?: Array<{ v?: unknown }> | null;
}

export { columnTypeOf };

/**
 * REST schema → ColumnSchema[]. Types outside funnelcredit's closed set (BYTES, DATETIME, TIME,
 * GEOGRAPHY, INTERVAL, RANGE) are reported by `onUnsupported` rather than silently mapped.
 */
export function fromWireSchema(fields: WireField[], onUnsupported: (path: string, type: string) => never, prefix = ""): ColumnSchema[] {
  return fields.map((f) => {
    const name = f.name ?? "";
    const type = columnTypeOf(f.type ?? "");
    if (!type) onUnsupported(prefix + name, f.type ?? "?");
    const col: ColumnSchema = { name, type: type as ColumnType | "RECORD", mode: (f.mode as ColumnSchema["mode"]) ?? "NULLABLE" };
    if (type === "RECORD") col.fields = fromWireSchema(f.fields ?? [], onUnsupported, `${prefix}${name}.`);
    if (f.description) col.description = f.description;
    return col;
  });
}

/** ColumnSchema[] → REST schema fields (standard type names are accepted by the API). */
export function toWireSchema(columns: ColumnSchema[]): WireField[] {
  return columns.map((c) => {
    const f: WireField = { name: c.name, type: c.type, mode: c.mode ?? "NULLABLE" };
    if (c.type === "RECORD") f.fields = toWireSchema(c.fields ?? []);
    if (c.description) f.description = c.description;
    return f;
  });
}

/** INT64 text → number, or bigint beyond ±2^53 (engine.ts Row rules). */
export function int64(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * TIMESTAMP on the wire: int64 microseconds since the epoch (the client asks with
 * formatOptions.useInt64Timestamp=true), float seconds ("1.7E9", older responses) or ISO text.
 * Sub-millisecond digits are dropped: a JS Date holds milliseconds.
 */
function timestampOf(text: string): Date {
  if (/^-?\d+$/.test(text)) return new Date(Math.floor(Number(text) / 1000));
  if (/^-?[\d.]+(E[+-]?\d+)?$/i.test(text)) return new Date(Math.round(Number(text) * 1000));
  return new Date(text);
}

function decodeScalar(field: WireField, v: unknown): Value {
  if (v === null || v === undefined) return null;
  const type = (field.type ?? "").toUpperCase();
  if (type === "RECORD" || type === "STRUCT") return decodeRow(field.fields ?? [], v as WireRow);
  const s = typeof v === "string" ? v : String(v);
  switch (type) {
    case "INTEGER":
    case "INT64":
      return int64(s);
    case "FLOAT":
    case "FLOAT64":
    case "NUMERIC":
    case "BIGNUMERIC":
      return Number(s);
    case "BOOLEAN":
    case "BOOL":
      return s.toLowerCase() === "true";
    case "TIMESTAMP":
      return timestampOf(s);
    default:
      // STRING, DATE ("YYYY-MM-DD" already), JSON (text, as the DuckDB engine returns it),
      // DATETIME, TIME, GEOGRAPHY, BYTES (base64): plain text.
      return s;
  }
}

function decodeValue(field: WireField, v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (field.mode === "REPEATED") {
    return (Array.isArray(v) ? v : []).map((item: { v?: unknown }) => decodeScalar(field, item?.v));
  }
  return decodeScalar(field, v);
}

/** One REST row → a plain object keyed by field name. */
export function decodeRow(fields: WireField[], row: WireRow): Row {
  const out: Row = {};
  const cells = row?.f ?? [];
  fields.forEach((field, i) => {
    out[field.name ?? `f${i}`] = decodeValue(field, cells[i]?.v);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Row → NDJSON for load jobs

function encodeScalar(col: ColumnSchema, v: Value, path: string): unknown {
  if (v === null || v === undefined) return null;
  switch (col.type) {
    case "RECORD":
      if (typeof v !== "object" || Array.isArray(v) || v instanceof Date) throw new TypeError(`${path}: expected an object for RECORD`);
      return encodeRow(col.fields ?? [], v as Row, path + ".");
    case "TIMESTAMP":
      return v instanceof Date ? v.toISOString() : v;
    case "DATE":
      return v instanceof Date ? v.toISOString().slice(0, 10) : v;
    case "FLOAT64":
      // JSON has no NaN or infinities (JSON.stringify writes null); BigQuery reads them from strings.
      if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
      return v;
    case "INT64":
    case "NUMERIC":
      // Beyond 2^53 a JS number has already lost digits; a bigint travels as exact text.
      return typeof v === "bigint" ? v.toString() : v;
    case "JSON":
      // Rows carry JSON as text (as queries return it); the load file wants the JSON value itself.
      if (typeof v === "string") {
        try {
          return JSON.parse(v);
        } catch {
          return v;
        }
      }
      return v;
    default:
      return typeof v === "bigint" ? v.toString() : v;
  }
}

function encodeValue(col: ColumnSchema, v: Value | undefined, path: string): unknown {
  if (v === null || v === undefined) return col.mode === "REPEATED" ? [] : null;
  if (col.mode === "REPEATED") {
    if (!Array.isArray(v)) throw new TypeError(`${path}: expected an array for REPEATED column`);
    return v.map((item, i) => encodeScalar(col, item, `${path}[${i}]`));
  }
  return encodeScalar(col, v, path);
}

function encodeRow(columns: ColumnSchema[], row: Row, prefix = ""): Record<string, unknown> {
  const known = new Set(columns.map((c) => c.name));
  for (const k of Object.keys(row)) {
    if (!known.has(k)) throw new TypeError(`${prefix}${k}: column is not in the schema (${[...known].join(", ")})`);
  }
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c.name] = encodeValue(c, row[c.name], prefix + c.name);
  return out;
}

/** Rows → newline-delimited JSON in schema column order. Throws TypeError naming the bad cell. */
export function toNdjson(columns: ColumnSchema[], rows: Row[]): string {
  let out = "";
  rows.forEach((r, i) => {
    try {
      out += JSON.stringify(encodeRow(columns, r)) + "\n";
    } catch (e) {
      throw new TypeError(`row ${i}: ${(e as Error).message}`);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Naming rules

/** BigQuery job ids: `[A-Za-z0-9_-]{1,1024}`; anything else becomes `_`. */
export function sanitizeJobId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 1024);
  return s.length ? s : "_";
}

/**
 * BigQuery label rules (https://cloud.google.com/bigquery/docs/labels-intro#requirements):
 * keys and values ≤ 63 characters of lowercase letters, digits, `_` and `-`; keys start with a
 * lowercase letter and are not empty; at most 64 labels. We lowercase, replace other characters
 * by `_`, prefix keys that do not start with a letter with `l_`, and truncate.
 */
export function sanitizeLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    let key = k.toLowerCase().replace(/[^a-z0-9_-]/g, "_");
    if (!/^[a-z]/.test(key)) key = "l_" + key;
    key = key.slice(0, 63);
    out[key] = String(v).toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 63);
    if (Object.keys(out).length >= 64) break;
  }
  return out;
}

/** A number from an API field that may be a decimal string, absent or empty (statistics, totalRows). */
export function optionalNumber(x: string | number | null | undefined): number | undefined {
  if (x === null || x === undefined || x === "") return undefined;
  const n = Number(x);
  return Number.isFinite(n) ? n : undefined;
}
