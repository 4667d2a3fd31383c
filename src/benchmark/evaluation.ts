/**
 * What the measured benchmark worlds say about the product's choices, leave-one-world-out so no world
 * judges a rule it helped make: the model recommendation (src/models/recommendation.ts) against last
 * touch and the best heuristic, the coverage of the published 90 % intervals (bootstrap widened by a
 * conformal quantile), and where the ML AUC floor rejects only models whose credit is worse. Pure: no I/O.
 */
import { SIMILAR_WORLDS, calibratedMargin, recommendModels, type DataShape } from "../models/recommendation.ts";
import { widenedInterval } from "../models/credit-interval.ts";
import { referenceWorlds } from "./reference-source.ts";
import { aucEvidenceFromMetrics, aucLowerBoundFor } from "../ml-attribution/validation.ts";
import type { WorldResult } from "./run.ts";

/** The rule-based models (no fitting): what a data-driven model has to beat. */
export const HEURISTICS = ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"];

/** The result fields the evaluation reads (a WorldResult, or one read back from a bench --json file). */
type EvaluatedWorld = Pick<WorldResult, "truth" | "models" | "mlFamilies" | "mlMetrics" | "recommended" | "bootstrapL1" | "shape"> & { world: { family: string; seed: number } };

interface RecommendationCheck {
  world: string;
  family: string;
  recommended: string;
  l1: number;
  lastTouch: number;
  bestHeuristic: { model: string; l1: number };
}

/**
 * For each world, the model recommended from the other worlds' reference (and the world's own bootstrap
 * L1 when it was measured), and its L1 to the true incremental shares beside last touch's and the best
 * heuristic's. The candidates are the models of channel_credit_by_model the world has with a reference.
 */
function leaveOneOutRecommendation(results: readonly EvaluatedWorld[]): RecommendationCheck[] {
  const reference = referenceWorlds(results as WorldResult[]);
  const out: RecommendationCheck[] = [];
  for (const r of results) {
    if (!r.shape) continue;
    const name = `${r.world.family}/s${r.world.seed}`;
    const others = reference.filter((w) => w.world !== name);
    const candidates = r.models.filter((m) => !m.model.startsWith("ml_")).map((m) => ({ model: m.model, bootstrapL1: r.bootstrapL1?.[m.model] ?? null }));
    const top = recommendModels(r.shape as DataShape, candidates, others).find((x) => x.isRecommended);
    if (!top) continue;
    const l1 = (m: string): number => r.models.find((x) => x.model === m)?.l1Incremental ?? NaN;
    const heur = r.models.filter((m) => HEURISTICS.includes(m.model)).sort((a, b) => a.l1Incremental - b.l1Incremental)[0]!;
    out.push({ world: name, family: r.world.family, recommended: top.model, l1: l1(top.model), lastTouch: l1("last_touch"), bestHeuristic: { model: heur.model, l1: heur.l1Incremental } });
  }
  return out;
}

interface IntervalCheck {
  world: string;
  family: string;
  model: string;
  /** The model had a bootstrap interval on the world (else the interval is share ± q). */
  bootstrapped: boolean;
  /** Mean width of the published intervals over the world's channels (hi − lo, after clipping to [0, 1]). */
  width: number;
  channels: number;
  /** Channels whose true incremental share lies in the published interval. */
  inside: number;
}

/**
 * The product's published 90 % interval (credit-interval.ts: the bootstrap interval widened by calibratedMargin's
 * conformal quantile; share ± q without one) for every model of every world, calibrated on the other worlds only
 * (leave-one-world-out), and how many of the world's channels have their true incremental share inside.
 */
