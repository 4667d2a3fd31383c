/**
 * The lead encoder (src/models/encoding.ts) as GoogleSQL over the columns of `lead_features`: the same
 * cleaning (`cell`), typing (`toNum`, `toBool`) and one-hot / ordinal codes as `encodeRows`. Pure functions.
 */
import { MINUS_ONE_SUBSTITUTE, type Encoder } from "../models/encoding.ts";
import { sqlString } from "../util/sql.ts";
import { float64Literal } from "./numbers.ts";

/**
 * The characters JavaScript's String.prototype.trim removes (ECMA-262 WhiteSpace and LineTerminator),
 * as a GoogleSQL literal for TRIM(value, characters): the encoder trims strings before matching levels.
 */
const JS_WHITESPACE = "'\\t\\n\\x0b\\f\\r \\u00a0\\u1680\\u2000\\u2001\\u2002\\u2003\\u2004\\u2005\\u2006\\u2007\\u2008\\u2009\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff'";

/** A backtick-quoted column name. */
function columnRef(name: string): string {
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

/** The trimmed text of a column, NULL when NULL, empty or blank (`cell` in encoding.ts). */
function cleanText(column: string): string {
  return `NULLIF(TRIM(CAST(${columnRef(column)} AS STRING), ${JS_WHITESPACE}), '')`;
}

/**
 * One cleaned value per source feature, by kind:
 * - numeric: the FLOAT64, NULL for NaN/±∞ (BETWEEN the largest finite values is false for both), −1 replaced
 *   by the float32 just above it (the WASM build reads −1 as missing);
 * - boolean: 1 / 0 from yes/no-like words (BOOL columns cast to 'true'/'false'), NULL otherwise;
 * - categorical: the trimmed text.
 * A feature whose column the source lacks is NULL (missing) in every row.
 */
export function cleanedFeatureSql(encoder: Encoder, hasColumn: (name: string) => boolean = () => true): string[] {
  return encoder.features.map((f) => {
    // A column the table lacks is missing in every row, as `encodeRows` reads an absent key.
    if (!hasColumn(f.name)) return f.kind === "categorical" ? "CAST(NULL AS STRING)" : "CAST(NULL AS FLOAT64)";
    if (f.kind === "numeric") {
      const v = `CAST(${columnRef(f.name)} AS FLOAT64)`;
      return `CASE WHEN ${v} = -1 THEN ${float64Literal(MINUS_ONE_SUBSTITUTE)} WHEN ${v} BETWEEN -1.7976931348623157e+308 AND 1.7976931348623157e+308 THEN ${v} END`;
    }
    if (f.kind === "boolean") {
      return `CASE LOWER(${cleanText(f.name)}) WHEN 'yes' THEN 1 WHEN 'true' THEN 1 WHEN 'y' THEN 1 WHEN '1' THEN 1 WHEN 't' THEN 1 WHEN 'no' THEN 0 WHEN 'false' THEN 0 WHEN 'n' THEN 0 WHEN '0' THEN 0 WHEN 'f' THEN 0 END`;
    }
    return cleanText(f.name);
  });
}

/**
 * The encoded columns (the model's features, in order) as expressions of the cleaned values
 * (`cleaned(i)` names source feature i's cleaned column).
 */
export function encodedFeatureSql(encoder: Encoder, cleaned: (i: number) => string): string[] {
  const out: string[] = [];
  encoder.features.forEach((f, i) => {
    const s = cleaned(i);
    if (f.kind !== "categorical") {
      out.push(`CAST(${s} AS FLOAT64)`);
      return;
    }
    const levels = f.levels ?? [];
    if (encoder.categorical === "ordinal") {
      const whens = levels.map((l, k) => `WHEN ${s} = ${sqlString(l)} THEN ${k}`).join(" ");
      out.push(`CAST(CASE WHEN ${s} IS NULL THEN NULL ${whens} ELSE ${levels.length} END AS FLOAT64)`);
      return;
    }
    for (const l of levels) out.push(`IF(${s} IS NULL, NULL, IF(${s} = ${sqlString(l)}, 1.0, 0.0))`);
    const kept = levels.length ? `${s} IN (${levels.map(sqlString).join(", ")})` : "FALSE";
    out.push(`IF(${s} IS NULL, NULL, IF(${kept}, 0.0, 1.0))`);
  });
  return out;
}
