/**
 * `--prompt-file <path>` beside every `--prompt`: a prompt too long for the command line
 * (argv is capped near 128 KiB a string), or one with text a shell would mangle.
 */
import { Command, Option } from "commander";
import { readFileSync, statSync } from "node:fs";
import { TempoInputError } from "../engine/errors.js";

/** Far above any context; refuses a wrong path to a huge file before reading it. */
export const MAX_PROMPT_FILE_BYTES = 64 * 1024 * 1024;

export function readPromptFile(path: string): string {
  let size: number;
  try { size = statSync(path).size; } catch { throw new TempoInputError(`cannot read prompt file ${path}: not found`); }
  if (size > MAX_PROMPT_FILE_BYTES) throw new TempoInputError(`prompt file ${path} is ${size} bytes; at most ${MAX_PROMPT_FILE_BYTES} are read`);
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) { throw new TempoInputError(`cannot read prompt file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  if (text.length === 0) throw new TempoInputError(`prompt file ${path} is empty`);
  return text;
}

/** Adds --prompt-file to each command with a --prompt; the file's exact text becomes the prompt. */
export function addPromptFileOption(program: Command): void {
  for (const cmd of program.commands) {
    if (!cmd.options.some((o) => o.long === "--prompt")) continue;
    cmd.addOption(new Option("--prompt-file <path>", "read the prompt from a file (exact text) instead of --prompt").conflicts("prompt"));
    cmd.hook("preAction", (c) => {
      const file = c.getOptionValue("promptFile") as string | undefined;
      if (file !== undefined) c.setOptionValueWithSource("prompt", readPromptFile(file), "cli");
    });
  }
}
