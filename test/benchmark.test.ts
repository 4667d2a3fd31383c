/**
 * The accuracy benchmark: the truth comes from the world's mechanism (harvesting channels have almost no
 * incremental effect, switching a channel off changes only what it causes), and one small world runs
 * through the real pipeline with every model measured against it.
 */
import assert from "node:assert/strict";
import { ALL_JOBS } from "../jobs/index.ts";
import { drawWorld, FAMILIES } from "../src/benchmark/worlds.ts";
import { drawUser, simulateUser, userSeed } from "../src/benchmark/mechanism.ts";
import { trueShares } from "../src/benchmark/truth.ts";
import { observeWorld } from "../src/benchmark/observe.ts";
import { l1Distance } from "../src/benchmark/accuracy.ts";
import { createRng } from "../src/demo/prng.ts";
import { runWorld, type WorldResult } from "../src/benchmark/run.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";

describe("accuracy benchmark: worlds and their truth", () => {
  it("draws 5 to 15 channels and fresh parameters per seed, the same world for the same seed", () => {
    for (const family of FAMILIES) {
      for (const seed of [1, 2, 3, 4]) {
        const w = drawWorld(family, seed, 100);
        assert.ok(w.channels.length >= 5 && w.channels.length <= 15, `${family}/${seed}: ${w.channels.length} channels`);
        assert.deepEqual(drawWorld(family, seed, 100), w);
      }
      assert.notDeepEqual(drawWorld(family, 1, 100).channels, drawWorld(family, 2, 100).channels);
    }
  });

  it("switches a push channel off without changing anything else the user meets by chance", () => {
    const w = drawWorld("synergy", 1, 100);
    const off = w.channels.findIndex((c) => c.kind === "push");
    const allOn = new Uint8Array(w.channels.length).fill(1);
    const withoutOne = allOn.slice();
    withoutOne[off] = 0;
    let compared = 0;
    for (let u = 0; u < 200; u++) {
      const d = drawUser(w, userSeed(7, 0, u), u);
      const a = simulateUser(w, d, allOn);
      assert.deepEqual(simulateUser(w, d, allOn), a, "same draws, same journey");
      const b = simulateUser(w, d, withoutOne);
      // Other push channels keep their sessions at the same times; the switched-off one has none.
      const push = (p: typeof a) => p.sessions.filter((s) => s.touch.channel >= 0 && s.channel !== off).map((s) => `${s.channel}@${s.t}`);
      assert.deepEqual(push(b), push(a));
      assert.ok(!b.sessions.some((s) => s.channel === off));
      // Less intent, so no more conversions than with everything on.
      assert.ok(b.expected <= a.expected + 1e-12, `user ${u}: ${b.expected} > ${a.expected}`);
      compared += a.sessions.length;
    }
    assert.ok(compared > 100, `${compared} sessions compared`);
  });

  it("gives harvesting channels (pull routes that only capture intent) almost no incremental share, but a Shapley share", () => {
    const w = drawWorld("harvesting", 1, 100);
    const t = trueShares(w, 4000);
    const pull = w.channels.filter((c) => c.kind === "pull").map((c) => c.key);
    assert.ok(pull.length >= 2);
    for (const c of pull) assert.ok(t.incremental[c]! < 0.02, `${c} incremental ${t.incremental[c]}`);
    // Switching every pull route off at once stops the visits that convert: together they share the credit.
    const pullShapley = pull.reduce((a, c) => a + t.shapley[c]!, 0);
    assert.ok(pullShapley > 0.2, `pull Shapley ${pullShapley}`);
    for (const shares of [t.shapley, t.incremental]) {
      assert.ok(Math.abs(Object.values(shares).reduce((a, b) => a + b, 0) - 1) < 1e-9);
      for (const v of Object.values(shares)) assert.ok(v >= 0);
    }
  });

  it("observes each conversion as one completed CRM transaction with a purchase session", () => {
    const w = drawWorld("cross_device", 2, 600);
    const o = observeWorld(w, Date.parse("2024-03-01T00:00:00Z"));
    assert.ok(o.conversions > 10, `${o.conversions} conversions`);
    assert.equal(o.transactions.length, o.conversions);
    const purchases = o.sessions.filter((s) => s.codes.includes("$"));
    assert.deepEqual(purchases.map((s) => s.transactionId).sort(), o.transactions.map((t) => t.transaction_id).sort());
    // Cross-device: some users have sessions under more than one client id.
    const byUser = new Map<string, Set<string>>();
    for (const s of o.sessions) if (s.userId) byUser.set(s.userId, (byUser.get(s.userId) ?? new Set()).add(s.pseudoId));
    assert.ok([...byUser.values()].some((ids) => ids.size > 1));
  });

  it("shows a user's intent before the purchase (more pages, product views) in the export, and none of it when intentSignal is 0", () => {
    const startMs = Date.parse("2024-03-01T00:00:00Z");
    // The user index is the pseudo id's suffix minus the start second (observe.ts); converters by their transaction's client id.
    const userOf = (pseudoId: string): number => Number(pseudoId.split(".")[1]) - Math.floor(startMs / 1000);
    const prePurchase = (signal: number) => {
      const w = drawWorld("selection_bias", 1, 1500, { intentSignal: signal });
      const o = observeWorld(w, startMs);
      const converters = new Set(o.transactions.map((t) => userOf(t.client_id!)));
      const pages = (c: string) => c.split("").filter((x) => x === "p").length;
      const browsing = o.sessions.filter((s) => !s.codes.includes("$"));
      const meanPages = (conv: boolean) => {
        const xs = browsing.filter((s) => converters.has(userOf(s.pseudoId)) === conv).map((s) => pages(s.codes));
        return xs.reduce((a, b) => a + b, 0) / xs.length;
      };
      return { w, o, browsing, pages, converters: meanPages(true), others: meanPages(false) };
    };
    const hidden = prePurchase(0);
    const shown = prePurchase(1);
    // The same world either way: only what the export shows of intent changes.
    assert.deepEqual({ ...hidden.w, intentSignal: 1 }, shown.w);
    assert.equal(hidden.o.sessions.length, shown.o.sessions.length);
    assert.equal(hidden.o.conversions, shown.o.conversions);
    // Hidden: 1–4 pages by chance, no product view outside a purchase — nothing carries intent.
    assert.ok(hidden.browsing.every((s) => !s.codes.includes("v") && s.items.length === 0 && hidden.pages(s.codes) >= 1 && hidden.pages(s.codes) <= 4));
    // Shown: product views and long visits outside purchases, and the browsing of users who go on to buy is deeper.
    assert.ok(shown.browsing.filter((s) => s.codes.includes("v")).length > shown.browsing.length / 20, "product views without a purchase");
    assert.ok(shown.browsing.some((s) => shown.pages(s.codes) > 4), "more than 4 pages");
    assert.ok(shown.converters > 1.3 * shown.others, `pages per browsing session: converters ${shown.converters}, others ${shown.others}`);
    assert.ok(Math.abs(hidden.converters - hidden.others) < 0.3, `hidden: converters ${hidden.converters}, others ${hidden.others}`);
    assert.throws(() => drawWorld("decay", 1, 100, { intentSignal: -1 }), /intentSignal/);
  });

  it("measures L1 over the union of channels (credit to a channel the world lacks is error)", () => {
    // |0.5 − 0.6| + |0.1 − 0.4| + 0.4 given to "(unknown)": 0.1 + 0.3 + 0.4 = 0.8
    assert.ok(Math.abs(l1Distance({ a: 0.5, b: 0.1, "(unknown)": 0.4 }, { a: 0.6, b: 0.4 }) - 0.8) < 1e-12);
    assert.equal(l1Distance({ a: 1 }, { b: 1 }), 2);
  });
});

