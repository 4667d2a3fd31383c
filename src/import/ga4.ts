/**
 * Import GA4 BigQuery export NDJSON (`events_*` rows, one JSON object per line) into the local export table
 * `<schema>.ga4_events` (the shared export schema plus `_TABLE_SUFFIX`, GA4_LOCAL_TABLE), each day read as the view
 * `<schema>.events_YYYYMMDD` (or `events_intraday_YYYYMMDD`).
 *
 * Every line is parsed and type-checked in JS against GA4_EVENTS_SCHEMA first (so errors name file,
 * line and field path); the original JSON text is then converted by DuckDB's JSON reader (`read_json` with the
 * export's columns: json_transform's conversion), which keeps INT64 precision beyond 2^53 and accepts INT64
 * written as a JSON string (BigQuery's own JSON export does that).
 * Keys that are not export columns are dropped; the `_source_table`/`_source_variant` bookkeeping of shared/
 * extracts silently, any other key is reported in `ignoredFields`.
 */
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ColumnSchema, LocalLoading } from "../engines/engine.ts";
import { InputError } from "../util/errors.ts";
import { GA4_EVENTS_SCHEMA, GA4_BOOKKEEPING_FIELDS, ga4LocalTypes } from "./ga4-schema.ts";
import { GA4_LOCAL_TABLE } from "../engines/engine.ts";
import { displayName, ndjsonObjectBatches, readLineBatches } from "./read.ts";
import { dropLeftoverTables, inTransaction, isCalendarDay, stagingName, EARLIEST_PLAUSIBLE_TIME, FUTURE_TOLERANCE_DAYS, type ImportMode } from "./load.ts";
import { Quarantine, type QuarantineOptions } from "./quarantine.ts";

export interface Ga4ImportOptions extends QuarantineOptions {
  /** DuckDB schema (BigQuery dataset) of the daily tables. Default `ga4_export`. */
  schema?: string;
  /** replace (default): each daily table in the files is replaced; other days are untouched. append: rows are added. */
  mode?: ImportMode;
  /** Write `events_intraday_YYYYMMDD` instead of `events_YYYYMMDD`. */
  intraday?: boolean;
  /** Checked lines (bytes) held in memory before they are written to the day files; default BATCH_CHARS (1 MiB). */
  batchChars?: number;
}

export interface Ga4ImportResult {
  /** Tables written, `schema.events_YYYYMMDD`, sorted. */
  tables: string[];
  /** Rows per table name (without schema). */
  rowsByTable: Record<string, number>;
  rows: number;
  /** Top-level keys found in the input that are not export columns (dropped). */
  ignoredFields: string[];
  /** Events set aside in the quarantine table (quarantine mode; 0 otherwise). */
  quarantined: number;
  /** What DuckDB's JSON reader read: the files themselves, or the day files of their checked lines (see importGa4). */
  reader: "files" | "day files";
  /**
   * Whether the reader read the files while the checks ran (EarlyRead: days in order, no real day table in the schema,
   * every line good or a bad JSON object whose row the reader made and the import deleted), rather than after them.
   */
  readWhileChecked: boolean;
}

const INT_STRING = /^-?[0-9]+$/;
const FLOAT_STRING = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** An error found inside a value, `[path below the value, reason]`; each level adds its part of the path in front on the way out. */
type CheckError = [string, string];
/** Checks one JSON value against a schema column; NULL is allowed everywhere (the export has no REQUIRED fields). */
type Checker = (v: unknown, text: string) => CheckError | undefined;

function suffix(e: CheckError, prefix: string): CheckError {
  return [prefix + e[0], e[1]];
}

/**
 * A column's check, built once from the schema as nested closures, so that an event's check runs no switch on the
 * type and no mode test per value (walking the schema for every value of every event: ≈ 1.6 CPU s of a profiled
 * import of 244,592 events; the closures ≈ 0.5). The field path is put together only for an error.
 */
