"""Language labels -> ISO 639-1 codes, read by ``langcodes`` + ``language-data``.

Semanscope keys every language by its ISO 639-1 code (``"de"``); :data:`SUPPORTED_CODES` lists
the languages it knows. :func:`normalize_language` accepts, case-insensitively, a label that
``langcodes`` reads as one of them:

* a language tag: ISO 639-1 (``"de"``), ISO 639-2/T, 639-2/B and 639-3 codes (``"deu"``,
  ``"ger"``), deprecated codes (``"iw"`` -> he, ``"in"`` -> id), individual languages of a
  macrolanguage (``"cmn"`` -> zh, ``"arb"`` -> ar, ``"pes"`` -> fa), and region / script variants
  reduced to the language (``"zh-CN"``, ``"pt_BR"``, ``"sr-Latn"``, ``"eng_Latn"``);
* a language's name, exactly, in English or (when unambiguous) in another language that
  ``language-data`` knows (``"German"``, ``"Deutsch"``, ``"allemand"``, ``"Farsi"``, ``"中文"``).
  Only whole names: the prefix guessing of ``langcodes.find`` would read ``"Germanic"`` as German;
* Semanscope's own aliases for what those lack (:data:`ALIASES`): the original Semanscope's
  file-name codes ``enu``, ``chn``, ``grk`` (other languages in ISO 639) and a few native names.

A label is tried whole, then without a parenthesised part (``"Chinese (Simplified)"``), then as
its part before the first ``-``/``_`` (``"english-US"``).

``langcodes`` is imported on the first lookup (~60 ms) and its name data (~90 ms more, ~30 MB)
only when an English name or a script is asked for (:data:`LANGUAGES`, :func:`language_name`,
:func:`script_of`), so importing this module stays cheap: the app and the CLI import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

SUPPORTED_CODES: tuple[str, ...] = tuple(
    "af am ar az be bg bn bs ca cs cy da de el en eo es et eu fa fi fr ga gl gu he hi hr hu hy id is it ja jv "
    "ka kk km kn ko ky la lo lt lv mk ml mn mr ms mt my ne nl no pa pl ps pt ro ru si sk sl sq sr sv sw ta te "
    "th tl tr uk ur uz vi yi zh".split()
)
"""The languages Semanscope knows (ISO 639-1 codes, sorted): add a code here to support a language."""
_SUPPORTED = frozenset(SUPPORTED_CODES)

ALIASES: dict[str, str] = {
    "enu": "en",  # the original Semanscope's file-name codes (ISO 639: Enu, Chinook jargon,
    "chn": "zh",  # the Greek language family)
    "grk": "el",
    "汉语": "zh",  # native names language-data does not list
    "漢語": "zh",
    "basa jawa": "jv",
    "bahasa melayu": "ms",
    "oʻzbekcha": "uz",
    "azərbaycanca": "az",
}
"""Casefolded label -> code, tried before ``langcodes``."""

_PREFERRED_CODE = {"nb": "no", "fil": "tl"}  # langcodes' code -> Semanscope's (Norwegian, Tagalog)
_ENGLISH_NAME = {"bn": "Bengali"}  # where Semanscope keeps a name CLDR changed (CLDR: "Bangla")
# script names where CLDR names a variant rather than the writing system
_SCRIPT_NAME = {"Hans": "Han", "Kore": "Hangul", "Beng": "Bengali"}
MAX_TAG_CHARS = 35  # RFC 5646 4.4.1: language-extlang-script-region tags fit in 35 characters
MAX_NAME_CHARS = 100  # longer labels are not language names (language-data 1.4.0: at most 77 characters)
_TAG_LIKE = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*")
_PARENTHESES = re.compile(r"\s*\(.*?\)\s*")


class UnknownLanguage(ValueError):
    """A label that is not a known language; the message lists what is accepted."""


@dataclass(frozen=True)
class Language:
    """One language: ISO 639-1 code, English name, main script (``"Latin"``, ``"Cyrillic"``, ``"Han"``...)."""

    code: str
    name: str
    script: str


@cache
def _language(code: str) -> Language:
    import langcodes

    tag = langcodes.Language.make(language=code)
    script = tag.maximize().script or "Zyyy"  # Zyyy: "Common", for a language without a likely script
    return Language(
        code,
        _ENGLISH_NAME.get(code) or tag.display_name("en"),
        _SCRIPT_NAME.get(script) or langcodes.Language.make(script=script).script_name("en"),
    )


class _Languages(Mapping[str, Language]):
    """:data:`SUPPORTED_CODES` -> :class:`Language`, each built from ``langcodes`` on first access."""

    def __getitem__(self, code: str) -> Language:
        if code not in _SUPPORTED:
            raise KeyError(code)
        return _language(code)

    def __contains__(self, code: object) -> bool:
        return code in _SUPPORTED

    def __iter__(self) -> Iterator[str]:
        return iter(SUPPORTED_CODES)

    def __len__(self) -> int:
        return len(SUPPORTED_CODES)


LANGUAGES: Mapping[str, Language] = _Languages()


def _key(label: str) -> str:
    """Lookup key: casefolded, ``_`` -> ``-``, inner whitespace collapsed."""
    return " ".join(label.strip().casefold().replace("_", "-").split())


def _code_of_tag(tag: str) -> str | None:
    """The Semanscope code of a language tag's language (macrolanguage preferred), or None."""
    import langcodes

    try:
        code = langcodes.Language.get(tag).prefer_macrolanguage().language
    except ValueError:  # not a well-formed tag
        return None
    return _PREFERRED_CODE.get(code, code) if code else None


