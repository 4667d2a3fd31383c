import { DuckDBInstance } from "@duckdb/node-api";
import { installCompat } from "./src/engines/duckdb/translate/compat.ts";
import { translateToDuckDB, defaultTableMapper } from "./src/engines/duckdb/translate/rewrite.ts";
import { startZetaSQL } from "./test/support/zetasql.ts";
const z = await startZetaSQL();
const inst = await DuckDBInstance.create(":memory:"); const c = await inst.connect(); await installCompat(c);
for (const s of process.argv.slice(2)) {
  let zr; try { zr = JSON.stringify(await z.evaluateWithColumns(s)); } catch (e) { zr = "ERR " + (e as Error).message; }
  let t = ""; let dr;
  try { t = translateToDuckDB(s, { mapTable: defaultTableMapper }); const r = await c.runAndReadAll(t); dr = JSON.stringify(r.getRowsJS(), (k, v) => typeof v === "bigint" ? v.toString() : v) + " " + r.columnNames().join(","); } catch (e) { dr = "ERR " + (e as Error).message.split("\n")[0]; }
  console.log(s, "\n  duck sql:", t, "\n  zeta:", zr, "\n  duck:", dr);
}
await z.stop();
