"""Build ``e5-small-int8``: a sentence-transformers encoder folder (``e5-small-st``) exported to
ONNX and quantised to int8, run by :class:`~semanscope.models.onnx_encoder.OnnxEmbedder`.

1. :func:`export_onnx`: the folder's transformer (``AutoModel``, float32) -> ``model.fp32.onnx``
   with ``torch.onnx.export`` (TorchScript exporter, opset 17; dynamic batch and token axes).
2. :func:`quantize_int8`: ONNX Runtime dynamic quantisation of the ``MatMul`` weights, int8 per
   output channel (``per_channel=True``, ``QInt8``), except the feed-forward output MatMuls of the
   layers in :data:`FP32_FFN_OUTPUT_LAYERS` (:func:`ffn_output_matmuls`), which stay float32; the
   embedding tables, LayerNorms and biases stay float32, activations are quantised per batch at
   run time (uint8, one scale per tensor).
3. :func:`cosines`: per-text cosine between the int8 model and the float32 folder (both with
   the ``query: `` prompt) on the verification texts (:func:`verification_texts`: the built-in
   FAQ set and the XQuAD questions when present), encoded in length-sorted batches; mean and min
   go into ``semanscope_meta.json`` with ``passed``: mean >= ``min_mean`` and min >= ``min_cosine``
   (the bar for being the default contextual model, :func:`semanscope.models.registry.default_comparison`;
   the model is kept either way).

Why those two layers: the input of a feed-forward output MatMul (after GELU) has a few large
outlier values, so one per-tensor activation scale leaves the rest of the tensor few levels.
Measured on multilingual-e5-small over the FAQ set + XQuAD (17,796 texts): every MatMul int8,
cosine mean 0.9961, min 0.9839. On the 300 worst of those texts, keeping one layer's FFN output
MatMul float32 lifts their mean cosine (0.9941) by 0.0029 for layer 4, 0.0006 for layer 0 and
< 0.0005 for any other; with layers 0 and 4 float32 (2 of 72 MatMuls, ~6% of their multiply-adds)
all 17,796: mean 0.9981, min 0.9928 to 0.9941 (the activation scales are per batch, so the min
moves with how texts fall into batches), at the all-int8 speed within the noise. All 12 FFN output
MatMuls float32 (a third of the multiply-adds) gave min 0.9965 on the 300; ``reduce_range``, QUInt8
weights, float32 Q/K/V, attention-output or FFN input MatMuls left it between 0.986 and 0.990.
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
from semanscope.models.build_folder import META_FILE, atomic_folder, read_meta, write_json, write_meta
from semanscope.models.fingerprint import file_digest, package_version
from semanscope.models.onnx_encoder import OnnxEmbedder
from semanscope.models.sentence_transformer import STEmbedder
from semanscope.paths import XQUAD_DEFAULT
from semanscope.progress import Progress, span

MIN_MEAN_COSINE = 0.995
MIN_COSINE = 0.99
OPSET = 17
FP32_FFN_OUTPUT_LAYERS = (0, 4)
"""Layers whose feed-forward output MatMul stays float32 (see the module docstring)."""


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


def ffn_output_matmuls(onnx_path: Path, layers: Sequence[int]) -> list[str]:
    """Names of the feed-forward output MatMuls (``/model/encoder/layer.<i>/output/dense/MatMul``,
    as :func:`export_onnx` names them) of ``layers`` in ONNX file ``onnx_path``; QuantizationError
    when one is missing (another architecture or exporter)."""
    import onnx

    names = [f"/model/encoder/layer.{i}/output/dense/MatMul" for i in layers]
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    present = {n.name for n in graph.node if n.op_type == "MatMul"}
    missing = [n for n in names if n not in present]
    if missing:
        raise QuantizationError(f"{onnx_path.name} has no MatMul node {', '.join(missing)}")
    return names


def quantize_int8(fp32: Path, int8: Path, keep_fp32: Sequence[str] = ()) -> None:
    """Dynamic int8 quantisation of the ``MatMul`` weights of ``fp32`` (per channel) -> ``int8``;
    the MatMul nodes named in ``keep_fp32`` stay float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(int8),
        per_channel=True,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=list(keep_fp32),
    )


def cosines(a: Embedder, b: Embedder, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
    """Per-text cosine ``<x_i, y_i> / (||x_i|| ||y_i||)`` (float64 (n,), input order) between the
    vectors ``x`` of ``a`` and ``y`` of ``b``. Both encode the texts sorted by length (characters),
    so a batch pads to a similar length; ``progress(done, 2n)`` counts the texts of ``a`` then ``b``."""
    texts = list(texts)
    order = np.argsort(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), kind="stable")
    ordered = [texts[i] for i in order]
    n = len(texts)
    x = a.encode(ordered, progress=span(progress, 0, n, 2 * n))
    y = b.encode(ordered, progress=span(progress, n, n, 2 * n))
    cos = np.empty(n, dtype=np.float64)
    cos[order] = np.einsum("ij,ij->i", x, y, dtype=np.float64) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    return cos


