/**
 * The compiled CLI as a fresh install gets it: HEAD's committed files only (`git archive`), the
 * dependencies, the build script (`node scripts/build.mjs`: what `npm ci`'s prepare step, CI and the
 * Dockerfile's build stage run), then `--help`, `compile`, an import and a run with tsx removed from
 * node_modules, so nothing can be compiled at run time. Docker itself is not needed: the Dockerfile's
 * build stage is `npm ci`, whose only build step is this script.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { exportHead, linkNodeModules } from "./support/project-copy.ts";

function node(cwd: string, args: string[]): { code: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** One tiny fit (8 rows, 1 column, 2 rounds) in the built worker: FitRequest in, FitResponse out. */
function fitInBuiltWorker(file: string): Promise<{ ok: boolean; backend?: string; bytes?: Uint8Array; message?: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file);
    w.once("message", (m: { ok: boolean; backend?: string; bytes?: Uint8Array; message?: string }) => { void w.terminate(); resolve(m); });
    w.once("error", reject);
    w.postMessage({ X: new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]), nRows: 8, nCols: 1, y: new Float32Array([0, 0, 0, 0, 1, 1, 1, 1]), rounds: 2, backend: "wasm", params: {} });
  });
}

describe("compiled CLI from a clean checkout", function () {
  this.timeout(600_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-clean-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(() => {
    exportHead(dir);
    assert.ok(!existsSync(path.join(dir, "dist")), "dist/ is not committed");
    linkNodeModules(dir);
    const build = node(dir, ["scripts/build.mjs"]);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    // From here on no TypeScript can run: the CLI must be plain JavaScript.
    rmSync(path.join(dir, "node_modules", "tsx"));
  });

  it("builds with the script npm's prepare step and the Dockerfile use", () => {
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { scripts: Record<string, string>; bin: Record<string, string> };
    assert.equal(pkg.scripts.prepare, "node scripts/build.mjs");
    assert.equal(pkg.scripts.build, "node scripts/build.mjs");
    assert.match(readFileSync(path.join(dir, "Dockerfile"), "utf8"), /^RUN npm ci$/m);
    assert.ok(existsSync(path.join(dir, "dist", "cli.js")));
    // The XGBoost worker, started by a URL relative to the code that trains.
    assert.ok(existsSync(path.join(dir, "dist", "fit-worker.js")));
    // No import of a .ts file is left in the output. (`import type` lines are not imports of compiled code: TypeScript
    // removes them, so one in the output is text, e.g. the source the benchmark writes for its reference file.)
    const js = (readdirSync(path.join(dir, "dist"), { recursive: true }) as string[]).filter((f) => f.endsWith(".js"));
    for (const f of js) {
      const code = readFileSync(path.join(dir, "dist", f), "utf8").split("\n").filter((l) => !/^\s*import type /.test(l)).join("\n");
      assert.doesNotMatch(code, /from "\.{1,2}\/[^"]*\.ts"|import\("\.{1,2}\/[^"]*\.ts"\)/, f);
    }
  });

  // (@duckdb/node-api and yargs aside: their one-file copies are built apart, in dist/vendor/, and are the only copies a command loads; next test.)
  it("bundles only the project's own code: every package is loaded from node_modules, one instance each", () => {
    // esbuild's metafile, written by the build: what went into the bundle.
    const meta = JSON.parse(readFileSync(path.join(dir, "dist", "meta.json"), "utf8")) as { inputs: Record<string, unknown>; outputs: Record<string, { imports: { path: string; external?: boolean }[] }> };
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.includes("src/cli/main.ts") && inputs.includes("jobs/index.ts"), inputs.join(" "));
    for (const f of inputs) assert.match(f, /^(src|jobs)\//, `${f} is bundled: a package copied into dist/ would be a second instance beside node_modules'`);
    const external = new Set(Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
    for (const p of ["farmhash-modern", "@google-cloud/bigquery", "vega"]) assert.ok(external.has(p), `${p} is imported from node_modules`);
    // And in the output itself: esbuild heads each bundled file with a comment naming its path.
    const js = (readdirSync(path.join(dir, "dist")) as string[]).filter((f) => f.endsWith(".js"));
    for (const f of js) assert.doesNotMatch(readFileSync(path.join(dir, "dist", f), "utf8"), /^\/\/ node_modules\//m, f);
  });

  it("loads @duckdb/node-api and yargs from the build's one-file copies of the installed versions, else from node_modules, never both", () => {
    // The packages the build copies (dist/vendor/, scripts/build.mjs): many small CommonJS files, ≈ 100 ms (DuckDB's)
    // and ≈ 50 ms (yargs') of a command's start-up. Which files a command loads, from Node's module debug lines.
    const manifestFile = path.join(dir, "dist", "vendor", "manifest.json");
    const manifest = readFileSync(manifestFile, "utf8");
    const copies = JSON.parse(manifest) as Record<string, { version: string; file: string }>;
    assert.deepEqual(Object.keys(copies).sort(), ["@duckdb/node-api", "yargs"]);
    for (const [name, { version, file }] of Object.entries(copies)) {
      assert.equal(version, (JSON.parse(readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")) as { version: string }).version, name);
      assert.ok(existsSync(path.join(dir, "dist", "vendor", file)), file);
    }
    const loads = (): { code: number | null; copies: boolean; packages: boolean } => {
      const w = path.join(dir, ".funnelcredit", `vendor-${Math.random().toString(36).slice(2)}.duckdb`);
      const r = spawnSync(process.execPath, ["bin/funnelcredit.js", "runs", "--warehouse", w], { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "", NODE_DEBUG: "module" } });
      const loaded = r.stderr.split("\n").filter((l) => / load "/.test(l));
      const copy = (f: string): boolean => loaded.some((l) => l.includes(`/dist/vendor/${f}`));
      const pkg = (p: string): boolean => loaded.some((l) => l.includes(p));
      return {
        code: r.status,
        copies: copy(copies["@duckdb/node-api"]!.file) && copy(copies.yargs!.file),
        packages: pkg("/@duckdb/node-api/lib/") || pkg("/node_modules/yargs/build/"),
      };
    };
    assert.deepEqual(loads(), { code: 0, copies: true, packages: false }, "the copies of the installed versions, and nothing from the packages");
    // Packages upgraded without a rebuild: the copies are of other versions, so the packages themselves are loaded.
    writeFileSync(manifestFile, manifest.replace(/"version": "[^"]+"/g, '"version": "0.0.0"'));
    try {
      assert.deepEqual(loads(), { code: 0, copies: false, packages: true }, "the packages, and not copies of other versions");
    } finally {
      writeFileSync(manifestFile, manifest);
    }
  });

  it("prints --help listing every command", () => {
    const r = node(dir, ["bin/funnelcredit.js", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`funnelcredit ${c.name}`));
  });

  it("compiles the project and prints the graph with the jobs merged in", () => {
    const r = node(dir, ["bin/funnelcredit.js", "compile"]);
    assert.equal(r.code, 0, r.stderr);
    const g = JSON.parse(r.stdout) as { actions: { name: string; type: string; dependencies: string[] }[] };
    assert.ok(g.actions.some((a) => a.type === "job" && a.name === "channel_markov"));
    assert.ok(g.actions.some((a) => a.name.endsWith(".sessions") && a.dependencies.length > 0));
  });

  it("imports a GA4 export and runs a model on DuckDB (schema JSON and SQL macros found from dist/)", () => {
    importAndStage(dir);
  });

  /** `import ga4` of a small export, then a run of the GA4 staging model on it, from the CLI built in `root`. */
  function importAndStage(root: string): void {
    const w = path.join(root, ".funnelcredit", "w.duckdb");
    const imp = node(root, ["bin/funnelcredit.js", "import", "ga4", path.join(PROJECT_DIR, "test", "fixtures", "import", "ga4_good.ndjson"), "--warehouse", w]);
    assert.equal(imp.code, 0, imp.stderr);
    // A model (SQL macros from sql/) and, after it, a run that writes its HTML report (the report's chunk and Vega).
    const run = node(root, ["bin/funnelcredit.js", "run", "--warehouse", w, "--actions", "funnelcredit_staging.stg_ga4_events", "--json"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const last = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { event: string; status: string; succeeded: number };
    assert.deepEqual([last.event, last.status], ["run_finished", "succeeded"]);
    assert.ok(last.succeeded >= 1);
  }

  it("runs from what the container's runtime stage holds: dist/ without src/, jobs/ or dev packages (no file missing from the build)", async () => {
    // The Dockerfile's runtime stage: the built dist/, bin/, the project's runtime folders and production
    // packages. The build tools and the TypeScript sources are gone, so a file the bundle failed to carry
    // (or still read from src/ or jobs/) fails here.
    const rt = mkdtempSync(path.join(os.tmpdir(), "fc-runtime-"));
    try {
      for (const p of ["package.json", "dist", "bin", "sql", "includes", "definitions", "workflow_settings.yaml"]) cpSync(path.join(dir, p), path.join(rt, p), { recursive: true });
      linkNodeModules(rt);
      const pkg = JSON.parse(readFileSync(path.join(rt, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
      for (const name of [...Object.keys(pkg.devDependencies), "@esbuild"]) rmSync(path.join(rt, "node_modules", name.startsWith("@") ? name.split("/")[0]! : name), { recursive: true, force: true });
      for (const name of ["esbuild", "tsx", "typescript"]) assert.ok(!existsSync(path.join(rt, "node_modules", name)), name);
      const help = node(rt, ["bin/funnelcredit.js", "--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stderr, "");
      const compiled = node(rt, ["bin/funnelcredit.js", "compile"]);
      assert.equal(compiled.code, 0, compiled.stderr);
      assert.ok((JSON.parse(compiled.stdout) as { actions: { name: string }[] }).actions.some((a) => a.name === "channel_markov"));
      importAndStage(rt);
      // The XGBoost worker the jobs start (dist/fit-worker.js, its own bundle) fits with the WASM backend from node_modules.
      const fitted = await fitInBuiltWorker(path.join(rt, "dist", "fit-worker.js"));
      assert.equal(fitted.ok, true, fitted.message);
      assert.equal(fitted.backend, "wasm");
      assert.ok((fitted.bytes?.length ?? 0) > 0);
    } finally {
      rmSync(rt, { recursive: true, force: true });
    }
  });

  it("warns when a source file changed after the build (the CLI would run old code)", () => {
    assert.equal(node(dir, ["bin/funnelcredit.js", "--help"]).stderr, "");
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, "src", "util", "sql.ts"), later, later);
    const r = node(dir, ["bin/funnelcredit.js", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /src\/util\/sql\.ts changed after the last build: run `npm run build`/);
  });
});

describe("command registry", () => {
  it("lists each command with its module's own name and description", async () => {
    for (const c of COMMANDS) {
      const m = await c.load();
      assert.equal(m.command, c.command);
      assert.equal(m.describe, c.describe);
    }
  });
});
