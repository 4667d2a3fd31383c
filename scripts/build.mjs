#!/usr/bin/env node
/**
 * Builds the compiled CLI: TypeScript (src/, jobs/) → JavaScript in dist/. The one build every
 * route runs: `npm install`/`npm ci` (the prepare script), `npm run build`, CI and the Dockerfile.
 *
 * In an install without dev dependencies (`npm ci --omit=dev`, the container's runtime stage) the
 * TypeScript compiler is absent: a dist/ copied in from the build stage is kept as it is.
 */
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const entry = path.join(root, "dist", "src", "cli", "main.js");

if (!existsSync(tsc)) {
  if (existsSync(entry)) {
    process.stdout.write("build: TypeScript is not installed (production install); keeping the compiled dist/\n");
    process.exit(0);
  }
  process.stderr.write("build: TypeScript is not installed and there is no dist/: run `npm ci` with dev dependencies, then `npm run build`\n");
  process.exit(1);
}
// A clean build: no compiled file outlives its source.
rmSync(path.join(root, "dist"), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  process.stderr.write("build: tsc failed (see above)\n");
  process.exit(r.status ?? 1);
}
// tsc copies includes/settings.js, which src/config/settings.ts reads for its types only; the runtime reads
// includes/ from the project folder (as Dataform does), so the copy would only mislead.
rmSync(path.join(root, "dist", "includes"), { recursive: true, force: true });

// @duckdb/node-api as one file beside the compiled module that loads it (src/engines/duckdb/node-api.ts):
// its ~120 CommonJS files cost each command ~0.1 s of CPU to find and compile, one file about half of that.
// The native binding stays outside. Without esbuild (it comes with tsx, a dev dependency) the package is used.
const require = createRequire(import.meta.url);
let esbuild;
try {
  esbuild = require("esbuild");
} catch {
  process.stdout.write("build: esbuild is not installed; dist/ loads @duckdb/node-api from node_modules\n");
}
if (esbuild) {
  esbuild.buildSync({
    entryPoints: [require.resolve("@duckdb/node-api")],
    bundle: true,
    platform: "node",
    format: "cjs",
    external: ["@duckdb/node-bindings"],
    outfile: path.join(root, "dist", "src", "engines", "duckdb", "duckdb-node-api.cjs"),
    logLevel: "warning",
  });
}
