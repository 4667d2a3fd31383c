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
  GA4_COLUMNS_DDL,
  GA4_EVENT_ROW_TYPE,
  GA4_JSON_STRUCTURE,
  ga4ColumnType,
  ga4CreateTableSql,
} from "./ga4-schema.ts";
