"""Static (token-vector) models in model2vec format behind :class:`Embedder`.

A model2vec folder holds ``config.json``, ``model.safetensors`` (``embeddings`` (V', d), optional
``weights`` (V,) and ``mapping`` (V,) for vocabulary-quantised models such as tokenlearn's) and a
``tokenizers`` ``tokenizer.json``. The vector of a text is, as in ``model2vec.StaticModel.encode``::

    v(text) = mean_{t in tokens(text), t != unk} weights[t] * embeddings[mapping[t]]

(``weights``/``mapping`` = 1/identity when absent), L2-normalised when ``config.json`` says
``normalize: true``; a text without known tokens gets the zero vector. The arithmetic is
model2vec's own (same numpy operations in the same order, so the vectors are bit-identical), run
on the folder's files read once (:class:`StaticTables`: ``from_pretrained`` would also parse the
tokenizer again and deep-copy it, which takes most of its seconds).

Loading is lazy: the fingerprint and dimension come from ``config.json``, the safetensors header
and the file digests, so a run whose texts are all cached never reads the tables.

Long texts: model2vec reads at most ``max_length`` tokens (512 unless ``config.json`` says
otherwise; :attr:`Model2VecEmbedder.max_tokens`), after first cutting the text to
``max_length * median_token_length`` characters; :meth:`Model2VecEmbedder.truncated` flags both.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import Embedder, ModelUnavailable, Progress
from semanscope.models.fingerprint import folder_digests, make_fingerprint, package_version
from semanscope.models.truncate import utf8_bound

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL2VEC_FILES = ("config.json", "model.safetensors", "tokenizer.json")
DEFAULT_MAX_LENGTH = 512  # model2vec's default when config.json names none
MIN_CHUNK = 1024  # model2vec's own default batch size


def _unk_id(tokenizer: Tokenizer, spec: dict) -> int | None:
    """Id of the unknown token that model2vec drops: the model's ``unk_token`` (WordPiece, BPE,
    WordLevel) or ``unk_id`` (Unigram) from the parsed ``tokenizer.json``."""
    model = spec.get("model", {})
    if "unk_token" in model:
        return None if model["unk_token"] is None else tokenizer.token_to_id(model["unk_token"])
    unk = model.get("unk_id")
    return int(unk) if unk is not None else None


def _vocabulary(spec: dict) -> list[str]:
    """The tokens of a parsed ``tokenizer.json``: its model's vocabulary (a ``{token: id}`` map, or
    Unigram's ``[token, score]`` list) plus its added tokens, each once (``Tokenizer.get_vocab()``)."""
    vocab = spec.get("model", {}).get("vocab", {})
    pieces = vocab.keys() if isinstance(vocab, dict) else (entry[0] for entry in vocab)
    return list(dict.fromkeys([*pieces, *(added["content"] for added in spec.get("added_tokens") or ())]))


