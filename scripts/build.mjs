#!/usr/bin/env node
/**
 * Builds the compiled CLI: the TypeScript of src/ and jobs/ bundled by esbuild into dist/cli.js (plus
 * the XGBoost worker, dist/fit-worker.js, and the chunks the commands load on demand). The one build
 * every route runs: `npm install`/`npm ci` (the prepare script), `npm run build`, CI and the Dockerfile.
 *
 * Why a bundle: a command used to load ~150 compiled ES modules one by one (resolve, read, parse, link),
 * a third of its start-up (issue 15). Every package in node_modules stays external, loaded from
 * node_modules at run time as before: one instance of each (@dataform/core, …), and the runtime needs no
 * build tool. The exceptions, built apart below: @duckdb/node-api's and yargs' JavaScript, one file each (dist/vendor/). Each command stays a chunk of its own (esbuild's code splitting of
 * the dynamic imports), so `--help` and `run` never load the report's or the BigQuery client's packages.
 * Types are not checked here (esbuild strips them): `npm run typecheck` and `npm test` check them.
 *
 * In an install without dev dependencies (`npm ci --omit=dev`, the container's runtime stage) esbuild
 * is absent: a dist/ copied in from the build stage is kept as it is.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, "dist");
const entry = path.join(dist, "cli.js");

let esbuild;
try {
  esbuild = createRequire(path.join(root, "package.json"))("esbuild");
} catch {
  if (existsSync(entry)) {
    process.stdout.write("build: esbuild is not installed (production install); keeping the compiled dist/\n");
    process.exit(0);
  }
  process.stderr.write("build: esbuild is not installed and there is no dist/: run `npm ci` with dev dependencies, then `npm run build`\n");
  process.exit(1);
}

// A clean build: no output outlives its source.
rmSync(dist, { recursive: true, force: true });
let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    // The workers are started by URL from the code that trains or explains (`new URL("./fit-worker.js", import.meta.url)`):
    // an entry of its own, beside the chunks (no chunk folder), so that URL finds it from any chunk.
    entryPoints: { cli: "src/cli/main.ts", "fit-worker": "src/models/xgboost/fit-worker.ts", "forest-team-worker": "src/models/xgboost/forest-team-worker.ts" },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
  });
} catch {
  process.stderr.write("build: esbuild failed (see above)\n");
  process.exit(1);
}

// CommonJS packages of many small files, each also bundled into one file of its own, which the compiled CLI loads
// while the version it was built from is installed (src/util/vendored.ts, through dist/vendor/manifest.json):
// resolving, reading and compiling @duckdb/node-api's ~120 files took ≈ 100 ms of every warehouse command, yargs'
// ≈ 50–90 ms of every command. What each leaves external: its native library (@duckdb/node-bindings).
const VENDORED = { "@duckdb/node-api": ["@duckdb/node-bindings"], yargs: [] };
const projectRequire = createRequire(path.join(root, "package.json"));
const manifest = {};
for (const [name, external] of Object.entries(VENDORED)) {
  const { version } = projectRequire(`${name}/package.json`);
  const file = `${name.replace(/^@/, "").replace(/\//g, "-")}-${version}.cjs`;
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: [projectRequire.resolve(name)],
      outfile: path.join(dist, "vendor", file),
      bundle: true, format: "cjs", platform: "node", target: "node20", external, logLevel: "warning",
    });
  } catch {
    process.stderr.write(`build: esbuild failed to bundle ${name} (see above)\n`);
    process.exit(1);
  }
  manifest[name] = { version, file };
}
writeFileSync(path.join(dist, "vendor", "manifest.json"), JSON.stringify(manifest, null, 2));

// What went into the bundle, for checks (test/compiled-cli.test.ts: no package from node_modules inside).
writeFileSync(path.join(dist, "meta.json"), JSON.stringify(result.metafile));
// The sources built, for bin/funnelcredit.js's warning when one changed after the build: a list to stat
// costs a few milliseconds of each command, walking src/ and jobs/ several times that.
writeFileSync(path.join(dist, "sources.json"), JSON.stringify(Object.keys(result.metafile.inputs).sort()));
const bundled = Object.keys(result.metafile.inputs).filter((f) => f.split(/[\\/]/).includes("node_modules"));
if (bundled.length > 0) {
  process.stderr.write(`build: packages from node_modules were bundled (they must stay external, one instance each): ${bundled.join(", ")}\n`);
  process.exit(1);
}
// Files the code opens by a URL relative to itself must sit where that URL points in dist/.
for (const f of readdirSync(dist).filter((n) => n.endsWith(".js"))) {
  for (const [, args] of readFileSync(path.join(dist, f), "utf8").matchAll(/new URL\(([^;]*?), import\.meta\.url\)/g)) {
    // The compiled branch of e.g. `import.meta.url.endsWith(".ts") ? "./fit-worker.ts" : "./fit-worker.js"`.
    for (const [, rel] of args.matchAll(/"(\.{1,2}\/[^"]+\.js)"/g)) {
      if (!existsSync(path.join(dist, rel))) {
        process.stderr.write(`build: dist/${f} opens ${rel} relative to itself, which the build did not write\n`);
        process.exit(1);
      }
    }
  }
}
