/**
 * Versions of the lead-scoring model in the artifact store (a folder or gs://): every trained model
 * is kept as `models/lead-scoring/<model_version>.json`; `current.json` is the one that scores; and
 * `versions.json` records each version's figures, the champion/challenger decision and every change
 * of the current model (so `funnelcredit models rollback` knows what was current before).
 * The current model is always what `current.json` holds; `versions.json` is the history beside it.
 */
import type { ArtifactStore } from "../artifacts/store.ts";
import { UserError } from "../util/errors.ts";
import { CURRENT_MODEL_ARTIFACT, loadLeadModel, type LeadModelArtifact } from "./artifact.ts";

const VERSIONS_ARTIFACT = "models/lead-scoring/versions.json";
const VERSIONS_JSON_TYPE = "funnelcredit.lead_scoring_versions";

interface ModelVersionEntry {
  modelVersion: string;
  trainedAt: string;
  runId: string;
  /** Test-window figures of its training run. */
  testRocAuc: number | null;
  testLogLoss: number | null;
  /** What the training run decided: promoted (became current) or rejected (kept as a challenger). */
  decision: "promoted" | "rejected";
  reason: string;
}

interface CurrentChange {
  at: string;
  modelVersion: string;
  /** The version current before this change (null: none). */
  previous: string | null;
  action: "trained" | "promote" | "rollback";
  reason: string;
}

interface VersionRegistry {
  type: typeof VERSIONS_JSON_TYPE;
  version: 1;
  versions: ModelVersionEntry[];
  history: CurrentChange[];
}

/** Artifact name of one saved version. */
export function versionArtifact(modelVersion: string): string {
  return `models/lead-scoring/${modelVersion.replace("@", "-")}.json`;
}

async function currentVersion(store: ArtifactStore): Promise<{ modelVersion: string; artifact: LeadModelArtifact } | undefined> {
  const bytes = await store.get(CURRENT_MODEL_ARTIFACT);
  if (!bytes) return undefined;
  const { artifact } = loadLeadModel(bytes);
  return { modelVersion: artifact.modelVersion, artifact };
}

function entryOf(a: LeadModelArtifact, decision: ModelVersionEntry["decision"], reason: string): ModelVersionEntry {
  const m = (k: string): number | null => (Number.isFinite(a.metrics?.[k]) ? a.metrics[k]! : null);
  // Models saved before the metric vocabulary was one with ML attribution's call them test_roc_auc / test_log_loss.
  return { modelVersion: a.modelVersion, trainedAt: a.trainedAt, runId: a.runId, testRocAuc: m("auc") ?? m("test_roc_auc"), testLogLoss: m("log_loss") ?? m("test_log_loss"), decision, reason };
}

/**
 * The registry; a store written before versions were kept (only `current.json`) reads as one
 * version, current since its training.
 */
async function readVersions(store: ArtifactStore): Promise<VersionRegistry> {
  const bytes = await store.get(VERSIONS_ARTIFACT);
  if (bytes) {
    let o: VersionRegistry;
    try {
      o = JSON.parse(bytes.toString("utf8")) as VersionRegistry;
    } catch (e) {
      throw new UserError(`${store.uri(VERSIONS_ARTIFACT)} is not JSON (${(e as Error).message}); restore it or delete it (the versions' own files stay)`);
    }
    if (o?.type !== VERSIONS_JSON_TYPE || o.version !== 1 || !Array.isArray(o.versions) || !Array.isArray(o.history)) {
      throw new UserError(`${store.uri(VERSIONS_ARTIFACT)} is not a lead-scoring version list (type ${JSON.stringify(o?.type)})`);
    }
    return o;
  }
  const empty: VersionRegistry = { type: VERSIONS_JSON_TYPE, version: 1, versions: [], history: [] };
  const cur = await currentVersion(store).catch(() => undefined);
  if (cur) {
    empty.versions.push(entryOf(cur.artifact, "promoted", "current before versions were recorded"));
    empty.history.push({ at: cur.artifact.trainedAt, modelVersion: cur.modelVersion, previous: null, action: "trained", reason: "current before versions were recorded" });
  }
  return empty;
}

async function writeVersions(store: ArtifactStore, reg: VersionRegistry): Promise<void> {
  await store.put(VERSIONS_ARTIFACT, JSON.stringify(reg, null, 1), "application/json");
}

/**
 * Record a model trained by a run: its file is always kept (a rejected challenger can be promoted
 * later); `current.json` is replaced only when `promote`. Writes the version file, then
 * `current.json`, then `versions.json`, so a failure half-way never leaves `current.json` naming a
 * model whose file is missing.
 */
