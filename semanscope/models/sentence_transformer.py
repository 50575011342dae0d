"""Any sentence-transformers model (a local folder or a Hugging Face hub name) behind :class:`Embedder`.

Importing this module does not import torch, and neither does creating an :class:`STEmbedder` of a
standard folder (Transformer, Pooling, optional Dense/Normalize modules): its prompt, dimension and
``max_seq_length`` are read from the folder's JSON files (:func:`read_settings`) and the model is
loaded on the first encode, so a run whose texts are all cached never loads it; a truncation check
loads only the folder's ``tokenizer.json``. Other folders are loaded at once.
Hub names are resolved only from the local Hugging Face cache when ``HF_HUB_OFFLINE=1`` (a missing
model raises :class:`ModelUnavailable` saying what to download and where to put it). The model runs
on CPU with ``threads`` torch threads and uses its own prompts (``default_prompt_name`` unless a
``prompt_name`` is given). sentence-transformers truncates every input to the model's
``max_seq_length`` tokens (:attr:`STEmbedder.max_tokens`); :meth:`STEmbedder.truncated` names the
texts that are cut.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import Embedder, Family, ModelUnavailable, Progress
from semanscope.models.fingerprint import folder_digests
from semanscope.models.truncate import prompted_over_limit

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

# files whose bytes define the model: weights, configs, tokenizer vocabularies
_FINGERPRINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".json", ".model", ".txt")
# build records that change on every rebuild without changing the model
_FINGERPRINT_EXCLUDE = ("semanscope_meta.json", "README.md")
SPECIAL_TOKENS = 8  # margin for the special tokens a tokenizer adds ([CLS] [SEP], <s> </s>, ...)


def folder_fingerprint(folder: str | Path) -> str:
    """SHA-256 (first 16 hex) over ``relative path + "\\0" + sha256(bytes)`` of the folder's
    weight/config files (:func:`~semanscope.models.fingerprint.folder_digests`).

    Files: every ``*.safetensors, *.bin, *.pt, *.pth, *.json, *.model, *.txt`` below ``folder``
    (sorted by path), except build records (``semanscope_meta.json``, ``README.md``).
    """
    digests = folder_digests(folder, skip=_FINGERPRINT_EXCLUDE, suffixes=_FINGERPRINT_SUFFIXES)
    if not digests:
        raise ModelUnavailable(f"{folder} contains no model files (weights / config); is it a model folder?")
    h = hashlib.sha256()
    for relative, digest in digests.items():
        h.update(relative.encode() + b"\0")
        h.update(digest.encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Settings:
    """What a sentence-transformers model encodes with: its prompts, default prompt name, output
    dimension, ``max_seq_length`` and the folder of its ``tokenizer.json`` (None: unknown)."""

    prompts: dict[str, str]
    default_prompt_name: str | None
    dim: int | None
    max_seq_length: int | None
    tokenizer_folder: Path | None = None


def _json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


_POOLING_MODES = (
    "pooling_mode_cls_token",
    "pooling_mode_mean_tokens",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


def read_settings(folder: Path) -> Settings | None:
    """:class:`Settings` of a sentence-transformers folder from its JSON files, without loading it;
    None unless its ``modules.json`` is a Transformer (with ``max_seq_length`` in its
    ``sentence_bert_config.json`` and a ``tokenizer.json``), then one Pooling with one mode
    (dim = ``word_embedding_dimension``), Dense (dim = ``out_features``) or Normalize modules."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        first, *rest = modules
        if not str(first["type"]).endswith(".Transformer"):
            return None
        transformer = folder / first["path"]
        max_seq_length = _json(transformer / "sentence_bert_config.json").get("max_seq_length")
        if not isinstance(max_seq_length, int) or not (transformer / "tokenizer.json").is_file():
            return None
        dim = None
        for module in rest:
            kind, path = str(module["type"]).rsplit(".", 1)[-1], folder / module["path"]
            if kind == "Pooling":
                config = _json(path / "config.json")
                if sum(bool(config.get(mode)) for mode in _POOLING_MODES) != 1:
                    return None
                dim = int(config["word_embedding_dimension"])
            elif kind == "Dense":
                dim = int(_json(path / "config.json")["out_features"])
            elif kind != "Normalize":
                return None
        prompts_file = folder / "config_sentence_transformers.json"
        config = _json(prompts_file) if prompts_file.is_file() else {}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    prompts = config.get("prompts") or {}
    if dim is None or not isinstance(prompts, dict):
        return None
    return Settings(
        {str(k): str(v) for k, v in prompts.items()},
        config.get("default_prompt_name") or None,
        dim,
        max_seq_length,
        transformer,
    )


def _model_settings(model: SentenceTransformer) -> Settings:
    """:class:`Settings` of a loaded model."""
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = get_dim()
    return Settings(
        {name: prompt or "" for name, prompt in (model.prompts or {}).items()},
        model.default_prompt_name or None,
        None if dim is None else int(dim),
        getattr(model, "max_seq_length", None),
    )


