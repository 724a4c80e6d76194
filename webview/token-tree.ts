// The token tree of a run: the primary path as a trunk, where runs of single-token steps merge
// into one text node and every parallel set is a fork whose members are its branches (member 0
// is the primary path, which goes on). Pure, so it is unit-tested without a page.
import type { StepEventMessage } from "../src/protocol/engine.js";
import type { DisplayToken } from "../src/protocol/token-display.js";

export interface TreeBranch extends DisplayToken {
  member: number;
  prob: number;
  rank: number;
  /** Member 0: the primary path continues through it. */
  primary: boolean;
}

export type TreeNode =
  | { kind: "text"; firstStep: number; lastStep: number; text: string }
  | { kind: "set"; step: number; mass: number; entropy: number; branches: TreeBranch[] };

/**
 * Appends `steps` to `nodes` (in place) and returns the index of the first node that changed,
 * so a view streaming a run redraws only from there (an open text node may grow).
 */
export function appendToTree(nodes: TreeNode[], steps: readonly StepEventMessage[]): number {
  let firstChanged = nodes.length;
  for (const step of steps) {
    const last = nodes[nodes.length - 1];
    if (step.candidates.length === 1) {
      if (last?.kind === "text" && last.lastStep === step.index - 1) {
        last.text += step.candidates[0].text;
        last.lastStep = step.index;
        firstChanged = Math.min(firstChanged, nodes.length - 1);
      } else {
        nodes.push({ kind: "text", firstStep: step.index, lastStep: step.index, text: step.candidates[0].text });
      }
    } else {
      nodes.push({
        kind: "set",
        step: step.index,
        mass: step.setMass,
        entropy: step.entropy,
        branches: step.candidates.map((c, member) => ({ member, token: c.token, text: c.text, ...(c.special !== undefined ? { special: c.special } : {}), prob: c.prob, rank: c.rank, primary: member === 0 })),
      });
    }
  }
  return firstChanged;
}

export function tokenTree(steps: readonly StepEventMessage[]): TreeNode[] {
  const nodes: TreeNode[] = [];
  appendToTree(nodes, steps);
  return nodes;
}
