#!/usr/bin/python3
"""Reference data for the C++ tokenizer tests, from independent implementations.

Writes into tests/model/data/:
  tiny-sentencepiece/tokenizer.model  a 512-piece SentencePiece BPE trained on the KJV training
                                      books with LLaMA's settings (dummy prefix, identity
                                      normalisation, byte fallback, split digits);
  tokenizer_reference.json            the ids Python's sentencepiece gives that model and the
                                      project's models/kjv-llama tokenizer for fixed texts, and the pieces the `regex` module's GPT-2, LLaMA-3
                                      and Qwen2 pre-tokenizer patterns cut the same texts into.

Run from the repository root:  /usr/bin/python3 tools/tokenizer_reference.py
(apt-get install python3-sentencepiece python3-regex bible-kjv)
"""
import json
import os
import sys
import tempfile

import regex
import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kjv_corpus import load_split  # noqa: E402

DATA = "tests/model/data"
PATTERNS = {
    "gpt2": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    "llama3": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
}
TEXTS = [
    "In the beginning God created the heaven and the earth.",
    "And the LORD said unto Moses,\nGo in unto Pharaoh.\n\n",
    "The pass key is 48213. Remember it. 1234567 and 3.14159",
    "I'M here, you'RE there; they'll say 'tis so. DON'T!",
    "  leading spaces, trailing spaces   \t\ttabs\r\nCRLF  \n  \nend",
    "hello.World (brackets) [x]=y+1 -> ok?! ... ,,,",
    "Café naïve façade — “quoted” ‘single’ 100€ ½ ² Ⅻ",
    "Ελληνικά кириллица 日本語のテキスト 한국어 عربي",
    "emoji 🙂🙂 and symbols ©®™ ✓",
    "x\n\n\ny   \n z",
    "'s's 'S 'Ll word'S",
    "",
]


def train_tiny_sentencepiece(folder):
    train_text, _ = load_split()
    lines = [line for line in train_text.splitlines() if line][:8000]
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w") as f:
            f.write("\n".join(lines) + "\n")
        prefix = os.path.join(tmp, "tiny")
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=512, byte_fallback=True,
            split_digits=True, character_coverage=1.0, normalization_rule_name="identity",
            remove_extra_whitespaces=False, add_dummy_prefix=True, unk_id=0, bos_id=1, eos_id=2,
            pad_id=-1, num_threads=2, minloglevel=1, shuffle_input_sentence=False)
        with open(prefix + ".model", "rb") as src, open(os.path.join(folder, "tokenizer.model"), "wb") as dst:
            dst.write(src.read())
    return spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))


def compact_json(value, indent=""):
    """Objects one key a line, lists of scalars on one line: small diffs when the data changes."""
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {compact_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + compact_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def main():
    sp = train_tiny_sentencepiece(f"{DATA}/tiny-sentencepiece")
    kjv = spm.SentencePieceProcessor(model_file="models/kjv-llama/tokenizer.model")
    out = {
        "sentencepiece": [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in TEXTS],
        "pretokenizer": {name: [{"text": t, "pieces": regex.findall(p, t)} for t in TEXTS]
                         for name, p in PATTERNS.items()},
        "sentencepiece_pieces": sp.get_piece_size(),
        "kjv_llama": [{"text": t, "ids": kjv.encode(t)} for t in TEXTS],
    }
    with open(f"{DATA}/tokenizer_reference.json", "w") as f:
        f.write(compact_json(out) + "\n")
    print(f"wrote {DATA}/tokenizer_reference.json and {DATA}/tiny-sentencepiece/tokenizer.model "
          f"({sp.get_piece_size()} pieces)")


if __name__ == "__main__":
    main()
