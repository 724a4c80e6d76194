// The playground's Text view: the prompt, then each step in one of two readings: "sets inline"
// (each set as its chips) or "primary path as code" (the primary path as plain code, each set's
// position marked, its members in the hover).
import { applyArrivedDecisions } from "../src/protocol/pruning.js";
import type { DisplayToken } from "../src/protocol/token-display.js";
import type { StepEventMessage } from "./protocol.js";
import type { ReadingMode, RunRecord } from "./playground-state.js";
import { MEMBER_SEPARATOR } from "../src/protocol/token-display.js";
import { codeToken, formatProb, probabilityBin, visibleToken } from "./render.js";

/** A set member's accessible name, as a chip or a tree item: what it is, and that Enter (or a click) collapses to it. */
export function memberLabel(c: DisplayToken & { prob: number; rank: number }, member: number): string {
  return `${visibleToken(c)}, p ${formatProb(c.prob)}, rank ${c.rank + 1}${member === 0 ? ", primary path" : ""}; Enter or a click collapses the set to this token and continues`;
}

/** A member retroactive pruning removed is struck through (docs/pruning.md); its score is in the hover. */
function markChipPruned(chip: HTMLElement, c: StepEventMessage["candidates"][number]): void {
  chip.classList.toggle("pruned", c.pruned === true);
  if (c.pruned) chip.setAttribute("aria-label", `${chip.getAttribute("aria-label")}; pruned: later tokens no longer see it`);
}

export class TextView {
  constructor(readonly output: HTMLElement, public reading: ReadingMode) {}

  /** Clears the view for `promptText`. */
  reset(promptText: string): void {
    this.output.replaceChildren();
    const p = document.createElement("span");
    p.className = "prompt-text";
    p.textContent = promptText;
    this.output.append(p);
  }

  setPromptText(text: string): void {
    this.output.querySelector(".prompt-text")!.textContent = text;
  }

  append(steps: readonly StepEventMessage[]): void {
    const into = document.createDocumentFragment();
    for (const step of steps) this.renderStep(step, into);
    this.output.append(into);
  }

  /**
   * A step's pruning decision concerns an earlier set: its members get their scores (in the
   * run's stored steps) and, when `onScreen`, the pruned ones are struck through.
   */
  applyPruning(run: RunRecord, arrived: readonly StepEventMessage[], onScreen: boolean): void {
    for (const step of applyArrivedDecisions(run.steps, arrived)) {
      if (!onScreen) continue;
      for (const chip of this.output.querySelectorAll<HTMLElement>(`.chip[data-step="${step}"]`)) markChipPruned(chip, run.steps[step].candidates[Number(chip.dataset.member)]);
    }
  }

  private renderStep(step: StepEventMessage, into: DocumentFragment): void {
    if (step.candidates.length === 1 || this.reading === "code") {
      const code = codeToken(step);
      const tok = document.createElement("span");
      tok.className = "tok";
      tok.dataset.step = String(step.index);
      tok.dataset.member = "0";
      tok.textContent = code.text;
      // A special token shows its name, which is not model text (the e2e rebuilds prompts from the text).
      if (step.candidates[0].special !== undefined || step.candidates[0].text === "") tok.dataset.special = "";
      if (code.set) {
        // Focusable, so the keyboard reaches the members too (the hover lists them, ranked).
        tok.classList.add("mark");
        tok.classList.toggle("blank", code.blank);
        tok.tabIndex = 0;
        tok.setAttribute("aria-label", `step ${step.index}, a set of ${step.candidates.length}: ${step.candidates.map(visibleToken).join(MEMBER_SEPARATOR)}; the first is shown`);
      }
      into.append(tok);
      return;
    }
    const set = document.createElement("span");
    set.className = "set";
    set.setAttribute("role", "group");
    set.setAttribute("aria-label", `step ${step.index}: ${step.candidates.length} parallel tokens`);
    step.candidates.forEach((c, j) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.tabIndex = 0;
      chip.setAttribute("role", "button");
      chip.setAttribute("aria-label", memberLabel(c, j));
      chip.dataset.step = String(step.index);
      chip.dataset.member = String(j);
      chip.dataset.pbin = String(probabilityBin(c.prob));
      chip.textContent = visibleToken(c);
      markChipPruned(chip, c);
      set.append(chip);
    });
    into.append(set);
  }
}
