"""Builds the demo model's corpus from permissively licensed npm packages in node_modules.

Only packages pinned exactly in package.json (and so in package-lock.json) are used, so
`npm ci` reproduces the corpus byte for byte. Writes the documents as JSONL under the cache
folder and the committed manifest (sources, licences, file counts, bytes, split).
"""
import argparse
import hashlib
import json
import os
import sys

from common import ALLOWED_LICENCES, NEWLINE_PLACEHOLDER, TAB_PLACEHOLDER

# (package, path prefixes to include, path fragments to exclude, why excluded)
SOURCES = [
    # typescript's lib/*.js are single-file bundles of the compiler (9 MB each, duplicated):
    # its hand-written declaration files are the useful part.
    ("typescript", ["lib/lib.", "lib/typescript.d.ts"], ["lib.webworker", "lib.sharedworker", "lib.serviceworker", "lib.audioworklet"],
     "worker lib files repeat lib.dom.d.ts"),
    ("@types/node", [""], [], ""),
    ("eslint", ["lib/"], [], ""),
    ("mocha", ["lib/", "index.js"], [], ""),
    ("commander", ["lib/", "typings/", "index.js", "esm.mjs"], [], ""),
    ("node-llama-cpp", ["dist/"], [], ""),
    ("koffi", ["index.d.ts", "index.js", "indirect.js"], [], ""),
    ("esbuild", ["lib/"], [], ""),
    ("typescript-eslint", ["dist/"], [], ""),
]
EXTENSIONS = (".d.ts", ".d.mts", ".d.cts", ".js", ".mjs", ".cjs")
HELDOUT_PER_MILLE = 40


def is_minified(text: str) -> bool:
    """Bundled or minified files teach nothing about how code is written."""
    lines = text.split("\n")
    long_lines = sum(1 for l in lines if len(l) > 500)
    return long_lines > 0.01 * len(lines) or len(text) / max(1, len(lines)) > 160


def split_of(rel_path: str) -> str:
    """Deterministic file-level split: no file is in both halves."""
    h = int(hashlib.sha256(rel_path.encode()).hexdigest()[:8], 16)
    return "heldout" if h % 1000 < HELDOUT_PER_MILLE else "train"


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Source-map pointers name files that are not in the corpus.
    lines = [l for l in text.split("\n") if not l.startswith("//# sourceMappingURL=")]
    return "\n".join(lines).strip("\n") + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    ap.add_argument("--out", required=True)
    ap.add_argument("--manifest", required=True)
    args = ap.parse_args()
    pkg_json = json.load(open(os.path.join(args.root, "package.json")))
    pinned = {**pkg_json.get("dependencies", {}), **pkg_json.get("devDependencies", {})}
    os.makedirs(args.out, exist_ok=True)
    outs = {s: open(os.path.join(args.out, f"{s}.jsonl"), "w", encoding="utf-8") for s in ("train", "heldout")}
    manifest = {"heldoutPerMille": HELDOUT_PER_MILLE, "packages": [], "totals": {}}
    totals = {"train": [0, 0], "heldout": [0, 0]}
    for name, includes, excludes, why in SOURCES:
        base = os.path.join(args.root, "node_modules", name)
        meta = json.load(open(os.path.join(base, "package.json")))
        licence = meta.get("license")
        if licence not in ALLOWED_LICENCES:
            sys.exit(f"{name}: licence {licence!r} is not in the allowed list {sorted(ALLOWED_LICENCES)}")
        if pinned.get(name) != meta["version"]:
            sys.exit(f"{name}: installed {meta['version']} but package.json pins {pinned.get(name)!r}; run npm ci")
        files = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d != "node_modules")
            for fn in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, fn), base).replace(os.sep, "/")
                if fn.endswith(EXTENSIONS) and any(rel.startswith(p) for p in includes) and not any(x in rel for x in excludes):
                    files.append(rel)
        entry = {"package": name, "version": meta["version"], "licence": licence,
                 "licenceFile": next((f for f in sorted(os.listdir(base)) if f.upper().startswith("LICEN")), None),
                 "include": includes, "exclude": excludes, "excludeWhy": why,
                 "files": {"train": 0, "heldout": 0}, "bytes": {"train": 0, "heldout": 0}, "skippedMinified": 0,
                 "heldoutFiles": []}
        for rel in sorted(files):
            raw = open(os.path.join(base, rel), encoding="utf-8", errors="strict").read()
            text = clean(raw)
            if is_minified(text):
                entry["skippedMinified"] += 1
                continue
            if NEWLINE_PLACEHOLDER in text or TAB_PLACEHOLDER in text:
                sys.exit(f"{name}/{rel} contains a tokenizer placeholder character; pick another one")
            doc_id = f"{name}@{meta['version']}/{rel}"
            split = split_of(f"{name}/{rel}")
            outs[split].write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
            n = len(text.encode("utf-8"))
            entry["files"][split] += 1
            if split == "heldout":
                entry["heldoutFiles"].append(rel)
            entry["bytes"][split] += n
            totals[split][0] += 1
            totals[split][1] += n
        manifest["packages"].append(entry)
    for f in outs.values():
        f.close()
    manifest["totals"] = {s: {"files": v[0], "bytes": v[1]} for s, v in totals.items()}
    with open(args.manifest, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"corpus: train {totals['train'][0]} files {totals['train'][1]} bytes, "
          f"heldout {totals['heldout'][0]} files {totals['heldout'][1]} bytes")


if __name__ == "__main__":
    main()
