/**
 * The run report page: one self-contained HTML file (inline CSS, charts as inline SVG, one small
 * inline script for the model picker, no network), readable on a laptop screen and a phone, printable.
 * It opens with the answer (answer.ts) and ends with run operations. Every chart sits in a
 * <figure> with its numbers in a <details> table; a section whose table was not produced says so.
 */
import type { ActionRecord } from "../runner/run-record.ts";
import {
  actionTimelineSvg, calibrationSpec, creditOverTimeSpec, decileLiftSpec, featureImportanceSpec,
  funnelGraphSpec, funnelLevelMixSpec, funnelSegmentsSpec, overallTransitions, psiSpec, rocSpec, scoreDistributionSpec,
} from "./charts.ts";
import type { ReportData } from "./data.ts";
import { answerSection, campaignsSection, comparisonSection, pathsSection, recommendedModel } from "./answer.ts";
import { absent, escapeHtml, figure, h, noteOf, rowsOf, statusBadge, table, tile, type Column } from "./parts.ts";
import { createFormats, type Formats } from "./format.ts";

export { escapeHtml };

interface RenderOptions {
  /** BCP 47 locale for numbers (default en-US). */
  locale?: string;
}

// ---- sections ----

/** The run's timeline as a figure's chart, or undefined when it has no bar to draw. */
function timelineOf(actions: ActionRecord[], label: (action: string) => string): (() => string) | undefined {
  const svg = actionTimelineSvg(actions, label);
  return svg === undefined ? undefined : () => svg;
}

async function runSection(d: ReportData, f: Formats): Promise<string> {
  const run = d.run;
  const by = (s: string): ActionRecord[] => run.actions.filter((a) => a.status === s);
  const failed = by("failed");
  const assertions = run.actions.filter((a) => a.kind === "assertion");
  const assertionsFailed = assertions.filter((a) => a.status === "failed" || a.status === "warning");
  const assertionsRun = assertions.filter((a) => a.status !== "skipped");
  const rowsWritten = run.actions.filter((a) => a.kind !== "assertion").reduce((s, a) => s + (a.rows ?? 0), 0);
  const duration = run.endedAt.getTime() - run.startedAt.getTime();
  // "funnelcredit_staging.stg_events" → "staging.stg_events", "funnelcredit.sessions" → "sessions".
  const base = d.outputsDataset;
  const shortName = (name: string): string => (name.startsWith(`${base}_`) || name.startsWith(`${base}.`) ? name.slice(base.length + 1) : name);

  const tiles = [
    tile("status", statusBadge(run.status)),
    tile("duration", h(f.duration(duration))),
    tile("actions succeeded", h(f.int(by("succeeded").length + by("warning").length)), "good"),
    tile("failed", h(f.int(failed.length)), failed.length ? "bad" : ""),
    tile("skipped", h(f.int(by("skipped").length)), by("skipped").length ? "warn" : ""),
    tile("rows written", h(f.int(rowsWritten))),
    tile("warnings", h(f.int(run.warnings.length)), run.warnings.length ? "warn" : ""),
    tile("assertions passed", assertions.length ? `${h(f.int(assertionsRun.length - assertionsFailed.length))}<small> of ${h(f.int(assertionsRun.length))}</small>` : "–", assertionsFailed.some((a) => a.status === "failed") ? "bad" : assertionsFailed.length ? "warn" : assertions.length ? "good" : ""),
  ].join("");

  const failures = failed.length
    ? `<div class="callout bad"><strong>${failed.length === 1 ? "1 action failed" : `${failed.length} actions failed`}</strong>${by("skipped").length ? ` — ${f.int(by("skipped").length)} downstream actions were skipped` : ""}.
<ul class="failures">${failed.map((a) => `<li><code>${h(a.action)}</code> <span class="muted">(${h(a.kind)})</span><pre>${h(a.error ?? "no error message")}</pre></li>`).join("")}</ul></div>`
    : run.dryRun ? `<div class="callout">Dry run: statements were validated, nothing was written.</div>` : "";
  const warnings = run.warnings.length
    ? `<div class="callout warn"><strong>Warnings</strong><ul>${run.warnings.map((w) => `<li>${h(w)}</li>`).join("")}</ul></div>`
    : "";

  const assertionColumns: Column<ActionRecord>[] = [
    { title: "assertion", value: (a) => shortName(a.action) },
    { title: "result", value: (a) => statusBadge(a.status), html: true },
    { title: "failing rows", value: (a) => f.int(a.rows ?? (a.status === "succeeded" ? 0 : null)), numeric: true },
    { title: "details", value: (a) => a.error ?? a.note ?? "", prose: true },
  ];
  const passed = assertions.filter((a) => a.status === "succeeded");
  const notPassed = assertions.filter((a) => a.status !== "succeeded");
  const assertionTable = `<h3>Data-quality assertions</h3>` + (!assertions.length
    ? `<p class="empty">No assertions ran in this run.</p>`
    : (notPassed.length ? table(notPassed, assertionColumns) : `<p class="callout good">All ${f.int(passed.length)} assertions passed.</p>`) +
      (passed.length && notPassed.length ? `<details><summary>${f.int(passed.length)} assertions passed</summary>${table(passed, assertionColumns)}</details>` : "") +
      (passed.length && !notPassed.length ? `<details><summary>Show them</summary>${table(passed, assertionColumns)}</details>` : ""));

  const actionsTable = table([...run.actions].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()), [
    { title: "action", value: (a) => shortName(a.action) },
    { title: "kind", value: (a) => a.kind },
    { title: "status", value: (a) => statusBadge(a.status), html: true },
    { title: "started", value: (a) => f.timestamp(a.startedAt).slice(11) },
    { title: "duration", value: (a) => f.duration(a.endedAt.getTime() - a.startedAt.getTime()), numeric: true },
    { title: "rows", value: (a) => f.int(a.rows), numeric: true },
    { title: "note", value: (a) => a.error ?? a.note ?? "", prose: true },
  ]);
  const timeline = run.actions.length
    ? await figure("Actions over time", timelineOf(run.actions.filter((a) => a.kind !== "assertion"), shortName), actionsTable, { subtitle: "one bar per table, view or job (assertions are listed below), coloured by status" })
    : `<p class="empty">This run has no actions.</p>`;

  const counts = d.outputCounts.length
    ? `<h3>Credit and score tables</h3>${table(d.outputCounts, [
        { title: "table", value: (c) => `<code>${h(c.table)}</code>`, html: true },
        { title: "rows", value: (c) => (c.state === "ok" ? f.int(c.rows) : c.state === "missing" ? "not produced" : `unreadable: ${c.message ?? ""}`), numeric: true },
      ])}`
    : "";

  return `<section id="run"><h2>Run operations</h2>
<div class="tiles">${tiles}</div>
${failures}${warnings}
${timeline}
${assertionTable}
${counts}
</section>`;
}

