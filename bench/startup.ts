/**
 * CLI start-up: wall time of `--help`, `compile` (cached and not) and of a `run` up to its first
 * action, for the CLI as installed (bin/funnelcredit.js → dist/) and, for comparison, the TypeScript
 * sources under tsx. Runs alternate; medians of N (default 5) are printed with `node -e 0`, the
 * floor any Node process pays on this machine at this moment.
 *
 *   npm run build && npx tsx bench/startup.ts [N] [--root DIR] [--warehouse FILE] [--baseline DIR] [--cached-only]
 *
 * `--root` measures another checkout (e.g. an older commit, to compare); the run uses `--warehouse`
 * (default: a fresh one in the temp folder; its source tables are created empty). `--baseline DIR`
 * also measures the compiled CLI of another built checkout in the same rounds, alternating with this
 * one (on a busy machine only such side-by-side ratios mean much), with its own warehouse.
 * CPU seconds (user + system) are printed beside the wall times: on a busy machine they move far less.
 * Whole commands get them from GNU time (`/usr/bin/time`), the run from /proc/PID/stat at its first action
 * (Linux); "—" where neither exists.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileCacheDir } from "../src/compile/cache.ts";
import { measureProcess, median } from "./measure.ts";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROOT = path.resolve(arg("--root") ?? path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const n = Number(process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && !["--root", "--warehouse", "--baseline"].includes(all[i - 1] ?? "")) ?? 5);
const baseline = arg("--baseline") === undefined ? undefined : path.resolve(arg("--baseline")!);
const warehouse = path.resolve(arg("--warehouse") ?? path.join(mkdtempSync(path.join(os.tmpdir(), "fc-startup-")), "w.duckdb"));

const compiled = [process.execPath, path.join(ROOT, "bin", "funnelcredit.js")];
const tsx = [path.join(ROOT, "node_modules", ".bin", "tsx"), path.join(ROOT, "src", "cli", "main.ts")];

/** Wall and CPU seconds of one invocation (CPU 0: unknown). */
interface Timing { wall: number; cpu: number }

function wall(cmd: string[], root = ROOT): Timing {
  const f = measureProcess(cmd, root);
  return { wall: f.seconds, cpu: f.cpuSeconds };
}

/** User + system CPU seconds a live process has used so far (Linux /proc; 0 elsewhere). */
function cpuSoFar(pid: number | undefined): number {
  const stat = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(stat)) return 0;
  // Fields after the command name's closing parenthesis: utime and stime are the 12th and 13th, in clock ticks (100 a second).
  const text = readFileSync(stat, "utf8");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Seconds from spawning `run --json --verbose` to its first action_started line. The run then goes on to
 * its end (on an empty warehouse the action fails) before the next measurement starts, so runs never meet.
 */
function untilFirstAction(cmd: string[], root = ROOT, file = warehouse): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd[0]!, [...cmd.slice(1), "run", "--json", "--verbose", "--warehouse", file, "--actions", "funnelcredit_staging.stg_costs"], { cwd: root });
    let buf = "";
    let at: Timing | undefined;
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      if (!at && buf.includes('"event":"action_started"')) at = { wall: (performance.now() - t0) / 1000, cpu: cpuSoFar(p.pid) };
    });
    p.on("close", (code) => (at ? resolve(at) : reject(new Error(`run exited ${code} before its first action`))));
  });
}

const clearCache = (): void => rmSync(compileCacheDir(ROOT), { recursive: true, force: true });

// --cached-only: only the compiled CLI with its compile cache warm (what a scheduled run pays).
const cachedOnly = process.argv.includes("--cached-only");
const cases: [string, () => Timing | Promise<Timing>][] = [
  ["node -e 0 (floor)", () => wall([process.execPath, "-e", "0"])],
  ["--help, bin/funnelcredit.js", () => wall([...compiled, "--help"])],
  ["compile, bin, cached", () => wall([...compiled, "compile"])],
];
if (!cachedOnly) {
  cases.push(["--help, tsx", () => wall([...tsx, "--help"])]);
  cases.push(["compile, bin, not cached", () => { clearCache(); return wall([...compiled, "compile"]); }]);
  cases.push(["compile, tsx, not cached", () => { clearCache(); return wall([...tsx, "compile"]); }]);
}
cases.push(["run until its first action, bin, cached", async () => { wall([...compiled, "compile"]); return untilFirstAction(compiled); }]);
if (!cachedOnly) cases.push(["run until its first action, tsx, not cached", () => { clearCache(); return untilFirstAction(tsx); }]);
if (baseline) {
  const base = [process.execPath, path.join(baseline, "bin", "funnelcredit.js")];
  const baseWarehouse = path.join(path.dirname(warehouse), "baseline.duckdb");
  cases.push(["--help, baseline bin", () => wall([...base, "--help"], baseline)]);
  cases.push(["run until its first action, baseline bin, cached", async () => { wall([...base, "compile"], baseline); return untilFirstAction(base, baseline, baseWarehouse); }]);
}

const times = new Map<string, Timing[]>(cases.map(([k]) => [k, []]));
for (let i = 0; i < n; i++) for (const [k, f] of cases) times.get(k)!.push(await f());
process.stdout.write(`CLI start-up, median of ${n} (load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}, ${os.cpus().length} cores)\n`);
for (const [k, xs] of times) {
  const cpus = xs.map((x) => x.cpu);
  const cpu = cpus.every((c) => c > 0) ? `cpu ${median(cpus).toFixed(2)} s` : "cpu —";
  process.stdout.write(`  ${k.padEnd(46)} ${median(xs.map((x) => x.wall)).toFixed(2)} s  ${cpu}   (${xs.map((x) => x.wall.toFixed(2)).join(", ")})\n`);
}
