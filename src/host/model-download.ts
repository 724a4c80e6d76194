// Downloading a model for "TEMPO: Download Model…": node-llama-cpp's downloader (hf: URIs, from
// huggingface.co or a mirror, and http(s) URLs) into a folder, with progress and cancel, and a
// check that what arrived is a GGUF file. Plain Node (no vscode, no IPC): the engine host runs
// it, tests run it against a local server.
import { closeSync, existsSync, openSync, readSync, rmSync } from "node:fs";
import { TempoInputError } from "../engine/errors.js";

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Bytes so far and in total (0 while unknown), as often as the downloader reports them. */
  onProgress?(downloadedBytes: number, totalBytes: number): void;
  /** How long reaching the server may take (the downloader retries refused connections forever). */
  connectTimeoutMs?: number;
  /**
   * Where `hf:` URIs resolve: a mirror or proxy of huggingface.co (its `/v2/<user>/<repo>/manifests/<quant>`
   * and `/<user>/<repo>/resolve/main/<file>` paths). Unset: node-llama-cpp's default, the HF_ENDPOINT or
   * MODEL_ENDPOINT environment variable, else https://huggingface.co/.
   */
  huggingFaceEndpoint?: string;
}

export const DOWNLOAD_CONNECT_TIMEOUT_MS = 60_000;

/** Resolves with the path of the downloaded `.gguf` inside `dirPath`; rejects with a TempoInputError the user can act on. */
export async function downloadModelFile(uri: string, dirPath: string, o: DownloadOptions = {}): Promise<string> {
  const signal = o.signal ?? new AbortController().signal;
  // node-llama-cpp ignores an endpoint that is not a URL and quietly uses huggingface.co instead.
  if (o.huggingFaceEndpoint !== undefined && !isHttpUrl(o.huggingFaceEndpoint)) {
    throw new TempoInputError(`the Hugging Face endpoint ${JSON.stringify(o.huggingFaceEndpoint)} is not an http(s) URL`);
  }
  const { createModelDownloader } = await import("node-llama-cpp");
  const creating = createModelDownloader({
    modelUri: uri,
    dirPath,
    skipExisting: true,
    deleteTempFileOnCancel: true,
    endpoints: o.huggingFaceEndpoint === undefined ? undefined : { huggingFace: o.huggingFaceEndpoint },
    onProgress: ({ totalSize, downloadedSize }) => o.onProgress?.(downloadedSize, totalSize),
  });
  let path: string;
  try {
    const downloader = await abortable(creating, signal, o.connectTimeoutMs ?? DOWNLOAD_CONNECT_TIMEOUT_MS, `reaching ${uri}`);
    path = await downloader.download({ signal });
  } catch (e) {
    throw explain(e, uri);
  }
  // A cancelled download resolves (with the path it would have had) instead of rejecting.
  if (signal.aborted) {
    rmSync(path, { force: true });
    throw new TempoInputError(`downloading ${uri}: cancelled`);
  }
  const magic = firstBytes(path, 4);
  if (magic.toString("latin1") !== "GGUF") {
    rmSync(path, { force: true });
    const start = JSON.stringify(magic.toString("latin1"));
    throw new TempoInputError(`${uri} is not a GGUF model file (it starts with ${start}: an error or login page?); nothing was kept`);
  }
  return path;
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

function firstBytes(path: string, n: number): Buffer {
  if (!existsSync(path)) return Buffer.alloc(0);
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The downloader's HTTP errors carry a status; say it in words. */
function explain(e: unknown, uri: string): Error {
  if (e instanceof TempoInputError) return e;
  const status = (e as { statusCode?: unknown; statusText?: unknown }).statusCode;
  if (typeof status === "number") {
    const text = (e as { statusText?: unknown }).statusText;
    return new TempoInputError(`${uri}: the server answered ${status}${typeof text === "string" && text ? ` ${text}` : ""}`);
  }
  // An hf: repo or quantisation the endpoint does not have (node-llama-cpp throws a plain Error):
  // the user's input, so the notification offers the settings rather than an internal error.
  if (e instanceof Error && /or it does not exist/.test(e.message)) return new TempoInputError(e.message);
  return e instanceof Error ? e : new Error(String(e));
}

/** Rejects when `signal` aborts or `ms` pass, whichever comes first; `p` may go on in the background. */
function abortable<T>(p: Promise<T>, signal: AbortSignal, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new TempoInputError(`${what}: cancelled`));
    const timer = setTimeout(() => reject(new TempoInputError(`${what}: no answer within ${ms / 1000} s (offline, or a wrong URL?)`)), ms);
    const onAbort = (): void => reject(new TempoInputError(`${what}: cancelled`));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    });
  });
}
