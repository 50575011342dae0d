"""Write a fastText ``.bin`` model file from given matrices, without training.

Training even a tiny model with ``fasttext.train_unsupervised`` fails at random on a loaded
machine (fastText 0.9.2 aborts with "Encountered NaN"), so the tests write a model in fastText's
own binary format (version 12, as ``FastText::saveModel`` writes it) and load it with
``fasttext.load_model``: the loader, the dictionary and the subword hashing are fastText's.

Layout (little-endian): int32 magic 793712314, int32 version 12; the arguments (int32 dim, ws,
epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate; float64 t);
the dictionary (int32 size, nwords, nlabels; int64 ntokens, pruneidx_size; per entry the
word's UTF-8 bytes, a NUL, int64 count, int8 type); bool quantised input; the input matrix
(int64 rows, int64 cols, float32 values: nwords + bucket rows); bool quantised output; the output
matrix (int64 rows, cols, float32 values: nwords rows).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAGIC, VERSION = 793712314, 12
LOSS_NS, MODEL_SKIPGRAM = 2, 2


def write_fasttext_bin(
    path: Path, words: Sequence[str], dim: int = 16, bucket: int = 2000, minn: int = 3, maxn: int = 6, seed: int = 0
) -> Path:
    """A skipgram ``.bin`` with ``words`` (count 1 each, in order) and standard-normal input rows
    (word and subword buckets) from ``np.random.default_rng(seed)``; returns ``path``."""
    rng = np.random.default_rng(seed)
    words = list(dict.fromkeys(words))
    out = [struct.pack("<ii", MAGIC, VERSION)]
    out.append(struct.pack("<12id", dim, 5, 1, 1, 5, 1, LOSS_NS, MODEL_SKIPGRAM, bucket, minn, maxn, 100, 1e-4))
    out.append(struct.pack("<iiiqq", len(words), len(words), 0, len(words), -1))
    for word in words:
        out.append(word.encode("utf-8") + b"\0" + struct.pack("<qb", 1, 0))
    rows = len(words) + bucket
    out.append(struct.pack("<?qq", False, rows, dim))
    out.append(rng.standard_normal((rows, dim)).astype("<f4").tobytes())
    out.append(struct.pack("<?qq", False, len(words), dim))
    out.append(np.zeros((len(words), dim), dtype="<f4").tobytes())
    path.write_bytes(b"".join(out))
    return path
