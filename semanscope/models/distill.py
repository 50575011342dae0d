"""Distil a static model2vec model from a (converted) sentence-transformers folder, offline.

Each kept tokenizer piece ``t`` gets the transformer's last hidden state(s) at ``t``'s own
position in ``<s> prompt t </s>``, where ``prompt`` is the model's default prompt
(``"query: "`` for e5, from ``config_sentence_transformers.json``; none when it has none):
:func:`prompted_piece_embeddings`. model2vec then reduces the rows with PCA to ``pca_dims`` and
scales each by its SIF weight ``1e-4 / (1e-4 + p(t))`` (``p`` a Zipf prior over the piece's rank);
a text's static embedding is the normalised mean of its pieces' rows.

Why not model2vec's own piece embedding (the mean over ``<s> t </s>``, special tokens included):
for multilingual-e5-small it gives a static model whose languages sit apart (on the built-in FAQ
set, 12 languages: SA 0.284, below the English-only control's 0.358, and P@1 0.176), because e5 is
trained on prompted inputs and two of the three pooled states are the special tokens. The
prompted, piece-only embedding of the same pieces, with the same PCA and SIF steps, gives SA 0.474
and P@1 0.354 there (XQuAD questions: P@1 0.078 -> 0.185; CLDR names: 0.253 -> 0.375).

A full-vocabulary distillation of multilingual-e5-small (250,002 pieces, one short forward pass
each) takes about an hour on 2 shared CPU cores, so by default only :func:`default_vocabulary`
is kept: the ``DEFAULT_TOP_PIECES`` most probable Unigram pieces, every single-character piece (so
any text still segments into known pieces) and every piece of the built-in query sets (about
112,000 pieces: 27 minutes at load average 5). Restriction slices the Unigram vocabulary and the
word-embedding rows to the kept ids before distilling; kept pieces keep their scores, so a text
whose full-vocabulary pieces are all kept is segmented exactly as before (the Viterbi optimum is
still available), others into smaller kept pieces.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import ModelUnavailable, Progress
from semanscope.models.build_folder import META_FILE, atomic_folder, write_meta

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

DEFAULT_TOP_PIECES = 100_000
META_SPACE = "\u2581"


def _tokenizer_json(st_dir: Path) -> dict:
    path = st_dir / "tokenizer.json"
    if not path.is_file():
        raise ModelUnavailable(f"{st_dir} has no tokenizer.json; is it a sentence-transformers folder?")
    return json.loads(path.read_text(encoding="utf-8"))


def tokenizer_pieces(st_dir: str | Path) -> list[str]:
    """All pieces of the folder's Unigram tokenizer, in id order (pass as ``vocabulary`` for a full distil)."""
    return [piece for piece, _ in _unigram(_tokenizer_json(Path(st_dir)))["vocab"]]


def select_default_pieces(vocab: Sequence[tuple[str, float]], n_top: int = DEFAULT_TOP_PIECES) -> list[str]:
    """The ``n_top`` highest-scoring (most probable) pieces of a Unigram ``[(piece, score)]`` vocabulary
    plus every single-character piece (one character, optionally after ``▁``), in vocabulary order."""
    scores = np.array([s for _, s in vocab], dtype=np.float64)
    top = set(np.argsort(-scores, kind="stable")[:n_top].tolist())
    return [piece for i, (piece, _) in enumerate(vocab) if i in top or len(piece.removeprefix(META_SPACE)) == 1]


def builtin_texts() -> list[str]:
    """Every text of the installed built-in query sets (``semanscope/data/builtin``)."""
    from semanscope.data.builtin import list_builtin, load_builtin

    return [t for name in list_builtin() for t in load_builtin(name).items().texts]


def default_vocabulary(st_dir: str | Path, n_top: int = DEFAULT_TOP_PIECES) -> list[str]:
    """What ``distill_static`` keeps by default: :func:`select_default_pieces` of the folder's
    tokenizer plus the pieces of :func:`builtin_texts` (first the former, in id order)."""
    return _default_pieces(Path(st_dir), _unigram(_tokenizer_json(Path(st_dir)))["vocab"], n_top)


def _default_pieces(st_dir: Path, vocab: Sequence[tuple[str, float]], n_top: int) -> list[str]:
    return list(dict.fromkeys(select_default_pieces(vocab, n_top) + pieces_for_texts(st_dir, builtin_texts())))


def pieces_for_texts(st_dir: str | Path, texts: Sequence[str]) -> list[str]:
    """Distinct pieces (first-seen order) the folder's tokenizer produces for ``texts``."""
    from tokenizers import Tokenizer

    path = Path(st_dir) / "tokenizer.json"
    if not path.is_file():
        raise ModelUnavailable(f"{st_dir} has no tokenizer.json; is it a sentence-transformers folder?")
    tok = Tokenizer.from_file(str(path))
    seen: dict[str, None] = {}
    for enc in tok.encode_batch(list(texts), add_special_tokens=False):
        for piece in enc.tokens:
            seen.setdefault(piece, None)
    return list(seen)


