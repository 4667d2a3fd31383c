/**
 * The `funnelcredit` command in a child process, from the TypeScript sources (tsx), as the tests run it:
 * the exit code and both streams, for assertions on what a user sees.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PROJECT_DIR } from "./warehouse.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `funnelcredit ARGS…` run to its end; `cwd` defaults to the project folder; `env` adds to (or replaces) the environment. */
export function runCli(args: string[], cwd = PROJECT_DIR, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_DIR, "src", "cli", "main.ts"), ...args], {
    cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
