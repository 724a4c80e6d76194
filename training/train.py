"""Trains the demo code model (llama architecture) on llama.cpp-tokenized ids.

The forward pass mirrors llama.cpp's llama graph exactly (RMSNorm, RoPE type NORM on
adjacent pairs, causal softmax attention scaled by 1/sqrt(head_dim), SwiGLU FFN, final
RMSNorm, output projection tied to the token embedding), so the exported GGUF computes the
same function. Also computes unigram and bigram baselines on the same held-out targets.
"""
import argparse
import json
import math
import os
import platform
import resource
import time

from common import require

require("numpy", "torch")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BOS = 1
TIMING_ENV = ("OMP_WAIT_POLICY", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "OPENBLAS_NUM_THREADS")


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim: int, n_pos: int, base: float):
    # llama.cpp ROPE_TYPE_NORM: pair (2i, 2i+1) turns by pos * base^(-2i/head_dim)
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    # x: (B, H, T, hd); cos/sin: (T, hd/2)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h, hk = cfg["n_embd"], cfg["n_head"], cfg["n_head_kv"]
        self.h, self.hk, self.hd = h, hk, d // h
        self.attn_norm = RMSNorm(d, cfg["rms_eps"])
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, hk * self.hd, bias=False)
        self.wv = nn.Linear(d, hk * self.hd, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg["rms_eps"])
        self.gate = nn.Linear(d, cfg["n_ff"], bias=False)
        self.up = nn.Linear(d, cfg["n_ff"], bias=False)
        self.down = nn.Linear(cfg["n_ff"], d, bias=False)

    def forward(self, x, cos, sin, future):
        B, T, _ = x.shape
        a = self.attn_norm(x)
        q = self.wq(a).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.wk(a).view(B, T, self.hk, self.hd).transpose(1, 2)
        v = self.wv(a).view(B, T, self.hk, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if self.hk != self.h:  # ggml broadcasts kv head j to q heads j*r .. j*r+r-1
            k = k.repeat_interleave(self.h // self.hk, dim=1)
            v = v.repeat_interleave(self.h // self.hk, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))
        att = att.masked_fill(future, float("-inf")).softmax(dim=-1)
        o = att @ v
        x = x + self.wo(o.transpose(1, 2).reshape(B, T, -1))
        f = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(f)) * self.up(f))


class LlamaLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["n_vocab"], cfg["n_embd"])
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"]))
        self.norm = RMSNorm(cfg["n_embd"], cfg["rms_eps"])
        cos, sin = rope_tables(cfg["n_embd"] // cfg["n_head"], cfg["n_ctx"], cfg["rope_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("future", torch.ones(cfg["n_ctx"], cfg["n_ctx"], dtype=torch.bool).triu(1), persistent=False)
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() == 2:
                # scaled init for the residual projections keeps early training stable
                s = std / math.sqrt(2 * cfg["n_layer"]) if name.endswith(("wo.weight", "down.weight")) else std
                nn.init.normal_(p, 0.0, s)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.embed(idx)
        cos, sin, future = self.cos[:T], self.sin[:T], self.future[:T, :T]
        for b in self.blocks:
            x = b(x, cos, sin, future)
        return self.norm(x) @ self.embed.weight.t()


def load_split(tokens_dir: str, split: str):
    ids = np.fromfile(os.path.join(tokens_dir, f"{split}.u16"), dtype=np.uint16).astype(np.int64)
    index = json.load(open(os.path.join(tokens_dir, f"{split}.index.json")))
    return ids, index


def heldout_targets(ids: np.ndarray):
    """Positions 1.. whose target is not a document's <s>: what every method is scored on."""
    mask = np.ones(len(ids), dtype=bool)
    mask[0] = False
    mask[ids == BOS] = False
    return mask


def ngram_baselines(train: np.ndarray, held: np.ndarray, n_vocab: int):
    """Add-one unigram; bigram interpolated with it by Witten-Bell (no tuned parameters)."""
    mask = heldout_targets(held)
    uni_counts = np.bincount(train, minlength=n_vocab).astype(np.float64) + 1.0
    p_uni = uni_counts / uni_counts.sum()
    prev, nxt = train[:-1], train[1:]
    pair = prev * n_vocab + nxt
    uniq, cnt = np.unique(pair, return_counts=True)
    pair_count = dict(zip(uniq.tolist(), cnt.tolist()))
    ctx_total = np.bincount(prev, minlength=n_vocab).astype(np.float64)
    ctx_types = np.bincount(uniq // n_vocab, minlength=n_vocab).astype(np.float64)
    hp, hn = held[:-1], held[1:]
    tmask = mask[1:]
    c_pair = np.array([pair_count.get(int(a) * n_vocab + int(b), 0) for a, b in zip(hp, hn)], dtype=np.float64)
    denom = ctx_total[hp] + ctx_types[hp]
    p_bi = np.where(denom > 0, (c_pair + ctx_types[hp] * p_uni[hn]) / np.maximum(denom, 1), p_uni[hn])
    uni_nll = -np.log(p_uni[hn])[tmask]
    bi_nll = -np.log(p_bi)[tmask]
    return float(uni_nll.sum()), float(bi_nll.sum()), int(tmask.sum())


@torch.no_grad()
def model_nll(model, held: np.ndarray, T: int, max_windows=None, device="cpu"):
    """Sum of -log p over held-out targets, in consecutive windows of T (context restarts)."""
    model.eval()
    mask = heldout_targets(held)
    total, count = 0.0, 0
    starts = list(range(0, len(held) - 1, T))
    if max_windows is not None and len(starts) > max_windows:
        # evenly spread, so the subset samples every part of the held-out split
        starts = [starts[int(i * len(starts) / max_windows)] for i in range(max_windows)]
    for i in range(0, len(starts), 16):
        batch = starts[i:i + 16]
        # windows shorter than T (the tail) are scored on their own
        for group in ([s for s in batch if len(held) - 1 - s >= T], [s for s in batch if len(held) - 1 - s < T]):
            if not group:
                continue
            L = T if len(held) - 1 - group[0] >= T else len(held) - 1 - group[0]
            x = torch.from_numpy(np.stack([held[s:s + L] for s in group])).to(device)
            y = torch.from_numpy(np.stack([held[s + 1:s + 1 + L] for s in group])).to(device)
            m = torch.from_numpy(np.stack([mask[s + 1:s + 1 + L] for s in group])).to(device)
            logp = F.log_softmax(model(x).float(), dim=-1)
            nll = -logp.gather(-1, y[..., None])[..., 0]
            total += float(nll[m].sum())
            count += int(m.sum())
    model.train()
    return total, count


def make_optimizer(model: LlamaLM, lr: float):
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def sample_batch(train_ids: np.ndarray, rng, B: int, T: int, device: str):
    """B random windows of T tokens and their next-token targets."""
    starts = rng.integers(0, len(train_ids) - T - 1, size=B)
    x = torch.from_numpy(np.stack([train_ids[s:s + T] for s in starts])).to(device)
    y = torch.from_numpy(np.stack([train_ids[s + 1:s + T + 1] for s in starts])).to(device)
    return x, y


def forward_loss(model: LlamaLM, x, y, bf16: bool):
    """Mean next-token cross-entropy; with bf16 the matrix products run in bf16, the loss in fp32."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(x)
    return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.view(-1))


def optimizer_step(model: LlamaLM, opt) -> None:
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def cpu_has_bf16() -> bool:
    """oneDNN runs bf16 matrix products natively only with these instructions; elsewhere bf16 is slower than fp32."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--n-vocab", type=int, required=True)
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-head-kv", type=int, default=4)
    ap.add_argument("--n-ff", type=int, default=704)
    ap.add_argument("--ctx", type=int, default=256)
    # Defaults are the shipped configuration (chosen by a small lr/batch sweep, docs/demo-model.md).
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--eval-windows", type=int, default=48)
    # 2 for a 2-core machine; run.sh sets OMP_WAIT_POLICY=PASSIVE, without which 2 threads on a
    # busy machine were 5x slower than 1 (each spun while waiting for its preempted partner)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--stop-after", type=int, default=None,
                    help="end after this many steps of the --steps schedule: a timing/equivalence probe, no export")
    ap.add_argument("--device", default="cpu", help="cpu (the reference setup) or cuda (for quick sweeps)")
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                    help="matrix products of the training steps (weights, optimizer and evaluation stay fp32); "
                         "auto: bf16 on a CPU with AVX512-BF16 or AMX (about half the CPU time per step here), else fp32")
    args = ap.parse_args()

    if args.n_embd % args.n_head or args.n_head % args.n_head_kv:
        raise SystemExit("--n-embd must divide by --n-head, and --n-head by --n-head-kv")
    bf16 = args.precision == "bf16" or (args.precision == "auto" and args.device == "cpu" and cpu_has_bf16())
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    cfg = {"n_vocab": args.n_vocab, "n_embd": args.n_embd, "n_layer": args.n_layer, "n_head": args.n_head,
           "n_head_kv": args.n_head_kv, "n_ff": args.n_ff, "n_ctx": args.ctx, "rms_eps": 1e-5, "rope_base": 10000.0}
    train_ids, _ = load_split(args.tokens, "train")
    held_ids, held_index = load_split(args.tokens, "heldout")
    assert train_ids.max() < args.n_vocab and held_ids.max() < args.n_vocab
    held_bytes = sum(d["bytes"] for d in held_index)

    uni_nll, bi_nll, n_targets = ngram_baselines(train_ids, held_ids, args.n_vocab)
    print(f"baselines over {n_targets} held-out tokens: unigram {uni_nll / n_targets:.3f} nats/token, "
          f"bigram {bi_nll / n_targets:.3f} nats/token")

    model = LlamaLM(cfg).to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters, config {cfg}")
    opt = make_optimizer(model, args.lr)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    T, B = args.ctx, args.batch
    curve = {"step": [], "tokens": [], "seconds": [], "cpuSeconds": [], "train": [], "heldout": []}
    run_loss, run_n = 0.0, 0
    t0 = time.time()
    last = args.steps if args.stop_after is None else min(args.steps, args.stop_after)
    for step in range(last + 1):
        if step % args.eval_every == 0 or step == last:
            tot, cnt = model_nll(model, held_ids, T, args.eval_windows, args.device)
            curve["step"].append(step)
            curve["tokens"].append(step * B * T)
            curve["seconds"].append(round(time.time() - t0, 1))
            ru = resource.getrusage(resource.RUSAGE_SELF)
            curve["cpuSeconds"].append(round(ru.ru_utime + ru.ru_stime, 1))
            curve["train"].append(run_loss / run_n if run_n else None)
            curve["heldout"].append(tot / cnt)
            print(f"step {step:5d}  {time.time() - t0:7.1f}s  cpu {ru.ru_utime + ru.ru_stime:7.1f}s  train {curve['train'][-1] or float('nan'):.3f}  "
                  f"heldout(subset) {tot / cnt:.3f}", flush=True)
            run_loss, run_n = 0.0, 0
        if step == last:
            break
        x, y = sample_batch(train_ids, rng, B, T, args.device)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = forward_loss(model, x, y, bf16)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        optimizer_step(model, opt)
        run_loss += loss.item()
        run_n += 1
    train_seconds = time.time() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # what the timing depended on besides the arguments: other work on the machine, run.sh's knobs
    timing_context = {"loadAverage": [round(x, 2) for x in os.getloadavg()],
                      "environment": {k: os.environ[k] for k in TIMING_ENV if k in os.environ}}

    if args.stop_after is not None:
        probe = {"config": cfg, "device": args.device, "threads": args.threads, "precision": "bf16" if bf16 else "fp32",
                 "torch": torch.__version__,
                 "scheduleSteps": args.steps, "stoppedAfter": last, "batch": B, "curve": curve,
                 "trainSeconds": round(train_seconds, 1), "processCpuSeconds": round(usage.ru_utime + usage.ru_stime, 1),
                 **timing_context}
        with open(args.results, "w") as f:
            json.dump(probe, f, indent=2)
            f.write("\n")
        print(f"probe: {last} steps in {train_seconds:.0f} s wall, {probe['processCpuSeconds']} s CPU; load {probe['loadAverage']}")
        return
    tot, cnt = model_nll(model, held_ids, T, device=args.device)
    assert cnt == n_targets
    results = {
        "config": cfg, "parameters": n_params, "seed": args.seed, "steps": args.steps, "batch": B,
        "lr": args.lr, "warmup": args.warmup, "device": args.device, "threads": args.threads,
        "precision": "bf16" if bf16 else "fp32",
        "trainTokens": int(len(train_ids)), "tokensSeen": args.steps * B * T,
        "trainSeconds": round(train_seconds, 1),
        # whole-process CPU time: with other work on the machine, wall time overstates the cost
        "processCpuSeconds": round(usage.ru_utime + usage.ru_stime, 1), **timing_context,
        "torch": torch.__version__, "python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
        "heldout": {"targets": n_targets, "bytes": held_bytes,
                    "model": {"natsPerToken": tot / cnt, "ppl": math.exp(tot / cnt), "natsPerByte": tot / held_bytes},
                    "unigram": {"natsPerToken": uni_nll / cnt, "ppl": math.exp(uni_nll / cnt), "natsPerByte": uni_nll / held_bytes},
                    "bigram": {"natsPerToken": bi_nll / cnt, "ppl": math.exp(bi_nll / cnt), "natsPerByte": bi_nll / held_bytes}},
        "curve": curve,
    }
    print(json.dumps(results["heldout"], indent=1))
    export(model.cpu(), cfg, args.out)
    with open(args.results, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


def export(model: LlamaLM, cfg, out: str) -> None:
    """Raw little-endian f32 tensors named as in GGUF; torch (out, in) row-major == ggml [in, out]."""
    os.makedirs(out, exist_ok=True)
    tensors = {"token_embd.weight": model.embed.weight, "output_norm.weight": model.norm.weight}
    for i, b in enumerate(model.blocks):
        for gguf, p in (("attn_norm", b.attn_norm.weight), ("attn_q", b.wq.weight), ("attn_k", b.wk.weight),
                        ("attn_v", b.wv.weight), ("attn_output", b.wo.weight), ("ffn_norm", b.ffn_norm.weight),
                        ("ffn_gate", b.gate.weight), ("ffn_up", b.up.weight), ("ffn_down", b.down.weight)):
            tensors[f"blk.{i}.{gguf}.weight"] = p
    index, offset = {}, 0
    with open(os.path.join(out, "weights.f32"), "wb") as f:
        for name, p in tensors.items():
            a = p.detach().float().contiguous().numpy().astype("<f4")
            f.write(a.tobytes())
            index[name] = {"shape": list(a.shape), "offset": offset, "count": int(a.size)}
            offset += a.size * 4
    json.dump({"config": cfg, "tensors": index}, open(os.path.join(out, "weights.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
