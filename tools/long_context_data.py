#!/usr/bin/python3
"""Synthetic long-range training documents built from KJV training text, and the needle cases of
`mpcache eval` rebuilt in Python.

Why: a small model trained on plain KJV text learns to use only the last few verses, because the
text rarely rewards looking further back; no cache policy can then be told apart by needle
retrieval. The documents below make distant context pay off with the same shape of test the C++
evaluation uses (eval/needle.cpp): a line "<cue><answer>\\n" planted between haystack lines, and
later the cue again, after which the answer must be copied.

Kinds of document (each a sequence of exactly `length` tokens, no BOS, like the eval's prompts):

  plain    a window of the KJV training token stream (verse lines tokenized one by one, newline
           included, concatenated; the same tokenization as the eval's text corpus).
  facts    contiguous KJV training lines (the haystack) with k planted fact lines "<cue><answer>\\n"
           at independent uniform depths, then a query block at the end: the k fact lines again,
           in a random order (each cue is followed by its answer, so the model must retrieve it).
           k grows with the length (1 .. length // 200, at most 8). Cues come from templates in the
           style of the eval's built-in needles, filled with KJV names, places, numbers and
           ordinals; several cues in one document often share a template and differ only in a
           slot ("the keeper of the third gate" / "the keeper of the seventh gate"), so a model
           must match the whole cue, not its shape. The eval's four built-in cues and answers are
           never produced verbatim (the eval then measures retrieval, not memory).
           With probability `passkey_prob` one of the facts is a pass key, planted as
           "The pass key is 48213. Remember it. The pass key is 48213.\\n" and asked for as
           "What is the pass key? The pass key is 48213.\\n" (3 to 7 digits).
  copy     with probability `copy_prob` a facts document also repeats a run of 1-3 haystack
           lines (20-160 tokens) verbatim at a later line boundary (an induction / copy task).
  repeat   with probability `repeat_fraction` (before the choice above) a KJV window in which a
           span of 16-64 uniformly random tokens is planted and then repeated once or twice at
           later random positions. Random tokens can only be predicted on their repeat by
           attending to the token after the earlier match of the current one, so every repeat
           document rewards exactly the induction circuit that retrieval needs; KJV text alone
           and the facts documents reward it too rarely for a small model to find it early (a
           model trained without these documents for 3.9 M tokens predicts a verbatim repeat of
           64 held-out tokens no better than their first occurrence; a fresh two-layer model
           trained on random repeats alone forms the circuit within ~250 steps of 4k tokens).

Token weights: every token has weight 1 except the answer tokens of the query block, which get
`answer_weight` (default 4), and the repeated tokens of a copy or repeat from the third on, which
get `copy_weight` (default 2). The trainer uses them as per-token loss weights (normalised by their
sum), so the plain LM loss stays on every token while the few tokens that can only be predicted by
looking far back count more. At 2048 tokens a facts document holds about 20-80 answer tokens, so
they carry roughly 5-15% of its loss weight.

The haystacks, depths, templates and numbers all come from one numpy Generator, so a stream of
documents is fully determined by its seed (and can be resumed from the generator's state).
"""
import numpy as np

# ---- vocabulary of the templates -------------------------------------------------------------

