/**
 * Streaming readers for local input files: numbered lines (plain or .gz) and RFC 4180 CSV records.
 * Line numbers are 1-based physical lines, so an error message points where an editor does.
 */
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { InputError } from "../util/errors.ts";

export interface NumberedLine {
  line: number;
  text: string;
}

/** The file name used in error messages: relative to the working directory when inside it. */
export function displayName(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

export async function assertReadable(file: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new InputError(displayName(file), undefined, undefined, "cannot read the file (does it exist?)");
  }
}

/** Lines of a text file (`.gz` is decompressed), without their line terminators (LF or CRLF). */
export async function* readLines(file: string): AsyncGenerator<NumberedLine> {
  await assertReadable(file);
  const raw = createReadStream(file);
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      // A UTF-8 byte order mark would otherwise become part of the first column name.
      yield { line, text: line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
    }
  } catch (cause) {
    throw new InputError(displayName(file), line + 1, undefined, `cannot read: ${(cause as Error).message}`);
  } finally {
    rl.close();
    raw.destroy();
  }
}

export interface CsvRecord {
  /** Physical line on which the record starts. */
  line: number;
  fields: string[];
  /** Which fields were quoted (a quoted empty string is an empty string, an unquoted one is NULL). */
  quoted: boolean[];
}

type ParseResult =
  | { kind: "ok"; fields: string[]; quoted: boolean[] }
  | { kind: "open" }
  | { kind: "error"; field: number; reason: string };

/** Parse one CSV record (which may span lines, joined by "\n"). */
export function parseCsvRecord(text: string, delimiter: string): ParseResult {
  const fields: string[] = [];
  const quoted: boolean[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return { kind: "open" };
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < n && text[i] !== delimiter) {
        return {
          kind: "error",
          field: fields.length,
          reason: `unexpected ${JSON.stringify(text[i])} after a closing quote (quotes inside a quoted field must be doubled: "")`,
        };
      }
      fields.push(value);
      quoted.push(true);
    } else {
      const d = text.indexOf(delimiter, i);
      const end = d < 0 ? n : d;
      const value = text.slice(i, end);
      if (value.includes('"')) {
        return {
          kind: "error",
          field: fields.length,
          reason: `a quote inside an unquoted field (${JSON.stringify(value.slice(0, 40))}); quote the whole field and double inner quotes`,
        };
      }
      fields.push(value);
      quoted.push(false);
      i = end;
    }
    if (i >= n) return { kind: "ok", fields, quoted };
    i++; // delimiter
    if (i === n) {
      fields.push("");
      quoted.push(false);
      return { kind: "ok", fields, quoted };
    }
  }
}

/** Guess the delimiter from the header line: the most frequent of `,` `;` TAB `|` outside quotes. */
export function detectDelimiter(header: string): string {
  const unquoted = header.replace(/"[^"]*"/g, "");
  let best = ",";
  let bestCount = 0;
  for (const d of [",", ";", "\t", "|"]) {
    const count = unquoted.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/**
 * CSV records of a file. The first record is the header. Empty lines between records are skipped.
 * `columnName(i)` names field i in errors (the header once known).
 */
export async function* readCsv(
  file: string,
  opts: { delimiter?: string; onBadRecord?: (e: InputError, raw: string) => void } = {},
): AsyncGenerator<CsvRecord> {
  const name = displayName(file);
  let delimiter = opts.delimiter;
  let header: string[] | undefined;
  let pending: { line: number; text: string } | undefined;
  for await (const { line, text } of readLines(file)) {
    if (!pending && text === "") continue;
    if (delimiter === undefined) delimiter = detectDelimiter(text);
    const rec = pending ? { line: pending.line, text: pending.text + "\n" + text } : { line, text };
    const r = parseCsvRecord(rec.text, delimiter);
    if (r.kind === "open") {
      pending = rec;
      continue;
    }
    pending = undefined;
    if (r.kind === "error") {
      const e = new InputError(name, rec.line, header?.[r.field] ?? `column ${r.field + 1}`, r.reason);
      // Quarantine mode: a malformed record is set aside and reading goes on (never for the header).
      if (header && opts.onBadRecord) {
        opts.onBadRecord(e, rec.text);
        continue;
      }
      throw e;
    }
    if (!header) header = r.fields;
    yield { line: rec.line, fields: r.fields, quoted: r.quoted };
  }
  if (pending) {
    throw new InputError(name, pending.line, undefined, "a quoted field is never closed (missing closing quote)");
  }
}

/**
 * snake_case for column names: `Total Time Spent on Website` → `total_time_spent_on_website`,
 * `TotalVisits` → `total_visits`, `Prospect ID` → `prospect_id`.
 */
export function snakeCase(name: string): string {
  let s = name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (/^[0-9]/.test(s)) s = "c_" + s;
  return s;
}

/** NDJSON objects with their line numbers; a line that is not a JSON object is an InputError naming it. */
export async function* ndjsonObjects(
  file: string,
  onBadLine?: (e: InputError, raw: string) => void,
): AsyncGenerator<{ line: number; obj: Record<string, unknown>; text: string }> {
  const name = displayName(file);
  // Quarantine mode (onBadLine given): a bad line is handed over and reading goes on.
  const bad = (e: InputError, text: string): void => {
    if (!onBadLine) throw e;
    onBadLine(e, text);
  };
  for await (const { line, text } of readLines(file)) {
    if (text.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      bad(new InputError(name, line, undefined, `not valid JSON (${(e as Error).message})`), text);
      continue;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      bad(new InputError(name, line, undefined, "expected a JSON object per line"), text);
      continue;
    }
    yield { line, obj: parsed as Record<string, unknown>, text };
  }
}
