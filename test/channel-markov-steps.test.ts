/**
 * The channel_markov job fits from step counts summed in the warehouse (sql/jobs/channel_markov_transitions.sql),
 * not from the paths, at every order. Its tables must equal the fit on the paths
 * (fitChannelMarkov over channel_paths split in TypeScript) to 1e-9 relative, on both engines, for paths that
 * test the splitting rules: repeats, empty names, escaped names, a name written two ways, rows without weight
 * or without channels, NULL amounts, a value without conversions.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ColumnSchema, Engine, Row } from "../src/engines/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import type { Project } from "../src/compile/project.ts";
import { aggregateChannelPaths, fitChannelMarkov, fitChannelMarkovFromSteps, type ChannelPathRow, type ChannelStepRow, type MarkovOrder } from "../src/models/channel-markov.ts";
import { formatChannelPath, parseChannelPath, splitChannelPath } from "../src/models/paths.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, SHARED_DATA } from "./support/warehouse.ts";
import { BOTH_ENGINES, STRICT_PROJECT as P, type Warehouse } from "./support/both-engines.ts";
import { channelMarkovJob } from "../jobs/channel-markov.ts";

const CHANNEL_PATHS: ColumnSchema[] = [
  { name: "path", type: "STRING" },
  { name: "total_conversions", type: "FLOAT64" },
  { name: "total_conversion_value", type: "FLOAT64" },
  { name: "total_null", type: "FLOAT64" },
];
/** path, conversions, value, nulls. */
const PATHS: [string, number, number | null, number | null][] = [
  ["A > A > B", 3, 30, 5], //                  repeats collapse: (start) → A → B
  [" > A >  > B > ", 1, 4, 2], //               empty names drop out: the same steps as "A > B"
  ["Search %3E Paid > A", 2, 10, 1], //         the escaped name "Search > Paid"
  ["Search %3E Paid", 0, 0, 4],
  ["C > A > C", 1, 7, 0],
  ["D > > > %3E", 2, 6, 1], //                  names D, ">", ">" (written two ways): D → >
  ["%3E > B", 1, 1, 1],
  ["Z", 0, 0, 0], //                            no weight: Z is a channel with RE 0, not a state
  ["Y > A", 0, 5, 3], //                        value without conversions counts in the total only
  [" > ", 2, 2, 2], //                          no channels: left out, totals included
  ["B", 4, 12, null],
  ["E > B", 1, null, 2],
];

const relative = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));
function near(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, "number", `${what}: ${String(actual)}`);
  assert.ok(relative(actual as number, expected) <= 1e-9 || Math.abs((actual as number) - expected) < 1e-15, `${what}: ${String(actual)} ≠ ${expected}`);
}

/** The reference: the model fitted on the paths as the job read them before (split in TypeScript). */
function pathFit(useNulls: boolean, order: MarkovOrder) {
  const rows: ChannelPathRow[] = PATHS.map(([p, c, v, n]) => ({ path: splitChannelPath(p), conversions: c, value: v ?? 0, nulls: n ?? 0 })).filter((r) => r.path.length > 0);
  return fitChannelMarkov(rows, { useNulls, order });
}


