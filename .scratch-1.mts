import { translateToDuckDB, defaultTableMapper } from "./src/engines/duckdb/translate/rewrite.ts";
for (const s of process.argv.slice(2)) { try { console.log(translateToDuckDB(s, { mapTable: defaultTableMapper })); } catch (e) { console.log("!!", (e as Error).message); } }
