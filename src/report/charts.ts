/**
 * The report's charts: Vega-Lite specs (pure functions of report data) rendered to SVG in Node
 * at build time, so the page needs no JavaScript and no network. Each builder returns a spec or
 * undefined when there is nothing to draw; `renderChart` turns a spec into inline SVG. The run's own
 * timeline is drawn directly as SVG (`actionTimelineSvg`): every run has one, and loading and running
 * Vega for it cost about a second of CPU per run, more than a small run's work. Vega is loaded only
 * when another chart is drawn.
 */
import type { TopLevelSpec } from "vega-lite";
import type {
  ChannelCredit, DailyCredit, FeatureImportance, FunnelTransition, LeadMonitoring, ModelAgreement, ModelCurvePoint, ScoreBucket,
} from "./data.ts";
import type { ActionRecord } from "../runner/run-record.ts";

/** A Vega-Lite spec as plain JSON (validated by vega-lite's compiler when rendered). */
export type ChartSpec = Record<string, unknown>;

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
/** Tableau 10: distinguishable, colour-blind friendlier than the d3 default. */
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
/** Distinct colours for up to 14 series (Tableau 10 plus four that stay apart from it). */
const SERIES_PALETTE = [...PALETTE, "#1b9e77", "#6a3d9a", "#d95f02", "#17becf"];
const STATUS_COLORS: Record<string, string> = {
  succeeded: "#3f9a5b", failed: "#d64545", skipped: "#a3a8b0", warning: "#e0a100", dry_run: "#4e79a7", cancelled: "#7a5195",
};

const CONFIG = {
  font: FONT,
  background: "#ffffff",
  padding: 8,
  view: { stroke: null },
  axis: {
    labelColor: "#4b5563", titleColor: "#374151", gridColor: "#eceef1", domainColor: "#c4c8ce", tickColor: "#c4c8ce",
    labelFontSize: 11, titleFontSize: 11, titleFontWeight: 600, titlePadding: 8, labelLimit: 180,
  },
  legend: { labelColor: "#374151", titleColor: "#374151", labelFontSize: 11, titleFontSize: 11, titleFontWeight: 600, symbolSize: 80 },
  header: { labelFontSize: 12, labelFontWeight: 600, labelColor: "#1f2937", titleFontSize: 0 },
  title: { fontSize: 13, fontWeight: 600, color: "#1f2937", anchor: "start" },
  range: { category: SERIES_PALETTE },
  bar: { cornerRadiusEnd: 2 },
  line: { strokeWidth: 2 },
};

function withConfig(spec: ChartSpec): ChartSpec {
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", config: CONFIG, ...spec };
}

let chartCounter = 0;

const attr = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Spec → inline SVG. Ids inside the SVG (clip paths, gradients) get a per-chart prefix, so many
 * charts can share one page without an id colliding.
 */