NAMES = """Abinadab Hushai Jediael Zimran Pelatiah Abiathar Ahimaaz Jonathan Eliab Shammah Nethaneel
Elihu Obed Jesse Hezron Ram Amminadab Nahshon Salmon Boaz Ahitub Zadok Azariah Johanan Hilkiah
Shallum Seraiah Jehozadak Jeshua Zerubbabel Shealtiel Pedaiah Shimei Gershom Eliezer Rehabiah
Shebuel Jeriah Amariah Jahaziel Jekameam Uzziel Micah Isshiah Mahli Mushi Eleazar Ithamar Phinehas
Abishua Bukki Uzzi Zerahiah Meraioth Ahijah Ahimelech Abiezer Joash Gideon Jerubbaal Abimelech
Tola Puah Dodo Jair Jephthah Ibzan Elon Abdon Hillel Manoah Elkanah Jeroham Elihu Tohu Zuph
Hannah Samuel Joel Abiah Kish Abiel Zeror Bechorath Aphiah Saul Ishui Melchishua Abner Ner Asahel
Joab Abishai Benaiah Jehoiada Ira Gareb Uriah Ittai Hiram Adoniram Abda Jehoshaphat Ahilud Baana
Geber Ahinadab Iddo Ahimaaz Baanah Hushai Jehu Hanani Omri Tibni Ginath Ahab Obadiah Elijah Elisha
Shaphat Naboth Micaiah Imlah Zedekiah Chenaanah Jehoram Ahaziah Athaliah Jehosheba Jehoash Amaziah
Uzziah Jotham Ahaz Hezekiah Manasseh Amon Josiah Jehoahaz Jehoiakim Jehoiachin Mattaniah Gedaliah
Ahikam Shaphan Ishmael Nethaniah Elishama Baruch Neriah Maaseiah Ebedmelech Jaazaniah Hananiah
Azzur Jeremiah Hilkiah Pashur Immer Malchiah Jucal Irijah Gemariah Michaiah Elnathan Achbor Delaiah
Ezra Nehemiah Hachaliah Sanballat Tobiah Geshem Eliashib Joiada Meremoth Urijah Meshullam Berechiah
Hashabiah Binnui Henadad Bavai Ezer Baruch Zabbai Palal Uzai Pedaiah Parosh Malchijah Hashub Hattush
Mordecai Jair Haman Hammedatha Hegai Hatach Harbonah Zeresh Asaph Heman Ethan Jeduthun Chenaniah
Kenaniah Obededom Hosah Shemaiah Jozabad Elzabad Elihu Semachiah Mattithiah Zechariah Zichri Amasai
Jehiel Jehieli Zetham Shelomith Ahiah Ahiezer Joash Jeziel Pelet Berachah Jehu Ismaiah Jeremiah
Jahaziel Johanan Josabad Eluzai Jerimoth Bealiah Shemariah Shephatiah Elkanah Jesiah Azareel
Joezer Jashobeam Joelah Zebadiah Asahel Shamhuth Heled Maharai Sibbecai Abiezer Paarai Elika
Helez Igal Bani Zelek Naharai Hezrai Eliahba Ahiam Eliphelet Hepher Ahasbai Joel Mibhar Ithmah
Jaasiel Elnaam Eliel Obed Jehoshaphat Hodaviah Azriel Jahdiel Jeremiah Epher Ishi Eliel""".split()

GENTILICS = """Archite Gileadite Hittite Amorite Hivite Jebusite Perizzite Girgashite Kenite Kenizzite
Levite Benjamite Danite Gadite Reubenite Ephrathite Bethlehemite Tishbite Shunammite Gittite
Hararite Netophathite Pirathonite Tekoite Ahohite Paltite Harodite Gizonite Hachmonite Ithrite
Zorathite Kohathite Gershonite Merarite Shilonite Maachathite Ammonite Moabite Edomite Horite
Zidonian Tyrian Anathothite Mizraite Arbite Beerothite Carmelite Jezreelite Gibeonite Meronothite
Baalhermonite Beeshterahite Jahzeelite Naamathite Shuhite Temanite Buzite Agagite""".split()

CITIES = """Tirzah Shechem Hebron Bethel Gilgal Shiloh Mizpeh Ramah Gibeah Gibeon Jericho Ai Lachish
Libnah Makkedah Azekah Debir Eglon Gezer Megiddo Taanach Jezreel Shunem Endor Bethshan Dothan
Samaria Tekoa Bethlehem Anathoth Nob Kirjathjearim Bethshemesh Ekron Gath Ashdod Askelon Gaza
Ziklag Beersheba Arad Hormah Kadesh Zoar Heshbon Dibon Aroer Jabesh Ramoth Mahanaim Penuel Succoth
Jabneel Kedesh Hazor Dan Laish Zarephath Zidon Tyre Achzib Acco Carmel Joppa Lydda Emmaus Bethany
Bethphage Nain Cana Capernaum Bethsaida Chorazin Magdala Sychar Ephraim Nazareth Damascus Hamath
Tadmor Riblah Carchemish Nineveh Calah Resen Babylon Erech Accad Ur Haran Sepharvaim Shushan Ecbatana""".split()

RIVERS = "Jordan Kishon Jabbok Arnon Kidron Euphrates Hiddekel Chebar Ahava Abana Pharpar Gihon Pison".split()

ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth").split()

TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "threescore", 70: "threescore and ten",
        80: "fourscore", 90: "fourscore and ten"}
UNITS = "one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()

GATE_THINGS = """gate door tower wall storehouse treasury vineyard well court chamber porch pool
fountain altar camp watch field garden winepress threshingfloor""".split()
KEEPER_ROLES = "keeper porter captain watchman ruler overseer steward scribe".split()
METALS = "silver golden brasen iron".split()
VESSELS = "cup bowl censer ring chain bracelet basin girdle spoon candlestick".split()
ANIMALS = "sheep goats oxen camels asses rams lambs kine bullocks he goats".split()
GROUPS = """watchmen porters singers captains elders priests Levites scribes shepherds horsemen
archers gatekeepers""".split()
COLOURS = "green white red black purple".split()
SIGNS = ["fig tree", "vine", "olive tree", "cedar", "palm tree", "pomegranate", "almond rod",
         "sheaf of barley", "cluster of grapes", "dove", "lamp", "stone", "cup", "girdle"]
