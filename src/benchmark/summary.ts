/**
 * Benchmark results as rows for `<base>_meta.model_accuracy` / `benchmark_truth`, and as a printed table:
 * per family × model the L1 distances averaged over the seeds run. Pure: no I/O.
 */
import type { Row } from "../engines/engine.ts";
import type { WorldResult } from "./run.ts";

export function accuracyRows(runId: string, results: readonly WorldResult[], measuredAt: Date): Row[] {
  return results.flatMap((r) => r.models.map((m) => ({
    run_id: runId, world: r.name, family: r.world.family, seed: r.world.seed, users: r.world.users,
    channels: r.world.channels.length, journeys: r.world.journeys, model: m.model,
    l1_to_true_shapley: m.l1Shapley, l1_to_true_incremental: m.l1Incremental,
    spearman: m.spearman, spearman_incremental: m.spearmanIncremental,
    interval_coverage_shapley: m.coverageShapley, interval_coverage_incremental: m.coverageIncremental,
    observed_conversions: r.observedConversions, measured_at: measuredAt,
  })));
}

/**
 * Issue #17's comparison also holds the credit estimates that are no conversion model: the SQL models self_controlled
 * (its causal estimate) and excitation_linear, and the ML job's double-ML effects. They predict no conversion
 * probability, so AUC, log loss, Brier and calibration are not defined for them: null, with the reason.
 */
const NO_PREDICTION: Record<string, string> = {
  causal_dml: "double ML estimates each channel's effect on conversion; it predicts no conversion probability, so AUC, log loss, Brier and calibration are not defined",
  self_controlled: "a SQL estimate (self-controlled case series on channel_excitation): it credits channels from each user's conversions after their sessions and predicts no conversion probability, so AUC, log loss, Brier and calibration are not defined",
  excitation_linear: "a SQL rule (linear credit without the responsive channels of channel_excitation): nothing is fitted and no conversion probability predicted, so AUC, log loss, Brier and calibration are not defined",
};

/** The SQL estimates of the comparison: model (= family), method, and the actions whose seconds are its fit and its credit. */
const SQL_ESTIMATES = [
  { model: "self_controlled", method: "case_series", fitAction: "channel_excitation", creditAction: "self_controlled_channel_credit" },
  { model: "excitation_linear", method: "linear_non_responsive", fitAction: "channel_excitation", creditAction: "excitation_linear_channel_credit" },
];

/** Seconds of the run's action named `table` (run records name SQL actions schema.table); null when not recorded. */
function secondsOf(r: Pick<WorldResult, "actionSeconds">, table: string): number | null {
  const hit = Object.entries(r.actionSeconds ?? {}).find(([a]) => a === table || a.endsWith(`.${table}`));
  return hit ? hit[1] : null;
}

/**
 * One row per world × ML family × credit method: the family's held-out metrics beside its credit's L1; then one
 * row per SQL estimate the world has (self_controlled, excitation_linear) with its accuracy, the seconds of its SQL
 * (fit: channel_excitation, shared by both; credit: its credit table) and null predictive metrics with the reason.
 */
export function mlFamilyRows(runId: string, results: readonly WorldResult[], measuredAt: Date): Row[] {
  const num = (m: Record<string, number>, k: string): number | null => (Number.isFinite(m[k]) ? m[k]! : null);
  return results.flatMap((r) => [
    ...r.mlFamilies.map((f) => {
      const acc = r.models.find((m) => m.model === f.model);
      return {
        run_id: runId, world: r.name, family: r.world.family, ml_family: f.family, method: f.method, model: f.model,
        auc: num(f.metrics, "auc"), log_loss: num(f.metrics, "log_loss"), brier: num(f.metrics, "brier"),
        calibration_error: num(f.metrics, "calibration_error"), no_metrics_reason: num(f.metrics, "auc") === null ? NO_PREDICTION[f.family] ?? null : null,
        fit_seconds: num(f.metrics, "fit_seconds"), credit_seconds: num(f.metrics, "credit_seconds"),
        l1_to_true_shapley: acc?.l1Shapley ?? null, l1_to_true_incremental: acc?.l1Incremental ?? null, measured_at: measuredAt,
      };
    }),
    ...SQL_ESTIMATES.flatMap((e) => {
      const acc = r.models.find((m) => m.model === e.model);
      return acc ? [{
        run_id: runId, world: r.name, family: r.world.family, ml_family: e.model, method: e.method, model: e.model,
        auc: null, log_loss: null, brier: null, calibration_error: null, no_metrics_reason: NO_PREDICTION[e.model]!,
        fit_seconds: secondsOf(r, e.fitAction), credit_seconds: secondsOf(r, e.creditAction),
        l1_to_true_shapley: acc.l1Shapley, l1_to_true_incremental: acc.l1Incremental, measured_at: measuredAt,
      }] : [];
    }),
  ]);
}

