/**
 * Feature typing and encoding of tabular rows (lead tables with arbitrary extra columns) into the
 * row-major Float32Array the XGBoost engine takes. The fitted encoder is plain JSON, so scoring runs
 * apply exactly the training-time encoding. Pure functions, no I/O.
 *
 * Encoding (documented contract):
 * - numeric: the number itself; NULL/NaN/±∞ → NaN (XGBoost learns a default direction for missing).
 *   An exact −1 becomes −0.99999994 (the next float32 above −1), because the WASM XGBoost build reads
 *   an exact −1 as missing (notes/xgboost-wasm.md); no split can separate the two values.
 * - boolean: 1 / 0; NULL → NaN. Strings count as booleans when every non-empty value is one of
 *   yes/no, true/false, y/n, 1/0 (case-insensitive).
 * - categorical, `one_hot` (default): one 0/1 column per kept level plus `name=__rare__` for levels seen
 *   fewer than `minLevelCount` times in training, beyond the `maxLevels` most frequent, or unseen at
 *   scoring time. NULL → NaN in every column of the feature (missing handled natively, not a level).
 * - categorical, `ordinal` (target-free): the level's frequency rank in training (0 = most frequent,
 *   ties by name), rare/unseen → the next rank, NULL → NaN. Uses no label, so it cannot leak.
 */
import type { Row, Value } from "../engines/engine.ts";
import { ModelInputError } from "./numeric.ts";

type FeatureKind = "numeric" | "boolean" | "categorical";

export interface FeatureSpec {
  name: string;
  kind: FeatureKind;
}

export interface SkippedColumn {
  name: string;
  reason: string;
}

const RARE_LEVEL = "__rare__";
/** float32 just above −1: see the module comment. */
export const MINUS_ONE_SUBSTITUTE = Math.fround(-0.99999994);

const TRUE_WORDS = new Set(["yes", "true", "y", "1", "t"]);
const FALSE_WORDS = new Set(["no", "false", "n", "0", "f"]);

/** Normalised cell: null for missing (NULL, empty or blank string, NaN). */
function cell(v: Value | undefined): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") {
    const t = v.trim();
    return t === "" ? null : t;
  }
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
}

/**
 * Type each candidate column from its values: numbers/bigints → numeric; booleans (or yes/no-like
 * strings) → boolean; other strings → categorical. Skipped (with the reason): columns of dates or
 * timestamps (use derived numeric features instead), nested values, columns with one distinct value
 * (constant, or all missing), and string columns whose values are all distinct on more than 50 rows
 * (an id, useless and a memorisation risk).
 * Complexity O(rows × columns).
 */
export function inferFeatureKinds(rows: readonly Row[], columns: readonly string[]): { features: FeatureSpec[]; skipped: SkippedColumn[] } {
  const features: FeatureSpec[] = [];
  const skipped: SkippedColumn[] = [];
  for (const name of columns) {
    let nNum = 0, nBool = 0, nStr = 0, nOther = 0, nDate = 0;
    const distinct = new Set<string>();
    let boolLike = true;
    for (const r of rows) {
      const v = cell(r[name]);
      if (v === null) continue;
      if (typeof v === "number" || typeof v === "bigint") nNum++;
      else if (typeof v === "boolean") nBool++;
      else if (typeof v === "string") {
        nStr++;
        const l = v.toLowerCase();
        if (!TRUE_WORDS.has(l) && !FALSE_WORDS.has(l)) boolLike = false;
      } else if (v instanceof Date) nDate++;
      else nOther++;
      if (distinct.size <= rows.length) distinct.add(typeof v === "object" ? JSON.stringify(v) : String(v));
    }
    if (nDate > 0) skipped.push({ name, reason: "date/timestamp column (derive a numeric feature in SQL instead)" });
    else if (nOther > 0) skipped.push({ name, reason: "nested values (arrays or structs)" });
    else if (distinct.size <= 1) skipped.push({ name, reason: distinct.size === 0 ? "all values missing" : "constant" });
    else if (nStr > 0 && nNum + nBool === 0 && boolLike) features.push({ name, kind: "boolean" });
    else if (nStr > 0) {
      if (distinct.size === nStr && nStr > 50) skipped.push({ name, reason: "every value distinct (an id)" });
      else features.push({ name, kind: "categorical" });
    } else if (nBool > 0 && nNum === 0) features.push({ name, kind: "boolean" });
    else features.push({ name, kind: "numeric" });
  }
  return { features, skipped };
}

export type CategoricalEncoding = "one_hot" | "ordinal";

interface EncoderOptions {
  categorical?: CategoricalEncoding;
  /** A level needs at least this many training rows to get its own column; default 10. */
  minLevelCount?: number;
  /** At most this many levels per feature (the most frequent); default 30. */
  maxLevels?: number;
}

interface EncodedFeature {
  name: string;
  kind: FeatureKind;
  /** Categorical: kept levels, most frequent first (ties by name). */
  levels?: string[];
  /** Output columns of this feature, in order. */
  columns: string[];
}

