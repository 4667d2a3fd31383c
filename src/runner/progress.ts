/**
 * The one progress display: on a terminal a single line redrawn in place (actions done/total,
 * current action, elapsed); otherwise (CI, --json) one line per event through the logger.
 */
import type { Logger, LogLevel } from "../util/logger.ts";
import type { ActionRecord } from "./run-record.ts";

export interface Progress {
  start(total: number): void;
  actionStarted(name: string): void;
  /** `record` carries what a log line for schedulers reports: rows, bytes, job id, the full error. */
  actionFinished(name: string, status: string, ms: number, record?: ActionRecord): void;
  note(text: string): void;
  finish(): void;
}

export function createProgress(logger: Logger, opts: { tty?: boolean } = {}): Progress {
  const tty = opts.tty ?? (!logger.json && !!process.stderr.isTTY);
  let total = 0;
  let done = 0;
  let current = "";
  let started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    if (!tty) return;
    const s = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`\r\x1b[K[${done}/${total}] ${current} ${s}s`);
  };
  return {
    start(n) {
      total = n;
      done = 0;
      started = Date.now();
      if (tty) timer = setInterval(draw, 250);
    },
    actionStarted(name) {
      current = name;
      if (tty) draw();
      else logger.debug(`started ${name}`, logger.json ? { event: "action_started", action: name } : undefined);
    },
    actionFinished(name, status, ms, record) {
      done++;
      if (tty) {
        process.stderr.write(`\r\x1b[K`);
        logger.info(`${status === "succeeded" ? "✓" : status === "skipped" ? "-" : status === "warning" ? "!" : status === "dry_run" ? "·" : "✗"} ${name} (${(ms / 1000).toFixed(1)}s)`);
        draw();
      } else if (logger.json) {
        // One line per action, with the failure's full text, at the severity an alert can match on.
        const detail = record?.error ?? record?.note;
        const level: LogLevel = status === "failed" ? "error" : status === "warning" || status === "cancelled" ? "warn" : "info";
        logger.log(level, `[${done}/${total}] ${status} ${name} ${(ms / 1000).toFixed(1)}s${detail ? `: ${detail}` : ""}`, {
          event: "action_finished", action: name, kind: record?.kind, status, durationMs: ms,
          rows: record?.rows, bytesProcessed: record?.bytesProcessed, jobId: record?.jobId, error: record?.error, note: record?.note,
        });
      } else {
        logger.info(`[${done}/${total}] ${status} ${name} ${(ms / 1000).toFixed(1)}s`);
      }
    },
    note(text) {
      if (tty) { current = text; draw(); } else logger.debug(text, logger.json ? { event: "note" } : undefined);
    },
    finish() {
      if (timer) clearInterval(timer);
      if (tty) process.stderr.write(`\r\x1b[K`);
    },
  };
}

export const silentProgress: Progress = { start() {}, actionStarted() {}, actionFinished() {}, note() {}, finish() {} };
