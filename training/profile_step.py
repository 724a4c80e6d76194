"""Where one training step of the default configuration spends its time on the CPU: the
forward pass, the backward pass and the optimizer (CPU seconds of the main thread), and torch's
profiler table of the most expensive operators. A diagnostic for docs/demo-model.md.
Usage: /usr/bin/python3 training/profile_step.py [--precision bf16] [--threads 1] [--steps 3]
"""
import argparse
import time

from common import CACHE, require

require("numpy", "torch")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from train import LlamaLM, forward_loss, load_split, make_optimizer, optimizer_step, sample_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", default=f"{CACHE}/tokens")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(1234)
    torch.set_num_threads(args.threads)
    # train.py's defaults
    cfg = {"n_vocab": 4096, "n_embd": 256, "n_layer": 4, "n_head": 4, "n_head_kv": 4, "n_ff": 704, "n_ctx": 256,
           "rms_eps": 1e-5, "rope_base": 10000.0}
    ids, _ = load_split(args.tokens, "train")
    model = LlamaLM(cfg)
    opt = make_optimizer(model, 3e-3)
    rng = np.random.default_rng(1234)
    bf16 = args.precision == "bf16"
    split = {"forward + loss": 0.0, "backward": 0.0, "optimizer": 0.0}

    def step(timed: bool) -> None:
        x, y = sample_batch(ids, rng, 16, cfg["n_ctx"], "cpu")
        t0 = time.thread_time()
        loss = forward_loss(model, x, y, bf16)
        t1 = time.thread_time()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.thread_time()
        optimizer_step(model, opt)
        t3 = time.thread_time()
        if timed:
            for k, d in zip(split, (t1 - t0, t2 - t1, t3 - t2)):
                split[k] += d / args.steps

    step(False)  # warm-up: first-call allocations and kernel selection
    with torch.autograd.profiler.profile() as prof:
        for _ in range(args.steps):
            step(True)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    print(f"{args.precision}, {args.threads} thread(s), main-thread CPU seconds per step: "
          + ", ".join(f"{k} {v:.2f}" for k, v in split.items()))


if __name__ == "__main__":
    main()
