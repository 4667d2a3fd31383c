/**
 * XGBoost engine benchmark: a 1,000,000-row fit in a worker thread, then TS prediction and TreeSHAP
 * throughput and peak RSS. Prints figures; asserts nothing.
 *
 *   npx tsx bench/xgboost.ts [--rows 1000000] [--rounds 100] [--repeats 1] [--backend wasm|native|auto]
 *
 * Data: 20 synthetic features (8 channel flags, 4 touch counts, path length, 3 categorical codes,
 * 4 continuous lead features, ~5 % missing in the continuous ones), label from a logistic model.
 */
import { mulberry32 } from "../src/models/numeric.ts";
import { createWasmBackend, prepareTreeShap, recursiveTreeShap, trainBoosted, treeShapForms, type BackendChoice } from "../src/models/xgboost/index.ts";
import { median } from "./measure.ts";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}
const ROWS = Number(arg("rows", "1000000"));
const ROUNDS = Number(arg("rounds", "100"));
const REPEATS = Number(arg("repeats", "1"));
const BACKEND = arg("backend", "wasm") as BackendChoice;
const F = 20;

const rng = mulberry32;

function makeData(n: number, seed: number): { X: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * F;
    let z = -2.2;
    for (let j = 0; j < 8; j++) {
      const v = r() < 0.15 + 0.04 * j ? 1 : 0;
      X[o + j] = v;
      z += v * (0.5 - 0.1 * j);
    }
    for (let j = 8; j < 12; j++) {
      const v = Math.floor(-Math.log(1 - r()) * 1.5);
      X[o + j] = v;
      z += 0.08 * Math.min(v, 6);
    }
    let len = 0;
    for (let j = 0; j < 8; j++) len += X[o + j];
    X[o + 12] = len;
    z += len > 3 ? 0.4 : 0;
    for (let j = 13; j < 16; j++) X[o + j] = Math.floor(r() * (4 + 3 * (j - 13)));
    z += X[o + 13] === 2 ? 0.5 : 0;
    for (let j = 16; j < 20; j++) {
      const v = r() * 100;
      X[o + j] = r() < 0.05 ? NaN : v;
      if (v === v) z += j === 16 ? 0.01 * v - 0.5 : 0;
    }
    z += X[o] * X[o + 1] * 0.6;
    y[i] = r() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, y };
}

function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  let rankSum = 0;
  let pos = 0;
  for (let k = 0; k < idx.length; ) {
    let e = k;
    while (e + 1 < idx.length && p[idx[e + 1]] === p[idx[k]]) e++;
    const avg = (k + e) / 2 + 1;
    for (let q = k; q <= e; q++) if (y[idx[q]] === 1) (rankSum += avg), pos++;
    k = e + 1;
  }
  const neg = p.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

const rssMB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

