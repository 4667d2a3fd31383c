/** A bare in-memory DuckDB connection in UTC, for importer and generator tests below the engine. */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { LocalLoading } from "../../src/engines/engine.ts";
import { duckLocalLoading } from "../../src/engines/duckdb/local-loading.ts";

export interface OpenDb {
  conn: DuckDBConnection;
  local: LocalLoading;
  close: () => void;
}

export async function openDb(): Promise<OpenDb> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run("SET TimeZone='UTC'");
  return {
    conn,
    local: duckLocalLoading(conn),
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Mocha hooks for a suite whose every test gets a fresh database (openDb, closed after the test) and a fresh folder
 * under os.tmpdir() named from `prefix`: `db` and `dir` are the running test's, `file` writes `content` into its folder.
 */
export function dbAndFolderPerTest(prefix: string): { readonly db: OpenDb; readonly dir: string; file: (name: string, content: string | Buffer) => string } {
  let db: OpenDb | undefined;
  let dir = "";
  beforeEach(async () => {
    db = await openDb();
    dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => db?.close());
  return {
    get db(): OpenDb {
      if (!db) throw new Error("dbAndFolderPerTest: no test is running");
      return db;
    },
    get dir(): string {
      return dir;
    },
    file: (name, content) => {
      const f = path.join(dir, name);
      writeFileSync(f, content);
      return f;
    },
  };
}
