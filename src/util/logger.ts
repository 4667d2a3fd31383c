/**
 * The one logger. Human lines go to stderr; with --json every event is one JSON line on stdout
 * (for schedulers). Secrets are redacted before anything is written.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogEvent {
  level: LogLevel;
  msg: string;
  [k: string]: unknown;
}

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
    private readonly opts: { json?: boolean; level?: LogLevel; sink?: (line: string) => void } = {},
  ) {}
  get json(): boolean {
    return !!this.opts.json;
  }
  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    if (ORDER[level] < ORDER[this.opts.level ?? "info"]) return;
    const sink = this.opts.sink ?? ((l: string) => (this.opts.json ? process.stdout : process.stderr).write(l + "\n"));
    if (this.opts.json) {
      sink(redact(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields })));
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

/** A silent logger for tests and library use. */
export const quietLogger = new Logger({ level: "error", sink: () => {} });
