/*
 * The C floor of the engine benchmark: the least a greedy loop over the same libllama can do.
 * Decode one token, argmax its logits in C, repeat; context parameters as the engine's session
 * sets them. Prints one line: the median interval between generated tokens, in tokens/s.
 *
 * usage: greedy <model.gguf> <backend dir> <steps> <threads> <n_ctx> <n_batch> <n_seq_max>
 *               <flash 0|1> <gpu layers> <prompt token ids, comma-separated>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "llama.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void quiet(enum ggml_log_level level, const char *text, void *user) { (void)level; (void)text; (void)user; }

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 11) { fprintf(stderr, "usage: greedy model dir steps threads n_ctx n_batch n_seq_max flash gpu_layers prompt\n"); return 2; }
  const int steps = atoi(argv[3]), threads = atoi(argv[4]);
  llama_log_set(quiet, NULL);
  ggml_backend_load_all_from_path(argv[2]);

  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = atoi(argv[9]);
  struct llama_model *model = llama_model_load_from_file(argv[1], mp);
  if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)atoi(argv[5]);
  cp.n_batch = cp.n_ubatch = (uint32_t)atoi(argv[6]);
  cp.n_seq_max = (uint32_t)atoi(argv[7]);
  cp.kv_unified = true;
  cp.n_threads = cp.n_threads_batch = threads;
  cp.flash_attn_type = atoi(argv[8]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = false;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

  llama_token prompt[512];
  int n_prompt = 0;
  for (char *tok = strtok(argv[10], ","); tok && n_prompt < 512; tok = strtok(NULL, ",")) prompt[n_prompt++] = atoi(tok);
  if (llama_decode(ctx, llama_batch_get_one(prompt, n_prompt))) { fprintf(stderr, "prompt decode failed\n"); return 1; }

  double *stamps = malloc(sizeof(double) * (size_t)steps);
  for (int i = 0; i < steps; i++) {
    const float *logits = llama_get_logits_ith(ctx, -1);
    llama_token next = 0;
    for (int v = 1; v < n_vocab; v++) if (logits[v] > logits[next]) next = v;
    if (llama_decode(ctx, llama_batch_get_one(&next, 1))) { fprintf(stderr, "decode failed at step %d\n", i); return 1; }
    stamps[i] = now_ms();
  }
  double *gaps = malloc(sizeof(double) * (size_t)steps);
  for (int i = 1; i < steps; i++) gaps[i - 1] = stamps[i] - stamps[i - 1];
  qsort(gaps, (size_t)(steps - 1), sizeof(double), by_value);
  printf("%.3f\n", 1000.0 / gaps[(steps - 1) / 2]);
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
