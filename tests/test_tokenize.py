"""Per-language word tokenisation for fastText (semanscope.models.tokenize)."""

import pytest

from semanscope.models.tokenize import normalize_text, split_cjk, split_thai, tokenize


def test_latin_words_lowercased_punctuation_dropped():
    assert tokenize("How many points did the Panthers' defense surrender?", "en") == [
        "how",
        "many",
        "points",
        "did",
        "the",
        "panthers",
        "defense",
        "surrender",
    ]


def test_nfkc_folds_fullwidth_and_digits_stay_in_words():
    assert tokenize("ＡＢＣ abc２０１５ 3.5", "en") == ["abc", "abc2015", "3", "5"]


def test_turkish_dotted_and_dotless_i():
    assert tokenize("İstanbul IŞIK", "tr") == ["istanbul", "ışık"]
    # without the Turkic rule, I lowercases to a dotted i
    assert tokenize("IŞIK", "en") == ["işik"]


def test_greek_final_sigma():
    assert normalize_text("ΟΔΟΣ ΣΟΦΟΣ", "el") == "οδο\u03c2 \u03c3οφο\u03c2"


def test_combining_marks_stay_inside_words():
    # Devanagari vowel signs (Mc/Mn) and Arabic letters form whole words
    assert tokenize("पैंथर्स डिफ़ेंस ने कितने अंक दिए?", "hi") == ["पैंथर्स", "डिफ़ेंस", "ने", "कितने", "अंक", "दिए"]
    assert tokenize("كم نقطة تخلى عنها دفاع البانثرز؟", "ar") == ["كم", "نقطة", "تخلى", "عنها", "دفاع", "البانثرز"]


def test_chinese_is_split_into_characters_or_bigrams():
    text = "黑豹队的防守丢了多少分？"
    chars = tokenize(text, "zh")
    assert chars == list("黑豹队的防守丢了多少分")
    bigrams = tokenize(text, "zh", cjk="bigram")
    assert bigrams == ["黑豹", "豹队", "队的", "的防", "防守", "守丢", "丢了", "了多", "多少", "少分"]
    assert split_cjk("分", "bigram") == ["分"]
    with pytest.raises(ValueError, match="CJK mode"):
        split_cjk("多少", "trigram")


def test_japanese_kana_and_mixed_scripts():
    assert tokenize("ベルリンには何人が住んでいますか？", "ja") == list("ベルリンには何人が住んでいますか")
    assert tokenize("Berlin 柏林 city", "en") == ["berlin", "柏", "林", "city"]


def test_thai_is_split_into_clusters_not_one_token():
    text = "ทีมรับของแพนเธอร์สยอมแพ้ที่คะแนนเท่าไร"
    tokens = tokenize(text, "th")
    assert len(tokens) > 5
    assert "".join(tokens) == text  # clusters partition the run
    # leading vowel + consonant + tone mark; consonant + above vowel + tone mark
    assert split_thai("แพ้ที่") == ["แพ้", "ที่"]
    assert split_thai("คะแนน") == ["คะ", "แน", "น"]


def test_korean_splits_on_spaces():
    assert tokenize("베를린에는 몇 명이 살고 있나요?", "ko") == ["베를린에는", "몇", "명이", "살고", "있나요"]


def test_no_words_gives_empty_list():
    assert tokenize("", "en") == []
    assert tokenize(" ?! ... — ", "en") == []


def test_lowercase_can_be_disabled():
    assert tokenize("Hello World", "en", lowercase=False) == ["Hello", "World"]
