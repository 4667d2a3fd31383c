/**
 * A local BigQuery REST endpoint for tests: the real `@google-cloud/bigquery` client talks to it
 * over loopback HTTP. It keeps datasets, tables and jobs in memory, answers queries through a
 * pluggable handler, injects faults per route and logs every request so tests can assert what
 * went over the wire.
 *
 * Wire shapes follow the BigQuery v2 REST reference (jobs.insert/get/query/getQueryResults/list,
 * datasets.get/insert, tables.get/delete, tabledata.insertAll, media upload for load jobs) and
 * what `@google-cloud/bigquery` 8.3 sends (see shared/notes/engine-feasibility.md §4).
 *
 *   const fake = await startFakeBigQuery({ projectId: "p", location: "EU" });
 *   const engine = createBigQueryEngine({ projectId: "p", location: "EU", apiEndpoint: fake.url },
 *                                       { authClient: fake.authClient() });
 *   fake.failNext("jobs.insert", { status: 503 });
 *   …
 *   await fake.close();
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { OAuth2Client } from "google-auth-library";
import type { ColumnSchema, Row } from "../../src/engines/engine.ts";

// ---------------------------------------------------------------------------------------------
// Types

/** Schema field as the REST API carries it (standard or legacy type names). */
export interface FakeField {
  name: string;
  type: string;
  mode?: string;
  fields?: FakeField[];
  description?: string;
}

/** What a query handler answers for one statement. */
export interface FakeQueryResult {
  schema?: Array<FakeField | ColumnSchema>;
  /** Plain JS values (numbers, strings, Date for TIMESTAMP, "YYYY-MM-DD" or Date for DATE, objects, arrays). */
  rows?: Row[];
  numDmlAffectedRows?: number;
  totalBytesProcessed?: number;
  /** The statement fails with this job error (e.g. {reason: "invalidQuery", message: "…"}). */
  error?: { reason: string; message: string };
}

export interface QueryContext {
  fake: FakeBigQuery;
  dryRun: boolean;
  /** The job's project (billing project). */
  projectId: string;
  location?: string;
}

/** Answers one statement. Scripts are split by the fake and handed over one statement at a time. */
export type QueryHandler = (sql: string, ctx: QueryContext) => FakeQueryResult | Promise<FakeQueryResult>;

export type Route =
  | "datasets.list"
  | "datasets.get"
  | "datasets.insert"
  | "datasets.delete"
  | "tables.get"
  | "tables.list"
  | "tables.delete"
  | "tables.patch"
  | "tabledata.insertAll"
  | "jobs.insert"
  | "jobs.get"
  | "jobs.list"
  | "jobs.cancel"
  | "jobs.query"
  | "jobs.getQueryResults";

/** An HTTP-level fault for the next request(s) on a route. */
export interface Fault {
  /** HTTP status to answer (default 503 unless `reset`). */
  status?: number;
  /** `errors[0].reason`, e.g. rateLimitExceeded, backendError, invalidQuery, notFound. */
  reason?: string;
  message?: string;
  /**
   * Process the request normally (the job is created, the table is written) and only then
   * answer with the error: a response lost on the way back.
   */
  applied?: boolean;
  /** Close the connection without any answer. */
  reset?: boolean;
}

/** A fault for the next job inserted (query or load; dry runs excluded). */
export interface JobFault {
  /** The job answers RUNNING to this many status reads (jobs.get / getQueryResults) before DONE. */
  runningPolls?: number;
  /** The job finishes DONE with this error result and no effect. */
  errorResult?: { reason: string; message: string };
}

export interface LoggedRequest {
  route: Route | "unknown";
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (for an upload: the job resource part). */
  body: unknown;
  /** Media part of a multipart upload, as text. */
  media?: string;
  /** Value of the Authorization header, to check that the client authenticated. */
  authorization?: string;
}

export interface FakeTable {
  projectId: string;
  datasetId: string;
  tableId: string;
  schema: FakeField[];
  rows: Row[];
  description?: string;
}

export interface FakeJob {
  projectId: string;
  jobId: string;
  location?: string;
  configuration: Record<string, unknown>;
  state: "PENDING" | "RUNNING" | "DONE";
  /** Status reads left before the job turns DONE. */
  runningPolls: number;
  errorResult?: { reason: string; message: string };
  /** Results of the last statement (what getQueryResults pages through). */
  result?: { schema: FakeField[]; rows: Row[] };
  statistics: Record<string, unknown>;
  parentJobId?: string;
  /** Effects run when the job turns DONE (runs immediately for jobs that are not held). */
  pending?: () => Promise<void>;
}

/**
 * Where tables live and how queries run, when a test wants real execution (test/support/strict-bigquery.ts:
 * an in-memory DuckDB). Without a backend the fake keeps rows in memory and answers through the handler.
 * The REST surface (routes, validation, faults, job ids, polling, paging) stays the fake's either way.
 */
export interface FakeBackend {
  /** Run a query job's SQL (one statement or a script). Child entries become the script's child jobs. */
  runQuery(sql: string, ctx: QueryContext & { jobId: string }): Promise<BackendQueryResult>;
  /** Validate without any effect; bytes the query would scan. */
  dryRun(sql: string, ctx: QueryContext): Promise<{ bytes: number; statementType?: string } | { error: { reason: string; message: string } }>;
  /** A load job's rows (parsed NDJSON) into its destination. */
  load(load: BackendLoad, ctx: QueryContext & { jobId: string }): Promise<{ outputRows: number } | { error: { reason: string; message: string } }>;
  getTable(projectId: string, datasetId: string, tableId: string): Promise<BackendTable | undefined>;
  /** The names of the dataset's tables and views (tables.list). */
  listTables(projectId: string, datasetId: string): Promise<string[]>;
  /** A table's description (tables.patch); false when the table does not exist. */
  describeTable(projectId: string, datasetId: string, tableId: string, description: string | undefined): Promise<boolean>;
  deleteTable(projectId: string, datasetId: string, tableId: string): Promise<boolean>;
  deleteDataset(projectId: string, datasetId: string): Promise<void>;
}

export interface BackendQueryResult {
  error?: { reason: string; message: string };
  result?: { schema: FakeField[]; rows: Row[] };
  bytes: number;
  numDmlAffectedRows?: number;
  statementType?: string;
  /** One per statement of a script (empty for a single statement). */
  children: Array<{ sql: string; bytes: number; numDmlAffectedRows?: number; statementType?: string }>;
}

