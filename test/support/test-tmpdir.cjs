/**
 * Loaded by mocha before any test file (`require` in .mocharc.json): the tests' temporary files go to one folder of
 * their own, `<os tmp>/funnelcredit-test-XXXXXX` (TMPDIR, which os.tmpdir() and every child process read), removed
 * when the run ends. A test that fails, or is killed by its timeout, before its own cleanup used to leave its
 * warehouse files behind: one CI run left about 300 folders (80 of import-hostile alone) in /tmp. In `npm test`
 * (parallel) the main process loads this file first and creates the folder; its workers inherit the variable and
 * use the same folder. The folder goes in mochaGlobalTeardown, which mocha runs once, in the main process.
 */
const { mkdtempSync, rmSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");

let created;
if (!process.env.FUNNELCREDIT_TEST_TMPDIR) {
  created = mkdtempSync(path.join(os.tmpdir(), "funnelcredit-test-"));
  process.env.FUNNELCREDIT_TEST_TMPDIR = created;
  process.env.TMPDIR = created;
}

exports.mochaGlobalTeardown = function () {
  if (created) rmSync(created, { recursive: true, force: true });
};
