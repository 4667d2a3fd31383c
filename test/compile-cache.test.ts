/**
 * The compile cache: Dataform runs again exactly when what it compiles changes (a file under
 * definitions/ or includes/, workflow_settings.yaml, the vars), and never for an unchanged project.
 * Each case is checked on the graph itself, so a stale answer fails on content, not only on the flag. These tests keep
 * their own folders: FUNNELCREDIT_COMPILE_CACHE_DIR, which test/support/compile-cache-dir.cjs sets for every other
 * test, is unset here except where a test sets it itself.
 */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { COMPILE_CACHE_DIR_ENV, compileCacheDir, compileDataformCached } from "../src/compile/cache.ts";
import type { DataformCompiled } from "../src/compile/compile.ts";
import { copyCompilableProject } from "./support/project-copy.ts";

const names = (c: DataformCompiled): string[] => (c.tables ?? []).map((t) => `${t.target.schema}.${t.target.name}`).sort();
const queryOf = (c: DataformCompiled, name: string): string => (c.tables ?? []).find((t) => t.target.name === name)?.query ?? "";

describe("compile cache", function () {
  this.timeout(300_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-compile-cache-"));
  const sharedBefore = process.env[COMPILE_CACHE_DIR_ENV];
  before(() => {
    delete process.env[COMPILE_CACHE_DIR_ENV];
    copyCompilableProject(dir);
  });
  after(() => {
    if (sharedBefore === undefined) delete process.env[COMPILE_CACHE_DIR_ENV];
    else process.env[COMPILE_CACHE_DIR_ENV] = sharedBefore;
    rmSync(dir, { recursive: true, force: true });
  });

  it("compiles an unchanged project once and answers the same graph from the cache", async () => {
    const first = await compileDataformCached({ projectDir: dir });
    assert.equal(first.cached, false);
    const second = await compileDataformCached({ projectDir: dir });
    assert.equal(second.cached, true);
    assert.equal(second.key, first.key);
    assert.deepEqual(second.compiled, first.compiled);
    assert.equal(readdirSync(compileCacheDir(dir)).length, 1);
  });

  it("recompiles when a model file is added, and the new model is in the graph", async () => {
    const probe = path.join(dir, "definitions", "reporting", "cache_probe.sqlx");
    writeFileSync(probe, 'config { type: "view", schema: "funnelcredit_reporting" }\nSELECT 1 AS x\n');
    try {
      const r = await compileDataformCached({ projectDir: dir });
      assert.equal(r.cached, false);
      assert.ok(names(r.compiled).includes("funnelcredit_reporting.cache_probe"));
    } finally {
      rmSync(probe);
    }
    // Back to the original files: the first entry answers again, without the probe.
    const back = await compileDataformCached({ projectDir: dir });
    assert.equal(back.cached, true);
    assert.ok(!names(back.compiled).includes("funnelcredit_reporting.cache_probe"));
  });

  it("recompiles when includes/ or workflow_settings.yaml change", async () => {
    const base = await compileDataformCached({ projectDir: dir });
    assert.equal(base.cached, true);
    appendFileSync(path.join(dir, "includes", "settings.js"), "\n// edited\n");
    const inc = await compileDataformCached({ projectDir: dir });
    assert.equal(inc.cached, false);
    assert.notEqual(inc.key, base.key);
    const settingsFile = path.join(dir, "workflow_settings.yaml");
    appendFileSync(settingsFile, "# edited\n");
    const wf = await compileDataformCached({ projectDir: dir });
    assert.equal(wf.cached, false);
    assert.notEqual(wf.key, inc.key);
  });

  it("recompiles for different vars, with the var in the compiled SQL, and caches each set", async () => {
    const lookback = (await compileDataformCached({ projectDir: dir, vars: { lookback_days: "37" } }));
    assert.equal(lookback.cached, false);
    assert.match(queryOf(lookback.compiled, "conversion_journeys"), /INTERVAL 37 DAY/);
    const other = await compileDataformCached({ projectDir: dir, vars: { lookback_days: "41" } });
    assert.equal(other.cached, false);
    assert.match(queryOf(other.compiled, "conversion_journeys"), /INTERVAL 41 DAY/);
    const again = await compileDataformCached({ projectDir: dir, vars: { lookback_days: "37" } });
    assert.equal(again.cached, true);
    assert.match(queryOf(again.compiled, "conversion_journeys"), /INTERVAL 37 DAY/);
  });

  it("ignores an unreadable entry and compiles instead", async () => {
    const ok = await compileDataformCached({ projectDir: dir });
    writeFileSync(path.join(compileCacheDir(dir), `${ok.key}.json`), "{ not json");
    const r = await compileDataformCached({ projectDir: dir });
    assert.equal(r.cached, false);
    assert.deepEqual(r.compiled, ok.compiled);
  });

  it("keeps entries in FUNNELCREDIT_COMPILE_CACHE_DIR when set: a copy in another folder is answered from the first copy's entry", async () => {
    const shared = mkdtempSync(path.join(os.tmpdir(), "fc-compile-cache-shared-"));
    const a = mkdtempSync(path.join(os.tmpdir(), "fc-compile-cache-a-"));
    const b = mkdtempSync(path.join(os.tmpdir(), "fc-compile-cache-b-"));
    process.env[COMPILE_CACHE_DIR_ENV] = shared;
    try {
      copyCompilableProject(a);
      copyCompilableProject(b);
      const vars = { lookback_days: "43" };
      const first = await compileDataformCached({ projectDir: a, vars });
      assert.equal(first.cached, false);
      assert.deepEqual(readdirSync(shared), [`${first.key}.json`]);
      assert.ok(!existsSync(path.join(a, ".funnelcredit")), "the project's own folder is not written");
      const second = await compileDataformCached({ projectDir: b, vars });
      assert.equal(second.cached, true);
      assert.equal(second.key, first.key);
      assert.deepEqual(second.compiled, first.compiled);
      assert.match(queryOf(second.compiled, "conversion_journeys"), /INTERVAL 43 DAY/);
      // The same folder, another copy with a changed model: compiled, and the change is in its graph.
      appendFileSync(path.join(b, "includes", "settings.js"), "\n// edited\n");
      const edited = await compileDataformCached({ projectDir: b, vars });
      assert.equal(edited.cached, false);
      assert.notEqual(edited.key, first.key);
      assert.equal(readdirSync(shared).length, 2);
    } finally {
      delete process.env[COMPILE_CACHE_DIR_ENV];
      for (const d of [shared, a, b]) rmSync(d, { recursive: true, force: true });
    }
  });
});