export async function renderChart(spec: ChartSpec): Promise<string> {
  const [{ compile }, { View, parse }] = await Promise.all([import("vega-lite"), import("vega")]);
  const vg = compile(withConfig(spec) as unknown as TopLevelSpec).spec;
  const view = new View(parse(vg), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const prefix = `c${++chartCounter}-`;
    return svg
      .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}${id})`)
      // One image with one label: the numbers are in the table under each chart, so the marks' own ARIA
      // roles (some without a name, which screen readers and axe flag) are dropped.
      .replace(/ (role|aria-roledescription|aria-label|aria-hidden)="[^"]*"/g, "")
      .replace(/^<svg /, `<svg role="img" aria-label="${attr(String(spec.description ?? "chart"))}" `);
  } finally {
    view.finalize();
  }
}

// ---- run summary ----

/** Text for SVG content and attribute values. */
const svgText = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Round axis ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10^k, at most 8 of them. */
export function axisTicks(max: number): number[] {
  const span = max > 0 ? max : 1;
  const step = [1, 2, 5].flatMap((m) => [-2, -1, 0, 1, 2, 3, 4, 5].map((k) => m * 10 ** k)).sort((x, y) => x - y).find((st) => Math.ceil(span / st) <= 8)!;
  const n = Math.ceil(span / step - 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/**
 * Gantt of the run's actions as inline SVG: one bar per action from start to end, coloured by status,
 * a legend of the statuses on top and the seconds since the run started below. `label` shortens names
 * for the axis (e.g. drops the base dataset prefix). Each bar's tooltip gives its action, status and times.
 */
export function actionTimelineSvg(actions: ActionRecord[], label: (action: string) => string = (a) => a): string | undefined {
  if (!actions.length) return undefined;
  const t0 = Math.min(...actions.map((a) => a.startedAt.getTime()));
  const bars = actions.map((a) => ({
    action: label(a.action), status: a.status,
    start: (a.startedAt.getTime() - t0) / 1000,
    // A zero-length bar would vanish: give instant actions a sliver.
    end: Math.max((a.endedAt.getTime() - t0) / 1000, (a.startedAt.getTime() - t0) / 1000 + 0.02),
  }));
  const statuses = Object.keys(STATUS_COLORS).filter((st) => bars.some((b) => b.status === st));
  const ticks = axisTicks(Math.max(...bars.map((b) => b.end)));
  const domain = ticks[ticks.length - 1]!;
  // Labels at 11px: about 6.2px a character, at most 440px as the Vega-Lite version allowed.
  const labelWidth = Math.min(440, Math.ceil(Math.max(...bars.map((b) => b.action.length)) * 6.2));
  const pad = 8, legend = 24, band = 17, plotWidth = 640, axis = 40;
  const left = pad + labelWidth + 8;
  const top = pad + legend;
  const plotHeight = band * bars.length;
  const x = (s: number): number => left + (s / domain) * plotWidth;
  const n = (v: number): string => v.toFixed(1).replace(/\.0$/, "");
  const width = left + plotWidth + pad + 12;
  const height = top + plotHeight + axis + pad;
  const parts: string[] = [];
  let lx = left;
  for (const st of statuses) {
    parts.push(`<rect x="${n(lx)}" y="${pad + 4}" width="10" height="10" rx="2" fill="${STATUS_COLORS[st]}"/><text x="${n(lx + 14)}" y="${pad + 13}" fill="#374151">${svgText(st)}</text>`);
    lx += 14 + st.length * 6.2 + 16;
  }
  for (const t of ticks) {
    parts.push(`<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${top}" y2="${top + plotHeight}" stroke="#eceef1"/>`,
      `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${top + plotHeight}" y2="${top + plotHeight + 5}" stroke="#c4c8ce"/>`,
      `<text x="${n(x(t))}" y="${top + plotHeight + 16}" text-anchor="middle" fill="#4b5563">${svgText(String(t))}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#c4c8ce"/>`,
    `<text x="${left + plotWidth / 2}" y="${top + plotHeight + 34}" text-anchor="middle" font-weight="600" fill="#374151">seconds since the run started</text>`);
  bars.forEach((b, i) => {
    const y = top + i * band;
    const tip = `${b.action}: ${b.status}, ${b.start.toFixed(2)} s to ${b.end.toFixed(2)} s`;
    parts.push(`<text x="${left - 8}" y="${n(y + band / 2 + 4)}" text-anchor="end" fill="#4b5563">${svgText(b.action)}</text>`,
      `<rect x="${n(x(b.start))}" y="${n(y + band * 0.15)}" width="${n(Math.max(x(b.end) - x(b.start), 1))}" height="${n(band * 0.7)}" rx="2" fill="${STATUS_COLORS[b.status] ?? "#a3a8b0"}"><title>${svgText(tip)}</title></rect>`);
  });
  const description = "Actions of the run over time, coloured by status";
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${svgText(description)}" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" font-family="${svgText(FONT)}" font-size="11">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>${parts.join("")}</svg>`;
}

// ---- attribution ----

/** Credit value over time: one small chart per model, channels stacked. Weekly beyond 120 days. */
export function creditOverTimeSpec(rows: DailyCredit[], moneyTitle: string): ChartSpec | undefined {
  const values = rows.filter((r) => r.value !== null && r.credit_date);
  if (!values.length) return undefined;
  const days = new Set(values.map((r) => r.credit_date)).size;
  const unit = days > 120 ? "yearweek" : "yearmonthdate";
  const models = [...new Set(values.map((r) => r.model))];
  return {
    description: "Credited value over time per model, stacked by channel",
    data: { values },
    facet: { field: "model", type: "nominal", sort: models, title: null },
    columns: models.length > 4 ? 3 : 2,
    spec: {
      width: models.length > 4 ? 250 : 380, height: 130,
      mark: { type: "area", interpolate: "monotone", opacity: 0.9 },
      encoding: {
        x: { field: "credit_date", type: "temporal", timeUnit: { unit, utc: true }, title: null, axis: { format: "%b %d", labelAngle: 0, tickCount: 4 } },
        y: { field: "value", aggregate: "sum", type: "quantitative", title: moneyTitle, stack: "zero", axis: { format: "~s", tickCount: 4 } },
        color: { field: "channel", type: "nominal", legend: { orient: "top", title: "channel", columns: 6 } },
      },
    },
    resolve: { scale: { y: "shared" } },
  };
}

// ---- funnel (OWOX) ----

const GLOBAL_LEVEL = /^(global|overall|all|total)$/i;

/**
 * The overall transition set: rows written for all segments if any; else, per transition, the
 * global-level estimate some segment fell back to (it is the overall probability); else the
 * sample-weighted mean of the segments' estimates, labelled with the level most segments used.
 */
export function overallTransitions(rows: FunnelTransition[]): FunnelTransition[] {
  const isAll = (v: string | null): boolean => v === null || v === "" || /^\(?(all|any|\*|total)\)?$/i.test(v);
  const overall = rows.filter((r) => isAll(r.user_type) && isAll(r.device) && isAll(r.region));
  if (overall.length) return overall;
  const byEdge = new Map<string, FunnelTransition[]>();
  for (const r of rows) {
    const k = `${r.from_step}\u0000${r.to_step}`;
    byEdge.set(k, [...(byEdge.get(k) ?? []), r]);
  }
  return [...byEdge.values()].map((rs) => {
    const global = rs.find((r) => r.level !== null && GLOBAL_LEVEL.test(r.level));
    if (global) return { ...global, user_type: null, device: null, region: null };
    const w = rs.map((r) => r.sample_size ?? 1);
    const total = w.reduce((a, b) => a + b, 0) || 1;
    const p = rs.reduce((s, r, i) => s + (r.probability ?? 0) * w[i]!, 0) / total;
    const levels = new Map<string, number>();
    for (const r of rs) if (r.level) levels.set(r.level, (levels.get(r.level) ?? 0) + 1);
    const level = [...levels.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    return { ...rs[0]!, user_type: null, device: null, region: null, probability: p, level: levels.size > 1 ? `mostly ${level}` : level, sample_size: total };
  });
}

/**
 * One colour per reliability level, shared by the funnel charts: darker = more specific (more
 * segment dimensions in the level's name), amber = the global fallback.
 */
function levelScale(levels: string[]): { domain: string[]; range: string[] } {
  const palette = ["#23527c", "#4e79a7", "#7fa7cf", "#a9c6e3", "#c9d8e6"];
  const specificity = (l: string): number => (GLOBAL_LEVEL.test(l.replace(/^mostly /, "")) ? -1 : (l.match(/user_type|device|region|segment|country|source|channel/gi)?.length ?? 0));
  const domain = [...new Set(levels)].sort((a, b) => specificity(b) - specificity(a) || a.localeCompare(b));
  let i = 0;
  return { domain, range: domain.map((l) => (specificity(l) < 0 ? "#e0a100" : palette[Math.min(i++, palette.length - 1)]!)) };
}

/**
 * The funnel as a graph: steps left to right in settings order, one edge per transition, width
 * ∝ probability, colour = the reliability level the probability came from. Forward skips arc
 * above, steps back arc below, transitions to a state outside the funnel (exit) drop down.
 */
export function funnelGraphSpec(rows: FunnelTransition[], steps: string[]): ChartSpec | undefined {
  const edges = overallTransitions(rows).filter((r) => r.probability !== null);
  if (!edges.length) return undefined;
  const stepSet = new Set(steps);
  const extraSources = [...new Set(edges.map((e) => e.from_step).filter((s) => !stepSet.has(s)))];
  const used = new Set(edges.flatMap((e) => [e.from_step, e.to_step]));
  const nodes = [...extraSources, ...steps.filter((s) => used.has(s))];
  const pos = new Map(nodes.map((n, i) => [n, i]));
  const half = 0.38;
  const nodeValues = nodes.map((n, i) => ({ node: n, x: i, x0: i - half, x1: i + half }));
  const lines: Record<string, unknown>[] = [];
  const labels: Record<string, unknown>[] = [];
  const exitsFrom = new Map<number, number>();
  edges.forEach((e, k) => {
    const a = pos.get(e.from_step);
    if (a === undefined) return;
    const b = pos.get(e.to_step);
    const label = `${(e.probability! * 100).toFixed(e.probability! < 0.1 ? 1 : 0)}%`;
    const base = { edge: k, transition: `${e.from_step} → ${e.to_step}`, probability: e.probability, level: e.level ?? "unknown" };
    if (b === undefined) {
      // Leaving the funnel: a short drop below the node, labels stacked when a step has several.
      const n = exitsFrom.get(a) ?? 0;
      exitsFrom.set(a, n + 1);
      if (n === 0) lines.push({ ...base, t: 0, x: a, y: -0.3 }, { ...base, t: 1, x: a, y: -0.8 });
      labels.push({ ...base, x: a, y: -1.0 - 0.2 * n, label: `${e.to_step} ${label}` });
      return;
    }
    const span = b - a;
    if (span === 1) {
      lines.push({ ...base, t: 0, x: a + half, y: 0 }, { ...base, t: 1, x: b - half, y: 0 });
      labels.push({ ...base, x: (a + b) / 2, y: 0.2, label });
      return;
    }
    // Quadratic Bézier between the nodes, apex (the curve's midpoint) at y0 + h: skips above,
    // steps back below the exit labels. Ends sit off the node centre so drops stay clear.
    const k2 = Math.min(Math.abs(span), 5);
    const forward = span > 0;
    const y0 = forward ? 0.3 : -0.3;
    const h = forward ? 0.45 + 0.22 * k2 : -1.2 - 0.22 * k2;
    const xa = a + (forward ? 0.14 : -0.14);
    const xb = b + (forward ? -0.14 : 0.14);
    for (let i = 0; i <= 20; i++) {
      const t = i / 20;
      const x = (1 - t) ** 2 * xa + 2 * (1 - t) * t * ((xa + xb) / 2) + t ** 2 * xb;
      const y = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * (y0 + 2 * h) + t ** 2 * y0;
      lines.push({ ...base, t, x, y });
    }
    labels.push({ ...base, x: (xa + xb) / 2, y: y0 + h + (forward ? 0.17 : -0.17), label });
  });

  const levels = [...new Set(edges.map((e) => e.level ?? "unknown"))].sort();
  const ys = [...lines, ...labels].map((p) => p.y as number);
  const yDomain = [Math.min(-1.2, ...ys) - 0.15, Math.max(0.5, ...ys) + 0.15];
  const width = Math.max(560, Math.min(980, nodes.length * 185));
  const x = { field: "x", type: "quantitative", scale: { domain: [-0.6, nodes.length - 0.4] }, axis: null };
  const y = { field: "y", type: "quantitative", scale: { domain: yDomain }, axis: null };
  return {
    description: "Funnel transition graph with probabilities and reliability levels",
    width, height: Math.round((yDomain[1]! - yDomain[0]!) * 70),
    layer: [
      {
        data: { values: lines },
        mark: { type: "line", interpolate: "linear", strokeCap: "round", opacity: 0.85 },
        encoding: {
          x, y, detail: { field: "edge", type: "nominal" }, order: { field: "t", type: "quantitative" },
          strokeWidth: { field: "probability", type: "quantitative", scale: { domain: [0, 1], range: [1, 12] }, legend: null },
          color: { field: "level", type: "nominal", scale: levelScale(levels), legend: { orient: "top", title: "reliability level", labelLimit: 320 } },
        },
      },
      {
        data: { values: nodeValues },
        mark: { type: "rect", cornerRadius: 6, color: "#1f2937", height: 34 },
        encoding: { x: { ...x, field: "x0" }, x2: { field: "x1" }, y: { datum: 0, type: "quantitative", scale: { domain: yDomain }, axis: null } },
      },
      {
        data: { values: nodeValues },
        mark: { type: "text", color: "#ffffff", fontSize: 12, fontWeight: 600, limit: Math.round(width / nodes.length) - 22 },
        encoding: { x, y: { datum: 0, type: "quantitative", scale: { domain: yDomain }, axis: null }, text: { field: "node" } },
      },
      {
        data: { values: labels },
        mark: { type: "text", fontSize: 11, fontWeight: 600, color: "#1f2937" },
        encoding: { x, y, text: { field: "label" } },
      },
    ],
  };
}

/** Probability of each transition per segment; the colour says which reliability level was used. */
export function funnelSegmentsSpec(rows: FunnelTransition[], steps: string[]): ChartSpec | undefined {
  const segLabel = (r: FunnelTransition): string => [r.user_type, r.device, r.region].map((v) => v ?? "all").join(" · ");
  const values = rows.filter((r) => r.probability !== null).map((r) => ({
    segment: segLabel(r), transition: `${r.from_step} → ${r.to_step}`, probability: r.probability, level: r.level ?? "unknown",
    order: (steps.indexOf(r.from_step) + 1) * 100 + steps.indexOf(r.to_step) + 1,
  }));
  if (values.length < 2) return undefined;
  const transitions = [...new Map(values.map((v) => [v.transition, v.order])).entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
  const segments = [...new Set(values.map((v) => v.segment))].sort();
  const levels = [...new Set(values.map((v) => v.level))].sort();
  return {
    description: "Transition probability per segment and the reliability level used",
    width: { step: Math.max(44, Math.min(80, Math.floor(820 / transitions.length))) }, height: { step: 22 },
    data: { values },
    encoding: {
      x: { field: "transition", type: "nominal", sort: transitions, title: null, axis: { orient: "top", labelAngle: -35, labelAlign: "left", labelLimit: 400 } },
      y: { field: "segment", type: "nominal", sort: segments, title: "user type · device · region", axis: { labelLimit: 260 } },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 2, cornerRadius: 3, opacity: 0.45 },
        encoding: { color: { field: "level", type: "nominal", scale: levelScale(levels), legend: { orient: "top", title: "reliability level", labelLimit: 320, symbolOpacity: 0.6 } } },
      },
      { mark: { type: "text", fontSize: 11, color: "#1f2937" }, encoding: { text: { field: "probability", type: "quantitative", format: ".0%" } } },
    ],
  };
}

/**
 * For many segments: per transition, the share of segments whose probability came from each
 * reliability level (a heatmap of hundreds of segments would not be read).
 */
export function funnelLevelMixSpec(rows: FunnelTransition[], steps: string[]): ChartSpec | undefined {
  const values = rows.filter((r) => r.probability !== null).map((r) => ({
    transition: `${r.from_step} → ${r.to_step}`, level: r.level ?? "unknown",
    order: (steps.indexOf(r.from_step) + 1) * 100 + steps.indexOf(r.to_step) + 1,
  }));
  if (!values.length) return undefined;
  const transitions = [...new Map(values.map((v) => [v.transition, v.order])).entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
  const scale = levelScale(values.map((v) => v.level));
  return {
    description: "Share of segments per reliability level for each funnel transition",
    width: 560, height: { step: 22 },
    data: { values },
    mark: { type: "bar" },
    encoding: {
      y: { field: "transition", type: "nominal", sort: transitions, title: null, axis: { labelLimit: 400 } },
      x: { aggregate: "count", type: "quantitative", stack: "normalize", title: "share of segments", axis: { format: ".0%" } },
      color: { field: "level", type: "nominal", scale, sort: scale.domain, legend: { orient: "top", title: "reliability level", labelLimit: 320 } },
      order: { field: "level_rank", type: "quantitative" },
    },
    transform: [{ calculate: `indexof(${JSON.stringify(scale.domain)}, datum.level)`, as: "level_rank" }],
  };
}

// ---- ML models ----

/** ROC curves of the models with the chance diagonal. */
export function rocSpec(points: ModelCurvePoint[]): ChartSpec | undefined {
  return curveSpec(points, "roc", "false positive rate", "true positive rate", "ROC curve");
}

/** Calibration: mean predicted vs observed rate per bin, point size = rows in the bin. */
export function calibrationSpec(points: ModelCurvePoint[]): ChartSpec | undefined {
  return curveSpec(points, "calibration", "mean predicted probability", "observed rate", "Calibration curve");
}

function curveSpec(points: ModelCurvePoint[], curve: string, xTitle: string, yTitle: string, description: string): ChartSpec | undefined {
  const values = points.filter((p) => p.curve === curve).sort((a, b) => a.x - b.x);
  if (values.length < 2) return undefined;
  const models = [...new Set(values.map((v) => v.model))].sort();
  const layers: ChartSpec[] = [
    { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: "line", strokeDash: [4, 4], color: "#9ca3af", strokeWidth: 1 }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } },
    {
      mark: { type: "line", interpolate: curve === "roc" ? "step-after" : "linear", point: curve === "calibration" },
      encoding: {
        x: { field: "x", type: "quantitative", title: xTitle, scale: { domain: [0, 1] } },
        y: { field: "y", type: "quantitative", title: yTitle, scale: { domain: [0, 1] } },
        color: { field: "model", type: "nominal", sort: models, legend: { orient: "bottom", title: null } },
        order: { field: "x", type: "quantitative" },
      },
    },
  ];
  return { description, width: 260, height: 260, data: { values }, layer: layers };
}

/** Top features by importance, one bar chart per model. */
export function featureImportanceSpec(rows: FeatureImportance[], top = 12): ChartSpec | undefined {
  const models = [...new Set(rows.map((r) => r.model))].sort();
  const values = models.flatMap((m) => rows.filter((r) => r.model === m).sort((a, b) => b.importance - a.importance).slice(0, top));
  if (!values.length) return undefined;
  const kind = [...new Set(values.map((v) => v.kind).filter(Boolean))].join(", ");
  return {
    description: "Feature importance per model",
    data: { values },
    facet: { row: { field: "model", type: "nominal", sort: models, title: null, header: { labelAngle: 0, labelAlign: "left", labelAnchor: "start", labelOrient: "top" } } },
    spec: {
      width: 520, height: { step: 18 },
      mark: { type: "bar", color: "#4e79a7" },
      encoding: {
        y: { field: "feature", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 240 } },
        x: { field: "importance", type: "quantitative", title: kind ? `importance (${kind})` : "importance" },
      },
    },
    resolve: { scale: { y: "independent" } },
  };
}

// ---- lead scoring ----

/** How many leads got each score. */
export function scoreDistributionSpec(rows: ScoreBucket[]): ChartSpec | undefined {
  if (!rows.length) return undefined;
  const max = Math.max(...rows.map((r) => r.score));
  return {
    description: "Distribution of lead scores",
    width: 520, height: 180,
    data: { values: rows },
    mark: { type: "bar", color: "#59a14f" },
    encoding: {
      x: { field: "score", type: "quantitative", bin: { maxbins: max > 20 ? 20 : Math.max(max, 1) }, title: "lead score" },
      y: { field: "leads", aggregate: "sum", type: "quantitative", title: "leads", axis: { format: "~s" } },
    },
  };
}

/** Lift per score decile (model_curves curve = 'lift'), with the no-model line at 1. */
export function decileLiftSpec(points: ModelCurvePoint[]): ChartSpec | undefined {
  const values = points.filter((p) => p.curve === "lift");
  if (!values.length) return undefined;
  return {
    description: "Lift per score decile",
    width: 420, height: 180,
    data: { values },
    layer: [
      {
        mark: { type: "bar", color: "#4e79a7" },
        encoding: {
          x: { field: "x", type: "ordinal", title: "decile (1 = highest scores)", axis: { labelAngle: 0 } },
          y: { field: "y", type: "quantitative", title: "lift" },
        },
      },
      { mark: { type: "rule", strokeDash: [4, 3], color: "#6b7280" }, encoding: { y: { datum: 1 } } },
    ],
  };
}

/** PSI per feature against the usual bands (< 0.1 stable, 0.1–0.25 watch, > 0.25 shifted). */
export function psiSpec(rows: LeadMonitoring[]): ChartSpec | undefined {
  const values = rows.filter((r) => r.psi !== null).map((r) => ({
    feature: r.feature, psi: r.psi, band: r.psi! > 0.25 ? "shifted (> 0.25)" : r.psi! >= 0.1 ? "watch (0.1–0.25)" : "stable (< 0.1)",
  }));
  if (!values.length) return undefined;
  const bands = ["stable (< 0.1)", "watch (0.1–0.25)", "shifted (> 0.25)"];
  return {
    description: "Population stability index per feature",
    width: 520, height: { step: 20 },
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: { field: "feature", type: "nominal", sort: "-x", title: null },
          x: { field: "psi", type: "quantitative", title: "PSI (this run vs training)" },
          color: { field: "band", type: "nominal", scale: { domain: bands, range: ["#59a14f", "#e0a100", "#d64545"] }, legend: { orient: "top", title: null } },
        },
      },
      { mark: { type: "rule", strokeDash: [4, 3], color: "#e0a100" }, encoding: { x: { datum: 0.1 } } },
      { mark: { type: "rule", strokeDash: [4, 3], color: "#d64545" }, encoding: { x: { datum: 0.25 } } },
    ],
  };
}

// ---- the answer and the model comparison ----


/** The recommended model's share per channel as bars, last click's as a dark tick on the same row. */
export function answerSharesSpec(rows: { channel: string; share: number; last_touch_share: number | null }[], model: string, lastTouch: string): ChartSpec | undefined {
  if (!rows.length) return undefined;
  const order = rows.map((r) => r.channel);
  const y = { field: "channel", type: "nominal", sort: order, title: null, axis: { labelFontSize: 12 } };
  return {
    description: `Share of conversion credit per channel: ${model} (bars) and ${lastTouch} (ticks)`,
    width: 520, height: { step: 24 },
    data: { values: rows },
    layer: [
      { mark: { type: "bar", color: "#4e79a7" }, encoding: { y, x: { field: "share", type: "quantitative", title: `share of credit — bars: ${model}, ticks: ${lastTouch}`, axis: { format: ".0%" } } } },
      { mark: { type: "tick", color: "#1f2937", thickness: 2, size: 18 }, encoding: { y, x: { field: "last_touch_share", type: "quantitative" } } },
    ],
  };
}

/** Channel × model heatmap of credit shares, the share printed in each cell. */
export function shareHeatmapSpec(rows: ChannelCredit[], models: string[], channels: string[]): ChartSpec | undefined {
  const values = rows.filter((r) => r.share !== null);
  if (!values.length) return undefined;
  return {
    description: "Share of credit per channel (rows) and model (columns)",
    width: { step: 58 }, height: { step: 26 },
    data: { values },
    encoding: {
      x: { field: "model", type: "nominal", sort: models, title: null, axis: { orient: "top", labelAngle: -35, labelLimit: 140 } },
      y: { field: "channel", type: "nominal", sort: channels, title: null },
    },
    layer: [
      { mark: { type: "rect" }, encoding: { color: { field: "share", type: "quantitative", scale: { scheme: "blues" }, legend: { title: "share", format: ".0%", orient: "bottom", direction: "horizontal" } } } },
      { mark: { type: "text", fontSize: 10.5 }, encoding: { text: { field: "share", type: "quantitative", format: ".0%" }, color: { condition: { test: "datum.share > 0.25", value: "#ffffff" }, value: "#1f2937" } } },
    ],
  };
}

/** Model × model heatmap of Spearman's rank correlation of their channel credit (symmetric, 1 on the diagonal). */
export function agreementHeatmapSpec(rows: ModelAgreement[], models: string[]): ChartSpec | undefined {
  const values = rows.filter((r) => r.spearman !== null).flatMap((r) => [
    { a: r.model_a, b: r.model_b, rho: r.spearman },
    { a: r.model_b, b: r.model_a, rho: r.spearman },
  ]);
  if (!values.length) return undefined;
  for (const m of models) values.push({ a: m, b: m, rho: 1 });
  return {
    description: "Spearman rank correlation of channel credit between every two models",
    width: { step: 40 }, height: { step: 24 },
    data: { values },
    encoding: {
      x: { field: "a", type: "nominal", sort: models, title: null, axis: { orient: "top", labelAngle: -35, labelLimit: 140 } },
      y: { field: "b", type: "nominal", sort: models, title: null },
    },
    layer: [
      { mark: { type: "rect" }, encoding: { color: { field: "rho", type: "quantitative", scale: { scheme: "purpleorange", domain: [-1, 1], reverse: true }, legend: { title: "Spearman ρ", orient: "bottom", direction: "horizontal" } } } },
      { mark: { type: "text", fontSize: 10 }, encoding: { text: { field: "rho", type: "quantitative", format: ".2f" }, color: { condition: { test: "datum.rho > 0.8 || datum.rho < -0.6", value: "#ffffff" }, value: "#1f2937" } } },
    ],
  };
}
