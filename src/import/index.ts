/** Importers of local files into the embedded DuckDB warehouse. */
export { importGa4, type Ga4ImportOptions, type Ga4ImportResult } from "./ga4.ts";
export {
  importCsvOrNdjson,
  SOURCE_SPECS,
  sourceTableDdl,
  type SourceKind,
  type SourceImportOptions,
  type LeadsImportOptions,
  type SourceImportResult,
} from "./sources.ts";
export { importDp6Journeys } from "./dp6.ts";
export {
  GA4_EVENTS_SCHEMA,
  ga4LocalTypes,
  ga4CreateTableSql,
} from "./ga4-schema.ts";
