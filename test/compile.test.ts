import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compileDataform, compileErrorFrom } from "../src/compile/compile.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { select, topoLevels } from "../src/dag/dag.ts";
import { CompileError, SettingsError } from "../src/util/errors.ts";
import { linkNodeModules } from "./support/project-copy.ts";
import { PROJECT_DIR, compiledProject } from "./support/warehouse.ts";

describe("compile", () => {
  it("compiles the real project offline, with every job merged in dependency order", async () => {
    const p = await compiledProject();
    const names = new Set(p.graph.actions.map((a) => a.name));
    for (const job of p.jobs) assert.ok(names.has(job.name), `job ${job.name} in graph`);
    const levels = topoLevels(p.graph, select(p.graph, {}));
    const levelOf = (n: string): number => levels.findIndex((l) => l.includes(n));
    const by = (table: string): string => p.graph.actions.find((a) => a.kind !== "job" && a.target.name === table)!.name;
    // SQL aggregate → job → declaration of its output → SQL that reads it
    assert.ok(levelOf(by("funnel_transitions")) < levelOf("funnel_markov"));
    assert.ok(levelOf(by("channel_paths")) < levelOf("channel_markov"));
    assert.ok(levelOf("channel_markov") < levelOf("model_comparison"));
    assert.ok(levelOf("shapley") < levelOf("model_comparison"));
  });

  it("names the bad var when a setting is invalid", async () => {
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { lookback_days: "ninety" }), (e: unknown) =>
      e instanceof SettingsError && /vars\.lookback_days = "ninety": expected a whole number/.test(e.message));
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { funnel_steps: "[{" }), /vars\.funnel_steps .*not valid JSON/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { no_such_setting: "1" }), /unknown setting\(s\) no_such_setting/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { bad_row_warn_share: "0.2" }), /vars\.bad_row_warn_share = "0\.2": expected at most bad_row_max_share \(0\.05\)/);
  });

  it("accepts a setting's former name with a deprecation warning, and refuses it beside the new name", () => {
    const { settings } = loadProjectSettings(PROJECT_DIR, { psi_max: "0.35", reliability_rule: "min_count" });
    assert.equal(settings.leadPsiMax, 0.35);
    assert.equal(settings.owoxReliabilityRule, "min_count");
    assert.deepEqual([...settings.deprecations], [
      "vars.psi_max is deprecated: rename it lead_psi_max (same meaning)",
      "vars.reliability_rule is deprecated: rename it owox_reliability_rule (same meaning)",
    ]);
    assert.equal(loadProjectSettings(PROJECT_DIR, { lead_psi_max: "0.35" }).settings.deprecations.length, 0);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { psi_max: "0.3", lead_psi_max: "0.35" }),
      /vars\.psi_max and vars\.lead_psi_max are both set: psi_max is the former name of lead_psi_max; keep only lead_psi_max/);
    // A bad value under the former name is still named as given.
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { max_channel_share: "2" }), /vars\.ml_max_channel_share \(given as its former name max_channel_share\) = "2": expected a number from 0\.01 to 1 \(given with --vars\)/);
  });

  it("fails Dataform compilation with the setting's message when includes/settings.js rejects a var", async () => {
    await assert.rejects(compileDataform({ projectDir: PROJECT_DIR, vars: { markov_order: "9" } }), (e: unknown) =>
      e instanceof CompileError && /markov_order/.test(e.message));
  });

  it("points a compile error at the file and line of the unresolved ref", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-compile-"));
    mkdirSync(path.join(dir, "definitions"));
    writeFileSync(path.join(dir, "definitions", "b.sqlx"), 'config { type: "table" }\n\nSELECT *\nFROM ${ref("missing_table")}\n');
    // The shapes Dataform 3.0 reports (captured from a real compile): no line numbers.
    const err = compileErrorFrom([
      { fileName: "index.js", message: 'Could not resolve "missing_table"' },
      { fileName: "definitions/b.sqlx", message: 'Missing dependency detected: Action "p.s.b" depends on "{"name":"missing_table","includeDependentAssertions":false}" which does not exist' },
    ], dir);
    assert.equal(err.file, "definitions/b.sqlx");
    assert.equal(err.line, 4);
    assert.match(err.message, /definitions\/b\.sqlx:4: Missing dependency detected: .*"missing_table"/);
  });

  it("points an undefined JS name at its line", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-compile-"));
    mkdirSync(path.join(dir, "definitions"));
    writeFileSync(path.join(dir, "definitions", "c.sqlx"), 'config { type: "view" }\nSELECT 1 AS a,\n  ${nosuchthing.x} AS b\n');
    const err = compileErrorFrom([{ fileName: "definitions/c.sqlx", message: "nosuchthing is not defined" }], dir);
    assert.equal(err.line, 3);
  });

  it("gives the SQL helpers named expressions, and names the helper and its keys when called otherwise", () => {
    // Dataform evaluates includes with `settings` as a global: the same here, from the project's defaults.
    const require = createRequire(import.meta.url);
    const settingsJs = require(path.join(PROJECT_DIR, "includes", "settings.js")) as { parseSettings(v: Record<string, string>): object; sqlString(v: string): string };
    const g = globalThis as { settings?: unknown };
    const before = g.settings;
    g.settings = { ...settingsJs.parseSettings({}), sqlString: settingsJs.sqlString };
    try {
      const helpers = require(path.join(PROJECT_DIR, "includes", "helpers.js")) as Record<string, (...a: unknown[]) => string>;
      assert.match(helpers.channelCase!({ source: "s.src", medium: "s.med", campaign: "s.cmp" }), /^CASE WHEN .*REGEXP_CONTAINS\(IFNULL\(s\.src, ''\).* ELSE CONCAT\(IFNULL\(s\.src, '\(not set\)'\), ' \/ ', IFNULL\(s\.med, '\(not set\)'\)\) END$/);
      assert.match(helpers.stepCase!({ eventName: "e" }), /WHEN e = 'purchase'/);
      assert.doesNotMatch(helpers.stepCase!({ eventName: "e" }), /undefined/);
      assert.throws(() => helpers.channelCase!("source", "medium", "campaign"), /helpers\.channelCase takes named SQL expressions \{ source, medium, campaign \}, got "source"/);
      assert.throws(() => helpers.isExcludedSource!({ source: "s" }), /helpers\.isExcludedSource: missing medium/);
      assert.throws(() => helpers.stepCase!({ eventName: "e", page_path: "p" }), /helpers\.stepCase: unknown page_path/);
    } finally {
      g.settings = before;
    }
  });

  describe("on a busy machine", () => {
    const dataformCoreVersion = (JSON.parse(readFileSync(path.join(PROJECT_DIR, "node_modules", "@dataform", "core", "package.json"), "utf8")) as { version: string }).version;
    /** A tiny project whose compile takes about `seconds` (an include that waits), with Dataform installed as npm ci leaves it. */
    const slowProject = (seconds: number): string => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "fc-compile-slow-"));
      writeFileSync(path.join(dir, "workflow_settings.yaml"), "defaultProject: p\ndefaultDataset: d\ndefaultLocation: EU\n");
      writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "slow", dependencies: { "@dataform/core": dataformCoreVersion } }));
      mkdirSync(path.join(dir, "includes"));
      writeFileSync(path.join(dir, "includes", "slow.js"), `const end = Date.now() + ${seconds * 1000};\nwhile (Date.now() < end) {}\nmodule.exports = { one: 1 };\n`);
      mkdirSync(path.join(dir, "definitions"));
      writeFileSync(path.join(dir, "definitions", "a.sqlx"), 'config { type: "view" }\nSELECT ${slow.one} AS one\n');
      linkNodeModules(dir);
      return dir;
    };
    const withTimeout = async <T>(value: string | undefined, f: () => Promise<T>): Promise<T> => {
      const before = process.env.FUNNELCREDIT_COMPILE_TIMEOUT;
      if (value === undefined) delete process.env.FUNNELCREDIT_COMPILE_TIMEOUT;
      else process.env.FUNNELCREDIT_COMPILE_TIMEOUT = value;
      try {
        return await f();
      } finally {
        if (before === undefined) delete process.env.FUNNELCREDIT_COMPILE_TIMEOUT;
        else process.env.FUNNELCREDIT_COMPILE_TIMEOUT = before;
      }
    };

    it("gives Dataform the time FUNNELCREDIT_COMPILE_TIMEOUT allows, and says how to allow more when it runs out", async () => {
      const dir = slowProject(3);
      await withTimeout("1s", () => assert.rejects(compileDataform({ projectDir: dir }), (e: unknown) =>
        e instanceof CompileError && /timed out/.test(e.message) && /the limit is 1s; set FUNNELCREDIT_COMPILE_TIMEOUT/.test(e.message)));
      const compiled = await withTimeout(undefined, () => compileDataform({ projectDir: dir }));
      assert.ok(compiled.tables?.some((t) => t.target.name === "a"));
    });

    it("refuses a FUNNELCREDIT_COMPILE_TIMEOUT that is not a duration, naming it", async () => {
      await withTimeout("soon", () => assert.rejects(compileDataform({ projectDir: PROJECT_DIR }), (e: unknown) =>
        e instanceof SettingsError && /FUNNELCREDIT_COMPILE_TIMEOUT=soon: expected a duration/.test(e.message)));
    });
  });

  it("refuses a workflow_settings.yaml with dataformCoreVersion (it would npm install on every compile)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-compile-"));
    writeFileSync(path.join(dir, "workflow_settings.yaml"), "defaultProject: p\ndefaultDataset: d\ndefaultLocation: EU\ndataformCoreVersion: 3.0.62\n");
    await assert.rejects(compileDataform({ projectDir: dir }), /remove it/);
  });
});

describe("compile-time vars", () => {
  it("carries override values with commas, quotes and unicode to the models intact", async () => {
    const steps = JSON.stringify([
      { name: "site_visit", match: { non_bounce: true } },
      { name: "view_item", match: { event_name: "view_item" } },
      { name: "purchase", match: { event_name: "purchase" } },
    ]);
    const excluded = JSON.stringify(["(direct) / (none)", "x'; DROP TABLE t; -- é"]);
    const compiled = await compileDataform({ projectDir: PROJECT_DIR, vars: { funnel_steps: steps, excluded_sources: excluded } });
    const sql = JSON.stringify(compiled);
    assert.ok(!sql.includes("add_to_cart"), "the overridden funnel has no add_to_cart step");
    // The hostile value reaches SQL only as an escaped string literal.
    assert.ok(sql.includes("x\\\\'; DROP TABLE t; -- é"), "escaped as a GoogleSQL string");
  });
});
