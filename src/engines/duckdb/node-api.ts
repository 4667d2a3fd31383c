/**
 * @duckdb/node-api, loaded with require. It is a CommonJS package of ~120 files: imported from an ES
 * module, Node first parses every file with its CommonJS export lexer to find the named exports,
 * which doubled the package's load time (≈ 200 ms → ≈ 100 ms of each command's start). require
 * returns the same module instance an `import` would (one module cache), so values and classes are
 * interchangeable with those of code that imports the package. The compiled CLI loads the build's one-file
 * copy of it instead (src/util/vendored.ts); everything in dist/ takes the package from here.
 */
import { requireVendored } from "../../util/vendored.ts";

type NodeApi = typeof import("@duckdb/node-api");

const duckdb = requireVendored<NodeApi>("@duckdb/node-api");

export const { DuckDBInstance, DuckDBTypeId, DuckDBScalarFunction, DuckDBDateValue, DuckDBTimestampValue, BIGINT, VARCHAR, JSDuckDBValueConverter } = duckdb;
export type DuckDBInstance = import("@duckdb/node-api").DuckDBInstance;
export type DuckDBTypeId = import("@duckdb/node-api").DuckDBTypeId;
