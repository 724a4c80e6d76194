"""Draws the training curve (train and held-out loss against tokens seen, with the unigram
and bigram baselines) as an SVG for docs/demo-model.md."""
import argparse
import json

from common import require

require("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    r = json.load(open(args.results))
    c = r["curve"]
    # a stable hash salt keeps the SVG byte-identical across re-runs
    plt.rcParams["svg.hashsalt"] = "tempo-demo-model"
    plt.rcParams["svg.fonttype"] = "none"
    fig, ax = plt.subplots(figsize=(7, 4))
    m_tokens = [t / 1e6 for t in c["tokens"]]
    train = [(x, y) for x, y in zip(m_tokens, c["train"]) if y is not None]
    ax.plot([x for x, _ in train], [y for _, y in train], label="train (mean of the last 50 steps)")
    ax.plot(m_tokens, c["heldout"], label="held-out (subset of 48 windows)")
    h = r["heldout"]
    ax.axhline(h["unigram"]["natsPerToken"], color="grey", linestyle=":", label="unigram baseline (full held-out)")
    ax.axhline(h["bigram"]["natsPerToken"], color="grey", linestyle="--", label="bigram baseline (full held-out)")
    ax.scatter([m_tokens[-1]], [h["model"]["natsPerToken"]], color="black", zorder=3, label="final model (full held-out)")
    ax.set_xlabel("training tokens seen (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(f"tempo-demo-code: {r['parameters'] / 1e6:.2f}M parameters, {r['steps']} steps")
    ax.set_ylim(0, max(c["heldout"][0], h["unigram"]["natsPerToken"]) + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, metadata={"Date": None})
    print(f"plot: wrote {args.out}")


if __name__ == "__main__":
    main()