function checkerOf(c: ColumnSchema, repeatedItem = false): Checker {
  if (c.mode === "REPEATED" && !repeatedItem) {
    const item = checkerOf(c, true);
    return (v, text) => {
      if (v === null || v === undefined) return undefined;
      if (!Array.isArray(v)) return ["", `expected an array, got ${describe(v)}`];
      for (let i = 0; i < v.length; i++) {
        const e = item(v[i], text);
        if (e) return suffix(e, `[${i}]`);
      }
      return undefined;
    };
  }
  switch (c.type) {
    case "RECORD": {
      const fields = (c.fields ?? []).map((f) => ({ name: f.name, check: checkerOf(f) }));
      return (v, text) => {
        if (v === null || v === undefined) return undefined;
        if (typeof v !== "object" || Array.isArray(v)) return ["", `expected an object, got ${describe(v)}`];
        const o = v as Record<string, unknown>;
        for (const f of fields) {
          const e = f.check(o[f.name], text);
          if (e) return suffix(e, `.${f.name}`);
        }
        return undefined;
      };
    }
    case "INT64":
      return (v, text) => {
        if (v === null || v === undefined) return undefined;
        if (typeof v === "number" ? Number.isInteger(v) : typeof v === "string" && INT_STRING.test(v)) {
          // DuckDB's json_transform turns an INT64 out of range into NULL (a ga_session_id would lose its session).
          return int64InRange(v as number | string, text) ? undefined : ["", `is outside the INT64 range, got ${describe(v)}`];
        }
        return ["", `expected an integer, got ${describe(v)}`];
      };
    case "FLOAT64":
    case "NUMERIC":
      return (v) => {
        if (v === null || v === undefined) return undefined;
        if (typeof v === "number" || (typeof v === "string" && FLOAT_STRING.test(v))) {
          // 1e400 parses to Infinity (a JSON number, or DuckDB's conversion of the string): not the value sent.
          return Number.isFinite(Number(v)) ? undefined : ["", `is too large for FLOAT64, got ${describe(v)}`];
        }
        return ["", `expected a number, got ${describe(v)}`];
      };
    case "BOOL":
      return (v) => (v === null || v === undefined || typeof v === "boolean" || v === "true" || v === "false" ? undefined : ["", `expected true or false, got ${describe(v)}`]);
    case "STRING":
      // BigQuery's loader also takes numbers and booleans for STRING columns; so do we.
      return (v) =>
        v === null || v === undefined || typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? undefined : ["", `expected a string, got ${describe(v)}`];
    default:
      return (v) => (v === null || v === undefined || typeof v === "string" ? undefined : ["", `expected a string, got ${describe(v)}`]);
  }
}

/** The export's columns, each with its check. */
const COLUMN_CHECKS = GA4_EVENTS_SCHEMA.map((c) => ({ name: c.name, check: checkerOf(c) }));

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Whether an INT64 value (a JSON string, or a number as JSON.parse read it) fits in 64 bits. A JSON number
 * read as exactly ±2^63 may have been written in range (9223372036854775807 rounds to 2^63) or not: then the
 * digits are looked up in the line's text.
 */
function int64InRange(v: number | string, text: string): boolean {
  if (typeof v === "string") {
    const n = BigInt(v);
    return n >= INT64_MIN && n <= INT64_MAX;
  }
  if (Math.abs(v) < 2 ** 63) return true;
  if (Math.abs(v) > 2 ** 63) return false;
  for (const m of text.matchAll(/(?<![0-9."])-?[0-9]{19,}(?![0-9.eE"])/g)) {
    const n = BigInt(m[0]);
    if (n < INT64_MIN || n > INT64_MAX) return false;
  }
  return true;
}

const KNOWN = new Set(GA4_EVENTS_SCHEMA.map((c) => c.name));
const EVENT_DATE = /^[0-9]{8}$/;
const EARLIEST_MICROS = Date.parse(`${EARLIEST_PLAUSIBLE_TIME}T00:00:00Z`) * 1000;

/** event_timestamp (µs since the epoch) outside [1990, now + tolerance]: a broken clock or a placeholder. */
function implausibleTimestamp(v: unknown, nowMs: number): string | undefined {
  const micros = Number(v);
  if (!Number.isFinite(micros)) return undefined;
  if (micros < EARLIEST_MICROS) return `is before ${EARLIEST_PLAUSIBLE_TIME}, got ${describe(v)} (a placeholder, or not microseconds?)`;
  if (micros > (nowMs + FUTURE_TOLERANCE_DAYS * 86_400_000) * 1000) return `is in the future, got ${describe(v)}`;
  return undefined;
}

