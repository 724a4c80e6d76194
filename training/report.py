"""Writes the figures of docs/demo-model.md (between its figures markers) from the files the
pipeline produced, so the report never drifts from the run."""
import argparse
import json
import os
import re

BEGIN, END = "<!-- figures:begin (training/report.py writes this part) -->", "<!-- figures:end -->"
SWEEP = ("<!-- sweep:begin (training/report.py) -->", "<!-- sweep:end -->")
CPU = ("<!-- cpu:begin (training/report.py) -->", "<!-- cpu:end -->")


def replace_block(doc: str, markers, lines) -> str:
    block = "\n".join([markers[0], *lines, markers[1]])
    return re.sub(re.escape(markers[0]) + ".*?" + re.escape(markers[1]), lambda _: block, doc, flags=re.S)


def sweep_lines(path: str):
    if not os.path.exists(path):
        return ["(no sweep results recorded)"]
    sw = json.load(open(path))
    out = [sw["note"] + ".", "", "| run | held-out nats/token | nats/byte |", "| --- | ---: | ---: |"]
    for name, v in sw["runs"].items():
        out.append(f"| {name} | {v['heldoutNatsPerToken']:.3f} | {v['heldoutNatsPerByte']:.3f} |")
    return out


def cpu_lines(path: str, shipped):
    if not os.path.exists(path):
        return ["(no CPU probe recorded: run `training/train.py --stop-after 100 --threads 1 --results training/cpu-probe.json ...`)"]
    p = json.load(open(path))
    c = p["curve"]
    steps = c["step"][-1]
    # CPU seconds spent in the training steps alone: evaluations and start-up excluded
    eval_cost = c["cpuSeconds"][0]
    per_step = (c["cpuSeconds"][-1] - c["cpuSeconds"][0] - (len(c["step"]) - 2) * eval_cost) / steps
    full = per_step * p["scheduleSteps"] / 60
    out = [f"A CPU probe (`train.py --threads {p['threads']} --stop-after {steps}`, same defaults and seed, torch {p['torch']}) "
           f"ran the first {steps} of the {p['scheduleSteps']} steps on this machine: {p['trainSeconds']:.0f} s of wall time "
           f"(15-minute load average {p['loadAverage'][2]:.1f}: the process got "
           f"{(c['cpuSeconds'][-1] - c['cpuSeconds'][0]) / (c['seconds'][-1] - c['seconds'][0]):.0%} of one core), "
           f"and {per_step:.2f} s of CPU time per training step (batch {p['batch']} x {p['config']['n_ctx']} tokens) on one "
           f"thread. The {p['scheduleSteps']} steps therefore cost about {full:.0f} minutes of CPU time on one core of this "
           f"processor. With the default 2 threads on an idle 2-core machine the run fits the 30-minute budget only if two "
           f"threads are at least {full / 30:.2f} times as fast as one; that speed-up could not be measured here (the "
           f"machine was never idle), so on a slower or busy machine expect the CPU run to take longer.",
           "", "Same steps, CPU probe against the shipped (H100) run:", "",
           "| step | CPU: train | CPU: held-out subset | H100: train | H100: held-out subset |", "| ---: | ---: | ---: | ---: | ---: |"]
    sc = shipped["curve"]
    for i, st in enumerate(c["step"]):
        if st in sc["step"]:
            j = sc["step"].index(st)
            fmt = lambda x: "" if x is None else f"{x:.3f}"  # noqa: E731
            out.append(f"| {st} | {fmt(c['train'][i])} | {fmt(c['heldout'][i])} | {fmt(sc['train'][j])} | {fmt(sc['heldout'][j])} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", default="docs/demo-model.md")
    ap.add_argument("--results", default="training/results.json")
    ap.add_argument("--manifest", default="training/corpus-manifest.json")
    ap.add_argument("--check", default="training/export-check.json")
    ap.add_argument("--model", default="models/tempo-demo-code.gguf")
    ap.add_argument("--sweep", default="training/sweep-h100.json")
    ap.add_argument("--cpu-probe", default="training/cpu-probe.json")
    args = ap.parse_args()
    r = json.load(open(args.results))
    m = json.load(open(args.manifest))
    chk = json.load(open(args.check))
    c, h = r["config"], r["heldout"]
    size = os.path.getsize(args.model)
    lines = ["### Corpus", "",
             "| package | version | licence | train files | train bytes | held-out files | held-out bytes |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for p in m["packages"]:
        lines.append(f"| {p['package']} | {p['version']} | {p['licence']} | {p['files']['train']} | {p['bytes']['train']:,} "
                     f"| {p['files']['heldout']} | {p['bytes']['heldout']:,} |")
    t = m["totals"]
    lines += [f"| **total** | | | {t['train']['files']} | {t['train']['bytes']:,} | {t['heldout']['files']} | {t['heldout']['bytes']:,} |", "",
              "### Model and run", "",
              "| | |", "| --- | --- |",
              f"| architecture | llama: {c['n_layer']} layers, width {c['n_embd']}, {c['n_head']} heads ({c['n_head_kv']} KV heads), "
              f"FFN {c['n_ff']}, context {c['n_ctx']}, vocabulary {c['n_vocab']}, output tied to the token embedding |",
              f"| tokenizer | {c['n_vocab']} tokens: 3 specials, 256 bytes, {c['n_vocab'] - 259} learned pieces; "
              f"{t['train']['bytes'] / r['trainTokens']:.2f} bytes per token on the train split (llama.cpp tokenization, `<s>` included) |",
              f"| parameters | {r['parameters']:,} |",
              f"| file | `{args.model}`, {size:,} bytes ({size / 2**20:.2f} MiB; f16 matrices, f32 norms) |",
              f"| training | {r['steps']} steps x {r['batch']} x {c['n_ctx']} tokens = {r['tokensSeen']:,} tokens "
              f"({r['tokensSeen'] / r['trainTokens']:.2f} epochs of {r['trainTokens']:,}), AdamW lr {r['lr']}, seed {r['seed']} |",
              f"| run that produced the shipped file | device `{r['device']}`, torch {r['torch']}, {r['trainSeconds']} s of training wall time |",
              f"| torch vs llama.cpp on {chk['tokens']} held-out tokens ({chk['document']}) | max abs difference of next-token "
              f"log-probability {chk['maxAbsNllDiff']:.4f} nats, argmax agreement {chk['argmaxAgreement']:.0%} |", "",
              f"### Held-out results ({h['targets']:,} tokens, {h['bytes']:,} bytes)", "",
              "| | nats/token | perplexity/token | nats/byte | bits/byte |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, key in (("unigram (add-one)", "unigram"), ("bigram (Witten-Bell)", "bigram"), ("**demo model**", "model")):
        x = h[key]
        lines.append(f"| {name} | {x['natsPerToken']:.3f} | {x['ppl']:.1f} | {x['natsPerByte']:.3f} | {x['natsPerByte'] / 0.6931471805599453:.3f} |")
    doc = open(args.doc).read()
    doc = replace_block(doc, (BEGIN, END), lines)
    doc = replace_block(doc, SWEEP, sweep_lines(args.sweep))
    doc = replace_block(doc, CPU, cpu_lines(args.cpu_probe, r))
    open(args.doc, "w").write(doc)
    print(f"report: updated {args.doc}")


if __name__ == "__main__":
    main()