class _Trie(Protocol):
    def __contains__(self, key: str) -> bool: ...


@cache
def _name_trie(written_in: str) -> _Trie:
    """language-data's names -> tags of names written in ``written_in`` (``und``: every language,
    without the names that mean different languages in different languages, such as "Hindi")."""
    from language_data.names import load_trie
    from language_data.util import data_filename

    return load_trie(data_filename(f"trie/{written_in}/name_to_language.marisa"))


def _code_of_name(key: str) -> str | None:
    """The supported language with this name (exact match of language-data's names): an English
    name first, else a name in any language ("Malti" is Maltese in Maltese, another language in
    English)."""
    from language_data.names import get_trie_value, normalize_name

    name = normalize_name(key)
    if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
        return None  # the trie reads a NUL as the end of the key (and then finds longer names)
    for written_in in ("en", "und"):
        trie = _name_trie(written_in)
        if name in trie:
            code = _code_of_tag(get_trie_value(trie, name))
            if code in _SUPPORTED:
                return code
    return None


def _lookup(key: str) -> str | None:
    code = ALIASES.get(key)
    if code is None and len(key) <= MAX_TAG_CHARS and _TAG_LIKE.fullmatch(key):
        code = _code_of_tag(key)
    if code not in _SUPPORTED:
        code = _code_of_name(key)
    return code


def normalize_language(label: str) -> str:
    """Map a language label (code, variant, name in any language, alias) to its ISO 639-1 code.

    Tries, in order: the whole label; the label without a parenthesised part
    (``"Chinese (Simplified)"``); the part before the first ``-``/``_`` (``"pt_BR"`` -> pt).
    Raises :class:`UnknownLanguage` (a ``ValueError``) naming what is accepted.
    """
    if not isinstance(label, str) or not label.strip():
        raise UnknownLanguage(f"empty language label {label!r}; {accepted_labels_hint()}")
    key = _key(label)
    for candidate in dict.fromkeys((key, _key(_PARENTHESES.sub(" ", key)), key.split("-", 1)[0].strip())):
        code = _lookup(candidate)
        if code is not None:
            return code
    raise UnknownLanguage(f"unknown language {label!r}; {accepted_labels_hint()}")


def accepted_labels_hint() -> str:
    """One sentence describing the accepted labels and listing the known codes."""
    return (
        "use an ISO 639-1 code (e.g. 'de'), an ISO 639-3 code ('deu'), a region variant ('pt-BR') "
        "or an English name ('German'); known codes: " + ", ".join(SUPPORTED_CODES)
    )


def language_name(code: str) -> str:
    """English name of a language (any accepted label works, e.g. ``"deu"`` -> ``"German"``)."""
    return LANGUAGES[normalize_language(code)].name


def script_of(code: str) -> str:
    """Main writing system of a language, e.g. ``"ru"`` -> ``"Cyrillic"``, ``"ja"`` -> ``"Japanese"``."""
    return LANGUAGES[normalize_language(code)].script