async function overTimeSection(d: ReportData, f: Formats): Promise<string> {
  const all = rowsOf(d.creditDaily);
  if (!all) return `<section id="over-time"><h2>Credit over time</h2>${absent(d.creditDaily, "Daily channel credit")}</section>`;
  // The recommended model only: twelve stacked small multiples tell less than one.
  const model = recommendedModel([...new Set(all.map((r) => r.model))], d.recommendation)!;
  const rows = all.filter((r) => r.model === model);
  // Fallback table by month (days would be thousands of rows).
  const byMonth = new Map<string, { period: string; model: string; channel: string; conversions: number; value: number }>();
  for (const r of rows) {
    const k = `${r.credit_date.slice(0, 7)}\u0000${r.model}\u0000${r.channel}`;
    const e = byMonth.get(k) ?? { period: r.credit_date.slice(0, 7), model: r.model, channel: r.channel, conversions: 0, value: 0 };
    e.conversions += r.conversions ?? 0;
    e.value += r.value ?? 0;
    byMonth.set(k, e);
  }
  const fallback = table([...byMonth.values()], [
    { title: "month", value: (r) => r.period },
    { title: "model", value: (r) => r.model },
    { title: "channel", value: (r) => r.channel },
    { title: "conversions", value: (r) => f.num(r.conversions, 1), numeric: true },
    { title: "value", value: (r) => f.money(r.value), numeric: true },
  ], { limit: 400 });
  const first = rows[0]!.credit_date;
  const last = rows[rows.length - 1]!.credit_date;
  return `<section id="over-time"><h2>Credit over time</h2>
${await figure("Credited value per day", creditOverTimeSpec(rows, f.moneyTitle("value")), fallback, { subtitle: `${model}, ${first} to ${last}, stacked by channel` })}
</section>`;
}

