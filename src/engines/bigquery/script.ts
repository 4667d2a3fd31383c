/** Statements → one BigQuery script (DECLAREs first, DML in one transaction). */
import { scriptPart } from "../../googlesql/script.ts";

const DML = /^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE\s+TABLE|SELECT|WITH)\b/i;
const DECLARE = /^\s*DECLARE\b/i;
/** A statement without the comments before its first keyword (a model's pre-operation starts with its reasons). */
const code = (s: string): string => s.replace(/^(\s*(--|#)[^\n]*\n|\s*\/\*[\s\S]*?\*\/)*/, "");

/**
 * Statements → one script. Several DML statements run in one transaction so they take effect
 * together: outside a transaction each statement of a BigQuery script commits on its own, so a
 * failed INSERT after a DELETE would leave the partitions deleted. A script may DECLARE its
 * variables first and then BEGIN TRANSACTION
 * (https://cloud.google.com/bigquery/docs/transactions, DECLARE must come first:
 * https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#declare).
 * BigQuery does not allow DDL creating permanent tables inside a transaction, so scripts with
 * DDL run as given (the runner orders them so a failure leaves the old table).
 */
export function buildScript(statements: string[]): string {
  const parts = statements.map(scriptPart).filter((s) => s.length > 0);
  let k = 0;
  while (k < parts.length && DECLARE.test(code(parts[k]!))) k++;
  const declares = parts.slice(0, k);
  const body = parts.slice(k);
  if (body.length > 1 && body.every((s) => DML.test(code(s))) && !body.some((s) => /^\s*BEGIN\b/i.test(code(s)))) {
    return [...declares, "BEGIN TRANSACTION", ...body, "COMMIT TRANSACTION"].join(";\n") + ";";
  }
  return parts.join(";\n");
}

