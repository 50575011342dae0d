"""A parallel set of real human translations: Unicode CLDR names, read from the ``babel`` package.

CLDR (the Unicode Common Locale Data Repository) is translated and reviewed by native speakers
for every locale; ``babel`` ships its data inside the PyPI wheel, so this set needs no download
and was not written by Semanscope. Each concept is one CLDR item, named in every language of
the set, grouped in four topics:

* ``country``: the ISO 3166-1 alpha-2 regions (two upper-case letters; CLDR's private-use and
  grouping codes such as ``EU``, ``UN``, ``ZZ``, ``XA`` are left out), CLDR's ``territories``;
* ``language``: languages with a two-letter ISO 639-1 code and no region or script variant,
  CLDR's ``languages``;
* ``month``: the twelve Gregorian months, stand-alone wide form (the nominative: Russian
  "январь", not the genitive "января" of a date);
* ``weekday``: the seven days, stand-alone wide form.

An item enters the set only when every requested language has a name for it. Names are kept
exactly as CLDR spells them, so some coincide across languages (e.g. "Chile" in en/de/es/fr):
that is real data, and it is why retrieval counts ties fairly.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, cast

from .queryset import QuerySet
from .validation import QuerySetError

CLDR_LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "ru", "zh", "ja", "ar", "hi", "ko", "th", "tr")
CLDR_LICENSE = "Unicode License v3 (Unicode CLDR data, distributed in the babel package, BSD-3-Clause)"
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # babel's day indices 0..6


def _locale_data(code: str) -> Any:
    """One locale's CLDR data with aliases resolved, on a private deep copy of freshly read data.

    babel shares nested dictionaries between the locales it has loaded and writes a resolved
    alias back into them (babel 2.18: once Chinese "stand-alone" months were read, Japanese or
    German ones read as Chinese). So babel's locale cache is emptied first (anything read
    earlier in this process may have been altered) and the aliases are resolved on a copy.
    """
    from babel import localedata

    if not localedata.exists(code):
        raise QuerySetError(f"CLDR has no locale {code!r}")
    with localedata._cache_lock:  # babel has no public way to drop its cache
        localedata._cache.clear()
    # babel types load() with str keys and LocaleDataDict with str | int | None keys (months are ints)
    data = cast("dict[str | int | None, Any]", copy.deepcopy(localedata.load(code)))
    return localedata.LocaleDataDict(data)


def _topics(data: Any) -> dict[str, dict[str, str]]:
    """topic -> {item key -> name} for one locale's data (:func:`_locale_data`)."""
    months = data["months"]["stand-alone"]["wide"]
    days = data["days"]["stand-alone"]["wide"]
    return {
        "country": {
            code: name
            for code, name in data["territories"].items()
            if len(code) == 2 and code.isalpha() and code.isupper() and code not in _NOT_COUNTRIES
        },
        "language": {
            code: name
            for code, name in data["languages"].items()
            if len(code) == 2 and code.isalpha() and code.islower()
        },
        "month": {f"{m:02d}": months[m] for m in range(1, 13) if m in months},
        "weekday": {_WEEKDAYS[d]: days[d] for d in range(7) if d in days},
    }


def cldr_queryset(languages: Sequence[str] = CLDR_LANGUAGES, name: str = "cldr") -> QuerySet:
    """The CLDR names of countries, languages, months and weekdays in ``languages`` (see the module
    docstring). Concept ids are ``<topic>-<key>`` (``country-FR``, ``language-de``, ``month-03``,
    ``weekday-mon``); order: topic, then key. ``provenance`` records babel's and CLDR's versions
    and the license. QuerySetError when babel is missing or a language has no CLDR locale."""
    try:
        import babel
        from babel.core import get_cldr_version
    except ImportError:
        raise QuerySetError("the CLDR set needs the babel package: pip install babel==2.18.0") from None
    languages = tuple(dict.fromkeys(languages))
    if len(languages) < 2:
        raise QuerySetError(f"the CLDR set needs at least 2 languages, got {list(languages)}")
    per_language = [_topics(_locale_data(code)) for code in languages]
    ids: list[str] = []
    topics: list[str] = []
    cells: list[tuple[tuple[str, ...], ...]] = []
    for topic in per_language[0]:
        shared = _shared_keys([names[topic] for names in per_language])
        for key in shared:
            ids.append(f"{topic}-{key}")
            topics.append(topic)
            cells.append(tuple((names[topic][key].strip(),) for names in per_language))
    provenance = {
        "source": "builtin",
        "generator": "semanscope.data.cldr",
        "origin": f"Unicode CLDR {get_cldr_version()} via babel {babel.__version__}",
        "license": CLDR_LICENSE,
    }
    return QuerySet(name, languages, tuple(ids), tuple(cells), tuple(topics), provenance)


def _shared_keys(tables: Sequence[Mapping[str, str]]) -> list[str]:
    """Keys with a non-empty name in every table, sorted."""
    keys: set[str] = set.intersection(*(set(k for k, v in t.items() if v and v.strip()) for t in tables))
    return sorted(keys)
