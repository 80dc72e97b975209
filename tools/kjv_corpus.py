"""The King James Bible from Debian's bible-kjv, split into training text and held-out books.

Each verse becomes one line without its reference prefix ("Ge1:1 "). The held-out books are
never seen in training; they are the evaluation text (perplexity, long-context tests).
"""
import re
import subprocess

HELDOUT_BOOKS = ("Ruth", "Eccl", "Jonah", "Gal", "Jas")
_REFERENCE = re.compile(r"^([0-9]?[A-Za-z]+)[0-9]+:[0-9]+ (.*)$")


def verses():
    """(book abbreviation, verse text) for every verse, Genesis to Revelation."""
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        match = _REFERENCE.match(line)
        if not match:
            raise ValueError(f"unexpected line from bible: {line[:60]!r}")
        yield match.group(1), match.group(2)


def load_split():
    """(training text, held-out text), one verse per line."""
    train, heldout = [], []
    for book, text in verses():
        (heldout if book in HELDOUT_BOOKS else train).append(text + "\n")
    return "".join(train), "".join(heldout)


if __name__ == "__main__":
    import sys
    train_text, heldout_text = load_split()
    if len(sys.argv) == 2 and sys.argv[1] == "--heldout":
        sys.stdout.write(heldout_text)
    else:
        print(f"train {len(train_text)} chars, held-out {len(heldout_text)} chars")