async function funnelSection(d: ReportData, f: Formats): Promise<string> {
  const rows = rowsOf(d.funnel);
  if (!rows) return `<section id="funnel"><h2>OWOX funnel</h2>${absent(d.funnel, "Funnel transition probabilities")}</section>`;
  const overall = overallTransitions(rows);
  const transitionCols = [
    { title: "from", value: (r: (typeof rows)[number]) => r.from_step },
    { title: "to", value: (r: (typeof rows)[number]) => r.to_step },
    { title: "probability", value: (r: (typeof rows)[number]) => f.pct(r.probability), numeric: true },
    { title: "reliability level", value: (r: (typeof rows)[number]) => r.level ?? "–" },
    { title: "sessions", value: (r: (typeof rows)[number]) => f.int(r.sample_size), numeric: true },
  ];
  const segmented = rows.filter((r) => !overall.includes(r));
  const segTable = table(segmented.length ? segmented : rows, [
    { title: "user type", value: (r) => r.user_type ?? "all" },
    { title: "device", value: (r) => r.device ?? "all" },
    { title: "region", value: (r) => r.region ?? "all" },
    ...transitionCols,
  ], { limit: 500 });
  const segRows = segmented.length ? segmented : rows;
  const segmentCount = new Set(segRows.map((r) => `${r.user_type}\u0000${r.device}\u0000${r.region}`)).size;
  // A heatmap stays readable up to a few dozen segments; beyond, show the level mix per transition.
  const segFigure = segmentCount <= 30
    ? await figure("Transition probability per segment", funnelSegmentsSpec(segRows, d.funnelSteps), segTable, { subtitle: "cell colour = reliability level used" })
    : await figure("Reliability level used per transition", funnelLevelMixSpec(segRows, d.funnelSteps), segTable, { subtitle: `share of the ${f.int(segmentCount)} segments (user type × device × region) whose probability came from each level` });
  return `<section id="funnel"><h2>OWOX funnel</h2>
<p class="muted">OWOX funnel model: the probability of moving from one step to the next. Where a segment has too few sessions for a reliable estimate, the probability comes from a broader level; the colour shows which level was used.</p>
${await figure("Funnel transitions", funnelGraphSpec(rows, d.funnelSteps), table(overall, transitionCols), { subtitle: "edge width ∝ probability; arcs above skip steps, arcs below go back, drops leave the funnel" })}
${segFigure}
</section>`;
}

async function modelsSection(d: ReportData, f: Formats): Promise<string> {
  const metrics = rowsOf(d.metrics);
  const curves = rowsOf(d.curves) ?? [];
  const importance = rowsOf(d.importance);
  if (!metrics && !curves.length && !importance) {
    return `<section id="models"><h2>ML models</h2>${absent(d.metrics, "Model metrics")}${d.curves.state !== "missing" || d.metrics.state !== "missing" ? absent(d.curves, "Model curves") : ""}</section>`;
  }
  const models = [...new Set([...(metrics ?? []).map((m) => m.model), ...curves.map((c) => c.model), ...(importance ?? []).map((i) => i.model)])].sort();
  const parts: string[] = [];
  for (const m of models) {
    const ms = (metrics ?? []).filter((x) => x.model === m);
    const key = ms.filter((x) => KEY_METRIC.test(x.metric));
    const tiles = key.map((x) => tile(x.metric.replace(/_/g, " "), h(formatMetric(x.metric, x.value, f)))).join("");
    const raw = ms.length ? `<details><summary>All ${f.int(ms.length)} metrics</summary>${table(ms, [
      { title: "metric", value: (x) => x.metric },
      { title: "value", value: (x) => formatMetric(x.metric, x.value, f), numeric: true },
    ])}</details>` : "";
    parts.push(`<h3>${h(modelLabel(m))}</h3>${ms.length ? `<div class="tiles">${tiles}</div>${raw}` : `<p class="empty">No metrics recorded for ${h(m)}.</p>`}`);
  }
  const curveTable = (name: string) => table(curves.filter((c) => c.curve === name), [
    { title: "model", value: (c) => c.model },
    { title: "x", value: (c) => f.num(c.x, 3), numeric: true },
    { title: "y", value: (c) => f.num(c.y, 3), numeric: true },
    { title: "n", value: (c) => f.int(c.n), numeric: true },
  ], { limit: 200 });
  const roc = await figure("ROC curve", rocSpec(curves), curveTable("roc"), { subtitle: "held-out data; dashed = chance" });
  const cal = await figure("Calibration curve", calibrationSpec(curves), curveTable("calibration"), { subtitle: "dashed = perfectly calibrated" });
  const curvesHtml = roc || cal ? `<div class="grid2">${roc}${cal}</div>` : absent(d.curves, "ROC and calibration curves");
  const imp = importance
    ? await figure("Feature importance", featureImportanceSpec(importance), table(importance, [
        { title: "model", value: (r) => r.model },
        { title: "feature", value: (r) => r.feature },
        { title: "importance", value: (r) => f.num(r.importance, 4), numeric: true },
        { title: "kind", value: (r) => r.kind ?? "" },
      ]), { subtitle: "top 12 features per model" })
    : absent(d.importance, "Feature importance");
  return `<section id="models"><h2>ML models</h2>${noteOf(d.metrics)}${parts.join("")}<h3>Curves</h3>${curvesHtml}<h3>What the models rely on</h3>${imp}</section>`;
}

