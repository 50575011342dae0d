"""Language codes: the table Semanscope knows, and normalisation of the labels users write.

Every language is keyed by its ISO 639-1 code (``"de"``). :func:`normalize_language`
accepts, case-insensitively:

* the ISO 639-1 code (``"de"``) and legacy ones (``"iw"`` -> he, ``"in"`` -> id);
* ISO 639-3 / 639-2 codes, including common individual-language codes
  (``"deu"``, ``"ger"``, ``"eng"``, ``"zho"``, ``"cmn"``, ``"arb"``, ``"pes"``);
* region / script variants, reduced to the base language (``"zh-CN"``, ``"pt_BR"``,
  ``"sr-Latn"``, ``"eng_Latn"``);
* English names and a few aliases (``"German"``, ``"chinese"``, ``"Farsi"``, ``"Chinese (Simplified)"``);
* native names (``"Deutsch"``, ``"中文"``);
* the three-letter codes in the original Semanscope's file names (``"enu"``, ``"chn"``, ``"grk"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class UnknownLanguage(ValueError):
    """A label that is not a known language; the message lists what is accepted."""


@dataclass(frozen=True)
class Language:
    """One language: ISO 639-1 code, English name, main script, other codes and names."""

    code: str
    name: str
    script: str
    codes: tuple[str, ...]  # ISO 639-3 / 639-2 / legacy / individual-language codes
    names: tuple[str, ...]  # native name + English aliases


# code, English name, script, other codes, other names (native name first)
_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("af", "Afrikaans", "Latin", "afr", "Afrikaans"),
    ("am", "Amharic", "Ethiopic", "amh", "አማርኛ"),
    ("ar", "Arabic", "Arabic", "ara arb", "العربية|Modern Standard Arabic"),
    ("az", "Azerbaijani", "Latin", "aze azj", "Azərbaycanca|Azeri"),
    ("be", "Belarusian", "Cyrillic", "bel", "Беларуская"),
    ("bg", "Bulgarian", "Cyrillic", "bul", "Български"),
    ("bn", "Bengali", "Bengali", "ben", "বাংলা|Bangla"),
    ("bs", "Bosnian", "Latin", "bos", "Bosanski"),
    ("ca", "Catalan", "Latin", "cat", "Català|Valencian"),
    ("cs", "Czech", "Latin", "ces cze", "Čeština"),
    ("cy", "Welsh", "Latin", "cym wel", "Cymraeg"),
    ("da", "Danish", "Latin", "dan", "Dansk"),
    ("de", "German", "Latin", "deu ger", "Deutsch"),
    ("el", "Greek", "Greek", "ell gre grk", "Ελληνικά|Modern Greek"),
    ("en", "English", "Latin", "eng enu", "English"),
    ("eo", "Esperanto", "Latin", "epo", "Esperanto"),
    ("es", "Spanish", "Latin", "spa", "Español|Castilian"),
    ("et", "Estonian", "Latin", "est ekk", "Eesti"),
    ("eu", "Basque", "Latin", "eus baq", "Euskara"),
    ("fa", "Persian", "Arabic", "fas per pes", "فارسی|Farsi"),
    ("fi", "Finnish", "Latin", "fin", "Suomi"),
    ("fr", "French", "Latin", "fra fre", "Français"),
    ("ga", "Irish", "Latin", "gle", "Gaeilge|Irish Gaelic"),
    ("gl", "Galician", "Latin", "glg", "Galego"),
    ("gu", "Gujarati", "Gujarati", "guj", "ગુજરાતી"),
    ("he", "Hebrew", "Hebrew", "heb iw", "עברית"),
    ("hi", "Hindi", "Devanagari", "hin", "हिन्दी|हिंदी"),
    ("hr", "Croatian", "Latin", "hrv", "Hrvatski"),
    ("hu", "Hungarian", "Latin", "hun", "Magyar"),
    ("hy", "Armenian", "Armenian", "hye arm", "Հայերեն"),
    ("id", "Indonesian", "Latin", "ind in", "Bahasa Indonesia"),
    ("is", "Icelandic", "Latin", "isl ice", "Íslenska"),
    ("it", "Italian", "Latin", "ita", "Italiano"),
    ("ja", "Japanese", "Japanese", "jpn", "日本語"),
    ("jv", "Javanese", "Latin", "jav", "Basa Jawa"),
    ("ka", "Georgian", "Georgian", "kat geo", "ქართული"),
    ("kk", "Kazakh", "Cyrillic", "kaz", "Қазақ тілі"),
    ("km", "Khmer", "Khmer", "khm", "ខ្មែរ|Cambodian"),
    ("kn", "Kannada", "Kannada", "kan", "ಕನ್ನಡ"),
    ("ko", "Korean", "Hangul", "kor", "한국어"),
    ("ky", "Kyrgyz", "Cyrillic", "kir", "Кыргызча|Kirghiz"),
    ("la", "Latin", "Latin", "lat", "Latina"),
    ("lo", "Lao", "Lao", "lao", "ລາວ"),
    ("lt", "Lithuanian", "Latin", "lit", "Lietuvių"),
    ("lv", "Latvian", "Latin", "lav lvs", "Latviešu"),
    ("mk", "Macedonian", "Cyrillic", "mkd mac", "Македонски"),
    ("ml", "Malayalam", "Malayalam", "mal", "മലയാളം"),
    ("mn", "Mongolian", "Cyrillic", "mon khk", "Монгол"),
    ("mr", "Marathi", "Devanagari", "mar", "मराठी"),
    ("ms", "Malay", "Latin", "msa may zsm", "Bahasa Melayu"),
    ("mt", "Maltese", "Latin", "mlt", "Malti"),
    ("my", "Burmese", "Myanmar", "mya bur", "မြန်မာ|Myanmar"),
    ("ne", "Nepali", "Devanagari", "nep npi", "नेपाली"),
    ("nl", "Dutch", "Latin", "nld dut", "Nederlands|Flemish"),
    ("no", "Norwegian", "Latin", "nor nob nb", "Norsk|Norwegian Bokmål|Bokmål"),
    ("pa", "Punjabi", "Gurmukhi", "pan", "ਪੰਜਾਬੀ|Panjabi"),
    ("pl", "Polish", "Latin", "pol", "Polski"),
    ("ps", "Pashto", "Arabic", "pus pbu", "پښتو"),
    ("pt", "Portuguese", "Latin", "por", "Português"),
    ("ro", "Romanian", "Latin", "ron rum", "Română|Moldavian"),
    ("ru", "Russian", "Cyrillic", "rus", "Русский"),
    ("si", "Sinhala", "Sinhala", "sin", "සිංහල|Sinhalese"),
    ("sk", "Slovak", "Latin", "slk slo", "Slovenčina"),
    ("sl", "Slovenian", "Latin", "slv", "Slovenščina|Slovene"),
    ("sq", "Albanian", "Latin", "sqi alb", "Shqip"),
    ("sr", "Serbian", "Cyrillic", "srp", "Српски"),
    ("sv", "Swedish", "Latin", "swe", "Svenska"),
    ("sw", "Swahili", "Latin", "swa swh", "Kiswahili"),
    ("ta", "Tamil", "Tamil", "tam", "தமிழ்"),
    ("te", "Telugu", "Telugu", "tel", "తెలుగు"),
    ("th", "Thai", "Thai", "tha", "ไทย"),
    ("tl", "Tagalog", "Latin", "tgl fil", "Filipino"),
    ("tr", "Turkish", "Latin", "tur", "Türkçe"),
    ("uk", "Ukrainian", "Cyrillic", "ukr", "Українська"),
    ("ur", "Urdu", "Arabic", "urd", "اردو"),
    ("uz", "Uzbek", "Latin", "uzb uzn", "Oʻzbekcha"),
    ("vi", "Vietnamese", "Latin", "vie", "Tiếng Việt"),
    ("yi", "Yiddish", "Hebrew", "yid", "ייִדיש"),
    ("zh", "Chinese", "Han", "zho chi cmn chn", "中文|汉语|漢語|Mandarin|Mandarin Chinese"),
)

LANGUAGES: dict[str, Language] = {
    code: Language(code, name, script, tuple(codes.split()), tuple(names.split("|")))
    for code, name, script, codes, names in _TABLE
}


def _key(label: str) -> str:
    """Lookup key: casefolded, ``_`` -> ``-``, inner whitespace collapsed."""
    return " ".join(label.strip().casefold().replace("_", "-").split())


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for lang in LANGUAGES.values():
        for label in (lang.code, *lang.codes, lang.name, *lang.names):
            key = _key(label)
            if lookup.get(key, lang.code) != lang.code:  # pragma: no cover - table consistency
                raise AssertionError(f"language label {label!r} is ambiguous")
            lookup[key] = lang.code
    return lookup


_LOOKUP = _build_lookup()
_PARENTHESES = re.compile(r"\s*\(.*?\)\s*")


def normalize_language(label: str) -> str:
    """Map a language label (code, variant, English or native name) to its ISO 639-1 code.

    Tries, in order: the whole label; the label without a parenthesised part
    (``"Chinese (Simplified)"``); the part before the first ``-``/``_`` (``"pt_BR"`` -> pt).
    Raises :class:`UnknownLanguage` (a ``ValueError``) naming what is accepted.
    """
    if not isinstance(label, str) or not label.strip():
        raise UnknownLanguage(f"empty language label {label!r}; {accepted_labels_hint()}")
    key = _key(label)
    candidates = [key, _key(_PARENTHESES.sub(" ", key)), key.split("-", 1)[0].strip()]
    for candidate in candidates:
        if candidate in _LOOKUP:
            return _LOOKUP[candidate]
    raise UnknownLanguage(f"unknown language {label!r}; {accepted_labels_hint()}")


def accepted_labels_hint() -> str:
    """One sentence describing the accepted labels and listing the known codes."""
    return (
        "use an ISO 639-1 code (e.g. 'de'), an ISO 639-3 code ('deu'), a region variant ('pt-BR') "
        "or an English name ('German'); known codes: " + ", ".join(LANGUAGES)
    )


def language_name(code: str) -> str:
    """English name of a language (any accepted label works, e.g. ``"deu"`` -> ``"German"``)."""
    return LANGUAGES[normalize_language(code)].name


def script_of(code: str) -> str:
    """Main writing system of a language, e.g. ``"ru"`` -> ``"Cyrillic"``, ``"ja"`` -> ``"Japanese"``."""
    return LANGUAGES[normalize_language(code)].script