def build_e5_int8(
    st_dir: str | Path,
    out_dir: str | Path,
    texts: Sequence[str] | None = None,
    progress: Progress | None = None,
    min_mean: float = MIN_MEAN_COSINE,
    min_cosine: float = MIN_COSINE,
    fp32_layers: Sequence[int] | None = None,
) -> Path:
    """Build the int8 ONNX encoder of sentence-transformers folder ``st_dir`` (Transformer, mean
    Pooling, Normalize; ``query`` prompt) into ``out_dir``, verified on ``texts`` (default
    :func:`verification_texts`); the FFN output MatMuls of ``fp32_layers`` (default
    :data:`FP32_FFN_OUTPUT_LAYERS`) stay float32.

    Writes into a temporary sibling folder and renames it into place, so ``out_dir`` is either
    absent or complete. ``progress(done, 2 n + 3)`` for n texts: 1 after the export, 2 after the
    quantisation, then one unit per text encoded by the reference and by the int8 model
    (:func:`cosines`), the total once saved.
    """
    st_dir, out_dir = Path(st_dir), Path(out_dir)
    if out_dir.exists():
        raise QuantizationError(f"{out_dir} already exists; remove it first to rebuild")
    texts = verification_texts() if texts is None else list(texts)
    if not texts:
        raise ValueError("build_e5_int8 needs at least one verification text")
    layers = list(FP32_FFN_OUTPUT_LAYERS if fp32_layers is None else fp32_layers)
    reference = STEmbedder(st_dir, prompt_name="query")
    if reference.max_tokens is None:
        raise QuantizationError(f"{st_dir} names no max_seq_length")
    source = transformer_folder(st_dir)
    total, t0 = 2 * len(texts) + 3, time.perf_counter()
    with atomic_folder(out_dir) as tmp:
        fp32 = tmp / "model.fp32.onnx"
        export_onnx(st_dir, fp32)
        if progress:
            progress(1, total)
        keep_fp32 = ffn_output_matmuls(fp32, layers)
        quantize_int8(fp32, tmp / "model.onnx", keep_fp32)
        fp32.unlink()
        shutil.copyfile(source / "tokenizer.json", tmp / "tokenizer.json")
        prompt = reference.prompt
        config = {"prompt": prompt, "max_tokens": reference.max_tokens, "dim": reference.dim}
        write_json(tmp / "encoder_config.json", config)
        if progress:
            progress(2, total)
        t_verify = time.perf_counter()
        cos = cosines(reference, OnnxEmbedder(tmp), texts, span(progress, 2, total - 3, total))
        passed = bool(cos.mean() >= min_mean and cos.min() >= min_cosine)
        meta = {
            "built_by": "semanscope.models.quantize_e5.build_e5_int8",
            "method": (
                f"torch.onnx.export (TorchScript, opset {OPSET}) of the float32 transformer, then onnxruntime "
                "quantize_dynamic: MatMul weights int8 per channel (QInt8) except the FFN output MatMuls of "
                f"layers {', '.join(map(str, layers))} (float32), embeddings float32; mean pooling + "
                "L2 normalisation in numpy"
            ),
            "recipe": {
                "quantize_dynamic": {"op_types_to_quantize": ["MatMul"], "per_channel": True, "weight_type": "QInt8"},
                "float32_ffn_output_layers": layers,
                "nodes_to_exclude": keep_fp32,
            },
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
                "seconds": round(time.perf_counter() - t_verify, 1),
                "mean_cosine": float(cos.mean()),
                "min_cosine": float(cos.min()),
                "thresholds": {"mean": min_mean, "min": min_cosine},
                "passed": passed,
            },
        }
        write_meta(tmp, meta)
    if progress:
        progress(total, total)
    return out_dir


def stale_reason(folder: Path) -> str | None:
    """Why the model built in ``folder`` is not this version's recipe (the layers whose FFN output
    MatMul stayed float32 differ from :data:`FP32_FFN_OUTPUT_LAYERS`, e.g. a build from before
    they were kept), or None when it is."""
    try:
        meta = read_meta(folder)
    except (OSError, ValueError) as exc:
        return f"its {META_FILE} is unreadable ({type(exc).__name__})"
    recipe = meta.get("recipe") if isinstance(meta, dict) else None
    layers = recipe.get("float32_ffn_output_layers") if isinstance(recipe, dict) else None
    if layers != list(FP32_FFN_OUTPUT_LAYERS):
        built = ", ".join(map(str, layers)) if isinstance(layers, list) and layers else "none"
        now = ", ".join(map(str, FP32_FFN_OUTPUT_LAYERS))
        return f"it was built with float32 FFN output MatMuls in layers {built}; this version keeps layers {now}"
    return None


def verification_summary(folder: Path) -> str:
    """One line on the verification recorded in ``folder``'s ``semanscope_meta.json``, e.g.
    ``verified on 17796 texts in 250 s: cosine to e5-small-st mean 0.99814, min 0.99283 (passed)``."""
    v = read_meta(folder)["verification"]
    verdict = (
        "passed" if v["passed"] else f"below the bar mean >= {v['thresholds']['mean']}, min >= {v['thresholds']['min']}"
    )
    return (
        f"verified on {v['n_texts']} texts in {v['seconds']:.0f} s: cosine to {v['reference'].split()[0]} "
        f"mean {v['mean_cosine']:.5f}, min {v['min_cosine']:.5f} ({verdict})"
    )
