/** GoogleSQL column types and schemas, and the type names (legacy REST and standard) that map onto them. */

/** GoogleSQL column types the engines read and write. */
export type ColumnType =
  | "STRING"
  | "INT64"
  | "FLOAT64"
  | "NUMERIC"
  | "BOOL"
  | "DATE"
  | "TIMESTAMP"
  | "JSON";

export interface ColumnSchema {
  name: string;
  type: ColumnType | "RECORD";
  mode?: "NULLABLE" | "REQUIRED" | "REPEATED";
  /** Sub-fields of a RECORD column. */
  fields?: ColumnSchema[];
  description?: string;
}

/** The legacy REST names (`INTEGER`, `RECORD`…) and standard names → our closed `ColumnType`. */
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
