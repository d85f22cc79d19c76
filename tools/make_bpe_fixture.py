#!/usr/bin/env python3
"""Writes a small byte-level BPE model and reference encodings to tests/MLNetMerge.Tests/Fixtures/bpe/:
vocab.json, merges.txt (trained here on Debian's Apache-2.0, BSD and Artistic license texts, 400 merges) and
cases.json (texts and their ids from a reference encoder written from GPT-2's published algorithm).

The reference pre-tokenizer implements GPT-2's pattern
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
by hand over Python's unicodedata categories (Debian has no `regex` module), with \\s = [\\t\\n\\v\\f\\r\\x85] or Z*.

Run:  PYENV_VERSION=system python3 tools/make_bpe_fixture.py
"""
import collections
import json
import os
import unicodedata

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "MLNetMerge.Tests", "Fixtures", "bpe")
LICENSES = "/usr/share/common-licenses"
MERGES = 400


def byte_alphabet():
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, n = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_TO_CHAR = byte_alphabet()


def is_space(c):
    return c in "\t\n\x0b\x0c\r\x85" or unicodedata.category(c).startswith("Z")


def is_letter(c):
    return unicodedata.category(c).startswith("L")


def is_number(c):
    return unicodedata.category(c).startswith("N")


def is_other(c):
    return not (is_space(c) or is_letter(c) or is_number(c))


def pre_tokenize(text):
    pieces, pos, n = [], 0, len(text)
    while pos < n:
        length = 0
        for contraction in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
            if text.startswith(contraction, pos):
                length = len(contraction)
                break
        if not length:
            for cls in (is_letter, is_number, is_other):
                start = pos + 1 if text[pos] == " " and pos + 1 < n and cls(text[pos + 1]) else pos
                end = start
                while end < n and cls(text[end]):
                    end += 1
                if end > start:
                    length = end - pos
                    break
        if not length:
            end = pos
            while end < n and is_space(text[end]):
                end += 1
            run = end - pos  # >= 1 here: every character is space, letter, number or other
            length = run if end == n or run == 1 else run - 1
        pieces.append(text[pos:pos + length])
        pos += length
    return pieces


def to_symbols(piece):
    return [BYTE_TO_CHAR[b] for b in piece.encode("utf-8")]


def train(texts):
    words = collections.Counter()
    for text in texts:
        for piece in pre_tokenize(text):
            words[tuple(to_symbols(piece))] += 1
    words = {w: c for w, c in words.items()}
    merges = []
    for _ in range(MERGES):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return merges


def bpe(symbols, ranks):
    """GPT-2's bpe(): merge the lowest-ranked adjacent pair everywhere until none is ranked."""
    word = list(symbols)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == best[0] and word[i + 1] == best[1]:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        word = out
    return word


def main():
    texts = []
    for name in ("Apache-2.0", "BSD", "Artistic"):
        with open(os.path.join(LICENSES, name), encoding="utf-8") as f:
            texts.extend(f.read().split("\n\n"))
    merges = train(texts)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for b in range(256):
        vocab[BYTE_TO_CHAR[b]] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<mask>"] = len(vocab)
    ranks = {m: i for i, m in enumerate(merges)}

    with open(os.path.join(LICENSES, "GPL-3"), encoding="utf-8") as f:
        held_out = [p for p in f.read().split("\n\n")[10:40]]
    extra = ["Héllo wörld, naïve café — it's 2024!", "I'm   spaced\tout\n\nnew  lines ", "emoji 😀🎉 and ✓ marks",
             "Don't STOP'S we'll we'd you're they've", "3.14159 x 10^23 = 1e23; 42nd", " leading space", "trailing   ",
             "日本語のテキスト", "Ελληνικά και русский", "tabs\t\tand\r\nCRLF"]
    cases = []
    for text in held_out + extra:
        ids = []
        for piece in pre_tokenize(text):
            ids.extend(vocab[s] for s in bpe(to_symbols(piece), ranks))
        cases.append({"text": text, "ids": ids})

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(OUT, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write("%s %s\n" % (a, b))
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in cases) + "\n]\n")


if __name__ == "__main__":
    main()
