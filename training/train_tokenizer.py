"""Learns the demo model's SPM vocabulary (BPE pieces + byte fallback) on the train split.

The result is written as llama.cpp reads an SPM vocabulary: <unk>=0, <s>=1, </s>=2, the 256
byte tokens, then the learned pieces with their BPE merge scores. Tokenizing the corpus is
done later by llama.cpp itself, so training and inference see identical token ids.
"""
import argparse
import json
import os
import random

from common import NEWLINE_PLACEHOLDER, TAB_PLACEHOLDER, require

require("sentencepiece")
import sentencepiece as spm  # noqa: E402


def sentences(path: str, max_chars: int):
    """Documents cut at line ends into chunks short enough for SentencePiece."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"].replace("\t", TAB_PLACEHOLDER)
            chunk = []
            size = 0
            for l in text.split("\n"):
                chunk.append(l)
                size += len(l) + 1
                if size >= max_chars:
                    yield NEWLINE_PLACEHOLDER.join(chunk) + NEWLINE_PLACEHOLDER
                    chunk, size = [], 0
            if chunk:
                yield NEWLINE_PLACEHOLDER.join(chunk)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--sample-sentences", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    all_sentences = list(sentences(os.path.join(args.corpus, "train.jsonl"), 1500))
    random.Random(args.seed).shuffle(all_sentences)
    sample = all_sentences[: args.sample_sentences]
    spm.set_random_generator_seed(args.seed)
    prefix = os.path.join(args.out, "spm")
    os.makedirs(args.out, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sample),
        model_prefix=prefix,
        model_type="bpe",
        vocab_size=args.vocab_size,
        byte_fallback=True,  # gives exactly llama's 256 <0xNN> tokens after the 3 specials
        character_coverage=0.9999,
        # every printable ASCII character gets its own piece, however rare in the sample
        required_chars="".join(chr(c) for c in range(33, 127)) + TAB_PLACEHOLDER,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,  # llama.cpp prepends a space as well
        split_by_whitespace=False,  # lets a piece hold a newline plus indentation
        allow_whitespace_only_pieces=True,
        split_digits=True,
        max_sentence_length=8192,
        num_threads=1,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i).replace(NEWLINE_PLACEHOLDER, "\n").replace(TAB_PLACEHOLDER, "\t")
        tokens.append(piece)
        scores.append(float(sp.get_score(i)))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1)
    assert tokens[:3] == ["<unk>", "<s>", "</s>"] and tokens[3] == "<0x00>" and tokens[258] == "<0xFF>"
    assert len(set(tokens)) == len(tokens)
    with open(os.path.join(args.out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({"tokens": tokens, "scores": scores, "types": types,
                   "unkId": 0, "bosId": 1, "eosId": 2}, f, ensure_ascii=False)
    print(f"tokenizer: {len(tokens)} pieces; longest: {sorted(tokens, key=len)[-5:]!r}")


if __name__ == "__main__":
    main()
