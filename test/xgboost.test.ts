import { mulberry32 } from "../src/models/numeric.ts";
import assert from "node:assert/strict";
import {
  bestPrefix,
  createWasmBackend,
  featureImportance,
  loadModel,
  parseModel,
  predictMargin,
  predictProba,
  stagedMargins,
  trainBoosted,
  treeShap,
  recursiveTreeShap,
  treeShapForms,
  prepareTreeShap,
  truncateModelBytes,
  XGBoostError,
  XGBoostInputError,
  XGBoostModelFormatError,
  createNativeBackend,
  type NativeBackend,
  type WasmBackend,
} from "../src/models/xgboost/index.ts";
import { ForestTeam, onAllCores, TEAM_BLOCK_ROWS } from "../src/models/xgboost/forest-team.ts";

const rng = mulberry32;

/** Marketing-like rows: 4 channel flags, a touch count, a path length, a code; some NaN (missing). */
function makeData(n: number, seed: number, missingRate = 0.05): { X: Float32Array; y: Float32Array; F: number } {
  const r = rng(seed);
  const F = 7;
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = X.subarray(i * F, (i + 1) * F);
    for (let j = 0; j < 4; j++) row[j] = r() < 0.4 ? 1 : 0;
    row[4] = Math.floor(r() * 6);
    row[5] = 1 + Math.floor(r() * 8);
    row[6] = Math.floor(r() * 3);
    for (let j = 4; j < F; j++) if (r() < missingRate) row[j] = NaN;
    const z = -2 + 1.2 * row[0] + 0.8 * row[1] * row[2] - 0.5 * row[3] + 0.2 * (row[4] || 0) + (row[6] === 2 ? 0.7 : 0);
    y[i] = r() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, y, F };
}