/** Validate one parsed line; returns the table suffix (event_date). */
function validateEvent(o: unknown, file: string, line: number, text: string, ignored: Set<string>): string {
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new InputError(file, line, undefined, `expected a JSON object (one event per line), got ${describe(o)}`);
  }
  const row = o as Record<string, unknown>;
  for (const req of ["event_date", "event_timestamp", "event_name"]) {
    if (row[req] === undefined || row[req] === null) {
      throw new InputError(file, line, req, "is required and missing");
    }
  }
  for (const c of COLUMN_CHECKS) {
    const e = c.check(row[c.name], text);
    if (e) throw new InputError(file, line, c.name + e[0], e[1]);
  }
  const date = String(row.event_date);
  if (!EVENT_DATE.test(date)) throw new InputError(file, line, "event_date", `expected YYYYMMDD, got ${describe(row.event_date)}`);
  // The date names the day table (events_YYYYMMDD): an impossible day would make a table staging cannot read.
  if (!isCalendarDay(date)) throw new InputError(file, line, "event_date", `is not a calendar date, got ${describe(row.event_date)}`);
  const when = implausibleTimestamp(row.event_timestamp, Date.now());
  if (when) throw new InputError(file, line, "event_timestamp", when);
  for (const k of Object.keys(row)) if (!KNOWN.has(k)) ignored.add(k);
  return date;
}

/**
 * Checked lines (bytes) held before they are appended to the day files. Small, so that the lines die young:
 * holding 32 Mi characters cost about 6 CPU s more at 244,592 events (the strings outlive V8's young generation).
 */
const BATCH_CHARS = 2 ** 20;
const LF = Buffer.from("\n");

const { table: GA4_EVENTS_TABLE, suffixColumn: TABLE_SUFFIX } = GA4_LOCAL_TABLE;

/** A day of the import: its `_TABLE_SUFFIX` (`20240101`, `intraday_20240101`), its rows, its file of checked lines and the lines not yet in it. */
interface Day {
  suffix: string;
  rows: number;
  file: string;
  pending: Buffer[];
}

/** Bad lines the early read may read as rows, to be deleted before it commits (more: the day files). */
const DROPPED_ROWS_MAX = 10_000;

/** The reader's object size limit while the longest line is not known yet (DuckDB's default). */
const READER_OBJECT_BYTES = 16 * 2 ** 20;

/** Whether the schema holds real day tables (`events_YYYYMMDD` written by the demo or by an importer before the one table). */
async function hasRealDayTables(local: LocalLoading, schema: string): Promise<boolean> {
  return (await local.connection.runAndReadAll(
    `SELECT 1 FROM duckdb_tables() WHERE schema_name = ${local.literal(schema)} AND NOT temporary ` +
      `AND regexp_matches(table_name, '^events_(intraday_)?[0-9]{8}$') LIMIT 1`,
  )).getRows().length > 0;
}

/**
 * DuckDB's reader inserting the files into `ga4_events`, in a transaction left open, while the JS pass checks their
 * lines: on two cores the two overlap, so a clean export takes about the longer of the two instead of their sum. Its
 * rows count only when the pass ends with the files still read directly (days in order, every line good or a bad
 * JSON object the reader read as a row) and the reader's row count is the pass's: `finish` then deletes the bad lines'
 * rows (each found by its place among the rows read), replaces the days and commits. Otherwise (a line that is not a
 * JSON object, an earlier day, a line the reader refuses or cannot convert) it is abandoned: interrupted and rolled
 * back, and the import goes on as without it. A bad line used to abandon it too: with one bad line in the middle of
 * the 598 MiB export, the import took 2.35× the reader's CPU (the reader's work up to the line thrown away).
 * It needs the connection to itself until `done`.
 *
 * The reader runs on one DuckDB thread meanwhile (the database's setting, put back when it ends): on two threads
 * beside the pass, three threads shared two cores, which slowed the pass and cost ≈ 1 CPU s more (and a bad line,
 * found later, wasted more of the reader's work). On one thread DuckDB's reader also takes a UTF-8 byte order mark,
 * which it refuses on more.
 */