def _unigram(tok_json: dict) -> dict:
    model = tok_json.get("model") or {}
    if model.get("type") != "Unigram":
        raise ValueError(f"vocabulary restriction needs a Unigram tokenizer, this one is {model.get('type')!r}")
    return model


def restrict_unigram(tok_json: dict, keep: Sequence[str]) -> tuple[dict, list[int]]:
    """Tokenizer JSON keeping only ``keep`` (+ unk and added/special tokens) and the kept old ids.

    New id ``k`` is old id ``kept[k]`` (ids stay in their original order); ``unk_id``, added
    tokens, the TemplateProcessing special tokens and padding are renumbered.
    """
    model = _unigram(tok_json)
    index = {piece: i for i, (piece, _) in enumerate(model["vocab"])}
    unknown = [p for p in keep if p not in index]
    if unknown:
        raise ValueError(f"{len(unknown)} vocabulary entries are not tokenizer pieces, e.g. {unknown[:5]}")
    kept_ids = {index[p] for p in keep} | {a["id"] for a in tok_json.get("added_tokens", [])}
    if model.get("unk_id") is not None:
        kept_ids.add(model["unk_id"])
    kept = sorted(kept_ids)
    remap = {old: new for new, old in enumerate(kept)}

    out = json.loads(json.dumps(tok_json))
    out["model"]["vocab"] = [model["vocab"][i] for i in kept]
    if model.get("unk_id") is not None:
        out["model"]["unk_id"] = remap[model["unk_id"]]
    for added in out.get("added_tokens", []):
        added["id"] = remap[added["id"]]
    post = out.get("post_processor")
    if post is not None:
        if post.get("type") != "TemplateProcessing":
            raise ValueError(f"cannot renumber a {post.get('type')} post-processor")
        for special in post["special_tokens"].values():
            special["ids"] = [remap[i] for i in special["ids"]]
    if out.get("padding"):
        out["padding"]["pad_id"] = remap[out["padding"]["pad_id"]]
    return out, kept


