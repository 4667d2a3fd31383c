/**
 * Champion and challenger: a retrained lead-scoring model becomes current only if it is at least as
 * good as the model in use on the same newest leads. Checked with a deliberately worse challenger
 * (trained on shuffled labels) on X Education's leads through the real DuckDB pipeline, and the
 * `funnelcredit models list|promote|rollback` command on a local folder and on gs://.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { Storage } from "@google-cloud/storage";
import { compiledProject, memoryEngine, rowsOf, assertRunSucceeded, SHARED_DATA } from "./support/warehouse.ts";
import { runCli } from "./support/cli.ts";
import { acquireLease } from "../src/engines/duckdb/file-lease.ts";
import { startFakeGcs } from "./support/fake-gcs.ts";
import { runGraph } from "../src/runner/runner.ts";
import { createArtifactStore, LocalArtifactStore, type ArtifactStore } from "../src/artifacts/store.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { loadLeadModel, CURRENT_MODEL_ARTIFACT, type LeadModelArtifact, type LoadedLeadModel } from "../src/lead-scoring/artifact.ts";
import { trainLeadModel } from "../src/lead-scoring/train.ts";
import { comparisonWindow, decideChallenger } from "../src/lead-scoring/champion.ts";
import { listVersions, promoteVersion, recordTrainedModel, rollbackVersion, versionArtifact } from "../src/lead-scoring/versions.ts";
import type { LeadRecord } from "../src/lead-scoring/dataset.ts";
import type { BoostParams } from "../src/models/xgboost/index.ts";
import type { Row } from "../src/engines/engine.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";

/** Deterministic pseudo-random numbers in [0, 1) (LCG). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** 600 leads, one a day-hour apart; `visits` carries the signal (logit 1.2·(visits − 2)), `city` is noise. */
function syntheticLeads(): { records: LeadRecord[]; labels: number[] } {
  const rnd = lcg(11);
  const records: LeadRecord[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 600; i++) {
    const visits = Math.floor(rnd() * 5);
    const y = rnd() < 1 / (1 + Math.exp(-1.2 * (visits - 2))) ? 1 : 0;
    const t = Date.UTC(2024, 0, 1) + i * 3_600_000;
    records.push({ leadId: `L${String(i).padStart(4, "0")}`, createdAt: t, cutoffAt: t, convertedAt: null, converted: y === 1, row: { visits, city: ["A", "B", "C"][Math.floor(rnd() * 3)]! } });
    labels.push(y);
  }
  return { records, labels };
}

async function train(records: LeadRecord[], labels: number[], runId: string): Promise<LoadedLeadModel & { testIdx: number[] }> {
  const t = await trainLeadModel(records, labels, {
    featureColumns: ["city", "visits"], split: "time", validationShare: 0.2, testShare: 0.2, seed: 1, categorical: "one_hot",
    params: { max_depth: 2, eta: 0.3 } as BoostParams, maxRounds: 20, scoreCutoff: 50, runId, now: new Date("2024-03-01T00:00:00Z"),
  });
  return { artifact: t.artifact, booster: t.booster, testIdx: t.split.test };
}