/** Every ML family beside XGBoost (the default vars.ml_families is the logistic baseline only). */
const ALL_ML_FAMILIES = '["logistic_regression","stacked_ensemble","causal_dml"]';

describe("accuracy benchmark: one small world through the real pipeline", function () {
  this.timeout(600_000);
  let r: WorldResult;
  before(async () => {
    r = await runWorld({ family: "harvesting", seed: 1, users: 1500, truthUsers: 3000, projectDir: PROJECT_DIR, jobs: ALL_JOBS, vars: { ml_families: ALL_ML_FAMILIES } });
  });

  it("runs every attribution model on the world's GA4 export and CRM transactions", () => {
    assert.deepEqual(r.failed, []);
    const models = r.models.map((m) => m.model);
    for (const m of ["first_touch", "last_touch", "linear", "position_based", "time_decay", "markov_order_1", "shapley", "ml_removal_effect", "ml_shapley", "ml_treeshap"]) {
      assert.ok(models.includes(m), `${m} in ${models.join(", ")}`);
    }
    assert.ok(r.observedConversions > 50);
    // The other ML families of vars.ml_families, each credit a model of its own.
    for (const m of ["ml_logistic_regression_removal_effect", "ml_logistic_regression_shapley", "ml_stacked_ensemble_shapley", "ml_causal_dml_incremental"]) {
      assert.ok(models.includes(m), `${m} in ${models.join(", ")}`);
    }
    // The ML AUC is XGBoost's, not the last family's written to the same metrics table.
    const xgb = r.mlFamilies.find((f) => f.family === "xgboost")!;
    const lr = r.mlFamilies.find((f) => f.family === "logistic_regression")!;
    assert.equal(r.mlAuc, xgb.metrics.auc);
    assert.ok(lr.metrics.auc! > 0.5 && lr.metrics.auc !== xgb.metrics.auc, `${lr.metrics.auc} vs ${xgb.metrics.auc}`);
    for (const m of r.models) assert.ok(m.l1Shapley >= 0 && m.l1Shapley <= 2 + 1e-9 && m.l1Incremental >= 0 && m.l1Incremental <= 2 + 1e-9);
    // Each model's shares once: the registered ML models come from channel_credit_by_model, not added again from the ML tables.
    for (const m of r.models) {
      const total = Object.values(m.shares).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-6, `${m.model} shares sum to ${total}`);
    }
  });

  it("recommends one of the models it measured, bootstraps every model re-fittable from the paths and the SQL models over sessions, and publishes an interval on every model with a reference", () => {
    assert.ok(r.recommended !== null && r.models.some((m) => m.model === r.recommended), `${r.recommended}`);
    const bootstrapped = r.models.filter((m) => m.bootstrapIntervals !== null).map((m) => m.model).sort();
    // excitation_linear and self_controlled by their identity chains (channel_share_replicates); both publish here (below).
    assert.deepEqual(bootstrapped, ["excitation_linear", "first_touch", "last_non_direct", "last_touch", "linear", "markov_order_1", "position_based", "self_controlled", "shapley"]);
    for (const m of bootstrapped) assert.ok(r.bootstrapL1[m]! > 0 && r.models.find((x) => x.model === m)!.bootstrapCoverageIncremental !== null, `${m} ${r.bootstrapL1[m]}`);
    // The published interval (bootstrap widened by the benchmark's margin, share ± q without one) on the bootstrapped
    // models and on those the reference measures without a bootstrap.
    const published = r.models.filter((m) => m.coverageIncremental !== null).map((m) => m.model);
    for (const m of [...bootstrapped, "time_decay", "owox_funnel"]) assert.ok(published.includes(m), `${m} in ${published.join(", ")}`);
  });

  // Measured on harvesting seeds 1–3 at 1,500 users (README "Accuracy"): pull channels' share per model
  // 0.11–0.79 against a true incremental share of 0; Markov order 1 below last touch in pull share and in
  // L1 to the true incremental shares on all three. Orderings that flipped between seeds are not asserted.
  // excitation_linear and self_controlled (README "Accuracy") are the models that read when the visits happen: the pull
  // channels' sessions follow other channels' touches, so they give them nothing.
  it("shows every model but excitation_linear and self_controlled crediting the harvesting channels although switching them off loses nothing", () => {
    const pull = r.world.channels.filter((c) => c.kind === "pull").map((c) => c.key);
    const timing = ["excitation_linear", "self_controlled"];
    for (const c of pull) assert.ok(r.truth.incremental[c]! < 0.02, `${c} true incremental ${r.truth.incremental[c]}`);
    for (const m of timing) assert.ok(r.models.some((x) => x.model === m), `${m} in ${r.models.map((x) => x.model).join(", ")}`);
    for (const m of r.models) {
      const share = pull.reduce((a, c) => a + (m.shares[c] ?? 0), 0);
      if (timing.includes(m.model)) assert.ok(share < 1e-9, `${m.model} gives the pull channels ${share}`);
      else assert.ok(share > 0.1, `${m.model} gives the pull channels ${share}`);
    }
  });

  it("finds Markov removal effects closer to the true incremental shares than last touch, which credits the harvesting channels most", () => {
    const pull = r.world.channels.filter((c) => c.kind === "pull").map((c) => c.key);
    const model = (name: string) => r.models.find((m) => m.model === name)!;
    const pullShare = (name: string) => pull.reduce((a, c) => a + (model(name).shares[c] ?? 0), 0);
    assert.ok(pullShare("markov_order_1") < pullShare("last_touch"), `markov ${pullShare("markov_order_1")} vs last touch ${pullShare("last_touch")}`);
    assert.ok(model("markov_order_1").l1Incremental < model("last_touch").l1Incremental);
  });
});