export function publishedIntervals(results: readonly EvaluatedWorld[], k = SIMILAR_WORLDS): IntervalCheck[] {
  const reference = referenceWorlds(results as WorldResult[]);
  const out: IntervalCheck[] = [];
  for (const r of results) {
    const name = `${r.world.family}/s${r.world.seed}`;
    if (!r.shape) continue;
    const others = reference.filter((w) => w.world !== name);
    for (const m of r.models) {
      const bootstrapped = m.bootstrapIntervals != null;
      const q = calibratedMargin(r.shape as DataShape, m.model, others, bootstrapped, k);
      if (q === null) continue;
      let inside = 0;
      let width = 0;
      for (const c of r.truth.channels) {
        const share = m.shares[c] ?? 0;
        const iv = widenedInterval(share, m.bootstrapIntervals?.[c] ?? { lo: share, hi: share }, q);
        const t = r.truth.incremental[c] ?? 0;
        if (t >= iv.lo - 1e-12 && t <= iv.hi + 1e-12) inside++;
        width += iv.hi - iv.lo;
      }
      const n = r.truth.channels.length;
      out.push({ world: name, family: r.world.family, model: m.model, bootstrapped, width: n ? width / n : 0, channels: n, inside });
    }
  }
  return out;
}

/** Coverage (channels inside / channels), the lowest world's coverage and the mean width of a set of interval checks. */
export function intervalSummary(checks: readonly IntervalCheck[]): { coverage: number; minWorld: number; width: number; channels: number } {
  const n = checks.reduce((s, c) => s + c.channels, 0);
  const byWorld = new Map<string, { inside: number; n: number }>();
  for (const c of checks) {
    const w = byWorld.get(c.world) ?? { inside: 0, n: 0 };
    byWorld.set(c.world, { inside: w.inside + c.inside, n: w.n + c.channels });
  }
  return {
    coverage: n ? checks.reduce((s, c) => s + c.inside, 0) / n : NaN,
    minWorld: Math.min(...[...byWorld.values()].map((w) => w.inside / w.n)),
    width: n ? checks.reduce((s, c) => s + c.width * c.channels, 0) / n : NaN,
    channels: n,
  };
}

interface AucPoint {
  world: string;
  model: string;
  /** The test AUC the refusal rule reads: the job's (XGBoost's), which refuses or publishes all its models together. */
  auc: number;
  /** Lower end of that AUC's 95 % interval (Hanley–McNeil on the test window's journeys), what vars.ml_min_auc is compared with. */
  lowerBound: number;
  l1: number;
  /** The best heuristic's L1 in the same world. */
  bestHeuristic: number;
  /** The ML credit is further from the true incremental shares than the best heuristic (the yardstick of issue #16's targets). */
  worse: boolean;
  /** L1 of what the reader gets when the model is refused: the recommended non-ML model's (else the best heuristic's). */
  fallback: number;
  /** The ML credit is further from the true incremental shares than that fallback. */
  worseThanFallback: boolean;
}

/**
 * Every ML family × credit method of every world, its L1 to the true incremental shares, whether it is worse than the
 * best heuristic and than the recommended non-ML model, and the evidence the refusal rule reads: the job's test AUC
 * and its lower 95 % bound (from mlMetrics: auc, n_test, base_rate). A world without them has no points.
 */
function aucPoints(results: readonly EvaluatedWorld[], recommended: ReadonlyMap<string, string> = new Map()): AucPoint[] {
  const out: AucPoint[] = [];
  for (const r of results) {
    const heur = Math.min(...r.models.filter((m) => HEURISTICS.includes(m.model)).map((m) => m.l1Incremental));
    const rec = recommended.get(`${r.world.family}/s${r.world.seed}`);
    const fallback = r.models.find((m) => m.model === rec)?.l1Incremental ?? heur;
    const evidence = aucEvidenceFromMetrics(r.mlMetrics);
    if (!evidence || !Number.isFinite(evidence.auc)) continue;
    const { auc } = evidence;
    const lowerBound = aucLowerBoundFor(evidence);
    for (const f of r.mlFamilies) {
      const m = r.models.find((x) => x.model === f.model);
      if (!m) continue;
      out.push({ world: `${r.world.family}/s${r.world.seed}`, model: f.model, auc, lowerBound, l1: m.l1Incremental, bestHeuristic: heur, worse: m.l1Incremental > heur, fallback, worseThanFallback: m.l1Incremental > fallback });
    }
  }
  return out;
}

interface RefusalTable {
  refusedWorse: number;
  refusedBetter: number;
  publishedWorse: number;
  publishedBetter: number;
}

