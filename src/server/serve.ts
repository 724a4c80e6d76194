/**
 * `tempo serve`: the engine over HTTP on 127.0.0.1 only, for notebooks and scripts. Every
 * request carries `Authorization: Bearer <token>`; the token is random per start and written
 * to a file only the user can read (mode 0600). One queue per model: requests run one after
 * another, each in its own session; a client that disconnects cancels its request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { AddressInfo } from "node:net";
import { TempoInputError } from "../engine/errors.js";
import { compare, completions, evaluate, generate, type Endpoint, type ServedModel } from "./api.js";

/** Request bodies larger than this are refused (413): prompts, not files. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ServeOptions extends ServedModel {
  /** 0 picks a free port. */
  port: number;
  tokenFile: string;
}

export interface RunningServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const ENDPOINTS: Record<string, Endpoint> = { "/v1/completions": completions, "/tempo/generate": generate, "/tempo/compare": compare, "/tempo/eval": evaluate };

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const token = randomBytes(24).toString("base64url");
  mkdirSync(dirname(o.tokenFile), { recursive: true });
  writeFileSync(o.tokenFile, token + "\n", { mode: 0o600 });
  chmodSync(o.tokenFile, 0o600); // an older file keeps its mode otherwise
  const expected = Buffer.from(`Bearer ${token}`);
  const authorised = (req: IncomingMessage) => {
    const got = Buffer.from(req.headers.authorization ?? "");
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  let queue: Promise<unknown> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!authorised(req)) throw new HttpError(401, "missing or wrong bearer token (see the token file tempo serve printed)");
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/v1/models") return { object: "list", data: [{ id: o.model.info.fileName, object: "model", owned_by: "local" }] };
    const endpoint = ENDPOINTS[path];
    if (!endpoint) throw new HttpError(404, `no endpoint ${req.method} ${path}; there are GET /v1/models, POST ${Object.keys(ENDPOINTS).join(", POST ")}`);
    if (req.method !== "POST") throw new HttpError(405, `${path} takes POST`);
    const request = endpoint(parseJson(await readBody(req)), o);
    const controller = new AbortController();
    res.on("close", () => { if (!res.writableEnded) controller.abort(); });
    const job = queue.then(async () => {
      if (controller.signal.aborted) return undefined;
      return request.run(controller.signal);
    });
    queue = job.catch(() => undefined);
    return job;
  };

  const server = createServer((req, res) => {
    handle(req, res).then(
      (body) => { if (body !== undefined) send(res, 200, body); },
      (e: unknown) => {
        const status = e instanceof HttpError ? e.status : e instanceof TempoInputError ? 400 : 500;
        const message = e instanceof Error ? e.message : String(e);
        send(res, status, { error: { message, type: status === 500 ? "internal_error" : "invalid_request_error" } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const forget = () => { try { unlinkSync(o.tokenFile); } catch { /* already gone */ } };
  process.once("exit", forget);
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () => new Promise((resolve) => {
      forget();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body) + "\n");
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) { reject(new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes`)); req.destroy(); return; }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try { return JSON.parse(text); } catch { throw new HttpError(400, "the request body is not JSON"); }
}
