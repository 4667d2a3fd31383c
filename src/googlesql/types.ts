/** GoogleSQL type names: the legacy REST names (`INTEGER`, `RECORD`…) and standard names → our closed `ColumnType`. */
import type { ColumnType } from "../engines/engine.ts";

const TYPE_ALIASES: Record<string, ColumnType | "RECORD"> = {
  STRING: "STRING",
  INTEGER: "INT64",
  INT64: "INT64",
  FLOAT: "FLOAT64",
  FLOAT64: "FLOAT64",
  NUMERIC: "NUMERIC",
  BIGNUMERIC: "NUMERIC",
  BOOLEAN: "BOOL",
  BOOL: "BOOL",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
  JSON: "JSON",
  RECORD: "RECORD",
  STRUCT: "RECORD",
};

/** The legacy REST type name (`INTEGER`, `RECORD`…) or standard name → our closed `ColumnType`. */
export function columnTypeOf(wireType: string): ColumnType | "RECORD" | undefined {
  return TYPE_ALIASES[wireType.toUpperCase()];
}
