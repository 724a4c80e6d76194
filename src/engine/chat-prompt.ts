/**
 * Chat prompts: the user's text as one user turn, rendered by node-llama-cpp's chat wrappers.
 * A GGUF with `tokenizer.chat_template` gets the wrapper node-llama-cpp resolves for it (a
 * specialized wrapper it proved equivalent to the template, or the Jinja template itself). A
 * GGUF without one (or whose template does not render) gets node-llama-cpp's GeneralChatWrapper
 * ("### Human" / "### Assistant"): a generic format the model was not trained on, and the result
 * says so (`fromTemplate`).
 */
import type { LlamaText } from "node-llama-cpp";
import type { TempoModel } from "./model.js";
import { TempoInputError } from "./errors.js";

export interface ChatPrompt {
  /** Tokens fed before step 0 (the wrapper places BOS itself where the format has one). */
  tokens: number[];
  /** What the model sees, control tokens included as their text. */
  text: string;
  /** node-llama-cpp's wrapper name, e.g. "ChatML", "Jinja", "General". */
  wrapper: string;
  /** True when the format comes from the GGUF's own chat template. */
  fromTemplate: boolean;
  /** The format's plain-text end-of-turn markers: a run stops on them like on stop strings. */
  stopStrings: string[];
}

/** Whether the GGUF carries a chat template (tokenizer.chat_template). */
export function hasChatTemplate(model: TempoModel): boolean {
  const template = model.tokenizer.fileInfo.metadata.tokenizer?.chat_template;
  return typeof template === "string" && template.trim() !== "";
}

/** Plain text of a stop trigger; undefined when it needs a special token (EOS is an end-of-generation token anyway). */
function triggerText(trigger: LlamaText): string | undefined {
  let text = "";
  for (const v of trigger.values) {
    if (typeof v === "string") text += v;
    else if (v.toJSON().type === "specialTokensText") text += v.value;
    else return undefined;
  }
  return text === "" ? undefined : text;
}

/**
 * Renders `user` as a user turn and opens the model's reply; `responsePrefix` is text the reply
 * already starts with ("collapse and continue" inside a chat reply).
 */
export async function renderChatPrompt(
  model: TempoModel,
  user: string,
  responsePrefix = "",
  /** Called when the GGUF's template cannot be used (the generic format is used instead). */
  onTemplateError?: (message: string) => void,
): Promise<ChatPrompt> {
  if (user.length === 0) throw new TempoInputError("the prompt is empty");
  const { resolveChatWrapper, GeneralChatWrapper } = await import("node-llama-cpp");
  let wrapper: InstanceType<typeof GeneralChatWrapper> | ReturnType<typeof resolveChatWrapper> = new GeneralChatWrapper();
  let fromTemplate = false;
  if (hasChatTemplate(model)) {
    try {
      // No silent fallback to a guessed wrapper: a template that does not render is reported below.
      wrapper = resolveChatWrapper(model.tokenizer, { warningLogs: false, fallbackToOtherWrappersOnJinjaError: false });
      fromTemplate = true;
    } catch (e) {
      onTemplateError?.((e as Error)?.message ?? String(e));
    }
  }
  const state = wrapper.generateContextState({
    chatHistory: [
      { type: "user", text: user },
      { type: "model", response: responsePrefix ? [responsePrefix] : [] },
    ],
  });
  const tokens = Array.from(state.contextText.tokenize(model.tokenizer.tokenizer) as unknown as number[]);
  if (tokens.length === 0) throw new TempoInputError("the chat template rendered an empty prompt");
  const stopStrings = [...new Set(state.stopGenerationTriggers.map(triggerText).filter((t): t is string => t !== undefined))];
  return {
    tokens,
    text: model.tokenizer.detokenize(tokens as never, true),
    wrapper: wrapper.wrapperName,
    fromTemplate,
    stopStrings,
  };
}
