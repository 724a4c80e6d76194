// The playground's hover / focus details of a token: its numbers, the step's distribution as one
// ranked list with the threshold between members and runner-ups, and, when the run captured
// attention, what it attended to (masses in the tip, the heaviest generated keys outlined).
import type { DisplayToken } from "../src/protocol/token-display.js";
import type { StepEventMessage } from "./protocol.js";
import { formatProb, visibleToken } from "./render.js";

/** The token under a pointer or focus: its step and member (from the element's data-step / data-member). */
export type MemberLookup = (target: EventTarget | null) => { step: StepEventMessage; member: number; el: HTMLElement } | undefined;

/** Weight buckets for outlining the tokens a member attended to (CSS .attn-key[data-attn]). */
const ATTENTION_BUCKETS = [0.02, 0.05, 0.15, 0.4];
/** An exact 0 (isolated siblings) is said as such, never as a small number. */
const massText = (x: number) => (x === 0 ? "0 (exact)" : x.toFixed(4));

export class MemberTip {
  constructor(private readonly tip: HTMLElement, private readonly output: HTMLElement, private readonly lookup: MemberLookup) {}

  show(target: EventTarget | null): void {
    const hit = this.lookup(target);
    if (!hit) return;
    const { step, member, el } = hit;
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
    li.append(`#${rank ?? "?"} `, bar, ` ${visibleToken(e)} ${formatProb(e.prob)}  id ${e.token}`);
    list.append(li);
  }
  if (!lineShown) list.append(line);
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
