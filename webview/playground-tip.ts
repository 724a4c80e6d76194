// The playground's hover / focus details of a token: its numbers, the step's distribution as one
// ranked list with the threshold between members and runner-ups, and, when the run captured
// attention, what it attended to (masses in the tip, the heaviest generated keys outlined).
// Each runner-up is a button that forces it at that step and continues (a counterfactual), so
// the tip stays open while the pointer crosses to it, and R moves keyboard focus into it.
import type { DisplayToken } from "../src/protocol/token-display.js";
import type { StepEventMessage } from "./protocol.js";
import { formatProb, visibleToken } from "./render.js";

/** The token under a pointer or focus: its step and member (from the element's data-step / data-member). */
export type MemberLookup = (target: EventTarget | null) => { step: StepEventMessage; member: number; el: HTMLElement } | undefined;

/** Weight buckets for outlining the tokens a member attended to (CSS .attn-key[data-attn]). */
const ATTENTION_BUCKETS = [0.02, 0.05, 0.15, 0.4];
/** An exact 0 (isolated siblings) is said as such, never as a small number. */
const massText = (x: number) => (x === 0 ? "0 (exact)" : x.toFixed(4));
/** How long the tip outlives the pointer leaving its token: time to reach a runner-up in it. */
const HIDE_DELAY_MS = 300;

/** Forces runner-up `token` at the step of the token `anchor` shows, and continues from there. */
export type ForceRunnerUp = (anchor: HTMLElement, token: number) => void;

export class MemberTip {
  /** The token the tip describes. */
  private anchor: HTMLElement | undefined;
  private hideTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly tip: HTMLElement, private readonly output: HTMLElement, private readonly lookup: MemberLookup, private readonly force: ForceRunnerUp) {
    tip.addEventListener("mouseenter", () => this.cancelHide());
    tip.addEventListener("mouseleave", () => this.hideSoon());
    tip.addEventListener("focusout", (e) => {
      if (!this.holds(e.relatedTarget)) this.hide();
    });
    tip.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement | null)?.closest?.<HTMLElement>("button.force");
      if (!button || !this.anchor) return;
      const anchor = this.anchor;
      this.hide();
      this.force(anchor, Number(button.dataset.token));
    });
    tip.addEventListener("keydown", (e) => {
      const buttons = [...tip.querySelectorAll<HTMLElement>("button.force")];
      const at = buttons.indexOf(document.activeElement as HTMLElement);
      if (e.key === "Escape") {
        e.preventDefault();
        // Back to the token, and closed (focusing it would show the tip again).
        this.anchor?.focus();
        this.hide();
      } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && at >= 0) {
        e.preventDefault();
        buttons[(at + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length].focus();
      }
    });
  }

  /** Shows the tip for the tokens of `view` under the pointer or with focus; R on a focused one moves focus to its first runner-up. */
  attach(view: HTMLElement): void {
    view.addEventListener("mouseover", (e) => this.show(e.target));
    view.addEventListener("mouseleave", () => this.hideSoon());
    view.addEventListener("focusin", (e) => this.show(e.target));
    view.addEventListener("focusout", (e) => {
      if (!this.holds(e.relatedTarget)) this.hide();
    });
    view.addEventListener("keydown", (e) => {
      if ((e.key === "r" || e.key === "R") && !e.ctrlKey && !e.metaKey && !e.altKey && !this.tip.hidden) {
        const first = this.tip.querySelector<HTMLElement>("button.force");
        if (first) {
          e.preventDefault();
          first.focus();
        }
      }
    });
  }

  /** Whether `target` (where focus went) is inside the tip. */
  private holds(target: EventTarget | null): boolean {
    return target instanceof Node && this.tip.contains(target);
  }

  private hideSoon(): void {
    this.cancelHide();
    this.hideTimer = setTimeout(() => this.hide(), HIDE_DELAY_MS);
  }

  private cancelHide(): void {
    clearTimeout(this.hideTimer);
    this.hideTimer = undefined;
  }

  show(target: EventTarget | null): void {
    const hit = this.lookup(target);
    if (!hit) return;
    this.cancelHide();
    const { step, member, el } = hit;
    this.anchor = el;
    const c = step.candidates[member];
    const title = document.createElement("div");
    title.className = "tip-title";
    title.textContent = visibleToken(c);
    this.tip.replaceChildren(
      title,
      row("probability", `${formatProb(c.prob)}; log-probability ${c.logprob.toFixed(3)}; rank ${c.rank + 1}; token id ${c.token}`),
      row("step", `${step.index} (position ${step.position}, ${step.candidates.length} in set, mass ${step.setMass.toFixed(3)}, entropy ${step.entropy.toFixed(3)} nats)`),
      ...(c.pruneScore === undefined ? [] : [row(c.pruned ? "pruned" : "kept by pruning", `mean attention from the next steps ${c.pruneScore.toFixed(4)}`)]),
      rankedList(step, c.token),
      ...attentionRows(step, member),
    );
    this.showAttention(step, member);
    this.tip.hidden = false;
    el.setAttribute("aria-describedby", "tip");
    // Positioned through the CSSOM (allowed by the CSP; inline style attributes are not).
    const r = el.getBoundingClientRect();
    this.tip.style.left = `${Math.max(4, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - this.tip.offsetWidth - 8))}px`;
    this.tip.style.top = `${r.bottom + window.scrollY + 4}px`;
  }

  hide(): void {
    this.cancelHide();
    this.anchor = undefined;
    this.tip.hidden = true;
    this.clearAttention();
  }

  /** Outlines the generated tokens the member attended to most (prompt keys are in the tip). */
  private showAttention(step: StepEventMessage, member: number): void {
    this.clearAttention();
    for (const k of step.attention?.members[member]?.top ?? []) {
      if (k.step < 0) continue;
      const bucket = ATTENTION_BUCKETS.filter((b) => k.weight >= b).length;
      for (const el of this.output.querySelectorAll<HTMLElement>(`[data-step="${k.step}"][data-member="${k.member}"]`)) {
        el.classList.add("attn-key");
        el.dataset.attn = String(bucket);
      }
    }
  }

  private clearAttention(): void {
    for (const el of this.output.querySelectorAll<HTMLElement>(".attn-key")) {
      el.classList.remove("attn-key");
      delete el.dataset.attn;
    }
  }
}

