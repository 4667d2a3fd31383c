import { DuckDBInstance } from "@duckdb/node-api";
const inst = await DuckDBInstance.create(":memory:"); const c = await inst.connect();
await c.run("SET VARIABLE a = 1;\nSET VARIABLE b = 2");
console.log((await c.runAndReadAll("SELECT getvariable('a'), getvariable('b')")).getRowsJS());
