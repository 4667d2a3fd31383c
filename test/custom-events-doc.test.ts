/**
 * docs/custom-events.md followed literally, in a fresh copy of the project: its ```sh commands run in order, its files
 * (```… file=PATH) are written where it says (the workflow_settings.yaml block's vars merged into the project's), and
 * its ```sql queries run on the warehouse file opened read-only, each returning rows. The model and declaration the page
 * shows must be the demo's own files in definitions/custom/, so page and project cannot drift apart.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { linkNodeModules } from "./support/project-copy.ts";

interface Block { lang: string; file?: string; text: string }

/** The fenced blocks of a Markdown page, in order, with their language and `file=` attribute. */
export function docBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/```(\w+)(?: file=(\S+))?\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, file: m[2], text: m[3]! }));
}

function sh(command: string, cwd: string): { code: number; out: string } {
  const r = spawnSync("bash", ["-c", command], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

describe("docs/custom-events.md, followed literally", function () {
  this.timeout(1_800_000);
  const blocks = docBlocks(readFileSync(path.join(PROJECT_DIR, "docs", "custom-events.md"), "utf8"));
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "fc-custom-doc-"));
    const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: PROJECT_DIR, encoding: "utf8" });
    for (const f of files.stdout.split("\0").filter(Boolean)) {
      if (existsSync(path.join(PROJECT_DIR, f))) cpSync(path.join(PROJECT_DIR, f), path.join(root, f));
    }
    linkNodeModules(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("shows the demo's own model and declaration", () => {
    const shown = blocks.filter((b) => b.file?.startsWith("definitions/"));
    assert.deepEqual(shown.map((b) => b.file), ["definitions/custom/webinar_attendances.js", "definitions/custom/webinar_events.sqlx"]);
    for (const b of shown) assert.equal(b.text, readFileSync(path.join(PROJECT_DIR, b.file!), "utf8"), `${b.file} differs from the page`);
  });

  it("runs every step, and the queries find both sources in sessions, funnel steps, credit and quarantine", async () => {
    const build = sh("npm run build", root);
    assert.equal(build.code, 0, build.out.slice(-4000));
    const queries: string[] = [];
    for (const b of blocks) {
      if (b.lang === "sh") {
        for (const line of b.text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))) {
          const r = sh(line, root);
          assert.equal(r.code, 0, `${line}\n${r.out.slice(-4000)}`);
        }
      } else if (b.file === "workflow_settings.yaml") {
        const file = path.join(root, b.file);
        const ws = parseYaml(readFileSync(file, "utf8")) as { vars?: Record<string, string> };
        ws.vars = { ...ws.vars, ...(parseYaml(b.text) as { vars: Record<string, string> }).vars };
        writeFileSync(file, stringifyYaml(ws));
      } else if (b.file) {
        writeFileSync(path.join(root, b.file), b.text);
      } else if (b.lang === "sql") {
        queries.push(b.text);
      }
    }
    assert.equal(queries.length, 4);
    const instance = await DuckDBInstance.create(path.join(root, ".funnelcredit", "warehouse.duckdb"), { access_mode: "READ_ONLY" });
    const conn = await instance.connect();
    try {
      const results = [];
      for (const sql of queries) {
        const rows = (await conn.runAndReadAll(sql)).getRowObjects();
        assert.ok(rows.length > 0, `no rows:\n${sql}`);
        results.push(rows);
      }
      const [sessions, steps, credit, quarantine] = results as Record<string, unknown>[][];
      // Besides the demo's built-in custom_events table (newsletter / email, phone / offline).
      const pairs = sessions!.map((r) => `${String(r.source)} / ${String(r.medium)}`);
      assert.ok(pairs.includes("phone / call") && pairs.includes("webinar / email"), pairs.join(", "));
      assert.deepEqual(steps!.map((r) => r.step), ["phone_call", "webinar"]);
      assert.ok(credit!.some((r) => r.channel === "Call Centre" && Number(r.value) > 0), "call-centre sales earn credit");
      const reasons = quarantine!.map((r) => String(r.reason));
      assert.ok(reasons.includes("call_centre: unparseable time") && reasons.includes("call_centre: missing user_id and client_id") && reasons.includes("webinars: missing user_id and client_id"), reasons.join("\n"));
      // The imported office-B sale: 11:15 in New York in January (UTC−5) is 16:15 UTC, worth 129.00.
      const sale = (await conn.runAndReadAll("SELECT revenue FROM funnelcredit_staging.stg_custom_events WHERE source = 'call_centre' AND event_name = 'call_sale' AND event_at = TIMESTAMP '2024-01-05 16:15:00'")).getRowObjects();
      assert.deepEqual(sale.map((r) => r.revenue), [129]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