def _looks_like_path(name: str) -> bool:
    """True for strings that cannot be hub ids (``owner/name`` or ``name``) and so name a folder."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name or Path(name).exists()


def resolve_hub_model(name: str, revision: str | None = None) -> tuple[Path, str]:
    """Local snapshot folder and commit hash of hub model ``name`` (downloaded only when online)."""
    from huggingface_hub import constants, snapshot_download

    try:
        path = Path(snapshot_download(name, revision=revision, local_files_only=True))
    except Exception as cached_exc:  # noqa: BLE001 - any failure means "not in the cache"
        cache = constants.HF_HUB_CACHE
        if constants.is_offline_mode():
            raise ModelUnavailable(
                f"sentence-transformers model '{name}' is not in the local Hugging Face cache ({cache}) and "
                f"downloads are disabled (HF_HUB_OFFLINE=1). On a machine with internet run "
                f"`hf download {name}` and copy its cache folder models--{name.replace('/', '--')} into {cache}, "
                f"or save it there with SentenceTransformer('{name}').save('<folder>') and use that folder "
                f"path instead of the name."
            ) from cached_exc
        try:
            path = Path(snapshot_download(name, revision=revision))
        except Exception as exc:  # noqa: BLE001 - network, auth, unknown repo
            raise ModelUnavailable(f"cannot download sentence-transformers model '{name}': {exc}") from exc
    return path, path.name


@lru_cache(maxsize=2)
def _load_model(path: str, fingerprint: str, threads: int) -> SentenceTransformer:
    """SentenceTransformer on CPU from a local folder, shared by embedders of the same weights."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - surface any load failure as "unavailable"
        raise ModelUnavailable(f"cannot load sentence-transformers model from {path}: {exc}") from exc


class STEmbedder(Embedder):
    """A sentence-transformers model as an :class:`Embedder` (CPU, ``threads`` torch threads).

    ``name_or_path`` is a folder (fingerprint ``st-<hash of weights+config>``) or a hub name
    (fingerprint ``hub:<name>@<commit>``); the prompt in use is appended (``...-query``). Texts are
    encoded as ``prompt + text``; output is whatever the model's last module gives (normalised
    when the model ends with ``Normalize``).
    """

    def __init__(
        self,
        name_or_path: str | Path,
        name: str | None = None,
        family: Family = "contextual",
        prompt_name: str | None = None,
        revision: str | None = None,
        threads: int = 2,
    ) -> None:
        source = str(name_or_path)
        folder = Path(source).expanduser()
        if folder.is_dir():
            self.path = folder
            base_fp = f"st-{folder_fingerprint(folder)}"
        elif isinstance(name_or_path, Path) or _looks_like_path(source):
            raise ModelUnavailable(f"sentence-transformers folder not found: {folder}")
        else:
            self.path, commit = resolve_hub_model(source, revision)
            base_fp = f"hub:{source}@{commit}"
        self.name = name or (folder.name if self.path == folder else source)
        self.family = family
        self.threads = threads
        self._base_fingerprint = base_fp
        self._model: SentenceTransformer | None = None
        settings = read_settings(self.path)
        if settings is None:  # a folder this module cannot read without loading it
            self._model = _load_model(str(self.path), base_fp, threads)
            settings = _model_settings(self._model)
        self._settings = settings
        prompts = settings.prompts
        if prompt_name is None:
            prompt_name = settings.default_prompt_name
        elif prompt_name not in prompts:
            raise ValueError(f"{self.name}: unknown prompt {prompt_name!r}; the model defines {sorted(prompts)}")
        self.prompt_name = prompt_name
        self.prompt: str = (prompts.get(prompt_name) or "") if prompt_name else ""
        if settings.dim is None:
            raise ModelUnavailable(f"{self.name}: the model does not report its embedding dimension")
        self.dim = settings.dim
        self.max_tokens = settings.max_seq_length
        self._fingerprint = f"{base_fp}-{prompt_name or 'noprompt'}"
        self._counter: Tokenizer | None = None

    @property
    def model(self) -> SentenceTransformer:
        """The SentenceTransformer, loaded on first use; ModelUnavailable when its prompt in use,
        dimension or ``max_seq_length`` differ from those read from its folder."""
        if self._model is None:
            model = _load_model(str(self.path), self._base_fingerprint, self.threads)
            loaded = _model_settings(model)
            prompt = (loaded.prompts.get(self.prompt_name) or "") if self.prompt_name else ""
            if (prompt, loaded.dim, loaded.max_seq_length) != (self.prompt, self.dim, self.max_tokens):
                raise ModelUnavailable(f"{self.name}: the loaded model does not match its folder's settings")
            self._model = model
        return self._model

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens of ``prompt + text`` with special tokens, before truncation (int64 (n,)).

        Counted with a private fast tokenizer without truncation or padding, read from the
        folder's ``tokenizer.json`` (the model is not loaded) or copied from the loaded model's
        (whose own tokenizer changes its truncation settings on every ``encode`` and is shared by
        the threads of the app).
        """
        inputs = [self.prompt + t for t in texts]
        if self._counter is None:
            from tokenizers import Tokenizer

            folder = self._settings.tokenizer_folder
            if folder is not None:
                counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
            else:
                tokenizer = self.model.tokenizer
                backend = getattr(tokenizer, "backend_tokenizer", None)
                if backend is None:  # a slow (pure Python) tokenizer keeps no such settings
                    ids = tokenizer(inputs, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
                    return np.fromiter(map(len, ids), dtype=np.int64, count=len(inputs))
                counter = Tokenizer.from_str(backend.to_str())
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        encodings = self._counter.encode_batch(inputs, add_special_tokens=True)
        return np.fromiter(map(len, encodings), dtype=np.int64, count=len(inputs))

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """True for texts whose ``prompt + text`` exceeds ``max_seq_length`` tokens
        (:func:`~semanscope.models.truncate.prompted_over_limit`: short texts are not tokenised)."""
        if self.max_tokens is None:
            return np.zeros(len(texts), dtype=bool)
        return prompted_over_limit(texts, self.prompt, self.max_tokens, self.token_counts, SPECIAL_TOKENS)

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            out[start : start + len(batch)] = self.model.encode(
                batch, prompt=self.prompt, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True
            )
            if progress:
                progress(start + len(batch), len(texts))
        return out
