#!/usr/bin/env python3
"""Writes tests/MLNetMerge.Tests/Fixtures/text/bert_basic.json: random multi-script strings and the words BERT's basic
tokenization makes of them, computed here with Python's own unicodedata (Unicode tables independent of .NET's).

The reference follows BERT's published basic tokenizer: clean text (drop NUL, U+FFFD, category C* except \\t \\n \\r;
whitespace -> space), spaces around CJK ideographs, whitespace split, lower-case, NFD then drop Mn, split punctuation
(ASCII 33-47, 58-64, 91-96, 123-126 or category P*). Lower-casing is per character, as Hugging Face's tokenizers do it
(the slow one lower-cases the text one character at a time before its basic tokenizer; the fast one maps each char):
so capital sigma is always small sigma, never str.lower()'s word-final form.

Run:  PYENV_VERSION=system python3 tools/make_bert_basic_fixture.py
"""
import json
import os
import random
import unicodedata

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "MLNetMerge.Tests", "Fixtures", "text", "bert_basic.json")


def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def is_punctuation(c):
    cp = ord(c)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, lower):
    out = []
    for c in text:
        if ord(c) == 0 or ord(c) == 0xFFFD or is_control(c):
            continue
        out.append(" " if is_whitespace(c) else c)
    text = "".join(" %s " % c if is_cjk(ord(c)) else c for c in out)
    words = []
    for token in text.split():
        if lower:
            token = "".join(c.lower() for c in token)
            token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        current = ""
        for c in token:
            if is_punctuation(c):
                if current:
                    words.append(current)
                words.append(c)
                current = ""
            else:
                current += c
        if current:
            words.append(current)
    return words


def pools():
    ascii_ = [chr(c) for c in range(32, 127)]
    latin = [chr(c) for c in range(0xC0, 0x250) if unicodedata.category(chr(c)).startswith("L")]
    greek = [chr(c) for c in range(0x386, 0x3CF) if unicodedata.category(chr(c)).startswith("L")]
    cyrillic = [chr(c) for c in range(0x400, 0x460)]
    cjk = [chr(c) for c in range(0x4E00, 0x4E80)] + ["\U00020000", "\U0002A700", "\uF900"]
    kana = [chr(c) for c in range(0x3041, 0x3097)]
    hangul = [chr(c) for c in range(0xAC00, 0xAD00)] + [chr(c) for c in range(0xD500, 0xD5A0)]
    marks = [chr(c) for c in range(0x300, 0x370)]
    spaces = ["\t", "\n", "\r", "\u00A0", "\u2003", "\u3000", "\u2028", " ", " ", " "]
    controls = ["\x00", "\x07", "\x1b", "\u200b", "\u200d", "\ufeff", "\ufffd", "\x85", "\x0b"]
    symbols = ["\U0001F600", "\U0001F389", "\u00AB", "\u00BB", "\u2014", "\u201C", "\u201D", "\u00BF", "\u00A1", "\u3001",
               "\u3002", "$", "+", "^", "`", "\u00B0", "\u20AC", "\U0001D400", "\u2126", "\u212B", "\u1E9E"]
    return [ascii_, latin, greek, cyrillic, cjk, kana, hangul, marks, spaces, controls, symbols]


def main():
    rng = random.Random(1234)
    groups = pools()
    weights = [30, 20, 8, 8, 6, 3, 5, 5, 10, 3, 5]
    cases = []
    fixed = ["Héllo, don't! 中国", "ΟΔΟΣ ΣΑΣ Σ ΑΣ\u0301. İstanbul", "ΑΣ'Α Σ'", "CAFÉ Ñandú", "naïve façade — «quoted»", "Ωmega Å ﬁ", "한국어 텍스트", "e\u0301\u0301x"]
    for text in fixed:
        cases.append({"text": text, "uncased": basic_tokenize(text, True), "cased": basic_tokenize(text, False)})
    for _ in range(200):
        n = rng.randint(1, 32)
        text = "".join(rng.choice(rng.choices(groups, weights)[0]) for _ in range(n))
        cases.append({"text": text, "uncased": basic_tokenize(text, True), "cased": basic_tokenize(text, False)})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{"unicode": "%s", "cases": [\n' % unicodedata.unidata_version)
        f.write(",\n".join(json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
