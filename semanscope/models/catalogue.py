"""The multilingual models of the paper's comparison that Semanscope does not ship, by their
sentence-transformers (Hugging Face hub) names.

None is downloaded at run time: an entry is usable when its weights are already in the local
Hugging Face cache (a machine with internet fetches them once, e.g. with
``huggingface-cli download NAME``); :func:`catalogue` reports which.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from semanscope.models.registry import ModelInfo, user_model


@dataclass(frozen=True)
class CatalogueEntry:
    """A known contextual model: its hub name, display name and one line on what it is."""

    name: str
    display_name: str
    note: str


CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("sentence-transformers/LaBSE", "LaBSE", "109 languages, translation-ranking trained"),
    CatalogueEntry(
        "sentence-transformers/distiluse-base-multilingual-cased-v2",
        "distiluse multilingual v2",
        "multilingual USE distilled, 50+ languages",
    ),
    CatalogueEntry(
        "sentence-transformers/paraphrase-multilingual-mpnet-base-v2",
        "paraphrase multilingual mpnet",
        "paraphrase-distilled XLM-R, 50+ languages",
    ),
    CatalogueEntry(
        "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "paraphrase multilingual MiniLM (mMiniLM)",
        "small multilingual paraphrase model",
    ),
    CatalogueEntry("google-bert/bert-base-multilingual-cased", "mBERT", "no sentence training: mean pooling"),
    CatalogueEntry("FacebookAI/xlm-roberta-base", "XLM-R base", "no sentence training: mean pooling"),
    CatalogueEntry("intfloat/multilingual-e5-base", "multilingual-e5-base", "larger sibling of e5-small"),
    CatalogueEntry("BAAI/bge-m3", "BGE-M3", "100+ languages, 8k tokens"),
    CatalogueEntry("Qwen/Qwen3-Embedding-0.6B", "Qwen3-Embedding 0.6B", "LLM-based embedder"),
    CatalogueEntry("google/embeddinggemma-300m", "EmbeddingGemma 300M", "Gemma-based embedder"),
)

NOT_CACHED = "not in the local hub cache; needs internet once (huggingface-cli download {name})"


def catalogue_key(entry: CatalogueEntry) -> str:
    """Registry key of a catalogue entry once added: ``st:<hub name>``."""
    return f"st:{entry.name}"


def catalogue() -> list[tuple[CatalogueEntry, ModelInfo]]:
    """Each entry with its :class:`ModelInfo` as a sentence-transformers user model: ``installed``
    when its weights are in the local hub cache, else ``missing-files`` with :data:`NOT_CACHED`."""
    rows = []
    for entry in CATALOGUE:
        info = user_model(
            "sentence-transformers", entry.name, key=catalogue_key(entry), display_name=entry.display_name
        )
        if not info.available:
            info = replace(info, fix=NOT_CACHED.format(name=entry.name))
        rows.append((entry, info))
    return rows
