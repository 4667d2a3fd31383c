/**
 * The README's commands as a new user types them, in order, in a fresh copy of the project:
 * `npm start` (the demo, at a reduced size so the test stays short), then every `npx funnelcredit …`
 * line of the README's ```sh blocks, verbatim (run by a shell, with the README's relative paths to
 * `../shared/data`). Each must exit 0: a demo whose sample fails the checks `run` applies would make
 * every later example fail.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PROJECT_DIR, SHARED_DATA } from "./support/warehouse.ts";
import { linkNodeModules } from "./support/project-copy.ts";

/** The commands of the README's ```sh blocks: continuation lines joined, comments and blank lines dropped. */
export function readmeCommands(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = m[1]!.replace(/\\\n\s*/g, "");
    for (const line of joined.split("\n")) {
      const cmd = line.replace(/\s+#.*$/, "").trim();
      if (cmd && !cmd.startsWith("#")) out.push(cmd);
    }
  }
  return out;
}

/**
 * A fresh copy: the project's files (tracked and new, not ignored), node_modules as `npm ci` leaves it
 * (linkNodeModules), and `../shared` beside it as in a checkout.
 */
function freshCopy(): { root: string; project: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "fc-readme-"));
  const project = path.join(root, "funnelcredit");
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: PROJECT_DIR, encoding: "utf8" });
  assert.equal(files.status, 0, files.stderr);
  for (const f of files.stdout.split("\0").filter(Boolean)) {
    const from = path.join(PROJECT_DIR, f);
    try {
      cpSync(from, path.join(project, f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // deleted in the work tree, not yet committed
    }
  }
  linkNodeModules(project);
  symlinkSync(path.dirname(SHARED_DATA), path.join(root, "shared"));
  return { root, project };
}

function sh(command: string, cwd: string): { code: number; out: string } {
  const r = spawnSync("bash", ["-c", command], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

describe("README commands on a fresh copy", function () {
  this.timeout(900_000);
  const commands = readmeCommands(readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8"));
  let copy: { root: string; project: string };
  before(() => {
    copy = freshCopy();
  });
  after(() => rmSync(copy.root, { recursive: true, force: true }));

  it("finds the README's example commands", () => {
    assert.ok(commands.includes("npm install && npm start"), commands.join("\n"));
    assert.ok(commands.filter((c) => c.startsWith("npx funnelcredit ")).length >= 4, commands.join("\n"));
  });

  it("runs `npm start` (reduced demo) and then every `npx funnelcredit` example in order, each exiting 0", () => {
    // `npm install` builds the CLI (its prepare script); the copy has its dependencies already, so only the build runs.
    const build = sh("npm run build", copy.project);
    assert.equal(build.code, 0, `npm run build\n${build.out.slice(-4000)}`);
    // npm start at a smaller sample than the default 20,000 users × 60 days; the demo's own checks are the run's.
    // 2,000 × 14 (was 3,000 × 21: 52 → 32 CPU s, same 122 actions succeeded): the CLI's demo at 4,000 × 21 and
    // 3,000 × 21 is test/cli.test.ts's and test/run-records.test.ts's; here it only has to set up what follows.
    const demo = sh("npm start -- --users 2000 --days 14 --vars ml_min_auc=0", copy.project);
    assert.equal(demo.code, 0, `npm start\n${demo.out.slice(-4000)}`);
    assert.doesNotMatch(demo.out, /input_quality/);
    for (const cmd of commands.filter((c) => c.startsWith("npx funnelcredit "))) {
      const r = sh(cmd, copy.project);
      assert.equal(r.code, 0, `${cmd}\n${r.out.slice(-4000)}`);
    }
  });
});
