import { DuckDBInstance } from "@duckdb/node-api";
import { installCompat } from "./src/engines/duckdb/translate/compat.ts";
import { translateStatements, defaultTableMapper } from "./src/engines/duckdb/translate/rewrite.ts";
const inst = await DuckDBInstance.create(":memory:"); const c = await inst.connect(); await installCompat(c);
await c.run(`CREATE SCHEMA s; CREATE TABLE s.t AS SELECT DATE '2024-03-05' AS event_date`);
const variables = new Set<string>();
const pre = translateStatements(`-- comment
DECLARE first_table_suffix STRING DEFAULT (
      SELECT FORMAT_DATE('%Y%m%d', GREATEST(
        DATE_ADD(DATE_SUB(MAX(event_date), INTERVAL 1 DAY), INTERVAL 1 DAY),
        PARSE_DATE('%Y%m%d', '20240101')))
      FROM \`p.s.t\`);`, { mapTable: defaultTableMapper, variables });
const q = translateStatements("SELECT first_table_suffix AS f, CONCAT('intraday_', first_table_suffix) AS g", { mapTable: defaultTableMapper, variables });
console.log(pre, q);
for (const s of [...pre, ...q.slice(0, -1)]) await c.run(s);
console.log((await c.runAndReadAll(q[q.length - 1])).getRowsJS());