export interface BackendLoad {
  projectId: string;
  datasetId: string;
  tableId: string;
  schema?: FakeField[];
  rows: Row[];
  writeDisposition?: string;
  createDisposition?: string;
  schemaUpdateOptions?: string[];
  description?: string;
}

export interface BackendTable {
  schema: FakeField[];
  numRows: number;
  type: "TABLE" | "VIEW";
  description?: string;
  timePartitioning?: { type: string; field?: string };
  /** Milliseconds since the epoch of the last change (the resource's output-only lastModifiedTime). */
  lastModifiedMs: number;
}

export interface FakeBigQueryOptions {
  projectId?: string;
  location?: string;
  handler?: QueryHandler;
  backend?: FakeBackend;
  /** The token the test client presents; never expected in logs. */
  accessToken?: string;
}

export interface FakeBigQuery {
  /** http://127.0.0.1:<port> — pass as `apiEndpoint`. */
  readonly url: string;
  readonly projectId: string;
  readonly location: string;
  readonly accessToken: string;
  readonly requests: LoggedRequest[];
  readonly datasets: Map<string, { location: string }>;
  readonly tables: Map<string, FakeTable>;
  readonly jobs: Map<string, FakeJob>;
  /** An OAuth2 client holding `accessToken`, so the real client needs no credentials. */
  authClient(): OAuth2Client;
  /** Queue `fault` for the next `times` requests on `route`. */
  failNext(route: Route, fault: Fault, times?: number): void;
  /** Queue a fault for the next inserted job. */
  nextJob(fault: JobFault): void;
  setHandler(handler: QueryHandler): void;
  /** Canned answer for statements equal to `match` (whitespace-normalised) or matching it. */
  setResult(match: string | RegExp, result: FakeQueryResult): void;
  addDataset(datasetId: string, location?: string, projectId?: string): void;
  /** `ref` = "project.dataset.table" or "dataset.table" (fake's project). Creates the dataset too. */
  addTable(ref: string, schema: Array<FakeField | ColumnSchema>, rows?: Row[]): FakeTable;
  table(ref: string): FakeTable | undefined;
  requestsTo(route: Route): LoggedRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Wire encoding of values (what BigQuery sends in `rows[].f[].v`)

function normField(f: FakeField | ColumnSchema): FakeField {
  const out: FakeField = { name: f.name, type: f.type, mode: f.mode ?? "NULLABLE" };
  if (f.fields) out.fields = f.fields.map(normField);
  if (f.description) out.description = f.description;
  return out;
}

function toDate(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === "number") return new Date(v);
  return new Date(String(v));
}

function encodeScalar(field: FakeField, v: unknown, int64Timestamps: boolean): unknown {
  if (v === null || v === undefined) return null;
  const type = field.type.toUpperCase();
  switch (type) {
    case "RECORD":
    case "STRUCT":
      return encodeRow(field.fields ?? [], v as Row, int64Timestamps);
    case "BOOL":
    case "BOOLEAN":
      return v ? "true" : "false";
    case "TIMESTAMP": {
      const ms = toDate(v).getTime();
      return int64Timestamps ? (BigInt(ms) * 1000n).toString() : String(ms / 1000);
    }
    case "DATE":
      return v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
    case "JSON":
      return typeof v === "string" ? v : JSON.stringify(v);
    default:
      return String(v);
  }
}

function encodeCell(field: FakeField, v: unknown, int64Timestamps: boolean): unknown {
  if (field.mode === "REPEATED") {
    return (Array.isArray(v) ? v : []).map((x) => ({ v: encodeScalar(field, x, int64Timestamps) }));
  }
  return encodeScalar(field, v, int64Timestamps);
}

function encodeRow(fields: FakeField[], row: Row, int64Timestamps: boolean): { f: Array<{ v: unknown }> } {
  return { f: fields.map((f) => ({ v: encodeCell(f, row?.[f.name], int64Timestamps) })) };
}

/** Infer a schema from plain rows when a handler gives none (first non-null value decides). */
function inferSchema(rows: Row[]): FakeField[] {
  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  return names.map((name) => {
    const sample = rows.map((r) => r[name]).find((v) => v !== null && v !== undefined);
    let type = "STRING";
    if (typeof sample === "number") type = Number.isInteger(sample) ? "INT64" : "FLOAT64";
    else if (typeof sample === "bigint") type = "INT64";
    else if (typeof sample === "boolean") type = "BOOL";
    else if (sample instanceof Date) type = "TIMESTAMP";
    return { name, type, mode: "NULLABLE" };
  });
}

// ---------------------------------------------------------------------------------------------
// Script splitting and the default handler

/**
 * Split a script on top-level `;` (outside quotes, backticks and comments). `keepEmpty` keeps the
 * empty statements between two semicolons (`…);;`), which BigQuery rejects, as "".
 */
export function splitStatements(script: string, opts: { keepEmpty?: boolean } = {}): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < script.length && script[j] !== c) j += script[j] === "\\" ? 2 : 1;
      cur += script.slice(i, j + 1);
      i = j;
    } else if (c === "-" && script[i + 1] === "-") {
      const j = script.indexOf("\n", i);
      i = j < 0 ? script.length : j - 1;
    } else if (c === "/" && script[i + 1] === "*") {
      const j = script.indexOf("*/", i + 2);
      i = j < 0 ? script.length : j + 1;
    } else if (c === ";") {
      if (cur.trim() || opts.keepEmpty) out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const normSql = (s: string): string => s.replace(/\s+/g, " ").trim().replace(/;$/, "");

function tableBytes(t: FakeTable): number {
  return t.rows.reduce((n, r) => n + JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v)).length, 0);
}

// ---------------------------------------------------------------------------------------------
// Request validation: BigQuery answers 400 to query parameters and body fields it does not
// know, so the fake does too (it caught a client flag leaking into the query string).

const COMMON_PARAMS = ["prettyPrint", "alt", "fields", "quotaUser", "key"];
const ROUTE_PARAMS: Partial<Record<Route, string[]>> = {
  "jobs.insert": ["uploadType"],
  "jobs.get": ["location"],
  "jobs.cancel": ["location"],
  "jobs.getQueryResults": [
    "location",
    "maxResults",
    "pageToken",
    "startIndex",
    "timeoutMs",
    "formatOptions.useInt64Timestamp",
    "formatOptions.timestampOutputFormat",
  ],
  "jobs.list": ["allUsers", "maxResults", "pageToken", "projection", "stateFilter", "parentJobId", "minCreationTime", "maxCreationTime"],
  "tables.get": ["selectedFields", "view"],
  "tables.list": ["maxResults", "pageToken"],
  "datasets.get": ["datasetView", "accessPolicyVersion"],
  "datasets.list": ["all", "filter", "maxResults", "pageToken"],
  "datasets.delete": ["deleteContents"],
};

