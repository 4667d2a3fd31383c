/**
 * @duckdb/node-api, loaded with require. It is a CommonJS package of ~120 files: imported from an ES
 * module, Node first parses every file with its CommonJS export lexer to find the named exports,
 * which doubled the package's load time (≈ 200 ms → ≈ 100 ms of each command's start). require
 * returns the same module instance an `import` would (one module cache), so values and classes are
 * interchangeable with those of code that imports the package.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

type NodeApi = typeof import("@duckdb/node-api");

/**
 * The compiled CLI loads the build's one-file copy of the package (scripts/build.mjs writes it beside the
 * compiled form of this module), half the start-up cost of its ~120 files; the sources (tsx, tests) load
 * the package. Only this module loads it, so there is one instance either way.
 */
const BUNDLED = fileURLToPath(new URL("./duckdb-node-api.cjs", import.meta.url));
const duckdb = createRequire(import.meta.url)(existsSync(BUNDLED) ? BUNDLED : "@duckdb/node-api") as NodeApi;

export const { DuckDBInstance, DuckDBTypeId, DuckDBScalarFunction, DuckDBDateValue, DuckDBTimestampValue, BIGINT, VARCHAR } = duckdb;
export type DuckDBInstance = import("@duckdb/node-api").DuckDBInstance;
export type DuckDBTypeId = import("@duckdb/node-api").DuckDBTypeId;
