#!/usr/bin/python3
"""Train the SentencePiece tokenizer (tokenizer.model) of the project's LLaMA model.

Training text: the KJV training split (tools/kjv_corpus.py load_split; held-out books excluded),
one verse a line, plus a seeded sample of the synthetic fact and pass-key lines of
tools/long_context_data.py (about 8% of the lines), so that the template words, names and digits
of the long-context data tokenize compactly.

Settings, chosen to match LLaMA's tokenizer where it matters and to make encoding simple:
  model_type bpe, vocab_size 4096 (as the GPT-2 model's byte-level BPE, so that perplexities are
  close to comparable), byte_fallback (no <unk> for any byte), split_digits (one token a digit),
  ids unk 0 / bos 1 / eos 2, no pad, character_coverage 1.0,
  normalization identity (no NFKC: text bytes map straight to pieces; newline is the byte piece
  <0x0A>), remove_extra_whitespaces false.
  add_dummy_prefix false (unlike LLaMA): `mpcache eval` builds prompts by concatenating pieces
  tokenized separately (each text line, a needle's cue, its answer " Abinadab ...", "\\n"); without
  a dummy prefix encode(a) + encode(b) equals encode(a + b) at those joins (a space always starts
  a new piece), so the planted needle reads exactly like running text. With LLaMA's dummy prefix
  the answer " Abinadab" would become "▁" "▁Abinadab" and "\\n" would become "▁" "<0x0A>".

Run from the repository root (a few seconds; one thread, so that the result is reproducible):
  /usr/bin/python3 tools/train_sentencepiece.py --out models/kjv-llama
"""
import argparse
import io
import os
import sys

import numpy as np
import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kjv_corpus import load_split  # noqa: E402
from long_context_data import sample_lines  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/kjv-llama", help="folder for tokenizer.model")
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--synthetic-lines", type=int, default=2500, help="sampled fact/pass-key lines added")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    train_text, _ = load_split()
    lines = [line for line in train_text.splitlines() if line]
    lines += sample_lines(np.random.default_rng(args.seed), args.synthetic_lines)
    os.makedirs(args.out, exist_ok=True)
    model = io.BytesIO()  # sentences in and the model out through memory: no temporary paths in the model
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="bpe", vocab_size=args.vocab_size,
        byte_fallback=True, split_digits=True, character_coverage=1.0,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False,
        allow_whitespace_only_pieces=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        max_sentence_length=4096, input_sentence_size=0, shuffle_input_sentence=False,
        num_threads=1, seed_sentencepiece_size=1000000, minloglevel=1)
    with open(os.path.join(args.out, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.out, "tokenizer.model"))
    print(f"wrote {os.path.join(args.out, 'tokenizer.model')}: {sp.get_piece_size()} pieces, "
          f"{len(lines)} training lines")
    for text in ("In the beginning God created", "And the name of the keeper of the seventh gate was",
                 " Abinadab the son of Hushai the Archite.", "The pass key is 48213. Remember it.", "\n"):
        print(repr(text), "->", sp.encode(text, out_type=str))


if __name__ == "__main__":
    main()
