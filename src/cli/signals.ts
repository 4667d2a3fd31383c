/**
 * SIGTERM and SIGINT (a scheduler stopping the task, Ctrl-C). During a run the first signal cancels
 * it: no new action starts, the running one is cancelled in the engine (BigQuery job cancelled,
 * DuckDB query interrupted and its transaction rolled back), the run is recorded as cancelled, the
 * lease released, and the process exits 128 + the signal's number (SIGTERM 143, SIGINT 130), as a
 * shell reports a process the signal ended. Outside a run, or on a second signal, it exits at once
 * with that code (a lease left behind names a dead process and is taken over by the next run).
 */
import os from "node:os";

const controller = new AbortController();
let runsInProgress = 0;
let received: NodeJS.Signals | undefined;

const CANCEL_SIGNALS = ["SIGTERM", "SIGINT"] as const;

export function installSignalHandlers(): void {
  for (const sig of CANCEL_SIGNALS) process.on(sig, () => onSignal(sig));
}

/** The exit code a shell gives a process ended by `sig`: 128 + its number. */
export function exitCodeForSignal(sig: NodeJS.Signals): number {
  return 128 + (os.constants.signals[sig] ?? 0);
}

/** The signal that cancelled the run, if one did. */
export function receivedSignal(): NodeJS.Signals | undefined {
  return received;
}

function onSignal(sig: NodeJS.Signals): void {
  if (runsInProgress > 0 && !controller.signal.aborted) {
    received = sig;
    controller.abort(sig);
    return;
  }
  process.exit(exitCodeForSignal(sig));
}

/** Run `fn` as a cancellable run: a signal while it runs aborts `signal` instead of ending the process. */
export async function cancellableRun<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  runsInProgress++;
  try {
    return await fn(controller.signal);
  } finally {
    runsInProgress--;
  }
}
