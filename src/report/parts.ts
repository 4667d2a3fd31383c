/**
 * Building blocks of the report page: escaping, tables, figures with their numbers behind a
 * disclosure, tiles and the sentence a section shows for data it could not get.
 */
import { renderChart, type ChartSpec } from "./charts.ts";
import type { Loaded } from "./data.ts";

/** Escape text for HTML content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
export const h = escapeHtml;

export interface Column<T> {
  title: string;
  value: (row: T) => string;
  /** Right-aligned, tabular figures. */
  numeric?: boolean;
  /** Raw HTML instead of escaped text. */
  html?: boolean;
  /** Free text that may be long (errors, notes): wraps instead of widening the table. */
  prose?: boolean;
}

export function table<T>(rows: T[], columns: Column<T>[], opts: { limit?: number; caption?: string } = {}): string {
  const shown = opts.limit ? rows.slice(0, opts.limit) : rows;
  const more = rows.length - shown.length;
  return `<div class="table-wrap" tabindex="0"><table>${opts.caption ? `<caption>${h(opts.caption)}</caption>` : ""}
<thead><tr>${columns.map((c) => `<th${c.numeric ? ' class="num"' : ""}>${h(c.title)}</th>`).join("")}</tr></thead>
<tbody>${shown.map((r) => `<tr>${columns.map((c) => `<td${c.numeric ? ' class="num"' : c.prose ? ' class="prose"' : ""}>${c.html ? c.value(r) : h(c.value(r))}</td>`).join("")}</tr>`).join("\n")}</tbody>
</table>${more > 0 ? `<p class="muted small">${more.toLocaleString("en-US")} more rows not shown; query the reporting views for all of them.</p>` : ""}</div>`;
}

/**
 * A chart with its table fallback: a Vega-Lite spec, or a function drawing the SVG itself. A chart that
 * fails to render still gets its figure and table.
 */
export async function figure(title: string, chart: ChartSpec | (() => string) | undefined, fallback: string, opts: { subtitle?: string; id?: string } = {}): Promise<string> {
  if (!chart) return "";
  let body: string;
  let cls = "chart";
  try {
    body = `<div class="svg" tabindex="0">${typeof chart === "function" ? chart() : await renderChart(chart)}</div>`;
  } catch (e) {
    cls += " chart-error";
    body = `<p class="callout bad">This chart could not be drawn: ${h((e as Error).message)}. The numbers are in the table below.</p>`;
  }
  return `<figure class="${cls}"${opts.id ? ` id="${h(opts.id)}"` : ""}>
<figcaption><span class="fig-title">${h(title)}</span>${opts.subtitle ? `<span class="fig-sub">${h(opts.subtitle)}</span>` : ""}</figcaption>
${body}
<details><summary>Show the numbers</summary>${fallback}</details>
</figure>`;
}

/** What a section shows instead of data it could not get. */
export function absent(l: Loaded<unknown>, what: string): string {
  if (l.state === "missing") return `<p class="empty">${h(what)}: not produced in this run <span class="muted">(no table <code>${h(l.table)}</code>)</span>.</p>`;
  if (l.state === "error") return `<p class="empty bad">${h(what)}: could not read <code>${h(l.table)}</code> — ${h(l.message)}</p>`;
  return `<p class="empty">${h(what)}: <code>${h(l.table)}</code> is empty.</p>`;
}
export const rowsOf = <T>(l: Loaded<T>): T[] | undefined => (l.state === "ok" && l.rows.length ? l.rows : undefined);
export const noteOf = (l: Loaded<unknown>): string => (l.state === "ok" && l.note ? `<p class="muted small">Shown ${h(l.note)}.</p>` : "");

/** Badge backgrounds: the status colours darkened until white text on them passes WCAG AA (4.5:1). */
const BADGE_COLORS: Record<string, string> = {
  succeeded: "#2d6e41", failed: "#b42323", skipped: "#5f6670", warning: "#8a5a00", dry_run: "#3b6690", cancelled: "#6a4385",
};

export function statusBadge(status: string): string {
  return `<span class="badge" style="--c:${BADGE_COLORS[status] ?? "#5f6670"}">${h(status.replace("_", " "))}</span>`;
}

export function tile(label: string, value: string, tone: "" | "good" | "bad" | "warn" = ""): string {
  return `<div class="tile ${tone}"><div class="tile-value">${value}</div><div class="tile-label">${h(label)}</div></div>`;
}

