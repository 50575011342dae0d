"""Build ``e5-small-int8``: a sentence-transformers encoder folder (``e5-small-st``) exported to
ONNX and quantised to int8, run by :class:`~semanscope.models.onnx_encoder.OnnxEmbedder`.

1. :func:`export_onnx`: the folder's transformer (``AutoModel``, float32) -> ``model.fp32.onnx``
   with ``torch.onnx.export`` (TorchScript exporter, opset 17; dynamic batch and token axes).
2. :func:`quantize_int8`: ONNX Runtime dynamic quantisation of the ``MatMul`` weights only, int8
   per output channel (``per_channel=True``, ``QInt8``); the embedding tables, LayerNorms and
   biases stay float32, activations are quantised per batch at run time.
3. :func:`cosines`: per-text cosine between the int8 model and the float32 folder (both with
   the ``query: `` prompt) on the verification texts (:func:`verification_texts`: the built-in
   FAQ set and the XQuAD questions when present); mean and min go into ``semanscope_meta.json``
   with ``passed``: mean >= ``min_mean`` and min >= ``min_cosine`` (the bar for replacing
   ``e5-small-nano`` as the default contextual model; the model is kept either way).
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semanscope.models.base import Embedder
from semanscope.models.build_folder import atomic_folder, write_json, write_meta
from semanscope.models.fingerprint import file_digest, package_version
from semanscope.models.onnx_encoder import OnnxEmbedder
from semanscope.models.sentence_transformer import STEmbedder
from semanscope.paths import XQUAD_DEFAULT
from semanscope.progress import Progress

MIN_MEAN_COSINE = 0.995
MIN_COSINE = 0.99
OPSET = 17


class QuantizationError(RuntimeError):
    """The folder cannot be exported (not a Transformer first module) or the output exists."""


def verification_texts(xquad: Path | None = XQUAD_DEFAULT) -> list[str]:
    """Unique texts of the built-in FAQ set, then of every language column of the XQuAD
    questions CSV (``id`` column excluded) when the file exists."""
    from semanscope.data.builtin import load_builtin

    texts = list(load_builtin("faq").items().texts)
    if xquad is not None and xquad.is_file():
        with open(xquad, encoding="utf-8", newline="") as fh:
            texts += [t for row in csv.DictReader(fh) for k, t in row.items() if k != "id" and t]
    return list(dict.fromkeys(texts))


def transformer_folder(st_dir: Path) -> Path:
    """Folder of the first module of sentence-transformers folder ``st_dir``, which must be a Transformer."""
    modules = json.loads((st_dir / "modules.json").read_text(encoding="utf-8"))
    if not modules or not str(modules[0].get("type", "")).endswith(".Transformer"):
        raise QuantizationError(f"{st_dir}: the first module is not a Transformer")
    return st_dir / modules[0]["path"]


def export_onnx(st_dir: Path, path: Path) -> None:
    """The transformer of sentence-transformers folder ``st_dir`` -> ONNX file ``path``
    (inputs ``input_ids``, ``attention_mask``; output ``last_hidden_state``)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(transformer_folder(st_dir), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones((2, 8), dtype=torch.int64), torch.ones((2, 8), dtype=torch.int64))
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Hidden(),
            example,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET,
            dynamo=False,
        )


def quantize_int8(fp32: Path, int8: Path) -> None:
    """Dynamic int8 quantisation of the ``MatMul`` weights of ``fp32`` (per channel) -> ``int8``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"]
    )


def cosines(a: Embedder, b: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Per-text cosine (float64 (n,)) between the vectors of ``a`` and ``b``."""
    x, y = a.encode(list(texts)), b.encode(list(texts))
    return np.einsum("ij,ij->i", x, y, dtype=np.float64) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))


def build_e5_int8(
    st_dir: str | Path,
    out_dir: str | Path,
    texts: Sequence[str] | None = None,
    progress: Progress | None = None,
    min_mean: float = MIN_MEAN_COSINE,
    min_cosine: float = MIN_COSINE,
) -> Path:
    """Build the int8 ONNX encoder of sentence-transformers folder ``st_dir`` (Transformer, mean
    Pooling, Normalize; ``query`` prompt) into ``out_dir``, verified on ``texts`` (default
    :func:`verification_texts`).

    Writes into a temporary sibling folder and renames it into place, so ``out_dir`` is either
    absent or complete. ``progress(done, 4)`` after: export, quantise, verify, save.
    """
    st_dir, out_dir = Path(st_dir), Path(out_dir)
    if out_dir.exists():
        raise QuantizationError(f"{out_dir} already exists; remove it first to rebuild")
    texts = verification_texts() if texts is None else list(texts)
    if not texts:
        raise ValueError("build_e5_int8 needs at least one verification text")
    reference = STEmbedder(st_dir, prompt_name="query")
    if reference.max_tokens is None:
        raise QuantizationError(f"{st_dir} names no max_seq_length")
    source = transformer_folder(st_dir)
    steps, t0 = 4, time.perf_counter()
    with atomic_folder(out_dir) as tmp:
        fp32 = tmp / "model.fp32.onnx"
        export_onnx(st_dir, fp32)
        if progress:
            progress(1, steps)
        quantize_int8(fp32, tmp / "model.onnx")
        fp32.unlink()
        shutil.copyfile(source / "tokenizer.json", tmp / "tokenizer.json")
        prompt = reference.prompt
        config = {"prompt": prompt, "max_tokens": reference.max_tokens, "dim": reference.dim}
        write_json(tmp / "encoder_config.json", config)
        if progress:
            progress(2, steps)
        cos = cosines(reference, OnnxEmbedder(tmp), texts)
        if progress:
            progress(3, steps)
        passed = bool(cos.mean() >= min_mean and cos.min() >= min_cosine)
        meta = {
            "built_by": "semanscope.models.quantize_e5.build_e5_int8",
            "method": (
                f"torch.onnx.export (TorchScript, opset {OPSET}) of the float32 transformer, then onnxruntime "
                "quantize_dynamic: MatMul weights int8 per channel (QInt8), embeddings float32; mean pooling + "
                "L2 normalisation in numpy"
            ),
            "source": st_dir.name,
            "source_sha256": file_digest(source / "model.safetensors"),
            "versions": {p: package_version(p) for p in ("torch", "onnx", "onnxruntime", "transformers")},
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - t0, 1),
            "verification": {
                "reference": f"{st_dir.name} (sentence-transformers, float32 torch)",
                "texts": "built-in FAQ set + XQuAD questions (when present), unique",
                "prompt": prompt,
                "n_texts": int(cos.size),
                "mean_cosine": float(cos.mean()),
                "min_cosine": float(cos.min()),
                "thresholds": {"mean": min_mean, "min": min_cosine},
                "passed": passed,
            },
        }
        write_meta(tmp, meta)
    if progress:
        progress(steps, steps)
    return out_dir