for (const { name, open } of BOTH_ENGINES) {
  const cases: [boolean, MarkovOrder][] = name === "duckdb" ? [[true, 1], [false, 1], [true, 2], [true, 3], [false, 4]] : [[true, 1], [true, 3]];
  for (const [useNulls, order] of cases) {
    describe(`channel_markov order ${order} from step counts on ${name}${useNulls ? "" : ", markov_use_nulls=false"}`, function () {
      this.timeout(300_000);
      let wh: Warehouse;
      let effects: Row[];
      let transitions: Row[];
      let metrics: Record<string, unknown>;
      before(async () => {
        const project = await compiledProject({ path_source: "import", markov_use_nulls: String(useNulls), markov_order: String(order) }, [channelMarkovJob]);
        wh = await open(project);
        const ds = project.settings.datasets;
        await wh.engine.ensureDataset(wh.database, ds.intermediate);
        await wh.engine.ensureDataset(wh.database, ds.models);
        await wh.engine.writeRows({ database: wh.database, schema: ds.intermediate, name: "channel_paths" }, CHANNEL_PATHS,
          PATHS.map(([p, c, v, n]) => ({ path: p, total_conversions: c, total_conversion_value: v, total_null: n })), { mode: "replace" });
        const run = await runGraph({
          graph: project.graph, engine: wh.engine, settings: project.settings,
          artifacts: new LocalArtifactStore(path.join(os.tmpdir(), `fc-markov-steps-${process.pid}`)),
          selection: { actions: ["channel_markov"] },
        });
        assertRunSucceeded(run);
        metrics = run.actions.find((a) => a.action === "channel_markov")!.metrics ?? {};
        const table = (t: string) => `\`${wh.database ? wh.database + "." : ""}${ds.models}.${t}\``;
        effects = await wh.engine.query(`SELECT * FROM ${table("markov_removal_effects")} ORDER BY channel`);
        transitions = await wh.engine.query(`SELECT * FROM ${table("markov_transition_matrix")} ORDER BY from_state, to_state`);
      });
      after(async () => wh?.close());

      it("fits from the steps, not the paths", () => {
        assert.equal(metrics.paths, undefined);
        assert.ok(Number(metrics.steps) > 0, `steps: ${String(metrics.steps)}`);
      });

      it("writes the removal effects and credits of the fit on the paths, to 1e-9", () => {
        const expected = pathFit(useNulls, order);
        assert.deepEqual(effects.map((r) => r.channel), expected.credits.map((c) => c.channel));
        assert.deepEqual(expected.channels, [">", "A", "B", "C", "D", "E", "Search > Paid", "Y", "Z"]);
        for (const [i, c] of expected.credits.entries()) {
          const r = effects[i]!;
          near(r.removal_effect, c.removalEffect, `${c.channel} removal_effect`);
          near(r.removal_effect_value, c.removalEffectValue, `${c.channel} removal_effect_value`);
          near(r.conversions, c.conversions, `${c.channel} conversions`);
          near(r.value, c.value, `${c.channel} value`);
          assert.equal(Number(r.markov_order), order);
        }
        // Z is on no weighted path: nothing, exactly.
        const z = effects.find((r) => r.channel === "Z")!;
        assert.deepEqual([z.removal_effect, z.conversions, z.value], [0, 0, 0]);
      });

      it("writes the transition matrix of the fit on the paths, to 1e-9", () => {
        const expected = pathFit(useNulls, order).transitions;
        const key = (from: unknown, to: unknown) => `${String(from)} → ${String(to)}`;
        assert.deepEqual(transitions.map((r) => key(r.from_state, r.to_state)).sort(), expected.map((t) => key(t.from, t.to)).sort());
        const byKey = new Map(transitions.map((r) => [key(r.from_state, r.to_state), r]));
        for (const t of expected) {
          const r = byKey.get(key(t.from, t.to))!;
          near(r.probability, t.probability, `${key(t.from, t.to)} probability`);
          near(r.transitions, t.count, `${key(t.from, t.to)} transitions`);
        }
      });
    });
  }
}