/**
 * The confusion table of a refusal rule: models it refuses / publishes whose credit is worse / not worse
 * (`worse` says which comparison). A rule that "rejects only models whose credit is worse" has refusedBetter = 0.
 */
export function refusalTable(points: readonly AucPoint[], refuse: (p: AucPoint) => boolean, worse: (p: AucPoint) => boolean = (p) => p.worse): RefusalTable {
  const t = { refusedWorse: 0, refusedBetter: 0, publishedWorse: 0, publishedBetter: 0 };
  for (const p of points) {
    if (refuse(p)) worse(p) ? t.refusedWorse++ : t.refusedBetter++;
    else worse(p) ? t.publishedWorse++ : t.publishedBetter++;
  }
  return t;
}

/**
 * The AUC floor that leaves the reader closest to the truth: over the candidate floors (every measured AUC
 * and `extra`), the mean L1 of what the reader gets — the ML credit when its AUC reaches the floor, the
 * fallback (the recommended model) when refused. Ties: the lower floor.
 */
export function bestAucFloor(points: readonly AucPoint[], extra: readonly number[] = []): { floor: number; meanL1: number }[] {
  const floors = [...new Set([0, ...extra, ...points.map((p) => p.auc)])].sort((a, b) => a - b);
  return floors.map((f) => ({ floor: f, meanL1: points.reduce((s, p) => s + (p.auc >= f ? p.l1 : p.fallback), 0) / points.length }))
    .sort((a, b) => a.meanL1 - b.meanL1 || a.floor - b.floor);
}

/**
 * The highest AUC floor that refuses only worse models: the lowest AUC of a model that is not worse
 * (every model below it is worse). null when no model is better than the best heuristic (then no floor
 * protects credit quality: every model would have to be refused). Also what a floor refuses.
 */
export function calibrateAucFloor(points: readonly AucPoint[]): { floor: number | null; refusedAt: (floor: number) => { refused: number; refusedButBetter: number; published: number; publishedButWorse: number } } {
  const good = points.filter((p) => !p.worse).map((p) => p.auc);
  const floor = good.length ? Math.min(...good) : null;
  return {
    floor,
    refusedAt: (f) => ({
      refused: points.filter((p) => p.auc < f).length,
      refusedButBetter: points.filter((p) => p.auc < f && !p.worse).length,
      published: points.filter((p) => p.auc >= f).length,
      publishedButWorse: points.filter((p) => p.auc >= f && p.worse).length,
    }),
  };
}


