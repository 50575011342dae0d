"""Static (token-vector) models in model2vec format behind :class:`Embedder`.

A model2vec folder holds ``config.json``, ``model.safetensors`` (``embeddings`` (V', d), optional
``weights`` (V,) and ``mapping`` (V,) for vocabulary-quantised models such as tokenlearn's) and a
``tokenizers`` ``tokenizer.json``. The vector of a text is, as in ``model2vec.StaticModel.encode``::

    v(text) = mean_{t in tokens(text), t != unk} weights[t] * embeddings[mapping[t]]

(``weights``/``mapping`` = 1/identity when absent), L2-normalised when ``config.json`` says
``normalize: true``; a text without known tokens gets the zero vector. The folder is loaded
with model2vec itself, from disk only (never the hub).

Long texts: model2vec reads at most ``max_length`` tokens (512 unless ``config.json`` says
otherwise; :attr:`Model2VecEmbedder.max_tokens`), after first cutting the text to
``max_length * median_token_length`` characters; :meth:`Model2VecEmbedder.truncated` flags both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semanscope.models.base import Embedder, ModelUnavailable, Progress
from semanscope.models.fingerprint import folder_digests, make_fingerprint, package_version
from semanscope.models.truncate import utf8_bound

MODEL2VEC_FILES = ("config.json", "model.safetensors", "tokenizer.json")
MIN_CHUNK = 1024  # model2vec's own default batch size


class Model2VecEmbedder(Embedder):
    """A local model2vec folder; ``normalize`` overrides the folder's config when not None."""

    family = "static"

    def __init__(self, folder: str | Path, name: str | None = None, normalize: bool | None = None) -> None:
        folder = Path(folder).expanduser()
        missing = [f for f in MODEL2VEC_FILES if not (folder / f).is_file()]
        if missing:
            raise ModelUnavailable(f"{folder} is not a model2vec folder: missing {', '.join(missing)}")
        from model2vec import StaticModel

        self.folder = folder
        self.name = name or folder.name
        self.model = StaticModel.from_pretrained(folder, normalize=normalize)
        self.dim = int(self.model.dim)
        self.max_tokens = self.model.max_length
        self._fingerprint = make_fingerprint(
            self.name,
            {
                "package": f"model2vec=={package_version('model2vec')}",
                "files": folder_digests(folder, skip=("README.md", "semanscope_meta.json")),
                "normalize": self.model.normalize,
                "max_length": self.model.max_length,
            },
        )

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """True for texts model2vec cuts: longer than ``max_length * median_token_length``
        characters, or more than ``max_length`` tokens (unknown tokens included: model2vec
        truncates before dropping them). Only texts whose
        :func:`~semanscope.models.truncate.utf8_bound` exceeds the limit are tokenised, with the
        model's tokenizer, whose truncation model2vec keeps at ``max_length``: a cut text has
        overflowing tokens."""
        limit = self.max_tokens
        out = np.zeros(len(texts), dtype=bool)
        if limit is None:
            return out
        max_chars = limit * self.model.median_token_length
        candidates = []
        for i, text in enumerate(texts):
            if len(text) > max_chars:
                out[i] = True
            elif utf8_bound(text, 0) > limit:
                candidates.append(i)
        if candidates:
            encodings = self.model.tokenizer.encode_batch_fast([texts[i] for i in candidates], add_special_tokens=False)
            out[candidates] = [len(e) > limit or len(e.overflowing) > 0 for e in encodings]
        return out

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        """model2vec encode in chunks of ``max(batch_size, MIN_CHUNK)`` texts: its per-call cost
        (length buckets, tokenizer set-up) makes 64-text calls ~30 % slower than one big call."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        chunk = max(batch_size, MIN_CHUNK)
        for start in range(0, len(texts), chunk):
            batch = list(texts[start : start + chunk])
            out[start : start + len(batch)] = self.model.encode(batch, batch_size=len(batch), use_multiprocessing=False)
            if progress:
                progress(start + len(batch), len(texts))
        return out