def _load_restricted(
    st_dir: Path, tok_json: dict, keep: Sequence[str]
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """HF encoder + fast tokenizer of the folder (tokenizer JSON ``tok_json``), cut to ``keep``."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel, PreTrainedTokenizerFast

    tok_json, kept = restrict_unigram(tok_json, keep)
    cfg_path = st_dir / "tokenizer_config.json"
    tok_cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}
    specials = {k: v for k, v in tok_cfg.items() if k.endswith("_token") and isinstance(v, str)}
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(tok_json)), **specials)

    st_cfg_path = st_dir / "sentence_bert_config.json"
    st_cfg = json.loads(st_cfg_path.read_text(encoding="utf-8")) if st_cfg_path.is_file() else {}
    model_args = st_cfg.get("model_args") or st_cfg.get("model_kwargs") or {}
    try:
        model = AutoModel.from_pretrained(str(st_dir), local_files_only=True, **model_args)
    except OSError as exc:
        raise ModelUnavailable(f"cannot load a transformer model from {st_dir}: {exc}") from exc
    old = model.get_input_embeddings().weight.data
    model.set_input_embeddings(torch.nn.Embedding.from_pretrained(old[kept].clone(), freeze=True))
    model.config.vocab_size = len(kept)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer


def default_prompt(st_dir: Path) -> str:
    """The folder's default sentence-transformers prompt (``prompts[default_prompt_name]``), else ``""``."""
    path = st_dir / "config_sentence_transformers.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    prompts = cfg.get("prompts") or {}
    name = cfg.get("default_prompt_name")
    return str(prompts.get(name, "")) if isinstance(prompts, dict) and name else ""


def prompted_piece_embeddings(
    model: PreTrainedModel,
    tokenized: Sequence[Sequence[int]],
    *,
    prompt_ids: Sequence[int],
    pad_token_id: int,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> np.ndarray:
    """(n, hidden) float32: row k = mean of the last hidden states at the piece positions of
    ``<s> prompt piece </s>``, where ``tokenized[k] = [<s>, piece ids..., </s>]`` (model2vec's form).

    Sequences are run in batches of similar length (padded, attention-masked) on CPU;
    ``progress(done, n)`` after each batch.
    """
    import torch

    prompt = list(prompt_ids)
    order = np.argsort([len(seq) for seq in tokenized], kind="stable")
    out = np.empty((len(tokenized), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            seqs = [[tokenized[k][0], *prompt, *tokenized[k][1:]] for k in rows]
            width = max(len(seq) for seq in seqs)
            ids = torch.full((len(seqs), width), pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            pieces = torch.zeros((len(seqs), width), dtype=torch.float32)
            for r, seq in enumerate(seqs):
                ids[r, : len(seq)] = torch.tensor(seq)
                mask[r, : len(seq)] = 1
                pieces[r, 1 + len(prompt) : len(seq) - 1] = 1.0  # between the prompt and </s>
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = (hidden * pieces[:, :, None]).sum(1) / pieces.sum(1, keepdim=True)
            out[rows] = pooled.float().numpy()
            if progress is not None:
                progress(min(start + batch_size, len(order)), len(order))
    return out


def distill_static(
    st_dir: str | Path,
    out_dir: str | Path,
    vocabulary: Sequence[str] | None = None,
    pca_dims: int | None = 256,
    progress: Progress | None = None,
) -> Path:
    """Distil ``st_dir`` into a model2vec folder ``out_dir`` (``StaticModel.from_pretrained(out_dir)``).

    ``vocabulary``: tokenizer pieces to keep (:func:`tokenizer_pieces` = all, :func:`pieces_for_texts`
    for the pieces of a word list); ``None`` uses :func:`default_vocabulary`. ``pca_dims=None`` keeps
    the model's dimension without PCA. Runs on CPU with local files only; writes ``<out_dir>.partial``
    then renames it. ``semanscope_meta.json`` records the source model, vocabulary choice and size,
    PCA dims, model2vec version and seconds taken.
    ``progress(done, n_pieces + 2)``: 1 after loading, then per batch of embedded pieces, the last after saving.
    """
    from unittest import mock

    import model2vec
    from model2vec.distill import distill_from_model, distillation

    st_dir, out_dir = Path(st_dir), Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists; remove it first to rebuild")
    if not st_dir.is_dir():
        raise ModelUnavailable(f"sentence-transformers folder not found: {st_dir}")
    t0 = time.perf_counter()
    tok_json = _tokenizer_json(st_dir)
    source_vocab = _unigram(tok_json)["vocab"]
    if vocabulary is None:
        keep = _default_pieces(st_dir, source_vocab, DEFAULT_TOP_PIECES)
        choice = (
            f"default: the {DEFAULT_TOP_PIECES} most probable Unigram pieces + all single-character pieces + "
            "all pieces of the built-in query sets (a full-vocabulary distil takes about an hour on 2 cores)"
        )
    else:
        keep = list(dict.fromkeys(vocabulary))
        choice = "given pieces"
    prompt = default_prompt(st_dir)
    if prompt.strip():  # the prompt's own pieces, so the restricted tokenizer splits it as the model does
        keep = list(dict.fromkeys([*keep, *pieces_for_texts(st_dir, [prompt.rstrip()])]))
    model, tokenizer = _load_restricted(st_dir, tok_json, keep)
    # "query: " ends in a space that the next piece's "▁" stands for: tokenise the prompt without it
    prompt_ids = tokenizer(prompt.rstrip(), add_special_tokens=False)["input_ids"] if prompt.strip() else []
    steps = len(tokenizer) + 2
    if progress:
        progress(1, steps)

    def embed_pieces(
        model: PreTrainedModel, tokenized: list[list[int]], device: str, pad_token_id: int, **_: object
    ) -> np.ndarray:
        report = (lambda done, total: progress(1 + done, steps)) if progress else None
        return prompted_piece_embeddings(
            model, tokenized, prompt_ids=prompt_ids, pad_token_id=pad_token_id, progress=report
        )

    # model2vec's vocabulary, PCA, SIF and packaging, with the piece embedding step replaced (module docstring)
    with mock.patch.object(distillation, "create_embeddings", embed_pieces):
        static = distill_from_model(model, tokenizer, device="cpu", pca_dims=pca_dims)
    with atomic_folder(out_dir) as tmp:
        static.save_pretrained(str(tmp))
        source_meta = st_dir / META_FILE
        meta = {
            "built_by": "semanscope.models.distill.distill_static (model2vec.distill.distill_from_model, "
            "piece embeddings by semanscope.models.distill.prompted_piece_embeddings)",
            "prompt": prompt,
            "source_model": str(st_dir.resolve()),
            "source_meta": json.loads(source_meta.read_text(encoding="utf-8")) if source_meta.is_file() else None,
            "vocabulary": choice,
            "vocab_size": int(static.embedding.shape[0]),
            "source_vocab_size": len(source_vocab),
            "pca_dims": pca_dims,
            "dim": int(static.embedding.shape[1]),
            "model2vec_version": model2vec.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        write_meta(tmp, meta)
    if progress:
        progress(steps, steps)
    return out_dir
