/**
 * The published 90 % interval of a credit share: a conformalised bootstrap. The bootstrap interval (Poisson
 * bootstrap of the paths, credit-bootstrap.ts) says how much the share moves with the sample at this data's size;
 * the benchmark says how far the true incremental share falls outside such an interval on worlds like this data
 * (the model's bias). The published interval widens the bootstrap interval by the split-conformal quantile of
 * that distance: conformalized quantile regression's score and rule (Romano, Patterson & Candès 2019, "Conformalized
 * quantile regression", NeurIPS), with the reference worlds as the calibration set (Vovk et al. 2005; Lei et al. 2018).
 * A model without a bootstrap interval has the degenerate interval [share, share]: its score is |share − truth| and
 * the rule is plain split conformal, share ± q. Pure: no I/O.
 */
import type { ShareInterval } from "./credit-bootstrap.ts";

/**
 * Conformity score of one calibration channel (CQR): how far the true share lies outside the interval,
 * max(lo − truth, truth − hi) — positive outside, negative inside (then the published interval may be narrower
 * than the bootstrap's), |share − truth| for the degenerate interval [share, share].
 */
export function outsideScore(truth: number, iv: ShareInterval): number {
  return Math.max(iv.lo - truth, truth - iv.hi);
}

/**
 * Split-conformal quantile of n calibration scores at `level`: the ⌈(n + 1)·level⌉-th smallest, which covers a new
 * exchangeable score with probability ≥ level (Vovk et al. 2005; Lei et al. 2018, Thm 2.1); the largest when n is
 * too small for that rank (n < level / (1 − level), 9 at 90 %: the guarantee then does not hold). null: no scores.
 */
export function conformalQuantile(scores: readonly number[], level: number): number | null {
  if (scores.length === 0) return null;
  const s = [...scores].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.ceil((s.length + 1) * level)) - 1]!;
}

/**
 * The published interval: [lo − q, hi + q] (CQR), clipped to [0, 1], and never excluding the share itself (a
 * negative q can shrink a bootstrap interval past it; the share is the model's answer, so it stays inside).
 * Without a bootstrap interval pass [share, share]: share ± q.
 */
export function widenedInterval(share: number, iv: ShareInterval, q: number): ShareInterval {
  return {
    lo: Math.max(0, Math.min(share, iv.lo - q)),
    hi: Math.min(1, Math.max(share, iv.hi + q)),
  };
}
