"""Per-language word tokenisation for word-vector models (fastText).

:func:`tokenize` turns a text into the word tokens whose vectors are averaged:

1. Unicode NFKC normalisation (full-width letters/digits -> ASCII, compatibility forms folded).
2. Lowercasing (``lowercase=True``), with the Turkish/Azerbaijani dotted/dotless I rule for
   ``lang`` in {tr, az} (``I`` -> ``ı``, ``İ`` -> ``i``); Python's ``str.lower`` already applies
   the Greek final-sigma rule.
3. Script-aware segmentation of the text into runs, punctuation and spaces dropped:

   * Han / Hiragana / Katakana runs (Chinese, Japanese have no spaces) are split into single
     characters (``cjk="char"``) or overlapping character bigrams (``cjk="bigram"``; a run of
     one character stays one token), instead of one long unknown "word".
   * Thai runs (no spaces between words) are split, dictionary-free, into character clusters:
     leading vowels (เ แ โ ใ ไ) + one base character + its combining marks (above/below vowels,
     tone marks) + following vowels ะ า ำ ๅ. No word dictionary is used (no new dependency), so
     the tokens are syllable-like pieces rather than words.
   * Every other script (Latin, Cyrillic, Greek, Arabic, Devanagari, Hangul, ...) is split into
     words = maximal runs of letters, combining marks and digits; Korean is therefore split on
     spaces/punctuation (eojeol), and Devanagari vowel signs stay inside their word.

The rules are chosen by script, so they also apply to a stray Chinese name in an English text;
``lang`` only switches the language-specific casing rule.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

import regex

CjkMode = Literal["char", "bigram"]

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\u30fc\u3005"  # + prolonged sound mark, iteration mark
_THAI = r"\p{Thai}"
_THAI_LEADING = "\u0e40-\u0e44"  # เ แ โ ใ ไ
_THAI_FOLLOWING = "\u0e30\u0e32\u0e33\u0e45"  # ะ า ำ ๅ
# One alternation, CJK and Thai first; the word class excludes both scripts (V1 set difference).
_SEGMENT = regex.compile(
    rf"(?P<cjk>[{_CJK}]+)|(?P<thai>[{_THAI}]+)|(?P<word>[[\p{{L}}\p{{M}}\p{{N}}]--[{_CJK}{_THAI}]]+)",
    flags=regex.V1,
)
_THAI_CLUSTER = regex.compile(rf"[{_THAI_LEADING}]*[{_THAI}]\p{{M}}*[{_THAI_FOLLOWING}]*")
_TURKIC = frozenset({"tr", "az"})


def normalize_text(text: str, lang: str | None = None, lowercase: bool = True) -> str:
    """NFKC-normalise and (optionally) lowercase ``text`` with the Turkic I rule for tr/az."""
    text = unicodedata.normalize("NFKC", text)
    if not lowercase:
        return text
    if lang is not None and lang.split("-")[0].lower() in _TURKIC:
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


def split_cjk(run: str, mode: CjkMode = "char") -> list[str]:
    """Characters of a CJK run, or its overlapping bigrams (a 1-character run stays whole)."""
    if mode == "char" or len(run) < 2:
        return list(run)
    if mode == "bigram":
        return [run[i : i + 2] for i in range(len(run) - 1)]
    raise ValueError(f"unknown CJK mode {mode!r}; use 'char' or 'bigram'")


def split_thai(run: str) -> list[str]:
    """Thai character clusters (leading vowels + base + marks + following vowels), in order."""
    return _THAI_CLUSTER.findall(run)


def tokenize(text: str, lang: str | None = None, lowercase: bool = True, cjk: CjkMode = "char") -> list[str]:
    """Word tokens of ``text`` (rules in the module docstring); ``[]`` when it has no letters/digits."""
    tokens: list[str] = []
    for m in _SEGMENT.finditer(normalize_text(text, lang, lowercase)):
        kind = m.lastgroup
        if kind == "cjk":
            tokens.extend(split_cjk(m.group(), cjk))
        elif kind == "thai":
            tokens.extend(split_thai(m.group()))
        else:
            tokens.append(m.group())
    return tokens
