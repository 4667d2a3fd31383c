/**
 * The one test of whether a number can be an amount or a count (revenue, conversions, value): finite and not
 * negative. Staging applies the same rule in SQL (includes/helpers.js `amountIssue`); jobs apply it to every
 * number they read (src/jobs/tables.ts), so NaN or ±Infinity never reaches a model unnamed.
 */

type AmountProblem = "NaN" | "infinite" | "negative";

/** Why `n` cannot be an amount, or null when it can. `-Infinity` is "infinite" (it is negative too). */
export function amountProblem(n: number): AmountProblem | null {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity || n === -Infinity) return "infinite";
  if (n < 0) return "negative";
  return null;
}