const names = (F: number): string[] => Array.from({ length: F }, (_, j) => `f${j}`);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("xgboost engine", function () {
  let wasm: WasmBackend;
  before(async () => {
    wasm = await createWasmBackend();
  });

  describe("weighted training", () => {
    // 150 unique paths, 6,000 events drawn with skewed frequencies; each event is one expanded row.
    const F = 5;
    const r = rng(7);
    const nUnique = 150;
    const catalog = new Float32Array(nUnique * F);
    for (let i = 0; i < nUnique * F; i++) catalog[i] = Math.floor(r() * (i % F === 4 ? 5 : 2));
    const conv = new Float64Array(nUnique);
    const total = new Float64Array(nUnique);
    const expX: number[] = [];
    const expY: number[] = [];
    for (let e = 0; e < 6000; e++) {
      const u = Math.min(nUnique - 1, Math.floor(nUnique * r() ** 2));
      const row = catalog.subarray(u * F, (u + 1) * F);
      const p = 1 / (1 + Math.exp(-(-1.5 + row[0] + 0.7 * row[1] * row[2] - 0.6 * row[3] + 0.3 * row[4])));
      const label = r() < p ? 1 : 0;
      expX.push(...row);
      expY.push(label);
      total[u] += 1;
      conv[u] += label;
    }
    const used = [...total.keys()].filter((u) => total[u] > 0);
    const aggX = new Float32Array(used.length * F);
    const aggY = new Float32Array(used.length);
    const aggW = new Float32Array(used.length);
    used.forEach((u, k) => {
      aggX.set(catalog.subarray(u * F, (u + 1) * F), k * F);
      aggY[k] = conv[u] / total[u];
      aggW[k] = total[u];
    });
    const params = { max_depth: 4, eta: 0.3 } as const;

    it("reproduces training on the expanded rows when unique rows carry event counts as weights", async () => {
      const expanded = await trainBoosted({ X: new Float32Array(expX), y: new Float32Array(expY), featureNames: names(F) }, { params, rounds: 30 });
      const weighted = await trainBoosted({ X: aggX, y: aggY, weights: aggW, featureNames: names(F) }, { params, rounds: 30 });
      const d = maxAbsDiff(expanded.predict(aggX), weighted.predict(aggX));
      assert.ok(d < 1e-5, `max |Δp| = ${d}`);
      // Without the weights the same aggregated rows give a different (wrong) model: the injection matters.
      const unweighted = await trainBoosted({ X: aggX, y: aggY, featureNames: names(F) }, { params, rounds: 30 });
      assert.ok(maxAbsDiff(expanded.predict(aggX), unweighted.predict(aggX)) > 1e-2);
    });

    it("treats all-ones weights exactly like no weights (byte-identical model)", () => {
      const a = wasm.fit(aggX, used.length, F, aggY, { rounds: 5, params });
      const b = wasm.fit(aggX, used.length, F, aggY, { rounds: 5, params, weights: new Float32Array(used.length).fill(1) });
      assert.deepEqual(Buffer.from(a), Buffer.from(b));
    });
  });

  describe("TS model inspection", () => {
    const { X, y, F } = makeData(3000, 1);
    let bytes: Uint8Array;
    before(() => {
      bytes = wasm.fit(X, 3000, F, y, { rounds: 40, params: { max_depth: 5, eta: 0.2 } });
    });

    it("parses every byte of the binary model into a forest with one tree per round", () => {
      const forest = parseModel(bytes);
      assert.equal(forest.numTrees, 40);
      assert.equal(forest.numFeature, F);
      assert.equal(forest.objective, "binary:logistic");
      assert.ok(forest.maxDepth >= 1 && forest.maxDepth <= 5);
      assert.throws(() => parseModel(bytes.subarray(0, bytes.length - 3)), XGBoostModelFormatError);
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      assert.throws(() => parseModel(longer), /trailing bytes/);
    });

    it("predicts like XGBoost's own predict_one, missing values included (2e-6)", () => {
      const { X: Xt } = makeData(500, 2, 0.2);
      const ts = predictProba(parseModel(bytes), Xt, 500, F);
      const native = wasm.predict(bytes, Xt, 500, F);
      const d = maxAbsDiff(ts, native);
      assert.ok(d < 2e-6, `max |Δp| = ${d}`);
    });

    it("gives every tree prefix's margin in one pass, equal bit for bit to predicting with that many trees", () => {
      const forest = parseModel(bytes);
      const { X: Xt } = makeData(400, 4, 0.2);
      const stages = [0, 1, 20, 24, 28, 32, 36, 40];
      const staged = stagedMargins(forest, Xt, 400, F, stages);
      assert.equal(staged.length, stages.length);
      stages.forEach((nTrees, k) => assert.deepEqual(staged[k], predictMargin(forest, Xt, 400, F, { nTrees }), `prefix of ${nTrees} trees`));
      assert.throws(() => stagedMargins(forest, Xt, 400, F, [20, 10]), /ascending/);
      assert.throws(() => stagedMargins(forest, Xt, 400, F, [41]), /nTrees must be an integer in 0\.\.40/);
    });

    it("gives TreeSHAP rows that sum to the margin (1e-6)", () => {
      const forest = parseModel(bytes);
      const { X: Xt } = makeData(300, 3, 0.2);
      const phi = treeShap(forest, Xt, 300, F);
      const margin = predictMargin(forest, Xt, 300, F);
      let worst = 0;
      for (let i = 0; i < 300; i++) {
        let s = 0;
        for (let j = 0; j <= F; j++) s += phi[i * (F + 1) + j];
        worst = Math.max(worst, Math.abs(s - margin[i]));
      }
      assert.ok(worst < 1e-6, `max |Σφ − margin| = ${worst}`);
    });

    it("gives the same TreeSHAP values from its leaf tables and route tables as XGBoost's recursion (1e-12), -1 as missing and tree prefixes too", () => {
      const { X: Xt } = makeData(400, 5, 0.2);
      for (let i = 0; i < 400; i += 7) Xt[i * F + 5] = -1;
      for (const depth of [1, 3, 5, 8, 10]) {
        const forest = parseModel(wasm.fit(X, 3000, F, y, { rounds: 30, params: { max_depth: depth, eta: 0.3 } }));
        // Read by route in blocks of at most 8 ancestors and splits; a tree with a split under 8 ancestors is walked.
        const { routed, kept } = treeShapForms(forest);
        assert.equal(kept, forest.numTrees, `depth ${depth}: every tree's tables kept`);
        if (depth <= 8) assert.equal(routed, forest.numTrees, `depth ${depth}: every tree by route`);
        else assert.ok(routed < forest.numTrees, `depth ${depth}: ${routed} of ${forest.numTrees} trees by route`);
        for (const opts of [{}, { minusOneIsMissing: true }, { nTrees: 7 }]) {
          const fast = treeShap(forest, Xt, 400, F, opts);
          const d = maxAbsDiff(fast, recursiveTreeShap(forest, Xt, 400, F, opts));
          assert.ok(d < 1e-12, `depth ${depth}, ${JSON.stringify(opts)}: max |Δφ| = ${d}`);
          assert.ok(fast.some((v, i) => i % (F + 1) !== F && v !== 0), `depth ${depth}: some φ is not 0`);
        }
      }
    });

    it("gives XGBoost's recursion's values (1e-12) for trees past the kept tables' budget: from tables built for a call of rows enough, else by the recursion", () => {
      // Depth 10 and a budget of about one tree's tables: some trees kept, the others read from tables built for a call
      // from their temporaryFrom rows on, by the recursion below.
      const forest = parseModel(wasm.fit(X, 3000, F, y, { rounds: 30, params: { max_depth: 10, eta: 0.3 } }));
      prepareTreeShap(forest, { maxTableValues: 110_000 });
      const { kept, temporaryFrom } = treeShapForms(forest);
      const built = temporaryFrom.filter(Number.isFinite);
      assert.ok(kept > 0 && built.length > 0 && Math.min(...built) > 1, `kept ${kept}, temporaryFrom ${temporaryFrom.join(", ")}`);
      for (const rows of [Math.max(...built), Math.min(...built) - 1]) {
        const Xs = X.subarray(0, rows * F);
        for (const opts of [{}, { nTrees: 7 }]) {
          const d = maxAbsDiff(treeShap(forest, Xs, rows, F, opts), recursiveTreeShap(forest, Xs, rows, F, opts));
          assert.ok(d < 1e-12, `${rows} rows, ${JSON.stringify(opts)}: max |Δφ| = ${d}`);
        }
      }
      assert.throws(() => prepareTreeShap(forest, { maxTableValues: -1 }), /maxTableValues must be a number ≥ 0, got -1/);
    });

    it("gives predictMargin's and treeShap's values bit for bit from a team of worker threads, synchronously, block by block, and refuses calls once closed", async () => {
      const rowsMany = TEAM_BLOCK_ROWS + 1001;
      const { X: Xt } = makeData(rowsMany, 9, 0.2);
      for (let i = 0; i < rowsMany; i += 5) Xt[i * F + 3] = -1;
      const forest = parseModel(wasm.fit(X, 3000, F, y, { rounds: 40, params: { max_depth: 5, eta: 0.3 } }));
      const opts = { minusOneIsMissing: true };
      // Three threads on any machine: two workers and this thread, uneven blocks; more rows than one hand-over holds.
      const team = (await ForestTeam.open(forest, F, { ...opts, threads: 3, minWork: 0 }))!;
      const same = (got: Float64Array, want: Float64Array, what: string): void => {
        assert.equal(got.length, want.length, what);
        assert.ok(got.every((v, i) => Object.is(v, want[i])), `${what}: every value the same bits`);
      };
      try {
        for (const n of [rowsMany, 1001, 2, 1]) {
          const part = Xt.slice(0, n * F);
          same(team.shap(part, n), treeShap(forest, part, n, F, opts), `TreeSHAP of ${n} rows`);
          same(team.predictMargin(part, n), predictMargin(forest, part, n, F, opts), `margins of ${n} rows`);
        }
        assert.throws(() => team.shap(Xt.slice(0, 10 * F), 11), /X has|rows/, "a shape error names it");
      } finally {
        await team.close();
      }
      assert.throws(() => team.shap(Xt.slice(0, F), 1), /closed/);
      // One thread: no team (the caller computes here).
      assert.equal(await ForestTeam.open(forest, F, { threads: 1 }), undefined);
    });

    it("computes a model's predictions and TreeSHAP values on the team inside onAllCores, the same as without, and in this thread again after", async () => {
      const { X: Xt } = makeData(3000, 11, 0.2);
      const model = await trainBoosted({ X, y, featureNames: names(F) }, { rounds: 30, params: { max_depth: 4, eta: 0.3 } });
      const want = { p: model.predict(Xt), phi: model.shap(Xt) };
      const got = await onAllCores(model, () => ({ p: model.predict(Xt), phi: model.shap(Xt) }), { threads: 2, minWork: 0 });
      assert.ok(got.p.every((v, i) => Object.is(v, want.p[i])) && got.phi.every((v, i) => Object.is(v, want.phi[i])));
      // Refused while one is running (two evaluators would race), and free again once it has finished.
      await assert.rejects(model.computedBy(undefined, () => model.computedBy(undefined, () => 0)), /already computed by another evaluator/);
      assert.ok(model.predict(Xt).every((v, i) => Object.is(v, want.p[i])));
    });

    it("credits a one-split stump's feature with leaf value minus the cover-weighted mean", () => {
      // Stump on f0: φ_f0(x) = leaf(x) − (c_l·v_l + c_r·v_r)/(c_l + c_r); every other φ is 0; bias = base + mean.
      const stump = parseModel(wasm.fit(X, 3000, F, y, { rounds: 1, params: { max_depth: 1, eta: 1 } }));
      const root = stump.treeStart[0];
      const l = stump.left[root];
      const r = stump.right[root];
      const mean = (stump.cover[l] * stump.leafValue[l] + stump.cover[r] * stump.leafValue[r]) / stump.cover[root];
      const f = stump.feature[root];
      const row = X.slice(0, F);
      const phi = treeShap(stump, row, 1, F);
      const leaf = row[f] < stump.threshold[root] ? l : r;
      for (let j = 0; j < F; j++) assert.ok(Math.abs(phi[j] - (j === f ? stump.leafValue[leaf] - mean : 0)) < 1e-9);
      assert.ok(Math.abs(phi[F] - (stump.baseMargin + mean)) < 1e-9);
    });

    it("counts splits per feature for weight importance and averages gain per split", () => {
      const forest = parseModel(bytes);
      const w = featureImportance(forest, "weight");
      const splits = forest.feature.filter((f) => f >= 0).length;
      assert.equal(w.reduce((a, b) => a + b, 0), splits);
      const g = featureImportance(forest, "gain");
      const tg = featureImportance(forest, "total_gain");
      for (let j = 0; j < F; j++) assert.ok(Math.abs(g[j] * w[j] - tg[j]) < 1e-6 * Math.max(1, tg[j]));
      assert.ok(tg[0] > 0, "the strongest signal (f0) is used");
    });

    it("keeps the first k trees when truncating, and the truncated bytes still load in XGBoost", () => {
      const forest = parseModel(bytes);
      const cut = truncateModelBytes(bytes, 12);
      const small = parseModel(cut);
      assert.equal(small.numTrees, 12);
      const { X: Xt } = makeData(200, 4);
      const a = predictProba(forest, Xt, 200, F, { nTrees: 12 });
      assert.ok(maxAbsDiff(a, predictProba(small, Xt, 200, F)) === 0);
      assert.ok(maxAbsDiff(a, wasm.predict(cut, Xt, 200, F)) < 2e-6);
    });
  });

  describe("early stopping", () => {
    it("keeps the tree count with the lowest weighted validation log loss on a model that overfits", async () => {
      // Labels are pure noise with p = 0.3, features are continuous: every tree after the first few
      // fits noise, so the validation loss has an interior minimum.
      const r = rng(11);
      const F = 6;
      const mk = (n: number) => {
        const X = new Float32Array(n * F).map(() => r() * 10);
        const y = new Float32Array(n).map(() => (r() < 0.3 ? 1 : 0));
        const w = new Float32Array(n).map(() => 1 + Math.floor(r() * 3));
        return { X, y, w };
      };
      const tr = mk(1500);
      const va = mk(1500);
      const params = { max_depth: 6, eta: 0.3, min_child_weight: 0 };
      const full = await trainBoosted({ X: tr.X, y: tr.y, featureNames: names(F) }, { params, rounds: 60 });
      // Hand computation of the curve from the untruncated model.
      const fullLoss: number[] = [];
      let wSum = 0;
      for (let i = 0; i < 1500; i++) wSum += va.w[i];
      for (let k = 1; k <= 60; k++) {
        const p = predictProba(full.forest, va.X, 1500, F, { nTrees: k });
        let s = 0;
        for (let i = 0; i < 1500; i++) s -= va.w[i] * (va.y[i] ? Math.log(p[i]) : Math.log(1 - p[i]));
        fullLoss.push(s / wSum);
      }
      const argmin = fullLoss.indexOf(Math.min(...fullLoss));
      assert.ok(argmin < 40, `noise should overfit early; argmin = ${argmin}`);
      assert.ok(fullLoss[59] > fullLoss[argmin] + 0.01);

      const stopped = await trainBoosted(
        { X: tr.X, y: tr.y, featureNames: names(F) },
        { params, rounds: 60, validation: { X: va.X, y: va.y, weights: va.w } },
      );
      assert.equal(stopped.meta.bestIteration, argmin);
      assert.equal(stopped.numTrees, argmin + 1);
      assert.equal(stopped.meta.roundsTrained, 60);
      assert.ok(maxAbsDiff(stopped.meta.validationLogLoss!, fullLoss) < 1e-6);
      assert.ok(maxAbsDiff(stopped.predict(va.X), predictProba(full.forest, va.X, 1500, F, { nTrees: argmin + 1 })) === 0);
    });

    it("stops at the first best round once `patience` rounds bring no improvement", () => {
      //            0    1    2    3    4    5    6    7
      const loss = [0.9, 0.7, 0.6, 0.65, 0.66, 0.62, 0.5, 0.4];
      assert.equal(bestPrefix(loss), 7);
      assert.equal(bestPrefix(loss, 3), 2); // rounds 3, 4, 5 do not beat 0.6 → stop, keep round 2
      assert.equal(bestPrefix(loss, 4), 7);
      assert.equal(bestPrefix([0.5, 0.5, 0.5]), 0); // ties keep the earliest
    });
  });

  describe("input validation and errors", () => {
    const { X, y, F } = makeData(200, 5, 0);
    it("refuses a NaN label with the row number", () => {
      const bad = y.slice();
      bad[17] = NaN;
      assert.throws(() => wasm.fit(X, 200, F, bad, { rounds: 2 }), (e: Error) => e instanceof XGBoostInputError && /y\[17\]/.test(e.message));
    });
    it("refuses unknown and out-of-range parameters", async () => {
      await assert.rejects(
        trainBoosted({ X, y, featureNames: names(F) }, { params: { max_dept: 3 } as never, rounds: 2 }),
        (e: Error) => e instanceof XGBoostInputError && /Unknown XGBoost parameter "max_dept"/.test(e.message),
      );
      assert.throws(() => wasm.fit(X, 200, F, y, { rounds: 2, params: { eta: 0 } }), /eta=0 must be > 0/);
      assert.throws(() => wasm.fit(X, 200, F, y, { rounds: 2, params: { tree_method: "gpu_hist" as never } }), /tree_method/);
      assert.throws(() => wasm.fit(X, 200, F, y, { rounds: 0 }), /rounds must be an integer/);
    });
    it("refuses a real -1 feature value unless -1 is declared as missing", () => {
      const Xm = X.slice();
      Xm[3 * F + 2] = -1;
      assert.throws(() => wasm.fit(Xm, 200, F, y, { rounds: 2 }), /X\[row 3, col 2\] is exactly -1/);
      assert.doesNotThrow(() => wasm.fit(Xm, 200, F, y, { rounds: 2, minusOneIsMissing: true }));
    });
    it("refuses infinite features, negative weights and oversized matrices", () => {
      const Xi = X.slice();
      Xi[5] = Infinity;
      assert.throws(() => wasm.fit(Xi, 200, F, y, { rounds: 2 }), /must be finite/);
      const w = new Float32Array(200).fill(1);
      w[9] = -1;
      assert.throws(() => wasm.fit(X, 200, F, y, { rounds: 2, weights: w }), /weight\[9\]/);
      assert.throws(() => wasm.fit(new Float32Array(0), 10_000_000, 10, new Float32Array(0), { rounds: 1 }), /exceeds the cap/);
    });
    it("surfaces XGBoost's own exception text as an XGBoostError", () => {
      assert.throws(
        () => wasm.predict(new Uint8Array(8), new Float32Array(F), 1, F),
        (e: Error) => e instanceof XGBoostError && /wrong model format/.test(e.message),
      );
    });
    it("rejects tagged JSON of another type", () => {
      assert.throws(() => loadModel({ type: "something.else", version: 1 }), /type is "something.else"/);
    });
  });

  describe("wrapper hygiene and determinism", () => {
    const { X, y, F } = makeData(1000, 6);
    it("leaves no uncaughtException listener and prints nothing", async () => {
      const listeners = process.listeners("uncaughtException").length;
      const written: string[] = [];
      const out = process.stdout.write.bind(process.stdout);
      const err = process.stderr.write.bind(process.stderr);
      const capture = (chunk: unknown): boolean => (written.push(String(chunk)), true);
      process.stdout.write = capture as typeof process.stdout.write;
      process.stderr.write = capture as typeof process.stderr.write;
      try {
        const fresh = await createWasmBackend();
        fresh.fit(X, 1000, F, y, { rounds: 3, params: { tree_method: "hist" } });
        fresh.fit(X, 1000, F, y, { rounds: 3, params: { tree_method: "exact" } });
        try {
          fresh.predict(new Uint8Array(200), new Float32Array(F), 1, F);
        } catch {
          /* expected */
        }
        await new Promise((r) => setTimeout(r, 50)); // the 2018 glue printed its streaming warning asynchronously
      } finally {
        process.stdout.write = out;
        process.stderr.write = err;
      }
      assert.deepEqual(written, []);
      assert.equal(process.listeners("uncaughtException").length, listeners);
    });

    it("gives byte-identical models when training twice, also with row subsampling and a seed", () => {
      for (const params of [{}, { subsample: 0.7, colsample_bytree: 0.8, seed: 42 }]) {
        const a = wasm.fit(X, 1000, F, y, { rounds: 10, params });
        const b = wasm.fit(X, 1000, F, y, { rounds: 10, params });
        assert.deepEqual(Buffer.from(a), Buffer.from(b));
      }
    });

    it("does not grow the wasm heap over repeated fits and failed calls", () => {
      const before = wasm.heapBytes;
      for (let i = 0; i < 15; i++) {
        wasm.fit(X, 1000, F, y, { rounds: 3 });
        assert.throws(() => wasm.predict(new Uint8Array(8), new Float32Array(F), 1, F), XGBoostError);
      }
      assert.equal(wasm.heapBytes, before);
    });

    it("trains in a worker thread under tsx with the same bytes as in-process", async () => {
      const inProc = await trainBoosted({ X, y, featureNames: names(F) }, { rounds: 8, worker: "never" });
      const inWorker = await trainBoosted({ X, y, featureNames: names(F) }, { rounds: 8, worker: "always" });
      assert.equal(inWorker.backend, "wasm");
      assert.deepEqual(Buffer.from(inWorker.bytes), Buffer.from(inProc.bytes));
      await assert.rejects(
        trainBoosted({ X, y: y.map(() => 2), featureNames: names(F) }, { rounds: 2, worker: "always" }),
        XGBoostInputError,
      );
    });

    it("round-trips through tagged JSON with identical predictions", async () => {
      const m = await trainBoosted({ X, y, featureNames: names(F) }, { rounds: 6 });
      const json = JSON.parse(JSON.stringify(m));
      assert.equal(json.type, "funnelcredit.xgboost");
      assert.equal(json.backend, "wasm");
      const back = loadModel(json);
      assert.deepEqual(back.featureNames, names(F));
      assert.ok(maxAbsDiff(back.predict(X), m.predict(X)) === 0);
      assert.deepEqual(back.meta.params, m.meta.params);
    });
  });

  // Runs where koffi + Debian libxgboost0 are installed (CI installs both); skipped otherwise.
  describe("native backend (koffi + libxgboost0)", function () {
    let native: NativeBackend;
    before(async function () {
      const probe = await createNativeBackend();
      if (!probe.ok) {
        console.log(`      (skipped: ${probe.reason})`);
        this.skip();
      } else native = probe.backend;
    });
    const { X, y, F } = makeData(2000, 8, 0.1);

    it("produces 0.7 binary bytes that TS, WASM and native XGBoost predict alike (2e-6)", () => {
      const bytes = native.fit(X, 2000, F, y, { rounds: 25, params: { max_depth: 4 } });
      const ts = predictProba(parseModel(bytes), X, 2000, F);
      assert.ok(maxAbsDiff(ts, native.predict(bytes, X, 2000, F)) < 2e-6);
      assert.ok(maxAbsDiff(ts, wasm.predict(bytes, X, 2000, F)) < 2e-6);
    });

    it("matches native pred_contribs with the TS TreeSHAP (1e-5, float32 in native)", () => {
      const bytes = wasm.fit(X, 2000, F, y, { rounds: 25, params: { max_depth: 5 } });
      const rows = 300;
      const Xs = X.subarray(0, rows * F);
      const d = maxAbsDiff(treeShap(parseModel(bytes), Xs, rows, F), native.predictContributions(bytes, Xs, rows, F));
      assert.ok(d < 1e-5, `max |Δφ| = ${d}`);
    });

    it("runs in a worker when chosen and records the backend on the model", async () => {
      const m = await trainBoosted({ X, y, featureNames: names(F) }, { rounds: 5, backend: "native", worker: "always" });
      assert.equal(m.backend, "native");
      assert.match(m.meta.backendVersion, /^xgboost 1\./);
      const again = await trainBoosted({ X, y, featureNames: names(F) }, { rounds: 5, backend: "auto", worker: "never" });
      assert.deepEqual(Buffer.from(again.bytes), Buffer.from(m.bytes));
    });

    it("surfaces the native error text", () => {
      assert.throws(
        () => native.predict(new Uint8Array(16), new Float32Array(F), 1, F),
        (e: Error) => e instanceof XGBoostError && /wrong model format/.test(e.message) && !/Stack trace/.test(e.message),
      );
    });
  });
});