/**
 * The ML families and the SQL estimates side by side, one line per family × method: mean held-out AUC, log loss,
 * Brier and calibration error ("—" where not defined, the reason below the table), fit seconds, and the mean L1 to the
 * true incremental shares per scenario family.
 */
export function formatMlFamilies(results: readonly WorldResult[]): string {
  const rows = mlFamilyRows("", results, new Date(0));
  if (!rows.length) return "";
  const scenarios = [...new Set(results.map((r) => r.world.family))];
  const models = [...new Set(rows.map((x) => String(x.model)))];
  const mean = (xs: Array<unknown>): string => {
    const v = xs.filter((x): x is number => typeof x === "number");
    return v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3) : "—";
  };
  const w = Math.max(5, ...models.map((m) => m.length));
  const head = `${"model".padEnd(w)}  ${["auc", "log_loss", "brier", "ece", "fit_s"].map((h) => h.padStart(9)).join("")}  ${scenarios.map((f) => f.padStart(15)).join("")}`;
  const lines = [head];
  for (const model of models) {
    const mine = rows.filter((x) => x.model === model);
    lines.push(`${model.padEnd(w)}  ${(["auc", "log_loss", "brier", "calibration_error", "fit_seconds"] as const).map((k) => mean(mine.map((x) => x[k])).padStart(9)).join("")}  ${
      scenarios.map((f) => mean(mine.filter((x) => x.family === f).map((x) => x.l1_to_true_incremental)).padStart(15)).join("")}`);
  }
  const reasons = new Map(rows.filter((x) => x.no_metrics_reason).map((x) => [String(x.ml_family), String(x.no_metrics_reason)]));
  for (const [family, reason] of reasons) lines.push(`  — ${family}: ${reason}`);
  return lines.join("\n");
}

export function truthRows(runId: string, results: readonly WorldResult[]): Row[] {
  return results.flatMap((r) => r.world.channels.map((c) => ({
    run_id: runId, world: r.name, channel: c.key, kind: c.kind,
    true_shapley_share: r.truth.shapley[c.key] ?? 0, true_incremental_share: r.truth.incremental[c.key] ?? 0,
    true_incremental_conversions: r.truth.incrementalConversions[c.key] ?? 0, truth_users: r.truth.users,
  })));
}

interface FamilySummary {
  family: string;
  model: string;
  worlds: number;
  l1Shapley: number;
  l1Incremental: number;
  spearman: number | null;
}

/** Mean over the worlds of each family, per model; families in run order, models by name. */
export function summarise(results: readonly WorldResult[]): FamilySummary[] {
  const out: FamilySummary[] = [];
  const families = [...new Set(results.map((r) => r.world.family))];
  for (const family of families) {
    const worlds = results.filter((r) => r.world.family === family);
    const models = [...new Set(worlds.flatMap((w) => w.models.map((m) => m.model)))].sort();
    for (const model of models) {
      const ms = worlds.flatMap((w) => w.models.filter((m) => m.model === model));
      const rho = ms.map((m) => m.spearman).filter((x): x is number => x !== null);
      out.push({
        family, model, worlds: ms.length,
        l1Shapley: ms.reduce((a, m) => a + m.l1Shapley, 0) / ms.length,
        l1Incremental: ms.reduce((a, m) => a + m.l1Incremental, 0) / ms.length,
        spearman: rho.length ? rho.reduce((a, b) => a + b, 0) / rho.length : null,
      });
    }
  }
  return out;
}

/**
 * One line per model, one column pair per family: mean L1 to the true Shapley / true incremental shares
 * (lower is closer), and the mean over families.
 */
