#!/usr/bin/env node
/** funnelcredit CLI: compile, run, demo, import, report, push. Exit codes: README "Exit codes". */
import type Yargs from "yargs";
import { UserError } from "../util/errors.ts";
import { requireVendored } from "../util/vendored.ts";
import { commandErrorText } from "./error-text.ts";
import { COMMANDS } from "./commands/index.ts";
import { installSignalHandlers } from "./signals.ts";
import { jsonLine, redact } from "../util/logger.ts";

// yargs' CommonJS build: its help layout wraps at word boundaries (wrap-ansi); the ESM build's cuts
// words in half ("schedul ers").
// In the compiled CLI, the build's one-file copy of it (src/util/vendored.ts).
const yargs = requireVendored<typeof Yargs>("yargs");

export async function main(argv: string[]): Promise<void> {
  // English whatever LANG says, as every message of funnelcredit's own is (yargs would translate only its own
  // strings, and only when it can read its locale files, which its one-file copy in dist/vendor/ cannot).
  let y = yargs(argv).scriptName("funnelcredit").locale("en");
  skipHelpCache(y);
  // Load only the command named on the command line; the others are listed by name and description.
  for (const c of COMMANDS) {
    y = argv.includes(c.name)
      ? y.command({ ...(await c.load()), command: c.command, describe: c.describe })
      : y.command(c.command, c.describe, {}, () => undefined);
  }
  await y
    .demandCommand(1, "name a command (see --help)")
    .strict()
    .fail((msg, err) => {
      // yargs reports usage errors, and errors thrown by an option's coerce, as YError: the user's to fix.
      throw err && err.name !== "YError" ? err : new UserError(err?.message ?? msg);
    })
    .help()
    // Help at the terminal's width, at most 100 columns (100 when not a terminal).
    .wrap(Math.min(100, process.stdout.columns || 100))
    .parseAsync();
}

/**
 * yargs renders the whole help text each time a command's handler starts (≈ 30–50 ms of every command's CPU:
 * string widths, wrapping), cached in case the handler fails later and the help is shown. It never is here: the
 * .fail() above throws, and main's catch prints the error alone. The cache is left empty (yargs 17's internal
 * usage object; if a later yargs lacks it, the help is cached as before).
 */
function skipHelpCache(y: unknown): void {
  const usage = (y as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => undefined;
}

installSignalHandlers();
// What yargs' hideBin returns outside Electron; importing "yargs/helpers" for it loaded yargs' ES module build
// (a dozen modules) beside the CommonJS build above.
const argv = process.argv.slice(2);
main(argv).catch((e: unknown) => {
  // 2: the command could not do its work (usage, settings, compile, warehouse); 1 is kept for a failed action.
  process.exitCode = process.exitCode || 2;
  const text = redact(commandErrorText(e, argv.find((a) => !a.startsWith("-"))));
  if (argv.includes("--json")) process.stdout.write(jsonLine("error", text, { event: "command_failed", exitCode: process.exitCode }) + "\n");
  else process.stderr.write(`error: ${text}\n`);
});
