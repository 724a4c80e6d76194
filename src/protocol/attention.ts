/**
 * A token's attention as the playground shows it (its overlay): what each member of a step put
 * on earlier tokens, averaged over the captured layers and their heads, in the forward pass that
 * held the set. Bounded per step (the top keys and the masses by target), so a long run stays
 * small. Pure (zod only): the webview bundles it.
 */
import { z } from "zod";

/** Keys listed per member, by weight; the rest is in the masses. */
export const OVERLAY_TOP_KEYS = 12;

/** Where a member's attention went, as masses (they sum to 1 with `other`). */
export const overlayTargetsSchema = z.object({
  self: z.number(), siblings: z.number(), prompt: z.number(), earlierSets: z.number(), bos: z.number(), other: z.number(),
}).strict();

export const memberAttentionSchema = z.object({
  targets: overlayTargetsSchema,
  /** The keys with the most weight, heaviest first: the step that made each (-1: the prompt) and, for a set, which member. */
  top: z.array(z.object({
    step: z.number().int(), member: z.number().int().nonnegative(), position: z.number().int(), token: z.number().int(),
    text: z.string(), special: z.string().optional(), weight: z.number(),
  }).strict()).max(OVERLAY_TOP_KEYS),
}).strict();
export type MemberAttention = z.output<typeof memberAttentionSchema>;

/** One entry per member of the step, in member order, and the layers averaged. */
export const stepAttentionSchema = z.object({
  layers: z.array(z.number().int().nonnegative()).min(1),
  members: z.array(memberAttentionSchema).min(1),
}).strict();
export type StepAttention = z.output<typeof stepAttentionSchema>;

/** Layers whose attention a comparison captures: "all" (every layer of the model) or a list. */
export const attentionLayersSchema = z.union([
  z.literal("all"),
  z.array(z.number().int("attention layers are integers").nonnegative("attention layers are >= 0")).min(1, "give at least one attention layer"),
], { error: 'attention layers must be "all" or a list of layer numbers' });
export type AttentionLayers = z.output<typeof attentionLayersSchema>;

/** `layers` as layer numbers of a model with `nLayer` layers (the session checks the range). */
export function layersOf(layers: AttentionLayers, nLayer: number): number[] {
  return layers === "all" ? Array.from({ length: nLayer }, (_, l) => l) : [...layers];
}

/**
 * One target of one set in one layer, isolated (P) vs visible (Q), over the set's members and
 * heads: a row of the report's attention table, and of the comparison view's.
 */
export const attentionContrastSchema = z.object({
  target: z.string(),
  /** Mean mass under P and under Q, and Q − P of those means. */
  p: z.number(),
  q: z.number(),
  diff: z.number(),
  /** Largest |P − Q| and |P − null| over members and heads: the effect beside its noise. */
  maxAbsPQ: z.number(),
  maxAbsPNull: z.number(),
  /** Whether every member and head puts exactly 0 there (an exact zero, not a small value). */
  pZero: z.boolean(),
  qZero: z.boolean(),
}).strict();
export type AttentionContrast = z.output<typeof attentionContrastSchema>;

/** A set's contrasts in one layer. */
export const setAttentionContrastSchema = z.object({
  step: z.number().int().nonnegative(),
  layer: z.number().int().nonnegative(),
  /** Member texts in member order (display form: model text, always set as text). */
  members: z.array(z.string()),
  contrasts: z.array(attentionContrastSchema),
}).strict();
export type SetAttentionContrast = z.output<typeof setAttentionContrastSchema>;