async function main(): Promise<void> {
  const t0 = performance.now();
  const train = makeData(ROWS, 1);
  const test = makeData(20_000, 2);
  console.log(`data: ${ROWS} × ${F} train, 20000 test, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; rss ${rssMB()} MB`);
  const names = Array.from({ length: F }, (_, j) => `f${j}`);
  const params = { tree_method: "hist", max_depth: 6, eta: 0.1 } as const;

  const trainTimes: number[] = [];
  const trainCpu: number[] = [];
  let model = undefined as Awaited<ReturnType<typeof trainBoosted>> | undefined;
  for (let rep = 0; rep < REPEATS; rep++) {
    const t = performance.now();
    const c = process.cpuUsage();
    model = await trainBoosted({ X: train.X, y: train.y, featureNames: names }, { params, rounds: ROUNDS, worker: "always", backend: BACKEND });
    trainTimes.push((performance.now() - t) / 1000);
    const cu = process.cpuUsage(c);
    trainCpu.push((cu.user + cu.system) / 1e6);
    console.log(`train #${rep + 1}: ${trainTimes[rep].toFixed(1)} s, CPU ${trainCpu[rep].toFixed(1)} s (backend ${model.backend}, worker thread), peak rss so far ${rssMB()} MB`);
  }
  const m = model!;
  console.log(`model: ${m.numTrees} trees, max depth ${m.forest.maxDepth}, ${m.bytes.length} bytes; AUC (20k held out) ${auc(m.predict(test.X), test.y).toFixed(5)}`);

  const predRows = Math.min(200_000, ROWS);
  const Xp = train.X.subarray(0, predRows * F);
  const predRates: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    m.predict(Xp);
    predRates.push(predRows / ((performance.now() - t) / 1000));
  }
  const shapRows = 2_000;
  const Xs = test.X.subarray(0, shapRows * F);
  const shapRates: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    m.shap(Xs);
    shapRates.push(shapRows / ((performance.now() - t) / 1000));
  }
  const fastPhi = m.shap(Xs);
  // XGBoost's recursive TreeSHAP, which the tables replaced (treeShap): the same values, the rate before.
  const recursiveRates: number[] = [];
  let shapDiff = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    const phi = recursiveTreeShap(m.forest, Xs, shapRows, F, { minusOneIsMissing: m.meta.minusOneIsMissing });
    recursiveRates.push(shapRows / ((performance.now() - t) / 1000));
    if (rep === 0) for (let i = 0; i < phi.length; i++) shapDiff = Math.max(shapDiff, Math.abs(phi[i]! - fastPhi[i]!));
  }
  // A forest past the kept tables' budget (SHAP_TABLE_MAX_VALUES: deep forests), simulated by a budget of 0: every tree
  // read from tables built for the call (the 2,000 rows pay for them), else the recursion's rate above.
  prepareTreeShap(m.forest, { maxTableValues: 0 });
  const pastBudgetRates: number[] = [];
  let pastBudgetDiff = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    const phi = m.shap(Xs);
    pastBudgetRates.push(shapRows / ((performance.now() - t) / 1000));
    if (rep === 0) for (let i = 0; i < phi.length; i++) pastBudgetDiff = Math.max(pastBudgetDiff, Math.abs(phi[i]! - fastPhi[i]!));
  }
  const { temporaryFrom } = treeShapForms(m.forest);
  prepareTreeShap(m.forest);
  const wasm = await createWasmBackend();
  const wasmRows = 50_000;
  let t = performance.now();
  wasm.predict(m.bytes, Xp.subarray(0, wasmRows * F), wasmRows, F);
  const wasmRate = wasmRows / ((performance.now() - t) / 1000);
  wasm.dispose();

  console.log("");
  console.log(`train time (median of ${REPEATS}): ${median(trainTimes).toFixed(1)} s   [${trainTimes.map((x) => x.toFixed(1)).join(", ")}]; CPU (all threads, the figure a busy machine inflates least) ${median(trainCpu).toFixed(1)} s`);
  console.log(`predict (TS, ${predRows} rows, median of 3): ${Math.round(median(predRates)).toLocaleString("en")} rows/s`);
  console.log(`predict (WASM predict_one, ${wasmRows} rows): ${Math.round(wasmRate).toLocaleString("en")} rows/s`);
  console.log(`TreeSHAP (TS, ${shapRows} rows, median of 3): ${Math.round(median(shapRates)).toLocaleString("en")} rows/s from the leaf and route tables (the first call builds them); ${Math.round(median(recursiveRates)).toLocaleString("en")} rows/s with the recursive algorithm (${(median(shapRates) / median(recursiveRates)).toFixed(1)}×, max |Δφ| ${shapDiff.toExponential(1)})`);
  console.log(`TreeSHAP past the tables' budget (no tree's tables kept; built for each call from ${Math.min(...temporaryFrom)}–${Math.max(...temporaryFrom)} rows a tree, else the recursion): ${Math.round(median(pastBudgetRates)).toLocaleString("en")} rows/s (${(median(pastBudgetRates) / median(recursiveRates)).toFixed(1)}× the recursion, max |Δφ| ${pastBudgetDiff.toExponential(1)})`);
  console.log(`peak RSS (process incl. worker): ${rssMB()} MB`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
