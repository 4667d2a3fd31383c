/**
 * `funnelcredit serve`: contract tests over real HTTP on 127.0.0.1 (port 0) with a trained model saved
 * in an artifact store and a web-behaviour snapshot read from a DuckDB lead_features table.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { memoryEngine, fixtureTable } from "./support/warehouse.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { trainLeadModel } from "../src/lead-scoring/train.ts";
import { CURRENT_MODEL_ARTIFACT, loadLeadModel } from "../src/lead-scoring/artifact.ts";
import { toLeadRecords } from "../src/lead-scoring/dataset.ts";
import { scoreLeads } from "../src/lead-scoring/score.ts";
import { loadModelSource, versionArtifact } from "../src/serve/models.ts";
import { readBehaviour } from "../src/serve/behaviour.ts";
import { startScoringServer, isLoopback, type ScoringServer } from "../src/serve/server.ts";
import type { Row } from "../src/engines/engine.ts";
import { syntheticLeads } from "./support/synthetic-leads.ts";

describe("serve: lead scores on request over HTTP", function () {
  this.timeout(300_000);
  let dir: string;
  let srv: ScoringServer;
  let leads: Row[];
  let model: Awaited<ReturnType<typeof loadModelSource>>;
  let behaviour: Awaited<ReturnType<typeof readBehaviour>>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "fc-serve-"));
    leads = syntheticLeads();
    const records = toLeadRecords(leads);
    const trained = await trainLeadModel(records, records.map((r) => (r.converted ? 1 : 0)), {
      featureColumns: ["do_not_email", "lead_source", "total_visits", "web_session_count"], split: "time", validationShare: 0.2, testShare: 0.2,
      seed: 1, categorical: "one_hot", params: { max_depth: 3, eta: 0.1 }, maxRounds: 60, scoreCutoff: 45, runId: "t", now: new Date("2024-06-01T00:00:00Z"),
    });
    const artifacts = new LocalArtifactStore(dir);
    const json = JSON.stringify(trained.artifact);
    await artifacts.put(CURRENT_MODEL_ARTIFACT, json);
    await artifacts.put(versionArtifact(trained.artifact.modelVersion), json);
    model = await loadModelSource(artifacts);
    const engine = await memoryEngine();
    try {
      await fixtureTable(engine, "funnelcredit_intermediate", "lead_features",
        { lead_id: "VARCHAR", created_at: "TIMESTAMP", user_id: "VARCHAR", client_id: "VARCHAR", web_session_count: "BIGINT" },
        [["L1", "2024-01-01 00:00:00", "known-user", null, 5], ["L2", "2024-01-02 00:00:00", null, "known-client", 0]]);
      behaviour = await readBehaviour(engine, { database: "memory", schema: "funnelcredit_intermediate", name: "lead_features" }, new Date());
    } finally {
      await engine.close();
    }
    srv = await startScoringServer({ models: model, behaviour, scoreCutoff: 45, host: "127.0.0.1", port: 0, now: () => new Date("2024-06-01T00:00:00Z") });
  });
  after(async () => {
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown, headers: Record<string, string> = {}, url = srv.url) => {
    const res = await fetch(`${url}/v1/score`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("scores a valid lead: the probability, score, segment, top factors and version scoreLeads gives", async () => {
    const lead = { lead_id: "N1", total_visits: 7, lead_source: "Referral", do_not_email: "No", web_session_count: 3 };
    const r = await post({ lead });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [expected] = scoreLeads(model.current, toLeadRecords([lead]), new Date(), 45);
    assert.equal(r.body.lead_id, "N1");
    assert.equal(r.body.model_version, model.current.artifact.modelVersion);
    assert.equal(r.body.probability, expected!.probability);
    assert.equal(r.body.score, expected!.score);
    assert.equal(r.body.segment, expected!.segment);
    assert.deepEqual(r.body.top_factors, expected!.key_factors);
    assert.equal(r.body.web_behaviour, "payload");
    const named = await post({ lead, model_version: model.current.artifact.modelVersion });
    assert.equal(named.status, 200);
  });

  it("looks the web behaviour up in the warehouse snapshot when the lead names a user or client id", async () => {
    const base = { total_visits: 2, lead_source: "Google", do_not_email: "No" };
    const byUser = await post({ lead: { ...base, user_id: "known-user" } });
    const byClient = await post({ lead: { ...base, client_id: "known-client" } });
    assert.equal(byUser.body.web_behaviour, "warehouse");
    const [withFive] = scoreLeads(model.current, toLeadRecords([{ lead_id: "x", ...base, web_session_count: 5 }]), new Date(), 45);
    const [withZero] = scoreLeads(model.current, toLeadRecords([{ lead_id: "x", ...base, web_session_count: 0 }]), new Date(), 45);
    assert.equal(byUser.body.probability, withFive!.probability);
    assert.equal(byClient.body.probability, withZero!.probability);
    assert.notEqual(withFive!.probability, withZero!.probability, "the behaviour matters to this model");
    const unknown = await post({ lead: { ...base, user_id: "nobody" } });
    assert.equal(unknown.body.web_behaviour, "none");
  });

  it("answers 400 naming the field for invalid input", async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      ["{not json", "body", /not JSON/],
      [[1, 2], "body", /JSON object/],
      [{ lead: "x" }, "lead", /object of lead columns/],
      [{ lead: {}, extra: 1 }, "extra", /unknown field/],
      [{ lead: { total_visits: "many" } }, "lead.total_visits", /expected a number, got "many"/],
      [{ lead: { do_not_email: "perhaps" } }, "lead.do_not_email", /true\/false/],
      [{ lead: { lead_source: 3 } }, "lead.lead_source", /expected text/],
      [{ lead: { total_visits: [1] } }, "lead.total_visits", /got an array/],
      [{ lead: {}, model_version: 7 }, "model_version", /non-empty string/],
    ];
    for (const [body, field, message] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
      assert.equal(r.body.field, field);
      assert.match(String(r.body.error), message);
    }
    const big = await post({ lead: { lead_source: "x".repeat(70_000) } });
    assert.equal(big.status, 413);
  });

  it("answers 404 for an unknown model version or a name no saved version can have", async () => {
    const r = await post({ lead: { total_visits: 1 }, model_version: "lead_scoring@000000000000" });
    assert.equal(r.status, 404);
    assert.match(String(r.body.error), /unknown model version "lead_scoring@000000000000"; the current one is lead_scoring@/);
    const odd = await post({ lead: { total_visits: 1 }, model_version: "../../etc/passwd" });
    assert.equal(odd.status, 404);
    const health = await fetch(`${srv.url}/v1/health`);
    assert.equal(((await health.json()) as { model_version: string }).model_version, model.current.artifact.modelVersion);
  });

  it("refuses a non-loopback address without a token, and checks the bearer token when one is set", async () => {
    assert.equal(isLoopback("127.0.0.1"), true);
    assert.equal(isLoopback("::1"), true);
    assert.equal(isLoopback("0.0.0.0"), false);
    await assert.rejects(startScoringServer({ models: model, behaviour, scoreCutoff: 45, host: "0.0.0.0", port: 0 }), /not a loopback address; set a bearer token/);
    const guarded = await startScoringServer({ models: model, behaviour, scoreCutoff: 45, host: "127.0.0.1", port: 0, token: "s3cret" });
    try {
      assert.equal((await post({ lead: {} }, {}, guarded.url)).status, 401);
      assert.equal((await post({ lead: {} }, { authorization: "Bearer wrong!" }, guarded.url)).status, 401);
      assert.equal((await post({ lead: {} }, { authorization: "Bearer s3cret" }, guarded.url)).status, 200);
    } finally {
      await guarded.close();
    }
  });
});