/** The evaluation as the bench prints it. */
export function formatEvaluation(results: readonly EvaluatedWorld[], fixedFloor = 0.7, boundFloor = 0.5): string {
  const lines: string[] = [];
  const loo = leaveOneOutRecommendation(results);
  lines.push("model recommendation, leave-one-world-out (L1 to the true incremental shares; target: ≤ 0.6 × last touch and ≤ 0.8 × best heuristic):");
  for (const family of [...new Set(loo.map((x) => x.family))]) {
    const xs = loo.filter((x) => x.family === family);
    const mean = (f: (x: RecommendationCheck) => number): number => xs.reduce((s, x) => s + f(x), 0) / xs.length;
    const l1 = mean((x) => x.l1);
    const lt = mean((x) => x.lastTouch);
    const heur = mean((x) => x.bestHeuristic.l1);
    const picks = [...new Set(xs.map((x) => x.recommended))].join(", ");
    const ok = l1 <= 0.6 * lt && l1 <= 0.8 * heur;
    lines.push(`  ${family.padEnd(15)} ${picks.padEnd(28)} ${l1.toFixed(3)} = ${(l1 / lt).toFixed(2)} × last touch (${lt.toFixed(3)}), ${(l1 / heur).toFixed(2)} × best heuristic per world (${heur.toFixed(3)}): ${ok ? "met" : "NOT met"}`);
  }
  const rec = new Map(loo.map((x) => [x.world, x.recommended]));
  const checks = publishedIntervals(results);
  if (checks.length) {
    const fmt = (xs: readonly IntervalCheck[]): string => {
      const s = intervalSummary(xs);
      return `${(100 * s.coverage).toFixed(0)} % of ${s.channels} (lowest world ${(100 * s.minWorld).toFixed(0)} %), mean width ${(100 * s.width).toFixed(1)} points`;
    };
    const recommended = checks.filter((c) => rec.get(c.world) === c.model);
    lines.push(`published 90 % intervals (bootstrap widened by the conformal quantile of the other worlds' errors; share ± q without a bootstrap), leave-one-world-out: share of channels whose true incremental share they cover (target ≥ 85 %):`);
    lines.push(`  ${"all families".padEnd(15)} every model ${fmt(checks)}; bootstrapped models ${fmt(checks.filter((c) => c.bootstrapped))}; recommended model ${fmt(recommended)}`);
    for (const family of [...new Set(checks.map((c) => c.family))]) {
      lines.push(`  ${family.padEnd(15)} every model ${fmt(checks.filter((c) => c.family === family))}; recommended model ${fmt(recommended.filter((c) => c.family === family))}`);
    }
  }
  const pts = aucPoints(results, rec);
  if (pts.length) {
    const c = calibrateAucFloor(pts);
    const at = (f: number): string => { const r = c.refusedAt(f); return `refuses ${r.refused} (${r.refusedButBetter} of them better than the best heuristic), publishes ${r.published} (${r.publishedButWorse} of them worse)`; };
    const cells = (t: RefusalTable): string => [t.refusedWorse, t.refusedBetter, t.publishedWorse, t.publishedBetter].map((x) => String(x).padStart(5)).join("");
    const rules: Array<[string, (p: AucPoint) => boolean]> = [
      [`AUC < ${fixedFloor.toFixed(2)} (the old floor)`, (p) => p.auc < fixedFloor],
      [`AUC's lower 95 % bound < ${boundFloor.toFixed(2)} (vars.ml_min_auc)`, (p) => p.lowerBound < boundFloor],
    ];
    lines.push(`ML refusal rule (${pts.length} family × method × world points; the job refuses or publishes all its models on XGBoost's test window; worse = further from the true incremental shares than the best heuristic / than the recommended non-ML model):`);
    lines.push(`  ${"rule".padEnd(48)}  best heuristic: ref&worse ref&better pub&worse pub&better   recommended: the same`);
    for (const [name, refuse] of rules) lines.push(`  ${name.padEnd(48)}  ${cells(refusalTable(pts, refuse)).padEnd(43)}   ${cells(refusalTable(pts, refuse, (p) => p.worseThanFallback))}`);
    lines.push(c.floor === null ? "  no ML credit beat the best heuristic: no floor refuses only worse models" : `  highest AUC floor refusing only worse models: ${c.floor.toFixed(3)}: ${at(c.floor)}`);
    const ranked = bestAucFloor(pts, [fixedFloor]);
    const meanAt = (f: number): number => ranked.find((x) => x.floor === f)!.meanL1;
    const boundMean = pts.reduce((sum, p) => sum + (p.lowerBound >= boundFloor ? p.l1 : p.fallback), 0) / pts.length;
    lines.push(`  mean L1 of the credit the reader gets (ML when published, else the recommended model): floor 0 ${meanAt(0).toFixed(3)}, AUC ≥ ${fixedFloor.toFixed(2)} ${meanAt(fixedFloor).toFixed(3)}, lower bound ≥ ${boundFloor.toFixed(2)} ${boundMean.toFixed(3)}, best AUC floor ${ranked[0]!.floor.toFixed(3)} ${ranked[0]!.meanL1.toFixed(3)} (${at(ranked[0]!.floor)})`);
    const sorted = [...pts].sort((a, b) => a.auc - b.auc);
    lines.push(`  AUC (lower bound) → worse than the best heuristic: ${[...new Set(sorted.map((p) => p.world))].map((w) => { const ps = sorted.filter((p) => p.world === w); return `${ps[0]!.auc.toFixed(2)} (${ps[0]!.lowerBound.toFixed(2)}) ${ps.map((p) => (p.worse ? "✗" : "✓")).join("")}`; }).join("  ")}`);
  }
  return lines.join("\n");
}
