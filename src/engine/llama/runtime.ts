/**
 * One libllama per process: node-llama-cpp picks and loads the right prebuilt binary
 * (CUDA / Vulkan / Metal / CPU); we then open the SAME loaded image through koffi, so the
 * backends it registered are ours too (no second backend init, no second logger).
 */
import koffi from "koffi";
import { createRequire } from "node:module";
import { packageOf } from "./package-info.js";
import { bindLlamaApi, LlamaApi, verifyLayouts } from "./c-api.js";

type NodeLlamaCpp = typeof import("node-llama-cpp");
type Llama = Awaited<ReturnType<NodeLlamaCpp["getLlama"]>>;

export interface LlamaRuntime {
  /** node-llama-cpp's handle: tokenizer, chat templates, downloads. */
  llama: Llama;
  api: LlamaApi;
  /** "CPU", "CUDA", "Vulkan" or "Metal". */
  backend: string;
  versions: { nodeLlamaCpp: string; llamaCpp: string; libllamaPath: string };
  /** Math cores: the most threads an automatic session decodes with (SessionOptions.threads). */
  readonly threads: number;
}

export type GpuChoice = "auto" | "cpu";

let runtimePromise: Promise<LlamaRuntime> | undefined;

export function loadRuntime(gpu: GpuChoice = "auto"): Promise<LlamaRuntime> {
  runtimePromise ??= openRuntime(gpu);
  return runtimePromise;
}

export function nodeLlamaCppVersion(): string {
  // Its "exports" hide package.json: find it above the resolved entry point.
  return packageOf(createRequire(import.meta.url).resolve("node-llama-cpp")).version;
}

function loadedLibrary(pattern: RegExp, what: string): string {
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  const path = report.sharedObjects.find((p) => pattern.test(p));
  if (!path) throw new Error(`node-llama-cpp loaded no ${what}; loaded libraries: ${report.sharedObjects.filter((p) => /llama|ggml/.test(p)).join(", ")}`);
  return path;
}

async function openRuntime(gpu: GpuChoice): Promise<LlamaRuntime> {
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ build: "never", gpu: gpu === "cpu" ? false : "auto", logLevel: "error" as never });
  const libllamaPath = loadedLibrary(/libllama(\.[a-z]+)?\.v[\d.]+\.(so|dylib)$|llama(\.[a-z]+)?\.dll$/, "libllama");
  const ggmlBasePath = loadedLibrary(/libggml-base\.(so|dylib)$|ggml-base\.dll$/, "libggml-base");
  const api = bindLlamaApi(koffi.load(libllamaPath), koffi.load(ggmlBasePath));
  const nlcVersion = nodeLlamaCppVersion();
  verifyLayouts(api, nlcVersion);
  const backend = llama.gpu === false ? "CPU" : llama.gpu === "cuda" ? "CUDA" : llama.gpu === "vulkan" ? "Vulkan" : "Metal";
  return {
    llama, api, backend,
    versions: { nodeLlamaCpp: nlcVersion, llamaCpp: api.llama_version() as string, libllamaPath },
    threads: Math.max(1, llama.cpuMathCores),
  };
}
