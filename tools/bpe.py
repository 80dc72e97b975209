"""GPT-2 byte-level BPE in plain Python: the tokenizer (load vocab.json + merges.txt, encode,
decode) and the trainer used by train_bpe.py. Independent of the C++ tokenizer on purpose: the
C++ tests compare their token ids with the ids written by this implementation."""
import collections
import json
import os
import re

EOT = "<|endoftext|>"

# The GPT-2 pre-tokenisation pattern. Python's `re` has no \p{L}/\p{N}: [^\W\d_] is "letter" and
# \d is "number"; for the ASCII text this project trains on the two are identical.
_PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters, in GPT-2's id order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text):
    return _PRETOKEN.findall(text)


def to_symbols(piece):
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))


class BpeTokenizer:
    def __init__(self, encoder, merges):
        self.encoder = encoder
        self.decoder = {i: t for t, i in encoder.items()}
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.cache = {}

    @classmethod
    def load(cls, folder):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            encoder = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#version")]
        return cls(encoder, [tuple(l.split(" ")) for l in lines])

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 60), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, best = min(pairs)
            if rank == 1 << 60:
                break
            first, second = parts[best], parts[best + 1]
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def encode(self, text):
        ids = []
        for piece in pretokenize(text):
            ids.extend(self.encoder[t] for t in self._bpe(to_symbols(piece)))
        return ids

    def decode(self, ids):
        return bytes(CHAR_TO_BYTE[c] for i in ids for c in self.decoder[i]).decode("utf-8", errors="replace")


def train(text, vocab_size):
    """Learns vocab_size - 257 merges (256 byte symbols and <|endoftext|> are the rest).

    Pair counts are updated incrementally: a merge only touches the words containing its pair.
    Ties between equally frequent pairs are broken by a fixed order on the pair's characters
    (smallest code points first), so training is deterministic."""
    word_counts = collections.Counter(to_symbols(p) for p in pretokenize(text))
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for idx, w in enumerate(words):
        for pair in zip(w, w[1:]):
            pair_counts[pair] += counts[idx]
            where[pair].add(idx)
    merges = []
    while len(merges) < vocab_size - 257 and pair_counts:
        best = max(pair_counts.items(), key=lambda kv: (kv[1], tuple(-ord(c) for c in kv[0][0] + " " + kv[0][1])))[0]
        if pair_counts[best] < 2:
            break
        merges.append(best)
        for idx in list(where[best]):
            w = words[idx]
            for pair in zip(w, w[1:]):
                pair_counts[pair] -= counts[idx]
                if pair_counts[pair] <= 0:
                    del pair_counts[pair]
            merged, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == best[0] and w[i + 1] == best[1]:
                    merged.append(w[i] + w[i + 1])
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[idx] = merged
            for pair in zip(merged, merged[1:]):
                pair_counts[pair] += counts[idx]
                where[pair].add(idx)
        del where[best]
    encoder = {c: i for i, c in enumerate(BYTE_TO_CHAR.values())}
    for a, b in merges:
        encoder.setdefault(a + b, len(encoder))
    encoder[EOT] = len(encoder)
    return encoder, merges
