/**
 * npm run bench — figures, not assertions: per-stage time and peak memory (each stage's own peak RSS) of
 * the demo pipeline at two sizes, with DuckDB's memory limit as `--memory-limit auto` sets it, and the channel Markov on the 1M-path benchmark file (import in the engine + exact fit).
 * Each measurement runs in a fresh child process so its peak RSS is its own.
 *
 *   npm run bench                         # demo at 5k and 20k users, channel Markov 1M, whole commands (bench/end-to-end.ts)
 *   npm run bench -- --sizes 20000x60,100000x60 --skip-markov --skip-end-to-end
 *   nice npm run bench -- --sizes 750000x60 --skip-markov --skip-end-to-end   # 10M events (≈ 5 min on 2 cores)
 *   npm run bench -- --scale 1m,10m,30m --skip-markov --skip-end-to-end --skip-cost-plan
 *                                         # issue 15's sizes (1M, 10M, 30M events: 75k, 750k, 2.25M users × 60 days),
 *                                         # then how each stage's CPU and peak grow against the events (10M ≈ 15 min, 30M ≈ 45 min on 2 cores)
 *   npm run bench -- --scale 30m --vars ml_max_feature_rows=1500000,max_job_rows=3000000 …   # settings for the runs:
 *                                         # at 30M the ML job's row guards refuse its 1.2M feature rows at their defaults
 *   npm run bench -- --sizes 75000x60 --memory-limit 2GiB --skip-markov --skip-end-to-end   # the run under another DuckDB memory_limit
 *   npm run bench -- --xgboost            # also the 1M-row XGBoost fit, WASM and native (≈1 min)
 *   npm run bench -- --xgboost --skip-demo --skip-markov --skip-end-to-end   # only that
 *   npm run bench -- --accuracy           # only the accuracy benchmark (bench/accuracy.ts; its options pass through)
 *   npm run bench -- --serve              # only the scoring server's loopback load test (bench/serve.ts; its options pass through)
 *   npm run bench -- --ml-families [--sequences] [--journeys 100000]   # only the ML families' fit + credit time on 100k
 *                                         # fixture journeys (bench/ml-families.ts; ≈ 5–10 min; --sequences adds lstm,
 *                                         # attention and the ensembles)
 *   npm run bench -- --imports            # only imports vs DuckDB's own CSV / JSON reader (bench/imports.ts; its options pass through)
 *   npm run bench -- --heavy-chains       # only how the chain models grow with one chain's sessions and orders
 *                                         # (bench/heavy-chains.ts: a bot client and an account of N each; ≈ 30 s)
 *   npm run bench -- --cost-plan          # only the cost plan of a simulated 13-month property (--cost-size 10000x395,
 *                                         # --cost-target 100000000 events a day to extrapolate to, per cost driver)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { option as opt } from "./measure.ts";
import { horizonLines, type HorizonFigures } from "./horizons.ts";

/** The simulated 13-month property of the cost plan (users × days): see costPlanBench. */
const COST_SIZE = "10000x395";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);

/** load: the 1-minute load average while the stage ran (2 cores: above 2, wall time is inflated; CPU s much less). */
interface StageFigure { stage: string; seconds: number; cpuSeconds?: number; peakMb: number; load?: number; note?: string }

/** Run a child script; it prints one JSON line prefixed with BENCH:. */
function child(script: string, childArgs: string[]): Record<string, unknown> {
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "bench", script), ...childArgs], {
    cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
  });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("BENCH:"));
  if (r.status !== 0 || !line) throw new Error(`${script} ${childArgs.join(" ")} failed (exit ${r.status}):\n${r.stderr?.slice(-3000)}`);
  return JSON.parse(line.slice(6)) as Record<string, unknown>;
}

function table(rows: StageFigure[]): string {
  const w = Math.max(...rows.map((r) => r.stage.length), 5);
  const cpu = rows.some((r) => r.cpuSeconds !== undefined);
  const load = rows.some((r) => r.load !== undefined);
  return [
    `${"stage".padEnd(w)}  seconds${cpu ? "  CPU s" : ""}  peak MB${load ? "  load" : ""}  note`,
    ...rows.map((r) => `${r.stage.padEnd(w)}  ${r.seconds.toFixed(2).padStart(7)}${cpu ? "  " + (r.cpuSeconds === undefined ? "—" : r.cpuSeconds.toFixed(1)).padStart(5) : ""}  ${(Number.isFinite(r.peakMb) && r.peakMb > 0 ? String(Math.round(r.peakMb)) : "—").padStart(7)}${load ? "  " + (r.load === undefined ? "—" : r.load.toFixed(1)).padStart(4) : ""}  ${r.note ?? ""}`),
  ].join("\n");
}