async function leadsSection(d: ReportData, f: Formats): Promise<string> {
  const summary = rowsOf(d.leadSummary)?.[0];
  const monitoring = rowsOf(d.monitoring);
  const curves = (rowsOf(d.curves) ?? []).filter((c) => c.model === "lead_scoring");
  const parts: string[] = [];

  if (monitoring) {
    const flagged = monitoring.filter((m) => m.requires_retraining);
    parts.push(flagged.length
      ? `<div class="callout bad"><strong>Retraining recommended.</strong><ul>${flagged.map((m) => `<li><code>${h(m.feature)}</code>: ${h(m.reason ?? "drift above the threshold")}</li>`).join("")}</ul></div>`
      : `<div class="callout good"><strong>No retraining needed:</strong> score and features are stable against the training data.</div>`);
  } else {
    parts.push(absent(d.monitoring, "Drift monitoring (retraining flag)"));
  }

  if (summary) {
    parts.push(`<p class="facts"><strong>${h(f.int(summary.leads))}</strong> leads scored · model <code>${h(summary.model_versions.join(", ") || "–")}</code> · last scored ${h(f.timestamp(summary.last_scored_at))}</p>`);
  }
  const dist = rowsOf(d.scoreDistribution);
  const distFig = dist
    ? await figure("Lead-score distribution", scoreDistributionSpec(dist), table(dist, [
        { title: "score", value: (r) => f.int(r.score), numeric: true },
        { title: "leads", value: (r) => f.int(r.leads), numeric: true },
      ], { limit: 101 }))
    : absent(d.scoreDistribution, "Lead scores");
  const liftFig = await figure("Lift per score decile", decileLiftSpec(curves), table(curves.filter((c) => c.curve === "lift"), [
    { title: "decile", value: (c) => f.int(c.x), numeric: true },
    { title: "lift", value: (c) => f.ratio(c.y), numeric: true },
    { title: "leads", value: (c) => f.int(c.n), numeric: true },
  ]), { subtitle: "conversion rate in the decile ÷ overall rate" });
  parts.push(`<div class="grid2">${distFig}${liftFig || absent(d.curves.state === "ok" ? { state: "ok", table: d.curves.table, rows: [] } : d.curves, "Decile lift")}</div>`);

  if (monitoring) {
    parts.push(await figure("Drift per feature (PSI)", psiSpec(monitoring), table(monitoring, [
      { title: "feature", value: (m) => m.feature },
      { title: "PSI", value: (m) => f.num(m.psi, 3), numeric: true },
      { title: "KS", value: (m) => f.num(m.ks, 3), numeric: true },
      { title: "retrain?", value: (m) => (m.requires_retraining ? "yes" : "no") },
      { title: "reason", value: (m) => m.reason ?? "" },
    ]), { subtitle: "dashed lines: 0.1 (watch) and 0.25 (shifted)" }) + noteOf(d.monitoring));
  }
  const segments = rowsOf(d.leadSegments);
  if (segments) {
    parts.push(`<h3>Segments</h3>` + table(segments, [
      { title: "segment", value: (s) => s.segment },
      { title: "leads", value: (s) => f.int(s.leads), numeric: true },
      { title: "mean probability", value: (s) => f.pct(s.mean_probability), numeric: true },
    ]));
  }
  const top = rowsOf(d.topLeads);
  if (top) {
    parts.push(`<h3>Top 10 leads</h3>` + table(top, [
      { title: "lead", value: (l) => l.lead_id },
      { title: "score", value: (l) => f.int(l.score), numeric: true },
      { title: "probability", value: (l) => f.pct(l.probability), numeric: true },
      { title: "segment", value: (l) => l.segment ?? "–" },
      { title: "key factors", value: (l) => l.key_factors.slice(0, 3).map((k) => `<span class="factor ${k.direction === "down" || (k.contribution ?? 0) < 0 ? "down" : "up"}">${h(k.feature)}</span>`).join(" "), html: true },
    ]));
  }
  return `<section id="leads"><h2>Lead scoring</h2>${parts.join("\n")}</section>`;
}