@dataclass(frozen=True)
class StaticTables:
    """A model2vec folder's arrays and tokenizer, each file read once.

    ``tokenizer`` truncates to ``max_length`` tokens (when set) and never pads;
    ``median_token_length`` = ``int(median(len(token) for token in vocabulary))``.
    """

    embeddings: np.ndarray
    weights: np.ndarray | None
    mapping: np.ndarray | None
    tokenizer: Tokenizer
    unk_id: int | None
    median_token_length: int

    @classmethod
    def read(cls, folder: Path, max_length: int | None) -> StaticTables:
        import safetensors
        from tokenizers import Tokenizer

        with safetensors.safe_open(str(folder / "model.safetensors"), framework="numpy") as tensors:
            names = set(tensors.keys())
            embeddings = tensors.get_tensor("embeddings")
            weights = tensors.get_tensor("weights") if "weights" in names else None
            mapping = tensors.get_tensor("mapping") if "mapping" in names else None
        text = (folder / "tokenizer.json").read_text(encoding="utf-8")
        tokenizer = Tokenizer.from_str(text)
        tokenizer.no_padding()
        if max_length is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(max_length)
        spec = json.loads(text)
        vocab = _vocabulary(spec)
        if mapping is None and len(embeddings) != len(vocab):
            raise ValueError(f"{len(vocab)} tokens but {len(embeddings)} vectors and no token mapping")
        median = int(np.median([len(token) for token in vocab]))
        return cls(embeddings, weights, mapping, tokenizer, _unk_id(tokenizer, spec), median)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without special tokens and without the unknown token."""
        ids = [e.ids for e in self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)]
        if self.unk_id is not None:
            ids = [[t for t in row if t != self.unk_id] for row in ids]
        return ids

    def encode(self, texts: Sequence[str], normalize: bool) -> np.ndarray:
        """``v(text)`` of the module docstring for each text (model2vec's ``_encode_batch``)."""
        ids = self.token_ids(texts)
        dtype = np.dtype(np.float32) if self.embeddings.dtype == np.int8 else self.embeddings.dtype
        out = np.zeros((len(ids), self.embeddings.shape[1]), dtype=dtype)
        if self.mapping is None and self.weights is None:
            buckets: dict[int, list[int]] = defaultdict(list)
            for i, row in enumerate(ids):
                if row:
                    buckets[len(row)].append(i)
            for indices in buckets.values():
                out[indices] = self.embeddings[np.array([ids[i] for i in indices], dtype=np.int64)].mean(axis=1)
        else:
            for i, row in enumerate(ids):
                if row:
                    vectors = self.embeddings[row if self.mapping is None else self.mapping[row]]
                    if self.weights is not None:
                        vectors = vectors * self.weights[row][:, None]
                    out[i] = vectors.mean(axis=0)
        if normalize:
            out32 = out.astype(np.float32)
            return (out32 / (np.linalg.norm(out32, axis=1, keepdims=True) + 1e-32)).astype(out.dtype)
        return out


def _embedding_dim(path: Path) -> int:
    """Columns of the ``embeddings`` tensor, from the safetensors header (no tensor is read)."""
    import safetensors

    with safetensors.safe_open(str(path), framework="numpy") as tensors:
        shape = tensors.get_slice("embeddings").get_shape()
    if len(shape) != 2:
        raise ValueError(f"{path}: 'embeddings' has shape {shape}, expected (tokens, dim)")
    return int(shape[1])


class Model2VecEmbedder(Embedder):
    """A local model2vec folder; ``normalize`` overrides the folder's config when not None.

    The tables (:class:`StaticTables`) are read on the first encode or tokenising truncation check.
    """

    family = "static"

    def __init__(self, folder: str | Path, name: str | None = None, normalize: bool | None = None) -> None:
        folder = Path(folder).expanduser()
        missing = [f for f in MODEL2VEC_FILES if not (folder / f).is_file()]
        if missing:
            raise ModelUnavailable(f"{folder} is not a model2vec folder: missing {', '.join(missing)}")
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            self.dim = _embedding_dim(folder / "model.safetensors")
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{folder} is not a readable model2vec folder: {exc}") from exc
        if not isinstance(config, dict):
            raise ValueError(f"{folder}/config.json is not a JSON object")
        self.folder = folder
        self.name = name or folder.name
        self.normalize = bool(config.get("normalize", False)) if normalize is None else normalize
        max_length = config.get("max_length", DEFAULT_MAX_LENGTH)
        self.max_tokens = None if max_length is None else int(max_length)
        self._tables: StaticTables | None = None
        self._fingerprint = make_fingerprint(
            self.name,
            {
                "package": f"model2vec=={package_version('model2vec')}",
                "files": folder_digests(folder, skip=("README.md", "semanscope_meta.json")),
                "normalize": self.normalize,
                "max_length": self.max_tokens,
            },
        )

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def tables(self) -> StaticTables:
        """The folder's :class:`StaticTables`, read on first use."""
        if self._tables is None:
            self._tables = StaticTables.read(self.folder, self.max_tokens)
        return self._tables

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """True for texts model2vec cuts: longer than ``max_length * median_token_length``
        characters, or more than ``max_length`` tokens (unknown tokens included: model2vec
        truncates before dropping them). Only texts longer than ``max_length`` characters or
        whose :func:`~semanscope.models.truncate.utf8_bound` exceeds it read the tables (the
        median token length is at least 1), and only they are tokenised: with truncation at
        ``max_length``, a cut text has overflowing tokens."""
        limit = self.max_tokens
        out = np.zeros(len(texts), dtype=bool)
        if limit is None:
            return out
        candidates = [i for i, text in enumerate(texts) if len(text) > limit or utf8_bound(text, 0) > limit]
        if not candidates:
            return out
        max_chars = limit * self.tables.median_token_length
        counted = []
        for i in candidates:
            if len(texts[i]) > max_chars:
                out[i] = True
            else:
                counted.append(i)
        if counted:
            encodings = self.tables.tokenizer.encode_batch_fast([texts[i] for i in counted], add_special_tokens=False)
            out[counted] = [len(e) > limit or len(e.overflowing) > 0 for e in encodings]
        return out

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        """Encode in chunks of ``max(batch_size, MIN_CHUNK)`` texts, each cut to
        ``max_length * median_token_length`` characters first (as model2vec does)."""
        tables = self.tables
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        cut = None if self.max_tokens is None else self.max_tokens * tables.median_token_length
        chunk = max(batch_size, MIN_CHUNK)
        for start in range(0, len(texts), chunk):
            batch = [t if cut is None else t[:cut] for t in texts[start : start + chunk]]
            out[start : start + len(batch)] = tables.encode(batch, self.normalize)
            if progress:
                progress(start + len(batch), len(texts))
        return out
