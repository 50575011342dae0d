"""Cache values: a fixed 24-byte header + the array's raw little-endian bytes; never pickle.

Header (``struct`` ``<4s3sBII8s``): magic ``SNA1``, dtype (``<f4`` or ``<f8``), ndim (1 or 2),
shape (two uint32; the second is 0 for a vector), checksum. The checksum is blake2b-64 of
``key`` (UTF-8) + ``\\0`` + the first 16 header bytes + the payload, so a flipped bit anywhere,
a truncated or padded value, or an intact value moved under another key is detected.
:func:`unpack_array` checks type, length, header and checksum *before* ``np.frombuffer`` and
returns ``None`` for anything else. The checksum guards against damage, not against a forger:
a cache folder from elsewhere can hold wrong numbers, but it cannot run code.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping
from typing import TypeGuard

import numpy as np

MAGIC = b"SNA1"
DTYPES = (np.dtype("<f4"), np.dtype("<f8"))
HEADER = struct.Struct("<4s3sBII8s")  # magic, dtype, ndim, shape[0], shape[1], checksum
_CHECKED = HEADER.size - 8  # header bytes covered by the checksum


def _checksum(key: str, head: bytes | memoryview, payload: bytes | memoryview) -> bytes:
    h = hashlib.blake2b(key.encode("utf-8", "surrogatepass") + b"\0" + head, digest_size=8)
    h.update(payload)
    return h.digest()


def _head(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The checksummed first 16 header bytes of an array of ``dtype`` and ``shape`` (ndim 1 or 2)."""
    padded = (*shape, 0) if len(shape) == 1 else shape
    return HEADER.pack(MAGIC, dtype.str.encode("ascii"), len(shape), *padded, b"")[:_CHECKED]


def _intact(blob: object, key: str, head: bytes, size: int) -> TypeGuard[bytes]:
    """``blob`` is ``size`` bytes starting with ``head`` and its checksum matches ``key``."""
    if not isinstance(blob, bytes) or len(blob) != size or not blob.startswith(head):
        return False
    return _checksum(key, head, memoryview(blob)[HEADER.size :]) == blob[_CHECKED : HEADER.size]


def packed_size(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    """Bytes of the packed value of an array of ``dtype`` and ``shape``: 24 + itemsize * prod(shape)."""
    return HEADER.size + dtype.itemsize * math.prod(shape)


def pack_array(key: str, array: np.ndarray, dtype: np.dtype) -> bytes:
    """Serialise a 1-D or 2-D ``array`` as ``dtype`` (one of :data:`DTYPES`) for ``key``."""
    dtype = np.dtype(dtype)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {[d.str for d in DTYPES]}, got {dtype.str}")
    arr = np.ascontiguousarray(array, dtype=dtype)
    if arr.ndim not in (1, 2):
        raise ValueError(f"expected a 1-D or 2-D array, got shape {arr.shape}")
    head = _head(dtype, arr.shape)
    payload = arr.tobytes()
    return head + _checksum(key, head, payload) + payload


def unpack_array(
    key: str, blob: object, dtype: np.dtype, ndim: int, shape: tuple[int, ...] | None = None
) -> np.ndarray | None:
    """Inverse of :func:`pack_array`: a read-only array over ``blob``, or ``None`` unless ``blob``
    is an intact value of ``key`` with this ``dtype``, ``ndim`` and (when given) ``shape``."""
    if shape is None:
        if not isinstance(blob, bytes) or len(blob) < HEADER.size:
            return None
        _, _, stored_ndim, rows, cols, _ = HEADER.unpack_from(blob)
        shape = (rows,) if stored_ndim == 1 else (rows, cols)
    if len(shape) != ndim or not _intact(blob, key, _head(dtype, shape), packed_size(dtype, shape)):
        return None
    return np.frombuffer(blob, dtype=dtype, offset=HEADER.size).reshape(shape)


def unpack_rows(
    blobs: Mapping[str, object], dtype: np.dtype, shape: tuple[int, ...]
) -> tuple[list[str], np.ndarray, list[str]]:
    """Many values of one known ``shape`` at once (the embedding cache's lookups) ->
    (keys of the intact values, their arrays stacked into (k, *shape), keys of all others)."""
    head, size = _head(dtype, shape), packed_size(dtype, shape)
    good: list[str] = []
    damaged: list[str] = []
    payloads = []
    for key, blob in blobs.items():
        if _intact(blob, key, head, size):
            good.append(key)
            payloads.append(memoryview(blob)[HEADER.size :])
        else:
            damaged.append(key)
    return good, np.frombuffer(b"".join(payloads), dtype=dtype).reshape(len(good), *shape), damaged
