import type { ColumnSchema } from "../engine.ts";

/** GoogleSQL column type → DuckDB type (NUMERIC keeps BigQuery's 38,9: DuckDB's default is 18,3). */
export function duckColumnType(c: ColumnSchema): string {
  let base: string;
  switch (c.type) {
    case "STRING": base = "VARCHAR"; break;
    case "INT64": base = "BIGINT"; break;
    case "FLOAT64": base = "DOUBLE"; break;
    case "NUMERIC": base = "DECIMAL(38,9)"; break;
    case "BOOL": base = "BOOLEAN"; break;
    case "DATE": base = "DATE"; break;
    case "TIMESTAMP": base = "TIMESTAMP"; break;
    case "JSON": base = "JSON"; break;
    case "RECORD":
      base = `STRUCT(${(c.fields ?? []).map((f) => `"${f.name}" ${duckColumnType(f)}`).join(", ")})`;
      break;
  }
  return c.mode === "REPEATED" ? `${base}[]` : base;
}
