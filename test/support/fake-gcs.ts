/**
 * A loopback stand-in for the Cloud Storage JSON API calls the artifact store makes (simple and
 * multipart uploads, object metadata, media download), so the real @google-cloud/storage client
 * is tested without a cloud account.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { CRC32C } from "@google-cloud/storage";

export interface FakeGcs {
  url: string;
  objects: Map<string, Buffer>;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

function crc32cOf(data: Buffer): string {
  const c = new CRC32C();
  c.update(data);
  return c.toString();
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const objects = new Map<string, Buffer>();
  const requests: { method: string; path: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      requests.push({ method: req.method ?? "", path: url.pathname });
      const body = Buffer.concat(chunks);
      const json = (status: number, o: unknown): void => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(o)); };
      const meta = (bucket: string, name: string): Record<string, unknown> => {
        const data = objects.get(`${bucket}/${name}`) ?? Buffer.alloc(0);
        // The client checks these after an upload and a download, as it does against real GCS.
        return {
          kind: "storage#object", bucket, name, size: String(data.length),
          md5Hash: createHash("md5").update(data).digest("base64"), crc32c: crc32cOf(data),
        };
      };
      let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
      if (req.method === "POST" && m) {
        const bucket = m[1]!;
        let name = url.searchParams.get("name") ?? "";
        let data = body;
        if (url.searchParams.get("uploadType") === "multipart") {
          const boundary = /boundary=([^;]+)/.exec(String(req.headers["content-type"]))?.[1]?.replace(/"/g, "");
          const parts = body.toString("latin1").split(`--${boundary}`).filter((p) => p.trim() && p.trim() !== "--");
          const part = (p: string): string => p.slice(p.indexOf("\r\n\r\n") + 4).replace(/\r\n$/, "");
          name = name || (JSON.parse(part(parts[0]!)) as { name: string }).name;
          data = Buffer.from(part(parts[1]!), "latin1");
        }
        objects.set(`${bucket}/${name}`, data);
        return json(200, meta(bucket, name));
      }
      m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
      if (req.method === "GET" && m) {
        const key = `${m[1]}/${decodeURIComponent(m[2]!)}`;
        const data = objects.get(key);
        if (!data) return json(404, { error: { code: 404, message: "No such object" } });
        if (url.searchParams.get("alt") === "media") { res.writeHead(200, { "content-type": "application/octet-stream" }); return res.end(data); }
        return json(200, meta(m[1]!, decodeURIComponent(m[2]!)));
      }
      json(404, { error: { code: 404, message: `fake GCS: no route ${req.method} ${url.pathname}` } });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, objects, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
