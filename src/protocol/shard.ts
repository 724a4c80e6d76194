/**
 * Shards of a suite (docs/scale.md): `--shard i/N` runs the i-th of N parts of a compare
 * --prompts or eval suite, and `tempo merge` puts the parts back together. Pure (zod only): the
 * experiment-file schema and the CLI share the bound and the assignment rule.
 */
import { z } from "zod";

/**
 * The most shards a suite is cut into: above the job-array limits of the clusters docs/scale.md
 * names (Slurm's default MaxArraySize is 1001), so only a typo such as 3/30000 meets it.
 */
export const MAX_SHARDS = 10_000;

/** Shard `index` (1-based, as Slurm's array ids and the flag count) of `count`. */
export interface Shard { index: number; count: number }

const SHARD_RULE = `i/N with whole numbers 1 <= i <= N <= ${MAX_SHARDS}`;

export const shardSchema = z.object({
  index: z.number({ error: "shard index must be a number" }).int("shard index must be an integer").min(1, "shard index must be at least 1"),
  count: z.number({ error: "shard count must be a number" }).int("shard count must be an integer").min(1, "shard count must be at least 1").max(MAX_SHARDS, `shard count must be at most ${MAX_SHARDS}`),
}).strict().refine((s) => s.index <= s.count, { message: "shard index must be at most the shard count" });

/** `--shard i/N` as a Shard; null when the text is not of that form or out of range (the caller says so). */
export function parseShardText(text: string): Shard | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return null;
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  return shardSchema.safeParse(shard).success ? shard : null;
}

/** The message for a --shard value parseShardText refused. */
export const badShardText = (text: string): string => `--shard must be ${SHARD_RULE}, got "${text}"`;

/**
 * The 0-based indices of the suite's items (prompts, tasks) that shard `s` runs, in suite order.
 * Round-robin (index mod N = i - 1) rather than contiguous blocks: suites are often ordered by
 * category or difficulty, and dealing them out gives every shard a like mix, so the array's jobs
 * end at about the same time; and shard i's items are known from i, N and the suite's length alone.
 */
export function shardMembers(total: number, s: Shard): number[] {
  const members: number[] = [];
  for (let k = s.index - 1; k < total; k += s.count) members.push(k);
  return members;
}

/** What every shard folder records (paired.json `shard`, summary.json `meta.shard`) for tempo merge. */
export interface ShardRecord extends Shard {
  /** Items (prompts, tasks) in the whole suite. */
  total: number;
  /** SHA-256 identity of the suite: its items and every setting that can change a result (src/cli/experiment.ts suiteIdentity). */
  suite: string;
}
