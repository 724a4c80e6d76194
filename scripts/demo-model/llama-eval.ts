/**
 * Teacher-forced next-token log-probabilities through llama.cpp (node-llama-cpp), for the
 * export check and the demo-model test.
 */
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

export interface NllResult { nll: number[]; argmax: number[] }

type EvalItem = [Token, { generateNext: { probabilities: boolean; options: typeof PLAIN_SOFTMAX } }];
// temperature 1 and every truncation off: the reported probabilities are the plain softmax
const PLAIN_SOFTMAX = { temperature: 1, topK: 0, topP: 1, minP: 0 };

export class TeacherForcedEvaluator {
  private constructor(private llama: Llama, readonly model: LlamaModel, private context: LlamaContext, private seq: LlamaContextSequence) {}

  static async open(modelPath: string, contextSize = 256): Promise<TeacherForcedEvaluator> {
    const { getLlama } = await import("node-llama-cpp");
    const llama = await getLlama({ build: "never", gpu: false });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize, batchSize: contextSize, threads: 2 });
    return new TeacherForcedEvaluator(llama, model, context, context.getSequence());
  }

  /** <s> followed by the text's tokens, as llama.cpp tokenizes it. */
  tokenizeWithBos(text: string): number[] {
    const bos = this.model.tokens.bos;
    if (bos === null) throw new Error("model has no <s> token");
    return [bos, ...this.model.tokenize(text)];
  }

  /** For i in 0..n-2: -log p(tokens[i+1] | tokens[0..i]) and the argmax at i, from a fresh sequence. */
  async nextTokenNll(tokens: number[]): Promise<NllResult> {
    await this.seq.clearHistory();
    const input = tokens.slice(0, -1).map((t): EvalItem => [t as Token, { generateNext: { probabilities: true, options: PLAIN_SOFTMAX } }]);
    const out = await this.seq.controlledEvaluate(input);
    const nll: number[] = [];
    const argmax: number[] = [];
    for (let i = 0; i < input.length; i++) {
      const probs = out[i]?.next.probabilities;
      if (!probs) throw new Error(`no probabilities for position ${i}`);
      nll.push(-Math.log(probs.get(tokens[i + 1] as Token) ?? 0));
      argmax.push(probs.keys().next().value as number);
    }
    return { nll, argmax };
  }

  async close(): Promise<void> {
    this.seq.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

export async function nextTokenNll(modelPath: string, tokens: number[]): Promise<NllResult> {
  const ev = await TeacherForcedEvaluator.open(modelPath, Math.max(256, tokens.length));
  try {
    return await ev.nextTokenNll(tokens);
  } finally {
    await ev.close();
  }
}
