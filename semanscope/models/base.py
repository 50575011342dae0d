"""The one encode interface every model (static or contextual) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

Family = Literal["static", "contextual"]
# progress(done, total): called after each batch
Progress = Callable[[int, int], None]


class ModelUnavailable(RuntimeError):
    """A model cannot be loaded here; the message says what to install or where to put files."""


class Embedder(ABC):
    """A text embedding model behind one interface.

    Attributes
    ----------
    name: registry key / display name.
    family: ``"static"`` (averaged word/token vectors) or ``"contextual"`` (encoder).
    dim: embedding dimension.
    language_aware: True when the vector of a text depends on its language code
        (e.g. per-language fastText files or tokenisers); the cache then keys on it.
    max_tokens: longest input the model reads, in its tokens (prompt and special tokens
        included); a longer text is truncated and :meth:`truncated` flags it. ``None``: no limit.
    """

    name: str
    family: Family
    dim: int
    language_aware: bool = False
    max_tokens: int | None = None

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Stable id of weights + settings (weights hash or package version + settings)."""

    @abstractmethod
    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        """Model-specific encoding of raw texts (prefixes applied here); returns (n, dim)."""

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """Bool (len(texts),): True for each text the model truncates (reads only a prefix of).

        Models with a :attr:`max_tokens` limit override this; the default reads every text whole.
        """
        return np.zeros(len(texts), dtype=bool)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: Progress | None = None,
        lang: str | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` -> float32 array (len(texts), dim). Not normalised unless the model is."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._encode(list(texts), lang, batch_size, progress), dtype=np.float32)
        if out.shape != (len(texts), self.dim):
            raise RuntimeError(f"{self.name}: expected shape {(len(texts), self.dim)}, got {out.shape}")
        return out
