/**
 * Bad input rows are never silently lost (reliability promise 1). In quarantine mode an importer
 * sets each bad row aside — source, file, line, field, reason and the raw row — imports the good
 * ones, and writes the bad ones to `<base>_meta.import_quarantine` in the same transaction. Only
 * when the share of bad rows passes `vars.bad_row_max_share` does the import fail (then nothing is
 * imported, but the quarantined rows are still written so they can be inspected).
 * In reject mode (the library default) the first bad row fails the import, naming file:line:field.
 */
import { InputError, UserError } from "../util/errors.ts";
import { dropTemp, isCalendarDay, stagingName, type CheckCondition } from "./load.ts";
import type { Engine, LocalLoading, SqlQuoting, Target } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import { sqlString } from "../util/sql.ts";

type BadRowPolicy = "reject" | "quarantine";

export interface QuarantineOptions {
  /** reject (default): the first bad row fails the import. quarantine: bad rows are set aside. */
  badRows?: BadRowPolicy;
  /** Largest share of bad rows (0–1) a quarantined import accepts; default 0.05 (vars.bad_row_max_share). */
  badRowMaxShare?: number;
  /** Schema of the quarantine table; default `funnelcredit_meta` (settings.datasets.meta). */
  quarantineSchema?: string;
}

const QUARANTINE_TABLE = "import_quarantine";

/** Contract of `<base>_meta.import_quarantine`: one row per input row set aside. */
function quarantineDdl(quoting: SqlQuoting): string {
  const q = quoting.ident;
  return `${q("source")} VARCHAR, ${q("file")} VARCHAR, ${q("line")} BIGINT, ${q("field")} VARCHAR, ${q("reason")} VARCHAR, ${q("raw_row")} VARCHAR, ${q("quarantined_at")} TIMESTAMP`;
}

/** Raw rows are kept up to this many characters (a 10 MB string must not bloat the table). */
export const RAW_ROW_MAX_CHARS = 4096;

function clipRaw(raw: string): string {
  return raw.length <= RAW_ROW_MAX_CHARS ? raw : `${raw.slice(0, RAW_ROW_MAX_CHARS)}… (${raw.length - RAW_ROW_MAX_CHARS} more characters)`;
}

/** Too many bad rows: the message says how many, the limit, where they are and what to do. */
export class BadRowShareError extends UserError {
  constructor(
    readonly source: string,
    readonly file: string,
    readonly bad: number,
    readonly total: number,
    readonly maxShare: number,
    table: string,
    example: string | undefined,
  ) {
    super(
      `${file}: ${bad.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} ${source} rows (${pct(bad / Math.max(total, 1))}) failed validation, ` +
        `more than vars.bad_row_max_share (${pct(maxShare)}); nothing was imported. The bad rows are in ${table}` +
        (example ? ` (e.g. ${example})` : "") +
        `; fix the file, or raise vars.bad_row_max_share in workflow_settings.yaml if this share is expected`,
    );
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
}

/**
 * The bad rows of one import, in a TEMP table (so a file with a million bad rows does not fill memory
 * in JS). Rows found while reading are added with `add`; rows failing SQL checks with `takeFailing`.
 */
export class Quarantine {
  private pending: { file: string; line: number; field: string | null; reason: string; raw: string }[] = [];
  private constructor(
    private readonly local: LocalLoading,
    readonly source: string,
    readonly policy: BadRowPolicy,
    readonly maxShare: number,
    readonly schema: string,
    readonly temp: string,
  ) {}

  static async open(local: LocalLoading, source: string, opts: QuarantineOptions = {}): Promise<Quarantine> {
    const temp = stagingName(`quarantine_${source}`);
    const q = local.ident;
    await local.connection.run(`CREATE OR REPLACE TEMP TABLE ${q(temp)} (${q("source")} VARCHAR, ${q("file")} VARCHAR, ${q("line")} BIGINT, ${q("field")} VARCHAR, ${q("reason")} VARCHAR, ${q("raw_row")} VARCHAR)`);
    const share = opts.badRowMaxShare ?? 0.05;
    if (!(share >= 0 && share <= 1)) throw new UserError(`bad_row_max_share must be from 0 to 1, got ${share}`);
    return new Quarantine(local, source, opts.badRows ?? "reject", share, opts.quarantineSchema ?? "funnelcredit_meta", temp);
  }

