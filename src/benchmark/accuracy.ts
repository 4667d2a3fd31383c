/**
 * How far a model's channel shares are from a world's true shares. Pure: no I/O.
 */
import { spearman } from "../models/compare.ts";

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