class EarlyRead {
  /** The INSERT has ended (its promise handled): from then on `interrupt` must not be called, a statement may be running. */
  private inserted = false;
  /** The transaction is over (committed or rolled back). */
  private closed = false;
  /** The reader has failed (its rows will not count). */
  failed = false;
  /** Rows inserted, or the reader's error; then the thread setting is back and a failed read rolled back. */
  readonly done: Promise<number | Error>;

  private constructor(
    private readonly conn: LocalLoading["connection"],
    /** The table read into. */
    private readonly table: string,
    /** The table's last rowid before the read (-1 when it was empty: rowids start at 0). */
    readonly before: string,
    insert: string,
    threads: number,
  ) {
    // `inserted` is set in the INSERT's own handler, before any other statement starts on the connection: an
    // interrupt (abandon) then reaches the INSERT or nothing — DuckDB ignores an interrupt while no statement runs —
    // never the SET or ROLLBACK after it (which a CI run once saw interrupted, leaving an aborted transaction open).
    const read = conn.run(insert).then(
      (r): number | Error => {
        this.inserted = true;
        return r.rowsChanged;
      },
      (e: unknown): number | Error => {
        this.inserted = true;
        return e instanceof Error ? e : new Error(String(e));
      },
    );
    // A failed read leaves the transaction aborted: rolled back at once, so the connection is usable when `done` is.
    this.done = read.then(async (result) => {
      if (result instanceof Error) {
        this.failed = true;
        await this.rollBack();
      }
      await conn.run(`SET threads = ${threads}`).catch(() => undefined);
      return result;
    });
  }

  private async rollBack(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.run("ROLLBACK").catch(() => undefined);
  }

