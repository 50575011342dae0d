"""A transformer encoder exported to ONNX, run by ONNX Runtime, behind :class:`Embedder`.

The folder holds ``model.onnx`` (inputs ``input_ids``, ``attention_mask`` (int64 (batch,
tokens)); output ``last_hidden_state`` (batch, tokens, dim)), the model's ``tokenizer.json`` and
``encoder_config.json`` (``prompt``, ``max_tokens``, ``dim``). The vector of a text
is that of a sentence-transformers Transformer -> mean Pooling -> Normalize model::

    h = last_hidden_state(tokens(prompt + text)[:max_tokens])      # special tokens included
    v(text) = m / ||m||,  m = mean of h over the text's tokens (padding excluded)

A request is tokenised once, its texts sorted by token count (all of them, not per batch) and
run in batches of ``batch_size`` padded to their longest text, so little work goes to padding.
The session (``threads`` intra-op threads) is created on the first encode; a truncation check
reads only the tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import Embedder, ModelUnavailable, Progress
from semanscope.models.fingerprint import folder_digests, make_fingerprint, package_version
from semanscope.models.truncate import prompted_over_limit

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

ENCODER_FILES = ("model.onnx", "tokenizer.json", "encoder_config.json")
SPECIAL_TOKENS = 8  # margin for the special tokens the tokenizer adds (<s> </s>)


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``m_i / ||m_i||`` with ``m_i = sum_t mask[i, t] * hidden[i, t] / sum_t mask[i, t]``:
    (n, tokens, d) hidden states and (n, tokens) 0/1 mask -> float32 (n, d) unit rows."""
    weights = mask.astype(np.float32)[:, :, None]
    mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class OnnxEmbedder(Embedder):
    """An ONNX encoder folder (see the module docstring) with ``threads`` intra-op threads.

    ``fingerprint`` hashes the onnxruntime version, the digests of the folder's files (build
    record excluded) and the prompt and token limit.
    """

    family = "contextual"
    max_tokens: int

    def __init__(self, folder: str | Path, name: str | None = None, threads: int = 2) -> None:
        folder = Path(folder).expanduser()
        missing = [f for f in ENCODER_FILES if not (folder / f).is_file()]
        if missing:
            raise ModelUnavailable(f"{folder} is not an ONNX encoder folder: missing {', '.join(missing)}")
        config = json.loads((folder / "encoder_config.json").read_text(encoding="utf-8"))
        self.folder, self.threads = folder, threads
        self.name = name or folder.name
        self.prompt = str(config["prompt"])
        self.dim = int(config["dim"])
        self.max_tokens = int(config["max_tokens"])
        self._fingerprint = make_fingerprint(
            self.name,
            {
                "package": f"onnxruntime=={package_version('onnxruntime')}",
                "files": folder_digests(folder, skip=("README.md", "semanscope_meta.json")),
                "prompt": self.prompt,
                "max_tokens": self.max_tokens,
            },
        )
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._counter: Tokenizer | None = None

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _read_tokenizer(self, truncate: bool) -> Tokenizer:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.no_padding()
        if truncate:
            tokenizer.enable_truncation(self.max_tokens)
        else:
            tokenizer.no_truncation()
        return tokenizer

    @property
    def session(self) -> onnxruntime.InferenceSession:
        """The ONNX Runtime session (CPU, ``threads`` intra-op threads), created on first use."""
        if self._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(
                str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        return self._session

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens of ``prompt + text`` with special tokens, before truncation (int64 (n,))."""
        if self._counter is None:
            self._counter = self._read_tokenizer(truncate=False)
        encodings = self._counter.encode_batch([self.prompt + t for t in texts], add_special_tokens=True)
        return np.fromiter(map(len, encodings), dtype=np.int64, count=len(texts))

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """True for texts whose ``prompt + text`` exceeds :attr:`max_tokens` tokens
        (:func:`~semanscope.models.truncate.prompted_over_limit`)."""
        return prompted_over_limit(texts, self.prompt, self.max_tokens, self.token_counts, SPECIAL_TOKENS)

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if self._tokenizer is None:
            self._tokenizer = self._read_tokenizer(truncate=True)
        ids = [e.ids for e in self._tokenizer.encode_batch([self.prompt + t for t in texts], add_special_tokens=True)]
        order = np.argsort(np.fromiter(map(len, ids), dtype=np.int64, count=len(ids)), kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(ids[i]) for i in rows)
            input_ids = np.zeros((len(rows), width), dtype=np.int64)  # padding: masked, any id will do
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for k, i in enumerate(rows):
                input_ids[k, : len(ids[i])] = ids[i]
                mask[k, : len(ids[i])] = 1
            (hidden,) = self.session.run(["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask})
            out[rows] = mean_pool(hidden, mask)
            if progress:
                progress(start + len(rows), len(texts))
        return out
