"""Any sentence-transformers model (a local folder or a Hugging Face hub name) behind :class:`Embedder`.

Importing this module does not import torch (sentence-transformers loads on first use).
Hub names are resolved only from the local Hugging Face cache when ``HF_HUB_OFFLINE=1`` (a missing
model raises :class:`ModelUnavailable` saying what to download and where to put it). The model runs
on CPU with ``threads`` torch threads and uses its own prompts (``default_prompt_name`` unless a
``prompt_name`` is given). sentence-transformers truncates every input to the model's
``max_seq_length`` tokens (:attr:`STEmbedder.max_tokens`); :meth:`STEmbedder.truncated` names the
texts that are cut.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semanscope.models.base import Embedder, Family, ModelUnavailable, Progress
from semanscope.models.fingerprint import folder_digests
from semanscope.models.truncate import search_window, utf8_bound

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

# files whose bytes define the model: weights, configs, tokenizer vocabularies
_FINGERPRINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".json", ".model", ".txt")
# build records that change on every rebuild without changing the model
_FINGERPRINT_EXCLUDE = ("semanscope_meta.json", "README.md")
_SPECIAL_TOKENS = 8  # margin for the special tokens a tokenizer adds ([CLS] [SEP], <s> </s>, ...)


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
        self._model = _load_model(str(self.path), base_fp, threads)
        prompts = dict(self._model.prompts or {})
        if prompt_name is None:
            prompt_name = self._model.default_prompt_name or None
        elif prompt_name not in prompts:
            raise ValueError(f"{self.name}: unknown prompt {prompt_name!r}; the model defines {sorted(prompts)}")
        self.prompt_name = prompt_name
        self.prompt: str = (prompts.get(prompt_name) or "") if prompt_name else ""
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise ModelUnavailable(f"{self.name}: the model does not report its embedding dimension")
        self.dim = int(dim)
        self.max_tokens = getattr(self._model, "max_seq_length", None)
        self._fingerprint = f"{base_fp}-{prompt_name or 'noprompt'}"
        self._counter: Tokenizer | None = None

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens of ``prompt + text`` with special tokens, before truncation (int64 (n,)).

        Counted with a private copy of the fast tokenizer without truncation or padding: the
        model's own tokenizer changes its truncation settings on every ``encode`` and is shared
        by the threads of the app.
        """
        inputs = [self.prompt + t for t in texts]
        tokenizer = self._model.tokenizer
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:  # a slow (pure Python) tokenizer keeps no such settings
            ids = tokenizer(inputs, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
            return np.fromiter(map(len, ids), dtype=np.int64, count=len(inputs))
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_str(backend.to_str())
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        encodings = self._counter.encode_batch(inputs, add_special_tokens=True)
        return np.fromiter(map(len, encodings), dtype=np.int64, count=len(inputs))

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """True for texts whose ``prompt + text`` exceeds ``max_seq_length`` tokens. Only texts
        whose :func:`~semanscope.models.truncate.utf8_bound` exceeds it are tokenised, and a text
        longer than the search window (:func:`~semanscope.models.truncate.search_window`) is
        truncated without tokenising it."""
        out = np.zeros(len(texts), dtype=bool)
        limit = self.max_tokens
        if limit is None:
            return out
        candidates = [i for i, t in enumerate(texts) if utf8_bound(self.prompt + t, _SPECIAL_TOKENS) > limit]
        counted = []
        for i in candidates:
            if len(search_window(texts[i], limit)) < len(texts[i]):
                out[i] = True
            else:
                counted.append(i)
        if counted:
            out[counted] = self.token_counts([texts[i] for i in counted]) > limit
        return out

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            out[start : start + len(batch)] = self._model.encode(
                batch, prompt=self.prompt, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True
            )
            if progress:
                progress(start + len(batch), len(texts))
        return out
