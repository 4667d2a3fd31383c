import type { Argv, CommandModule } from "yargs";
import { importGa4, importCsvOrNdjson, importDp6Journeys } from "../../import/index.ts";
import { IMPORT_KINDS } from "../../import/kinds.ts";
import { UserError } from "../../util/errors.ts";
import type { Engine, LocalLoading } from "../../engines/engine.ts";
import type { Settings } from "../../config/settings.ts";
import { engineOptions, type EngineArgs } from "../options.ts";
import { registerEnvironmentSecrets } from "../../safety/secrets.ts";
import { withSession } from "../session.ts";
import { importSourceFiles, sourceTableOf } from "../../import/source-file.ts";
import { countText } from "../../util/count-text.ts";
import { forgetDemoSample } from "../../demo/sample-mark.ts";

interface ImportArgs extends EngineArgs {
  kind: string;
  files: string[];
  append: boolean;
  intraday: boolean;
  "id-column"?: string;
  "label-column"?: string;
  "created-at-column"?: string;
  exclude?: string[];
  "synthesise-created-at"?: string;
  "bad-rows"?: "quarantine" | "reject";
  "ignore-unknown-columns": boolean;
  map?: string[];
  source?: string;
}

/** `--map a=b --map c=d` → `{ a: "b", c: "d" }`; a malformed entry names itself. */
export function parseColumnMap(entries: readonly string[] | undefined): Record<string, string> | undefined {
  if (!entries?.length) return undefined;
  const map: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf("=");
    const from = e.slice(0, eq).trim();
    const to = e.slice(eq + 1).trim();
    if (eq < 0 || !from || !to) throw new UserError(`--map ${JSON.stringify(e)}: expected FILE_COLUMN=TABLE_COLUMN, e.g. --map revenue=transaction_revenue`);
    if (from in map) throw new UserError(`--map: the file column "${from}" is mapped twice`);
    map[from] = to;
  }
  return map;
}


function localLoading(engine: Engine): LocalLoading {
  if (!engine.localLoading) throw new UserError("import loads local files into the embedded engine: use --engine duckdb (BigQuery loads with bq load or a transfer)");
  return engine.localLoading;
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: "import <kind> <files..>",
  describe: "load local exports into the embedded warehouse: ga4 (NDJSON export), transactions, custom-events, costs, paths (ChannelAttribution CSV), leads, dp6",
  builder: (y: Argv) =>
    engineOptions(y)
      .positional("kind", { type: "string", choices: Object.keys(IMPORT_KINDS), demandOption: true })
      .positional("files", { type: "string", array: true, demandOption: true })
      .option("append", { type: "boolean", default: false, describe: "add rows instead of replacing the table (ga4: the day tables)" })
      .option("intraday", { type: "boolean", default: false, describe: "ga4: write events_intraday_YYYYMMDD tables" })
      .option("id-column", { type: "string", describe: "leads: the lead id column" })
      .option("label-column", { type: "string", describe: "leads: the 0/1 converted column" })
      .option("created-at-column", { type: "string", describe: "leads: the creation time column" })
      .option("exclude", { type: "string", array: true, describe: "leads: columns to leave out (e.g. ones that leak the outcome)" })
      .option("synthesise-created-at", { type: "string", describe: "leads without dates: ORDER_COLUMN,START,END spreads created_at evenly (synthetic)" })
      .option("ignore-unknown-columns", { type: "boolean", default: false, describe: "drop file columns the table does not have instead of failing (not ga4)" })
      .option("source", { type: "string", describe: "custom-events, costs: load the file as it is (all text) into the table of this configured source (vars.custom_event_sources / vars.cost_sources); its column mapping reads it" })
      .option("map", { type: "string", array: true, describe: "FILE_COLUMN=TABLE_COLUMN: load a file column as a table column, e.g. --map revenue=transaction_revenue (repeatable; not ga4)" })
      .option("bad-rows", {
        type: "string", choices: ["quarantine", "reject"],
        describe: "quarantine (default: vars.import_bad_rows): set bad rows aside in <base>_meta.import_quarantine and fail only past vars.bad_row_max_share; reject: the first bad row fails the import",
      }) as never,
  handler: async (args) => {
    registerEnvironmentSecrets();
    await withSession(args, (s) => importFiles(s.engine, s.project.settings, args, (m) => s.logger.info(m)), { compile: false });
  },
};

/** What one import loads: the `import` command's arguments (and `run --import KIND=FILE`'s, with the defaults). */
export type ImportRequest = Omit<ImportArgs, keyof EngineArgs>;

