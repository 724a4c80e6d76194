/**
 * The `tempo` command: scripted experiments over the same engine the extension uses.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { styleText } from "node:util";
import { performance } from "node:perf_hooks";
import { TempoInputError, TempoModel } from "../engine/model.js";
import { TempoSession, FlashAttention } from "../engine/session.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { runGeneration } from "../engine/tempo/generate.js";
import { runSelfCheck } from "../engine/tempo/selfcheck.js";
import { NEXT_STEP_POLICIES, StepEvent, TEMPO_MODES, THRESHOLD_SCHEDULES } from "../engine/types.js";
import { defaultModelPath } from "../engine/default-model.js";
import { LibraryMismatchError } from "../engine/llama/c-api.js";
import { GpuChoice } from "../engine/llama/runtime.js";
import { MAX_LANES } from "../engine/tempo/lanes.js";

function number(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    return n;
  };
}
const collect = (value: string, previous: string[]) => [...previous, value];

interface EngineFlags { model?: string; gpu: GpuChoice; contextSize?: number; flashAttention: FlashAttention }

function engineOptions(cmd: Command): Command {
  return cmd
    .option("--model <gguf>", "GGUF model file (default: the bundled demo model)")
    .addOption(new Option("--gpu <choice>", "GPU backend").choices(["auto", "cpu"]).default("auto"))
    .option("--context-size <n>", "KV cells (a set of M uses M cells)", number("context size"))
    .addOption(new Option("--flash-attention <mode>", "flash attention").choices(["auto", "on", "off"]).default("auto"));
}

async function openSession(flags: EngineFlags, lanes: number): Promise<TempoSession> {
  const model = await TempoModel.open(flags.model ?? defaultModelPath(), { gpu: flags.gpu });
  return new TempoSession(model, { contextSize: flags.contextSize, lanes, flashAttention: flags.flashAttention });
}

/** Inline rendering of a step: one member as text, a set as [a|b|c] (colour on a TTY). */
function renderStep(e: StepEvent, colour: boolean): string {
  const show = (s: string) => JSON.stringify(s).slice(1, -1);
  if (e.candidates.length === 1) return e.candidates[0].text;
  const parts = e.candidates.map((c, j) => {
    const text = show(c.text);
    if (!colour) return text;
    return j === 0 ? styleText(["bold", "green"], text) : styleText(c.prob >= 0.2 ? "yellow" : "dim", text);
  });
  const open = colour ? styleText("cyan", "[") : "[";
  const close = colour ? styleText("cyan", "]") : "]";
  return open + parts.join(colour ? styleText("cyan", "|") : "|") + close;
}

const program = new Command("tempo")
  .description("TEMPO: parallel-token generation on llama.cpp models")
  .showHelpAfterError(false)
  .allowExcessArguments(false);

