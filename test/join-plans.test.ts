/**
 * No statement of the pipeline joins two tables' rows pair by pair on DuckDB. DuckDB hashes a join on its equality
 * conditions only when every condition of an outer join compares an expression of one side with an expression of the
 * other; one that mixes both sides (`TIMESTAMP_DIFF(t.at, s.at, SECOND) <= s.window`) turns the whole join into a
 * nested loop over every pair of rows (BLOCKWISE_NL_JOIN): `self_controlled_chain_windows` took 452 s at 30M events
 * that way (6.4M sessions × 352k transactions), 0.4 s for an eighth of them once the bound was a column of one side.
 * Such a plan is quadratic whatever the data, so the demo's plans show it: every statement the runner executes and
 * every query a job sends is planned (EXPLAIN, its script variables still set), and no nested-loop join may hold an
 * equality of two columns it could have hashed. Portable form: put each side's expression in a column of that side
 * (`t.transaction_at < w.window_end_at`, with the bound computed in w), see sql/duckdb/README.md.
 */
import assert from "node:assert/strict";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { TEST_ARTIFACTS_DIR, assertRunSucceeded, compiledProject, memoryEngine } from "./support/warehouse.ts";
import { afterExecute } from "./support/partition-reads.ts";

interface PlanNode { name: string; extra_info?: Record<string, unknown>; children: PlanNode[] }

const NESTED_LOOPS = new Set(["NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN"]);
/** An equality of two columns inside a condition (`chain_key = chain_key`), not `<=`, `>=`, `!=` nor one with a literal. */
const COLUMN_EQUALITY = /(?:^|[\s(])[A-Za-z_][\w.]*\s*=\s*[A-Za-z_][\w.]*(?=[\s)]|$)/;

/**
 * The joins of a plan DuckDB runs as a nested loop although they join on an equality of columns (the equality it could
 * not hash), and a count of every join. A CROSS JOIN the SQL asks for (a one-row CTE, the models × the days) and a
 * nested loop over a condition without an equality (a check comparing two totals) are what the SQL says, not a lost hash.
 */
export function unhashedEquiJoins(plan: PlanNode[]): { unhashed: string[]; joins: number } {
  const unhashed: string[] = [];
  let joins = 0;
  const visit = (n: PlanNode): void => {
    if (/JOIN|CROSS_PRODUCT/.test(n.name)) joins++;
    const condition = String(n.extra_info?.Condition ?? n.extra_info?.Conditions ?? "").replace(/\s+/g, " ");
    if (NESTED_LOOPS.has(n.name) && COLUMN_EQUALITY.test(condition)) unhashed.push(`${n.name} ${condition.slice(0, 240)}`);
    n.children.forEach(visit);
  };
  plan.forEach(visit);
  return { unhashed, joins };
}

describe("DuckDB plans of the pipeline's statements", function () {
  this.timeout(300_000);
  let engine: DuckDBEngine;
  afterEach(async () => engine?.close());

  it("hash every join on an equality of columns (no equi-join runs as a nested loop over every pair)", async () => {
    const project = await compiledProject({ ml_min_auc: "0", lead_label_maturity_days: "0" });
    engine = await memoryEngine();
    const ds = project.settings.datasets;
    await generateDemo(engine.localLoading, { users: 1500, days: 14, seed: 3, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    await ensureSourceTables(engine, project.settings);

    const found: string[] = [];
    let planned = 0;
    let joins = 0;
    const explain = async (duckSql: string, action: string | undefined): Promise<void> => {
      if (!/^\s*(?:--[^\n]*\n\s*)*(WITH|SELECT|INSERT|CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?TABLE\b[^;]*\bAS\b|DELETE|UPDATE|MERGE)/i.test(duckSql)) return;
      const [row] = await engine.queryNative(`EXPLAIN (FORMAT JSON) ${duckSql}`);
      const plan = unhashedEquiJoins(JSON.parse(String(row!.explain_value)) as PlanNode[]);
      planned++;
      joins += plan.joins;
      for (const p of plan.unhashed) found.push(`${action ?? "(query)"}: ${p}`);
    };
    const observed = afterExecute(
      engine,
      async (statements, opts) => {
        const variables = new Set<string>();
        for (const s of statements) {
          for (const duck of engine.translate(s, opts?.action, variables).split(/;\n(?=SET VARIABLE)/)) await explain(duck, opts?.action);
        }
      },
      async (sql, opts) => explain(engine.translate(sql, opts?.action), opts?.action),
    );
    const run = await runGraph({ graph: project.graph, engine: observed, settings: project.settings, artifacts: new LocalArtifactStore(TEST_ARTIFACTS_DIR), fullRefresh: true });
    assertRunSucceeded(run);

    // Not vacuous: the models' statements were planned, with their joins (111 at the last count: the tables rebuilt whole check
    // their keys in their own queries, no assertion query each).
    assert.ok(planned > 100, `${planned} statements planned`);
    assert.ok(joins > 120, `${joins} joins seen`);
    assert.deepEqual(found, [], `equi-joins run as nested loops:\n${found.join("\n")}`);
  });
});
