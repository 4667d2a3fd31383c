/**
 * How far a model's channel shares are from a world's true shares. Pure: no I/O.
 */
import { spearman } from "../models/compare.ts";
import type { ColumnSchema } from "../engines/engine.ts";

/**
 * L1 distance Σ_c |a_c − b_c| over the union of channels (a channel missing on one side counts as 0 there),
 * so credit given to a channel the world does not have, e.g. "(unknown)", counts as error. Range 0–2 for shares.
 */
export function l1Distance(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  let d = 0;
  for (const c of new Set([...Object.keys(a), ...Object.keys(b)])) d += Math.abs((a[c] ?? 0) - (b[c] ?? 0));
  return d;
}

/** Spearman's ρ over the world's channels (a model's missing channel has share 0); null when undefined. */
export function rankCorrelation(model: Readonly<Record<string, number>>, truth: Readonly<Record<string, number>>, channels: readonly string[]): number | null {
  return spearman(channels.map((c) => model[c] ?? 0), channels.map((c) => truth[c] ?? 0));
}

export const MODEL_ACCURACY_TABLE = "model_accuracy";
export const BENCHMARK_TRUTH_TABLE = "benchmark_truth";

/** `<base>_meta.model_accuracy`: one row per benchmark run × world × model (appended by `funnelcredit benchmark`). */
export const MODEL_ACCURACY_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING", description: "benchmark run" },
  { name: "world", type: "STRING", description: "family/seed/users, e.g. harvesting/s1/u20000" },
  { name: "family", type: "STRING", description: "scenario family (harvesting, synergy, decay, selection_bias, cross_device)" },
  { name: "seed", type: "INT64", description: "seed the world's parameters and users were drawn from" },
  { name: "users", type: "INT64", description: "observed users" },
  { name: "channels", type: "INT64", description: "channels in the world" },
  { name: "journeys", type: "STRING", description: "short (28 days) or long (60 days)" },
  { name: "model", type: "STRING", description: "attribution model (as in channel_credit_by_model; ML methods as ml_<method>)" },
  { name: "l1_to_true_shapley", type: "FLOAT64", description: "Σ |model share − true Shapley share| over channels, 0–2" },
  { name: "l1_to_true_incremental", type: "FLOAT64", description: "Σ |model share − true incremental share| over channels, 0–2" },
  { name: "spearman", type: "FLOAT64", description: "rank correlation of the model's shares with the true Shapley shares" },
  { name: "spearman_incremental", type: "FLOAT64", description: "rank correlation with the true incremental shares" },
  { name: "interval_coverage_shapley", type: "FLOAT64", description: "share of channels whose true Shapley share lies in the model's 90 % bootstrap interval (null: not bootstrapped)" },
  { name: "interval_coverage_incremental", type: "FLOAT64", description: "same for the true incremental share" },
  { name: "observed_conversions", type: "INT64", description: "conversions in the observed data" },
  { name: "measured_at", type: "TIMESTAMP" },
];

/** `<base>_meta.benchmark_truth`: the true shares of each world's channels. */
export const BENCHMARK_TRUTH_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING" },
  { name: "world", type: "STRING" },
  { name: "channel", type: "STRING" },
  { name: "kind", type: "STRING", description: "push (own schedule) or pull (returns when intent is high)" },
  { name: "true_shapley_share", type: "FLOAT64" },
  { name: "true_incremental_share", type: "FLOAT64" },
  { name: "true_incremental_conversions", type: "FLOAT64", description: "expected conversions lost with the channel off, in the truth population" },
  { name: "truth_users", type: "INT64" },
];
