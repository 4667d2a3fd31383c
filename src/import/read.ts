/**
 * Streaming readers for local input files: numbered lines (plain or .gz) and RFC 4180 CSV records.
 * Line numbers are 1-based physical lines, so an error message points where an editor does.
 */
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import { isAscii, isUtf8 } from "node:buffer";
import { createGunzip } from "node:zlib";
import { InputError } from "../util/errors.ts";

export interface NumberedLine {
  line: number;
  text: string;
  /**
   * Set when the line's bytes are not valid UTF-8: `text` then holds U+FFFD in their place, and the
   * reader of the line must treat it as a bad row (a value is never changed silently).
   */
  invalidUtf8?: boolean;
}

/** The reason given for a line whose bytes are not UTF-8 (naming the field when it is known). */
const INVALID_UTF8 = "is not valid UTF-8 (re-export the file as UTF-8; a value would otherwise change)";

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

/**
 * Lines of a text file (`.gz` is decompressed), without their line terminators (LF or CRLF). Lines are
 * split on bytes and each is checked for valid UTF-8 (readline would replace bad bytes with U+FFFD
 * without a word): a bad line comes with `invalidUtf8` set. readLineBatches' lines, one at a time.
 */
export async function* readLines(file: string): AsyncGenerator<NumberedLine> {
  for await (const batch of readLineBatches(file)) {
    for (const { line, text, invalidUtf8 } of batch) yield invalidUtf8 ? { line, text, invalidUtf8 } : { line, text };
  }
}