/**
 * Loads `req.files` into the embedded warehouse as `funnelcredit import` does, and says what it loaded through
 * `say`. `run --import` calls it before compiling, in the run's own session.
 */
export async function importFiles(engine: Engine, settings: Settings, req: ImportRequest, say: (m: string) => void): Promise<void> {
  const local = localLoading(engine);
  await importInto(local, settings, req, say);
  // The warehouse now holds the user's data: the demo must not write over it. After the import, so that a failed
  // import leaves the warehouse as it was.
  await forgetDemoSample(local, settings.datasets.meta);
}

async function importInto(local: LocalLoading, settings: Settings, req: ImportRequest, say: (m: string) => void): Promise<void> {
  const mode = req.append ? "append" : "replace";
  const kind = IMPORT_KINDS[req.kind];
  if (!kind) throw new UserError(`import: unknown kind "${req.kind}"; one of ${Object.keys(IMPORT_KINDS).join(", ")}`);
  const ds = settings.datasets;
  const bad = { badRows: req["bad-rows"] ?? settings.importBadRows, badRowMaxShare: settings.badRowMaxShare, quarantineSchema: ds.meta };
  const columnMap = parseColumnMap(req.map);
  const columns = { ignoreUnknownColumns: req["ignore-unknown-columns"], columnMap };
  const aside = (n: number): string => (n > 0 ? `; ${countText(n)} bad row(s) set aside in ${ds.meta}.import_quarantine` : "");
  if (req.source !== undefined) {
    if (kind !== "custom_events" && kind !== "costs") throw new UserError("--source is for custom-events and costs");
    const setting = kind === "custom_events" ? "custom_event_sources" : "cost_sources";
    const sources = kind === "custom_events" ? settings.customEventSources : settings.costSources;
    const target = sourceTableOf(sources, req.source, setting);
    const n = await importSourceFiles(local, req.files, target, mode);
    say(`imported ${countText(n)} rows into ${target.schema}.${target.name} (source ${req.source}, every column as text; staging validates them)`);
    return;
  }
  if (kind === "ga4") {
    if (columnMap || req["ignore-unknown-columns"]) throw new UserError("import ga4: --map and --ignore-unknown-columns are for CSV/NDJSON sources (GA4 export columns are fixed; unknown keys are reported as ignored)");
    const r = await importGa4(local, req.files, { schema: ds.ga4, mode, intraday: req.intraday, ...bad });
    say(`imported ${countText(r.rows)} GA4 events of ${r.tables.length} day(s) into ${ds.ga4}.ga4_events (each day readable as ${ds.ga4}.${req.intraday ? "events_intraday_" : "events_"}YYYYMMDD)` + (r.ignoredFields.length ? ` (ignored fields: ${r.ignoredFields.join(", ")})` : "") + aside(r.quarantined));
    return;
  }
  // Several files load in one transaction (the first replaces the table, the others add to it).
  const perFile = (r: { files: { file: string; rows: number }[] }): string => (r.files.length > 1 ? ` from ${r.files.map((f) => `${f.file} (${countText(f.rows)})`).join(", ")}` : "");
  if (kind === "dp6") {
    if (columnMap) throw new UserError("import dp6: --map is not available (the DP6 layout is fixed)");
    const r = await importDp6Journeys(local, req.files, { schema: ds.sources, mode, ...bad });
    say(`imported ${r.rows} DP6 journey rows as custom events into ${r.table}` + perFile(r) + aside(r.quarantined));
  } else if (kind === "leads") {
    if (!req["id-column"] || !req["label-column"]) throw new UserError("import leads needs --id-column and --label-column");
    let synth: { orderColumn: string; start: string; end: string } | undefined;
    if (req["synthesise-created-at"]) {
      const [orderColumn, start, end] = req["synthesise-created-at"].split(",");
      if (!orderColumn || !start || !end) throw new UserError("--synthesise-created-at expects ORDER_COLUMN,START,END");
      synth = { orderColumn, start, end };
    }
    const r = await importCsvOrNdjson(local, "leads", req.files, {
      schema: ds.sources, mode, idColumn: req["id-column"], labelColumn: req["label-column"],
      createdAtColumn: req["created-at-column"], exclude: req.exclude, synthesiseCreatedAt: synth, columnMap, ...bad,
    });
    say(`imported ${r.rows} leads into ${r.table} (${r.columns.length} columns)` + perFile(r) + aside(r.quarantined));
  } else {
    const r = await importCsvOrNdjson(local, kind, req.files, { schema: ds.sources, mode, ...columns, ...bad });
    say(`imported ${countText(r.rows)} rows into ${r.table}` + perFile(r) + aside(r.quarantined));
  }
}
