import type { Argv, CommandModule } from "yargs";
import { importGa4, importCsvOrNdjson, importDp6Journeys, type SourceKind } from "../../import/index.ts";
import { UserError } from "../../util/errors.ts";
import type { LocalLoading } from "../../engines/engine.ts";
import { engineOptions, type EngineArgs } from "../options.ts";
import { registerEnvironmentSecrets } from "../../safety/secrets.ts";
import { withSession, type Session } from "../session.ts";

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
}

const KINDS: Record<string, SourceKind | "ga4" | "dp6"> = {
  ga4: "ga4", transactions: "transactions", "custom-events": "custom_events", costs: "costs", paths: "paths", leads: "leads", dp6: "dp6",
};

function localLoading(s: Session): LocalLoading {
  if (!s.engine.localLoading) throw new UserError("import loads local files into the embedded engine: use --engine duckdb (BigQuery loads with bq load or a transfer)");
  return s.engine.localLoading;
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: "import <kind> <files..>",
  describe: "load local exports into the embedded warehouse: ga4 (NDJSON export), transactions, custom-events, costs, paths (ChannelAttribution CSV), leads, dp6",
  builder: (y: Argv) =>
    engineOptions(y)
      .positional("kind", { type: "string", choices: Object.keys(KINDS), demandOption: true })
      .positional("files", { type: "string", array: true, demandOption: true })
      .option("append", { type: "boolean", default: false, describe: "add rows instead of replacing the table (ga4: the day tables)" })
      .option("intraday", { type: "boolean", default: false, describe: "ga4: write events_intraday_YYYYMMDD tables" })
      .option("id-column", { type: "string", describe: "leads: the lead id column" })
      .option("label-column", { type: "string", describe: "leads: the 0/1 converted column" })
      .option("created-at-column", { type: "string", describe: "leads: the creation time column" })
      .option("exclude", { type: "string", array: true, describe: "leads: columns to leave out (e.g. ones that leak the outcome)" })
      .option("synthesise-created-at", { type: "string", describe: "leads without dates: ORDER_COLUMN,START,END spreads created_at evenly (synthetic)" })
      .option("bad-rows", {
        type: "string", choices: ["quarantine", "reject"],
        describe: "quarantine (default: vars.import_bad_rows): set bad rows aside in <base>_meta.import_quarantine and fail only past vars.bad_row_max_share; reject: the first bad row fails the import",
      }) as never,
  handler: async (args) => {
    registerEnvironmentSecrets();
    await withSession(args, async (s) => {
      const conn = localLoading(s).connection;
      const mode = args.append ? "append" : "replace";
      const kind = KINDS[args.kind]!;
      const ds = s.project.settings.datasets;
      const say = (m: string): void => s.logger.info(m);
      const bad = { badRows: args["bad-rows"] ?? s.project.settings.importBadRows, badRowMaxShare: s.project.settings.badRowMaxShare, quarantineSchema: ds.meta };
      const aside = (n: number): string => (n > 0 ? `; ${n.toLocaleString("en-US")} bad row(s) set aside in ${ds.meta}.import_quarantine` : "");
      if (kind === "ga4") {
        const r = await importGa4(conn, args.files, { schema: ds.ga4, mode, intraday: args.intraday, ...bad });
        say(`imported ${r.rows.toLocaleString("en-US")} GA4 events into ${r.tables.length} day tables of ${ds.ga4}` + (r.ignoredFields.length ? ` (ignored fields: ${r.ignoredFields.join(", ")})` : "") + aside(r.quarantined));
        return;
      }
      for (const file of args.files) {
        if (kind === "dp6") {
          const r = await importDp6Journeys(conn, file, { schema: ds.sources, mode, ...bad });
          say(`imported ${r.rows} DP6 journey rows as custom events into ${r.table}`);
        } else if (kind === "leads") {
          if (!args["id-column"] || !args["label-column"]) throw new UserError("import leads needs --id-column and --label-column");
          let synth: { orderColumn: string; start: string; end: string } | undefined;
          if (args["synthesise-created-at"]) {
            const [orderColumn, start, end] = args["synthesise-created-at"].split(",");
            if (!orderColumn || !start || !end) throw new UserError("--synthesise-created-at expects ORDER_COLUMN,START,END");
            synth = { orderColumn, start, end };
          }
          const r = await importCsvOrNdjson(conn, "leads", file, {
            schema: ds.sources, mode, idColumn: args["id-column"], labelColumn: args["label-column"],
            createdAtColumn: args["created-at-column"], exclude: args.exclude, synthesiseCreatedAt: synth, ...bad,
          });
          say(`imported ${r.rows} leads into ${r.table} (${r.columns.length} columns)` + aside(r.quarantined));
        } else {
          const r = await importCsvOrNdjson(conn, kind, file, { schema: ds.sources, mode, ...bad });
          say(`imported ${r.rows.toLocaleString("en-US")} rows into ${r.table}` + aside(r.quarantined));
        }
      }
    }, { compile: false });
  },
};
