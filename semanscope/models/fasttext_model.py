"""fastText word vectors (``.bin`` models or ``.vec`` text files) behind :class:`Embedder`.

The vector of a text in language ``lang`` is the plain mean of the word vectors of its tokens::

    v(text) = (1/|K|) * sum_{w in K} vec(w),   K = known tokens of tokenize(text, lang)

* ``.bin`` (``fasttext.load_model``): every token is known; out-of-vocabulary words get their
  character n-gram (subword) vector from the model.
* ``.vec`` (streamed text: optional ``"n d"`` header, then ``word x1 .. xd`` per line; the first
  ``max_words`` lines when given): out-of-vocabulary tokens are skipped.
* ``K`` empty (no letters/digits, or only unknown words) -> zero vector, and the text's index is
  listed in :attr:`FastTextEmbedder.last_empty` (and logged).

A source is one file (used for every language) or a mapping ``language -> file`` for aligned
per-language vectors (``wiki.en.align.vec``, ``wiki.de.align.vec``, ...), loaded lazily per
language. Tokenisation (:mod:`semanscope.models.tokenize`) depends on the language, so the
model is ``language_aware``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from semanscope.models.base import Embedder, ModelUnavailable, Progress
from semanscope.models.fingerprint import file_digest, make_fingerprint, package_version
from semanscope.models.tokenize import CjkMode, tokenize

log = logging.getLogger(__name__)

FASTTEXT_MAGIC = 793712314
TOKENIZE_RULES = "nfkc-lower-script-v1"  # bump when semanscope.models.tokenize changes output
_VEC_CHUNK = 4096


class WordVectors(Protocol):
    dim: int

    def lookup(self, words: Sequence[str]) -> np.ndarray:
        """Vectors (k, dim) of the words that have one (k <= len(words))."""


def read_dim(path: Path) -> int:
    """Vector dimension from a ``.bin`` header (magic, version, dim int32) or a ``.vec`` first line."""
    if path.suffix == ".bin":
        with open(path, "rb") as fh:
            head = fh.read(12)
        if len(head) < 12 or struct.unpack("<i", head[:4])[0] != FASTTEXT_MAGIC:
            raise ValueError(f"{path} is not a fastText .bin model (bad magic number)")
        return struct.unpack("<i", head[8:12])[0]
    with open(path, encoding="utf-8", errors="replace") as fh:
        parts = fh.readline().rstrip().split(" ")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[1])
    if len(parts) < 2:
        raise ValueError(f"{path}: first line is neither an 'n d' header nor 'word x1 .. xd'")
    return len(parts) - 1


def read_vec(path: Path, max_words: int | None = None) -> tuple[list[str], np.ndarray]:
    """Words and float32 (n, d) vectors of a ``.vec`` file, first ``max_words`` rows; first word wins."""
    dim = read_dim(path)
    words: list[str] = []
    blocks: list[np.ndarray] = []
    pending: list[str] = []
    seen: set[str] = set()

    def flush() -> None:
        if pending:
            blocks.append(np.array(" ".join(pending).split(), dtype=np.float32).reshape(len(pending), dim))
            pending.clear()

    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if max_words is not None and len(words) >= max_words:
                break
            parts = line.rstrip("\r\n ").rsplit(" ", dim)
            if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # header
            if len(parts) != dim + 1:
                raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers, got {len(parts) - 1} fields")
            word = parts[0]
            if word in seen:
                continue
            seen.add(word)
            words.append(word)
            pending.append(line.rstrip("\r\n ")[len(word) :])
            if len(pending) >= _VEC_CHUNK:
                flush()
    flush()
    matrix = np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)
    return words, matrix


class VecVectors:
    """``.vec`` vectors in memory; unknown words have no vector."""

    def __init__(self, path: Path, max_words: int | None = None) -> None:
        words, self.matrix = read_vec(path, max_words)
        self.dim = self.matrix.shape[1]
        self.index = {w: i for i, w in enumerate(words)}

    def lookup(self, words: Sequence[str]) -> np.ndarray:
        rows = [self.index[w] for w in words if w in self.index]
        return self.matrix[rows]


class BinVectors:
    """A fastText ``.bin`` model; unknown words get subword (character n-gram) vectors."""

    def __init__(self, path: Path) -> None:
        import fasttext

        with contextlib.redirect_stderr(io.StringIO()):  # fasttext prints a warning on every load
            self.model = fasttext.load_model(str(path))
        self.dim = int(self.model.get_dimension())

    def lookup(self, words: Sequence[str]) -> np.ndarray:
        if not words:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.model.get_word_vector(w) for w in words]).astype(np.float32, copy=False)


def mean_vectors(token_lists: Sequence[Sequence[str]], vectors: WordVectors) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) means of the known tokens' vectors and the bool mask of texts with none (zero rows)."""
    out = np.zeros((len(token_lists), vectors.dim), dtype=np.float32)
    empty = np.zeros(len(token_lists), dtype=bool)
    for i, tokens in enumerate(token_lists):
        rows = vectors.lookup(tokens)
        if len(rows):
            out[i] = rows.mean(axis=0, dtype=np.float64)
        else:
            empty[i] = True
    return out, empty


