/**
 * Import local CSV / NDJSON files into the source tables of the sources schema (default
 * `funnelcredit_sources`): crm_transactions, custom_events, costs, leads, channel_paths_import.
 *
 * Column names in files are normalised to snake_case (`Transaction ID` → `transaction_id`) before they are
 * matched. Empty CSV fields are NULL. Timestamps without an offset are taken as UTC.
 * `custom_events` keeps every column as raw STRING: the warehouse staging model validates and quarantines bad
 * rows; this importer rejects what is not CSV/JSON at all, and amounts (revenue, cost) that are not finite,
 * non-negative numbers.
 * Every kind takes several files in one import (one transaction); `columnMap` renames file columns.
 */
import { InputError, UserError } from "../util/errors.ts";
import type { ColumnSchema, LocalLoading, SqlQuoting } from "../engines/engine.ts";
import { tableSchema } from "../catalog/index.ts";
import { Quarantine, type QuarantineOptions } from "./quarantine.ts";
import { displayName, readCsv, readLines, parseCsvRecord, detectDelimiter, snakeCase, assertReadable, ndjsonObjects, linesWithText, type NumberedLine } from "./read.ts";
import {
  convertSql,
  dropLeftoverTables,
  dropTemp,
  inTransaction,
  stageRows,
  stagingName,
  validateStaged,
  checkConditions,
  writeStatements,
  EARLIEST_PLAUSIBLE_TIME,
  FUTURE_TOLERANCE_DAYS,
  type ColumnCheck,
  type ImportMode,
  type SourceType,
  type StagedRow,
} from "./load.ts";

export type SourceKind = "transactions" | "custom_events" | "costs" | "leads" | "paths";

export interface SourceImportOptions extends QuarantineOptions {
  /** DuckDB schema (BigQuery dataset) of the source tables. Default `funnelcredit_sources`. */
  schema?: string;
  /** replace (default): the table is swapped for the file's rows; append: rows are added. */
  mode?: ImportMode;
  /** Default: from the extension (.csv/.tsv → csv, .ndjson/.jsonl/.json → ndjson; `.gz` allowed). */
  format?: "csv" | "ndjson";
  /** CSV delimiter; default: guessed from the header (`,` `;` TAB `|`). */
  delimiter?: string;
  /** Drop columns that are not part of the table instead of failing (CLI `--ignore-unknown-columns`). Default false. */
  ignoreUnknownColumns?: boolean;
  /**
   * Load a file column as a table column (CLI `--map revenue=transaction_revenue`): keys are file column
   * names (as written or snake_case), values the table's columns. A key missing from a file's header fails.
   */
  columnMap?: Readonly<Record<string, string>>;
  /** Values read as NULL besides the empty string. Default none (leads: `["Select"]`). */
  nullValues?: string[];
}

export interface LeadsImportOptions extends SourceImportOptions {
  /** Column holding the lead's unique id (file name or snake_case), e.g. `"Prospect ID"`. */
  idColumn: string;
  /** 0/1 (or true/false, yes/no) outcome column, e.g. `"Converted"`. */
  labelColumn: string;
  /** Column with the lead's creation time; absent → created_at is NULL (unless synthesised). */
  createdAtColumn?: string;
  /** Column with the conversion time; absent → converted_at is NULL. */
  convertedAtColumn?: string;
  /** Default: a column named `user_id` if there is one. */
  userIdColumn?: string;
  /** Default: a column named `client_id` if there is one. */
  clientIdColumn?: string;
  /** Columns to leave out (e.g. sales-team fields that leak the outcome). */
  exclude?: string[];
  /**
   * Files without a date column (X Education's Leads.csv): only when asked, created_at is spread evenly
   * from `start` to `end` in ascending order of `orderColumn` (e.g. `"Lead Number"`). Synthetic: say so in reports.
   */
  synthesiseCreatedAt?: { orderColumn: string; start: string; end: string };
}

export interface SourceImportResult {
  /** `schema.table` written. */
  table: string;
  /** Rows written (all files). */
  rows: number;
  /**
   * Rows written per file, in the order given; for the fixed sources also how each was read: by DuckDB's CSV reader
   * (its bad rows, if any, found again and checked line by line: prepareMarkedCsv), or line by line in JS.
   */
  files: { file: string; rows: number; read?: "reader" | "lines" }[];
  /** Columns of the table after the import, with their DuckDB types. */
  columns: { name: string; type: string }[];
  /** Rows set aside in the quarantine table (quarantine mode; 0 otherwise). */
  quarantined: number;
}

interface SpecColumn {
  name: string;
  type: SourceType;
  /** The file must have this column. */
  requiredColumn?: boolean;
  /** Every row must have a value. */
  requiredValue?: boolean;
  nonNegative?: boolean;
  /** Kept as raw text (staging parses it) but validated at import as this type. */
  checkType?: SourceType;
  /** Other accepted names (snake_case). */
  aliases?: string[];
}

interface SourceSpec {
  table: string;
  columns: SpecColumn[];
}

/** DuckDB type the importer converts a catalog column (GoogleSQL type) to. */
const SOURCE_TYPES: Partial<Record<ColumnSchema["type"], SourceType>> = {
  STRING: "VARCHAR", FLOAT64: "DOUBLE", INT64: "BIGINT", BOOL: "BOOLEAN", DATE: "DATE", TIMESTAMP: "TIMESTAMP",
};

/** A source table's columns from the warehouse catalog, with the importer's rules for each. */
function spec(table: string, rules: Record<string, Omit<SpecColumn, "name" | "type">> = {}): SourceSpec {
  return {
    table,
    columns: tableSchema(table).map((c) => {
      const type = SOURCE_TYPES[c.type];
      if (!type || c.mode === "REPEATED") throw new Error(`includes/catalog.js: ${table}.${c.name} has type ${c.type}, which the importer does not load`);
      return { name: c.name, type, ...rules[c.name] };
    }),
  };
}

