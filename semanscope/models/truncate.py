"""Texts longer than a model's input limit: which ones, and their longest prefix that fits.

``count(text)`` is the number of tokens a model reads for ``text`` (prompt and special tokens
included). Tokenising every text of a large set costs time, so :func:`over_limit` takes
``bound(text)``, a cheap upper bound on ``count`` (e.g. UTF-8 bytes + special tokens for a
tokeniser that emits at most one token per byte): texts whose bound is within the limit are
not tokenised.

Only the first ``limit * SEARCH_CHARS_PER_TOKEN`` characters of a text are ever tokenised: a
longer text is cut there first (the pieces of the tokenisers used here are far shorter, so the
prefix that fits lies inside), which bounds the work for a multi-megabyte cell.

:class:`PrefixTruncation` gives an embedder that enforces its limit itself (the model would
otherwise read the whole text) both halves from its ``count``, ``bound`` and ``max_tokens``:
which texts are cut (``truncated``) and the prefix it encodes instead (``_fit``).
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

SEARCH_CHARS_PER_TOKEN = 32

Count = Callable[[str], int]


def utf8_bound(text: str, extra: int) -> int:
    """``2 * UTF-8 bytes of NFKC(text) + extra``: an upper bound on the tokens of the subword
    tokenisers used here (WordPiece, SentencePiece, byte-level BPE emit at most one token per
    byte of the normalised text, plus ``extra`` special/prefix tokens), doubled as a margin for
    normalisers beyond NFKC (lowercasing lengthens a few characters, e.g. ``"\u0130"``)."""
    return 2 * len(unicodedata.normalize("NFKC", text).encode("utf-8")) + extra


def search_window(text: str, limit: int) -> str:
    """The first ``limit * SEARCH_CHARS_PER_TOKEN`` characters of ``text`` (all of a shorter text)."""
    return text[: limit * SEARCH_CHARS_PER_TOKEN]


def prompted_over_limit(
    texts: Sequence[str], prompt: str, limit: int, counts: Callable[[list[str]], np.ndarray], special: int
) -> np.ndarray:
    """Bool (len(texts),): True where ``prompt + text`` exceeds ``limit`` tokens, for a model
    that truncates its input itself. ``counts(texts)`` gives the tokens of each ``prompt + text``
    (``special`` tokens included, before truncation). Only texts whose
    :func:`utf8_bound` of ``prompt + text`` (plus ``special``) exceeds the limit are counted, and
    a text longer than its :func:`search_window` is truncated without counting it."""
    out = np.zeros(len(texts), dtype=bool)
    counted = []
    for i, text in enumerate(texts):
        if utf8_bound(prompt + text, special) <= limit:
            continue
        if len(search_window(text, limit)) < len(text):
            out[i] = True
        else:
            counted.append(i)
    if counted:
        out[counted] = counts([texts[i] for i in counted]) > limit
    return out


def over_limit(texts: Sequence[str], count: Count, limit: int, bound: Count | None = None) -> np.ndarray:
    """Bool (len(texts),): True where :func:`longest_prefix` cuts the text, i.e. the text is
    longer than the search window or ``count(text) > limit``; texts with ``bound(text) <= limit``
    are within the limit without being counted."""
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        if bound is not None and bound(text) <= limit:
            continue
        window = search_window(text, limit)
        out[i] = len(window) < len(text) or count(window) > limit
    return out


def longest_prefix(text: str, count: Count, limit: int) -> str:
    """The longest prefix ``p`` of the search window of ``text`` with ``count(p) <= limit`` (the
    text itself when it fits).

    Search over the cut position keeping ``count(window[:lo]) <= limit < count(window[:hi])``:
    the next cut interpolates linearly between the two counts (tokens grow about linearly with
    characters, so this lands within a few characters), with a bisection step whenever an
    interpolation step did not halve the interval, so at most ~2 log2(len) counts are made.
    The result is locally maximal: one more character would exceed the limit.
    """
    window = search_window(text, limit)
    n_window = count(window)
    if n_window <= limit:
        return window
    lo, hi = 0, len(window)
    c_lo, c_hi = count(""), n_window
    bisect = False
    while hi - lo > 1:
        if bisect:
            cut = (lo + hi) // 2
        else:
            cut = lo + int((limit - c_lo + 0.5) * (hi - lo) / max(c_hi - c_lo, 1))
        cut = min(max(cut, lo + 1), hi - 1)
        before = hi - lo
        c = count(window[:cut])
        if c <= limit:
            lo, c_lo = cut, c
        else:
            hi, c_hi = cut, c
        bisect = not bisect and 2 * (hi - lo) > before
    return window[:lo]


class PrefixTruncation(ABC):
    """Mixin (before :class:`~semanscope.models.base.Embedder` in the bases) for a model that
    reads at most ``max_tokens`` tokens and cuts a longer text to its :func:`longest_prefix`
    before encoding. The model provides ``_count(text)``, the tokens it reads for ``text``
    (prompt and special tokens included), and ``_bound(text)``, a cheap upper bound on it."""

    max_tokens: int

    @abstractmethod
    def _count(self, text: str) -> int:
        """Tokens the model reads for ``text``."""

    @abstractmethod
    def _bound(self, text: str) -> int:
        """Cheap upper bound on :meth:`_count` (texts within the limit by it are not tokenised)."""

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """True for texts over :attr:`max_tokens` tokens (:func:`over_limit`): they are cut before encoding."""
        return over_limit(texts, self._count, self.max_tokens, self._bound)

    def _fit(self, text: str) -> str:
        """What the model encodes for ``text``: ``text`` itself when ``_bound(text) <= max_tokens``
        (without tokenising it), else its :func:`longest_prefix` of at most ``max_tokens`` tokens."""
        if self._bound(text) <= self.max_tokens:
            return text
        return longest_prefix(text, self._count, self.max_tokens)
