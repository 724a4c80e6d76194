// Messages between the webviews (playground, comparison view) and the extension. Both sides
// validate what they receive with these zod schemas: the webview is an untrusted page, and the
// extension's messages are checked too so a version skew after an update fails loudly instead
// of rendering garbage. Step events reuse the engine protocol's schema (one shape everywhere).
import "./zod-csp.js";
import { z } from "zod";
import { parserFor } from "./parse.js";
import {
  generationSettingsSchema,
  promptFormatSchema,
  renderedPromptSchema,
  runSummarySchema,
  stepEventSchema,
  type GenerationSettings,
  type PromptFormat,
  type RenderedPrompt,
  type RunSummary,
  type StepEventMessage,
} from "../src/protocol/engine.js";
import { runStartShape } from "./playground-state.js";

export type { GenerationSettings, PromptFormat, RenderedPrompt, RunSummary, StepEventMessage };

/** The playground's views of a run, in tab order. */
export const PLAYGROUND_VIEWS = ["text", "tree", "steps"] as const;
export type PlaygroundView = (typeof PLAYGROUND_VIEWS)[number];

/** Longest prompt the page may send (the context is far smaller; this only bounds memory). */
export const MAX_PROMPT_CHARS = 200_000;

/** What the page reports it rendered (test hook: see test/vscode). */
export const renderedInfoSchema = z.object({
  chips: z.number().int(),
  /** Of those, members retroactive pruning struck through. */
  prunedChips: z.number().int(),
  /** textContent of the selected view (the text view: prompt and generated text). */
  text: z.string(),
  hasInjectedElement: z.boolean(),
  /** Longest main-thread task the page saw since it loaded (PerformanceObserver "longtask"), ms. */
  longestTaskMs: z.number(),
  /** Time spent validating the extension's messages so far, ms. */
  parseMs: z.number(),
  /** The run history's entries, newest first, as the list shows them. */
  history: z.array(z.string()),
  /** Items in the token tree (built only once its tab was opened). */
  treeItems: z.number().int(),
  /** Of those, branch items (runs collapse-and-continue started, under the member they chose). */
  treeBranches: z.number().int(),
  /** The Text tab's reading mode and the text of the legend it shows. */
  reading: z.string(),
  legend: z.string(),
  /** The shown run's breadcrumbs, root first (none for a run that is no branch). */
  breadcrumbs: z.array(z.string()),
});
export type RenderedInfo = z.output<typeof renderedInfoSchema>;

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
  z.object({
    type: z.literal("run"),
    prompt: z.string().max(MAX_PROMPT_CHARS),
    settings: generationSettingsSchema,
    format: promptFormatSchema.default("raw"),
    /** Chat only: the reply so far ("collapse and continue" inside a chat reply). */
    responsePrefix: z.string().max(MAX_PROMPT_CHARS).optional(),
    /** Capture attention for the overlay. */
    attention: z.boolean().default(false),
  }),
  z.object({ type: z.literal("stop") }),
  z.object({ type: z.literal("exportCapture") }),
  /** Something the page wants in the TEMPO log (e.g. stored state it discarded as invalid). */
  z.object({ type: z.literal("log"), level: z.enum(["info", "warn"]), message: z.string().transform((s) => s.slice(0, 1000)) }),
  /** Test hook answer: what the page rendered (see the in-host tests). */
  renderedInfoSchema.extend({ type: z.literal("rendered"), requestId: z.number().int() }),
]);
export type WebviewMessage = z.input<typeof webviewMessageSchema>;
export type ParsedWebviewMessage = z.output<typeof webviewMessageSchema>;

const modelLineSchema = z.object({
  fileName: z.string(),
  backend: z.string().optional(),
  /** Whether the GGUF has a chat template (unknown until the model loaded). */
  chatTemplate: z.boolean().optional(),
});

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
  z.object({ type: z.literal("runStarted"), ...runStartShape }),
  z.object({ type: z.literal("promptRendered"), runId: z.number().int(), prompt: renderedPromptSchema }),
  z.object({ type: z.literal("progress"), runId: z.number().int(), message: z.string() }),
  z.object({ type: z.literal("steps"), runId: z.number().int(), steps: z.array(stepEventSchema) }),
  z.object({ type: z.literal("runDone"), runId: z.number().int(), run: runSummarySchema, exportable: z.boolean() }),
  z.object({ type: z.literal("runError"), runId: z.number().int(), message: z.string() }),
  /** Test hook: the page answers with a "rendered" message describing its output (`view`: switch to that tab first). */
  z.object({ type: z.literal("inspect"), requestId: z.number().int(), view: z.enum(PLAYGROUND_VIEWS).optional() }),
]);
export type ExtensionMessage = z.input<typeof extensionMessageSchema>;

export const parseWebviewMessage: (raw: unknown) => ParsedWebviewMessage | undefined = parserFor(webviewMessageSchema);

export const parseExtensionMessage: (raw: unknown) => z.output<typeof extensionMessageSchema> | undefined = parserFor(extensionMessageSchema);