// ---- page ----

export async function renderReportHtml(d: ReportData, opts: RenderOptions = {}): Promise<string> {
  const f = createFormats(d.currency, opts.locale);
  const run = d.run;
  const sections = [
    await answerSection(d, f),
    await comparisonSection(d, f),
    await overTimeSection(d, f),
    pathsSection(d, f),
    campaignsSection(d, f),
    await funnelSection(d, f),
    await modelsSection(d, f),
    await leadsSection(d, f),
    await runSection(d, f),
  ];
  const nav = [["answer", "Answer"], ["compare", "Compare models"], ["over-time", "Over time"], ["paths", "Paths"], ["campaigns", "Campaigns"], ["funnel", "OWOX funnel"], ["models", "ML"], ["leads", "Lead scoring"], ["run", "Run"]]
    .map(([id, label]) => `<a href="#${id}">${label}</a>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="funnelcredit">
<title>funnelcredit · run ${h(run.runId)} · ${h(run.status)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="page-head">
  <div class="head-inner">
    <div>
      <div class="eyebrow">funnelcredit run report</div>
      <h1>Run <code>${h(run.runId)}</code> ${statusBadge(run.status)}</h1>
      <p class="meta">${h(f.timestamp(run.startedAt))} · ${h(f.duration(run.endedAt.getTime() - run.startedAt.getTime()))} on ${h(run.engine)}${run.fullRefresh ? " · full refresh" : ""}${run.dryRun ? " · dry run" : ""} · amounts in ${h(d.currency)}</p>
    </div>
  </div>
  <nav>${nav}</nav>
</header>
<main>
${sections.join("\n")}
</main>
<footer>Generated ${h(f.timestamp(d.generatedAt))} by funnelcredit. The tables behind this page are the <code>reporting</code> views; see the README for their columns.</footer>
</body>
</html>
`;
}

// ---- helpers ----



/** Metrics shown as tiles; the rest (confusion counts, calibrator flags…) sit behind a disclosure. */
const KEY_METRIC = /(^|_)(auc|log_?loss|brier|ece)$|^(test|train|validation)_(rows|n|leads|journeys)$|^n_(train|test|validation)$|^published$|^rounds$/i;

function modelLabel(m: string): string {
  return m === "ml_attribution" ? "ML attribution (conversion model)" : m === "lead_scoring" ? "Lead scoring" : m;
}

function formatMetric(name: string, v: number | null, f: Formats): string {
  if (/(^n_|_count$|^rows|^count|^positives|^negatives|^iterations|^trees|^rounds)/i.test(name)) return f.int(v);
  if (/(rate|share|accuracy|precision|recall)$/i.test(name)) return f.pct(v);
  return f.num(v, 3);
}

const CSS = `
:root { --ink:#1f2937; --muted:#575e6b; --line:#e5e7eb; --bg:#f5f6f8; --card:#fff; --accent:#3b6690; --good:#3f9a5b; --bad:#d64545; --warn:#c98a00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em; }
.page-head { background: #1f2937; color: #f9fafb; }
.head-inner { max-width: 1120px; margin: 0 auto; padding: 28px 28px 14px; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: #9ca3af; font-weight: 600; }
h1 { font-size: 24px; margin: 4px 0 6px; font-weight: 650; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h1 code { font-size: 20px; background: rgba(255,255,255,.08); padding: 2px 8px; border-radius: 6px; }
.meta { margin: 0; color: #d1d5db; font-size: 14px; }
nav { max-width: 1120px; margin: 0 auto; padding: 0 20px; display: flex; gap: 4px; flex-wrap: wrap; }
nav a { color: #d1d5db; text-decoration: none; font-size: 13px; padding: 8px 10px; border-bottom: 2px solid transparent; }
nav a:hover { color: #fff; border-bottom-color: var(--accent); }
main { max-width: 1120px; margin: 0 auto; padding: 20px 28px 40px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px 24px; margin: 0 0 20px; box-shadow: 0 1px 2px rgba(0,0,0,.03); }
h2 { font-size: 19px; margin: 0 0 14px; font-weight: 650; }
h3 { font-size: 15px; margin: 22px 0 10px; font-weight: 650; color: #374151; }
p { margin: 8px 0; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 16px; }
.tile { flex: 1 1 108px; max-width: 200px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fafbfc; }
.tile-value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.3; white-space: nowrap; }
.facts { font-size: 14px; margin: 10px 0 14px; }
.tile-value small { font-size: 13px; color: var(--muted); font-weight: 500; }
.tile-label { font-size: 12px; color: var(--muted); text-transform: lowercase; }
.tile.good { border-left: 3px solid var(--good); }
.tile.bad { border-left: 3px solid var(--bad); }
.tile.bad .tile-value { color: var(--bad); }
.tile.warn { border-left: 3px solid var(--warn); }
.badge { white-space: nowrap; overflow-wrap: normal; display: inline-block; font-size: 12px; font-weight: 650; letter-spacing: .02em; text-transform: uppercase; color: #fff; background: var(--c); border-radius: 999px; padding: 2px 9px; line-height: 1.5; vertical-align: middle; }
.tile .badge { font-size: 13px; }
.callout { overflow-wrap: anywhere; border-radius: 8px; padding: 12px 16px; margin: 12px 0; background: #f3f4f6; border: 1px solid var(--line); }
.callout.bad { background: #fdf0f0; border-color: #f3c4c4; }
.callout.warn { background: #fff8e6; border-color: #f1dca4; }
.callout.good { background: #eff8f1; border-color: #c3e3cb; }
.callout ul { margin: 6px 0 0; padding-left: 20px; }
.failures { list-style: none; padding-left: 0 !important; }
.failures li { margin: 8px 0; }
.failures pre { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #f3c4c4; border-radius: 6px; padding: 8px 10px; margin: 4px 0 0; color: #7f1d1d; }
.empty { color: var(--muted); background: #fafbfc; border: 1px dashed #d1d5db; border-radius: 8px; padding: 12px 14px; }
.empty.bad { color: #7f1d1d; border-color: #f3c4c4; }
figure { margin: 14px 0 18px; padding: 0; }
figcaption { margin: 0 0 8px; }
.fig-title { font-weight: 650; font-size: 14px; }
.fig-sub { color: var(--muted); font-size: 13px; margin-left: 8px; }
.svg { overflow-x: auto; }
.svg svg { max-width: 100%; height: auto; display: block; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(360px, 100%), 1fr)); gap: 8px 28px; align-items: start; }
.grid2 > * { min-width: 0; }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--accent); font-size: 13px; user-select: none; }
.table-wrap { overflow-x: auto; margin: 6px 0; }
table { border-collapse: collapse; min-width: min(100%, 560px); font-size: 13.5px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 4px; }
th { text-align: left; font-weight: 600; color: #374151; border-bottom: 2px solid var(--line); padding: 6px 10px; white-space: nowrap; }
td { border-bottom: 1px solid #f0f1f3; padding: 5px 10px; vertical-align: top; overflow-wrap: anywhere; }
tbody tr:nth-child(even) td { background: #fafbfc; }
.num { text-align: right; white-space: nowrap; }
td.prose { min-width: 16em; color: #374151; }
td .badge { font-size: 10.5px; padding: 1px 7px; }
.meter { display: inline-block; width: 54px; height: 6px; background: #e5e7eb; border-radius: 3px; vertical-align: middle; margin-right: 6px; overflow: hidden; }
.meter span { display: block; height: 100%; background: var(--accent); }
.factor { display: inline-block; font-size: 12px; border-radius: 4px; padding: 0 6px; margin: 1px 2px 1px 0; background: #eef3f8; }
.factor.up::before { content: "▲ "; color: var(--good); font-size: 9px; }
.factor.down::before { content: "▼ "; color: var(--bad); font-size: 9px; }
.lead { font-size: 16px; margin: 4px 0 10px; }
.picker { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin: 4px 0 8px; font-size: 14px; }
.picker select { font: inherit; padding: 3px 6px; border: 1px solid #9ca3af; border-radius: 6px; background: #fff; color: var(--ink); }
.notes { padding-left: 20px; }
.notes li { margin: 6px 0; }
@media (max-width: 600px) { main { padding: 12px 10px 28px; } section { padding: 14px 12px 16px; } .head-inner { padding: 20px 14px 10px; } .fig-sub { display: block; margin-left: 0; } }
footer { max-width: 1120px; margin: 0 auto; padding: 0 28px 32px; color: var(--muted); font-size: 13px; }
@media print { body { background: #fff; } .page-head { background: #fff; color: var(--ink); } nav { display: none; } section { break-inside: avoid-page; box-shadow: none; } details { display: block; } }
`;
