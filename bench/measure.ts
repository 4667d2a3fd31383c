/** Shared by the bench stage scripts: wall time and the process's peak RSS, printed as BENCH:{json}. */
export function peakMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
export function report(figures: Record<string, unknown>): void {
  process.stdout.write(`BENCH:${JSON.stringify(figures)}\n`);
}
