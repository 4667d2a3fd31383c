/**
 * Import DP6 Marketing-Attribution-Models journey fixtures (`user_pseudo_id, session_id, event_time, user_id,
 * is_conversion_purchase[, n_purchases], source_medium`, one row per session) as `custom_events`.
 *
 * Mapping (each row is one session):
 * - one event `name = 'session'`, `category = 'dp6'`, `time = event_time` (naive → UTC),
 *   `client_id = user_pseudo_id`, `user_id = user_id`, `utm_source = source_medium` (DP6's channel label:
 *   seo, direct, google_ads, crm), `utm_content = 'session_<session_id>'` (keeps the session id);
 * - plus, for a converting session, `n_purchases` (default 1) events `name = 'purchase'` with the same
 *   time, ids and utm fields and `transaction_id = 'dp6-<session_id>-<k>'` (k = 1…n); revenue stays NULL.
 * Session ids must be unique (over all files imported together); `is_conversion_purchase`/`n_purchases` must be integers.
 */
import { InputError } from "../util/errors.ts";
import { displayName, readCsv, snakeCase } from "./read.ts";
import { importRowsAsSource, SOURCE_SPECS, type RowsOverride, type SourceImportOptions, type SourceImportResult } from "./sources.ts";
import type { StagedRow } from "./load.ts";
import type { LocalLoading } from "../engines/engine.ts";

const REQUIRED = ["user_pseudo_id", "session_id", "event_time", "user_id", "is_conversion_purchase", "source_medium"];

export async function importDp6Journeys(
  local: LocalLoading,
  files: string | readonly string[],
  opts: SourceImportOptions = {},
): Promise<SourceImportResult> {
  const seen = new Set<string>();
  const sources: { file: string; rows: RowsOverride }[] = [];
  for (const file of typeof files === "string" ? [files] : files) sources.push({ file, rows: await dp6Rows(file, opts, seen) });
  return importRowsAsSource(local, "custom_events", sources, opts);
}

/** One DP6 file as custom_events rows (header checked now, rows read when staged). */
async function dp6Rows(file: string, opts: SourceImportOptions, seen: Set<string>): Promise<RowsOverride> {
  const name = displayName(file);
  const it = readCsv(file, { delimiter: opts.delimiter })[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new InputError(name, 1, undefined, "the file is empty (expected a header line)");
  const header = first.value.fields.map(snakeCase);
  const col = new Map(header.map((h, i) => [h, i]));
  for (const r of REQUIRED) {
    if (!col.has(r)) throw new InputError(name, 1, r, `the header has no column "${r}" (a DP6 journey file has ${REQUIRED.join(", ")}[, n_purchases])`);
  }
  const names = SOURCE_SPECS.custom_events.columns.map((c) => c.name);
  const at = (n: string): number => names.indexOf(n);

  async function* rows(): AsyncGenerator<StagedRow> {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      const { line, fields } = r.value;
      if (fields.length !== header.length) {
        throw new InputError(name, line, undefined, `expected ${header.length} fields like the header, got ${fields.length}`);
      }
      const get = (n: string): string | null => {
        const i = col.get(n);
        const v = i === undefined ? "" : fields[i]!;
        return v === "" ? null : v;
      };
      const session = get("session_id");
      if (session === null) throw new InputError(name, line, "session_id", "a value is required here");
      if (seen.has(session)) throw new InputError(name, line, "session_id", `duplicate session id ${JSON.stringify(session)}`);
      seen.add(session);
      const int = (n: string): number => {
        const v = get(n) ?? "0";
        if (!/^[0-9]+$/.test(v)) throw new InputError(name, line, n, `expected a non-negative integer, got ${JSON.stringify(v)}`);
        return Number(v);
      };
      const converted = int("is_conversion_purchase");
      const purchases = col.has("n_purchases") ? int("n_purchases") : converted;
      const base: (string | null)[] = new Array(names.length).fill(null);
      base[at("category")] = "dp6";
      base[at("time")] = get("event_time");
      base[at("user_id")] = get("user_id");
      base[at("client_id")] = get("user_pseudo_id");
      base[at("utm_source")] = get("source_medium");
      base[at("utm_content")] = `session_${session}`;
      const sessionRow = [...base];
      sessionRow[at("name")] = "session";
      yield { line, values: sessionRow };
      for (let k = 1; k <= (converted ? Math.max(purchases, 1) : 0); k++) {
        const p = [...base];
        p[at("name")] = "purchase";
        p[at("transaction_id")] = `dp6-${session}-${k}`;
        yield { line, values: p };
      }
    }
  }
  return { names, original: names, rows };
}
