// VS Code's baselines step, on a scripted window: what it asks in which order, what an empty box
// means, that a box refuses with the CLI's message, and that any cancel runs nothing.
import assert from "node:assert/strict";
import { pickBaselines, type BaselineWindow } from "../../src/extension/experiment-baselines.js";
import type { ExperimentArm } from "../../src/protocol/experiment.js";

interface Asked { title: string; items?: string[]; refuses?: Record<string, string | undefined> }

/** Answers each step in turn: labels to pick (a list: the labels ticked), text for a box, undefined to cancel. */
function scripted(answers: (string[] | string | undefined)[]): { window: BaselineWindow; asked: Asked[]; warnings: string[] } {
  const asked: Asked[] = [], warnings: string[] = [];
  const next = () => answers.shift();
  const window = {
    showQuickPick: async (items: readonly (string | { label: string })[], o: { title: string; canPickMany?: boolean }) => {
      const labels = items.map((i) => (typeof i === "string" ? i : i.label));
      asked.push({ title: o.title, items: labels });
      const a = next();
      if (a === undefined) return undefined;
      const picked = items.filter((_, k) => [a].flat().includes(labels[k]));
      return o.canPickMany ? picked : picked[0];
    },
    showInputBox: async (o: { title: string; validateInput: (v: string) => string | undefined }) => {
      asked.push({ title: o.title, refuses: Object.fromEntries(["", "0", "1.5", "300"].map((v) => [v, o.validateInput(v)])) });
      const a = next();
      return typeof a === "string" ? a : undefined;
    },
    showWarningMessage: async (m: string) => { warnings.push(m); return undefined; },
  } as unknown as BaselineWindow;
  return { window, asked, warnings };
}

const ARMS: ExperimentArm[] = ["standard", "isolated", "visible"];

describe("VS Code: the completion experiment's baselines step", () => {
  it("none picked: no baselines, and nothing more is asked", async () => {
    const s = scripted([[]]);
    assert.equal(await pickBaselines(s.window, "T", ARMS), null);
    assert.equal(s.asked.length, 1);
    assert.deepEqual(s.asked[0].items, ["sample", "beam"]);
  });

  it("sample and beam: the arm to match (several TEMPO arms), then one box per setting; empty boxes stay the CLI's defaults", async () => {
    const s = scripted([["beam", "sample"], "visible", "", "0.9", " ", "3"]);
    assert.deepEqual(await pickBaselines(s.window, "T", ARMS), { arms: ["sample", "beam"], match: "visible", topP: 0.9, beamWidth: 3 });
    assert.deepEqual(s.asked.map((a) => a.title), [
      "T: baselines at matched compute (pick none for none)", "T: the baselines get the rows this arm decoded on each task",
      "T: sampling temperature", "T: sampling top-p (nucleus mass)", "T: seed of each task's first sample (sample i: seed + i)", "T: beams kept per step",
    ]);
    assert.deepEqual(s.asked[1].items, ["isolated", "visible"], "standard is no budget to match");
    // Each box refuses what the flag refuses, with the flag's message; empty is the default.
    assert.deepEqual(s.asked[2].refuses, { "": undefined, 0: "the sampling temperature must be in (0, 100], got 0", 1.5: undefined, 300: "the sampling temperature must be in (0, 100], got 300" });
    assert.equal(s.asked[3].refuses?.["1.5"], "top-p must be in (0, 1], got 1.5");
    assert.equal(s.asked[4].refuses?.["1.5"], "the seed must be an integer in [1, 2147483648], got 1.5");
    assert.equal(s.asked[5].refuses?.["300"], "the beam width must be an integer in [1, 256], got 300");
  });

  it("one TEMPO arm is matched without asking", async () => {
    const s = scripted([["beam"], ""]);
    assert.deepEqual(await pickBaselines(s.window, "T", ["standard", "causal"]), { arms: ["beam"], match: "causal" });
    assert.equal(s.asked.length, 2);
  });

  it("no TEMPO arm: a warning and no run; a cancelled step: no run", async () => {
    const none = scripted([["sample"]]);
    assert.equal(await pickBaselines(none.window, "T", ["standard"]), undefined);
    assert.match(none.warnings[0], /pick isolated, visible or causal/);
    for (const answers of [[undefined], [["sample"], undefined], [["sample", "beam"], "isolated", "", "", "", undefined]]) {
      assert.equal(await pickBaselines(scripted(answers).window, "T", ARMS), undefined, JSON.stringify(answers));
    }
  });
});
