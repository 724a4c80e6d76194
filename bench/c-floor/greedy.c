/*
 * The C floor of the engine benchmark: the least a greedy loop over the same libllama can do.
 * Decode one token, argmax its logits in C, repeat. It runs in the benchmark's own process, on
 * the very context the engine's session decodes with (so every context parameter is the
 * engine's), in short bursts interleaved with the engine's: a drift in the machine's speed then
 * moves both sides alike.
 */
#include <time.h>
#include "llama.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * Clears the context's memory, decodes the prompt, then `steps` greedy tokens one at a time;
 * stamps[i] is when token i's decode returned. Returns 0, or the failing llama_decode's code.
 */
int tempo_c_floor(struct llama_context *ctx, llama_token *prompt, int n_prompt, int steps, double *stamps) {
  llama_memory_clear(llama_get_memory(ctx), true);
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(llama_get_model(ctx)));
  int rc = llama_decode(ctx, llama_batch_get_one(prompt, n_prompt));
  if (rc) return rc;
  for (int i = 0; i < steps; i++) {
    const float *logits = llama_get_logits_ith(ctx, -1);
    llama_token next = 0;
    for (int v = 1; v < n_vocab; v++) if (logits[v] > logits[next]) next = v;
    rc = llama_decode(ctx, llama_batch_get_one(&next, 1));
    if (rc) return rc;
    stamps[i] = now_ms();
  }
  return 0;
}
