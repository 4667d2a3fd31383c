/**
 * workflow_settings.yaml is parsed once per text: later commands read the parsed copy kept beside the compile
 * cache, keyed by the SHA-256 of the text, so a changed file (any byte) is parsed again and bad YAML still fails.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readWorkflowSettings, workflowSettingsCopy } from "../src/config/settings.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";

describe("workflow_settings.yaml's parsed copy", () => {
  let dir: string;
  let yamlFile: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-settings-copy-"));
    yamlFile = path.join(dir, "workflow_settings.yaml");
    cpSync(path.join(PROJECT_DIR, "workflow_settings.yaml"), yamlFile);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is written by the first read and used by the next one while the text is the same", () => {
    const first = readWorkflowSettings(dir);
    const copy = workflowSettingsCopy(dir);
    assert.ok(existsSync(copy));
    const saved = JSON.parse(readFileSync(copy, "utf8")) as { sha256: string; parsed: { defaultDataset: string } };
    assert.equal(saved.sha256, createHash("sha256").update(readFileSync(yamlFile, "utf8")).digest("hex"));
    // Proof the copy is what the next read uses: a copy saying something else, under the same key, wins.
    saved.parsed.defaultDataset = "from_the_copy";
    writeFileSync(copy, JSON.stringify(saved));
    assert.equal(readWorkflowSettings(dir).defaultDataset, "from_the_copy");
    assert.notEqual(first.defaultDataset, "from_the_copy");
  });

  it("is replaced when the text changes, and an unreadable copy only means parsing", () => {
    readWorkflowSettings(dir);
    writeFileSync(yamlFile, readFileSync(yamlFile, "utf8") + "\n# a comment changes the key\n");
    const text = readFileSync(yamlFile, "utf8").replace(/defaultDataset: \S+/, "defaultDataset: edited_dataset");
    writeFileSync(yamlFile, text);
    assert.equal(readWorkflowSettings(dir).defaultDataset, "edited_dataset");
    writeFileSync(workflowSettingsCopy(dir), "{ not json");
    assert.equal(readWorkflowSettings(dir).defaultDataset, "edited_dataset");
  });

  it("never keeps a text that is not valid YAML: it fails every time, naming line and column", () => {
    writeFileSync(yamlFile, "defaultProject: p\nvars: [unclosed\n");
    for (let i = 0; i < 2; i++) assert.throws(() => readWorkflowSettings(dir), /workflow_settings\.yaml: not valid YAML: .*line \d+, column \d+/s);
  });
});
