// The playground's Steps view: one table row per step, built only while its tab is open (the
// table is several times the DOM of the text view).
import { MEMBER_SEPARATOR } from "../src/protocol/token-display.js";
import type { StepEventMessage } from "./protocol.js";
import { formatProb, visibleToken } from "./render.js";

export class StepsTable {
  /** Steps of the shown run already in the table. */
  private rows = 0;

  constructor(readonly body: HTMLTableSectionElement, private readonly isOpen: () => boolean) {}

  reset(): void {
    this.body.replaceChildren();
    this.rows = 0;
  }

  /** Adds the rows `steps` has beyond the table's, when the tab is open. */
  sync(steps: readonly StepEventMessage[]): void {
    if (!this.isOpen()) return;
    const rows = document.createDocumentFragment();
    for (; this.rows < steps.length; this.rows++) rows.append(tableRow(steps[this.rows]));
    this.body.append(rows);
  }
}

function tableRow(step: StepEventMessage): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const cells = [
    String(step.index),
    String(step.position),
    step.candidates.map((c) => `${visibleToken(c)} ${formatProb(c.prob)}`).join(MEMBER_SEPARATOR),
    step.setMass.toFixed(3),
    step.entropy.toFixed(3),
    step.threshold.toFixed(3),
    step.timings.decodeMs.toFixed(1),
  ];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}
