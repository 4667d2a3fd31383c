/**
 * @duckdb/node-api, loaded with require. It is a CommonJS package of ~120 files: imported from an ES
 * module, Node first parses every file with its CommonJS export lexer to find the named exports,
 * which doubled the package's load time (≈ 200 ms → ≈ 100 ms of each command's start). require
 * returns the same module instance an `import` would (one module cache), so values and classes are
 * interchangeable with those of code that imports the package. The compiled CLI loads the build's one-file
 * copy of it instead (`load` below); everything in dist/ takes the package from here, so a process holds one.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

type NodeApi = typeof import("@duckdb/node-api");

const require = createRequire(import.meta.url);

/**
 * In the compiled CLI (dist/), the package's own bundle that scripts/build.mjs wrote beside the chunks, if it was
 * built from the installed version (≈ 100 ms less start-up: one file instead of ~120); from the sources, or after
 * the package was upgraded without a rebuild, the package itself.
 */
function load(): NodeApi {
  if (!import.meta.url.endsWith(".ts")) {
    const { version } = require("@duckdb/node-api/package.json") as { version: string };
    const bundled = new URL(`./vendor/duckdb-node-api-${version}.cjs`, import.meta.url);
    if (existsSync(bundled)) return require(fileURLToPath(bundled)) as NodeApi;
  }
  return require("@duckdb/node-api") as NodeApi;
}

const duckdb = load();

export const { DuckDBInstance, DuckDBTypeId, DuckDBScalarFunction, DuckDBDateValue, DuckDBTimestampValue, BIGINT, VARCHAR } = duckdb;
export type DuckDBInstance = import("@duckdb/node-api").DuckDBInstance;
export type DuckDBTypeId = import("@duckdb/node-api").DuckDBTypeId;