engineOptions(program.command("generate").description("generate with parallel sets").allowExcessArguments(false))
  .requiredOption("--prompt <text>", "prompt text")
  .addOption(new Option("--mode <mode>", "how set members see each other").choices(TEMPO_MODES).default("isolated"))
  .addOption(new Option("--policy <policy>", "next-step distribution after a set").choices(NEXT_STEP_POLICIES).default("mixture"))
  .option("--threshold <t>", "keep tokens with p >= t, t in (0, 1]", number("threshold"))
  .option("--alpha <a>", "relative rule: cutoff = max(t, a * p_max)", number("alpha"))
  .addOption(new Option("--schedule <schedule>", "threshold schedule over steps").choices(THRESHOLD_SCHEDULES).default("constant"))
  .option("--threshold-end <t>", "threshold at the last step (linear schedule)", number("threshold end"))
  .option("--max-width <n>", `largest set (lane limit ${MAX_LANES})`, number("max width"))
  .option("--max-steps <n>", "steps to generate", number("max steps"))
  .option("--temperature <t>", "softmax temperature", number("temperature"))
  .option("--stop <text>", "stop string (repeatable)", collect, [])
  .option("--json", "print one JSON object instead of streaming text")
  .action(async (o) => {
    const config = resolveConfig({
      mode: o.mode, policy: o.policy, threshold: o.threshold, relativeAlpha: o.alpha, schedule: o.schedule,
      thresholdEnd: o.thresholdEnd, maxWidth: o.maxWidth, maxSteps: o.maxSteps, temperature: o.temperature, stopStrings: o.stop,
    });
    const session = await openSession(o, Math.max(config.maxWidth, 1));
    const promptTokens = session.model.promptTokens(o.prompt);
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    const colour = !o.json && process.stdout.isTTY && !process.env.NO_COLOR;
    const started = performance.now();
    if (!o.json) process.stdout.write(o.prompt);
    const result = await runGeneration(session, { promptTokens, config, signal: controller.signal }, (e) => {
      if (!o.json) process.stdout.write(renderStep(e, colour));
    });
    const seconds = (performance.now() - started) / 1000;
    if (o.json) {
      process.stdout.write(JSON.stringify({
        config: { ...config, model: session.model.info.path, contextSize: session.contextSize, lanes: session.lanes, backend: session.model.runtime.backend, flashAttention: session.flashAttention },
        promptTokens: result.promptTokens,
        steps: result.steps.map((s) => ({ ...s })),
        stopReason: result.stopReason,
        text: result.text,
      }) + "\n");
    } else {
      const tokens = result.steps.reduce((a, s) => a + s.candidates.length, 0);
      process.stdout.write("\n");
      process.stderr.write(`[${result.stopReason}] ${result.steps.length} steps, ${tokens} tokens in sets, ${(result.steps.length / seconds).toFixed(1)} steps/s on ${session.model.runtime.backend}\n`);
    }
  });

engineOptions(program.command("selfcheck").description("verify exact isolation on a model; non-zero exit on failure").allowExcessArguments(false))
  .option("--prompt <text>", "prompt for the checks", "The quick brown fox")
  .option("--width <n>", "set size to check", number("width"), 4)
  .option("--tolerance <x>", "max |logit difference| allowed for equalities", number("tolerance"), 1e-3)
  .option("--json", "print JSON")
  .action(async (o) => {
    if (!Number.isInteger(o.width) || o.width < 2 || o.width > MAX_LANES) throw new TempoInputError(`width must be an integer in [2, ${MAX_LANES}]`);
    if (!(o.tolerance > 0)) throw new TempoInputError("tolerance must be > 0");
    const session = await openSession(o, o.width);
    const rows = runSelfCheck(session, { prompt: session.model.promptTokens(o.prompt), width: o.width, tolerance: o.tolerance });
    const ok = rows.every((r) => r.pass);
    if (o.json) {
      process.stdout.write(JSON.stringify({ model: session.model.info.path, backend: session.model.runtime.backend, flashAttention: session.flashAttention, rows, ok }) + "\n");
    } else {
      const w = Math.max(...rows.map((r) => r.check.length));
      process.stdout.write(`model ${session.model.info.fileName} on ${session.model.runtime.backend}, flash attention ${session.flashAttention}\n`);
      process.stdout.write(`${"check".padEnd(w)}  max|Δlogit|   expect        result\n`);
      for (const r of rows) {
        process.stdout.write(`${r.check.padEnd(w)}  ${r.maxAbsDiff.toExponential(3).padStart(10)}   ${r.expect} ${r.tolerance.toExponential(0).padEnd(9)}  ${r.pass ? "pass" : "FAIL"}\n`);
      }
    }
    process.exitCode = ok ? 0 : 1;
  });

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error & { code?: string; exitCode?: number };
  if (err.code?.startsWith("commander.")) {
    // commander already printed its one-line message (help/version exit 0).
    process.exitCode = err.exitCode ?? 2;
  } else if (err instanceof TempoInputError || err instanceof LibraryMismatchError) {
    process.stderr.write(`tempo: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`tempo: internal error: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  }
}