export async function recordTrainedModel(store: ArtifactStore, artifact: LeadModelArtifact, decision: { promote: boolean; reason: string }, at: Date): Promise<void> {
  const json = JSON.stringify(artifact);
  await store.put(versionArtifact(artifact.modelVersion), json, "application/json");
  const reg = await readVersions(store);
  const previous = (await currentVersion(store).catch(() => undefined))?.modelVersion ?? null;
  if (decision.promote) await store.put(CURRENT_MODEL_ARTIFACT, json, "application/json");
  reg.versions = reg.versions.filter((v) => v.modelVersion !== artifact.modelVersion);
  reg.versions.push(entryOf(artifact, decision.promote ? "promoted" : "rejected", decision.reason));
  // The same model trained again (same data and settings) does not change the current model: no history entry,
  // or rollback would "return" to the model it is on.
  if (decision.promote && previous !== artifact.modelVersion) reg.history.push({ at: at.toISOString(), modelVersion: artifact.modelVersion, previous, action: "trained", reason: decision.reason });
  await writeVersions(store, reg);
}

/** A version named in full (`lead_scoring@3f2a…`) or by an unambiguous prefix of its hash. */
function resolveVersion(reg: VersionRegistry, name: string): string {
  const hash = name.replace(/^lead_scoring@/, "");
  const matches = reg.versions.filter((v) => v.modelVersion.replace(/^lead_scoring@/, "").startsWith(hash));
  if (hash && matches.length === 1) return matches[0]!.modelVersion;
  const known = reg.versions.map((v) => v.modelVersion).join(", ") || "(none)";
  if (!hash || matches.length === 0) throw new UserError(`no lead-scoring model version ${JSON.stringify(name)}; saved versions: ${known}`);
  throw new UserError(`${JSON.stringify(name)} matches ${matches.length} versions (${matches.map((m) => m.modelVersion).join(", ")}); give more of the hash`);
}

async function makeCurrent(store: ArtifactStore, reg: VersionRegistry, modelVersion: string, action: "promote" | "rollback", reason: string, at: Date): Promise<CurrentChange> {
  const bytes = await store.get(versionArtifact(modelVersion));
  if (!bytes) throw new UserError(`the file of ${modelVersion} (${store.uri(versionArtifact(modelVersion))}) is missing; it cannot become current`);
  // Checked before it replaces the model in use: a damaged file must not start scoring.
  loadLeadModel(bytes);
  const previous = (await currentVersion(store).catch(() => undefined))?.modelVersion ?? null;
  if (previous === modelVersion) throw new UserError(`${modelVersion} is already the current lead-scoring model`);
  await store.put(CURRENT_MODEL_ARTIFACT, bytes, "application/json");
  const change: CurrentChange = { at: at.toISOString(), modelVersion, previous, action, reason };
  reg.history.push(change);
  await writeVersions(store, reg);
  return change;
}

/** Make a saved version current (`funnelcredit models promote VERSION`). */
export async function promoteVersion(store: ArtifactStore, name: string, at: Date): Promise<CurrentChange> {
  const reg = await readVersions(store);
  const v = resolveVersion(reg, name);
  return makeCurrent(store, reg, v, "promote", "promoted by hand", at);
}

/**
 * Make the version that was current before the latest change current again
 * (`funnelcredit models rollback`). Rolling back twice returns to where it started.
 */
export async function rollbackVersion(store: ArtifactStore, at: Date): Promise<CurrentChange> {
  const reg = await readVersions(store);
  const cur = (await currentVersion(store))?.modelVersion;
  const last = [...reg.history].reverse().find((h) => h.modelVersion === cur && h.previous !== cur);
  if (!cur || !last?.previous) throw new UserError(`nothing to roll back to: ${cur ? `${cur} became current with no model before it` : "no current lead-scoring model"}`);
  return makeCurrent(store, reg, last.previous, "rollback", `rolled back from ${cur}`, at);
}

interface ListedVersion extends ModelVersionEntry {
  current: boolean;
}

/** Every saved version, newest training first, the current one marked. */
export async function listVersions(store: ArtifactStore): Promise<ListedVersion[]> {
  const reg = await readVersions(store);
  const cur = (await currentVersion(store).catch(() => undefined))?.modelVersion;
  return reg.versions
    .map((v) => ({ ...v, current: v.modelVersion === cur }))
    .sort((a, b) => (a.trainedAt < b.trainedAt ? 1 : a.trainedAt > b.trainedAt ? -1 : a.modelVersion < b.modelVersion ? -1 : 1));
}
