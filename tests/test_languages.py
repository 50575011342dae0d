import pytest

from semanscope.data.languages import LANGUAGES, UnknownLanguage, language_name, normalize_language, script_of

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
    ],
)
def test_normalize_language(label, code):
    assert normalize_language(label) == code


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
    }
    assert {code: script_of(code) for code in expected} == expected
    with pytest.raises(UnknownLanguage):
        script_of("klingon")
