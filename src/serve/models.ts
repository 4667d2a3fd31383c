/**
 * The models the server scores with: the current one (`models/lead-scoring/current.json`, as the lead-
 * scoring job saves it) and any saved version, read from the artifact store on first use and kept.
 */
import type { ArtifactStore } from "../artifacts/store.ts";
import { CURRENT_MODEL_ARTIFACT, loadLeadModel, type LoadedLeadModel } from "../lead-scoring/artifact.ts";
import { prepareTreeShap } from "../models/xgboost/index.ts";
import { UserError } from "../util/errors.ts";
import { ModelVersionConflict, type ModelSource } from "./server.ts";

/** Artifact name of a saved version, as the job writes it. */
export const versionArtifact = (modelVersion: string): string => `models/lead-scoring/${modelVersion.replace("@", "-")}.json`;

/** The model with its explanation tables built, so a request never waits for them (prepareTreeShap). */
function prepared(m: LoadedLeadModel): LoadedLeadModel {
  prepareTreeShap(m.booster.forest);
  return m;
}

/** @throws UserError when there is no current model (train one first). */
export async function loadModelSource(artifacts: ArtifactStore): Promise<ModelSource> {
  const saved = await artifacts.get(CURRENT_MODEL_ARTIFACT);
  if (!saved) throw new UserError(`serve: no lead-scoring model at ${artifacts.uri(CURRENT_MODEL_ARTIFACT)}; run the lead_scoring job first (funnelcredit run --actions lead_scoring)`);
  const current = prepared(loadLeadModel(saved));
  const cache = new Map<string, LoadedLeadModel>([[current.artifact.modelVersion, current]]);
  return {
    current,
    async version(v) {
      if (cache.has(v)) return cache.get(v);
      // Only names the job can have written: nothing from the request reaches a path otherwise.
      if (!/^lead_scoring@[0-9a-f]{12}$/.test(v)) return undefined;
      const bytes = await artifacts.get(versionArtifact(v));
      const m = bytes ? prepared(loadLeadModel(bytes)) : undefined;
      if (m && m.artifact.modelVersion !== v) throw new ModelVersionConflict(`${versionArtifact(v)} holds ${m.artifact.modelVersion}, not ${v}`);
      // Only versions that exist are kept: unknown names asked for cannot grow the cache.
      if (m) cache.set(v, m);
      return m;
    },
  };
}