describe("fitChannelMarkovFromSteps", () => {
  // Paths A > B (2 conversions, value 10, 1 null) and B (1 null), as steps.
  const steps: ChannelStepRow[] = [
    { from: null, to: ["A"], conversions: 2, nulls: 1, value: 0, convertingValue: 0 },
    { from: ["A"], to: ["B"], conversions: 2, nulls: 1, value: 0, convertingValue: 0 },
    { from: null, to: ["B"], conversions: 0, nulls: 1, value: 0, convertingValue: 0 },
    { from: ["B"], to: null, conversions: 2, nulls: 2, value: 10, convertingValue: 10 },
  ];
  it("gives the fit on the paths the steps were counted from", () => {
    const a = fitChannelMarkovFromSteps(steps);
    const b = fitChannelMarkov([{ path: ["A", "B"], conversions: 2, value: 10, nulls: 1 }, { path: ["B"], conversions: 0, nulls: 1 }]);
    // Hand check: (start)→A 3/4, (start)→B 1/4, A→B 1, B→(conversion) 1/2: P = 3/4·1/2 + 1/4·1/2 = 1/2.
    // Without A: P' = 1/4·1/2 = 1/8, RE_A = 1 − (1/8)/(1/2) = 3/4; without B: P' = 0, RE_B = 1.
    // Conversions 2 · RE / ΣRE: A = 2 · (3/4)/(7/4) = 6/7, B = 8/7.
    near(a.credits[0]!.removalEffect, 3 / 4, "A RE");
    near(a.credits[1]!.removalEffect, 1, "B RE");
    near(a.credits[0]!.conversions, 6 / 7, "A conversions");
    near(a.credits[1]!.conversions, 8 / 7, "B conversions");
    assert.deepEqual(a.channels, ["A", "B"]);
    assert.equal(a.totalConversions, 2);
    assert.equal(a.totalValue, 10);
    assert.equal(a.totalNulls, 2);
    for (const [i, c] of b.credits.entries()) {
      near(a.credits[i]!.removalEffect, c.removalEffect, `${c.channel} RE`);
      near(a.credits[i]!.conversions, c.conversions, `${c.channel} conversions`);
    }
  });
  it("refuses padded states, states longer than the order and negative sums, saying what to do", () => {
    assert.throws(() => fitChannelMarkovFromSteps(steps, { order: 2, states: "padded" }), /states must be "sliding" \(got padded\); fit padded states on the paths/);
    assert.throws(() => fitChannelMarkovFromSteps([{ ...steps[1]!, to: ["A", "B"] }]), /step 0: a state holds 1 to 1 channels \(got 2\)/);
    assert.throws(() => fitChannelMarkovFromSteps([{ ...steps[0]!, nulls: -1 }]), /step 0 nulls/);
  });
});

describe("channel_markov from step counts on ChannelAttribution's PathData (DuckDB)", function () {
  this.timeout(300_000);
  const text = readFileSync(path.join(SHARED_DATA, "channelattribution-pathdata", "PathData.csv"), "utf8");
  const rows: ChannelPathRow[] = text.split("\n").slice(1).filter((l) => l.length > 0).map((l) => {
    const m = /^"([^"]*)",([^,]+),([^,]+),([^,]+)$/.exec(l);
    assert.ok(m, `unparsable line ${l}`);
    return { path: parseChannelPath(m[1]!), conversions: Number(m[2]), value: Number(m[3]), nulls: Number(m[4]) };
  });
  for (const order of [1, 2, 3] as const) {
    it(`gives the removal effects of the fit on the paths at order ${order}, to 1e-9`, async () => {
      const project = await compiledProject({ path_source: "import", markov_order: String(order) }, [channelMarkovJob]);
      const engine = await memoryEngine();
      try {
        const ds = project.settings.datasets;
        await engine.ensureDataset("", ds.intermediate);
        await engine.writeRows({ database: "", schema: ds.intermediate, name: "channel_paths" }, CHANNEL_PATHS,
          rows.map((r) => ({ path: formatChannelPath(r.path), total_conversions: r.conversions, total_conversion_value: r.value ?? null, total_null: r.nulls ?? null })), { mode: "replace" });
        const run = await runGraph({ graph: project.graph, engine, settings: project.settings, artifacts: new LocalArtifactStore(path.join(os.tmpdir(), `fc-markov-steps-${process.pid}`)), selection: { actions: ["channel_markov"] } });
        assertRunSucceeded(run);
        const effects = await engine.query(`SELECT * FROM \`${ds.models}.markov_removal_effects\` ORDER BY channel`);
        const expected = fitChannelMarkov(order === 1 ? rows : aggregateChannelPaths(rows), { order });
        assert.equal(effects.length, 12);
        for (const [i, c] of expected.credits.entries()) {
          assert.equal(effects[i]!.channel, c.channel);
          near(effects[i]!.removal_effect, c.removalEffect, `${c.channel} removal_effect`);
          near(effects[i]!.removal_effect_value, c.removalEffectValue, `${c.channel} removal_effect_value`);
          near(effects[i]!.conversions, c.conversions, `${c.channel} conversions`);
          near(effects[i]!.value, c.value, `${c.channel} value`);
        }
      } finally {
        await engine.close();
      }
    });
  }
});