describe("funnelcredit benchmark", function () {
  this.timeout(600_000);
  const cli = (args: string[]) => spawnSync(path.join(PROJECT_DIR, "node_modules", ".bin", "tsx"), [path.join(PROJECT_DIR, "src", "cli", "main.ts"), "benchmark", ...args], {
    cwd: PROJECT_DIR, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" },
  });

  it("appends one model_accuracy row per model and world and prints the table", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-benchmark-"));
    const warehouse = path.join(dir, "benchmark.duckdb");
    const r = cli(["--families", "decay", "--seeds", "1", "--users", "800", "--truth-users", "800", "--warehouse", warehouse, "--artifacts", path.join(dir, "artifacts"), "--vars", `ml_families=${ALL_ML_FAMILIES}`]);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /decay\/s1\/u800: \d+ channels/);
    assert.match(r.stdout, /last_touch\s+\d\.\d{3} \/ \d\.\d{3}/);
    const engine = await DuckDBEngine.open({ path: warehouse, memoryLimit: "1GB", threads: 1 });
    try {
      const rows = await engine.queryNative(`SELECT world, model, l1_to_true_shapley AS l1 FROM funnelcredit_meta.model_accuracy ORDER BY model`);
      assert.ok(rows.length >= 10, `${rows.length} rows`);
      assert.ok(rows.every((x) => x.world === "decay/s1/u800" && Number(x.l1) >= 0 && Number(x.l1) <= 2));
      const truth = await engine.queryNative(`SELECT SUM(true_shapley_share) AS s, SUM(true_incremental_share) AS i FROM funnelcredit_meta.benchmark_truth`);
      assert.ok(Math.abs(Number(truth[0]!.s) - 1) < 1e-9 && Math.abs(Number(truth[0]!.i) - 1) < 1e-9);
      const cov = await engine.queryNative(`SELECT model, interval_coverage_shapley AS c FROM funnelcredit_meta.model_accuracy WHERE interval_coverage_shapley IS NOT NULL ORDER BY model`);
      // The published interval's coverage: every model with a benchmark reference, bootstrapped or not.
      for (const m of ["excitation_linear", "first_touch", "last_non_direct", "last_touch", "linear", "markov_order_1", "owox_funnel", "position_based", "self_controlled", "shapley", "time_decay"]) {
        assert.ok(cov.some((x) => x.model === m), `${m} in ${cov.map((x) => x.model).join(", ")}`);
      }
      assert.ok(cov.every((x) => Number(x.c) >= 0 && Number(x.c) <= 1));
      // One comparison row per ML family × credit method, with held-out metrics beside the L1 of model_accuracy.
      const fam = await engine.queryNative(`SELECT f.ml_family, f.method, f.auc, f.log_loss, f.l1_to_true_incremental AS l1, a.l1_to_true_incremental AS a_l1
        FROM funnelcredit_meta.ml_family_accuracy f JOIN funnelcredit_meta.model_accuracy a USING (run_id, world, model) WHERE f.ml_family NOT IN ('self_controlled', 'excitation_linear') ORDER BY f.ml_family, f.method`);
      assert.deepEqual(fam.map((x) => `${x.ml_family}/${x.method}`), [
        "causal_dml/incremental", "logistic_regression/counterfactual_removal", "logistic_regression/removal_effect", "logistic_regression/shapley",
        "stacked_ensemble/counterfactual_removal", "stacked_ensemble/removal_effect", "stacked_ensemble/shapley",
        "xgboost/counterfactual_removal", "xgboost/removal_effect", "xgboost/shapley", "xgboost/treeshap",
      ]);
      assert.ok(fam.every((x) => x.l1 === x.a_l1));
      assert.ok(fam.filter((x) => x.ml_family !== "causal_dml").every((x) => Number(x.auc) > 0 && Number(x.log_loss) > 0));
      assert.equal(fam.find((x) => x.ml_family === "causal_dml")!.auc, null);
      // The SQL estimates of issue #17's comparison, each with its model_accuracy L1, no predictive metrics and the reason.
      const sql = await engine.queryNative(`SELECT f.ml_family, f.method, f.auc, f.log_loss, f.no_metrics_reason AS why, f.fit_seconds, f.credit_seconds, f.l1_to_true_incremental AS l1, a.l1_to_true_incremental AS a_l1
        FROM funnelcredit_meta.ml_family_accuracy f JOIN funnelcredit_meta.model_accuracy a USING (run_id, world, model) WHERE f.ml_family IN ('self_controlled', 'excitation_linear') ORDER BY f.ml_family`);
      const published = (await engine.queryNative(`SELECT model FROM funnelcredit_meta.model_accuracy WHERE model IN ('self_controlled', 'excitation_linear') ORDER BY model`)).map((x) => x.model);
      assert.ok(published.length > 0, "the world publishes a SQL estimate");
      assert.deepEqual(sql.map((x) => x.ml_family), published);
      assert.ok(sql.every((x) => x.auc === null && x.log_loss === null && /predicts no conversion probability|no conversion probability predicted/.test(String(x.why)) && x.l1 === x.a_l1 && Number(x.fit_seconds) >= 0 && Number(x.credit_seconds) >= 0), JSON.stringify(sql));
      assert.match(r.stdout, /— (self_controlled: a SQL estimate|excitation_linear: a SQL rule)/);
      assert.match(r.stdout, /ML families: held-out metrics/);
      assert.match(r.stdout, /ml_logistic_regression_shapley\s+\d\.\d{3}/);
    } finally {
      await engine.close();
    }
  });

  it("names the bad family and the ones it knows", () => {
    const r = cli(["--families", "harvest", "--warehouse", path.join(os.tmpdir(), "fc-benchmark-none.duckdb")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--families harvest: expected some of harvesting, synergy, decay, selection_bias, cross_device/);
  });
});