  private get conn(): LocalLoading["connection"] {
    return this.local.connection;
  }

  get table(): string {
    return `${this.schema}.${QUARANTINE_TABLE}`;
  }

  /** A bad row found while reading: thrown in reject mode, set aside in quarantine mode. */
  add(e: InputError, raw: string): void {
    if (this.policy === "reject") throw e;
    this.pending.push({ file: e.file, line: e.line ?? 0, field: e.field ?? null, reason: e.reason, raw: clipRaw(raw) });
  }

  /** Handler for the readers' onBad callbacks (undefined in reject mode: readers then throw). */
  get onBad(): ((e: InputError, raw: string) => void) | undefined {
    return this.policy === "quarantine" ? (e, raw) => this.add(e, raw) : undefined;
  }

  async flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    if (!rows.length) return;
    const appender = await this.conn.createAppender(this.temp, "main", "temp");
    try {
      for (const r of rows) {
        appender.appendVarchar(this.source);
        appender.appendVarchar(r.file);
        appender.appendBigInt(BigInt(r.line));
        if (r.field === null) appender.appendNull();
        else appender.appendVarchar(r.field);
        appender.appendVarchar(r.reason);
        appender.appendVarchar(r.raw);
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
  }

  /**
   * Move every staged row that breaks a rule into the quarantine (the first rule it breaks is its
   * reason) and delete it from the staging table. `columns` are the staging table's data columns.
   */
  async takeFailing(staging: string, file: string, conds: readonly CheckCondition[], columns: readonly string[]): Promise<void> {
    if (!conds.length) return;
    const { ident: q, literal: lit } = this.local;
    const field = `CASE ${conds.map((c) => `WHEN ${c.sql} THEN ${lit(c.check.field)}`).join(" ")} END`;
    const reason = `CASE ${conds.map((c) => `WHEN ${c.sql} THEN ${c.reasonSql}`).join(" ")} END`;
    const raw = `CAST(to_json(struct_pack(${columns.map((c) => `${q(c)} := ${q(c)}`).join(", ")})) AS VARCHAR)`;
    const anyBad = conds.map((c) => `(${c.sql})`).join(" OR ");
    const from = `temp.main.${q(staging)}`;
    await this.conn.run(
      `INSERT INTO temp.main.${q(this.temp)} SELECT ${lit(this.source)}, ${lit(file)}, _line, ${field}, ${reason}, ` +
        `CASE WHEN length(${raw}) > ${RAW_ROW_MAX_CHARS} THEN left(${raw}, ${RAW_ROW_MAX_CHARS}) || '… (clipped)' ELSE ${raw} END ` +
        `FROM ${from} WHERE COALESCE(${anyBad}, FALSE)`,
    );
    await this.conn.run(`DELETE FROM ${from} WHERE COALESCE(${anyBad}, FALSE)`);
  }

  /** Add a staged row by line (duplicates and other row-set rules), removing it from staging. */
  async takeLines(staging: string, file: string, selectLinesSql: string, field: string, reasonSql: string, columns: readonly string[]): Promise<void> {
    const { ident: q, literal: lit } = this.local;
    const raw = `CAST(to_json(struct_pack(${columns.map((c) => `${q(c)} := ${q(c)}`).join(", ")})) AS VARCHAR)`;
    const from = `temp.main.${q(staging)}`;
    await this.conn.run(
      `INSERT INTO temp.main.${q(this.temp)} SELECT ${lit(this.source)}, ${lit(file)}, _line, ${lit(field)}, ${reasonSql}, left(${raw}, ${RAW_ROW_MAX_CHARS}) FROM ${from} WHERE _line IN (${selectLinesSql})`,
    );
    await this.conn.run(`DELETE FROM ${from} WHERE _line IN (SELECT line FROM temp.main.${q(this.temp)} WHERE file = ${lit(file)})`);
  }

  /** Take back every row set aside from `file` (its rows are to be read again another way). */
  async forget(file: string): Promise<void> {
    await this.flush();
    await this.conn.run(`DELETE FROM temp.main.${this.local.ident(this.temp)} WHERE file = ${this.local.literal(file)}`);
  }

  async count(): Promise<number> {
    await this.flush();
    const [row] = (await this.conn.runAndReadAll(`SELECT count(*) FROM temp.main.${this.local.ident(this.temp)}`)).getRows();
    return Number(row?.[0] ?? 0);
  }

  /** Statements (for the import's own transaction) that append the quarantined rows. */
  writeStatements(now: Date = new Date()): string[] {
    const { ident: q, literal: lit } = this.local;
    return [
      `CREATE SCHEMA IF NOT EXISTS ${q(this.schema)}`,
      `CREATE TABLE IF NOT EXISTS ${q(this.schema)}.${q(QUARANTINE_TABLE)} (${quarantineDdl(this.local)})`,
      `INSERT INTO ${q(this.schema)}.${q(QUARANTINE_TABLE)} SELECT *, TIMESTAMP ${lit(now.toISOString().replace("T", " ").replace("Z", ""))} FROM temp.main.${q(this.temp)} ORDER BY file, line`,
    ];
  }

  /**
   * Fail when bad rows are more than the allowed share of `total` rows read (good + bad): the
   * quarantined rows are written (so they can be looked at) and nothing else is.
   */
  async enforce(total: number, file: string, write: (statements: string[]) => Promise<void>): Promise<number> {
    const bad = await this.count();
    if (bad === 0 || bad / Math.max(total, 1) <= this.maxShare) return bad;
    await write(this.writeStatements());
    const [ex] = (await this.conn.runAndReadAll(`SELECT file, line, field, reason FROM temp.main.${this.local.ident(this.temp)} ORDER BY file, line LIMIT 1`)).getRows();
    const example = ex ? `${ex[0]}:${ex[1]}${ex[2] ? ` field "${ex[2]}"` : ""}: ${ex[3]}` : undefined;
    throw new BadRowShareError(this.source, file, bad, total, this.maxShare, this.table, example);
  }

  async drop(): Promise<void> {
    await dropTemp(this.local, this.temp);
  }
}

/**
 * Suffixes of GA4 day tables stg_ga4_events skips: in its window (from vars.start_date) but not a calendar
 * day (`events_20240132`, `events_intraday_00000000`). Reads only the `_TABLE_SUFFIX` pseudo-column, which
 * BigQuery does not bill; no GA4 tables (or no wildcard view yet) → none.
 */
async function skippedGa4DayTables(engine: Engine, events: Target, startDate: string): Promise<string[]> {
  let rows;
  try {
    rows = await engine.query(`SELECT DISTINCT _TABLE_SUFFIX AS suffix FROM ${qualified(events)} ORDER BY suffix`);
  } catch {
    return [];
  }
  return rows
    .map((r) => String(r.suffix))
    .filter((suffix) => {
      const day = suffix.replace(/^intraday_/, "");
      // "auto" starts at a day found from valid names: every misnamed table is reported.
      return (startDate === "auto" || day >= startDate) && day <= "99999999" && !isCalendarDay(day);
    });
}

// ---------------------------------------------------------------------------------------------
// After a run: what the run summary and report say about bad input, and the threshold on it.


interface InputQuality {
  /** Lines for the run summary and report (counts of quarantined rows). */
  warnings: string[];
  /** Counts below vars.bad_row_warn_share: logged, not warned about. */
  notes: string[];
  /** Set when a bad-row share passes vars.bad_row_max_share: the run fails with this message. */
  failure?: string;
}

/**
 * Bad input seen by the warehouse: rows imports quarantined since the previous run, and custom events
 * staging set aside (custom_events_quarantine). The staged share is held to vars.bad_row_max_share
 * like an import's: importers check files, this checks what reached the warehouse by other means
 * (a BigQuery load, a transfer).
 */
export async function inputQuality(engine: Engine, database: string, settings: Settings, runId: string): Promise<InputQuality> {
  const meta = settings.datasets.meta;
  const t = (schema: string, name: string): Target => ({ database, schema, name });
  const out: InputQuality = { warnings: [], notes: [] };
  const imports = t(meta, QUARANTINE_TABLE);
  const history = t(meta, "run_history");
  if (await engine.tableExists(imports)) {
    const since = (await engine.tableExists(history))
      ? `WHERE quarantined_at > COALESCE((SELECT MAX(started_at) FROM ${qualified(history)} WHERE run_id <> ${sqlString(runId)}), TIMESTAMP '1970-01-01')`
      : "";
    const rows = await engine.query(`SELECT source, COUNT(*) AS n FROM ${qualified(imports)} ${since} GROUP BY source ORDER BY source`);
    const total = rows.reduce((a, r) => a + Number(r.n), 0);
    if (total > 0) {
      out.warnings.push(`${total.toLocaleString("en-US")} input row(s) quarantined by imports since the previous run (${rows.map((r) => `${r.source}: ${Number(r.n)}`).join(", ")}); see ${meta}.${QUARANTINE_TABLE}`);
    }
  }
  const skipped = await skippedGa4DayTables(engine, t(settings.datasets.ga4, "events_*"), settings.startDate);
  if (skipped.length > 0) {
    out.warnings.push(
      `${skipped.length} GA4 day table(s) skipped by staging, their name is not a calendar day: ${skipped.map((x) => `${settings.datasets.ga4}.events_${x}`).join(", ")}; ` +
        `drop or rename them (funnelcredit import ga4 refuses such event_date values)`,
    );
  }
  const staged = t(meta, "custom_events_quarantine");
  // Every source's rows (the custom_events table and vars.custom_event_sources) once staging has run; else the table.
  const checked = t(settings.datasets.staging, "stg_custom_events_checked");
  const raw = (await engine.tableExists(checked)) ? checked : t(settings.datasets.sources, "custom_events");
  const stagedCosts = t(meta, "costs_quarantine");
  if (await engine.tableExists(stagedCosts)) {
    const [row] = await engine.query(`SELECT COUNT(*) AS bad FROM ${qualified(stagedCosts)}`);
    const bad = Number(row?.bad ?? 0);
    if (bad > 0) out.warnings.push(`${bad.toLocaleString("en-US")} cost row(s) of the cost sources quarantined in staging; see ${meta}.costs_quarantine`);
  }
  if ((await engine.tableExists(staged)) && (await engine.tableExists(raw))) {
    const [row] = await engine.query(`SELECT (SELECT COUNT(*) FROM ${qualified(staged)}) AS bad, (SELECT COUNT(*) FROM ${qualified(raw)}) AS total`);
    const bad = Number(row?.bad ?? 0);
    const total = Number(row?.total ?? 0);
    if (bad > 0) {
      const line = `${bad.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} custom events quarantined in staging; see ${meta}.custom_events_quarantine`;
      if (bad / Math.max(total, 1) > settings.badRowWarnShare) out.warnings.push(line);
      else out.notes.push(`${line} (${pct(bad / Math.max(total, 1))}, not more than vars.bad_row_warn_share ${pct(settings.badRowWarnShare)})`);
      if (bad / Math.max(total, 1) > settings.badRowMaxShare) {
        out.failure = `${bad.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} custom events (${pct(bad / Math.max(total, 1))}) failed validation, more than vars.bad_row_max_share (${pct(settings.badRowMaxShare)}); ` +
          `the reasons are in ${meta}.custom_events_quarantine; fix the source, or raise vars.bad_row_max_share in workflow_settings.yaml if this share is expected`;
      }
    }
  }
  return out;
}
