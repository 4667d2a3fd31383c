/**
 * The ML attribution's refusal rule on measured benchmark worlds (issue #16: "its refusal rule is shown to reject only
 * models whose credit is worse"): reads `bench/accuracy.ts --json` files and prints, per candidate rule on the signals
 * the job measures, how many ML models it refuses / publishes whose credit is worse / not worse than the best heuristic
 * and than the recommended non-ML model, then the benchmark's own evaluation (formatEvaluation).
 *
 *   npx tsx bench/studies/ml-refusal.ts /tmp/seeds-1-2-3.json [/tmp/fresh.json …]
 *
 * One point per world × ML family × credit method; the job refuses or publishes all of a world's ML models together on
 * XGBoost's test window, so every signal is the job's (mlMetrics), not the family's.
 */
import fs from "node:fs";
import { formatEvaluation, HEURISTICS, refusalTable } from "../../src/benchmark/evaluation.ts";
import { aucLowerBoundFor } from "../../src/ml-attribution/validation.ts";
import { recommendModels, type DataShape } from "../../src/models/recommendation.ts";
import { BENCHMARK_REFERENCE } from "../../src/benchmark/reference.ts";
import type { WorldResult } from "../../src/benchmark/run.ts";

const files = process.argv.slice(2);
if (!files.length) throw new Error("usage: npx tsx bench/studies/ml-refusal.ts RESULTS.json [MORE.json …]");
for (const file of files) {
  const results = JSON.parse(fs.readFileSync(file, "utf8")) as WorldResult[];
  type Point = Parameters<typeof refusalTable>[0][number] & { signals: Record<string, number> };
  const points: Point[] = [];
  for (const r of results) {
    const name = `${r.world.family}/s${r.world.seed}`;
    const m = r.mlMetrics;
    if (m.auc === undefined || m.n_test === undefined || m.base_rate === undefined) continue;
    const heur = Math.min(...r.models.filter((x) => HEURISTICS.includes(x.model)).map((x) => x.l1Incremental));
    // What the reader is given when ML is refused: the recommendation among the non-ML models, from the reference
    // (src/benchmark/reference.ts, seeds 1–3) without this world.
    const candidates = r.models.filter((x) => !x.model.startsWith("ml_")).map((x) => ({ model: x.model, bootstrapL1: r.bootstrapL1?.[x.model] ?? null }));
    const rec = r.shape ? recommendModels(r.shape as DataShape, candidates, BENCHMARK_REFERENCE.filter((w) => w.world !== name)).find((x) => x.isRecommended)?.model : undefined;
    const fallback = r.models.find((x) => x.model === rec)?.l1Incremental ?? heur;
    const positives = m.n_test * m.base_rate;
    const lowerBound = aucLowerBoundFor({ auc: m.auc, positives, negatives: m.n_test - positives });
    const nullLogLoss = -(m.base_rate * Math.log(m.base_rate) + (1 - m.base_rate) * Math.log(1 - m.base_rate));
    const signals = {
      auc: m.auc, lower_bound: lowerBound, test_conversions: positives, validation_auc: m.validation_auc ?? NaN,
      calibration_error: -(m.calibration_error ?? NaN), log_loss_skill: 1 - (m.log_loss ?? NaN) / nullLogLoss,
    };
    for (const f of r.mlFamilies) {
      const acc = r.models.find((x) => x.model === f.model);
      if (!acc) continue;
      points.push({ world: name, model: f.model, auc: m.auc, lowerBound, l1: acc.l1Incremental, bestHeuristic: heur, worse: acc.l1Incremental > heur, fallback, worseThanFallback: acc.l1Incremental > fallback, signals });
    }
  }
  console.log(`\n${file}: ${results.length} worlds, ${points.length} ML points, ${points.filter((p) => p.worse).length} worse than the best heuristic, ${points.filter((p) => p.worseThanFallback).length} worse than the recommended non-ML model`);
  const row = (name: string, refuse: (p: Point) => boolean): string => {
    const a = refusalTable(points, refuse as never);
    const b = refusalTable(points, refuse as never, (p) => p.worseThanFallback);
    return `  ${name.padEnd(44)} ${[a.refusedWorse, a.refusedBetter, a.publishedWorse, a.publishedBetter].map((x) => String(x).padStart(5)).join("")}   | ${[b.refusedWorse, b.refusedBetter, b.publishedWorse, b.publishedBetter].map((x) => String(x).padStart(5)).join("")}`;
  };
  console.log(`  ${"rule (refuse when …)".padEnd(44)} vs best heuristic: r&w r&b p&w p&b | vs recommended`);
  for (const [name, rule] of [
    ["AUC < 0.70 (old default)", (p: Point) => p.signals.auc! < 0.7],
    ["AUC < 0.60", (p: Point) => p.signals.auc! < 0.6],
    ["AUC < 0.6316 (highest such floor on seeds 1–3)", (p: Point) => p.signals.auc! < 0.6316],
    ["lower 95 % bound < 0.50 (new default)", (p: Point) => p.lowerBound < 0.5],
    ["lower 95 % bound < 0.55", (p: Point) => p.lowerBound < 0.55],
    ["test conversions < 50", (p: Point) => p.signals.test_conversions! < 50 - 1e-9],
    ["validation AUC < 0.60", (p: Point) => p.signals.validation_auc! < 0.6],
    ["log-loss skill < 0 (worse than the base rate)", (p: Point) => p.signals.log_loss_skill! < 0],
  ] as Array<[string, (p: Point) => boolean]>) console.log(row(name, rule));
  // Per signal: the highest threshold that refuses only models worse than the best heuristic (the lowest value among
  // the better ones) and how many it refuses — fitted to these worlds, so an upper bound of what the signal can do.
  for (const k of Object.keys(points[0]?.signals ?? {})) {
    const better = points.filter((p) => !p.worse).map((p) => p.signals[k]!).filter(Number.isFinite);
    const t = better.length ? Math.min(...better) : Infinity;
    console.log(`  ${k.padEnd(18)} highest threshold refusing only worse: ${t.toFixed(3)} → refuses ${points.filter((p) => p.signals[k]! < t).length}`);
  }
  console.log(formatEvaluation(results));
}