const JOB_FIELDS: Record<string, string[]> = {
  configuration: ["query", "load", "copy", "extract", "dryRun", "labels", "jobTimeoutMs", "jobType", "reservation", "maxSlots"],
  "configuration.query": [
    "query", "useLegacySql", "maximumBytesBilled", "destinationTable", "writeDisposition", "createDisposition", "priority",
    "useQueryCache", "defaultDataset", "queryParameters", "parameterMode", "connectionProperties", "createSession",
    "timePartitioning", "rangePartitioning", "clustering", "schemaUpdateOptions", "maximumBillingTier", "flattenResults",
    "allowLargeResults", "scriptOptions", "continuous", "destinationEncryptionConfiguration", "tableDefinitions",
    "userDefinedFunctionResources", "systemVariables", "preserveNulls", "writeIncrementalResults",
    // Not in the JobConfigurationQuery reference, but the official Node client's createQueryJob leaves a caller's
    // maxResults, and an empty reservation, in it, and the Dataform CLI (3.0) passes both with every statement it
    // runs on BigQuery; the service takes them (every `dataform run` sends them), so the fake does too.
    "maxResults", "reservation",
  ],
  "configuration.load": [
    "destinationTable", "sourceFormat", "schema", "writeDisposition", "createDisposition", "sourceUris",
    "destinationTableProperties", "ignoreUnknownValues", "maxBadRecords", "autodetect", "schemaUpdateOptions",
    "timePartitioning", "rangePartitioning", "clustering", "skipLeadingRows", "fieldDelimiter", "encoding", "quote",
    "allowJaggedRows", "allowQuotedNewlines", "nullMarker", "jsonExtension", "parquetOptions", "useAvroLogicalTypes",
    "decimalTargetTypes", "hivePartitioningOptions", "referenceFileSchemaUri", "columnNameCharacterMap",
    "fileSetSpecType", "createSession", "connectionProperties", "preserveAsciiControlCharacters", "projectionFields",
    "destinationEncryptionConfiguration", "nullMarkers", "sourceColumnMatch", "timeZone", "dateFormat",
    "datetimeFormat", "timeFormat", "timestampFormat",
  ],
};

function unknownField(path: string, name: string): HttpError {
  return new HttpError({
    status: 400,
    reason: "invalid",
    message: `Invalid JSON payload received. Unknown name "${name}" at '${path}': Cannot find field.`,
  });
}

/** Label keys and values as https://cloud.google.com/bigquery/docs/labels-intro#requirements allows. */
function validateLabels(labels: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k) || typeof v !== "string" || !/^[a-z0-9_-]{0,63}$/.test(v)) {
      throw new HttpError({ status: 400, reason: "invalid", message: `Invalid label: ${JSON.stringify(k)}: ${JSON.stringify(v)}` });
    }
  }
}

/** Reject what BigQuery would reject in a job resource: unknown fields, bad labels. */
function validateJob(resource: Record<string, unknown>): void {
  for (const k of Object.keys(resource)) {
    if (!["jobReference", "configuration", "kind", "id", "etag", "status", "statistics"].includes(k)) throw unknownField("job", k);
  }
  const config = (resource.configuration ?? {}) as Record<string, unknown>;
  for (const [path, allowed] of Object.entries(JOB_FIELDS)) {
    const obj = path === "configuration" ? config : (config[path.split(".")[1]!] as Record<string, unknown> | undefined);
    if (!obj || typeof obj !== "object") continue;
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw unknownField(`job.${path}`, k);
  }
  validateLabels((config.labels ?? {}) as Record<string, unknown>);

  const mbb = (config.query as { maximumBytesBilled?: unknown } | undefined)?.maximumBytesBilled;
  if (mbb !== undefined && !(typeof mbb === "string" && /^\d+$/.test(mbb))) {
    throw new HttpError({ status: 400, reason: "invalid", message: `Invalid value for maximumBytesBilled: ${JSON.stringify(mbb)}` });
  }
}

// ---------------------------------------------------------------------------------------------
// The server

interface ApiErrorBody {
  status: number;
  reason: string;
  message: string;
}

class HttpError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
  }
}
const notFound = (what: string): HttpError => new HttpError({ status: 404, reason: "notFound", message: `Not found: ${what}` });

const STATUS_TEXT: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "BAD_GATEWAY",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

