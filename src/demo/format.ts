/** Value formats the simulated rows share: money in cents, zero-padded ids, ISO times. */

export const DAY_MS = 86_400_000;

export function money(x: number): number {
  return Math.round(x * 100) / 100;
}

export function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