/** Permute the labels of every lead but the newest `keepNewest` (a challenger trained on them learns nothing). */
function shuffledOlder(labels: number[], keepNewest: number): number[] {
  const out = [...labels];
  const rnd = lcg(5);
  for (let i = labels.length - keepNewest - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("champion and challenger (pure decision, synthetic leads)", function () {
  this.timeout(120_000);

  it("keeps the champion against a challenger trained on shuffled labels, and promotes an equal one (ties pass)", async () => {
    const { records, labels } = syntheticLeads();
    const champion = await train(records, labels, "r1");
    const worse = await train(records, shuffledOlder(labels, 120), "r2");
    const window = comparisonWindow(champion, worse.testIdx.map((i) => records[i]!), worse.testIdx.map((i) => labels[i]!));
    // Same data and split: the test window (the newest 120 leads) is newer than the champion's validation window.
    assert.equal(window.records.length, 120);
    assert.equal(window.outOfSampleForChampion, true);
    const d = decideChallenger(champion, worse, window, 0.005);
    assert.equal(d.promote, false, d.reason);
    assert.ok(d.champion.rocAuc > d.challenger.rocAuc + 0.1, d.reason);
    assert.match(d.reason, /^kept the champion: the challenger is worse \(its AUC is 0\.\d{4} lower/);
    assert.match(d.reason, new RegExp(`challenger ${worse.artifact.modelVersion} AUC .* champion ${champion.artifact.modelVersion} AUC`));
    const same = decideChallenger(champion, champion, window, 0);
    assert.equal(same.promote, true, same.reason);
    // A tolerance as large as the gap lets the worse one through (the setting does what it says).
    const gap = Math.max(d.champion.rocAuc - d.challenger.rocAuc, d.challenger.logLoss - d.champion.logLoss);
    assert.equal(decideChallenger(champion, worse, window, gap + 1e-9).promote, true);
  });

  it("judges only leads the champion never fitted on, or says it could not", async () => {
    const { records, labels } = syntheticLeads();
    const champion = await train(records.slice(0, 400), labels.slice(0, 400), "r1");
    // The champion's validation window ends at lead 319 (train 240, validation 80, test 80 of 400).
    const through = Date.parse(champion.artifact.baseline.through!);
    assert.equal(through, records[319]!.createdAt);
    const test = records.slice(300, 600);
    const w = comparisonWindow(champion, test, labels.slice(300, 600));
    assert.equal(w.records.length, 280);
    assert.equal(w.records[0]!.leadId, "L0320");
    assert.equal(w.outOfSampleForChampion, true);
    const tooFew = comparisonWindow(champion, records.slice(310, 325), labels.slice(310, 325));
    assert.equal(tooFew.records.length, 15);
    assert.equal(tooFew.outOfSampleForChampion, false);
    assert.match(tooFew.note, /newer than the champion's validation window \(need 10 of each\); the champion may have seen the others/);
  });
});

describe("model versions in the artifact store", function () {
  this.timeout(120_000);

  async function exercise(store: ArtifactStore): Promise<void> {
    const { records, labels } = syntheticLeads();
    const a = await train(records, labels, "r1");
    const b = await train(records, shuffledOlder(labels, 120), "r2");
    const at = new Date("2024-03-02T00:00:00Z");
    await recordTrainedModel(store, a.artifact, { promote: true, reason: "promoted: no model was in use" }, at);
    await recordTrainedModel(store, b.artifact, { promote: false, reason: "kept the champion: the challenger is worse" }, at);
    const current = async (): Promise<string> => loadLeadModel((await store.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion;
    assert.equal(await current(), a.artifact.modelVersion, "a rejected challenger does not replace current.json");
    let listed = await listVersions(store);
    assert.deepEqual(listed.map((v) => [v.modelVersion, v.current, v.decision]).sort(), [
      [a.artifact.modelVersion, true, "promoted"], [b.artifact.modelVersion, false, "rejected"],
    ].sort());
    // Promote by a prefix of the hash, roll back, roll back again (back where it was).
    const c = await promoteVersion(store, b.artifact.modelVersion.split("@")[1]!.slice(0, 8), at);
    assert.deepEqual([c.modelVersion, c.previous], [b.artifact.modelVersion, a.artifact.modelVersion]);
    assert.equal(await current(), b.artifact.modelVersion);
    assert.equal((await rollbackVersion(store, at)).modelVersion, a.artifact.modelVersion);
    assert.equal(await current(), a.artifact.modelVersion);
    assert.equal((await rollbackVersion(store, at)).modelVersion, b.artifact.modelVersion);
    listed = await listVersions(store);
    assert.equal(listed.find((v) => v.current)?.modelVersion, b.artifact.modelVersion);
    await assert.rejects(promoteVersion(store, "lead_scoring@ffffffffffff", at), /no lead-scoring model version "lead_scoring@ffffffffffff"; saved versions: lead_scoring@/);
  }

  it("lists, promotes and rolls back in a local folder", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-versions-"));
    try {
      await exercise(new LocalArtifactStore(dir));
      await assert.rejects(rollbackVersion(new LocalArtifactStore(path.join(dir, "empty")), new Date()), /nothing to roll back to: no current lead-scoring model/);
      // The same model trained again (same data and settings) is not a change of the current model.
      const again = new LocalArtifactStore(path.join(dir, "again"));
      const { records, labels } = syntheticLeads();
      const a = await train(records, labels, "r1");
      await recordTrainedModel(again, a.artifact, { promote: true, reason: "promoted: no model was in use" }, new Date());
      await recordTrainedModel(again, a.artifact, { promote: true, reason: "promoted: at least as good" }, new Date());
      await assert.rejects(rollbackVersion(again, new Date()), /nothing to roll back to: lead_scoring@\w+ became current with no model before it/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lists, promotes and rolls back models saved before the metric vocabulary was one (test_roc_auc, test_log_loss)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-versions-old-"));
    try {
      const { records, labels } = syntheticLeads();
      const a = await train(records, labels, "r1");
      const b = await train(records, shuffledOlder(labels, 120), "r2");
      // As an earlier version saved them: the same model, its test figures under lead scoring's old names.
      const old = (x: LeadModelArtifact): LeadModelArtifact => {
        const { auc, log_loss: logLoss, ...rest } = x.metrics;
        return { ...x, metrics: { ...rest, test_roc_auc: auc!, test_log_loss: logLoss! } };
      };
      const store: ArtifactStore = new LocalArtifactStore(dir);
      // Only current.json, as a store from before versions were recorded; then a rejected challenger.
      await store.put(CURRENT_MODEL_ARTIFACT, JSON.stringify(old(a.artifact)), "application/json");
      const at = new Date("2024-03-02T00:00:00Z");
      await recordTrainedModel(store, old(b.artifact), { promote: false, reason: "kept the champion: the challenger is worse" }, at);
      const listed = await listVersions(store);
      assert.deepEqual(listed.map((v) => [v.modelVersion, v.current, v.testRocAuc, v.testLogLoss]).sort(), [
        [a.artifact.modelVersion, true, a.artifact.metrics.auc, a.artifact.metrics.log_loss],
        [b.artifact.modelVersion, false, b.artifact.metrics.auc, b.artifact.metrics.log_loss],
      ].sort());
      assert.ok(listed.every((v) => Number.isFinite(v.testRocAuc) && Number.isFinite(v.testLogLoss)));
      // Promote the old challenger by its version; roll back to the old current model (its version file saved, as rollback needs it).
      const current = async (): Promise<string> => loadLeadModel((await store.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion;
      const c = await promoteVersion(store, b.artifact.modelVersion, at);
      assert.deepEqual([c.modelVersion, c.previous], [b.artifact.modelVersion, a.artifact.modelVersion]);
      assert.equal(await current(), b.artifact.modelVersion);
      await store.put(versionArtifact(a.artifact.modelVersion), JSON.stringify(old(a.artifact)));
      assert.equal((await rollbackVersion(store, at)).modelVersion, a.artifact.modelVersion);
      assert.equal(await current(), a.artifact.modelVersion);
      assert.equal(loadLeadModel((await store.get(CURRENT_MODEL_ARTIFACT))!).artifact.metrics.test_roc_auc, a.artifact.metrics.auc, "an old model scores as it was saved");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("promotes and rolls back from the CLI only while holding the warehouse lease: refused with the holder's name while a run holds it", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-versions-lease-"));
    try {
      const store = new LocalArtifactStore(path.join(dir, "art"));
      const { records, labels } = syntheticLeads();
      const a = await train(records, labels, "r1");
      const b = await train(records, shuffledOlder(labels, 120), "r2");
      await recordTrainedModel(store, a.artifact, { promote: true, reason: "promoted: no model was in use" }, new Date());
      await recordTrainedModel(store, b.artifact, { promote: false, reason: "kept the champion: the challenger is worse" }, new Date());
      const current = async (): Promise<string> => loadLeadModel((await store.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion;
      const warehouse = path.join(dir, "w.duckdb");
      const cli = (...args: string[]) => runCli(["models", ...args, "--artifacts", path.join(dir, "art"), "--warehouse", warehouse]);

      const lease = await acquireLease(`${warehouse}.lease`, "scheduled-run-1");
      try {
        for (const args of [["promote", b.artifact.modelVersion], ["rollback"]]) {
          const r = cli(...args);
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, /error: the warehouse is in use by run scheduled-run-1 .*--wait-for-lease SECONDS/);
          assert.equal(await current(), a.artifact.modelVersion, `models ${args[0]} changed nothing`);
        }
        assert.equal(cli("list").code, 0, "list only reads: no lease needed");
      } finally {
        lease.release();
      }
      let r = cli("promote", b.artifact.modelVersion);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await current(), b.artifact.modelVersion);
      r = cli("rollback");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await current(), a.artifact.modelVersion);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lists, promotes and rolls back under gs://bucket/prefix through @google-cloud/storage", async () => {
    const gcs = await startFakeGcs();
    try {
      const storage = new Storage({ apiEndpoint: gcs.url, projectId: "p", useAuthWithCustomEndpoint: false });
      const store = await createArtifactStore("gs://fc-models/team", { storage });
      await exercise(store);
      assert.ok(gcs.objects.has("fc-models/team/models/lead-scoring/versions.json"));
      assert.ok(gcs.objects.has("fc-models/team/models/lead-scoring/current.json"));
    } finally {
      await gcs.close();
    }
  });
});

describe("champion and challenger in the lead_scoring job (X Education leads, DuckDB pipeline)", function () {
  this.timeout(900_000);

  const vars = { lead_max_rounds: "150", lead_exclude_columns: '["lead_number"]' };
  const now = () => new Date("2025-01-01T00:00:00Z");

  async function metricsOf(engine: DuckDBEngine, schema: string, runId: string): Promise<Row[]> {
    return (await rowsOf(engine, schema, "model_metrics", "model, metric")).filter((r) => r.job === "lead_scoring").filter((r) => r.run_id === runId);
  }

  it("keeps scoring with the champion when the retrained model is worse, records both, and manages versions from the CLI", async () => {
    const project = await compiledProject(vars);
    const engine = await memoryEngine();
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-champion-"));
    try {
      const ds = project.settings.datasets;
      await importCsvOrNdjson(engine.localLoading, "leads", path.join(SHARED_DATA, "x-education-leads", "Leads.csv"), {
        idColumn: "Prospect ID", labelColumn: "Converted",
        exclude: ["Tags", "Lead Quality", "Lead Profile", "Last Activity", "Last Notable Activity", "Asymmetrique Activity Index",
          "Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score"],
        synthesiseCreatedAt: { orderColumn: "Lead Number", start: "2024-01-01", end: "2024-06-30" },
      });
      await ensureSourceTables(engine, project.settings);
      const artifacts = new LocalArtifactStore(dir);
      const run = async (runId: string, deps: boolean) => {
        const r = await runGraph({ graph: project.graph, engine, settings: project.settings, artifacts, now, runId, selection: { actions: ["lead_scoring"], includeDependencies: deps } });
        assertRunSucceeded(r);
        return r;
      };

      await run("r1", true);
      const champion = loadLeadModel((await artifacts.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion;
      const m1 = await metricsOf(engine, ds.models, "r1");
      assert.ok(m1.filter((r) => r.model !== "lead_scoring_logistic").every((r) => r.model === "lead_scoring" && r.model_version === champion), "first run: one model, no comparison");
      assert.ok(!m1.some((r) => r.metric === "challenger_promoted"));
      // The logistic-regression baseline beside the booster, on the same test window.
      const fig = (model: string, metric: string): number => Number(m1.find((r) => r.model === model && r.metric === metric)!.value);
      const figures = ["auc", "log_loss", "brier", "calibration_error", "lift_decile_1"].map((k) => `${k} ${fig("lead_scoring", k).toFixed(3)} / ${fig("lead_scoring_logistic", k).toFixed(3)}`);
      console.log(`      XGBoost / logistic regression: ${figures.join(", ")}`);
      assert.ok(fig("lead_scoring_logistic", "auc") > 0.8, "the baseline learns X Education's signal too");
      // Confidence per lead, and monitoring per lead source.
      const scores1 = await rowsOf(engine, ds.outputs, "lead_scores");
      assert.ok(scores1.every((r) => Number(r.score_confidence) > 0 && Number(r.score_confidence) <= 1));
      const conf = scores1.map((r) => Number(r.score_confidence)).sort((a, b) => a - b);
      console.log(`      score_confidence over ${conf.length} open leads: min ${conf[0]!.toFixed(3)}, median ${conf[conf.length >> 1]!.toFixed(3)}, max ${conf[conf.length - 1]!.toFixed(3)}`);
      const segs = (await rowsOf(engine, ds.models, "lead_score_monitoring")).filter((r) => r.run_id === "r1" && r.segment !== null);
      assert.ok(segs.some((r) => String(r.segment).startsWith("lead_source=Google")), segs.map((r) => r.segment).join(", "));
      for (const r of segs) console.log(`      segment ${r.segment}: PSI ${r.psi === null ? "-" : Number(r.psi).toFixed(3)}, AUC ${r.auc === null ? "-" : Number(r.auc).toFixed(3)}; ${r.reason}`);

      // Sales "lose" the outcomes of every lead but the newest fifth: their labels are shuffled among them.
      const L = `"${ds.sources}".leads`;
      const trueLabels = await engine.queryNative(`SELECT lead_id, converted FROM ${L}`);
      await engine.runNative(`
        CREATE TEMP TABLE older AS SELECT lead_id, converted, row_number() OVER (ORDER BY lead_id) AS a, row_number() OVER (ORDER BY hash(lead_id || 'x')) AS b
          FROM ${L} WHERE created_at < (SELECT quantile_disc(created_at, 0.8) FROM ${L});
        UPDATE ${L} SET converted = s.converted FROM (SELECT o1.lead_id, o2.converted FROM older o1 JOIN older o2 ON o1.a = o2.b) AS s WHERE ${L}.lead_id = s.lead_id;`);
      await run("r2", true);

      // The champion still scores every open lead; current.json is unchanged.
      assert.equal(loadLeadModel((await artifacts.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion, champion);
      const versions = new Set((await rowsOf(engine, ds.outputs, "lead_scores")).map((r) => r.model_version));
      assert.deepEqual([...versions], [champion]);
      const m2 = await metricsOf(engine, ds.models, "r2");
      const get = (model: string, metric: string): Row => m2.find((r) => r.model === model && r.metric === metric)!;
      assert.equal(get("lead_scoring", "challenger_promoted").value, 0);
      const challenger = String(get("lead_scoring_challenger", "window_auc").model_version);
      assert.notEqual(challenger, champion);
      assert.equal(get("lead_scoring", "window_auc").model_version, champion);
      const aucChampion = Number(get("lead_scoring", "window_auc").value);
      const aucChallenger = Number(get("lead_scoring_challenger", "window_auc").value);
      assert.ok(aucChampion > 0.8 && aucChallenger < aucChampion - 0.1, `champion ${aucChampion}, challenger ${aucChallenger}`);
      assert.ok(Number(get("lead_scoring_challenger", "window_log_loss").value) > Number(get("lead_scoring", "window_log_loss").value));
      assert.match(String(get("lead_scoring", "challenger_promoted").note), /^kept the champion: the challenger is worse \(its AUC is 0\.\d+ lower and its log loss is 0\.\d+ higher; challenger lead_scoring@\w+ AUC/);
      // The rejected challenger's own training figures are kept under its name, not as the model in use.
      assert.ok(get("lead_scoring_challenger", "auc"));
      assert.equal(m2.find((r) => r.model === "lead_scoring" && r.metric === "auc"), undefined);
      console.log(`      window AUC champion ${aucChampion.toFixed(3)} vs challenger ${aucChallenger.toFixed(3)} on ${get("lead_scoring", "window_leads").value} leads`);

      // The CLI sees both versions, promotes the challenger by hand and rolls back.
      const cli = (...a: string[]) => runCli(["models", ...a, "--artifacts", dir, "--warehouse", path.join(dir, "cli.duckdb")]);
      let r = cli("list", "--json");
      assert.equal(r.code, 0, r.stderr);
      const listed = (JSON.parse(r.stdout) as { versions: { modelVersion: string; current: boolean; decision: string }[] }).versions;
      assert.deepEqual(listed.map((v) => [v.modelVersion, v.current, v.decision]).sort(), [[champion, true, "promoted"], [challenger, false, "rejected"]].sort());
      r = cli("promote", challenger);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout + r.stderr, new RegExp(`${challenger} is now the current lead-scoring model \\(was ${champion}\\)`));
      r = cli("rollback");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(loadLeadModel((await artifacts.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion, champion);
      r = cli("promote", "lead_scoring@000000000000");
      assert.equal(r.code, 2);
      assert.match(r.stderr + r.stdout, /no lead-scoring model version "lead_scoring@000000000000"; saved versions: /);

      // With the bad model current (promoted by hand) and the true labels back, the retrained model is better: promoted.
      assert.equal(cli("promote", challenger).code, 0);
      await engine.runNative(`DROP TABLE older; CREATE TEMP TABLE truth (lead_id VARCHAR, converted BOOLEAN)`);
      const values = trueLabels.map((t) => `('${String(t.lead_id).replace(/'/g, "''")}', ${t.converted === null ? "NULL" : t.converted ? "TRUE" : "FALSE"})`).join(",");
      await engine.runNative(`INSERT INTO truth VALUES ${values}; UPDATE ${L} SET converted = truth.converted FROM truth WHERE ${L}.lead_id = truth.lead_id`);
      await run("r3", true);
      const m3 = await metricsOf(engine, ds.models, "r3");
      assert.equal(m3.find((x) => x.metric === "challenger_promoted")!.value, 1);
      assert.equal(loadLeadModel((await artifacts.get(CURRENT_MODEL_ARTIFACT))!).artifact.modelVersion, champion, "retrained on the same data: the first model again");
      assert.deepEqual([...new Set((await rowsOf(engine, ds.outputs, "lead_scores")).map((x) => x.model_version))], [champion]);
      assert.ok(m3.some((x) => x.model === "lead_scoring_replaced" && x.model_version === challenger && x.metric === "window_auc"));
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a metrics history written before model_version and note existed", () => {
  it("gains the new columns on the next append (DuckDB), NULL on the earlier rows, as BigQuery's ALLOW_FIELD_ADDITION does", async () => {
    const engine = await memoryEngine();
    try {
      const t = { database: "db", schema: "m", name: "lead_scoring_metrics" };
      const old = [{ name: "run_id", type: "STRING" }, { name: "metric", type: "STRING" }, { name: "value", type: "FLOAT64" }] as const;
      await engine.writeRows(t, [...old], [{ run_id: "r0", metric: "test_roc_auc", value: 0.8 }], { mode: "replace" });
      await engine.writeRows(t, [...old, { name: "note", type: "STRING" }], [{ run_id: "r1", metric: "challenger_promoted", value: 0, note: "kept the champion" }], { mode: "append" });
      assert.deepEqual((await engine.queryNative(`SELECT run_id, note FROM m.lead_scoring_metrics ORDER BY run_id`)).map((r) => [r.run_id, r.note]), [["r0", null], ["r1", "kept the champion"]]);
    } finally {
      await engine.close();
    }
  });
});
