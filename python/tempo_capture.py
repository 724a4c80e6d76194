"""Load a TEMPO Playground capture folder with the standard library and numpy only.

    from tempo_capture import load_capture
    cap = load_capture(".tempo/captures/20260102-030405Z-my-prompt")
    cap["manifest"]["model"]["sha256"]
    cap["steps"][0]["candidates"]
    ids = cap["logits"]["next.token_ids"]        # int32 [steps, k]
    lp = cap["logits"]["next.logprobs"]          # float32 [steps, k] (natural log)

Files: manifest.json, steps.jsonl (one step event per line), logits.safetensors and
attention.safetensors (safetensors: 8-byte little-endian header length, JSON header,
little-endian raw data). The same .safetensors files also load with the `safetensors`
package: safetensors.numpy.load_file(path).

In attention.safetensors, "records" is int32 [n, 3] = (step, layer, heads) of attn.<i>.*; a
capture of several decodes of each set (tempo compare: its P and Q replays and the null
baseline) adds "record_streams", int32 [n], an index into the JSON list in the metadata's
"streams" ({name, mode, records} each; -1: no stream). Older captures have neither.
attention_records(cap) returns the records as dicts with their stream and mode.

Run as a script to print a summary (settings, steps; for a `tempo compare` capture the
divergence against its null baseline and the most divergent steps):
    python3 tempo_capture.py <capture-dir>
"""

import json
import os
import struct
import sys

import numpy as np

_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
}


class CaptureFormatError(ValueError):
    """A capture file is corrupt or truncated; the message names the file."""


