/**
 * Worker threads of the XGBoost code (the fit worker, a ForestTeam's workers), started the same way from TypeScript (tsx)
 * and from the compiled dist/.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { XGBoostError } from "./errors.ts";

/**
 * Starts the worker. When this engine runs as TypeScript (tsx: mocha's `--import tsx`, `npx tsx`),
 * node 20 does not apply the parent's module hooks inside worker threads, even with `--import tsx` in
 * the worker's execArgv ("Unknown file extension .ts"). So a small eval bootstrap registers tsx's ESM
 * hooks in the worker first (`tsx/esm/api` register()), then imports the .ts entry. A compiled .js
 * entry is started directly.
 */
export function startWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, { stdout: false, stderr: false });
  // createRequire rather than import.meta.resolve: under mocha, tsx may load this file as CommonJS,
  // where import.meta only has `url`.
  const bootstrap = `import(${JSON.stringify(tsxEsmApiUrl())}).then((api) => api.register()).then(() => import(${JSON.stringify(entry.href)}))`;
  return new Worker(bootstrap, { eval: true, stdout: false, stderr: false });
}

/**
 * URL of tsx's ESM API (`tsx/esm/api`, import condition), read from tsx's own exports map.
 * Not `import.meta.resolve` (under mocha tsx may load this file as CommonJS, where import.meta only has
 * `url`) and not `require.resolve` (gives the .cjs variant, which fails to register from a worker).
 * tsx's `--import` loader itself skips registration outside the main thread on node 20.
 */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports?.["./esm/api"]?.import?.default;
  if (!rel) throw new XGBoostError("cannot locate tsx/esm/api to run the XGBoost worker under tsx", "engine");
  return pathToFileURL(path.join(path.dirname(pkgPath), rel)).href;
}