function row(label: string, value: string): HTMLElement {
  const div = document.createElement("div");
  const b = document.createElement("b");
  b.textContent = `${label} `;
  const span = document.createElement("span");
  span.textContent = value;
  div.append(b, span);
  return div;
}

/**
 * The step's distribution as one ranked list (ranks from 1, as everywhere on the page): the
 * set's members, then the runner-ups that missed the threshold, with a bar for each
 * probability and the threshold as a line between them.
 */
function rankedList(step: StepEventMessage, hovered: number): HTMLElement {
  const list = document.createElement("ol");
  list.className = "ranked";
  const members = new Set(step.candidates.map((x) => x.token));
  type Entry = DisplayToken & { token: number; prob: number; member: boolean; rank?: number };
  const entries: Entry[] = [
    ...step.candidates.map((x): Entry => ({ token: x.token, text: x.text, special: x.special, prob: x.prob, rank: x.rank, member: true })),
    ...step.top.filter((t) => !members.has(t.token)).slice(0, 5).map((t): Entry => ({ token: t.token, text: t.text, special: t.special, prob: t.prob, member: false })),
  ];
  const ranks = new Map(step.top.map((t, i) => [t.token, i + 1]));
  const top = Math.max(...entries.map((e) => e.prob));
  const line = document.createElement("li");
  line.className = "threshold-line";
  line.textContent = `threshold ${step.threshold.toFixed(3)}: runner-ups below it${entries.some((e) => !e.member) ? "" : ": none"}`;
  let lineShown = false;
  for (const e of entries) {
    if (!e.member && !lineShown) {
      list.append(line);
      lineShown = true;
    }
    const li = document.createElement("li");
    li.className = e.member ? "member" : "runner-up";
    if (e.token === hovered) li.classList.add("hovered");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.dataset.width = String(Math.round((10 * e.prob) / top)); // CSS draws 0-10 tenths (no inline styles under the CSP)
    const rank = e.rank !== undefined ? e.rank + 1 : ranks.get(e.token);
    const content = [`#${rank ?? "?"} `, bar, ` ${visibleToken(e)} ${formatProb(e.prob)}  id ${e.token}`];
    // A runner-up with text can be forced here (see forcedContinuation); a special token has no text to continue from.
    if (!e.member && e.special === undefined && e.text !== "") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "force";
      button.dataset.token = String(e.token);
      button.title = `Force runner-up #${rank ?? "?"} ${visibleToken(e)} (p ${formatProb(e.prob)}) at step ${step.index} and continue: a counterfactual branch`;
      button.setAttribute("aria-label", button.title);
      button.append(...content);
      li.append(button);
    } else {
      li.append(...content);
    }
    list.append(li);
  }
  if (!lineShown) list.append(line);
  if (list.querySelector("button.force")) {
    const hint = document.createElement("li");
    hint.className = "force-hint";
    hint.textContent = "click a runner-up (or R, then Enter) to force it here and continue";
    list.append(hint);
  }
  return list;
}

/** The hovered member's attention in the tip: masses by target, then its heaviest keys. */
function attentionRows(step: StepEventMessage, member: number): HTMLElement[] {
  const a = step.attention?.members[member];
  if (!a || !step.attention) return [];
  const t = a.targets;
  const keys = document.createElement("ol");
  keys.className = "attention-keys";
  for (const k of a.top) {
    const li = document.createElement("li");
    li.textContent = `${visibleToken(k)}  ${k.weight.toFixed(3)}  ${k.step < 0 ? "prompt" : `step ${k.step}`}`;
    keys.append(li);
  }
  return [
    row(`attention (mean of layers ${step.attention.layers.join(",")} and their heads)`, ""),
    row("self / siblings", `${massText(t.self)} / ${massText(t.siblings)}`),
    row("prompt / BOS / earlier sets", `${massText(t.prompt)} / ${massText(t.bos)} / ${massText(t.earlierSets)}`),
    keys,
  ];
}