export async function startFakeBigQuery(opts: FakeBigQueryOptions = {}): Promise<FakeBigQuery> {
  const projectId = opts.projectId ?? "test-project";
  const location = opts.location ?? "EU";
  const accessToken = opts.accessToken ?? `ya29.fake-${randomUUID()}`;
  const requests: LoggedRequest[] = [];
  const datasets = new Map<string, { location: string }>();
  const tables = new Map<string, FakeTable>();
  const jobs = new Map<string, FakeJob>();
  const faults = new Map<Route, Fault[]>();
  const jobFaults: JobFault[] = [];
  const canned: Array<{ match: string | RegExp; result: FakeQueryResult }> = [];
  const requestIds = new Map<string, string>();
  let handler: QueryHandler = defaultHandler;
  const backend = opts.backend;

  const dsKey = (p: string, d: string): string => `${p}.${d}`;
  const tKey = (p: string, d: string, t: string): string => `${p}.${d}.${t}`;
  const jKey = (p: string, j: string): string => `${p}:${j}`;

  function parseRef(ref: string): [string, string, string] {
    const parts = ref.replace(/`/g, "").split(".");
    if (parts.length === 2) return [projectId, parts[0]!, parts[1]!];
    if (parts.length === 3) return [parts[0]!, parts[1]!, parts[2]!];
    throw new Error(`fake-bigquery: bad table reference ${ref}`);
  }

  function defaultHandler(sql: string, ctx: QueryContext): FakeQueryResult {
    const n = normSql(sql);
    for (const c of canned) {
      if (typeof c.match === "string" ? normSql(c.match) === n : c.match.test(sql)) return c.result;
    }
    const select = /^SELECT \* FROM `([^`]+)`$/i.exec(n);
    if (select) {
      const t = fake.table(select[1]!);
      if (!t) return { error: { reason: "notFound", message: `Not found: Table ${select[1]}` } };
      return { schema: t.schema, rows: t.rows, totalBytesProcessed: tableBytes(t) };
    }
    if (/^(BEGIN|COMMIT|ROLLBACK)\b/i.test(n)) return {};
    if (/^(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b/i.test(n)) return { numDmlAffectedRows: 0 };
    if (/^(CREATE|DROP|ALTER|DECLARE|SET|ASSERT)\b/i.test(n)) return {};
    void ctx;
    return {
      error: {
        reason: "invalidQuery",
        message: `fake-bigquery has no answer for: ${n.slice(0, 200)} (use fake.setResult or a handler)`,
      },
    };
  }

  /** Bytes a statement would scan: explicit, else the size of every fake table it names. */
  function bytesOf(sql: string, r: FakeQueryResult): number {
    if (r.totalBytesProcessed !== undefined) return r.totalBytesProcessed;
    let n = 0;
    for (const m of sql.matchAll(/`([^`]+)`/g)) {
      if (!m[1]!.includes(".")) continue; // a column name, not a table
      const t = fake.table(m[1]!);
      if (t) n += tableBytes(t);
    }
    return n;
  }

  function jobResource(j: FakeJob): Record<string, unknown> {
    const status: Record<string, unknown> = { state: j.state };
    if (j.state === "DONE" && j.errorResult) {
      status.errorResult = { ...j.errorResult, location: "query" };
      status.errors = [{ ...j.errorResult }];
    }
    return {
      kind: "bigquery#job",
      etag: `"${j.jobId}"`,
      id: `${j.projectId}:${j.location ?? location}.${j.jobId}`,
      selfLink: `${fake.url}/bigquery/v2/projects/${j.projectId}/jobs/${j.jobId}?location=${j.location ?? location}`,
      user_email: "runner@test-project.iam.gserviceaccount.com",
      jobReference: { projectId: j.projectId, jobId: j.jobId, location: j.location ?? location },
      configuration: j.configuration,
      status,
      statistics: j.state === "DONE" ? j.statistics : { creationTime: j.statistics.creationTime, startTime: j.statistics.startTime },
    };
  }

  /** One status read of a held job: count down, then finish it. */
  async function observe(j: FakeJob): Promise<void> {
    if (j.state === "DONE") return;
    if (j.runningPolls > 0) {
      j.runningPolls--;
      j.state = "RUNNING";
      return;
    }
    await finish(j);
  }

  async function finish(j: FakeJob): Promise<void> {
    if (!j.errorResult && j.pending) {
      try {
        await j.pending();
      } catch (e) {
        j.errorResult = { reason: "internalError", message: `fake-bigquery: ${(e as Error).message}` };
      }
    }
    j.pending = undefined;
    j.state = "DONE";
    j.statistics.endTime = String(Date.now());
  }

  function newJob(p: string, jobId: string, loc: string | undefined, configuration: Record<string, unknown>): FakeJob {
    const now = String(Date.now());
    const j: FakeJob = {
      projectId: p,
      jobId,
      location: loc ?? location,
      configuration,
      state: "PENDING",
      runningPolls: 0,
      statistics: { creationTime: now, startTime: now },
    };
    const f = jobFaults.shift();
    if (f?.runningPolls) j.runningPolls = f.runningPolls;
    if (f?.errorResult) j.errorResult = f.errorResult;
    return j;
  }

  /** Run a query job's statements through the handler; scripts get child jobs like BigQuery's. */
  function planQuery(j: FakeJob, sql: string): void {
    if (backend) {
      const be = backend;
      j.pending = async () => {
        const ctx = { fake, dryRun: false, projectId: j.projectId, location: j.location, jobId: j.jobId };
        const r = await be.runQuery(sql, ctx);
        r.children.forEach((c, i) => {
          const child: FakeJob = {
            projectId: j.projectId,
            jobId: `script_job_${j.jobId}_${i}`,
            location: j.location,
            configuration: { query: { query: c.sql, useLegacySql: false } },
            state: "DONE",
            runningPolls: 0,
            parentJobId: j.jobId,
            statistics: {
              totalBytesProcessed: String(c.bytes),
              parentJobId: j.jobId,
              query: {
                totalBytesProcessed: String(c.bytes),
                ...(c.statementType ? { statementType: c.statementType } : {}),
                ...(c.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: String(c.numDmlAffectedRows) } : {}),
              },
            },
          };
          jobs.set(jKey(child.projectId, child.jobId), child);
        });
        if (r.error) {
          j.errorResult = r.error;
          return;
        }
        j.result = r.result ?? { schema: [], rows: [] };
        const query: Record<string, unknown> = { totalBytesProcessed: String(r.bytes), totalBytesBilled: String(r.bytes) };
        if (r.children.length) {
          j.statistics.numChildJobs = String(r.children.length);
          query.statementType = "SCRIPT";
        } else {
          if (r.statementType) query.statementType = r.statementType;
          if (r.numDmlAffectedRows !== undefined) query.numDmlAffectedRows = String(r.numDmlAffectedRows);
        }
        Object.assign(j.statistics, { totalBytesProcessed: String(r.bytes), query });
      };
      return;
    }
    j.pending = async () => {
      const statements = splitStatements(sql);
      const ctx: QueryContext = { fake, dryRun: false, projectId: j.projectId, location: j.location };
      let last: FakeQueryResult = {};
      let bytes = 0;
      let dml: number | undefined;
      const isScript = statements.length > 1;
      for (const [i, stmt] of statements.entries()) {
        const r = await handler(stmt, ctx);
        if (r.error) {
          j.errorResult = r.error;
          return;
        }
        const b = bytesOf(stmt, r);
        bytes += b;
        if (r.numDmlAffectedRows !== undefined) dml = (dml ?? 0) + r.numDmlAffectedRows;
        if (isScript) {
          const child: FakeJob = {
            projectId: j.projectId,
            jobId: `script_job_${j.jobId}_${i}`,
            location: j.location,
            configuration: { query: { query: stmt, useLegacySql: false } },
            state: "DONE",
            runningPolls: 0,
            parentJobId: j.jobId,
            statistics: {
              totalBytesProcessed: String(b),
              parentJobId: j.jobId,
              query: {
                totalBytesProcessed: String(b),
                ...(r.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: String(r.numDmlAffectedRows) } : {}),
              },
            },
          };
          jobs.set(jKey(child.projectId, child.jobId), child);
        }
        last = r;
      }
      const rows = last.rows ?? [];
      j.result = { schema: last.schema ? last.schema.map(normField) : inferSchema(rows), rows };
      const query: Record<string, unknown> = { totalBytesProcessed: String(bytes), totalBytesBilled: String(bytes) };
      if (isScript) {
        j.statistics.numChildJobs = String(statements.length);
        query.statementType = "SCRIPT";
      } else if (dml !== undefined) query.numDmlAffectedRows = String(dml);
      Object.assign(j.statistics, { totalBytesProcessed: String(bytes), query });
    };
  }

  /** A load job: rows from NDJSON into the destination table, per write/create disposition. */
  function planLoad(j: FakeJob, media: string): void {
    j.pending = async () => {
      const load = (j.configuration.load ?? {}) as {
        destinationTable?: { projectId?: string; datasetId: string; tableId: string };
        schema?: { fields?: FakeField[] };
        writeDisposition?: string;
        createDisposition?: string;
        sourceFormat?: string;
        destinationTableProperties?: { description?: string };
        schemaUpdateOptions?: string[];
      };
      const d = load.destinationTable;
      if (!d) throw new Error("load without destinationTable");
      const p = d.projectId ?? j.projectId;
      if (load.sourceFormat !== "NEWLINE_DELIMITED_JSON") {
        j.errorResult = { reason: "invalid", message: `fake-bigquery loads only NEWLINE_DELIMITED_JSON, got ${load.sourceFormat}` };
        return;
      }
      if (!datasets.has(dsKey(p, d.datasetId))) {
        j.errorResult = { reason: "notFound", message: `Not found: Dataset ${p}:${d.datasetId}` };
        return;
      }
      let rows: Row[];
      try {
        rows = media
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Row);
      } catch (e) {
        j.errorResult = { reason: "invalid", message: `Error while reading data: ${(e as Error).message}` };
        return;
      }
      if (backend) {
        const r = await backend.load(
          {
            projectId: p,
            datasetId: d.datasetId,
            tableId: d.tableId,
            schema: load.schema?.fields?.map(normField),
            rows,
            writeDisposition: load.writeDisposition,
            createDisposition: load.createDisposition,
            schemaUpdateOptions: load.schemaUpdateOptions,
            description: load.destinationTableProperties?.description,
          },
          { fake, dryRun: false, projectId: j.projectId, location: j.location, jobId: j.jobId },
        );
        if ("error" in r) {
          j.errorResult = r.error;
          return;
        }
        j.statistics.load = { outputRows: String(r.outputRows), inputFileBytes: String(Buffer.byteLength(media)) };
        return;
      }
      const key = tKey(p, d.datasetId, d.tableId);
      const existing = tables.get(key);
      if (!existing && load.createDisposition === "CREATE_NEVER") {
        j.errorResult = { reason: "notFound", message: `Not found: Table ${p}:${d.datasetId}.${d.tableId}` };
        return;
      }
      const schema = load.schema?.fields?.map(normField) ?? existing?.schema;
      if (!schema) {
        j.errorResult = { reason: "invalid", message: "No schema specified on job or table." };
        return;
      }
      const known = new Set(schema.map((f) => f.name));
      for (const r of rows) {
        for (const k of Object.keys(r)) {
          if (!known.has(k)) {
            j.errorResult = { reason: "invalid", message: `JSON table encountered an unknown field: ${k}` };
            return;
          }
        }
      }
      const description = load.destinationTableProperties?.description ?? existing?.description;
      if (load.writeDisposition === "WRITE_TRUNCATE" || !existing) {
        tables.set(key, { projectId: p, datasetId: d.datasetId, tableId: d.tableId, schema, rows, description });
      } else if (load.writeDisposition === "WRITE_EMPTY" && existing.rows.length) {
        j.errorResult = { reason: "duplicate", message: `Already Exists: Table ${key}` };
        return;
      } else {
        existing.rows.push(...rows);
      }
      j.statistics.load = { outputRows: String(rows.length), inputFileBytes: String(Buffer.byteLength(media)) };
    };
  }

  async function insertJob(p: string, resource: Record<string, unknown>, media: string | undefined): Promise<Record<string, unknown>> {
    const ref = (resource.jobReference ?? {}) as { jobId?: string; location?: string; projectId?: string };
    const configuration = (resource.configuration ?? {}) as Record<string, unknown>;
    validateJob(resource);
    const loc = ref.location ?? location;
    const query = configuration.query as { query?: string; useLegacySql?: boolean } | undefined;

    if (configuration.dryRun) {
      if (!query?.query) throw new HttpError({ status: 400, reason: "invalid", message: "dry run needs a query" });
      const ctx: QueryContext = { fake, dryRun: true, projectId: p, location: loc };
      let bytes = 0;
      let statementType = "SELECT";
      if (backend) {
        const r = await backend.dryRun(query.query, ctx);
        if ("error" in r) throw new HttpError({ status: 400, reason: r.error.reason, message: r.error.message });
        bytes = r.bytes;
        statementType = r.statementType ?? statementType;
      }
      for (const stmt of backend ? [] : splitStatements(query.query)) {
        const r = await handler(stmt, ctx);
        if (r.error) throw new HttpError({ status: 400, reason: r.error.reason, message: r.error.message });
        bytes += bytesOf(stmt, r);
      }
      return {
        kind: "bigquery#job",
        jobReference: { projectId: p, location: loc },
        configuration,
        status: { state: "DONE" },
        statistics: {
          creationTime: String(Date.now()),
          totalBytesProcessed: String(bytes),
          query: { totalBytesProcessed: String(bytes), totalBytesProcessedAccuracy: "PRECISE", statementType },
        },
      };
    }

    const jobId = ref.jobId ?? `job_${randomUUID().replace(/-/g, "")}`;
    if (!/^[A-Za-z0-9_-]{1,1024}$/.test(jobId)) {
      throw new HttpError({ status: 400, reason: "invalid", message: `Invalid job ID "${jobId}"` });
    }
    if (jobs.has(jKey(p, jobId))) {
      throw new HttpError({ status: 409, reason: "duplicate", message: `Already Exists: Job ${p}:${loc}.${jobId}` });
    }
    const j = newJob(p, jobId, loc, configuration);
    jobs.set(jKey(p, jobId), j);
    if (configuration.load) {
      if (media === undefined) {
        j.errorResult = { reason: "invalid", message: "fake-bigquery: load jobs need a media upload (no GCS here)" };
      } else planLoad(j, media);
    } else if (query?.query !== undefined) {
      if (query.useLegacySql !== false) {
        j.errorResult = { reason: "invalidQuery", message: "fake-bigquery: legacy SQL is not supported; set useLegacySql: false" };
      } else planQuery(j, query.query);
    } else {
      j.errorResult = { reason: "invalid", message: "fake-bigquery: only query and load jobs are supported" };
    }
    if (j.runningPolls === 0) await finish(j);
    else j.state = "RUNNING";
    return jobResource(j);
  }

  function resultsPage(j: FakeJob, q: URLSearchParams): Record<string, unknown> {
    const rows = j.result?.rows ?? [];
    const schema = j.result?.schema ?? [];
    const tokenOffset = q.get("pageToken") ? Number(Buffer.from(q.get("pageToken")!, "base64url").toString().replace(/^offset:/, "")) : undefined;
    const start = tokenOffset ?? Number(q.get("startIndex") ?? 0);
    const max = q.get("maxResults") ? Number(q.get("maxResults")) : rows.length;
    const end = Math.min(rows.length, start + max);
    const int64Ts = q.get("formatOptions.useInt64Timestamp") === "true";
    const out: Record<string, unknown> = {
      kind: "bigquery#getQueryResultsResponse",
      etag: `"${j.jobId}-${start}"`,
      schema: { fields: schema },
      jobReference: { projectId: j.projectId, jobId: j.jobId, location: j.location },
      totalRows: String(rows.length),
      jobComplete: true,
      cacheHit: false,
      totalBytesProcessed: String((j.statistics.totalBytesProcessed as string | undefined) ?? "0"),
    };
    if (end > start) out.rows = rows.slice(start, end).map((r) => encodeRow(schema, r, int64Ts));
    if (end < rows.length) out.pageToken = Buffer.from(`offset:${end}`).toString("base64url");
    const dml = (j.statistics.query as { numDmlAffectedRows?: string } | undefined)?.numDmlAffectedRows;
    if (dml !== undefined) out.numDmlAffectedRows = dml;
    return out;
  }

  function getJobOr404(p: string, jobId: string): FakeJob {
    const j = jobs.get(jKey(p, jobId));
    if (!j) throw notFound(`Job ${p}:${jobId}`);
    return j;
  }

  function routeOf(method: string, path: string): { route: Route | "unknown"; params: string[] } {
    const m = (re: RegExp): string[] | undefined => re.exec(path)?.slice(1).map(decodeURIComponent);
    let p: string[] | undefined;
    if (method === "POST" && (p = m(/^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/))) return { route: "jobs.insert", params: p };
    if ((p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/datasets$/)) && method === "POST") return { route: "datasets.insert", params: p };
    if ((p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/datasets$/)) && method === "GET") return { route: "datasets.list", params: p };
    if ((p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)$/))) {
      if (method === "GET") return { route: "datasets.get", params: p };
      if (method === "DELETE") return { route: "datasets.delete", params: p };
    }
    if (method === "GET" && (p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables$/))) return { route: "tables.list", params: p };
    if ((p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/))) {
      if (method === "GET") return { route: "tables.get", params: p };
      if (method === "DELETE") return { route: "tables.delete", params: p };
      if (method === "PATCH") return { route: "tables.patch", params: p };
    }
    if (method === "POST" && (p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/)))
      return { route: "tabledata.insertAll", params: p };
    if ((p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/))) {
      if (method === "POST") return { route: "jobs.insert", params: p };
      if (method === "GET") return { route: "jobs.list", params: p };
    }
    if (method === "GET" && (p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)$/))) return { route: "jobs.get", params: p };
    if (method === "POST" && (p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)\/cancel$/))) return { route: "jobs.cancel", params: p };
    if (method === "POST" && (p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/queries$/))) return { route: "jobs.query", params: p };
    if (method === "GET" && (p = m(/^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/))) return { route: "jobs.getQueryResults", params: p };
    return { route: "unknown", params: [] };
  }

  async function handle(route: Route, params: string[], q: URLSearchParams, body: unknown, media: string | undefined): Promise<unknown> {
    const b = (body ?? {}) as Record<string, unknown>;
    switch (route) {
      case "datasets.list": {
        // https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/list: the project's datasets, each with
        // its reference and location; no `datasets` field when there are none.
        const [p] = params as [string];
        const list = [...datasets.entries()]
          .filter(([k]) => k.startsWith(`${p}.`))
          .map(([k, ds]) => {
            const d = k.slice(p.length + 1);
            return { kind: "bigquery#dataset", id: `${p}:${d}`, datasetReference: { projectId: p, datasetId: d }, location: ds.location };
          })
          .sort((a, b) => a.id.localeCompare(b.id));
        return { kind: "bigquery#datasetList", ...(list.length ? { datasets: list } : {}) };
      }
      case "datasets.get": {
        const [p, d] = params as [string, string];
        const ds = datasets.get(dsKey(p, d));
        if (!ds) throw notFound(`Dataset ${p}:${d}`);
        return { kind: "bigquery#dataset", id: `${p}:${d}`, datasetReference: { projectId: p, datasetId: d }, location: ds.location };
      }
      case "datasets.insert": {
        const [p] = params as [string];
        const ref = (b.datasetReference ?? {}) as { datasetId?: string; projectId?: string };
        if (!ref.datasetId) throw new HttpError({ status: 400, reason: "invalid", message: "datasetReference.datasetId is required" });
        if (datasets.has(dsKey(p, ref.datasetId))) {
          throw new HttpError({ status: 409, reason: "duplicate", message: `Already Exists: Dataset ${p}:${ref.datasetId}` });
        }
        const loc = typeof b.location === "string" ? b.location : "US";
        datasets.set(dsKey(p, ref.datasetId), { location: loc });
        return { kind: "bigquery#dataset", id: `${p}:${ref.datasetId}`, datasetReference: { projectId: p, datasetId: ref.datasetId }, location: loc };
      }
      case "datasets.delete": {
        const [p, d] = params as [string, string];
        if (!datasets.delete(dsKey(p, d))) throw notFound(`Dataset ${p}:${d}`);
        await backend?.deleteDataset(p, d);
        for (const [k, t] of tables) if (t.projectId === p && t.datasetId === d) tables.delete(k);
        return undefined;
      }
      case "tables.get": {
        const [p, d, t] = params as [string, string, string];
        if (backend) {
          if (!datasets.has(dsKey(p, d))) throw notFound(`Dataset ${p}:${d}`);
          const bt = await backend.getTable(p, d, t);
          if (!bt) throw notFound(`Table ${p}:${d}.${t}`);
          return {
            kind: "bigquery#table",
            id: `${p}:${d}.${t}`,
            tableReference: { projectId: p, datasetId: d, tableId: t },
            schema: { fields: bt.schema },
            numRows: String(bt.numRows),
            type: bt.type,
            // https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#Table: output-only, always present.
            lastModifiedTime: String(bt.lastModifiedMs),
            location: datasets.get(dsKey(p, d))?.location ?? location,
            ...(bt.description ? { description: bt.description } : {}),
            ...(bt.timePartitioning ? { timePartitioning: bt.timePartitioning } : {}),
          };
        }
        const tb = tables.get(tKey(p, d, t));
        if (!tb) throw notFound(`Table ${p}:${d}.${t}`);
        return {
          kind: "bigquery#table",
          id: `${p}:${d}.${t}`,
          tableReference: { projectId: p, datasetId: d, tableId: t },
          schema: { fields: tb.schema },
          numRows: String(tb.rows.length),
          type: "TABLE",
          location: datasets.get(dsKey(p, d))?.location ?? location,
          ...(tb.description ? { description: tb.description } : {}),
        };
      }
      case "tables.list": {
        // https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/list: "Partial projection of the metadata for
        // a given table in a list response": per table its reference, type, timePartitioning and rangePartitioning
        // (never its schema or row count); pages of maxResults tables (the fake's default: 50, so that paging is
        // exercised) joined by nextPageToken; totalItems counts them all. A missing dataset: 404.
        const [p, d] = params as [string, string];
        if (!datasets.has(dsKey(p, d))) throw notFound(`Dataset ${p}:${d}`);
        const names = (backend ? await backend.listTables(p, d) : [...tables.keys()].filter((k) => k.startsWith(`${p}.${d}.`)).map((k) => k.slice(p.length + d.length + 2))).sort();
        const from = q.get("pageToken") ? Number(Buffer.from(q.get("pageToken")!, "base64url").toString().replace(/^offset:/, "")) : 0;
        const max = q.get("maxResults") ? Number(q.get("maxResults")) : 50;
        const page = names.slice(from, from + max);
        const entries = [];
        for (const t of page) {
          const bt = backend ? await backend.getTable(p, d, t) : undefined;
          entries.push({
            kind: "bigquery#table",
            id: `${p}:${d}.${t}`,
            tableReference: { projectId: p, datasetId: d, tableId: t },
            type: bt?.type ?? "TABLE",
            ...(bt?.timePartitioning ? { timePartitioning: bt.timePartitioning } : {}),
          });
        }
        return {
          kind: "bigquery#tableList",
          totalItems: names.length,
          ...(entries.length ? { tables: entries } : {}),
          ...(from + max < names.length ? { nextPageToken: Buffer.from(`offset:${from + max}`).toString("base64url") } : {}),
        };
      }
      case "tables.patch": {
        // https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/patch: replaces only the fields sent.
        // Only the metadata an action sets is modelled (description, column descriptions, labels); a schema must
        // keep every existing column with its type and mode ("Provided Schema does not match Table"), and labels
        // follow https://cloud.google.com/bigquery/docs/labels-intro#requirements.
        const [p, d, t] = params as [string, string, string];
        if (!backend) throw notFound(`fake-bigquery route PATCH without a backend`);
        for (const k of Object.keys(b)) if (!["description", "schema", "labels", "friendlyName"].includes(k)) throw unknownField("table", k);
        if (!datasets.has(dsKey(p, d))) throw notFound(`Dataset ${p}:${d}`);
        const bt = await backend.getTable(p, d, t);
        if (!bt) throw notFound(`Table ${p}:${d}.${t}`);
        const sent = ((b.schema ?? {}) as { fields?: FakeField[] }).fields;
        if (sent) {
          const shape = (f: FakeField): string => `${f.name.toLowerCase()}:${f.type}:${f.mode ?? "NULLABLE"}:${(f.fields ?? []).map(shape).join(",")}`;
          for (const have of bt.schema) {
            const want = sent.find((f) => f.name.toLowerCase() === have.name.toLowerCase());
            if (!want || shape(want) !== shape(have)) {
              throw new HttpError({ status: 400, reason: "invalid", message: `Provided Schema does not match Table ${p}:${d}.${t}. ${want ? `Field ${have.name} has changed type or mode` : `Field ${have.name} is missing in new schema`}` });
            }
          }
          if (sent.length !== bt.schema.length) throw new HttpError({ status: 400, reason: "invalid", message: `Provided Schema does not match Table ${p}:${d}.${t}: tables.patch here models descriptions, not new columns` });
        }
        validateLabels((b.labels ?? {}) as Record<string, unknown>);
        const description = "description" in b ? (b.description as string | undefined) ?? undefined : bt.description;
        await backend.describeTable(p, d, t, description);
        return {
          kind: "bigquery#table",
          id: `${p}:${d}.${t}`,
          tableReference: { projectId: p, datasetId: d, tableId: t },
          schema: { fields: sent ?? bt.schema },
          type: bt.type,
          ...(description ? { description } : {}),
        };
      }
      case "tables.delete": {
        const [p, d, t] = params as [string, string, string];
        if (backend) {
          if (!(await backend.deleteTable(p, d, t))) throw notFound(`Table ${p}:${d}.${t}`);
          return undefined;
        }
        if (!tables.delete(tKey(p, d, t))) throw notFound(`Table ${p}:${d}.${t}`);
        return undefined;
      }
      case "tabledata.insertAll": {
        const [p, d, t] = params as [string, string, string];
        const tb = tables.get(tKey(p, d, t));
        if (!tb) throw notFound(`Table ${p}:${d}.${t}`);
        const rows = (b.rows ?? []) as Array<{ json: Row }>;
        tb.rows.push(...rows.map((r) => r.json));
        return { kind: "bigquery#tableDataInsertAllResponse" };
      }
      case "jobs.insert":
        return insertJob(params[0]!, b, media);
      case "jobs.get": {
        const j = getJobOr404(params[0]!, params[1]!);
        await observe(j);
        return jobResource(j);
      }
      case "jobs.cancel": {
        const j = getJobOr404(params[0]!, params[1]!);
        if (j.state !== "DONE") {
          j.pending = undefined;
          j.errorResult = { reason: "stopped", message: "Job execution was cancelled: User requested cancellation" };
          j.state = "DONE";
        }
        return { kind: "bigquery#jobCancelResponse", job: jobResource(j) };
      }
      case "jobs.list": {
        const parent = q.get("parentJobId");
        const list = [...jobs.values()].filter((j) => j.projectId === params[0] && (parent ? j.parentJobId === parent : !j.parentJobId));
        return { kind: "bigquery#jobList", jobs: list.map((j) => ({ ...jobResource(j), state: j.state })) };
      }
      case "jobs.getQueryResults": {
        const j = getJobOr404(params[0]!, params[1]!);
        await observe(j);
        if (j.state !== "DONE") {
          return { kind: "bigquery#getQueryResultsResponse", jobReference: { projectId: j.projectId, jobId: j.jobId, location: j.location }, jobComplete: false };
        }
        if (j.errorResult) throw new HttpError({ status: 400, reason: j.errorResult.reason, message: j.errorResult.message });
        return resultsPage(j, q);
      }
      case "jobs.query": {
        const p = params[0]!;
        const requestId = typeof b.requestId === "string" ? b.requestId : undefined;
        let jobId = requestId ? requestIds.get(requestId) : undefined;
        if (!jobId) {
          jobId = `job_${randomUUID().replace(/-/g, "")}`;
          if (requestId) requestIds.set(requestId, jobId);
          const configuration: Record<string, unknown> = {
            query: { query: b.query, useLegacySql: b.useLegacySql ?? true, ...(b.maximumBytesBilled ? { maximumBytesBilled: b.maximumBytesBilled } : {}) },
            ...(b.labels ? { labels: b.labels } : {}),
            ...(b.dryRun ? { dryRun: true } : {}),
          };
          const res = await insertJob(p, { jobReference: { projectId: p, jobId, location: b.location }, configuration }, undefined);
          if (b.dryRun) return { kind: "bigquery#queryResponse", jobComplete: true, totalBytesProcessed: (res.statistics as { totalBytesProcessed: string }).totalBytesProcessed };
        }
        const j = getJobOr404(p, jobId);
        if (j.state !== "DONE") return { kind: "bigquery#queryResponse", jobReference: { projectId: p, jobId, location: j.location }, jobComplete: false };
        if (j.errorResult) throw new HttpError({ status: 400, reason: j.errorResult.reason, message: j.errorResult.message });
        const qs = new URLSearchParams({ "formatOptions.useInt64Timestamp": String((b.formatOptions as { useInt64Timestamp?: boolean } | undefined)?.useInt64Timestamp ?? false) });
        if (typeof b.maxResults === "number") qs.set("maxResults", String(b.maxResults));
        return { ...resultsPage(j, qs), kind: "bigquery#queryResponse" };
      }
    }
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    if (body === undefined) {
      res.writeHead(status === 200 ? 204 : status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  function sendError(res: http.ServerResponse, e: ApiErrorBody): void {
    sendJson(res, e.status, {
      error: {
        code: e.status,
        message: e.message,
        errors: [{ message: e.message, domain: "global", reason: e.reason }],
        status: STATUS_TEXT[e.status] ?? "UNKNOWN",
      },
    });
  }

  /** `multipart/related` → [json part, media part]. */
  function parseMultipart(raw: Buffer, contentType: string): { meta: unknown; media: string } {
    const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
    if (!boundary) throw new HttpError({ status: 400, reason: "invalid", message: "multipart without boundary" });
    const parts = raw
      .toString("utf8")
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith("--"))
      .map((p) => {
        const sep = p.indexOf("\r\n\r\n");
        return p.slice(sep + 4).replace(/\r\n$/, "");
      });
    if (parts.length !== 2) throw new HttpError({ status: 400, reason: "invalid", message: `multipart with ${parts.length} parts` });
    return { meta: JSON.parse(parts[0]!), media: parts[1]! };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const method = req.method ?? "GET";
        const { route, params } = routeOf(method, url.pathname);
        const raw = Buffer.concat(chunks);
        const entry: LoggedRequest = {
          route,
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body: undefined,
          authorization: req.headers.authorization,
        };
        requests.push(entry);
        try {
          const ct = req.headers["content-type"] ?? "";
          if (ct.startsWith("multipart/")) {
            const mp = parseMultipart(raw, ct);
            entry.body = mp.meta;
            entry.media = mp.media;
          } else if (raw.length) {
            entry.body = JSON.parse(raw.toString("utf8"));
          }
          if (route === "unknown") throw notFound(`fake-bigquery route ${method} ${url.pathname}`);
          for (const k of url.searchParams.keys()) {
            if (!COMMON_PARAMS.includes(k) && !(ROUTE_PARAMS[route] ?? []).includes(k)) {
              throw new HttpError({ status: 400, reason: "invalid", message: `Invalid JSON payload received. Unknown name "${k}": Cannot bind query parameter.` });
            }
          }
          if (req.headers.authorization !== `Bearer ${accessToken}`) {
            throw new HttpError({ status: 401, reason: "authError", message: "Request had invalid authentication credentials." });
          }
          const fault = faults.get(route)?.shift();
          if (fault?.reset) {
            req.socket.destroy();
            return;
          }
          if (fault && !fault.applied) {
            const status = fault.status ?? 503;
            throw new HttpError({ status, reason: fault.reason ?? (status >= 500 ? "backendError" : "invalid"), message: fault.message ?? `injected ${status}` });
          }
          const out = await handle(route, params, url.searchParams, entry.body, entry.media);
          if (fault) {
            const status = fault.status ?? 503;
            throw new HttpError({ status, reason: fault.reason ?? "backendError", message: fault.message ?? `injected ${status} after processing` });
          }
          sendJson(res, 200, out);
        } catch (e) {
          if (e instanceof HttpError) sendError(res, e.body);
          else sendError(res, { status: 500, reason: "internalError", message: `fake-bigquery: ${(e as Error).stack ?? e}` });
        }
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FakeBigQuery = {
    url: `http://127.0.0.1:${port}`,
    projectId,
    location,
    accessToken,
    requests,
    datasets,
    tables,
    jobs,
    authClient() {
      const c = new OAuth2Client();
      c.setCredentials({ access_token: accessToken, expiry_date: Date.now() + 3_600_000 });
      return c;
    },
    failNext(route, fault, times = 1) {
      const q = faults.get(route) ?? [];
      for (let i = 0; i < times; i++) q.push(fault);
      faults.set(route, q);
    },
    nextJob(fault) {
      jobFaults.push(fault);
    },
    setHandler(h) {
      handler = h;
    },
    setResult(match, result) {
      canned.unshift({ match, result });
    },
    addDataset(datasetId, loc = location, p = projectId) {
      datasets.set(dsKey(p, datasetId), { location: loc });
    },
    addTable(ref, schema, rows = []) {
      const [p, d, t] = parseRef(ref);
      if (!datasets.has(dsKey(p, d))) datasets.set(dsKey(p, d), { location });
      const tb: FakeTable = { projectId: p, datasetId: d, tableId: t, schema: schema.map(normField), rows: [...rows] };
      tables.set(tKey(p, d, t), tb);
      return tb;
    },
    table(ref) {
      const [p, d, t] = parseRef(ref);
      return tables.get(tKey(p, d, t));
    },
    requestsTo(route) {
      return requests.filter((r) => r.route === route);
    },
    clearRequests() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  if (opts.handler) handler = opts.handler;
  return fake;
}
