/**
 * Loaded by mocha before any test file (`require` in .mocharc.json, so in `npm test`'s workers and in `npx mocha
 * test/x.test.ts` alike): every compile of a test, in-process or in a CLI child, in this checkout, a copy of it or a
 * temporary project, keeps its Dataform graph in one folder, this checkout's own `.funnelcredit/compile-cache/`
 * (FUNNELCREDIT_COMPILE_CACHE_DIR, src/compile/cache.ts). Without it each copy of the project started with an empty
 * cache and compiled again what the checkout had compiled (≈ 5 CPU s each). Sharing is safe because an entry's key
 * is the compile's inputs (files under definitions/ and includes/, workflow_settings.yaml, vars, versions), never the
 * project's path: a copy with other content or other vars compiles. A FUNNELCREDIT_COMPILE_CACHE_DIR already set
 * (a CI that keeps the folder between runs) is kept. test/compile-cache.test.ts unsets it: the cache's own tests
 * keep their own folder.
 */
const path = require("node:path");

if (!process.env.FUNNELCREDIT_COMPILE_CACHE_DIR) {
  process.env.FUNNELCREDIT_COMPILE_CACHE_DIR = path.resolve(__dirname, "..", "..", ".funnelcredit", "compile-cache");
}
