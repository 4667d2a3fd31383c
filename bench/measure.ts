import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
/** The value after `name` among the command-line arguments, or `def` when the option is absent or has no value. */
export function option(name: string, def: string, args: readonly string[] = process.argv.slice(2)): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
}

/** The middle value of `xs` (the upper middle of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Shared by the bench stage scripts: wall time and the process's peak RSS, printed as BENCH:{json}. */
export function peakMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Peak RSS since the last `resetPeak`, MB, from /proc/self/status (VmHWM); NaN where /proc is missing.
 * With resetPeak before each action this gives every action's own peak inside one process.
 */
export function peakSinceResetMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Reset the kernel's peak-RSS mark to the current RSS (Linux: writing 5 to /proc/self/clear_refs). */
export function resetPeak(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Not Linux, or not allowed: the per-action peaks then read as the peak so far.
  }
}

/** The 1-, 5- and 15-minute load averages, as printed next to every figure. */
export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(1)).join(" ");
}
/** Samples the 1-minute load average every 5 s until `mean()` is called: the load while a stage ran. */
export function sampleLoad(): { mean: () => number } {
  const samples = [os.loadavg()[0]!];
  const timer = setInterval(() => samples.push(os.loadavg()[0]!), 5000);
  timer.unref();
  return {
    mean: () => {
      clearInterval(timer);
      samples.push(os.loadavg()[0]!);
      return samples.reduce((x, y) => x + y, 0) / samples.length;
    },
  };
}

export function report(figures: Record<string, unknown>): void {
  process.stdout.write(`BENCH:${JSON.stringify(figures)}\n`);
}

export interface ProcessFigure {
  seconds: number;
  peakMb: number;
  /** User + system CPU seconds (GNU time; 0 = unknown): less sensitive than wall time to a busy machine. */
  cpuSeconds: number;
}

/**
 * Wall time, peak RSS and CPU time of a whole process. Peak and CPU come from GNU time (`/usr/bin/time`);
 * 0 (printed as —) where it is not installed.
 */
export function measureProcess(cmd: string[], cwd: string): ProcessFigure {
  const gnuTime = existsSync("/usr/bin/time");
  const argv = gnuTime ? ["/usr/bin/time", "-f", "PEAK_KB %M CPU %U %S", ...cmd] : cmd;
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(" ").slice(0, 300)} exited ${r.status}:\n${(r.stderr ?? "").slice(-3000)}`);
  const m = /PEAK_KB (\d+) CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? "");
  return { seconds, peakMb: m ? Number(m[1]) / 1024 : 0, cpuSeconds: m ? Number(m[2]) + Number(m[3]) : 0 };
}
