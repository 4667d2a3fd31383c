import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Storage } from "@google-cloud/storage";
import { createArtifactStore } from "../src/artifacts/store.ts";
import { startFakeGcs, type FakeGcs } from "./support/fake-gcs.ts";

describe("artifact stores", () => {
  it("writes and reads artifacts in a local folder, refusing names that leave it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-art-"));
    const store = await createArtifactStore(dir);
    const file = await store.put("runs/r1/report.html", "<html></html>");
    assert.equal(readFileSync(file, "utf8"), "<html></html>");
    assert.equal((await store.get("runs/r1/report.html"))?.toString(), "<html></html>");
    assert.equal(await store.get("runs/none.json"), undefined);
    await assert.rejects(store.put("../escape.txt", "x"), /invalid artifact name/);
  });

  describe("gs://bucket/prefix through @google-cloud/storage", () => {
    let gcs: FakeGcs;
    before(async () => { gcs = await startFakeGcs(); });
    after(async () => gcs.close());

    it("uploads under the prefix and downloads the same bytes", async () => {
      const storage = new Storage({ apiEndpoint: gcs.url, projectId: "p", useAuthWithCustomEndpoint: false });
      const store = await createArtifactStore("gs://funnelcredit-artifacts/team/prod", { storage });
      const bytes = Buffer.from(JSON.stringify({ type: "funnelcredit.xgboost", v: [1, 2, 3] }));
      const uri = await store.put("models/ml/r1.json", bytes, "application/json");
      assert.equal(uri, "gs://funnelcredit-artifacts/team/prod/models/ml/r1.json");
      assert.deepEqual(gcs.objects.get("funnelcredit-artifacts/team/prod/models/ml/r1.json"), bytes);
      assert.deepEqual(await store.get("models/ml/r1.json"), bytes);
      assert.equal(await store.get("models/ml/missing.json"), undefined);
    });

    it("refuses a malformed bucket URI with a clear message", async () => {
      await assert.rejects(createArtifactStore("gs://Bad_Bucket!"), /expected gs:\/\/bucket\/prefix/);
    });
  });
});
