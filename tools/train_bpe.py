#!/usr/bin/python3
"""Train a GPT-2 style byte-level BPE on the KJV training books and write vocab.json/merges.txt
in the standard GPT-2 format (loadable by the C++ tokenizer and by Hugging Face)."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import BpeTokenizer, train  # noqa: E402
from kjv_corpus import load_split  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--out", default="models/kjv-gpt2")
    args = ap.parse_args()
    train_text, heldout_text = load_split()
    encoder, merges = train(train_text, args.vocab_size)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(encoder, f, ensure_ascii=False)
    with open(os.path.join(args.out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    tokenizer = BpeTokenizer.load(args.out)
    ids = tokenizer.encode(heldout_text)
    assert tokenizer.decode(ids) == heldout_text, "round trip failed"
    print(f"vocab {len(encoder)}, merges {len(merges)}, held-out {len(heldout_text)} chars -> {len(ids)} tokens")


if __name__ == "__main__":
    main()