/** The fixed source tables: names and types from the catalog (includes/catalog.js), rules here. */
export const SOURCE_SPECS: Readonly<Record<Exclude<SourceKind, "leads">, SourceSpec>> = {
  transactions: spec("crm_transactions", {
    transaction_id: { requiredColumn: true, requiredValue: true },
    transaction_created: { requiredColumn: true, requiredValue: true },
    transaction_revenue: { requiredColumn: true, nonNegative: true },
  }),
  custom_events: spec("custom_events", {
    name: { requiredColumn: true },
    time: { requiredColumn: true },
    // Amounts stay text like the other custom event columns, but a NaN, infinite or negative amount is a bad row here already.
    revenue: { checkType: "DOUBLE", nonNegative: true },
    cost: { checkType: "DOUBLE", nonNegative: true },
  }),
  costs: spec("costs", {
    date: { requiredColumn: true, requiredValue: true },
    source: { requiredColumn: true },
    medium: { requiredColumn: true },
    cost: { requiredColumn: true, requiredValue: true, nonNegative: true },
    clicks: { nonNegative: true },
    impressions: { nonNegative: true },
  }),
  paths: spec("channel_paths_import", {
    path: { requiredColumn: true, requiredValue: true },
    total_conversions: { requiredColumn: true, requiredValue: true, nonNegative: true },
    total_conversion_value: { nonNegative: true },
    total_null: { nonNegative: true },
  }),
};

/** Column DDL of a fixed source table (for other modules creating empty tables). */
export function sourceTableDdl(quoting: SqlQuoting, kind: Exclude<SourceKind, "leads">): string {
  return SOURCE_SPECS[kind].columns.map((c) => `${quoting.ident(c.name)} ${c.type}`).join(", ");
}

function fileFormat(file: string, format: "csv" | "ndjson" | undefined): "csv" | "ndjson" {
  if (format) return format;
  const f = file.toLowerCase().replace(/\.gz$/, "");
  if (f.endsWith(".csv") || f.endsWith(".tsv") || f.endsWith(".txt")) return "csv";
  if (f.endsWith(".ndjson") || f.endsWith(".jsonl") || f.endsWith(".json")) return "ndjson";
  throw new InputError(displayName(file), undefined, undefined, "cannot tell CSV from NDJSON by the extension; pass format");
}

/** A file read as named columns: `names` are snake_case, `original` as written in the file. */
interface Tabular {
  names: string[];
  original: string[];
  rows: () => AsyncIterable<StagedRow>;
}

/**
 * `--map` applied to a header: the snake_case names, with mapped columns renamed. Every key of the map must
 * name a column of the header (a misspelt mapping fails instead of leaving the column unmapped).
 */
function mapHeader(file: string, original: readonly string[], map: Readonly<Record<string, string>> | undefined): string[] {
  const names = original.map(snakeCase);
  for (const [from, to] of Object.entries(map ?? {})) {
    const i = original.indexOf(from) >= 0 ? original.indexOf(from) : names.indexOf(snakeCase(from));
    if (i < 0) throw new InputError(file, 1, from, `--map ${from}=${to}: the header has no column "${from}" (header: ${original.join(", ")})`);
    names[i] = snakeCase(to);
  }
  return names;
}

function normaliseHeader(file: string, original: string[], map?: Readonly<Record<string, string>>): string[] {
  const names = mapHeader(file, original, map);
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (n === "") throw new InputError(file, 1, `column ${i + 1}`, "the header has an empty column name");
    const prev = seen.get(n);
    if (prev !== undefined) {
      throw new InputError(file, 1, original[i], `gives the same column name "${n}" as "${original[prev]}"`);
    }
    seen.set(n, i);
  });
  return names;
}

/** A CSV file as a table: all its records, or those on `lines` (its header line and some others). */
async function openCsv(file: string, opts: SourceImportOptions, nullValues: Set<string>, onBad?: OnBad, lines?: readonly NumberedLine[]): Promise<Tabular> {
  const name = displayName(file);
  const it = readCsv(file, { delimiter: opts.delimiter, onBadRecord: onBad, lines })[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new InputError(name, 1, undefined, "the file is empty (expected a header line)");
  const original = first.value.fields.map((f) => f.trim());
  const names = normaliseHeader(name, original, opts.columnMap);
  let used = false;
  return {
    names,
    original,
    rows: async function* () {
      if (used) throw new Error("CSV rows can be read once");
      used = true;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        const { line, fields } = r.value;
        if (fields.length !== names.length) {
          const e = new InputError(
            name,
            line,
            fields.length > names.length ? `column ${names.length + 1}` : original[fields.length],
            `expected ${names.length} fields like the header, got ${fields.length}`,
          );
          if (!onBad) throw e;
          onBad(e, JSON.stringify(fields));
          continue;
        }
        yield { line, values: fields.map((v) => (v === "" || nullValues.has(v) ? null : v)) };
      }
    },
  };
}

function scalarText(v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}


/** NDJSON as a table; `columns` given (fixed kinds) or collected from all keys in a first pass (leads). */
type OnBad = (e: InputError, raw: string) => void;