const ENCODER_JSON_TYPE = "funnelcredit.encoder";

export interface Encoder {
  type: typeof ENCODER_JSON_TYPE;
  version: 1;
  categorical: CategoricalEncoding;
  features: EncodedFeature[];
  /** All output column names (the model's feature names), in order. */
  columns: string[];
}

function toBool(v: Value): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" || typeof v === "bigint") return Number(v) !== 0 ? 1 : 0;
  const l = String(v).toLowerCase();
  if (TRUE_WORDS.has(l)) return 1;
  if (FALSE_WORDS.has(l)) return 0;
  return NaN;
}

function toNum(v: Value): number {
  const n = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  if (!Number.isFinite(n)) return NaN;
  return n === -1 ? MINUS_ONE_SUBSTITUTE : n;
}

/**
 * Fit the encoding on training rows (levels and rare buckets come from these rows only).
 * Complexity O(rows × features + levels log levels).
 */
export function fitEncoder(rows: readonly Row[], specs: readonly FeatureSpec[], opts: EncoderOptions = {}): Encoder {
  const categorical = opts.categorical ?? "one_hot";
  const minCount = opts.minLevelCount ?? 10;
  const maxLevels = opts.maxLevels ?? 30;
  if (!Number.isInteger(maxLevels) || maxLevels < 1) throw new ModelInputError(`fitEncoder: maxLevels must be an integer ≥ 1, got ${maxLevels}`);
  const features: EncodedFeature[] = specs.map((s) => {
    if (s.kind !== "categorical") return { name: s.name, kind: s.kind, columns: [s.name] };
    const counts = new Map<string, number>();
    for (const r of rows) {
      const v = cell(r[s.name]);
      if (v !== null) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    }
    const levels = [...counts.entries()]
      .filter(([, c]) => c >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxLevels)
      .map(([l]) => l);
    const columns = categorical === "one_hot" ? [...levels, RARE_LEVEL].map((l) => `${s.name}=${l}`) : [s.name];
    return { name: s.name, kind: "categorical", levels, columns };
  });
  return { type: ENCODER_JSON_TYPE, version: 1, categorical, features, columns: features.flatMap((f) => f.columns) };
}

/**
 * Encode rows with a fitted encoder into a row-major Float32Array (`encoder.columns.length` columns).
 * Missing columns in a row count as missing values. Complexity O(rows × columns).
 */
export function encodeRows(encoder: Encoder, rows: readonly Row[]): Float32Array {
  const C = encoder.columns.length;
  const X = new Float32Array(rows.length * C);
  const levelIndex = encoder.features.map((f) => new Map((f.levels ?? []).map((l, i) => [l, i])));
  rows.forEach((r, i) => {
    let c = i * C;
    encoder.features.forEach((f, fi) => {
      const v = cell(r[f.name]);
      if (f.kind === "numeric") X[c++] = v === null ? NaN : toNum(v);
      else if (f.kind === "boolean") X[c++] = v === null ? NaN : toBool(v);
      else {
        const k = f.levels!.length;
        const idx = v === null ? -1 : levelIndex[fi]!.get(String(v)) ?? k;
        if (encoder.categorical === "ordinal") X[c++] = idx < 0 ? NaN : idx;
        else {
          for (let j = 0; j <= k; j++) X[c + j] = idx < 0 ? NaN : idx === j ? 1 : 0;
          c += k + 1;
        }
      }
    });
  });
  return X;
}

/** For each output column, the index of its source feature in `encoder.features`. */
export function columnSources(encoder: Encoder): Int32Array {
  const out = new Int32Array(encoder.columns.length);
  let c = 0;
  encoder.features.forEach((f, fi) => {
    for (let j = 0; j < f.columns.length; j++) out[c++] = fi;
  });
  return out;
}

/**
 * Human-readable value of a feature in a row, for explanations: categorical → the level as encoded
 * (rare/unseen levels → "__rare__"), missing → "missing", numbers as given.
 */
export function describeValue(encoder: Encoder, featureIndex: number, row: Row): string {
  const f = encoder.features[featureIndex]!;
  const v = cell(row[f.name]);
  if (v === null) return "missing";
  if (f.kind === "categorical") return f.levels!.includes(String(v)) ? String(v) : RARE_LEVEL;
  if (f.kind === "boolean") return toBool(v) === 1 ? "true" : "false";
  const n = toNum(v);
  return Number.isFinite(n) ? String(Math.round(n * 1000) / 1000) : "missing";
}

/** Checks the tagged JSON of an encoder. @throws ModelInputError naming the problem. */
export function loadEncoder(json: unknown): Encoder {
  const o = (typeof json === "string" ? JSON.parse(json) : json) as Partial<Encoder> | null;
  if (!o || o.type !== ENCODER_JSON_TYPE || o.version !== 1 || !Array.isArray(o.features) || !Array.isArray(o.columns)) {
    throw new ModelInputError(`not a funnelcredit encoder (expected type "${ENCODER_JSON_TYPE}", version 1)`);
  }
  return o as Encoder;
}
