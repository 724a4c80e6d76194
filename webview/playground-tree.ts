// The playground's Tree view: the primary path, each set forking into its members; built
// only while its tab is open, and extended as steps arrive.
import type { StepEventMessage } from "./protocol.js";
import { formatProb, visibleText, visibleToken } from "./render.js";
import { appendToTree, type TreeNode } from "./token-tree.js";
import { memberLabel } from "./playground-text.js";

export class TreeView {
  private nodes: TreeNode[] = [];
  /** One vscode-tree-item per node. */
  private items: HTMLElement[] = [];
  /** Steps of the shown run already in the nodes. */
  private steps = 0;

  constructor(readonly tree: HTMLElement, private readonly isOpen: () => boolean) {}

  reset(): void {
    this.tree.replaceChildren();
    this.nodes = [];
    this.items = [];
    this.steps = 0;
  }

  sync(steps: readonly StepEventMessage[]): void {
    if (!this.isOpen() || this.steps === steps.length) return;
    const from = appendToTree(this.nodes, steps.slice(this.steps));
    this.steps = steps.length;
    const added = document.createDocumentFragment();
    for (let i = from; i < this.nodes.length; i++) {
      const item = nodeItem(this.nodes[i]);
      if (i < this.items.length) this.items[i].replaceWith(item);
      else added.append(item);
      this.items[i] = item;
    }
    this.tree.append(added);
  }
}

function treeItem(label: string, description: string): HTMLElement {
  const item = document.createElement("vscode-tree-item");
  const text = document.createElement("span");
  text.className = "tree-token";
  text.textContent = label;
  const desc = document.createElement("span");
  desc.slot = "description";
  desc.textContent = description;
  item.append(text, desc);
  return item;
}

function nodeItem(node: TreeNode): HTMLElement {
  if (node.kind === "text") {
    return treeItem(visibleText(node.text), node.firstStep === node.lastStep ? `step ${node.firstStep}` : `steps ${node.firstStep}–${node.lastStep}`);
  }
  const item = treeItem(visibleToken(node.branches[0]), `step ${node.step} · ${node.branches.length} members · mass ${node.mass.toFixed(3)} · entropy ${node.entropy.toFixed(3)}`);
  for (const b of node.branches) {
    const child = treeItem(visibleToken(b), `p ${formatProb(b.prob)} · rank ${b.rank + 1}${b.primary ? " · primary path" : ""}`);
    child.slot = "children";
    child.setAttribute("aria-label", memberLabel(b, b.member));
    // The hover / focus details and collapse-and-continue read these, as for the chips.
    child.dataset.step = String(node.step);
    child.dataset.member = String(b.member);
    item.append(child);
  }
  return item;
}