interface CsvRecord {
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
  opts: {
    delimiter?: string;
    onBadRecord?: (e: InputError, raw: string) => void;
    /** The file's lines to read instead of all of them (its header and some records: see linesWithText). */
    lines?: Iterable<NumberedLine> | AsyncIterable<NumberedLine>;
  } = {},
): AsyncGenerator<CsvRecord> {
  const name = displayName(file);
  let delimiter = opts.delimiter;
  let header: string[] | undefined;
  let pending: { line: number; text: string; invalidUtf8: boolean } | undefined;
  for await (const { line, text, invalidUtf8 } of opts.lines ?? readLines(file)) {
    if (!pending && text === "") continue;
    if (delimiter === undefined) delimiter = detectDelimiter(text);
    const rec = pending
      ? { line: pending.line, text: pending.text + "\n" + text, invalidUtf8: pending.invalidUtf8 || !!invalidUtf8 }
      : { line, text, invalidUtf8: !!invalidUtf8 };
    const parsed = parseCsvRecord(rec.text, delimiter);
    if (parsed.kind === "open") {
      pending = rec;
      continue;
    }
    pending = undefined;
    // Bytes that are not UTF-8 make the record bad, naming the field they are in (the first holding U+FFFD).
    const r: ParseResult =
      parsed.kind === "ok" && rec.invalidUtf8
        ? { kind: "error", field: Math.max(0, parsed.fields.findIndex((f) => f.includes("\uFFFD"))), reason: INVALID_UTF8 }
        : parsed;
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

/** The path of the first key or string value holding U+FFFD (where bytes that were not UTF-8 went). */
function replacedPath(v: unknown, at = ""): string | undefined {
  if (typeof v === "string") return v.includes("\uFFFD") ? at || undefined : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = replacedPath(v[i], `${at}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const here = at ? `${at}.${k}` : k;
      if (k.includes("\uFFFD")) return here;
      const p = replacedPath(x, here);
      if (p) return p;
    }
  }
  return undefined;
}

/**
 * One NDJSON line as an object, or undefined after handing a bad line to `bad` (which throws in reject mode): not
 * JSON, not an object, or (JSON but) not valid UTF-8.
 */
function ndjsonObject(name: string, line: number, text: string, invalidUtf8: boolean | undefined, bad: (e: InputError, text: string) => void): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    bad(new InputError(name, line, undefined, `not valid JSON (${(e as Error).message})`), text);
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    bad(new InputError(name, line, undefined, "expected a JSON object per line"), text);
    return undefined;
  }
  if (invalidUtf8) {
    bad(new InputError(name, line, replacedPath(parsed), INVALID_UTF8), text);
    return undefined;
  }
  return parsed as Record<string, unknown>;
}

/** Quarantine mode (onBadLine given): a bad line is handed over and reading goes on; else it throws. */
function badLineHandler(onBadLine: ((e: InputError, raw: string) => void) | undefined): (e: InputError, text: string) => void {
  return (e, text) => {
    if (!onBadLine) throw e;
    onBadLine(e, text);
  };
}

/** NDJSON objects with their line numbers; a line that is not a JSON object is an InputError naming it. */
export async function* ndjsonObjects(
  file: string,
  onBadLine?: (e: InputError, raw: string) => void,
): AsyncGenerator<{ line: number; obj: Record<string, unknown>; text: string }> {
  for await (const batch of ndjsonObjectBatches(file, onBadLine)) yield* batch;
}

/** Bytes read at a time by readLineBatches (the stream's default, 64 KiB, made a batch per 64 KiB). */
const BATCH_READ_BYTES = 2 ** 20;

/**
 * The lines of a text file (`.gz` is decompressed; numbered from 1, without LF or CRLF, a UTF-8 BOM dropped, a line
 * that is not UTF-8 marked `invalidUtf8`), a read chunk's worth at a time, each with its original bytes (without
 * terminator and BOM). One `isUtf8` and one decode per chunk instead of per line, and one
 * await per chunk: the GA4 importer reads 598 MiB through this and writes the bytes on unchanged.
 */
export async function* readLineBatches(file: string): AsyncGenerator<(NumberedLine & { bytes: Buffer })[]> {
  await assertReadable(file);
  const raw = createReadStream(file, { highWaterMark: BATCH_READ_BYTES });
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  let line = 0;
  /** The lines of `body` (complete lines, the last one without its LF). */
  const split = (body: Buffer): (NumberedLine & { bytes: Buffer })[] => {
    // ASCII (every GA4 export line we have seen) decodes as latin1 to the same text at a third of the CPU: V8's UTF-8
    // decoder took 2.8 CPU s for 598 MiB, latin1 1.1 s.
    const ascii = isAscii(body);
    const ok = ascii || isUtf8(body);
    // LF (0x0a) is never part of a multi-byte sequence, so the decoded text splits at the same places as the bytes.
    const texts = ok ? body.toString(ascii ? "latin1" : "utf8").split("\n") : undefined;
    const out: (NumberedLine & { bytes: Buffer })[] = [];
    let start = 0;
    for (let k = 0; ; k++) {
      const nl = body.indexOf(0x0a, start);
      const end = nl < 0 ? body.length : nl;
      line++;
      const cr = end > start && body[end - 1] === 0x0d;
      let b = body.subarray(start, cr ? end - 1 : end);
      let text = texts ? texts[k]! : b.toString("utf8");
      if (texts && cr) text = text.slice(0, -1);
      // A UTF-8 byte order mark would otherwise become part of the first column name.
      if (line === 1 && text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
        if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
      }
      out.push(ok || isUtf8(b) ? { line, text, bytes: b } : { line, text, bytes: b, invalidUtf8: true });
      if (nl < 0) return out;
      start = nl + 1;
    }
  };
  // The line a chunk ends inside is completed from the next chunk by copying that line alone: concatenating the rest
  // with the whole next chunk copied every byte once more (0.9 CPU s for 598 MiB). The lines are views of the chunks
  // the stream allocated, which it does not reuse.
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const first = chunk.indexOf(0x0a);
      if (first < 0) {
        rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
        continue;
      }
      const last = chunk.lastIndexOf(0x0a);
      const batch = split(rest.length ? Buffer.concat([rest, chunk.subarray(0, first)]) : chunk.subarray(0, first));
      if (last > first) batch.push(...split(chunk.subarray(first + 1, last)));
      rest = chunk.subarray(last + 1);
      yield batch;
    }
    if (rest.length > 0) yield split(rest);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(displayName(file), line + 1, undefined, `cannot read: ${(cause as Error).message}`);
  } finally {
    raw.destroy();
  }
}

/**
 * The lines of a file (after its first, the header) whose text, without LF or CRLF, is one of `texts`, in file order.
 * Only the line ends are looked for in the bytes; a line is decoded only when its length is one of the texts'.
 */
export async function linesWithText(file: string, texts: ReadonlySet<string>): Promise<NumberedLine[]> {
  const lengths = new Set([...texts].map((t) => Buffer.byteLength(t)));
  const raw = createReadStream(file, { highWaterMark: BATCH_READ_BYTES });
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const lines: NumberedLine[] = [];
  let line = 0;
  /** The start of the line the last chunk ended inside, in pieces (a line may span chunks). */
  let rest: Buffer[] = [];
  /** Line `bytes[from, to)` (its LF not included). */
  const take = (bytes: Buffer, from: number, to: number): void => {
    line++;
    const end = to > from && bytes[to - 1] === 0x0d ? to - 1 : to;
    if (line === 1 || !lengths.has(end - from)) return;
    const b = bytes.subarray(from, end);
    const text = b.toString("utf8");
    if (texts.has(text)) lines.push(isUtf8(b) ? { line, text } : { line, text, invalidUtf8: true });
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        if (rest.length) {
          // The line a chunk ended inside, completed (the one copy per chunk).
          const whole = Buffer.concat([...rest, chunk.subarray(0, nl)]);
          take(whole, 0, whole.length);
          rest = [];
        } else take(chunk, start, nl);
        start = nl + 1;
      }
      if (start < chunk.length) rest.push(chunk.subarray(start));
    }
    if (rest.length) {
      const whole = Buffer.concat(rest);
      take(whole, 0, whole.length);
    }
  } catch (cause) {
    throw new InputError(displayName(file), line + 1, undefined, `cannot read: ${(cause as Error).message}`);
  } finally {
    raw.destroy();
  }
  return lines;
}

/**
 * ndjsonObjects a read chunk at a time (readLineBatches), each object with its line's original bytes. A chunk's lines
 * are parsed as the caller takes them, so one parsed event is alive at a time (and a bad line is met in file order,
 * after the caller has seen the lines before it): parsing the whole chunk first kept ≈ 400 events alive, which V8
 * then copied out of its young generation.
 */
export async function* ndjsonObjectBatches(
  file: string,
  onBadLine?: (e: InputError, raw: string) => void,
): AsyncGenerator<Iterable<{ line: number; obj: Record<string, unknown>; text: string; bytes: Buffer }>> {
  const name = displayName(file);
  const bad = badLineHandler(onBadLine);
  function* parsed(lines: (NumberedLine & { bytes: Buffer })[]): Generator<{ line: number; obj: Record<string, unknown>; text: string; bytes: Buffer }> {
    for (const { line, text, invalidUtf8, bytes } of lines) {
      if (text.trim() === "") continue;
      const obj = ndjsonObject(name, line, text, invalidUtf8, bad);
      if (obj) yield { line, obj, text, bytes };
    }
  }
  for await (const lines of readLineBatches(file)) yield parsed(lines);
}