KIN = "brother sister wife son daughter servant handmaid".split()
PLOTS = "field vineyard house threshingfloor cave garden".split()

# The C++ evaluation's built-in needles (eval/needle.cpp builtin_needles()); never generated verbatim.
BUILTIN_NEEDLES = (
    ("And the name of the keeper of the seventh gate was", " Abinadab the son of Hushai the Archite."),
    ("And the silver cup was hid in the sack of", " Jediael the Gileadite, in the city of Tirzah."),
    ("And the number of the sheep of Zimran was", " seven thousand and four hundred and twelve."),
    ("And the secret word of the watchmen was", " Pelatiah, and the sign was a green fig tree."),
)
_BUILTIN_CUES = {cue for cue, _ in BUILTIN_NEEDLES}
_BUILTIN_ANSWERS = {answer for _, answer in BUILTIN_NEEDLES}


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


def number_words(rng):
    """A KJV-style number below 10,000, e.g. 'seven thousand and four hundred and twelve'."""
    parts = []
    if rng.random() < 0.7:
        parts.append(_pick(rng, UNITS) + " thousand")
    if rng.random() < 0.8 or not parts:
        parts.append(_pick(rng, UNITS) + " hundred")
    r = rng.random()
    if r < 0.3:
        parts.append(_pick(rng, TEENS))
    elif r < 0.8:
        tens = TENS[int(rng.integers(2, 10)) * 10]
        parts.append(tens + (" and " + _pick(rng, UNITS) if rng.random() < 0.6 else ""))
    elif r < 0.9:
        parts.append(_pick(rng, UNITS))
    return " and ".join(parts)


# Each template gives (cue, answer); the cue's free slots make the key, the answer is random.
def _keeper(rng):
    cue = f"And the name of the {_pick(rng, KEEPER_ROLES)} of the {_pick(rng, ORDINALS)} {_pick(rng, GATE_THINGS)} was"
    return cue, f" {_pick(rng, NAMES)} the son of {_pick(rng, NAMES)} the {_pick(rng, GENTILICS)}."


def _hidden(rng):
    owner = f" {_pick(rng, NAMES)} the {_pick(rng, GENTILICS)}, in the city of {_pick(rng, CITIES)}."
    return f"And the {_pick(rng, METALS)} {_pick(rng, VESSELS)} was hid in the sack of", owner


def _count(rng):
    return f"And the number of the {_pick(rng, ANIMALS)} of {_pick(rng, NAMES)} was", f" {number_words(rng)}."


def _secret(rng):
    answer = f" {_pick(rng, NAMES)}, and the sign was a {_pick(rng, COLOURS)} {_pick(rng, SIGNS)}."
    return f"And the secret word of the {_pick(rng, GROUPS)} was", answer


def _dwelling(rng):
    cue = f"And the {_pick(rng, KIN)} of {_pick(rng, NAMES)} dwelt in"
    return cue, f" {_pick(rng, CITIES)}, by the river {_pick(rng, RIVERS)}."


def _price(rng):
    cue = f"And the price of the {_pick(rng, PLOTS)} of {_pick(rng, NAMES)} was"
    return cue, f" {number_words(rng)} shekels of silver."


def _son(rng):
    cue = f"And the name of the {_pick(rng, ORDINALS)} son of {_pick(rng, NAMES)} was"
    return cue, f" {_pick(rng, NAMES)}, and he dwelt in {_pick(rng, CITIES)}."


TEMPLATES = (_keeper, _hidden, _count, _secret, _dwelling, _price, _son)
# The eval's four kinds come first and are drawn more often.
TEMPLATE_WEIGHTS = np.array([3, 3, 3, 3, 1, 1, 1], dtype=float) / 15.0


def random_fact(rng, template=None):
    """(cue, answer) from a random template, never one of the eval's built-in strings."""
    while True:
        make = template or TEMPLATES[int(rng.choice(len(TEMPLATES), p=TEMPLATE_WEIGHTS))]
        cue, answer = make(rng)
        if cue not in _BUILTIN_CUES and answer not in _BUILTIN_ANSWERS:
            return cue, answer


def random_passkey(rng):
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(3, 8))))
    planted = f"The pass key is {digits}. Remember it. The pass key is"
    return planted, "What is the pass key? The pass key is", f" {digits}."


