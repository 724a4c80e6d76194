// The live completion experiment's log: one JSON object per line, appended, never rewritten.
// An "offered" line per set of inline completions handed to VS Code, an "accepted" line when
// the user takes one; acceptance per arm is accepted / offered (docs/inline-completions.md).
// Plain Node (no vscode import) so it is testable outside VS Code.
import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { TEMPO_MODES, type TempoMode } from "../protocol/generation.js";

export const INLINE_LOG_VERSION = 1;
/** Every mode can be an arm (`standard`: greedy, one alternative). */
export const INLINE_ARMS = TEMPO_MODES;
export type InlineArm = TempoMode;

/** What an offer's lines share: which run produced the alternatives, and how. */
export const offerSchema = z.object({
  /** Links an acceptance to its offer. */
  requestId: z.string().min(1),
  /** VS Code language id of the document. */
  language: z.string(),
  model: z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  arm: z.enum(INLINE_ARMS),
  /** The generation config the engine ran (mode = arm) and the inline settings. */
  settings: z.record(z.string(), z.unknown()),
  /** Alternatives offered (primary path first). */
  alternatives: z.number().int().min(1),
  /** Characters of each alternative, in offer order. */
  lengths: z.array(z.number().int().nonnegative()),
}).strict();
export type Offer = z.infer<typeof offerSchema>;

/** The arguments of the accept command each inline item carries. */
export const acceptanceSchema = z.object({
  offer: offerSchema,
  /** Which alternative (0 = the primary path's). */
  index: z.number().int().nonnegative(),
  /** Whether that alternative ended its block. */
  closed: z.boolean(),
}).strict()
  .refine((a) => a.offer.lengths.length === a.offer.alternatives, "the offer needs one length per alternative")
  .refine((a) => a.index < a.offer.alternatives, "index must be below the number of alternatives offered");
export type Acceptance = z.infer<typeof acceptanceSchema>;

/** The run behind an offer, as the engine reported it. */
export interface OfferRun {
  promptChars: number;
  steps: number;
  forwardPasses: number;
  generateMs: number;
  totalPaths: number | null;
  stopReason: string;
}

export type OfferedRecord = { v: number; time: string; event: "offered" } & Offer & OfferRun;
export type AcceptedRecord = { v: number; time: string; event: "accepted" } & Offer & { index: number; length: number; closed: boolean };
export type InlineLogRecord = OfferedRecord | AcceptedRecord;

export function offeredRecord(offer: Offer, run: OfferRun, now = new Date()): OfferedRecord {
  const { promptChars, steps, forwardPasses, generateMs, totalPaths, stopReason } = run;
  return { v: INLINE_LOG_VERSION, time: now.toISOString(), event: "offered", ...offer, promptChars, steps, forwardPasses, generateMs, totalPaths, stopReason };
}

export function acceptedRecord(a: Acceptance, now = new Date()): AcceptedRecord {
  return { v: INLINE_LOG_VERSION, time: now.toISOString(), event: "accepted", ...a.offer, index: a.index, length: a.offer.lengths[a.index], closed: a.closed };
}

/**
 * Appends lines to one JSONL file, one write at a time (so lines never interleave), creating
 * its folder on first use. Earlier lines are never touched: the file is only opened to append.
 */
export class JsonlAppender {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  append(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const write = this.tail.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, line, { encoding: "utf8", flag: "a" });
    });
    // A failed write is the caller's to report; the next one still runs.
    this.tail = write.catch(() => undefined);
    return write;
  }
}
