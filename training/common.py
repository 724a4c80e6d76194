"""Shared constants and the dependency check for the demo-model pipeline."""
import sys

ALLOWED_LICENCES = {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC"}
# SentencePiece trains on lines; code needs pieces that span newlines (indentation), so
# newlines are swapped for a private-use character while training the tokenizer only.
NEWLINE_PLACEHOLDER = "\ue000"
# SentencePiece drops tabs from its pieces; they stand in for them the same way.
TAB_PLACEHOLDER = "\ue001"
CACHE = ".cache/demo-model"

APT_HINT = ("Install the training dependencies from Debian with:\n"
            "  apt-get update && apt-get install -y $(cat scripts/apt-packages-training.txt)\n"
            "and run the pipeline with Debian's interpreter (/usr/bin/python3).")


def require(*modules: str) -> None:
    """Refuse early, with a clear message, when a Python dependency is missing."""
    missing = []
    for m in modules:
        try:
            __import__(m)
        except ImportError:
            missing.append(m)
    if missing:
        sys.exit(f"demo-model training: missing Python module(s) {', '.join(missing)} "
                 f"for {sys.executable}.\n{APT_HINT}")
