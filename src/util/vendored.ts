/**
 * CommonJS packages the build also copies into one file each (dist/vendor/, listed in its manifest.json by
 * scripts/build.mjs, which chooses them): a package of many small files costs every command that loads it the
 * resolving, reading and compiling of each (@duckdb/node-api: ~120 files, ≈ 100 ms; yargs: ≈ 50–90 ms). The compiled
 * CLI loads the copy when it was built from the installed version; from the sources, or after the package was
 * upgraded without a rebuild, the package itself. Everything in dist/ takes these packages from here, so a process
 * holds one instance of each.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

type Manifest = Record<string, { version: string; file: string }>;

const require = createRequire(import.meta.url);
const MANIFEST = new URL("./vendor/manifest.json", import.meta.url);
let manifest: Manifest | null | undefined;

export function requireVendored<T>(name: string): T {
  if (!import.meta.url.endsWith(".ts")) {
    manifest ??= existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest) : null;
    const copy = manifest?.[name];
    if (copy && (require(`${name}/package.json`) as { version: string }).version === copy.version) {
      return require(fileURLToPath(new URL(`./vendor/${copy.file}`, import.meta.url))) as T;
    }
  }
  return require(name) as T;
}
