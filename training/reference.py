"""Torch's next-token log-probabilities for a held-out snippet, computed from the exported
weight files (not the in-memory model), for scripts/demo-model/verify.ts to compare with
what llama.cpp computes from the GGUF."""
import argparse
import json
import os

from common import require

require("numpy", "torch")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from train import BOS, LlamaLM, load_split  # noqa: E402


def load_model(weights_dir: str) -> LlamaLM:
    index = json.load(open(os.path.join(weights_dir, "weights.json")))
    raw = np.fromfile(os.path.join(weights_dir, "weights.f32"), dtype="<f4")
    model = LlamaLM(index["config"])

    def get(name):
        t = index["tensors"][name]
        start = t["offset"] // 4
        return torch.from_numpy(raw[start:start + t["count"]].reshape(t["shape"]).copy())

    with torch.no_grad():
        model.embed.weight.copy_(get("token_embd.weight"))
        model.norm.weight.copy_(get("output_norm.weight"))
        for i, b in enumerate(model.blocks):
            for gguf, p in (("attn_norm", b.attn_norm.weight), ("attn_q", b.wq.weight), ("attn_k", b.wk.weight),
                            ("attn_v", b.wv.weight), ("attn_output", b.wo.weight), ("ffn_norm", b.ffn_norm.weight),
                            ("ffn_gate", b.gate.weight), ("ffn_up", b.up.weight), ("ffn_down", b.down.weight)):
                p.copy_(get(f"blk.{i}.{gguf}.weight"))
    return model.eval()


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--length", type=int, default=128)
    args = ap.parse_args()
    held, index = load_split(args.tokens, "heldout")
    # The middle of the largest held-out document: ordinary code, not a licence header.
    doc = max(index, key=lambda d: d["tokens"])
    start = doc["offset"] + doc["tokens"] // 2
    tokens = np.concatenate([[BOS], held[start:start + args.length - 1]])
    model = load_model(args.weights)
    logp = F.log_softmax(model(torch.from_numpy(tokens[None, :])), dim=-1)[0]
    nll = [-float(logp[i, tokens[i + 1]]) for i in range(len(tokens) - 1)]
    json.dump({"document": doc["id"], "tokens": tokens.tolist(), "nll": nll,
               "argmax": [int(logp[i].argmax()) for i in range(len(tokens))]},
              open(os.path.join(args.weights, "reference.json"), "w"))
    print(f"reference: {len(tokens)} tokens of {doc['id']}, torch mean nll {np.mean(nll):.4f}")


if __name__ == "__main__":
    main()
