"""Writes the figures of docs/demo-model.md (between its figures markers) from the files the
pipeline produced, so the report never drifts from the run."""
import argparse
import glob
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


def cpu_lines(probe_dir: str, run):
    """The CPU probes of training/cpu-probes.sh as a table, then the cost of the run itself."""
    names = sorted(glob.glob(os.path.join(probe_dir, "*.json")), key=os.path.getmtime)
    out = []
    if names:
        out += ["| probe (`training/cpu-probes.sh`: variant.round) | matrix products | threads | heap kept | OMP_WAIT_POLICY | CPU s/step "
                "| wall s/step | load (1 min) | train loss |", "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
        for f in names:
            p = json.load(open(f))
            c, env = p["curve"], p.get("environment", {})
            steps = c["step"][-1] - c["step"][0]
            cpu = (c["cpuSeconds"][-1] - c["cpuSeconds"][0]) / steps
            wall = (c["seconds"][-1] - c["seconds"][0]) / steps
            out.append(f"| {os.path.basename(f)[:-5]} | {p['precision']} | {p['threads']} | "
                       f"{'yes' if 'MALLOC_MMAP_MAX_' in env else 'no'} | {env.get('OMP_WAIT_POLICY', '(default)')} | "
                       f"{cpu:.2f} | {wall:.2f} | {p['loadAverage'][0]:.1f} | {c['train'][-1]:.3f} |")
        out += ["", "CPU and wall seconds per step exclude start-up and evaluation (between the probe's first and last "
                "evaluation); threads are torch's (fp32 matrix products also use OpenBLAS's own pool, so an fp32 probe "
                "on 1 thread can use more CPU than wall time); train loss is the mean over the probe's steps, the "
                "same for every variant when they train the same model.", ""]
    steps = run["steps"]
    out.append(f"The run that produced the shipped file ({run['device']}, torch {run['torch']}, {run['threads']} threads, "
               f"{run.get('precision', 'fp32')} matrix products): {steps} steps in {run['trainSeconds']:.0f} s of training "
               f"wall time ({run['trainSeconds'] / steps:.2f} s/step) and {run['processCpuSeconds']:.0f} s of process CPU "
               f"time ({run['processCpuSeconds'] / steps:.2f} CPU s/step, evaluations and start-up included)"
               + (f", 1-minute load average {run['loadAverage'][0]:.1f} at its end." if "loadAverage" in run else "."))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", default="docs/demo-model.md")
    ap.add_argument("--results", default="training/results.json")
    ap.add_argument("--manifest", default="training/corpus-manifest.json")
    ap.add_argument("--check", default="training/export-check.json")
    ap.add_argument("--model", default="models/tempo-demo-code.gguf")
    ap.add_argument("--sweep", default="training/sweep-h100.json")
    ap.add_argument("--cpu-probes", default="training/cpu-probes")
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
              f"| run that produced the shipped file | device `{r['device']}` ({r['threads']} threads, {r.get('precision', 'fp32')} "
              f"matrix products), torch {r['torch']}, {r['trainSeconds']} s of training wall time, {r['processCpuSeconds']} s of CPU time |",
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
    doc = replace_block(doc, CPU, cpu_lines(args.cpu_probes, r))
    open(args.doc, "w").write(doc)
    print(f"report: updated {args.doc}")


if __name__ == "__main__":
    main()