  /** Opens the transaction, runs `setup` (its last statement gives the last rowid of `table`) and starts `insert`. */
  static async start(conn: LocalLoading["connection"], table: string, setup: readonly string[], insert: string): Promise<EarlyRead> {
    await conn.run("BEGIN TRANSACTION");
    try {
      let last: unknown = null;
      for (const st of setup) last = (await conn.runAndReadAll(st)).getRows()[0]?.[0] ?? null;
      // One DuckDB thread while the pass checks on the other core (DuckDB's setting is the database's; back when read).
      const threads = Number((await conn.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
      await conn.run(`SET threads = 1`);
      return new EarlyRead(conn, table, last === null ? "-1" : String(last), insert, threads);
    } catch (e) {
      await conn.run("ROLLBACK").catch(() => undefined);
      throw e;
    }
  }

  /** Interrupts the reader if it is still reading and rolls its transaction back. */
  async abandon(): Promise<void> {
    if (!this.inserted) this.conn.interrupt();
    await this.done;
    await this.rollBack();
  }

  /**
   * Commits the read with `statements` when the reader inserted `rows` rows and `dropped` of them are bad lines', and,
   * with `countSql`, the replaced days hold exactly the others after them; else abandons it. `dropped` are the bad
   * lines' places among the rows read (from 0): their rows are deleted first. Whether it committed.
   */
  async finish(rows: number, dropped: readonly number[], statements: readonly string[], countSql?: string): Promise<boolean> {
    const inserted = await this.done;
    try {
      if (inserted !== rows + dropped.length) throw new Error(`the reader inserted ${String(inserted)} rows, the checks passed ${rows} and set aside ${dropped.length}`);
      if (dropped.length) {
        // The read's rows follow every row there before it, in the files' order (one thread, insertion order kept): the
        // k-th of them is the k-th line read. The count check below (and `inserted`) hold this to account.
        const deleted = (await this.conn.run(
          `DELETE FROM ${this.table} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER (ORDER BY rowid) - 1 AS k FROM ${this.table} ` +
            `WHERE rowid > ${this.before}) WHERE k IN (${dropped.join(", ")}))`,
        )).rowsChanged;
        if (deleted !== dropped.length) throw new Error(`deleted ${deleted} rows of bad lines, not ${dropped.length}`);
      }
      for (const st of statements) await this.conn.run(st);
      const count = countSql === undefined ? rows : Number((await this.conn.runAndReadAll(countSql)).getRows()[0]?.[0]);
      if (count !== rows) throw new Error(`the replaced days hold ${count} rows after the read, not ${rows}`);
      await this.conn.run("COMMIT");
      this.closed = true;
      return true;
    } catch {
      await this.abandon();
      return false;
    }
  }
}

/**
 * Import GA4 export NDJSON files, streaming. Every line is checked in JS (JSON.parse and the schema). When every line
 * is good (blank lines aside) and no day comes before the previous line's, DuckDB's JSON reader then reads the files
 * themselves (`direct`), `_TABLE_SUFFIX` from each row's event_date: the lines are never copied (a bad line that is a
 * JSON object is left to the reader reading while checked, its row deleted: EarlyRead). Otherwise, from the
 * first line that breaks it, the good lines are appended, in file order, to a temporary NDJSON file per day, their
 * bytes as read (about BATCH_CHARS held in memory at a time), and the reader reads those. When every line is
 * read, one transaction (DuckDB writes the full row groups of a large uncommitted INSERT to the file, so the
 * rows are not all held in memory):
 * - replace mode deletes the file's days from `ga4_events` (append mode keeps them);
 * - a real `events_YYYYMMDD` table of one of those days (a warehouse from before the one table, the demo) is
 *   dropped (replace) or moved into `ga4_events` first (append);
 * - ONE `read_json` over all the files (direct) or day files inserts the rows into `ga4_events`. When the files may be
 *   read directly (no real day table in the schema, no glob in a name), that statement starts with the checks, in the
 *   transaction left open (EarlyRead), and the deletes of replaced days come after it; the first line that needs the
 *   day files rolls it back. One statement
 *   converts at DuckDB's reader's own speed: 60 INSERTs, one per day, into 60 tables cost 29.8-35.1 CPU s against
 *   8.3-9.0 s for the same 244,592 events by one statement into one table;
 * - each day gets its view `events_YYYYMMDD` (what BigQuery's day table is), and the quarantined lines are written.
 * A bad line (reject mode), a bad-row share above vars.bad_row_max_share (quarantine mode) or any failure leaves
 * the warehouse as it was. The temporary files take as much disk (in os.tmpdir()) as the good lines, when written.
 */
export async function importGa4(
  local: LocalLoading,
  files: readonly string[],
  opts: Ga4ImportOptions = {},
): Promise<Ga4ImportResult> {
  const { connection: conn, ident: q, literal: lit } = local;
  const types = ga4LocalTypes(local.columnType);
  const schema = opts.schema ?? "ga4_export";
  const mode = opts.mode ?? "replace";
  const prefix = opts.intraday ? "events_intraday_" : "events_";
  const batchChars = opts.batchChars ?? BATCH_CHARS;
  const staging = stagingName("ga4");
  const ignored = new Set<string>();
  const quarantine = await Quarantine.open(local, "ga4", opts);
  const days = new Map<string, Day>();
  let read = 0;
  const columns = `{${GA4_EVENTS_SCHEMA.map((c) => `${lit(c.name)}: ${lit(local.columnType(c))}`).join(", ")}}`;
  // Checked lines wait on disk, a file per day, for DuckDB's own JSON reader (the directory goes in finally).
  const dir = await mkdtemp(path.join(os.tmpdir(), `${staging}_`));
  let longest = 0;
  /** Append the lines held in memory to their day files. */
  const flush = async (): Promise<void> => {
    for (const day of days.values()) {
      if (day.pending.length === 0) continue;
      // Each line's own bytes as read (not the string re-encoded), each followed by its LF. Lines that follow each
      // other in the read chunk (a day's lines, in a file written day by day) are written as one range, LFs included:
      // copying them one by one (Buffer.concat of two pieces a line) took 1.9 CPU s at 244,592 events.
      const parts: Buffer[] = [];
      let run: Buffer | undefined;
      for (const b of day.pending) {
        if (run && b.buffer === run.buffer && b.byteOffset === run.byteOffset + run.length + 1 && new Uint8Array(run.buffer)[run.byteOffset + run.length] === 0x0a) {
          run = Buffer.from(run.buffer, run.byteOffset, run.length + 1 + b.length);
        } else {
          if (run) parts.push(run, LF);
          run = b;
        }
      }
      if (run) parts.push(run, LF);
      await appendFile(day.file, Buffer.concat(parts));
      day.pending = [];
    }
  };
  // Until a line needs them, the checked lines are not copied at all: DuckDB's reader then reads the files themselves
  // (`direct`). That holds while every line so far is good (or blank) and no day comes before the previous line's, so
  // that the files' order keeps each day's rows together, as the day files would. The first line that breaks it (a
  // bad line, an earlier day) switches to the day files: the lines read so far are copied into them first (`catchUp`,
  // no JSON parsed: each day's lines are a run of lines in the files, recorded in `runs`).
  let direct = true;
  let needCopy = false;
  /** The reader reading the files while the pass checks them (until the pass needs the day files). */
  let early: EarlyRead | undefined;
  const runs: { file: number; line: number; day: Day }[] = [];
  /** The last good line: file index and line number. */
  let lastGood = { file: -1, line: 0 };
  /**
   * Bad lines left to the early read (JSON objects the checks refuse, which the reader reads as rows: deleted before it
   * commits, see EarlyRead.finish): each one's place among the lines read as rows, and its file and line for catchUp.
   */
  const dropped: { row: number; file: number; line: number }[] = [];
  /** Lines read as rows so far while the files are read directly (good ones and those in `dropped`). */
  let rowsRead = 0;
  let chars = 0;
  const keep = async (day: Day, bytes: Buffer): Promise<void> => {
    day.pending.push(bytes);
    chars += bytes.length;
    if (chars >= batchChars) {
      await flush();
      chars = 0;
    }
  };
  /** Copy the good lines up to `lastGood` into the day files and go on with the day files. */
  const catchUp = async (): Promise<void> => {
    direct = false;
    await early?.abandon();
    early = undefined;
    let r = 0;
    let d = 0;
    for (let fi = 0; fi <= lastGood.file; fi++) {
      lines: for await (const batch of readLineBatches(files[fi]!)) {
        for (const { line, text, bytes } of batch) {
          if (fi === lastGood.file && line > lastGood.line) break lines;
          if (text.trim() === "") continue;
          // A bad line left to the early read is quarantined already: not copied.
          if (d < dropped.length && dropped[d]!.file === fi && dropped[d]!.line === line) {
            d++;
            continue;
          }
          while (r + 1 < runs.length && (runs[r + 1]!.file < fi || (runs[r + 1]!.file === fi && runs[r + 1]!.line <= line))) r++;
          await keep(runs[r]!.day, bytes);
        }
      }
    }
    runs.length = 0;
    dropped.length = 0;
  };
  // The engine runs with preserve_insertion_order off (less memory for the models' queries); the import turns it
  // on so that each day keeps the file's order without a sort, and puts it back when done.
  const [[preserved]] = (await conn.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)).getRows();
  if (preserved !== true) await conn.run(`SET preserve_insertion_order = true`);
  const events = `${q(schema)}.${q(GA4_EVENTS_TABLE)}`;
  const createEvents = `CREATE TABLE IF NOT EXISTS ${events} (${types.columnsDdl}, ${q(TABLE_SUFFIX)} VARCHAR)`;
  const into = `INSERT INTO ${events} BY NAME `;
  const reader = (list: string[], suffix: string, size = READER_OBJECT_BYTES): string =>
    `${into}SELECT * EXCLUDE (filename), ${suffix} AS ${q(TABLE_SUFFIX)} FROM read_json([${list.map(lit).join(", ")}], ` +
    `format = 'newline_delimited', columns = ${columns}, maximum_object_size = ${size}, filename = true)`;
  const directSuffix = `${lit(prefix.slice("events_".length))} || event_date`;
  /** DuckDB expands a glob in a file name: such names are read through the day files. */
  const readable = files.every((f) => !/[*?[\]{}]/.test(f) && !f.startsWith("~"));
  try {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
    // Hidden day tables an import killed before its swap left behind (the importer before the one table).
    await dropLeftoverTables(local, schema, "ga4", "_events_");
    if (readable && files.length && !(await hasRealDayTables(local, schema))) {
      early = await EarlyRead.start(conn, events, [createEvents, `SELECT max(rowid) FROM ${events}`], reader([...files], directSuffix));
    }
    let previousDate = "";
    for (let fi = 0; fi < files.length; fi++) {
      const file = files[fi]!;
      const name = displayName(file);
      // Lines that are not JSON objects count as read too (the bad share is of every line).
      const onBad = quarantine.onBad;
      // A read chunk of lines at a time: one await per chunk, not per line.
      for await (const batch of ndjsonObjectBatches(file, onBad && ((e, raw) => { read++; needCopy = true; onBad(e, raw); }))) for (const { line, obj, text, bytes } of batch) {
        read++;
        let date: string;
        try {
          date = validateEvent(obj, name, line, text, ignored);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          quarantine.add(e, text);
          // While DuckDB's reader reads the files, its row of this line is deleted before it commits (a JSON object:
          // the reader makes a row of it, or fails, and the import then takes the day files). Up to a bound: the
          // rows are named in one statement.
          if (direct && early && !early.failed && dropped.length < DROPPED_ROWS_MAX) {
            dropped.push({ row: rowsRead++, file: fi, line });
          } else needCopy = true;
          continue;
        }
        // The reader names a direct row's day by its event_date as DuckDB reads it: the export writes a string; a
        // number (20240101, or 2.0240101e7, which DuckDB would read as '20240101.0') takes the day files.
        if (typeof obj.event_date !== "string") needCopy = true;
        if (direct && (needCopy || date < previousDate)) await catchUp();
        previousDate = date;
        let day = days.get(date);
        if (!day) {
          const suffix = prefix.slice("events_".length) + date;
          days.set(date, (day = { suffix, rows: 0, file: path.join(dir, `${suffix}.ndjson`), pending: [] }));
        }
        day.rows++;
        if (bytes.length > longest) longest = bytes.length;
        if (direct) {
          if (runs.at(-1)?.day !== day) runs.push({ file: fi, line, day });
          lastGood = { file: fi, line };
          rowsRead++;
        } else {
          await keep(day, bytes);
        }
      }
    }
    if (direct && needCopy) await catchUp();
    await flush();

    // The connection is the early read's until its INSERT ends (the quarantine's count would wait for it anyway).
    await early?.done;
    const bad = await quarantine.enforce(read, files.map(displayName).join(", "), (st) => inTransaction(conn, st));
    const sorted = [...days.keys()].sort();
    const suffixes = sorted.map((d) => days.get(d)!.suffix);
    // Real day tables of the file's days (not the views a previous import made): moved into or replaced by the one table.
    const real = new Set(
      suffixes.length === 0
        ? []
        : (await conn.runAndReadAll(
            `SELECT table_name FROM duckdb_tables() WHERE schema_name = ${lit(schema)} AND NOT temporary ` +
              `AND table_name IN (${suffixes.map((s) => lit(`events_${s}`)).join(", ")})`,
          )).getRows().map((r) => String(r[0])),
    );
    const result = (reader: Ga4ImportResult["reader"], readWhileChecked = false): Ga4ImportResult => {
      for (const b of GA4_BOOKKEEPING_FIELDS) ignored.delete(b);
      const rowsByTable: Record<string, number> = {};
      for (const d of sorted) rowsByTable[prefix + d] = days.get(d)!.rows;
      return {
        tables: sorted.map((d) => `${schema}.${prefix}${d}`),
        rowsByTable,
        rows: Object.values(rowsByTable).reduce((a, b) => a + b, 0),
        ignoredFields: [...ignored].sort(),
        quarantined: bad,
        reader,
        readWhileChecked,
      };
    };
    const daysIn = `${q(TABLE_SUFFIX)} IN (${suffixes.map(lit).join(", ")})`;
    /** The import's statements; `convert` undefined: the rows are in already (the early read), after the row `readBefore`. */
    const statements = (convert: string | undefined, readBefore?: string): string[] => {
      const st = [createEvents];
      // After the early read, the rows it added come after every row there before (DuckDB appends; a transaction's
      // own rows are numbered from 2^55 until it commits), so the days are replaced by deleting the rows up to the
      // last one before it (-1: the table was empty). The count below checks it.
      const older = readBefore === undefined ? "" : ` AND rowid <= ${readBefore}`;
      if (mode === "replace" && suffixes.length) st.push(`DELETE FROM ${events} WHERE ${daysIn}${older}`);
      for (const s of suffixes) {
        const table = `${q(schema)}.${q(`events_${s}`)}`;
        if (real.has(`events_${s}`)) {
          if (mode === "append") st.push(`INSERT INTO ${events} BY NAME SELECT *, ${lit(s)} AS ${q(TABLE_SUFFIX)} FROM ${table}`);
          st.push(`DROP TABLE ${table}`);
        }
      }
      if (suffixes.length && convert) st.push(convert);
      for (const s of suffixes) {
        st.push(`CREATE OR REPLACE VIEW ${q(schema)}.${q(`events_${s}`)} AS SELECT * EXCLUDE (${q(TABLE_SUFFIX)}) FROM ${events} WHERE ${q(TABLE_SUFFIX)} = ${lit(s)}`);
      }
      if (bad > 0) st.push(...quarantine.writeStatements());
      return st;
    };
    // DuckDB's JSON reader converts the checked lines as json_transform does, in one statement: the files themselves
    // (direct: in the order given, which keeps each day's rows together) or every day file (in day order, so each
    // day's rows are together and a day's scan skips the others' row groups). No ORDER BY: with
    // preserve_insertion_order on (above) the rows keep the files' order. maximum_object_size: the longest line's
    // bytes, since the reader's 16 MB default would refuse a long event.
    const size = Math.max(READER_OBJECT_BYTES, longest + 1);
    const good = sorted.reduce((n, d) => n + days.get(d)!.rows, 0);
    if (early && direct && suffixes.length) {
      const read = early;
      early = undefined;
      if (await read.finish(good, dropped.map((x) => x.row), statements(undefined, read.before), mode === "replace" ? `SELECT count(*) FROM ${events} WHERE ${daysIn}` : undefined)) {
        return result("files", true);
      }
    }
    await early?.abandon();
    early = undefined;
    // Bad lines left to the reader: the files cannot be read directly again (their rows would be in); the day files.
    if (direct && suffixes.length && readable && dropped.length === 0) {
      try {
        await inTransaction(conn, statements(reader([...files], directSuffix, size)));
        return result("files");
      } catch {
        // What the checks let through but the reader refuses (a byte order mark, a key written twice): through the day files.
      }
    }
    if (direct && suffixes.length) {
      lastGood = { file: files.length - 1, line: Number.MAX_SAFE_INTEGER };
      await catchUp();
      await flush();
    }
    const dayFiles = sorted.map((d) => days.get(d)!.file);
    const suffixOfFile = "parse_filename(filename, true)";
    try {
      await inTransaction(conn, statements(reader(dayFiles, suffixOfFile, size)));
    } catch (e) {
      if (suffixes.length === 0) throw e;
      // The reader refuses what json_transform takes (a key written twice, where json_transform keeps the first):
      // the files are then converted line by line by json_transform, at about twice the cost.
      await inTransaction(conn, statements(
        `${into}SELECT unnest(CAST(json_transform(json, ${lit(types.jsonStructure)}) AS ${types.eventRowType})), ${suffixOfFile} AS ${q(TABLE_SUFFIX)} ` +
          `FROM read_json_objects([${dayFiles.map(lit).join(", ")}], format = 'newline_delimited', maximum_object_size = ${size}, filename = true)`,
      ));
    }
    return result("day files");
  } finally {
    await early?.abandon();
    if (preserved !== true) await conn.run(`SET preserve_insertion_order = false`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await quarantine.drop();
  }
}