export function formatSummary(results: readonly WorldResult[]): string {
  const s = summarise(results);
  const families = [...new Set(s.map((x) => x.family))];
  const models = [...new Set(s.map((x) => x.model))].sort();
  const w = Math.max(5, ...models.map((m) => m.length));
  const head = `${"model".padEnd(w)}  ${families.map((f) => f.padStart(15)).join("  ")}  ${"mean".padStart(11)}`;
  const lines = [head, `${"".padEnd(w)}  ${families.map(() => "shap / incr".padStart(15)).join("  ")}  ${"shap / incr".padStart(11)}`];
  for (const m of models) {
    const cells = families.map((f) => s.find((x) => x.family === f && x.model === m));
    const got = cells.filter((c): c is FamilySummary => !!c);
    const mean = (k: "l1Shapley" | "l1Incremental"): number => got.reduce((a, c) => a + c[k], 0) / Math.max(1, got.length);
    lines.push(`${m.padEnd(w)}  ${cells.map((c) => (c ? `${c.l1Shapley.toFixed(3)} / ${c.l1Incremental.toFixed(3)}` : "—").padStart(15)).join("  ")}  ${`${mean("l1Shapley").toFixed(2)} / ${mean("l1Incremental").toFixed(2)}`.padStart(11)}`);
  }
  return lines.join("\n");
}

/** Per world: every model's L1 distances, the truth and the ML AUC, for the detailed printout. */
export function formatWorld(r: WorldResult): string {
  const share = (o: Record<string, number>): string => Object.entries(o).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`).join(", ");
  return [
    `${r.name}: ${r.world.channels.length} channels, ${r.world.journeys} journeys (${r.world.days} days), ${r.observedConversions} observed conversions, ML test AUC ${r.mlAuc === null ? "—" : r.mlAuc.toFixed(3)} (test window ${r.mlMetrics.n_test ?? "—"} journeys, ${r.mlMetrics.n_test !== undefined ? Math.round(r.mlMetrics.n_test * (r.mlMetrics.base_rate ?? 0)) : "—"} conversions); truth ${r.seconds.truth.toFixed(1)} s, data ${r.seconds.generate.toFixed(1)} s, pipeline ${r.seconds.pipeline.toFixed(1)} s`,
    `  true Shapley:     ${share(r.truth.shapley)}`,
    `  true incremental: ${share(r.truth.incremental)}`,
    ...r.failed.map((f) => `  FAILED ${f.action}: ${f.error.slice(0, 300)}`),
  ].join("\n");
}

/**
 * Interval coverage over every world run (channels inside / channels): per model the bootstrap interval alone and the
 * published interval, then the published interval per family. The published interval is calibrated on
 * src/benchmark/reference.ts, so on the reference's own worlds this is in-sample (evaluation.ts measures it
 * leave-one-world-out); on other seeds it is held out.
 */
export function formatCoverage(results: readonly WorldResult[]): string {
  const pct = (inside: number, n: number): string => (n ? `${(100 * inside / n).toFixed(0)} %` : "–");
  const tally = (pick: (r: WorldResult) => WorldResult["models"], cov: (m: WorldResult["models"][number]) => number | null) => {
    let n = 0;
    let inside = 0;
    for (const r of results) {
      for (const m of pick(r)) {
        const c = cov(m);
        if (c === null) continue;
        n += r.truth.channels.length;
        inside += c * r.truth.channels.length;
      }
    }
    return { n, inside };
  };
  const lines = ["90 % intervals: share of channels whose true incremental share they cover (bootstrap alone → published, bootstrap widened by the benchmark's conformal margin)"];
  for (const model of [...new Set(results.flatMap((r) => r.models.filter((m) => m.coverageIncremental !== null || m.bootstrapCoverageIncremental !== null).map((m) => m.model)))].sort()) {
    const boot = tally((r) => r.models.filter((m) => m.model === model), (m) => m.bootstrapCoverageIncremental);
    const pub = tally((r) => r.models.filter((m) => m.model === model), (m) => m.coverageIncremental);
    lines.push(`  ${model.padEnd(46)} bootstrap ${pct(boot.inside, boot.n).padStart(5)}, published ${pct(pub.inside, pub.n).padStart(5)} of ${pub.n} channels`);
  }
  lines.push("published interval per family (every model; the recommended model):");
  for (const family of [...new Set(results.map((r) => r.world.family))]) {
    const fam = results.filter((r) => r.world.family === family);
    const all = tally((r) => (fam.includes(r) ? r.models : []), (m) => m.coverageIncremental);
    const rec = tally((r) => (fam.includes(r) ? r.models.filter((m) => m.model === r.recommended) : []), (m) => m.coverageIncremental);
    lines.push(`  ${family.padEnd(15)} ${pct(all.inside, all.n)} of ${all.n}; ${pct(rec.inside, rec.n)} of ${rec.n}`);
  }
  return lines.join("\n");
}
