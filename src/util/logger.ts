/**
 * The one logger. Human lines go to stderr; with --json every event is one JSON line on stdout in
 * Cloud Logging's structured format (https://cloud.google.com/logging/docs/structured-logging):
 * `severity`, `message` and `time` are read by Cloud Logging (Cloud Run, GKE, the Ops Agent); a
 * line carrying `runId` also sets `logging.googleapis.com/operation`, so one run's lines group
 * together; every other field lands in jsonPayload. Secrets are redacted before anything is written.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Cloud Logging's LogSeverity names. */
const SEVERITY: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" };

const secrets = new Set<string>();
/** Register a value (token, key) that must never appear in logs. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[redacted]");
  return out;
}

export class Logger {
  constructor(
    private readonly opts: { json?: boolean; level?: LogLevel; sink?: (line: string) => void; fields?: Record<string, unknown> } = {},
  ) {}
  get json(): boolean {
    return !!this.opts.json;
  }
  /** A logger adding `fields` (e.g. the run id) to every JSON line; human lines stay as they are. */
  with(fields: Record<string, unknown>): Logger {
    return new Logger({ ...this.opts, fields: { ...this.opts.fields, ...fields } });
  }
  log(level: LogLevel, msg: string, own: Record<string, unknown> = {}): void {
    if (ORDER[level] < ORDER[this.opts.level ?? "info"]) return;
    const fields = this.opts.json ? { ...this.opts.fields, ...own } : own;
    const sink = this.opts.sink ?? ((l: string) => (this.opts.json ? process.stdout : process.stderr).write(l + "\n"));
    if (this.opts.json) {
      sink(redact(jsonLine(level, msg, fields)));
    } else {
      const extra = Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
      sink(redact(`${level === "info" ? "" : level.toUpperCase() + ": "}${msg}${extra}`));
    }
  }
  debug(msg: string, f?: Record<string, unknown>): void { this.log("debug", msg, f); }
  info(msg: string, f?: Record<string, unknown>): void { this.log("info", msg, f); }
  warn(msg: string, f?: Record<string, unknown>): void { this.log("warn", msg, f); }
  error(msg: string, f?: Record<string, unknown>): void { this.log("error", msg, f); }
}

/** One structured log line (see the header); `fields` never override severity, message or time. */
export function jsonLine(level: LogLevel, message: string, fields: Record<string, unknown> = {}): string {
  const operation = typeof fields.runId === "string" ? { "logging.googleapis.com/operation": { id: fields.runId, producer: "funnelcredit" } } : {};
  const { severity: _severity, message: _message, time: _time, ...rest } = fields;
  return JSON.stringify({ severity: SEVERITY[level], message, ...rest, ...operation, time: new Date().toISOString() });
}

/** A silent logger for tests and library use. */
export const quietLogger = new Logger({ level: "error", sink: () => {} });