def load_safetensors(path):
    """Return ({name: numpy array}, metadata dict) from a .safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise CaptureFormatError(f"{path}: file too short ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise CaptureFormatError(f"{path}: bad header length {n} for a {len(data)}-byte file (truncated?)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CaptureFormatError(f"{path}: header is not valid JSON ({e})") from e
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise CaptureFormatError(f"{path}: tensor {name}: unsupported dtype {info.get('dtype')!r}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= len(body):
            raise CaptureFormatError(f"{path}: tensor {name}: offsets [{begin}, {end}] outside the {len(body)} data bytes (truncated?)")
        if end - begin != count * np.dtype(dtype).itemsize:
            raise CaptureFormatError(f"{path}: tensor {name}: {info['dtype']} {list(shape)} does not fit {end - begin} bytes")
        # copy: an independent, aligned, writable array
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


def load_steps(path):
    """Return the list of step events (dicts) from steps.jsonl."""
    steps = []
    with open(path, "r", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.endswith("\n"):
                raise CaptureFormatError(f"{path}: line {i}: truncated (the last line is cut off)")
            try:
                steps.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise CaptureFormatError(f"{path}: line {i}: not valid JSON ({e})") from e
    return steps


def load_capture(directory):
    """Return {"manifest", "steps", "logits", "logits_metadata", "attention", "attention_metadata"}."""
    mpath = os.path.join(directory, "manifest.json")
    if not os.path.exists(mpath):
        raise CaptureFormatError(f"{mpath}: missing (the capture is incomplete)")
    with open(mpath, "r", encoding="utf-8") as f:
        manifest = json.load(f)
    files = manifest["files"]
    steps = load_steps(os.path.join(directory, files["steps"]["path"]))
    if len(steps) != files["steps"]["count"]:
        raise CaptureFormatError(f"{directory}: {len(steps)} steps, the manifest says {files['steps']['count']}")
    out = {"manifest": manifest, "steps": steps, "logits": {}, "logits_metadata": {}, "attention": {}, "attention_metadata": {}}
    if files.get("logits"):
        out["logits"], out["logits_metadata"] = load_safetensors(os.path.join(directory, files["logits"]["path"]))
    if files.get("attention"):
        out["attention"], out["attention_metadata"] = load_safetensors(os.path.join(directory, files["attention"]["path"]))
    return out


def attention_records(cap):
    """The attention records of a loaded capture, in file order, as dicts: step, layer, heads,
    stream and mode (None in captures of one stream), weights [heads, queries, keys],
    query_cells, key_cells, key_tokens, key_steps, key_positions."""
    a = cap["attention"]
    if not a:
        return []
    records = a["records"]
    streams = json.loads(cap["attention_metadata"].get("streams", "[]"))
    which = a.get("record_streams")
    out = []
    for i, (step, layer, heads) in enumerate(records.tolist()):
        s = streams[which[i]] if which is not None and which[i] >= 0 else {}
        r = {"step": step, "layer": layer, "heads": heads, "stream": s.get("name"), "mode": s.get("mode")}
        for k in ("weights", "query_cells", "key_cells", "key_tokens", "key_steps", "key_positions"):
            r[k] = a[f"attn.{i}.{k}"]
        out.append(r)
    return out


def _settings_line(config):
    keys = ("mode", "threshold", "maxWidth", "policy", "schedule", "thresholdEnd", "temperature", "maxSteps")
    return ", ".join(f"{k} {config[k]}" for k in keys if k in config)


def _tensor_lines(tensors, label):
    """One line per tensor, except the per-record attn.<i>.* ones: one line for all of them."""
    records = [n for n in tensors if n.startswith("attn.")]
    lines = [f"  {label} {n}: {a.dtype} {list(a.shape)}" for n, a in sorted(tensors.items()) if not n.startswith("attn.")]
    if records:
        kinds = sorted({n.split(".", 2)[2] for n in records})
        count = len({n.split(".", 2)[1] for n in records})
        lines.append(f"  {label} attn.<i>.{{{','.join(kinds)}}}: {count} records")
    return lines


def summary(directory, top=5):
    """The summary the script prints, as a list of lines: settings, steps, and for a `tempo compare`
    capture (report.json beside it) the divergence against its null baseline and the `top`
    most divergent steps."""
    cap = load_capture(directory)
    m = cap["manifest"]
    steps = cap["steps"]
    widths = [len(s["candidates"]) for s in steps]
    lines = [
        f"capture {directory}",
        f"model {m['model']['fileName']} (sha256 {m['model']['sha256'][:12]}…), backend {m.get('backend', {}).get('name', '?')}, llama.cpp {m.get('versions', {}).get('llamaCpp', '?')}",
        f"settings: {_settings_line(m.get('config', {}))}",
        f"steps {len(steps)}, stopped by {m.get('stopReason', '?')}; sets of 2 or more: {sum(w > 1 for w in widths)}, widest {max(widths, default=0)}",
    ]
    report_path = os.path.join(directory, "report.json")
    if os.path.exists(report_path):
        with open(report_path, "r", encoding="utf-8") as f:
            report = json.load(f)
        js = report["summary"]["js"]
        null = report["nullBaseline"]
        null_js = [s["js"] for s in null["steps"]]
        versus = report["versusNull"]
        ci = js.get("bootstrap") or {}
        interval = f" [{ci['level']:.0%} CI {ci['lo']:.3g}, {ci['hi']:.3g}]" if ci else ""
        lines.append(f"JS divergence {report['p']['label']} vs {report['q']['label']} (nats, teacher-forced): mean {js['mean']:.3g}{interval}, median {js['median']:.3g}, max {js['max']:.3g}")
        lines.append(f"null baseline ({null['mode']}, {' vs '.join(null['layouts'])}): max {max(null_js, default=0):.3g}; steps above its p99: {versus['fractionAboveNullP99']:.0%}; Wilcoxon p = {versus['wilcoxon']['pValue']:.3g}")
        lines.append(f"most divergent steps (of {len(report['steps'])}):")
        ranked = sorted(report["steps"], key=lambda s: s["js"], reverse=True)[:top]
        for s in ranked:
            agree = "same top token" if s["top1Agree"] else "top tokens differ"
            lines.append(f"  step {s['index']:>4}  JS {s['js']:.3g}  {agree}  set {s['text']}")
    lines.append("tensors:")
    lines += _tensor_lines(cap["logits"], "logits") + _tensor_lines(cap["attention"], "attention")
    return lines


def _main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    try:
        print("\n".join(summary(argv[1])))
    except (CaptureFormatError, OSError, KeyError, json.JSONDecodeError) as e:
        print(f"tempo_capture: {argv[1]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