/** Benches of their own: `--<name>` runs only bench/<script> with the other options passed through. */
const SEPARATE_BENCHES: Record<string, string> = {
  "--accuracy": "accuracy.ts",
  "--ml-families": "ml-families.ts",
  "--imports": "imports.ts",
  "--serve": "serve.ts",
  "--heavy-chains": "heavy-chains.ts",
};
for (const [name, script] of Object.entries(SEPARATE_BENCHES)) {
  if (!flag(name)) continue;
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "bench", script), ...args.filter((a) => a !== name)], { cwd: ROOT, stdio: "inherit" });
  process.exit(r.status ?? 1);
}

/**
 * The cost plan of a simulated 13-month property: a scaled-down demo export run once, then `funnelcredit plan`'s
 * estimates (BigQuery's per-type sizes over the columns and partitions read), extrapolated per cost driver
 * (bench/stage-cost-plan.ts costDriver): actions fed by traffic (GA4 events, CRM orders, leads, custom events)
 * linearly in events a day; actions fed only by cost sources (a row per campaign-day) or by neither (imports,
 * experiments) not scaled, since their rows do not grow with traffic. The sample's users act like the demo's (events per
 * active user-day, printed next to the demo's); its size sets how many are active a day.
 */
function costPlanBench(): void {
  const [users, days] = opt("--cost-size", COST_SIZE).split("x").map(Number) as [number, number];
  const target = Number(opt("--cost-target", "100000000"));
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bench-cost-"));
  try {
    type Row = { action: string; firstRun?: number; daily?: number; driver: "traffic" | "costs" | "fixed" };
    const r = child("stage-cost-plan.ts", [path.join(dir, "warehouse.duckdb"), String(users), String(days)]) as {
      seconds: number; generateSeconds: number; runSeconds: number; events: number; eventsPerDay: number; runStatus: string; failedActions: string[]; startDate: string;
      lookbackDays: number; reprocessDays: number; eventsPerActiveUserDay: number; activeUsersPerDay: number; demoEventsPerActiveUserDay: number; costRows: number;
      plan: { firstRun: number; daily: number; notEstimated: { firstRun: string[]; daily: string[] }; rows: Row[] };
      wholeHistory: { firstRun: number; daily: number; rows: Row[] }; wholeRunStatus: string; wholeRunSeconds: number;
      horizons: HorizonFigures;
      identityHorizon: { days: number; daily: number; notEstimated: string[]; rows: Row[] };
    };
    const k = target / r.eventsPerDay;
    const factor = { traffic: k, costs: 1, fixed: 1 } as const;
    const TIB = 1024 ** 4;
    const price = 6.25;
    const fmt = (b: number): string => `${Math.round(b).toLocaleString("en-US")} B`;
    const money = (b: number): string => `${(b / TIB).toFixed(3)} TiB  ≈ ${((b * price) / TIB).toFixed(2)} USD`;
    const sumBy = (rows: Row[], run: "firstRun" | "daily", driver: Row["driver"]): number => rows.filter((x) => x.driver === driver).reduce((t, x) => t + (x[run] ?? 0), 0);
    const extrapolated = (rows: Row[], run: "firstRun" | "daily"): number => (["traffic", "costs", "fixed"] as const).reduce((t, d) => t + sumBy(rows, run, d) * factor[d], 0);
    const runs: [string, Row[], "firstRun" | "daily"][] = [
      [`first run (start_date auto: ${r.lookbackDays} + ${r.reprocessDays} days)`, r.plan.rows, "firstRun"],
      [`full refresh over all ${days} days (start_date ${r.startDate})`, r.wholeHistory.rows, "firstRun"],
      ["daily incremental run after the first run", r.plan.rows, "daily"],
      [`daily incremental run, warehouse holding all ${days} days`, r.wholeHistory.rows, "daily"],
    ];
    console.log(`cost plan, simulated property: ${users.toLocaleString("en-US")} users × ${days} days, ${r.events.toLocaleString("en-US")} events (${Math.round(r.eventsPerDay).toLocaleString("en-US")} a day; ${r.activeUsersPerDay.toFixed(0)} active users a day × ${r.eventsPerActiveUserDay.toFixed(1)} events per active user-day, the demo sample ${r.demoEventsPerActiveUserDay.toFixed(1)}); run ${r.runStatus}, whole-history run ${r.wholeRunStatus}${r.failedActions.length ? ` (failed: ${r.failedActions.join(", ")})` : ""}; ${r.seconds.toFixed(0)} s (generate ${r.generateSeconds.toFixed(0)} s, run ${r.runSeconds.toFixed(0)} s, whole-history run ${r.wholeRunSeconds.toFixed(0)} s, plans ${(r.seconds - r.generateSeconds - r.runSeconds - r.wholeRunSeconds).toFixed(0)} s)`);
    console.log(`extrapolated to ${target.toLocaleString("en-US")} events a day, per cost driver (the inputs an action reaches upstream; ${price} USD per TiB on demand):`);
    console.log(`  traffic (GA4 events, CRM orders, leads, custom events): bytes × ${k.toFixed(0)} (= ${target.toLocaleString("en-US")} / ${r.eventsPerDay.toFixed(1)} events a day); an action that also reads costs is counted here`);
    console.log(`  costs only (${r.costRows.toLocaleString("en-US")} cost rows: a row per campaign-day, as many at any traffic): not scaled`);
    console.log(`  fixed (imported paths, experiments, MMM shares, run history): not scaled; a fitted model's tables count as traffic (fed by it; small, overstated)`);
    const w = Math.max(...runs.map(([l]) => l.length));
    const totals: number[] = [];
    for (const [label, rows, run] of runs) {
      const parts = (["traffic", "costs", "fixed"] as const).map((d) => `${d} ${fmt(sumBy(rows, run, d))}`).join(" + ");
      const total = extrapolated(rows, run);
      totals.push(total);
      console.log(`  ${label.padEnd(w)}  ${parts}  → ${money(total)}`);
    }
    const [firstX, wholeX, dailyX, steadyX] = totals as [number, number, number, number];
    const daily = r.plan.daily;
    const steady = r.wholeHistory.daily;
    const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(2)} %`;
    console.log(`  measured (not extrapolated): first run ${fmt(r.plan.firstRun)}, full refresh ${fmt(r.wholeHistory.firstRun)}, daily after the first run ${fmt(daily)} (${pct(daily, r.plan.firstRun)} of the first run, ${pct(daily, r.wholeHistory.firstRun)} of the full refresh), daily with all ${days} days held ${fmt(steady)} (${pct(steady, r.wholeHistory.firstRun)} of the full refresh)`);
    console.log(`  extrapolated: daily after the first run / full refresh over ${days} days ${pct(dailyX, wholeX)}, daily with all ${days} days held / full refresh ${pct(steadyX, wholeX)} (target < 2 %); 30 daily runs ≈ ${((30 * dailyX * price) / TIB).toFixed(0)} USD a month after the first run, ≈ ${((30 * steadyX * price) / TIB).toFixed(0)} USD with all ${days} days held (daily / first run ${pct(dailyX, firstX)})`);
    for (const [label, rows, total] of [["after the first run", r.plan.rows, daily], [`with all ${days} days held`, r.wholeHistory.rows, steady]] as const) {
      const top = [...rows].filter((x) => x.daily).sort((a, b) => b.daily! - a.daily!).slice(0, 10);
      console.log(`  largest in a daily run ${label} (measured): ${top.map((x) => `${x.action} ${((100 * x.daily!) / total).toFixed(1)} %`).join(", ")}`);
    }
    const bounded = r.identityHorizon;
    const identityDaily = (rows: Row[]): number => rows.filter((x) => /\.int_(session_identity|offline_sessions)$|int_(session_identity|offline_sessions)_assertions/.test(x.action)).reduce((t, x) => t + (x.daily ?? 0), 0);
    console.log(`  daily with all ${days} days held and identity_horizon_days ${bounded.days} (int_session_identity incremental): ${fmt(bounded.daily)} (${pct(bounded.daily, r.wholeHistory.firstRun)} of the full refresh); int_session_identity (with int_offline_sessions) and their checks ${fmt(identityDaily(r.wholeHistory.rows))} → ${fmt(identityDaily(bounded.rows))}${bounded.notEstimated.length ? `; not estimated: ${bounded.notEstimated.join(", ")}` : ""}`);
    const missing = new Set([...r.plan.notEstimated.firstRun, ...r.plan.notEstimated.daily]);
    if (missing.size) console.log(`  not estimated: ${[...missing].join(", ")}`);
    // < 2 % needs a daily run that reads its window and a bounded history: what such a bound would move (bench/horizons.ts).
    console.log(`what a daily run bounded to H days of history would change in the whole-history warehouse (bench/horizons.ts):`);
    for (const line of horizonLines(r.horizons)) console.log(`  ${line}`);
    console.log("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (flag("--cost-plan")) {
  costPlanBench();
  process.exit(0);
}

/** The sizes issue 15 names, in users × days of the demo (≈ 13.6 events a user-day at 60 days). */
const SCALE_SIZES: Record<string, string> = { "1m": "75000x60", "10m": "750000x60", "30m": "2250000x60" };
function scaleSizes(list: string): string {
  return list.split(",").map((k) => {
    const s = SCALE_SIZES[k.trim().toLowerCase()];
    if (!s) throw new Error(`--scale: unknown size ${JSON.stringify(k)}; one or more of ${Object.keys(SCALE_SIZES).join(", ")}, comma-separated`);
    return s;
  }).join(",");
}
const sizeList = args.includes("--scale") ? scaleSizes(opt("--scale", "1m,10m,30m").startsWith("--") ? "1m,10m,30m" : opt("--scale", "1m,10m,30m")) : opt("--sizes", "5000x30,20000x60");
const sizes = flag("--skip-demo") ? [] : sizeList.split(",").map((s) => s.split("x").map(Number) as [number, number]);
console.log(`funnelcredit bench — ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`);
/** One action's wall time, CPU seconds and own peak RSS (bench/stage-pipeline-run.ts). */
interface ActionFigure { action: string; stage: string; seconds: number; cpuSeconds: number; peakMb: number }
const measured: { events: number; rows: StageFigure[]; perAction: ActionFigure[] }[] = [];

/** The `n` actions that took the most CPU and the `n` with the highest own peak: where a size's time and memory go. */
function topActions(actions: ActionFigure[], n: number): string {
  const fmt = (a: ActionFigure): string => `${a.action} ${a.cpuSeconds.toFixed(1)} CPU s / ${Math.round(a.peakMb)} MB`;
  const byCpu = [...actions].sort((a, b) => b.cpuSeconds - a.cpuSeconds).slice(0, n);
  const byPeak = [...actions].sort((a, b) => b.peakMb - a.peakMb).slice(0, n);
  return [`most CPU: ${byCpu.map(fmt).join(", ")}`, `highest peak: ${byPeak.map(fmt).join(", ")}`].join("\n");
}

for (const [users, days] of sizes) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bench-"));
  const db = path.join(dir, "warehouse.duckdb");
  try {
    const gen = child("stage-demo-generate.ts", [db, String(users), String(days)]);
    const runVars = opt("--vars", "").split(",").filter((v) => v.includes("="));
    const run = child("stage-pipeline-run.ts", [db, opt("--memory-limit", "auto"), ...runVars]);
    const rows: StageFigure[] = [
      { stage: "generate sample", seconds: Number(gen.seconds), cpuSeconds: Number(gen.cpuSeconds), peakMb: Number(gen.peakMb), load: gen.meanLoad === undefined ? undefined : Number(gen.meanLoad), note: `${Number(gen.events).toLocaleString("en-US")} events, ${Number(gen.sessions).toLocaleString("en-US")} sessions; DuckDB at ${gen.generateMemoryLimit} while generating` },
      ...(run.stages as StageFigure[]),
      { stage: "whole run", seconds: Number(run.seconds), cpuSeconds: Number(run.cpuSeconds), peakMb: Number(run.peakMb), load: run.meanLoad === undefined ? undefined : Number(run.meanLoad), note: `${run.actions} actions, ${run.status}` },
    ];
    console.log(`demo pipeline, ${users.toLocaleString("en-US")} users × ${days} days (warehouse ${(statSync(db).size / 2 ** 20).toFixed(0)} MB; DuckDB memory_limit ${run.memoryLimit}${opt("--memory-limit", "auto") === "auto" ? ", auto" : ""})`);
    console.log(table(rows));
    console.log(`load average (1, 5, 15 min) at start → end: generate ${gen.load}; run ${run.load}`);
    for (const f of (run.failed as string[] | undefined) ?? []) console.log(`failed: ${f}`);
    // What the run would take on an idle machine of this size: its CPU seconds over the cores (an estimate, not a measurement).
    console.log(`whole run on ${os.cpus().length} idle cores (estimate: CPU s / cores): ${(Number(run.cpuSeconds) / os.cpus().length).toFixed(0)} s`);
    console.log("");
    const perAction = (run.perAction as ActionFigure[] | undefined) ?? [];
    console.log(topActions(perAction, Number(opt("--actions", "8"))));
    console.log("");
    measured.push({ events: Number(gen.events), rows, perAction });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (measured.length > 1) console.log(growthTable(measured) + "\n");

/**
 * How each stage's CPU seconds and peak RSS grow from the smallest size to each larger one, against the
 * events: a CPU ratio well above the events' ratio (> 1.25×) is growth faster than linear, marked.
 */
function growthTable(runs: { events: number; rows: StageFigure[]; perAction: ActionFigure[] }[]): string {
  const base = runs[0]!;
  const lines = [`growth against ${base.events.toLocaleString("en-US")} events (CPU s ratio, peak MB ratio; * = CPU grows faster than the events)`];
  for (const r of runs.slice(1)) {
    const k = r.events / base.events;
    const cells = r.rows.map((row) => {
      const b = base.rows.find((x) => x.stage === row.stage);
      if (!b || !b.cpuSeconds || row.cpuSeconds === undefined) return `${row.stage}: —`;
      const c = row.cpuSeconds / b.cpuSeconds;
      return `${row.stage}: CPU ×${c.toFixed(1)}${c > 1.25 * k ? "*" : ""}, peak ×${(row.peakMb / b.peakMb).toFixed(1)}`;
    });
    lines.push(`  events ×${k.toFixed(1)}: ${cells.join("; ")}`);
    // Actions (≥ 0.5 CPU s at the smallest size, to keep start-up noise out) whose CPU grows faster than the events.
    const faster = r.perAction.flatMap((a) => {
      const b = base.perAction.find((x) => x.action === a.action);
      if (!b || b.cpuSeconds < 0.5) return [];
      const c = a.cpuSeconds / b.cpuSeconds;
      return c > 1.25 * k ? [{ a, b, c }] : [];
    }).sort((x, y) => (y.a.cpuSeconds - y.b.cpuSeconds * k) - (x.a.cpuSeconds - x.b.cpuSeconds * k));
    lines.push(`    actions whose CPU grows faster than the events (CPU s beyond linear first): ${faster.length ? faster.map(({ a, b, c }) => `${a.action} ${b.cpuSeconds.toFixed(1)} → ${a.cpuSeconds.toFixed(1)} s (×${c.toFixed(1)})`).join(", ") : "none"}`);
  }
  return lines.join("\n");
}

if (!flag("--skip-cost-plan")) costPlanBench();

if (!flag("--skip-markov")) {
  const m = child("stage-channel-markov-1m.ts", []);
  console.log("channel Markov on synthetic_1m_paths.csv.gz (1,000,000 rows), target: well under 8 s (ChannelAttribution C++, order 1)");
  console.log(table(m.stages as StageFigure[]) + "\n");
}

if (!flag("--skip-end-to-end")) {
  // The compiled CLI as a user runs it: end to end against ChannelAttribution, imports against DuckDB's readers.
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "bench", "end-to-end.ts"), "--repeats", opt("--repeats", "3")], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) process.exitCode = 1;
  console.log("");
}

if (flag("--xgboost")) {
  // Both backends on the same data: vars.xgboost_backend = auto picks native when libxgboost loads.
  for (const backend of ["wasm", "native"]) {
    const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "bench", "xgboost.ts"), "--rows", "1000000", "--repeats", "1", "--backend", backend], { cwd: ROOT, encoding: "utf8" });
    console.log(`XGBoost 1M × 20 rows, ${backend} backend (worker thread; load average at end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}):\n` + (r.status === 0 ? r.stdout : `failed (exit ${r.status}): ${r.stderr.slice(-500)}`));
  }
}
