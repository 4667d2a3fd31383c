import { XGBoostInputError } from "./errors.ts";

/**
 * Booster parameters the engine accepts (XGBoost 0.7 names, also valid in native 1.7). The objective is
 * always `binary:logistic`: both jobs model a probability, and the TS predictor applies the sigmoid.
 * Unknown names are refused because XGBoost silently ignores them.
 */
export interface BoostParams {
  tree_method?: "hist" | "exact" | "approx";
  /** Learning rate, (0, 1]. */
  eta?: number;
  /** Maximum tree depth, integer 1..16 (TreeSHAP buffers are sized from it). */
  max_depth?: number;
  /** Minimum hessian sum per child (weights scale it as row expansion would). */
  min_child_weight?: number;
  /** Row subsampling (0, 1]; samples aggregated rows, not events, so keep 1 for weighted aggregates. */
  subsample?: number;
  colsample_bytree?: number;
  colsample_bylevel?: number;
  /** L2 regularisation on leaf weights. */
  lambda?: number;
  /** L1 regularisation on leaf weights. */
  alpha?: number;
  /** Minimum loss reduction to split. */
  gamma?: number;
  /** Histogram bins for `hist`, integer 2..1024. */
  max_bin?: number;
  max_delta_step?: number;
  scale_pos_weight?: number;
  /** Initial prediction as a probability in (0, 1). */
  base_score?: number;
  grow_policy?: "depthwise" | "lossguide";
  /** Leaves per tree for `lossguide` (0 = no limit). */
  max_leaves?: number;
  /** Random seed (subsample/colsample); integer ≥ 0. */
  seed?: number;
}

export type ResolvedParams = Required<BoostParams>;

/** Explicit defaults (not XGBoost's, which differ between 0.7 and 1.7 for some of these). */
export const DEFAULT_PARAMS: ResolvedParams = Object.freeze({
  tree_method: "hist",
  eta: 0.1,
  max_depth: 6,
  min_child_weight: 1,
  subsample: 1,
  colsample_bytree: 1,
  colsample_bylevel: 1,
  lambda: 1,
  alpha: 0,
  gamma: 0,
  max_bin: 256,
  max_delta_step: 0,
  scale_pos_weight: 1,
  base_score: 0.5,
  grow_policy: "depthwise",
  max_leaves: 0,
  seed: 0,
});

type Check = (v: unknown) => string | undefined;
const num = (lo: number, hi: number, opts: { loOpen?: boolean; int?: boolean } = {}): Check => (v) => {
  if (typeof v !== "number" || !Number.isFinite(v)) return "must be a finite number";
  if (opts.int && !Number.isInteger(v)) return "must be an integer";
  if (opts.loOpen ? v <= lo : v < lo) return `must be ${opts.loOpen ? ">" : "≥"} ${lo}`;
  if (v > hi) return `must be ≤ ${hi}`;
  return undefined;
};
const oneOf = (...allowed: string[]): Check => (v) =>
  typeof v === "string" && allowed.includes(v) ? undefined : `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`;

const CHECKS: Record<keyof BoostParams, Check> = {
  tree_method: oneOf("hist", "exact", "approx"),
  eta: num(0, 1, { loOpen: true }),
  max_depth: num(1, 16, { int: true }),
  min_child_weight: num(0, Number.MAX_VALUE),
  subsample: num(0, 1, { loOpen: true }),
  colsample_bytree: num(0, 1, { loOpen: true }),
  colsample_bylevel: num(0, 1, { loOpen: true }),
  lambda: num(0, Number.MAX_VALUE),
  alpha: num(0, Number.MAX_VALUE),
  gamma: num(0, Number.MAX_VALUE),
  max_bin: num(2, 1024, { int: true }),
  max_delta_step: num(0, Number.MAX_VALUE),
  scale_pos_weight: num(0, Number.MAX_VALUE, { loOpen: true }),
  base_score: (v) => (typeof v === "number" && v > 0 && v < 1 ? undefined : "must be a probability in (0, 1)"),
  grow_policy: oneOf("depthwise", "lossguide"),
  max_leaves: num(0, 1 << 16, { int: true }),
  seed: num(0, 2 ** 31 - 1, { int: true }),
};

export const KNOWN_PARAMS: readonly string[] = Object.keys(CHECKS);

/**
 * Validates `params` (unknown names, types, ranges) and fills the explicit defaults.
 * @throws XGBoostInputError naming the parameter and the accepted values.
 */
export function resolveParams(params: BoostParams | undefined): ResolvedParams {
  const out: Record<string, unknown> = { ...DEFAULT_PARAMS };
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    const check = (CHECKS as Record<string, Check | undefined>)[name];
    if (!check) {
      throw new XGBoostInputError(
        `Unknown XGBoost parameter "${name}"; accepted: ${KNOWN_PARAMS.join(", ")} (the objective is always binary:logistic)`,
      );
    }
    const problem = check(value);
    if (problem) throw new XGBoostInputError(`XGBoost parameter ${name}=${JSON.stringify(value)} ${problem}`);
    out[name] = value;
  }
  return out as ResolvedParams;
}

/** Parameter strings as passed to `set_param` (numbers in shortest round-trip form). */
export function paramStrings(p: ResolvedParams): Array<[string, string]> {
  return (Object.keys(DEFAULT_PARAMS) as Array<keyof BoostParams>).map((k) => [k, String(p[k])]);
}