async function openNdjson(
  file: string,
  columns: string[] | undefined,
  columnMap: Readonly<Record<string, string>> | undefined,
  nullValues: Set<string>,
  onUnknownKey: (key: string, line: number) => void,
  onBad?: OnBad,
): Promise<Tabular> {
  const name = displayName(file);
  await assertReadable(file);
  let original = columns;
  if (!original) {
    const keys = new Set<string>();
    for await (const { obj } of ndjsonObjects(file, onBad ? () => undefined : undefined)) for (const k of Object.keys(obj)) keys.add(k);
    original = [...keys];
  }
  const cols = original;
  const names = normaliseHeader(name, cols, columns ? undefined : columnMap);
  const index = new Map(names.map((n, i) => [n, i]));
  // Keys renamed by --map, looked up in each object (the names above are already the mapped ones).
  const renamed = new Map(Object.entries(columnMap ?? {}).map(([from, to]) => [snakeCase(from), snakeCase(to)]));
  return {
    names,
    original: cols,
    rows: async function* () {
      rows: for await (const { line, obj, text } of ndjsonObjects(file, onBad)) {
        const values: (string | null)[] = new Array(names.length).fill(null);
        for (const [k, v] of Object.entries(obj)) {
          const key = snakeCase(k);
          const i = index.get(renamed.get(key) ?? key);
          if (i === undefined) {
            try {
              onUnknownKey(k, line);
            } catch (e) {
              if (!onBad || !(e instanceof InputError)) throw e;
              onBad(e, text);
              continue rows;
            }
            continue;
          }
          // JSON.parse rounds integers past 2^53 (an id 12345678901234567891 would become …7000): refuse, do not round.
          if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) {
            const e = new InputError(name, line, k, `a JSON number this large (${v}) loses digits when read; write it as a string ("…")`);
            if (!onBad) throw e;
            onBad(e, text);
            continue rows;
          }
          const s = scalarText(v);
          if (s === undefined) {
            const e = new InputError(name, line, k, `expected a string, number or boolean, got ${JSON.stringify(v).slice(0, 60)}`);
            if (!onBad) throw e;
            onBad(e, text);
            continue rows;
          }
          values[i] = s === null || s === "" || nullValues.has(s) ? null : s;
        }
        yield { line, values };
      }
    },
  };
}

async function openFile(
  file: string,
  opts: SourceImportOptions,
  fixed: { columns: string[]; table: string } | undefined,
  nullValues: Set<string>,
  onBad?: OnBad,
): Promise<Tabular> {
  if (fileFormat(file, opts.format) === "csv") return openCsv(file, opts, nullValues, onBad);
  const name = displayName(file);
  return openNdjson(file, fixed?.columns, opts.columnMap, nullValues, (key, line) => {
    if (fixed && !opts.ignoreUnknownColumns) {
      throw new InputError(name, line, key, unknownColumnReason(fixed.table, fixed.columns));
    }
  }, onBad);
}

/** What to do about a column the table does not have: the CLI flags that handle it. */
function unknownColumnReason(table: string, columns: readonly string[]): string {
  return `is not a column of ${table} (columns: ${columns.join(", ")}); load it as one of them with --map FILE_COLUMN=TABLE_COLUMN, or drop it with --ignore-unknown-columns`;
}

