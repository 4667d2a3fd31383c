import { translateToDuckDB, defaultTableMapper } from "./src/engines/duckdb/translate/rewrite.ts";
import { readFileSync } from "node:fs";
const cases = [...JSON.parse(readFileSync("/work/shared/data/googlesql-conformance/cases.json","utf8")), ...JSON.parse(readFileSync("/work/shared/data/googlesql-conformance/cases2.json","utf8"))];
for (const [n, s] of cases) {
  try { console.log(n, "::", translateToDuckDB(s, { mapTable: defaultTableMapper })); }
  catch (e) { console.log(n, "!! ", (e as Error).message); }
}
