#!/usr/bin/env node
// Runs the compiled CLI in this process (no child: signals reach the run directly).
// `npm install` builds dist/ (the prepare script: one bundle, dist/cli.js); `npm run dev -- …` runs the TypeScript sources instead.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("error: funnelcredit is not built (no dist/): run `npm run build` (npm install runs it)\n");
  process.exit(2);
}
warnIfStale();
await import(entry.href);

/** In a checkout (src/ present), say when a source is newer than the build: the CLI would run old code. */
function warnIfStale() {
  const built = statSync(entry).mtimeMs;
  for (const dir of ["../src/", "../jobs/"]) {
    const root = fileURLToPath(new URL(dir, import.meta.url));
    if (!existsSync(root)) continue;
    for (const f of readdirSync(root, { recursive: true })) {
      if (String(f).endsWith(".ts") && statSync(root + f).mtimeMs > built) {
        process.stderr.write(`warning: ${dir.slice(3)}${f} changed after the last build: run \`npm run build\` (or \`npm run dev -- …\`)\n`);
        return;
      }
    }
  }
}
