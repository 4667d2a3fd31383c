/**
 * Dataform's compiled graph, cached by everything it is computed from: the files under
 * definitions/ and includes/, workflow_settings.yaml, the installed @dataform/core and
 * @dataform/cli versions, funnelcredit's own version and the --vars (and default database). The
 * key is a SHA-256 of their contents, so an entry is used exactly when none of them changed, and a
 * change (an edited, added, removed or renamed file, another var) compiles afresh. Entries live in
 * `<project>/.funnelcredit/compile-cache/<key>.json`, or in the folder FUNNELCREDIT_COMPILE_CACHE_DIR names; the
 * newest MAX_ENTRIES are kept. The cache is best effort: an unwritable folder or an unreadable entry only means
 * Dataform runs.
 *
 * One folder can serve several checkouts or copies of a project (CI runs, the test suite's project copies): the key
 * holds the inputs' relative names and bytes, never the project's path, and Dataform's graph names files relative to
 * the project (checked: a copy in another folder compiles to the same bytes), so an entry written for one copy is
 * the right answer for any copy with the same inputs.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../util/package-root.ts";
import { compileDataform, dataformCliPath, type CompileOptions, type DataformCompiled } from "./compile.ts";

/** Bump when the entry's format or what goes into the key changes. */
const CACHE_FORMAT = "1";
/**
 * ≈ 340 KB each, so ≈ 22 MB at most. A project compiled with many --vars sets (dev and prod suffixes, backfills by
 * start_date, the test suite's ~50 sets) kept re-compiling with 10: an entry still in use was pruned by newer ones.
 */
const MAX_ENTRIES = 64;
/** Folders and files Dataform reads to compile a project (besides node_modules). */
const COMPILE_INPUT_DIRS = ["definitions", "includes"];
const COMPILE_INPUT_FILES = ["workflow_settings.yaml"];

/** Names a folder to keep entries in instead of each project's own; relative to the working directory. */
export const COMPILE_CACHE_DIR_ENV = "FUNNELCREDIT_COMPILE_CACHE_DIR";

export function compileCacheDir(projectDir: string): string {
  const given = process.env[COMPILE_CACHE_DIR_ENV]?.trim();
  return given ? path.resolve(given) : path.join(projectDir, ".funnelcredit", "compile-cache");
}

function versionOf(packageJson: string): string {
  try {
    return (JSON.parse(readFileSync(packageJson, "utf8")) as { version?: string }).version ?? "?";
  } catch {
    return "missing";
  }
}

/** The cache key of a compile: SHA-256 over every input's name and bytes, in a fixed order. */
function compileCacheKey(opts: CompileOptions): string {
  const h = createHash("sha256");
  const add = (label: string, value: string | Buffer): void => {
    h.update(`${label}\0${value.length}\0`);
    h.update(value);
  };
  add("format", CACHE_FORMAT);
  add("funnelcredit", versionOf(path.join(packageRoot(), "package.json")));
  add("@dataform/core", versionOf(path.join(opts.projectDir, "node_modules", "@dataform", "core", "package.json")));
  const cli = dataformCliPath(opts.projectDir);
  add("@dataform/cli", versionOf(path.join(path.dirname(path.dirname(cli)), "@dataform", "cli", "package.json")));
  add("vars", JSON.stringify(Object.entries(opts.vars ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  add("defaultDatabase", opts.defaultDatabase ?? "");
  for (const f of COMPILE_INPUT_FILES) {
    const abs = path.join(opts.projectDir, f);
    add(`file:${f}`, existsSync(abs) ? readFileSync(abs) : "(missing)");
  }
  for (const d of COMPILE_INPUT_DIRS) {
    const dir = path.join(opts.projectDir, d);
    if (!existsSync(dir)) {
      add(`dir:${d}`, "(missing)");
      continue;
    }
    const files = (readdirSync(dir, { recursive: true }) as string[])
      .map((f) => path.join(d, f))
      .filter((f) => statSync(path.join(opts.projectDir, f)).isFile())
      .map((f) => f.split(path.sep).join("/"))
      .sort();
    for (const f of files) add(`file:${f}`, readFileSync(path.join(opts.projectDir, f)));
  }
  return h.digest("hex");
}

interface CachedCompile {
  compiled: DataformCompiled;
  /** True when the graph came from the cache (Dataform did not run). */
  cached: boolean;
  key: string;
}

/** `compileDataform`, answered from the cache when the project and the vars are unchanged. */
export async function compileDataformCached(opts: CompileOptions): Promise<CachedCompile> {
  const key = compileCacheKey(opts);
  const dir = compileCacheDir(opts.projectDir);
  const file = path.join(dir, `${key}.json`);
  try {
    const compiled = JSON.parse(readFileSync(file, "utf8")) as DataformCompiled;
    const now = new Date();
    utimesSync(file, now, now);
    return { compiled, cached: true, key };
  } catch {
    // No entry (or an unreadable one): compile.
  }
  const compiled = await compileDataform(opts);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(compiled));
    renameSync(tmp, file);
    prune(dir);
  } catch {
    // A read-only project folder: run without the cache.
  }
  return { compiled, cached: false, key };
}

function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
    .map((f) => ({ f, t: statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const e of entries.slice(MAX_ENTRIES)) rmSync(path.join(dir, e.f), { force: true });
}
