// The playground's settings form and prompt format: reading and writing the controls, the
// schedule preview and the chat-format hint. It owns what it shows (the model's chat template).
import { MOVING_SCHEDULES, schedulePreviewText } from "../src/engine/tempo/schedule.js";
import { DEFAULT_CONFIG, NEXT_STEP_POLICIES, oneOf, TEMPO_MODES, THRESHOLD_SCHEDULES } from "../src/protocol/generation.js";
import type { GenerationSettings, PromptFormat } from "./protocol.js";
import { byId, type ValueElement } from "./playground-dom.js";

const NUMBER_FIELDS = ["threshold", "thresholdEnd", "maxWidth", "maxSteps", "minSteps", "temperature", "pruneMass", "pruneLookahead"] as const;
const SELECT_FIELDS = ["mode", "policy", "schedule"] as const;
type FieldKey = (typeof NUMBER_FIELDS)[number] | (typeof SELECT_FIELDS)[number] | "stops";
/** The folded "More settings" number fields, as its summary names them when they differ from the engine's defaults. */
const FOLDED_NUMBERS = { minSteps: "min steps", pruneMass: "prune below", pruneLookahead: "prune lookahead" } as const;

export class SettingsForm {
  /** The settings controls, by the setting each edits (the ids webviewHtml.ts gives them). */
  readonly fields = Object.fromEntries([...SELECT_FIELDS, ...NUMBER_FIELDS, "stops"].map((k) => [k, byId<ValueElement>(k)])) as Record<FieldKey, ValueElement>;
  private readonly schedulePreview = byId("schedule-preview");
  private readonly moreChanged = byId("more-changed");
  private readonly formatHint = byId("format-hint");
  private readonly formatRadios = [...document.querySelectorAll<HTMLElement & { checked: boolean; value: string }>("#format vscode-radio")];
  /** Whether the loaded model's GGUF has a chat template (undefined until a model loaded). */
  private modelChatTemplate: boolean | undefined;

  /** Reads the controls; an empty number field means "the default". Throws on a non-number. */
  read(): GenerationSettings {
    const f = this.fields;
    // The selects offer only the lists' values; anything else (none chosen) means the default.
    const s: GenerationSettings = {
      mode: oneOf(TEMPO_MODES, f.mode.value),
      policy: oneOf(NEXT_STEP_POLICIES, f.policy.value),
      schedule: oneOf(THRESHOLD_SCHEDULES, f.schedule.value),
    };
    for (const k of NUMBER_FIELDS) {
      if (k === "thresholdEnd" && !this.scheduleMoves()) continue;
      const raw = f[k].value.trim();
      if (raw === "") continue;
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`${k} is not a number: ${raw}`);
      s[k] = n;
    }
    // One stop string per line; "\n" typed as two characters stands for a newline.
    s.stopStrings = f.stops.value.split("\n").filter((l) => l.length > 0).map((l) => l.replace(/\\n/g, "\n"));
    return s;
  }

  write(s: GenerationSettings): void {
    for (const k of SELECT_FIELDS) if (s[k] !== undefined) this.fields[k].value = String(s[k]);
    for (const k of NUMBER_FIELDS) if (s[k] !== undefined) this.fields[k].value = String(s[k]);
    if (s.stopStrings) this.fields.stops.value = s.stopStrings.map((x) => x.replace(/\n/g, "\\n")).join("\n");
    this.sync();
  }

  /** Brings what depends on the controls up to date: the schedule's fields and preview, the folded settings' summary. */
  sync(): void {
    this.syncSchedule();
    this.syncMoreChanged();
  }

  private scheduleMoves(): boolean {
    return (MOVING_SCHEDULES as readonly string[]).includes(this.fields.schedule.value);
  }

  /** The folded settings that differ from the engine's defaults, named in the summary: a closed fold hides no change. */
  private syncMoreChanged(): void {
    const f = this.fields;
    const changed: string[] = [];
    if (this.scheduleMoves()) changed.push(`schedule ${f.schedule.value} → ${f.thresholdEnd.value.trim() || DEFAULT_CONFIG.thresholdEnd}`);
    for (const [k, name] of Object.entries(FOLDED_NUMBERS) as [keyof typeof FOLDED_NUMBERS, string][]) {
      const raw = f[k].value.trim();
      if (raw !== "" && Number(raw) !== DEFAULT_CONFIG[k]) changed.push(`${name} ${raw}`);
    }
    const stops = f.stops.value.split("\n").filter((l) => l.length > 0).length;
    if (stops > 0) changed.push(`${stops} stop string${stops === 1 ? "" : "s"}`);
    this.moreChanged.textContent = changed.length ? `(set: ${changed.join(", ")})` : "";
  }

  /** End threshold only for a moving schedule, and its curve previewed with the engine's function. */
  private syncSchedule(): void {
    const f = this.fields;
    f.thresholdEnd.disabled = !this.scheduleMoves();
    const value = (field: ValueElement, fallback: number) => (field.value.trim() === "" || !Number.isFinite(Number(field.value)) ? fallback : Number(field.value));
    const threshold = value(f.threshold, DEFAULT_CONFIG.threshold);
    this.schedulePreview.hidden = !this.scheduleMoves();
    this.schedulePreview.textContent = `threshold per step: ${schedulePreviewText({
      schedule: oneOf(THRESHOLD_SCHEDULES, f.schedule.value) ?? DEFAULT_CONFIG.schedule, threshold, thresholdEnd: value(f.thresholdEnd, threshold),
      maxSteps: Math.max(1, Math.round(value(f.maxSteps, DEFAULT_CONFIG.maxSteps))),
    })}`;
  }

  readFormat(): PromptFormat {
    return this.formatRadios.find((r) => r.checked)?.value === "chat" ? "chat" : "raw";
  }

  writeFormat(format: PromptFormat): void {
    for (const r of this.formatRadios) r.checked = r.value === format;
    this.syncFormatHint();
  }

  /** What the loaded model says of its chat template (undefined: not known yet). */
  setChatTemplate(has: boolean | undefined): void {
    if (has !== undefined) this.modelChatTemplate = has;
    this.syncFormatHint();
  }

  syncFormatHint(): void {
    this.formatHint.hidden = this.readFormat() !== "chat";
    const base = "Chat: the prompt becomes one user turn in the model's chat template, and the run generates the reply.";
    this.formatHint.textContent =
      this.modelChatTemplate === false
        ? `${base} This model's GGUF has no chat template, so chat uses node-llama-cpp's generic "### Human / ### Assistant" format, which the model was not trained on.`
        : this.modelChatTemplate === true
          ? `${base} This model's GGUF has one.`
          : `${base} Whether the model has one is known once it has loaded; without one, a generic format is used.`;
  }
}
