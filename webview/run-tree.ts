// The panel's runs as a tree (loom-style): a branch is the run "collapse and continue" started
// at a member of another run, and hangs under that member. Pure, so it is unit-tested without a page.
import type { Continuation, ParentLink, RunRecord } from "./playground-state.js";
import { promptHead } from "./playground-state.js";
import { formatProb, visibleToken } from "./render.js";

/** Characters of the root run's prompt in its breadcrumb. */
const CRUMB_PROMPT_CHARS = 32;

/**
 * The run `key` and its ancestors, root first. A parent that left the bounded history ends the
 * line there (that branch is then a root); so does a cycle, which stored state could hold.
 */
export function lineage(history: readonly RunRecord[], key: string): RunRecord[] {
  const byKey = new Map(history.map((r) => [r.key, r]));
  const line: RunRecord[] = [];
  const seen = new Set<string>();
  for (let run = byKey.get(key); run && !seen.has(run.key); run = run.parent ? byKey.get(run.parent.key) : undefined) {
    seen.add(run.key);
    line.push(run);
  }
  return line.reverse();
}

/** The root of `key`'s tree (`key`'s own run when it has no parent in the history). */
export function rootOf(history: readonly RunRecord[], key: string): RunRecord | undefined {
  return lineage(history, key)[0];
}

/** The branches of run `key`, oldest first. */
export function branchesOf(history: readonly RunRecord[], key: string): RunRecord[] {
  return history.filter((r) => r.parent?.key === key && r.key !== key);
}

/**
 * What a branch chose, in words, after the step of its parent: the member (its text if the
 * parent still has it), or the runner-up it forced, by rank and probability, so a
 * counterfactual never reads as a collapse.
 */
export function branchChoice(history: readonly RunRecord[], link: ParentLink): string {
  return `step ${link.step}: ${choiceText(history, link)}`;
}

/** The choice alone, as a branch's item in the Tree names it. */
export function choiceText(history: readonly RunRecord[], link: ParentLink): string {
  if ("forced" in link) return `forced runner-up #${link.forced.rank} ${visibleToken(link.forced)} (p ${formatProb(link.forced.prob)})`;
  const chosen = history.find((r) => r.key === link.key)?.steps[link.step]?.candidates[link.member];
  return chosen ? visibleToken(chosen) : `member ${link.member + 1}`;
}

export interface Crumb {
  key: string;
  label: string;
}

/** From the root run to `key`: the root by its prompt's start, then each branch by what it chose. */
export function breadcrumbs(history: readonly RunRecord[], key: string): Crumb[] {
  return lineage(history, key).map((run, i) => ({
    key: run.key,
    label: i === 0 || !run.parent ? `root: ${promptHead(run.prompt, CRUMB_PROMPT_CHARS)}` : branchChoice(history, run.parent),
  }));
}

/** A branch the page asked for, waiting for the extension to start it. */
export interface PendingBranch {
  parent: ParentLink;
  continuation: Continuation;
}

/**
 * The parent of a run that just started, if it is the branch the page asked for. The extension
 * starts runs from commands too, so a run that is not that continuation gets no parent.
 */
export function branchParent(pending: PendingBranch | undefined, started: Pick<RunRecord, "prompt" | "format" | "responsePrefix">): ParentLink | undefined {
  if (!pending) return undefined;
  const c = pending.continuation;
  const same = c.format === started.format && c.prompt === started.prompt && (c.format === "chat" ? c.responsePrefix === started.responsePrefix : started.responsePrefix === undefined);
  return same ? pending.parent : undefined;
}
