/** Rows as an aligned text table for the terminal (`show`, `quarantine`, `runs`): one way to print rows. */
import type { Row, Value } from "../engines/engine.ts";

/** A cell's text: NULL for null, ISO times without milliseconds, JSON for arrays and structs. */
function cellText(v: Value | undefined): string {
  if (v === null || v === undefined) return "NULL";
  if (v instanceof Date) return v.toISOString().replace(".000Z", "Z");
  if (typeof v === "object") return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
  return String(v);
}

/** Cells longer than `maxWidth` are cut with "…" (the whole value is in `--json`); numbers align right. */
export function formatTable(rows: Row[], columns: string[] = rows[0] ? Object.keys(rows[0]) : [], maxWidth = 48): string {
  const cut = (s: string): string => {
    const flat = s.replace(/\s+/g, " ");
    return flat.length > maxWidth ? flat.slice(0, maxWidth - 1) + "…" : flat;
  };
  const cells = rows.map((r) => columns.map((c) => cut(cellText(r[c]))));
  const numeric = columns.map((c) => rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === "number" || typeof r[c] === "bigint"));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]): string => vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Rows as JSON lines (for --json): values as cellText would show them, but unabridged and typed. */
export function jsonRows(rows: Row[]): string {
  return rows.map((r) => JSON.stringify(r, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x))).join("\n");
}
