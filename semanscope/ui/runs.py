"""Models on the view: the sidebar model picker and runs (load, embed with progress, cached scores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

import streamlit as st

from semanscope import appcore
from semanscope.cache import EmbeddingCache
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import cached_count, embed_queryset
from semanscope.models.base import Embedder, ModelUnavailable
from semanscope.models.registry import list_models
from semanscope.paths import EMBEDDINGS_SUBDIR
from semanscope.plots.tables import markdown_escape
from semanscope.study import ModelRun, ModelSpec, RunStatus, not_run, run_model
from semanscope.ui.errors import error_text, show_error
from semanscope.ui.progress import ProgressBar, progress_bar
from semanscope.ui.resources import cache_dir, embedding_cache, load_embedder
from semanscope.ui.state import MODEL, MODELS, USER_MODELS, persistent

T = TypeVar("T")


def model_picker(multi: bool) -> list[str]:
    """Sidebar model choice: one model (Explore) or several (Compare, Affinity; default: the
    static-vs-contextual comparison). Unavailable models are listed with the command to run."""
    infos = appcore.visible_models(list_models(), st.session_state.get(USER_MODELS) or [])
    available, unavailable = appcore.split_models(infos)
    names = {i.key: f"{i.display_name} [{i.family}]" for i in available}
    keys = list(names)
    defaults = appcore.default_models(infos)
    sb = st.sidebar
    sb.header("Models")
    if not keys:
        show_error("no model is available here; install the packages in requirements.txt")
        st.stop()
    if multi:
        stored = st.session_state.get(MODELS)
        st.session_state[MODELS] = defaults if stored is None else [k for k in stored if k in names]
        chosen = persistent(sb.multiselect, list, "Models", MODELS, defaults, options=keys, format_func=names.get)
    else:
        if st.session_state.get(MODEL) not in names:
            st.session_state[MODEL] = defaults[0] if defaults else keys[0]
        chosen = [persistent(sb.selectbox, str, "Model", MODEL, keys[0], options=keys, format_func=names.get)]
    if unavailable:
        with sb.expander(f"{len(unavailable)} model(s) not available"):
            for info in unavailable:
                st.markdown(f"- {markdown_escape(appcore.unavailable_note(info))}")
    return list(chosen)


@st.cache_data(show_spinner="Computing Semantic Affinity and retrieval scores...", max_entries=16)
def _scores(key: str, fingerprint: str, view_key: str, n_boot: int, seed: int, _qs: QuerySet) -> ModelRun:
    """:func:`semanscope.study.run_model` (embeddings already cached), keyed by model weights and view content."""
    cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
    return run_model(_qs, load_embedder(key), spec=ModelSpec.of(key), cache=cache, seed=seed, n_boot=n_boot)


def model_run(key: str, qs: QuerySet, *, n_boot: int = appcore.DEFAULT_N_BOOT, seed: int = 0) -> ModelRun:
    """One model on the view: load (cached), embed with a progress bar (persistent cache), then
    the cached scores. A model that cannot load or fails comes back as an ``unavailable`` /
    ``failed`` run with its message, so other models still show; a view too small for scores
    as an ``unscored`` run with its embeddings (:func:`appcore.scores_note` is its message)."""
    spec = ModelSpec.of(key)
    embedder, status, message = load_for_run(spec)
    if embedder is None:
        return not_run(spec, status, message)
    try:
        cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
        cached, total = cached_count(qs, embedder, cache)
        label = f"Embedding {total:,} texts with {markdown_escape(spec.name)} ({cached:,} of {total:,} cached)"
        X = embed_with_progress(label, lambda bar: embed_queryset(qs, embedder, cache, progress=bar))
        note = appcore.scores_note(qs)
        if note:  # drawn without scores
            return replace(not_run(spec, "unscored", note), fingerprint=embedder.fingerprint, embeddings=X)
        return _scores(key, embedder.fingerprint, appcore.queryset_key(qs), n_boot, seed, _qs=qs)
    except Exception as exc:  # noqa: BLE001
        return not_run(spec, "failed", error_text(exc))


def load_for_run(spec: ModelSpec) -> tuple[Embedder | None, RunStatus, str]:
    """``(embedder, "ok", "")`` for the model of ``spec`` (loaded under a spinner, cached), or
    ``(None, status, message)`` when it cannot load: ``unavailable`` (what to install or run) or
    ``failed`` (a broken model), so the page reports it and goes on."""
    try:
        with st.spinner(f"Loading {markdown_escape(spec.name)}..."):
            return load_embedder(spec.key), "ok", ""
    except ModelUnavailable as exc:
        return None, "unavailable", str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken model is reported, the page goes on
        return None, "failed", f"loading failed: {error_text(exc)}"


def embed_with_progress(label: str, embed: Callable[[ProgressBar], T]) -> T:
    """``embed(bar)`` (an embedding through the shared cache) under a progress bar labelled ``label``,
    then what the cache reported meanwhile (:func:`show_cache_problems`), also when it fails;
    returns what ``embed`` returns."""
    cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
    seen = max((p.seq for p in cache.problems()), default=0)
    try:
        with progress_bar(label) as bar:
            return embed(bar)
    finally:
        show_cache_problems(cache, seen)


def show_cache_problems(cache: EmbeddingCache, after: int) -> None:
    """What the embedding cache reported since problem ``after``: damage found and repaired as a
    toast (the entries were recomputed), a disk it cannot use as a lasting warning."""
    for problem in cache.problems(after=after):
        if problem.kind == "repaired":
            st.toast(markdown_escape(problem.message), icon=":material/build:")
        else:
            st.warning(markdown_escape(problem.message), icon=":material/warning:")


def show_notes(run: ModelRun) -> None:
    """A warning with what the scores of an ok run need said (texts the model truncated, rows
    dropped for degenerate vectors, collapse; an invalid score), nothing when there is none."""
    if run.ok and run.message:
        note = f"{run.name} ({run.key}), scores {run.score_status}: {run.message}"  # quotes concept ids
        st.warning(markdown_escape(note), icon=":material/warning:")


def model_runs(keys: Sequence[str], qs: QuerySet) -> list[ModelRun]:
    """:func:`model_run` for each key; failures (no embeddings) are shown as errors, notes on the scores as
    warnings (:func:`show_notes`), and every run is kept in the list."""
    runs = [model_run(k, qs) for k in keys]
    for run in runs:
        if run.embeddings is None:
            show_error(f"{run.name} ({run.key}) {run.status}: {run.message}")
        show_notes(run)
    return runs
