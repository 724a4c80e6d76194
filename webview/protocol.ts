// Messages between the webviews (playground, comparison view) and the extension. Both sides
// validate what they receive with these zod schemas: the webview is an untrusted page, and the
// extension's messages are checked too so a version skew after an update fails loudly instead
// of rendering garbage. Step events reuse the engine protocol's schema (one shape everywhere).
import "./zod-csp.js";
import { z } from "zod";
import { generationSettingsSchema, runSummarySchema, stepEventSchema, type GenerationSettings, type RunSummary, type StepEventMessage } from "../src/protocol/engine.js";

export type { GenerationSettings, RunSummary, StepEventMessage };

/** Longest prompt the page may send (the context is far smaller; this only bounds memory). */
export const MAX_PROMPT_CHARS = 200_000;

const webviewMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ready"),
    /** Custom elements the page managed to define: proves the bundle ran under the CSP. */
    elements: z.array(z.string()).max(256),
    /** The body class VS Code gave the page (vscode-light | vscode-dark | vscode-high-contrast...). */
    theme: z.string().transform((s) => s.slice(0, 200)),
  }),
  z.object({
    type: z.literal("cspViolation"),
    directive: z.string().transform((s) => s.slice(0, 200)),
    blockedUri: z.string().transform((s) => s.slice(0, 500)),
  }),
  z.object({ type: z.literal("run"), prompt: z.string().max(MAX_PROMPT_CHARS), settings: generationSettingsSchema }),
  z.object({ type: z.literal("stop") }),
  z.object({ type: z.literal("exportCapture") }),
  /** Test hook answer: what the page rendered (see the in-host tests). */
  z.object({
    type: z.literal("rendered"),
    requestId: z.number().int(),
    chips: z.number().int(),
    text: z.string(),
    hasInjectedElement: z.boolean(),
    /** Longest main-thread task the page saw since it loaded (PerformanceObserver "longtask"), ms. */
    longestTaskMs: z.number(),
    /** Time spent validating the extension's messages so far, ms. */
    parseMs: z.number(),
  }),
]);
export type WebviewMessage = z.input<typeof webviewMessageSchema>;
export type ParsedWebviewMessage = z.output<typeof webviewMessageSchema>;

const modelLineSchema = z.object({ fileName: z.string(), backend: z.string().optional() });

const extensionMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("init"),
    extensionVersion: z.string(),
    /** The configured defaults for every control (settings `tempo.generation.*`). */
    defaults: generationSettingsSchema.optional(),
    model: modelLineSchema.optional(),
  }),
  z.object({ type: z.literal("model"), model: modelLineSchema }),
  /** Replaces the prompt (Generate… and Generate from Selection); `run` starts it at once. */
  z.object({ type: z.literal("setPrompt"), prompt: z.string() }),
  z.object({ type: z.literal("runStarted"), runId: z.number().int(), prompt: z.string(), settings: generationSettingsSchema }),
  z.object({ type: z.literal("progress"), runId: z.number().int(), message: z.string() }),
  z.object({ type: z.literal("steps"), runId: z.number().int(), steps: z.array(stepEventSchema) }),
  z.object({ type: z.literal("runDone"), runId: z.number().int(), run: runSummarySchema, exportable: z.boolean() }),
  z.object({ type: z.literal("runError"), runId: z.number().int(), message: z.string() }),
  /** Test hook: the page answers with a "rendered" message describing its output. */
  z.object({ type: z.literal("inspect"), requestId: z.number().int() }),
]);
export type ExtensionMessage = z.input<typeof extensionMessageSchema>;

export function parseWebviewMessage(raw: unknown): ParsedWebviewMessage | undefined {
  const r = webviewMessageSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}

export function parseExtensionMessage(raw: unknown): z.output<typeof extensionMessageSchema> | undefined {
  const r = extensionMessageSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}
