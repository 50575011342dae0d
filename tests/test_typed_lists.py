"""Query sets from typed/pasted lists: the library builder and the Data page's tab."""

from __future__ import annotations

import os

import pytest

from semanscope.data import typed
from semanscope.data.queryset import QuerySet
from semanscope.data.typed import list_items, queryset_from_lists
from semanscope.data.validation import QuerySetError


def test_items_skip_blank_and_comment_lines_and_strip() -> None:
    assert list_items("  dog \n\n# animals\ncat\n   \n#x\nhouse") == ["dog", "cat", "house"]
    assert list_items("") == []


def test_lists_align_by_line_and_equal_the_hand_built_set() -> None:
    result = queryset_from_lists({"en": "dog\ncat | kitty\n\nhouse\n", "German": "# de\nHund\nKatze\nHaus"})
    want = QuerySet.from_rows(
        "typed",
        ["en", "de"],
        [
            ("dog", ["dog", "Hund"], None),
            ("cat | kitty", ["cat|kitty", "Katze"], None),
            ("house", ["house", "Haus"], None),
        ],
    )
    got = result.queryset
    assert (got.languages, got.ids, got.cells) == (want.languages, want.ids, want.cells)
    assert got.provenance["source"] == "typed lists"
    assert any("alternatives" in line for line in result.report)


def test_repeated_first_language_items_get_line_numbers_as_ids() -> None:
    got = queryset_from_lists({"en": "bank\nbank\nriver", "de": "Bank\nUfer\nFluss"}).queryset
    assert got.ids == ("1", "2", "3")


def test_one_language_and_one_item_are_allowed_for_exploration() -> None:
    got = queryset_from_lists({"fr": "chat"}).queryset
    assert got.languages == ("fr",) and got.ids == ("chat",) and got.cells == ((("chat",),),)


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ({}, "at least one language"),
        ({"en": "a\nb", "de": "x"}, "same number of items.*en: 2, de: 1"),
        ({"en": "a", "English": "b"}, "given twice"),
        ({"xx-not-a-language": "a"}, "language"),
        ({"en": "# only comments\n\n"}, "lists are empty"),
    ],
)
def test_bad_lists_are_clear_errors(lists, message) -> None:
    with pytest.raises(QuerySetError, match=message):
        queryset_from_lists(lists)


def test_size_limits(monkeypatch) -> None:
    monkeypatch.setattr(typed, "MAX_TYPED_BYTES", 10)
    with pytest.raises(QuerySetError, match="limit"):
        queryset_from_lists({"en": "a" * 11})
    monkeypatch.setattr(typed, "MAX_TYPED_BYTES", 100)
    monkeypatch.setattr(typed.validation, "MAX_CELL_BYTES", 3)
    with pytest.raises(QuerySetError, match="item 2 of en"):
        queryset_from_lists({"en": "ab\nabcd"})


# ------------------------------------------------------------------ the Data page
def test_data_page_typed_lists_become_the_data(tmp_path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pytest.importorskip("streamlit")
    from app_pages import fast_app, run_page

    from semanscope.ui import state
    from semanscope.ui.dataset import TYPED_LANGUAGES, typed_key

    with fast_app(tmp_path):
        at = run_page("pages/4_Data.py")
        at.text_input(key=TYPED_LANGUAGES).input("en, fr").run()
        at.text_area(key=typed_key("en")).input("one\ntwo\nthree").run()
        at.text_area(key=typed_key("fr")).input("un\ndeux").run()
        at.button(key="use-typed").click().run()
        assert not at.exception
        assert "same number of items" in at.error[0].value and "fr: 2" in at.error[0].value

        at.text_area(key=typed_key("fr")).input("un\ndeux\ntrois").run()
        at.button(key="use-typed").click().run()
        assert not at.exception and not at.error
        qs = at.session_state[state.DATASET]
        assert qs.languages == ("en", "fr") and qs.ids == ("one", "two", "three")
        assert at.session_state[state.LANGUAGES] == ["en", "fr"]

        at.text_input(key=TYPED_LANGUAGES).input("en").run()
        at.button(key="use-typed").click().run()
        assert at.session_state[state.DATASET].languages == ("en",)
        assert any("need at least 2 languages" in i.value for i in at.info)
