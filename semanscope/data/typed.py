"""A query set from lists typed or pasted per language (one item per line, aligned by line).

Rules, applied to each language's text the same way:

* lines are stripped; blank lines and lines starting with ``#`` (comments) are dropped, so
  item k of every language is its k-th remaining line and concept k is built from them;
* every language must then have the same number of items, else :class:`QuerySetError` names
  each language with its count;
* an item may hold alternatives ``a | b`` (``\\|`` is a literal pipe), as in every loader;
* concept ids are the first language's items when those are unique, else ``1``, ``2``, ...;
* one language and one concept are enough (exploration: the app draws the points; scores
  need at least 2 languages and 3 concepts, and say so);
* the whole input is bounded by :data:`MAX_TYPED_BYTES` (UTF-8) and each item by
  :data:`~semanscope.data.validation.MAX_CELL_BYTES`.

Everything else (language codes, duplicate alternatives, texts without letters, long texts, the
report) is the shared :class:`~semanscope.data.assemble.QuerySetBuilder`'s.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import validation
from .assemble import LoadResult, QuerySetBuilder
from .validation import QuerySetError

MAX_TYPED_BYTES = 8 * 2**20
SOURCE = "typed lists"


def list_items(text: str) -> list[str]:
    """The items of one language's text: stripped lines, blank and ``#`` comment lines dropped."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def queryset_from_lists(lists: Mapping[str, str], *, name: str = "typed") -> LoadResult:
    """``{language label: text}`` -> a :class:`LoadResult` of the aligned lists (see module doc).

    Language labels are codes or names (``"de"``, ``"German"``), as in file headers.
    """
    if not lists:
        raise QuerySetError(f"{SOURCE}: add at least one language")
    size = sum(len(text.encode("utf-8")) for text in lists.values())
    if size > MAX_TYPED_BYTES:
        raise QuerySetError(
            f"{SOURCE}: {size / 2**20:.1f} MB of text, more than the {MAX_TYPED_BYTES // 2**20} MB limit; "
            "upload a file instead"
        )
    items: dict[str, list[str]] = {}
    for label, text in lists.items():
        code = validation.language_code(label, f"{SOURCE}: language")
        if code in items:
            raise QuerySetError(f"{SOURCE}: language {code!r} is given twice")
        items[code] = list_items(text)
    counts = {code: len(values) for code, values in items.items()}
    if not any(counts.values()):
        raise QuerySetError(f"{SOURCE}: the lists are empty (blank lines and # comment lines are skipped)")
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{code}: {n}" for code, n in counts.items())
        raise QuerySetError(f"{SOURCE}: the lists must have the same number of items (line k = concept k); {listed}")
    first = next(iter(items.values()))
    for code, values in items.items():
        for k, value in enumerate(values):
            if len(value.encode("utf-8")) > validation.MAX_CELL_BYTES:
                limit = validation.MAX_CELL_BYTES // 2**20
                raise QuerySetError(f"{SOURCE}: item {k + 1} of {code} is longer than the {limit} MB limit per item")
    ids = first if len(set(first)) == len(first) else [str(k + 1) for k in range(len(first))]
    builder = QuerySetBuilder(SOURCE, list(items))
    for k, cid in enumerate(ids):
        builder.add(f"item {k + 1}", f"item {k + 1}", cid, None, {code: values[k] for code, values in items.items()})
    return builder.finish(name, {"source": SOURCE, "license": "the user's own"}, min_languages=1, min_concepts=1)
