// The playground's Tree view: the shown run's tree of runs (loom-style). A run is its primary
// path, each set forking into its members; a branch hangs under the member it chose ("collapse
// and continue"), or under the step where it forced a runner-up, and its own path goes on
// inside it. Built only while its tab is open, and extended as steps arrive (a branch streaming
// while its parent is shown too).
import type { ParentLink, RunRecord } from "./playground-state.js";
import { formatProb, visibleText, visibleToken } from "./render.js";
import { appendToTree, type TreeNode } from "./token-tree.js";
import { memberLabel } from "./playground-text.js";
import { branchesOf, choiceText, rootOf } from "./run-tree.js";

/** One run's items in the tree: directly in the tree (the root) or inside its branch item. */
class RunItems {
  private nodes: TreeNode[] = [];
  /** One vscode-tree-item per node. */
  private items: HTMLElement[] = [];
  /** Steps of the run already in the nodes. */
  private steps = 0;

  constructor(readonly run: RunRecord, private readonly container: HTMLElement, private readonly nested: boolean) {}

  sync(): void {
    // A branch's own item says how far it got: it grows while the branch streams.
    if (this.nested) this.container.querySelector(':scope > [slot="description"]')!.textContent = branchDescription(this.run);
    if (this.steps === this.run.steps.length) return;
    const from = appendToTree(this.nodes, this.run.steps.slice(this.steps));
    this.steps = this.run.steps.length;
    const added = document.createDocumentFragment();
    for (let i = from; i < this.nodes.length; i++) {
      const item = nodeItem(this.nodes[i], this.run.key);
      if (this.nested) item.slot = "children";
      if (i < this.items.length) this.items[i].replaceWith(item);
      else added.append(item);
      this.items[i] = item;
    }
    this.container.append(added);
  }

  /** Where a branch of this run hangs: under the member it chose, or under the item of the step where it forced a runner-up. */
  branchPlace(link: ParentLink): HTMLElement | undefined {
    const i = this.nodes.findIndex((n) => (n.kind === "set" ? n.step === link.step : n.firstStep <= link.step && link.step <= n.lastStep));
    const item = this.items[i];
    if (!item || "forced" in link) return item;
    return item.querySelector<HTMLElement>(`:scope > vscode-tree-item[data-member="${link.member}"]`) ?? undefined;
  }
}

export class TreeView {
  private runs: RunItems[] = [];
  /** The keys of the runs drawn and the one shown: a new branch, or another run shown, redraws. */
  private drawn = "";

  constructor(readonly tree: HTMLElement, private readonly isOpen: () => boolean, private readonly history: () => readonly RunRecord[]) {}

  reset(): void {
    this.tree.replaceChildren();
    this.runs = [];
    this.drawn = "";
  }

  sync(shown: RunRecord | undefined): void {
    if (!this.isOpen() || !shown) return;
    const history = this.history();
    const root = rootOf(history, shown.key) ?? shown;
    const family = familyOf(history, root);
    const drawn = `${shown.key}|${family.map((r) => r.key).join(",")}`;
    if (drawn !== this.drawn) {
      this.reset();
      this.drawn = drawn;
      this.draw(history, root, this.tree, false, shown.key);
    } else {
      for (const r of this.runs) r.sync();
    }
  }

  /** Draws `run`, then each of its branches where it chose (or at the run's end, if that step was not kept). */
  private draw(history: readonly RunRecord[], run: RunRecord, container: HTMLElement, nested: boolean, shownKey: string): void {
    const items = new RunItems(run, container, nested);
    this.runs.push(items);
    items.sync();
    for (const branch of branchesOf(history, run.key)) {
      const link = branch.parent!;
      const item = branchItem(branch, choiceText(history, link));
      const under = items.branchPlace(link) ?? container;
      if (under !== this.tree) item.slot = "children";
      under.append(item);
      if (branch.key === shownKey) openTo(item);
      this.draw(history, branch, item, true, shownKey);
    }
  }
}

/** `root` and every run below it, parents before their branches. */
function familyOf(history: readonly RunRecord[], root: RunRecord): RunRecord[] {
  return [root, ...branchesOf(history, root.key).flatMap((b) => familyOf(history, b))];
}

/** Opens the items above `item` so the shown branch is in view, and marks it. */
function openTo(item: HTMLElement): void {
  item.setAttribute("aria-current", "true");
  item.classList.add("current");
  item.setAttribute("open", "");
  for (let up = item.parentElement; up && up.tagName.toLowerCase() === "vscode-tree-item"; up = up.parentElement) up.setAttribute("open", "");
}

function treeItem(label: string, description: string, runKey: string): HTMLElement {
  const item = document.createElement("vscode-tree-item");
  const text = document.createElement("span");
  text.className = "tree-token";
  text.textContent = label;
  const desc = document.createElement("span");
  desc.slot = "description";
  desc.textContent = description;
  item.append(text, desc);
  // Choosing an item of another run shows that run; a member's collapse-and-continue starts from its run.
  item.dataset.run = runKey;
  return item;
}

function branchDescription(branch: RunRecord): string {
  const steps = branch.summary?.steps ?? branch.steps.length + branch.stepsDropped;
  return `from step ${branch.parent!.step} · ${steps} steps · choose to show this run`;
}

/** A branch's item, named by its choice: a forced runner-up reads as one (and is marked for CSS), not as a collapse. */
function branchItem(branch: RunRecord, choice: string): HTMLElement {
  const item = treeItem(`↳ branch: ${choice}`, branchDescription(branch), branch.key);
  item.classList.add("branch");
  item.classList.toggle("forced", "forced" in branch.parent!);
  item.dataset.branch = branch.key;
  return item;
}

function nodeItem(node: TreeNode, runKey: string): HTMLElement {
  if (node.kind === "text") {
    return treeItem(visibleText(node.text), node.firstStep === node.lastStep ? `step ${node.firstStep}` : `steps ${node.firstStep}–${node.lastStep}`, runKey);
  }
  const item = treeItem(visibleToken(node.branches[0]), `step ${node.step} · ${node.branches.length} members · mass ${node.mass.toFixed(3)} · entropy ${node.entropy.toFixed(3)}`, runKey);
  for (const b of node.branches) {
    const child = treeItem(visibleToken(b), `p ${formatProb(b.prob)} · rank ${b.rank + 1}${b.primary ? " · primary path" : ""}`, runKey);
    child.slot = "children";
    child.setAttribute("aria-label", memberLabel(b, b.member));
    // The hover / focus details and collapse-and-continue read these, as for the chips.
    child.dataset.step = String(node.step);
    child.dataset.member = String(b.member);
    item.append(child);
  }
  return item;
}
