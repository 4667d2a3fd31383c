/**
 * Lead scores on request: an HTTP endpoint (node:http) scoring one lead payload with the current lead-
 * scoring model, or a named version of it.
 *
 *   POST /v1/score   {"lead": {…lead columns…}, "model_version"?: "lead_scoring@…"}
 *     200 {lead_id, model_version, probability, score, segment, top_factors: [{feature, contribution, direction}], web_behaviour}
 *     400 {error, field}  invalid body (the field is named)     401  missing or wrong bearer token
 *     404 {error}         unknown model version                 409  the version's artifact holds another version
 *     413                 body over 64 KB
 *   GET /v1/health   200 {status: "ok", model_version, behaviour_leads, behaviour_read_at}
 *
 * Bound to loopback by default; any other address needs a bearer token (refused at start without one).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { scoreLeads } from "../lead-scoring/score.ts";
import { toLeadRecords } from "../lead-scoring/dataset.ts";
import type { LoadedLeadModel } from "../lead-scoring/artifact.ts";
import { UserError } from "../util/errors.ts";
import { checkAgainstEncoder, parseScoreRequest, PayloadError } from "./payload.ts";
import { withBehaviour, type BehaviourSnapshot } from "./behaviour.ts";

export interface ModelSource {
  current: LoadedLeadModel;
  /** A saved version, undefined when there is none; throws ModelVersionConflict when the file holds another version. */
  version(modelVersion: string): Promise<LoadedLeadModel | undefined>;
}

export class ModelVersionConflict extends Error {}

interface ScoringServerOptions {
  models: ModelSource;
  behaviour: BehaviourSnapshot;
  /** vars.lead_score_cutoff. */
  scoreCutoff: number;
  host?: string;
  port?: number;
  /** Bearer token; required unless the host is a loopback address. */
  token?: string;
  topFactors?: number;
  now?: () => Date;
}

export interface ScoringServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  const h = host.replace(/^\[|\]$/g, "");
  return h === "::1" || h === "::ffff:127.0.0.1";
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const h = req.headers.authorization ?? "";
  const m = /^Bearer (.+)$/.exec(h);
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Start the server. @throws UserError when bound to a non-loopback address without a token.
 */
export async function startScoringServer(opts: ScoringServerOptions): Promise<ScoringServer> {
  const host = opts.host ?? "127.0.0.1";
  if (!isLoopback(host) && !opts.token) {
    throw new UserError(`serve: --host ${host} is not a loopback address; set a bearer token (--token-env names the environment variable) or bind to 127.0.0.1`);
  }
  const now = opts.now ?? (() => new Date());
  const topK = opts.topFactors ?? 5;

  const score = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if (body === null) return send(res, 413, { error: `body over ${MAX_BODY} bytes` });
    let request;
    try {
      request = parseScoreRequest(body);
    } catch (e) {
      if (e instanceof PayloadError) return send(res, 400, { error: e.message, field: e.field });
      throw e;
    }
    let model = opts.models.current;
    if (request.modelVersion !== undefined && request.modelVersion !== model.artifact.modelVersion) {
      let found: LoadedLeadModel | undefined;
      try {
        found = await opts.models.version(request.modelVersion);
      } catch (e) {
        if (e instanceof ModelVersionConflict) return send(res, 409, { error: e.message, field: "model_version" });
        throw e;
      }
      if (!found) return send(res, 404, { error: `unknown model version ${JSON.stringify(request.modelVersion)}; the current one is ${model.artifact.modelVersion}`, field: "model_version" });
      model = found;
    }
    const { row, source } = withBehaviour(request.lead, opts.behaviour);
    try {
      checkAgainstEncoder(row, model.artifact.encoder);
    } catch (e) {
      if (e instanceof PayloadError) return send(res, 400, { error: e.message, field: e.field });
      throw e;
    }
    const leadId = row.lead_id === undefined || row.lead_id === null ? "(request)" : String(row.lead_id);
    const [rec] = toLeadRecords([{ ...row, lead_id: leadId }], "request");
    const [s] = scoreLeads(model, [rec!], now(), opts.scoreCutoff, topK);
    send(res, 200, {
      lead_id: s!.lead_id, model_version: s!.model_version, probability: s!.probability, score: s!.score, segment: s!.segment,
      top_factors: s!.key_factors, web_behaviour: source,
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const handle = async (): Promise<void> => {
      if (!authorised(req, opts.token)) {
        res.setHeader("www-authenticate", "Bearer");
        return send(res, 401, { error: "missing or wrong bearer token" });
      }
      if (path === "/v1/score") {
        if (req.method !== "POST") return send(res, 405, { error: "use POST" });
        return score(req, res);
      }
      if (path === "/v1/health") {
        return send(res, 200, {
          status: "ok", model_version: opts.models.current.artifact.modelVersion,
          behaviour_leads: opts.behaviour.leads, behaviour_read_at: opts.behaviour.readAt.toISOString(),
        });
      }
      return send(res, 404, { error: `no route ${path}; use POST /v1/score or GET /v1/health` });
    };
    handle().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (e as Error).message });
      else res.destroy();
    });
  });
  // Idle keep-alive connections stay open a minute (Node's default is 5 s): a client pool at a steady rate keeps
  // reusing them, and a server closing a socket just as the client reuses it answers with a reset.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port;
  const shownHost = isIP(host) === 6 ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
