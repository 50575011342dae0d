import csv
import subprocess
import sys
from pathlib import Path

import pytest

from semanscope.data.languages import (
    ALIASES,
    LANGUAGES,
    SUPPORTED_CODES,
    UnknownLanguage,
    language_name,
    normalize_language,
    script_of,
)

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "semanscope-samples"

REQUIRED = (
    "en de es fr ru zh ja ar hi ko th tr el vi ro it pt nl pl uk cs sv da fi no hu he fa id ms bn ta te ur sw".split()
)


def test_table_covers_required_languages():
    assert set(REQUIRED) <= set(LANGUAGES)
    assert len(LANGUAGES) >= 50
    for code, lang in LANGUAGES.items():
        assert lang.code == code and len(code) == 2 and lang.name and lang.script


@pytest.mark.parametrize(
    "label, code",
    [
        ("de", "de"),
        ("DE", "de"),
        (" de ", "de"),
        ("deu", "de"),
        ("ger", "de"),
        ("eng", "en"),
        ("zho", "zh"),
        ("cmn", "zh"),
        ("arb", "ar"),
        ("pes", "fa"),
        ("zh-CN", "zh"),
        ("zh_TW", "zh"),
        ("pt_BR", "pt"),
        ("pt-br", "pt"),
        ("sr-Latn", "sr"),
        ("eng_Latn", "en"),
        ("German", "de"),
        ("chinese", "zh"),
        ("Chinese (Simplified)", "zh"),
        ("Farsi", "fa"),
        ("Modern Greek", "el"),
        ("Deutsch", "de"),
        ("中文", "zh"),
        ("日本語", "ja"),
        ("iw", "he"),
        ("nb", "no"),
        ("enu", "en"),  # the original Semanscope's file-name codes
        ("chn", "zh"),
        ("grk", "el"),
        ("english", "en"),  # the original Semanscope's column names
        ("in", "id"),  # deprecated ISO 639-1 codes
        ("ji", "yi"),
        ("nob", "no"),  # Semanscope keys Norwegian by the macrolanguage
        ("Norwegian Bokmål", "no"),
        ("tgl", "tl"),  # ... and Tagalog as tl (langcodes: fil)
        ("Filipino", "tl"),
        ("fil", "tl"),
        ("ekk", "et"),  # individual languages of a macrolanguage
        ("lvs", "lv"),
        ("zsm", "ms"),
        ("swh", "sw"),
        ("uzn", "uz"),
        ("khk", "mn"),
        ("Mandarin", "zh"),
        ("Mandarin Chinese", "zh"),
        ("Modern Standard Arabic", "ar"),
        ("Hindi", "hi"),  # a name that means different languages in different languages
        ("Malti", "mt"),  # Maltese in Maltese, another language in English
        ("Azeri", "az"),
        ("Bangla", "bn"),
        ("Castilian", "es"),
        ("Flemish", "nl"),
        ("Moldavian", "ro"),
        ("Kirghiz", "ky"),
        ("Irish Gaelic", "ga"),
        ("allemand", "de"),  # names in other languages
        ("Französisch", "fr"),
        ("汉语", "zh"),  # Semanscope's aliases for names language-data lacks
        ("漢語", "zh"),
        ("Bahasa Melayu", "ms"),
        ("Basa Jawa", "jv"),
        ("Oʻzbekcha", "uz"),
        ("Azərbaycanca", "az"),
        ("english-US", "en"),  # the part before the first '-'
        ("de-" + "a" * 5000, "de"),
    ],
)
def test_normalize_language(label, code):
    assert normalize_language(label) == code


def test_every_code_and_alias_maps_to_a_supported_language():
    assert list(SUPPORTED_CODES) == sorted(set(SUPPORTED_CODES)) == list(LANGUAGES)
    assert all(normalize_language(code) == code for code in SUPPORTED_CODES)
    assert set(ALIASES.values()) <= set(SUPPORTED_CODES)
    for label, code in ALIASES.items():
        assert normalize_language(label.upper()) == code


@pytest.mark.parametrize(
    "label",
    ["Germanic", "English notes", "frenchfries", "notes", "verified", "relation_type", "word1_en", "nynorsk", "sgn-de"],
)
def test_only_whole_names_and_supported_languages(label):
    """langcodes.find guesses from prefixes ("Germanic" -> German); Semanscope reads whole names only."""
    with pytest.raises(UnknownLanguage):
        normalize_language(label)


@pytest.mark.parametrize("label", ["de\x00", "German\x00", "\x00", "\ud800", "x" * 10_000, "(", "-"])
def test_hostile_labels_are_unknown(label):
    with pytest.raises(UnknownLanguage):
        normalize_language(label)


def test_original_semanscope_column_names():
    files = sorted(SAMPLES.glob("*-SA.csv"))
    if not files:
        pytest.skip(f"no *-SA.csv in {SAMPLES}")
    expected = {"english": "en", "chinese": "zh", "spanish": "es", "german": "de", "french": "fr"}
    expected |= {"arabic": "ar", "korean": "ko", "russian": "ru", "turkish": "tr"}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        languages = [name for name in header if name != "human"]
        assert languages and {name: normalize_language(name) for name in languages} == {
            name: expected[name] for name in languages
        }


def test_importing_the_module_does_not_import_langcodes():
    code = (
        "import sys, semanscope.data.languages as m; "
        "assert 'langcodes' not in sys.modules and 'language_data' not in sys.modules; "
        "m.normalize_language('de'); assert 'langcodes' in sys.modules and 'language_data.name_data' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("label", ["klingon", "xx", "", "   ", "zz-CN"])
def test_unknown_language_lists_what_is_accepted(label):
    with pytest.raises(UnknownLanguage) as err:
        normalize_language(label)
    message = str(err.value)
    assert "ISO 639-1" in message and "English name" in message and "de, el, en" in message
    assert isinstance(err.value, ValueError)


def test_names_and_scripts():
    assert language_name("de") == "German"
    assert language_name("deu") == "German"
    assert language_name("zh-CN") == "Chinese"
    assert [language_name(code) for code in ("bn", "tl", "no", "fa", "el", "my", "ky")] == [
        "Bengali",
        "Tagalog",
        "Norwegian",
        "Persian",
        "Greek",
        "Burmese",
        "Kyrgyz",
    ]
    expected = {
        "en": "Latin",
        "ru": "Cyrillic",
        "uk": "Cyrillic",
        "zh": "Han",
        "ja": "Japanese",
        "ko": "Hangul",
        "ar": "Arabic",
        "fa": "Arabic",
        "ur": "Arabic",
        "hi": "Devanagari",
        "th": "Thai",
        "el": "Greek",
        "he": "Hebrew",
        "bn": "Bengali",
        "ta": "Tamil",
        "te": "Telugu",
        "am": "Ethiopic",
        "my": "Myanmar",
        "sr": "Cyrillic",
        "pa": "Gurmukhi",
    }
    assert {code: script_of(code) for code in expected} == expected
    with pytest.raises(UnknownLanguage):
        script_of("klingon")
