// The Completion Experiment's baselines step: none, best-of-n sampling and/or beam search at the
// rows a TEMPO arm decoded, each number asked in a box whose empty answer is tempo eval's default
// (so the experiment file leaves it out and tempo run resolves it the same way). The window is
// passed in, so the flow is unit-tested with a scripted one.
import type * as vscode from "vscode";
import { BASELINE_ARMS, DEFAULT_BASELINE_SAMPLING, parseBaselineNumber, type BaselineArm, type BaselineNumber, type BaselinesBlock } from "../protocol/baselines.js";
import type { ExperimentArm } from "../protocol/experiment.js";

const DESCRIPTIONS: Record<BaselineArm, string> = {
  sample: "best-of-n sampling: seeded, with temperature and top-p",
  beam: "beam search",
};

export type BaselineWindow = Pick<typeof vscode.window, "showQuickPick" | "showInputBox" | "showWarningMessage">;

/** The baselines for `arms`: null for none, undefined when the user cancelled a step. */
export async function pickBaselines(window: BaselineWindow, title: string, arms: readonly ExperimentArm[]): Promise<BaselinesBlock | null | undefined> {
  const picked = await window.showQuickPick(BASELINE_ARMS.map((arm) => ({ label: arm, description: DESCRIPTIONS[arm] })), {
    title: `${title}: baselines at matched compute (pick none for none)`,
    canPickMany: true,
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.length === 0) return null;
  const tempo = arms.filter((a) => a !== "standard");
  if (tempo.length === 0) {
    void window.showWarningMessage("TEMPO: the baselines get the rows a TEMPO arm decoded: pick isolated, visible or causal among the arms too.");
    return undefined;
  }
  // The CLI's default is the first TEMPO arm; asked only when there is a choice.
  const match = tempo.length === 1 ? tempo[0] : (await window.showQuickPick(tempo, { title: `${title}: the baselines get the rows this arm decoded on each task`, ignoreFocusOut: true })) as ExperimentArm | undefined;
  if (!match) return undefined;
  const block: BaselinesBlock = { arms: BASELINE_ARMS.filter((arm) => picked.some((p) => p.label === arm)), match };
  const ask = async (key: BaselineNumber, label: string, byDefault: string): Promise<boolean> => {
    const text = await window.showInputBox({
      title: `${title}: ${label}`,
      prompt: `Empty: ${byDefault}, tempo eval's default`,
      placeHolder: byDefault,
      ignoreFocusOut: true,
      validateInput: (v) => parseBaselineNumber(key, v).error,
    });
    if (text === undefined) return false;
    const { value } = parseBaselineNumber(key, text);
    if (value !== undefined) block[key] = value;
    return true;
  };
  if (block.arms.includes("sample")) {
    if (!(await ask("temperature", "sampling temperature", String(DEFAULT_BASELINE_SAMPLING.temperature)))) return undefined;
    if (!(await ask("topP", "sampling top-p (nucleus mass)", String(DEFAULT_BASELINE_SAMPLING.topP)))) return undefined;
    if (!(await ask("seed", "seed of each task's first sample (sample i: seed + i)", String(DEFAULT_BASELINE_SAMPLING.seed)))) return undefined;
  }
  if (block.arms.includes("beam") && !(await ask("beamWidth", "beams kept per step", "the max width"))) return undefined;
  return block;
}
