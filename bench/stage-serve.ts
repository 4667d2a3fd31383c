/**
 * Child of bench/serve.ts: trains a small lead model on synthetic leads, saves it, starts the scoring
 * server on 127.0.0.1 (port 0) and prints `URL:<url>`. On each stdin line "mem" it collects garbage
 * and prints `MEM:<heapUsed bytes>,<rss bytes>` (run with --expose-gc).
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { trainLeadModel } from "../src/lead-scoring/train.ts";
import { CURRENT_MODEL_ARTIFACT } from "../src/lead-scoring/artifact.ts";
import { toLeadRecords } from "../src/lead-scoring/dataset.ts";
import { loadModelSource } from "../src/serve/models.ts";
import { EMPTY_BEHAVIOUR } from "../src/serve/behaviour.ts";
import { startScoringServer } from "../src/serve/server.ts";
import { syntheticLeads } from "../test/support/synthetic-leads.ts";

const rounds = Number(process.argv[2] ?? 300);
const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bench-serve-"));
const leads = syntheticLeads(3000, 11);
const records = toLeadRecords(leads);
// The project's default booster settings (includes/settings.js lead_xgb_params), a fixed number of rounds.
const trained = await trainLeadModel(records, records.map((r) => (r.converted ? 1 : 0)), {
  featureColumns: ["do_not_email", "lead_source", "total_visits", "web_session_count"], split: "time", validationShare: 0.2, testShare: 0.2,
  seed: 1, categorical: "one_hot", params: { max_depth: 3, eta: 0.03, min_child_weight: 10, lambda: 5, subsample: 0.8, colsample_bytree: 0.8 },
  maxRounds: rounds, earlyStoppingRounds: rounds, scoreCutoff: 45, runId: "bench", now: new Date("2025-01-01T00:00:00Z"),
});
const artifacts = new LocalArtifactStore(dir);
await artifacts.put(CURRENT_MODEL_ARTIFACT, JSON.stringify(trained.artifact));
const models = await loadModelSource(artifacts);
const srv = await startScoringServer({ models, behaviour: EMPTY_BEHAVIOUR, scoreCutoff: 45, host: "127.0.0.1", port: 0 });
console.log(`URL:${srv.url} TREES:${models.current.booster.numTrees}`);
const gc = (globalThis as { gc?: () => void }).gc;
createInterface({ input: process.stdin }).on("line", (l) => {
  if (l.trim() === "mem") {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    console.log(`MEM:${m.heapUsed},${m.rss}`);
  }
}).on("close", () => {
  void srv.close().then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
