/**
 * ChannelAttribution's own example data (PathData, 10,000 rows) through import → channel_paths →
 * heuristics, channel Markov and Shapley, as a user compares results with that package.
 * Hand check: the file has Σ conversions 19,785 and Σ value 74,802.9715872109 (SOURCE.md); every
 * model must distribute exactly that, over the 12 channels.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { InputError } from "../src/util/errors.ts";
import { openDb } from "./support/duckdb.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject, SHARED_DATA } from "./support/warehouse.ts";

describe("ChannelAttribution path files (path_source = import)", function () {
  this.timeout(120_000);
  it("runs heuristics, channel Markov and Shapley on PathData and distributes exactly its totals", async () => {
    const project = await compiledProject({ path_source: "import" });
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, project.settings);
      await importCsvOrNdjson(engine.localLoading, "paths", path.join(SHARED_DATA, "channelattribution-pathdata", "PathData.csv"), { schema: project.settings.datasets.sources });
      const run = await runProject(project, engine, { selection: { actions: ["heuristic_channel_credit", "channel_markov", "shapley"], includeDependencies: true } });
      assertRunSucceeded(run);
      // Only the path models ran: nothing built from journeys.
      assert.ok(!run.actions.some((a) => a.action.endsWith(".sessions")));
      const ds = project.settings.datasets;
      const totals = await engine.queryNative(`
        SELECT model, SUM(conversions) AS c, SUM(value) AS v, COUNT(*) AS channels FROM "${ds.outputs}".heuristic_channel_credit GROUP BY model
        UNION ALL SELECT 'markov', SUM(conversions), SUM(value), COUNT(*) FROM "${ds.models}".markov_removal_effects
        UNION ALL SELECT 'shapley', SUM(conversions), SUM(value), COUNT(*) FROM "${ds.models}".shapley_channel_credit
        ORDER BY 1`);
      assert.deepEqual(totals.map((r) => r.model), ["first_touch", "last_touch", "linear", "markov", "shapley"]);
      for (const r of totals) {
        assert.ok(Math.abs(Number(r.c) - 19785) < 1e-6, `${r.model}: ${r.c} conversions`);
        assert.ok(Math.abs(Number(r.v) - 74802.9715872109) < 1e-4, `${r.model}: ${r.v} value`);
        assert.equal(Number(r.channels), 12, `${r.model}: channels`);
      }
      // Linear counts repeated touches separately: "iota > iota > iota > iota" gives iota 4 × 1/4.
      const [{ n }] = (await engine.queryNative(`SELECT COUNT(*) AS n FROM "${ds.outputs}".heuristic_channel_credit WHERE isnan(conversions)`)) as { n: number }[];
      assert.equal(Number(n), 0);
    } finally {
      await engine.close();
    }
  });
});

describe("channel_paths from an imported file: values summed exactly", function () {
  this.timeout(120_000);
  it("gives each path the exact decimal sum of its rows' values, whatever order the engine adds them in", async () => {
    // 120,000 rows over 3 paths, values in cents up to 10 million: a float sum is off in its last bits (and by how
    // much depends on the adding order of a parallel plan), which ROUND(…, 9) did not absorb at these magnitudes.
    const paths = ["alpha > beta", "beta", "gamma > alpha > beta"];
    const cents = new Map(paths.map((p) => [p, 0n]));
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const lines = ["path,total_conversions,total_conversion_value,total_null"];
    for (let i = 0; i < 120_000; i++) {
      const p = paths[i % 3]!;
      const c = BigInt(next() % 1_000_000_000);
      cents.set(p, cents.get(p)! + c);
      lines.push(`${p},1,${c / 100n}.${String(c % 100n).padStart(2, "0")},0`);
    }
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "fc-paths-sum-")), "paths.csv");
    writeFileSync(file, lines.join("\n") + "\n");
    const project = await compiledProject({ path_source: "import" });
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, project.settings);
      await importCsvOrNdjson(engine.localLoading, "paths", file, { schema: project.settings.datasets.sources });
      assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["channel_paths"] } }));
      const got = await engine.queryNative(`SELECT path, total_conversion_value AS v FROM "${project.settings.datasets.intermediate}".channel_paths ORDER BY path`);
      assert.deepEqual(got.map((r) => r.path), [...paths].sort());
      for (const r of got) {
        const c = cents.get(r.path as string)!;
        const exact = `${c / 100n}.${String(c % 100n).padStart(2, "0")}`;
        const [{ want }] = (await engine.queryNative(`SELECT CAST(CAST('${exact}' AS DECIMAL(38,9)) AS DOUBLE) AS want`)) as { want: number }[];
        assert.equal(Number(r.v), Number(want), `${r.path}: ${r.v} is not the exact sum ${exact}`);
      }
    } finally {
      await engine.close();
    }
  });
});

describe("import paths: quoted fields on DuckDB's reader", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-paths-quotes-"));
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const HEADER = "path,total_conversions,total_conversion_value,total_null";

  it("unquotes every field as written, doubled quotes inside included", async () => {
    const db = await openDb();
    try {
      // Every row is good, so the whole file goes through the reader's single statement.
      const f = file("quoted.csv", [
        HEADER,
        `"ch1 > ch2",1,2.5,0`,
        `"say ""hi"" > ch2","2",0,1`,
        `plain > x,0,0,"3"`,
        `"""",1,0,0`,
        `"a "" > ""b""",1,1,1`,
      ].join("\n") + "\n");
      const r = await importCsvOrNdjson(db.local, "paths", f, { badRows: "reject" });
      assert.equal(r.rows, 5);
      const rows = (await db.conn.runAndReadAll("SELECT path, total_conversions, total_conversion_value, total_null FROM funnelcredit_sources.channel_paths_import ORDER BY path")).getRowObjectsJS();
      assert.deepEqual(rows.map((x) => [x.path, x.total_conversions, x.total_conversion_value, x.total_null]), [
        [`"`, 1, 0, 0],
        [`a " > "b"`, 1, 1, 1],
        ["ch1 > ch2", 1, 2.5, 0],
        ["plain > x", 0, 0, 3],
        [`say "hi" > ch2`, 2, 0, 1],
      ]);
    } finally {
      db.close();
    }
  });

  it("refuses a quote inside a field that is not one quoted token, naming its line", async () => {
    const db = await openDb();
    try {
      for (const [bad, line] of [[`"a"b > c,1,0,0`, 3], [`"a""b > c",1,0,0\n"x" > y,1,0,0`, 4], [`"a"x"" > c",1,0,0`, 3], [`",1,0,0`, 3]] as const) {
        const f = file("bad.csv", `${HEADER}\n"ok",1,0,0\n${bad}\n`);
        await assert.rejects(importCsvOrNdjson(db.local, "paths", f, { badRows: "reject" }), (e: unknown) => {
          assert.ok(e instanceof InputError, `${bad}: expected an InputError, got ${String(e)}`);
          assert.equal(e.line, line, `${bad}: ${e.message}`);
          return true;
        });
      }
    } finally {
      db.close();
    }
  });
});
