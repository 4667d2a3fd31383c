#!/usr/bin/env node
// Runs the compiled CLI in this process (no child: signals reach the run directly).
// `npm install` builds dist/ (the prepare script); `npm run dev -- …` runs the TypeScript sources instead.
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("error: funnelcredit is not built (no dist/): run `npm run build` (npm install runs it)\n");
  process.exit(2);
}
await import(entry.href);