def sample_lines(rng, count):
    """Text lines in the style of the planted facts (for the tokenizer's training text)."""
    out = []
    for _ in range(count):
        if rng.random() < 0.1:
            planted, question, answer = random_passkey(rng)
            out += [planted + answer, question + answer]
        else:
            cue, answer = random_fact(rng)
            out.append(cue + answer)
    return out


# ---- documents ---------------------------------------------------------------------------------

class DocumentStream:
    """Training documents of a requested token length; see the module docstring.

    encode: str -> list[int] (the tokenizer, applied to whole lines as the eval does).
    lines:  KJV training text, one verse a line without the newline.
    """

    def __init__(self, encode, lines, seed, synthetic_fraction=0.6, passkey_prob=0.3, copy_prob=0.3,
                 answer_weight=4.0, copy_weight=2.0, repeat_fraction=0.0):
        self.encode = encode
        self.line_tokens = [encode(line + "\n") for line in lines if line]
        self.stream = np.concatenate([np.asarray(t, dtype=np.int64) for t in self.line_tokens])
        self.newline = encode("\n")
        self.rng = np.random.default_rng(seed)
        self.synthetic_fraction = synthetic_fraction
        self.passkey_prob = passkey_prob
        self.copy_prob = copy_prob
        self.answer_weight = answer_weight
        self.copy_weight = copy_weight
        self.repeat_fraction = repeat_fraction
        self.token_ids_below = int(self.stream.max()) + 1  # random tokens come from ids the text uses

    def state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state

    def document(self, length):
        """(tokens, weights): int64 and float32 arrays of `length`, and the document's kind."""
        # no draw at fraction 0, so that streams of runs without repeat documents stay as they were
        if self.repeat_fraction and self.rng.random() < self.repeat_fraction:
            return self._repeat(length)
        if self.rng.random() >= self.synthetic_fraction:
            start = int(self.rng.integers(0, len(self.stream) - length))
            return self.stream[start:start + length].copy(), np.ones(length, np.float32), "plain"
        return self._facts(length)

    def batch(self, count, length):
        docs = [self.document(length) for _ in range(count)]
        return np.stack([d[0] for d in docs]), np.stack([d[1] for d in docs]), [d[2] for d in docs]

    def _facts(self, length):
        rng = self.rng
        most = max(1, min(8, length // 200))
        k = int(rng.integers(1, most + 1))
        facts = []  # (planted line tokens, (query tokens, answer start, answer length))
        if rng.random() < self.passkey_prob:
            line, question, answer = random_passkey(rng)
            a, q = self.encode(answer), self.encode(question)
            facts.append((self.encode(line) + a + self.newline, (q + a + self.newline, len(q), len(a))))
            k -= 1
        # Half the time one template for all facts, so that the cues differ in a slot (distractors).
        shared = TEMPLATES[int(rng.choice(len(TEMPLATES), p=TEMPLATE_WEIGHTS))] if rng.random() < 0.5 else None
        cues = set()
        while k > 0:
            cue, answer = random_fact(rng, shared)
            if cue in cues:
                shared = None
                continue
            cues.add(cue)
            c, a = self.encode(cue), self.encode(answer)
            facts.append((c + a + self.newline, (c + a + self.newline, len(c), len(a))))
            k -= 1
        size = lambda fact: len(fact[0]) + len(fact[1][0])  # noqa: E731
        while sum(map(size, facts)) > length // 2 and len(facts) > 1:  # too many for a short document
            facts.pop()
        used = sum(map(size, facts))
        planted = [fact[0] for fact in facts]
        queries = [facts[i][1] for i in rng.permutation(len(facts))]
        first = int(rng.integers(0, len(self.line_tokens)))
        room = length - used
        copy = None
        if rng.random() < self.copy_prob and room > 400:
            copy = self._copy_run(first, room)
        hay = self._haystack(first, room - (len(copy[1]) if copy else 0))
        pieces = [(line, False) for line in hay]
        if copy:  # the repeat goes at a line boundary after the copied run
            end_line, repeat = copy
            at = int(rng.integers(end_line, len(pieces) + 1))
            pieces.insert(at, (repeat, True))
        # Each fact at an independent uniform depth (a line boundary).
        cuts = sorted(int(rng.integers(0, len(pieces) + 1)) for _ in planted)
        for offset, (cut, fact) in enumerate(zip(cuts, rng.permutation(len(planted)))):
            pieces.insert(cut + offset, (planted[fact], False))
        tokens, weights = [], []
        for toks, is_repeat in pieces:
            tokens.extend(toks)
            weights.extend([1.0, 1.0][:len(toks)] + [self.copy_weight if is_repeat else 1.0] * (len(toks) - 2))
        for toks, answer_start, answer_len in queries:
            tokens.extend(toks)
            w = [1.0] * len(toks)
            w[answer_start:answer_start + answer_len] = [self.answer_weight] * answer_len
            weights.extend(w)
        assert len(tokens) == length == len(weights), (len(tokens), length)
        return np.asarray(tokens, np.int64), np.asarray(weights, np.float32), "facts"

    def _repeat(self, length):
        """A KJV window with a span of random tokens planted once and repeated 1-2 times later; the
        repeats from their third token on weigh `copy_weight` (their first two can't be known)."""
        rng = self.rng
        copies = int(rng.integers(1, 3))
        span = int(rng.integers(16, max(17, min(65, length // (2 * (copies + 1))))))
        tokens = self.stream[int(rng.integers(0, len(self.stream) - length)):][:length].copy()
        weights = np.ones(length, np.float32)
        # 3 as the lowest id: unk, bos and eos never appear inside a document
        planted = rng.integers(3, self.token_ids_below, span)
        slots = np.sort(rng.choice(length // span, copies + 1, replace=False))
        starts = [int(slot) * span for slot in slots]
        for k, start in enumerate(starts):
            tokens[start:start + span] = planted
            if k:
                weights[start + 2:start + span] = self.copy_weight
        return tokens, weights, "repeat"

    def _copy_run(self, first, room):
        """(index in the haystack after the run, repeated tokens): 1-3 whole lines near the start of
        the haystack that begins at line `first`, 20-160 tokens, or None when none fits."""
        rng, lines = self.rng, self.line_tokens
        skip = int(rng.integers(0, 8))
        count = int(rng.integers(1, 4))
        run = [lines[(first + skip + j) % len(lines)] for j in range(count)]
        while len(run) > 1 and sum(map(len, run)) > 160:
            run.pop()
        size = sum(map(len, run))
        before = sum(len(lines[(first + j) % len(lines)]) for j in range(skip)) + size
        if size < 8 or size > 160 or before + size > room // 2:
            return None
        return skip + len(run), [t for line in run for t in line]

    def _haystack(self, first, room):
        """Contiguous training lines from `first` filling exactly `room` tokens; the last line is cut
        short and given a newline when it does not fit (as the eval's take_haystack)."""
        lines, nl = self.line_tokens, self.newline
        taken, used, i = [], 0, first
        while used < room:
            line = lines[i % len(lines)]
            i += 1
            if used + len(line) <= room:
                taken.append(line)
                used += len(line)
            elif room - used > len(nl):
                taken.append(line[:room - used - len(nl)] + nl)
                used = room
            else:
                taken.append(line[:room - used])
                used = room
        return taken


# ---- the C++ evaluation's needle cases, in Python ---------------------------------------------

def take_haystack(lines, first_line, room, newline):
    """eval/needle.cpp take_haystack: lines from first_line (wrapping), exactly `room` tokens."""
    taken, used, i = [], 0, first_line
    while used < room:
        line = lines[i % len(lines)]
        i += 1
        if not line:
            continue
        if used + len(line) <= room:
            taken.append(list(line))
            used += len(line)
            continue
        keep = room - used - len(newline)
        if keep > 0:
            taken.append(list(line[:keep]) + list(newline))
        break
    return taken


def boundary_near(lines, target):
    best, before, best_distance, tokens_before = 0, 0, target, 0
    for i, line in enumerate(lines):
        before += len(line)
        if abs(before - target) < best_distance:
            best_distance, best, tokens_before = abs(before - target), i + 1, before
    return best, tokens_before


def make_needle_case(lines, first_line, cue, answer, newline, length, depth, answer_tokens=6, with_needle=True):
    """eval/needle.cpp make_needle_case: (prompt tokens, expected answer tokens)."""
    needle_line = len(cue) + len(answer) + len(newline)
    expected = min(answer_tokens, len(answer))
    room = length - expected - needle_line - len(cue)
    hay = take_haystack(lines, first_line, room, newline)
    total = sum(len(line) for line in hay)
    insert_at, _ = boundary_near(hay, depth * total)
    prompt = []
    for i in range(len(hay) + 1):
        if i == insert_at and with_needle:
            prompt += list(cue) + list(answer) + list(newline)
        if i < len(hay):
            prompt += hay[i]
    prompt += list(cue)
    return prompt, list(answer[:expected])


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    for line in sample_lines(rng, 12):
        print(line)
