#!/usr/bin/env node
// Runs the compiled CLI in this process (no child: signals reach the run directly).
// `npm install` builds dist/ (the prepare script: one bundle, dist/cli.js); `npm run dev -- …` runs the TypeScript sources instead.
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("error: funnelcredit is not built (no dist/): run `npm run build` (npm install runs it)\n");
  process.exit(2);
}
warnIfStale();
await import(entry.href);

/**
 * In a checkout (src/ present), say when a source is newer than the build: the CLI would run old code.
 * The build lists the files it bundled (dist/sources.json, paths from the package root).
 */
function warnIfStale() {
  const root = fileURLToPath(new URL("../", import.meta.url));
  if (!existsSync(root + "src")) return;
  let sources;
  try {
    sources = JSON.parse(readFileSync(new URL("../dist/sources.json", import.meta.url), "utf8"));
  } catch {
    return;
  }
  const built = statSync(entry).mtimeMs;
  for (const f of sources) {
    if ((statSync(root + f, { throwIfNoEntry: false })?.mtimeMs ?? 0) > built) {
      process.stderr.write(`warning: ${f} changed after the last build: run \`npm run build\` (or \`npm run dev -- …\`)\n`);
      return;
    }
  }
}