class FastTextEmbedder(Embedder):
    """Mean of fastText word vectors over :func:`~semanscope.models.tokenize.tokenize` tokens.

    ``source`` is one ``.bin``/``.vec`` file or a mapping ``language -> file``; ``max_words``
    limits ``.vec`` files to their first (most frequent) words; ``lowercase`` and ``cjk`` are
    passed to the tokeniser.
    """

    family = "static"
    language_aware = True

    def __init__(
        self,
        source: str | Path | Mapping[str, str | Path],
        name: str | None = None,
        max_words: int | None = None,
        lowercase: bool = True,
        cjk: CjkMode = "char",
    ) -> None:
        if isinstance(source, Mapping):
            if not source:
                raise ValueError("the fastText language mapping is empty")
            self.files: dict[str | None, Path] = {str(k): Path(v).expanduser() for k, v in source.items()}
        else:
            self.files = {None: Path(source).expanduser()}
        for path in self.files.values():
            if not path.is_file():
                raise ModelUnavailable(f"fastText file not found: {path}")
            if path.suffix not in (".bin", ".vec"):
                raise ValueError(f"fastText file must end in .bin or .vec: {path}")
        dims = {str(p): read_dim(p) for p in self.files.values()}
        if len(set(dims.values())) != 1:
            raise ValueError(f"fastText files have different dimensions: {dims}")
        self.dim = next(iter(dims.values()))
        self.name = name or "fasttext:" + ",".join(p.name for p in self.files.values())
        self.max_words = max_words
        self.lowercase = lowercase
        self.cjk = cjk
        self.last_empty: list[int] = []
        self._vectors: dict[str | None, WordVectors] = {}
        self._fingerprint = make_fingerprint(
            self.name,
            {
                "package": f"fasttext-numpy2-wheel=={package_version('fasttext-numpy2-wheel')}",
                "files": {str(k): file_digest(p) for k, p in sorted(self.files.items(), key=lambda kv: str(kv[0]))},
                "max_words": max_words,
                "lowercase": lowercase,
                "cjk": cjk,
                "tokenize": TOKENIZE_RULES,
            },
        )

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def languages(self) -> list[str] | None:
        """Languages with their own vectors, or None when one file serves every language."""
        return None if None in self.files else sorted(k for k in self.files if k is not None)

    def vectors(self, lang: str | None) -> WordVectors:
        """Word vectors used for ``lang`` (loaded on first use)."""
        key: str | None = None
        if None not in self.files:
            if lang not in self.files:
                raise ValueError(f"{self.name} has vectors for languages {self.languages}; got lang={lang!r}")
            key = lang
        if key not in self._vectors:
            path = self.files[key]
            self._vectors[key] = BinVectors(path) if path.suffix == ".bin" else VecVectors(path, self.max_words)
        return self._vectors[key]

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        vectors = self.vectors(lang)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        empty: list[int] = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            tokens = [tokenize(t, lang, lowercase=self.lowercase, cjk=self.cjk) for t in batch]
            out[start : start + len(batch)], mask = mean_vectors(tokens, vectors)
            empty.extend(start + int(i) for i in np.flatnonzero(mask))
            if progress:
                progress(start + len(batch), len(texts))
        self.last_empty = empty
        if empty:
            log.warning(
                "%s: %d of %d texts have no known word; they get zero vectors", self.name, len(empty), len(texts)
            )
        return out
