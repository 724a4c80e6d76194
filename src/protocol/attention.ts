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
