"""Calls a running `tempo serve` from Python with the standard library only (docs/api.md).

usage: python3 tempo_api_example.py [URL] [TOKEN_FILE]
"""
import json
import os
import sys
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
token_file = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser("~/.cache/tempo/serve-token")
with open(token_file) as f:
    token = f.read().strip()


def post(path, body):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


# Standard (greedy) completion, OpenAI-style, with the top-3 alternatives of every token.
completion = post("/v1/completions", {"prompt": "function add(a, b) {", "max_tokens": 8, "logprobs": 3})
print("completion:", repr(completion["choices"][0]["text"]))
print("first token logprob:", completion["choices"][0]["logprobs"]["token_logprobs"][0])

# A TEMPO run: the same JSON as `tempo generate --json`.
run = post("/tempo/generate", {"prompt": "function add(a, b) {", "settings": {"mode": "isolated", "threshold": 0.05, "maxSteps": 8}})
widest = max(len(step["candidates"]) for step in run["steps"])
print("steps:", len(run["steps"]), "widest set:", widest, "stop:", run["stopReason"])

# Isolated vs visible on the sets of one run: the report.json `tempo compare` writes.
report = post("/tempo/compare", {"prompt": "function add(a, b) {", "generation": {"threshold": 0.05, "maxSteps": 6}})
print("compare: %d steps, mean JS %.3e nats, null baseline %.3e"
      % (len(report["steps"]), report["summary"]["js"]["mean"], report["nullBaseline"]["summary"]["js"]["mean"]))

# A completion experiment: one TEMPO arm and best-of-n sampling at its rows; the summary.json `tempo eval` writes.
summary = post("/tempo/eval", {"eval": {"limit": 2, "arms": ["isolated"], "maxSteps": 16, "baselines": {"arms": ["sample"]}}})
print("eval: " + "; ".join("%s pass@1 %d/%d at %.1f rows/task" % (a["arm"], a["pass1"]["count"], a["pass1"]["n"], a["cost"]["evaluatedTokensPerTask"])
                           for a in summary["summary"]["arms"]))