async function describeTable(local: LocalLoading, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  const { connection: conn, literal: lit } = local;
  const r = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = ${lit(schema)} AND table_name = ${lit(table)} ORDER BY ordinal_position`,
  );
  return (r.getRows() as [string, string][]).map(([name, type]) => ({ name, type }));
}

/** More rows marked bad than this in one file: it is read line by line instead (their lines would be held in JS). */
const MARKED_BAD_ROWS_MAX = 10_000;

/**
 * The usual path for a fixed-schema CSV file: DuckDB's own reader parses and converts it in one pass into a hidden
 * table beside the target, each row marked `_bad` when anything is off (a value that does not convert, a missing
 * required value, a negative or non-finite amount, a time out of range, a stray quote), a bad row's line text kept.
 * A file with no bad row becomes the table (renamed, or copied into it when it adds to one). A file with some has
 * just those lines found again by their text (linesWithText: line ends only) and put through the line-by-line path's
 * own checks (prepareFixed), which name the line and field and quarantine or refuse as configured; the good rows
 * stay where the reader put them. So one bad row costs about what a clean file does, not a second read of the file
 * line by line (6.2× the reader's CPU at 200k rows before).
 *
 * Returns undefined when the file must be read line by line: the header rules this path out (an unknown or missing
 * column, a header this reader would split differently), the reader refuses the file (a row with another field
 * count, bytes that are not UTF-8, a line of spaces), more than MARKED_BAD_ROWS_MAX rows are bad, the lines found are
 * not one for each bad row, a marked line opens a quoted field (a record over several lines), or the line checks find
 * a marked row good (this path's test is meant to be the stricter: its quarantined rows are then taken back).
 */
async function prepareMarkedCsv(
  local: LocalLoading,
  kind: Exclude<SourceKind, "leads">,
  file: string,
  opts: SourceImportOptions,
  quarantine: Quarantine,
  schema: string,
): Promise<Prepared | undefined> {
  const { connection: conn, ident: q } = local;
  if (opts.nullValues?.length || opts.ignoreUnknownColumns) return undefined;
  const read = await markedCsvSelect(local, kind, file, opts);
  if (!read) return undefined;
  const name = displayName(file);
  const spec = SOURCE_SPECS[kind];
  // A hidden table beside the target, not a TEMP one: the first file of a replacing import becomes the table by a
  // rename (its rows written once; through a TEMP table and a copy, `import paths` of 1M rows took 0.3-0.4 CPU s more).
  const marked = stagingName(`${kind}_marked`);
  const table = `${q(schema)}.${q(marked)}`;
  const drop = async (): Promise<void> => {
    await conn.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  };
  try {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
    await dropLeftoverTables(local, schema, `${kind}_marked`);
    // CREATE and INSERT, not CREATE TABLE AS, which cost more: the whole import of 1M transactions 3.8 CPU s against
    // 3.3-3.4, of the 1M paths 2.0-2.2 against 1.7-1.8.
    await conn.run(`CREATE TABLE ${table} (${sourceTableDdl(local, kind)}, _bad BOOLEAN, _line VARCHAR)`);
    await conn.run(`INSERT INTO ${table} ${read.select}`);
  } catch {
    await drop();
    return undefined;
  }
  const columns = spec.columns.map((c) => q(c.name)).join(", ");
  const prepared = (rows: number): Prepared => ({
    file: name,
    select: `SELECT ${columns} FROM ${table}`,
    rows,
    read: "reader",
    replaceBy: [
      `ALTER TABLE ${table} RENAME TO ${q(spec.table)}`,
      `ALTER TABLE ${q(schema)}.${q(spec.table)} DROP COLUMN _bad`,
      `ALTER TABLE ${q(schema)}.${q(spec.table)} DROP COLUMN _line`,
    ],
    cleanup: drop,
  });
  try {
    const [counts] = (await conn.runAndReadAll(`SELECT count(*), count(*) FILTER (WHERE _bad) FROM ${table}`)).getRows();
    const [total, bad] = [Number(counts![0]), Number(counts![1])];
    if (bad === 0) return prepared(total);
    if (bad > MARKED_BAD_ROWS_MAX) return await drop().then(() => undefined);
    // The bad rows' lines, found by their text (the rows are not in the file's order: the engine does not keep
    // insertion order). Two lines of the same text are both bad: every line found must be one of the rows.
    const texts = (await conn.runAndReadAll(`SELECT _line FROM ${table} WHERE _bad`)).getRows().map((r) => String(r[0]));
    const found = await linesWithText(file, new Set(texts));
    if (found.length !== texts.length || found.some((l) => parseCsvRecord(l.text, read.delimiter).kind === "open")) {
      return await drop().then(() => undefined);
    }
    const checked = await prepareFixed(local, kind, file, opts, quarantine, await openCsv(file, opts, new Set(), quarantine.onBad, [read.header, ...found]));
    await checked.cleanup();
    if (checked.rows > 0) {
      await quarantine.forget(name);
      return await drop().then(() => undefined);
    }
    // Their rows go now: DuckDB refuses to commit a change to a table's rows after an ALTER of it in one transaction.
    await conn.run(`DELETE FROM ${table} WHERE _bad`);
    return prepared(total - bad);
  } catch (e) {
    await drop();
    throw e;
  }
}

/** The largest finite DOUBLE. */
const MAX_DOUBLE = "1.7976931348623157e308";

/**
 * The SELECT of one CSV file's typed rows for prepareMarkedCsv, each marked `_bad` or not, with the delimiter and the
 * header line; undefined when the header alone shows the file must be read line by line. The header is read here (not
 * sniffed by DuckDB, which would read a sample of the file once more) and the reader is given its column count and
 * delimiter.
 */
async function markedCsvSelect(
  local: SqlQuoting,
  kind: Exclude<SourceKind, "leads">,
  file: string,
  opts: SourceImportOptions,
): Promise<{ select: string; delimiter: string; header: NumberedLine } | undefined> {
  const { ident: q, literal: lit } = local;
  if (fileFormat(file, opts.format) !== "csv") return undefined;
  let first: { line: number; text: string; invalidUtf8?: boolean } | undefined;
  try {
    for await (const l of readLines(file)) {
      first = l;
      break;
    }
  } catch {
    return undefined;
  }
  // The reader skips exactly one line: a header after empty lines, or with bytes that are not UTF-8, takes the exact path.
  if (!first || first.line !== 1 || first.invalidUtf8 || first.text.trim() === "") return undefined;
  const delimiter = opts.delimiter ?? detectDelimiter(first.text);
  const parsed = parseCsvRecord(first.text, delimiter);
  if (parsed.kind !== "ok" || parsed.fields.some((f) => f.includes(delimiter) || f.includes('"'))) return undefined;
  const header = parsed.fields.map((f) => f.trim());
  let names: string[];
  try {
    names = mapHeader(displayName(file), header, opts.columnMap);
  } catch {
    return undefined;
  }
  const spec = SOURCE_SPECS[kind];
  const fileCols = header.map((_, i) => `column${i}`);
  const colOf = new Map<string, string>();
  for (let i = 0; i < header.length; i++) {
    const target = spec.columns.find((c) => c.name === names[i] || c.aliases?.includes(names[i]!));
    if (!target || colOf.has(target.name)) return undefined;
    colOf.set(target.name, fileCols[i]!);
  }
  if (spec.columns.some((c) => c.requiredColumn && !colOf.has(c.name))) return undefined;
  // Quoting disabled, so DuckDB's more lenient quote handling never decides what a malformed file means: every
  // field must be unquoted text or one well-formed quoted token ("a ""b"""), unquoted below. A quoted delimiter
  // or newline changes the column count, which strict mode refuses; so are bytes that are not UTF-8 and a
  // file mixing line endings.
  const columns = `{${fileCols.map((c) => `${lit(c)}: 'VARCHAR'`).join(", ")}}`;
  const reader = `read_csv(${lit(file)}, header = false, skip = 1, auto_detect = false, columns = ${columns}, delim = ${lit(delimiter)}, strict_mode = true, quote = '', escape = '')`;
  // A field's text between its first and last character, worked out once per quoted field (in the reader's
  // SELECT below) and shared by the unquoting and the check. Most quoted fields hold no quote inside, so the
  // CASEs below take their cheap branch: no copy beyond this one and no replace, as DuckDB evaluates a CASE
  // branch only on the rows that reach it.
  const inner = (f: string): string => q(`_inner_${f}`);
  // A quoted empty field ("") is NULL, as an empty one is: the line-by-line path reads both as NULL (a required value
  // is then missing), and a file must not read differently because another of its rows is bad.
  const unq = (f: string): string =>
    `CASE WHEN ${inner(f)} IS NULL THEN ${q(f)} WHEN ${inner(f)} = '' THEN NULL WHEN NOT contains(${inner(f)}, '"') THEN ${inner(f)} ELSE replace(${inner(f)}, '""', '"') END`;
  const typed = spec.columns.flatMap((c, i) => {
    const f = colOf.get(c.name);
    return [
      `CAST(${f === undefined ? "NULL" : convertSql(local, `(${unq(f)})`, c.type)} AS ${c.type}) AS ${q(c.name)}`,
      // Raw text columns checked as another type (custom event amounts) get that conversion too.
      c.checkType && f !== undefined ? `CAST(${convertSql(local, `(${unq(f)})`, c.checkType)} AS ${c.checkType}) AS ${q(`_check_${i}`)}` : `NULL AS ${q(`_check_${i}`)}`,
      // The field's text, unquoted: blank (or "") is no value, as on the line-by-line path.
      `${f === undefined ? "NULL" : unq(f)} AS ${q(`_raw_${i}`)}`,
    ];
  });
  // A well-quoted field: no quote at all, or quoted at both ends with only doubled quotes inside. A CASE, not
  // ORs, so that the replace runs only on the rare field with a quote inside.
  const wellQuoted = fileCols.map((f) => {
    const c = q(f);
    return `CASE WHEN ${inner(f)} IS NULL THEN TRUE WHEN NOT (length(${c}) >= 2 AND starts_with(${c}, '"') AND ends_with(${c}, '"')) THEN FALSE ` +
      `WHEN NOT contains(${inner(f)}, '"') THEN TRUE ELSE NOT contains(replace(${inner(f)}, '""', ''), '"') END`;
  });
  const problems = spec.columns.flatMap((c, i) => {
    const type = c.checkType ?? c.type;
    const v = c.checkType ? q(`_check_${i}`) : q(c.name);
    const r = q(`_raw_${i}`);
    return [
      // Text does not fail to convert to text: no check (a trim of every long text field was most of its cost).
      // The value test first: the trims run only on the rare row whose value is NULL.
      ...(type === "VARCHAR" ? [] : [`(${v} IS NULL AND ${r} IS NOT NULL AND trim(${r}) <> '')`]),
      // Blank text is no value either (the line checks' rule: `trim(x) = ''`).
      ...(c.requiredValue ? [type === "VARCHAR" ? `(${v} IS NULL OR trim(${v}) = '')` : `${v} IS NULL`] : []),
      // A number: one range test finds negative, infinite and NaN values at once (DuckDB orders NaN above +inf,
      // so it is outside every range).
      ...(type === "DOUBLE" ? [`NOT (${v} BETWEEN ${c.nonNegative ? "0" : `-${MAX_DOUBLE}`} AND ${MAX_DOUBLE})`] : c.nonNegative ? [`${v} < 0`] : []),
      ...(type === "TIMESTAMP" || type === "DATE"
        ? [`CAST(${v} AS TIMESTAMP) < TIMESTAMP ${lit(EARLIEST_PLAUSIBLE_TIME)} OR CAST(${v} AS TIMESTAMP) > TIMESTAMP ${lit(latestPlausible())}`]
        : []),
    ];
  });
  const bad = [...problems.map((p) => `COALESCE(${p}, FALSE)`), `NOT (${wellQuoted.join(" AND ")})`].join(" OR ");
  const out = [...spec.columns.map((c) => q(c.name)), `COALESCE(${bad}, TRUE) AS _bad`, ...fileCols.map(q)];
  // A bad row's line as written (quoting is off, so its fields joined by the delimiter are the line's text, an empty
  // field read as NULL): the import finds its line by it. NULL for the good rows.
  const line = `CASE WHEN _bad THEN concat(${fileCols.map((f) => `coalesce(${q(f)}, '')`).join(`, ${lit(delimiter)}, `)}) END AS _line`;
  // NULL for a field without a quote (NULL or not), else its text without the first and last character.
  // contains(), not position(): position counts the characters up to the quote (or to the end of a field without
  // one), contains only looks for the byte (≈ 15 % of the statement's CPU on 1M path rows).
  const inners = fileCols.map((f) => `CASE WHEN contains(${q(f)}, '"') THEN substr(${q(f)}, 2, length(${q(f)}) - 2) END AS ${inner(f)}`);
  const select = `SELECT ${spec.columns.map((c) => q(c.name)).join(", ")}, _bad, ${line} FROM (SELECT ${out.join(", ")} ` +
    `FROM (SELECT ${typed.join(", ")}, ${fileCols.map(q).join(", ")}, ${fileCols.map(inner).join(", ")} ` +
    `FROM (SELECT ${fileCols.map(q).join(", ")}, ${inners.join(", ")} FROM ${reader})))`;
  return { select, delimiter, header: first };
}

function latestPlausible(): string {
  return new Date(Date.now() + FUTURE_TOLERANCE_DAYS * 86_400_000).toISOString().replace("T", " ").replace("Z", "");
}

/** One file's rows, checked and typed, waiting (in a TEMP staging table, or a hidden table beside the target) for the import's single write transaction. */
interface Prepared {
  /** Display name of the file. */
  file: string;
  /** SELECT of the typed rows, in file order. */
  select: string;
  /** Good rows (those the select returns). */
  rows: number;
  /** Read by DuckDB's reader (prepareMarkedCsv) or line by line (prepareFixed). */
  read: "reader" | "lines";
  /** Statements that make the rows read the target table in place of the one there (dropped first): no copy. */
  replaceBy?: string[];
  cleanup: () => Promise<void>;
}

/** A file's rows given by another importer (DP6), in the layout of a fixed source table. */
export interface RowsOverride {
  names: string[];
  original: string[];
  rows: () => AsyncIterable<StagedRow>;
}

/**
 * Read, stage and check one file of a fixed-schema source (the exact, line-by-line path). Bad rows go to
 * `quarantine` (quarantine mode) or fail the import (reject mode); the bad-row share is enforced by the
 * caller over all files.
 */
async function prepareFixed(
  local: LocalLoading,
  kind: Exclude<SourceKind, "leads">,
  file: string,
  opts: SourceImportOptions,
  quarantine: Quarantine,
  rowsOverride?: RowsOverride,
): Promise<Prepared> {
  const { ident: q } = local;
  const spec = SOURCE_SPECS[kind];
  const name = displayName(file);
  const nullValues = new Set(opts.nullValues ?? []);
  const isNdjson = !rowsOverride && fileFormat(file, opts.format) === "ndjson";
  const tab =
    rowsOverride ??
    (await openFile(file, opts, { columns: spec.columns.map((c) => c.name), table: spec.table }, nullValues, quarantine.onBad));

  // Header-level checks: required columns present, no unknown columns.
  const colOf = new Map<string, number>();
  tab.names.forEach((n, i) => {
    const target = spec.columns.find((c) => c.name === n || c.aliases?.includes(n));
    if (target) colOf.set(target.name, i);
    else if (!opts.ignoreUnknownColumns) {
      throw new InputError(name, 1, tab.original[i], unknownColumnReason(spec.table, spec.columns.map((c) => c.name)));
    }
  });
  if (!isNdjson) {
    for (const c of spec.columns) {
      if (c.requiredColumn && !colOf.has(c.name)) {
        throw new InputError(name, 1, c.name, `the header has no column "${c.name}" (header: ${tab.original.join(", ")})`);
      }
    }
  }

  const staging = stagingName(kind);
  try {
    const count = await stageRows(local, staging, tab.names, tab.rows());
    const checks: ColumnCheck[] = [];
    for (const c of spec.columns) {
      const i = colOf.get(c.name);
      if (i === undefined) continue;
      checks.push({
        column: tab.names[i]!,
        field: tab.original[i]!,
        type: c.checkType ?? c.type,
        required: c.requiredValue,
        nonNegative: c.nonNegative,
      });
    }
    const good = await setAsideBadRows(local, quarantine, staging, name, checks, tab.names, count);

    const select = spec.columns.map((c) => {
      const i = colOf.get(c.name);
      const expr = i === undefined ? `NULL` : convertSql(local, q(tab.names[i]!), c.type);
      return `CAST(${expr} AS ${c.type}) AS ${q(c.name)}`;
    });
    return { file: name, select: `SELECT ${select.join(", ")} FROM temp.main.${q(staging)} ORDER BY _line`, rows: good, read: "lines", cleanup: () => dropTemp(local, staging) };
  } catch (e) {
    await dropTemp(local, staging);
    throw e;
  }
}

/**
 * Import the files of a fixed-schema source: all at once on the fast path, else each checked line by line; the bad-row
 * share is held to vars.bad_row_max_share over all of them, and all are written in one transaction —
 * the first replaces the table (replace mode), the others add to it. A failure leaves the table as it was.
 */
async function importFixedFiles(
  local: LocalLoading,
  kind: Exclude<SourceKind, "leads">,
  files: readonly { file: string; rows?: RowsOverride }[],
  opts: SourceImportOptions,
): Promise<SourceImportResult> {
  const { connection: conn, ident: q } = local;
  const spec = SOURCE_SPECS[kind];
  const schema = opts.schema ?? "funnelcredit_sources";
  const mode = opts.mode ?? "replace";
  const quarantine = await Quarantine.open(local, kind, opts);
  const prepared: Prepared[] = [];
  try {
    for (const f of files) {
      const marked = f.rows ? undefined : await prepareMarkedCsv(local, kind, f.file, opts, quarantine, schema);
      prepared.push(marked ?? (await prepareFixed(local, kind, f.file, opts, quarantine, f.rows)));
    }
    const good = prepared.reduce((a, p) => a + p.rows, 0);
    const bad = quarantine.policy === "quarantine"
      ? await quarantine.enforce(good + (await quarantine.count()), prepared.map((p) => p.file).join(", "), (st) => inTransaction(conn, st))
      : 0;
    const ddl = sourceTableDdl(local, kind);
    await inTransaction(conn, [
      ...prepared.flatMap((p, i) =>
        i === 0 && mode === "replace" && p.replaceBy
          ? [`DROP TABLE IF EXISTS ${q(schema)}.${q(spec.table)}`, ...p.replaceBy]
          : writeStatements(local, schema, spec.table, ddl, p.select, i === 0 ? mode : "append"),
      ),
      ...(bad > 0 ? quarantine.writeStatements() : []),
    ]);
    return {
      table: `${schema}.${spec.table}`,
      rows: good,
      files: prepared.map((p) => ({ file: p.file, rows: p.rows, read: p.read })),
      // Replaced, the table has exactly the spec's columns and types (its DDL): no catalog query needed.
      columns: mode === "replace" ? spec.columns.map((c) => ({ name: c.name, type: c.type })) : await describeTable(local, schema, spec.table),
      quarantined: bad,
    };
  } finally {
    for (const p of prepared) await p.cleanup();
    await quarantine.drop();
  }
}

/**
 * Reject mode: throw for the first bad staged row. Quarantine mode: move every bad staged row to the
 * quarantine (the caller then holds all bad rows to the allowed share of all rows read, over every file).
 * Returns the good rows left in staging.
 */
async function setAsideBadRows(
  local: LocalLoading,
  quarantine: Quarantine,
  staging: string,
  file: string,
  checks: readonly ColumnCheck[],
  columns: readonly string[],
  staged: number,
  extra?: (quarantine: Quarantine) => Promise<void>,
): Promise<number> {
  const { connection: conn, ident: q } = local;
  if (quarantine.policy === "reject") {
    await validateStaged(local, staging, file, checks);
    await extra?.(quarantine);
    return staged;
  }
  await quarantine.takeFailing(staging, file, checkConditions(local, checks), columns);
  await extra?.(quarantine);
  const [row] = (await conn.runAndReadAll(`SELECT count(*) FROM temp.main.${q(staging)}`)).getRows();
  return Number(row?.[0] ?? 0);
}

/**
 * Leads: fixed key columns plus every other column typed automatically. Several files must have the same
 * columns; each is checked on its own (errors name its lines), a lead id seen in an earlier file is a
 * duplicate, and types are inferred over all of them before the one write.
 */
async function importLeads(local: LocalLoading, files: readonly string[], opts: LeadsImportOptions): Promise<SourceImportResult> {
  const { connection: conn, ident: q, literal: lit } = local;
  const schema = opts.schema ?? "funnelcredit_sources";
  const mode = opts.mode ?? "replace";
  const nullValues = new Set(opts.nullValues ?? ["Select"]);
  const quarantine = await Quarantine.open(local, "leads", opts);
  const stagings: string[] = [];
  const combined = stagingName("leads_all");
  try {
    let names: string[] | undefined;
    let cols: { id: string; label: string; createdAt?: string; convertedAt?: string; userId?: string; clientId?: string; order?: string; extras: string[] } | undefined;
    const perFile: { file: string; rows: number }[] = [];
    for (const file of files) {
      const name = displayName(file);
      const tab = await openFile(file, opts, undefined, nullValues, quarantine.onBad);
      const index = new Map(tab.names.map((n, i) => [n, i]));
      if (names) {
        const missing = names.filter((n) => !index.has(n));
        const more = tab.names.filter((n) => !names!.includes(n));
        if (missing.length || more.length) {
          throw new InputError(name, 1, undefined, `leads files imported together need the same columns as ${perFile[0]!.file}` +
            (missing.length ? `; missing: ${missing.join(", ")}` : "") + (more.length ? `; not in the first file: ${more.join(", ")}` : ""));
        }
      }
      names ??= tab.names;
      const resolve = (option: string, col: string | undefined): string | undefined => {
        if (col === undefined) return undefined;
        const n = snakeCase(col);
        if (!index.has(n)) {
          throw new InputError(name, 1, col, `${option}: no such column (columns: ${tab.original.join(", ")})`);
        }
        return n;
      };
      const id = resolve("idColumn", opts.idColumn)!;
      const label = resolve("labelColumn", opts.labelColumn)!;
      const createdAt = resolve("createdAtColumn", opts.createdAtColumn);
      const convertedAt = resolve("convertedAtColumn", opts.convertedAtColumn);
      const userId = resolve("userIdColumn", opts.userIdColumn ?? (index.has("user_id") ? "user_id" : undefined));
      const clientId = resolve("clientIdColumn", opts.clientIdColumn ?? (index.has("client_id") ? "client_id" : undefined));
      const order = resolve("synthesiseCreatedAt.orderColumn", opts.synthesiseCreatedAt?.orderColumn);
      const excluded = new Set((opts.exclude ?? []).map((c) => resolve("exclude", c)!));
      const mapped = new Set([id, label, createdAt, convertedAt, userId, clientId].filter((x): x is string => !!x));
      const fixed = ["lead_id", "created_at", "converted_at", "converted", "user_id", "client_id"];
      const extras = tab.names.filter((n) => !mapped.has(n) && !excluded.has(n));
      for (const e of extras) {
        if (fixed.includes(e)) {
          throw new InputError(name, 1, tab.original[index.get(e)!], `collides with the leads column "${e}"; map it with an option or exclude it`);
        }
      }
      cols ??= { id, label, createdAt, convertedAt, userId, clientId, order, extras };
      const field = (n: string): string => tab.original[index.get(n)!]!;

      const staging = stagingName("leads");
      stagings.push(staging);
      const count = await stageRows(local, staging, tab.names, tab.rows());
      const checks: ColumnCheck[] = [
        { column: id, field: field(id), type: "VARCHAR", required: true },
        { column: label, field: field(label), type: "BOOLEAN" },
      ];
      if (createdAt) checks.push({ column: createdAt, field: field(createdAt), type: "TIMESTAMP" });
      if (convertedAt) checks.push({ column: convertedAt, field: field(convertedAt), type: "TIMESTAMP" });
      if (order) checks.push({ column: order, field: field(order), type: "DOUBLE", required: true });
      // A repeated lead id (in this file or an earlier one): the first row is kept, later ones are bad rows.
      const earlier = stagings.slice(0, -1).map((s) => `SELECT ${q(id)} FROM temp.main.${q(s)}`);
      const later =
        `SELECT _line FROM (SELECT _line, ${q(id)}, row_number() OVER (PARTITION BY ${q(id)} ORDER BY _line) AS n FROM temp.main.${q(staging)}) ` +
        `WHERE n >= 2${earlier.length ? ` OR ${q(id)} IN (${earlier.join(" UNION ALL ")})` : ""}`;
      const duplicates = async (qu: Quarantine): Promise<void> => {
        if (qu.policy === "quarantine") {
          await qu.takeLines(staging, name, later, field(id), `'duplicate lead id ' || CAST(to_json(${q(id)}) AS VARCHAR) || ' (the first row with it is kept)'`, tab.names);
          return;
        }
        const dup = (await conn.runAndReadAll(`SELECT _line, ${q(id)} FROM temp.main.${q(staging)} WHERE _line IN (${later}) ORDER BY _line LIMIT 1`)).getRows()[0];
        if (dup) throw new InputError(name, Number(dup[0]), field(id), `duplicate lead id ${JSON.stringify(dup[1])}`);
      };
      perFile.push({ file: name, rows: await setAsideBadRows(local, quarantine, staging, name, checks, tab.names, count, duplicates) });
    }
    const { id, label, createdAt, convertedAt, userId, clientId, order, extras } = cols!;
    const good = perFile.reduce((a, f) => a + f.rows, 0);
    const bad = quarantine.policy === "quarantine"
      ? await quarantine.enforce(good + (await quarantine.count()), perFile.map((f) => f.file).join(", "), (st) => inTransaction(conn, st))
      : 0;
    await conn.run(
      `CREATE TEMP TABLE ${q(combined)} AS ${stagings.map((s, i) => `SELECT ${i} AS _file_no, * FROM temp.main.${q(s)}`).join(" UNION ALL BY NAME ")}`,
    );

    // Infer each extra column's type: integer, number, yes/no boolean, else categorical text.
    const types = new Map<string, SourceType>();
    if (extras.length > 0) {
      const parts = extras.flatMap((e) => {
        const c = q(e);
        return [
          `count(${c})`,
          `count(${convertSql(local, c, "BIGINT")})`,
          `count(${convertSql(local, c, "DOUBLE")})`,
          `count(CASE WHEN lower(trim(${c})) IN ('yes', 'no', 'true', 'false') THEN 1 END)`,
        ];
      });
      const r = (await conn.runAndReadAll(`SELECT ${parts.join(", ")} FROM temp.main.${q(combined)}`)).getRows()[0]!;
      extras.forEach((e, i) => {
        const [n, ints, nums, bools] = [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3].map((k) => Number(r[k]));
        types.set(e, n === 0 ? "VARCHAR" : ints === n ? "BIGINT" : nums === n ? "DOUBLE" : bools === n ? "BOOLEAN" : "VARCHAR");
      });
    }

    let createdExpr = createdAt ? convertSql(local, q(createdAt), "TIMESTAMP") : "NULL";
    if (!createdAt && opts.synthesiseCreatedAt && order) {
      const { start, end } = opts.synthesiseCreatedAt;
      createdExpr = `make_timestamp(CAST(epoch_us(TIMESTAMP ${lit(start)}) + (row_number() OVER (ORDER BY ${convertSql(local, q(order), "DOUBLE")}, _file_no, _line) - 1) * (epoch_us(TIMESTAMP ${lit(end)}) - epoch_us(TIMESTAMP ${lit(start)})) / greatest(count(*) OVER () - 1, 1) AS BIGINT))`;
    }
    const select = [
      `CAST(${q(id)} AS VARCHAR) AS lead_id`,
      `CAST(${createdExpr} AS TIMESTAMP) AS created_at`,
      `CAST(${convertedAt ? convertSql(local, q(convertedAt), "TIMESTAMP") : "NULL"} AS TIMESTAMP) AS converted_at`,
      `CAST(${convertSql(local, q(label), "BOOLEAN")} AS BOOLEAN) AS converted`,
      `CAST(${userId ? q(userId) : "NULL"} AS VARCHAR) AS user_id`,
      `CAST(${clientId ? q(clientId) : "NULL"} AS VARCHAR) AS client_id`,
      ...extras.map((e) => `CAST(${convertSql(local, q(e), types.get(e)!)} AS ${types.get(e)!}) AS ${q(e)}`),
    ];
    const ddl = [
      "lead_id VARCHAR",
      "created_at TIMESTAMP",
      "converted_at TIMESTAMP",
      "converted BOOLEAN",
      "user_id VARCHAR",
      "client_id VARCHAR",
      ...extras.map((e) => `${q(e)} ${types.get(e)!}`),
    ].join(", ");
    await inTransaction(conn, [
      ...writeStatements(local, schema, "leads", ddl, `SELECT ${select.join(", ")} FROM temp.main.${q(combined)} ORDER BY _file_no, _line`, mode),
      ...(bad > 0 ? quarantine.writeStatements() : []),
    ]);
    return { table: `${schema}.leads`, rows: good, files: perFile, columns: await describeTable(local, schema, "leads"), quarantined: bad };
  } finally {
    for (const s of [...stagings, combined]) await dropTemp(local, s);
    await quarantine.drop();
  }
}

/**
 * Import CSV or NDJSON files into a source table. Validation of every file happens before anything is
 * written; all files are written in one transaction (the first replaces the table in replace mode, the
 * others add to it), so a failed import leaves the previous table intact.
 */
export function importCsvOrNdjson(
  local: LocalLoading,
  kind: "leads",
  files: string | readonly string[],
  opts: LeadsImportOptions,
): Promise<SourceImportResult>;
export function importCsvOrNdjson(
  local: LocalLoading,
  kind: Exclude<SourceKind, "leads">,
  files: string | readonly string[],
  opts?: SourceImportOptions,
): Promise<SourceImportResult>;
export async function importCsvOrNdjson(
  local: LocalLoading,
  kind: SourceKind,
  files: string | readonly string[],
  opts: SourceImportOptions | LeadsImportOptions = {},
): Promise<SourceImportResult> {
  const list = typeof files === "string" ? [files] : [...files];
  if (list.length === 0) throw new UserError(`import ${kind}: no files given`);
  if (kind === "leads") {
    const o = opts as Partial<LeadsImportOptions>;
    if (!o.idColumn || !o.labelColumn) {
      throw new InputError(displayName(list[0]!), undefined, undefined, "leads import needs the idColumn and labelColumn options");
    }
    return importLeads(local, list, opts as LeadsImportOptions);
  }
  if (!(kind in SOURCE_SPECS)) {
    throw new InputError(displayName(list[0]!), undefined, undefined, `unknown import kind "${String(kind)}"; use transactions, custom_events, costs, leads or paths`);
  }
  return importFixedFiles(local, kind, list.map((file) => ({ file })), opts);
}

/** @internal Used by importers of other layouts (DP6) that produce custom_events rows. */
export function importRowsAsSource(
  local: LocalLoading,
  kind: Exclude<SourceKind, "leads">,
  files: readonly { file: string; rows: RowsOverride }[],
  opts: SourceImportOptions = {},
): Promise<SourceImportResult> {
  return importFixedFiles(local, kind, files, opts);
}
