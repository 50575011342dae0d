"""The CLDR set: real human translations generated from babel's CLDR data."""

import pytest

from semanscope.data.builtin import list_builtin, load_builtin
from semanscope.data.cldr import CLDR_LANGUAGES, cldr_queryset
from semanscope.data.validation import QuerySetError

babel = pytest.importorskip("babel")


@pytest.fixture(scope="module")
def cldr():
    return load_builtin("cldr")


def cell(qs, concept_id, lang):
    (text,) = qs.cells[qs.ids.index(concept_id)][qs.languages.index(lang)]
    return text


def test_complete_parallel_set_with_provenance(cldr):
    assert "cldr" in list_builtin()
    assert cldr.languages == CLDR_LANGUAGES and cldr.is_complete()
    assert set(cldr.topic_names) == {"country", "language", "month", "weekday"}
    assert sum(t == "month" for t in cldr.topics) == 12 and sum(t == "weekday" for t in cldr.topics) == 7
    assert sum(t == "country" for t in cldr.topics) > 200 and sum(t == "language" for t in cldr.topics) > 100
    assert cldr.provenance["origin"].startswith("Unicode CLDR ") and "babel" in cldr.provenance["origin"]
    assert "Unicode License" in cldr.provenance["license"]
    assert len(set(cldr.ids)) == cldr.n_concepts


def test_known_names(cldr):
    assert [cell(cldr, "country-DE", lang) for lang in ("en", "de", "fr", "tr")] == [
        "Germany",
        "Deutschland",
        "Allemagne",
        "Almanya",
    ]
    assert cell(cldr, "language-de", "es") == "alemán"
    assert cell(cldr, "weekday-mon", "ja") == "月曜日"
    assert cell(cldr, "month-03", "ru") == "март"  # stand-alone (nominative), not the genitive "марта"
    assert not any(cid in cldr.ids for cid in ("country-EU", "country-UN", "country-ZZ", "country-001"))


def test_names_do_not_depend_on_what_babel_read_before():
    """babel 2.18 writes resolved aliases into data shared between locales: after Chinese
    stand-alone months have been read, German ones come back Chinese unless the set guards it."""
    from babel.dates import get_month_names

    get_month_names("wide", context="stand-alone", locale="zh")
    qs = cldr_queryset(("de", "ja", "zh"))
    assert [cell(qs, "month-03", lang) for lang in qs.languages] == ["März", "3月", "三月"]


def test_language_choice_and_errors():
    qs = cldr_queryset(("en", "el"))
    assert qs.languages == ("en", "el") and cell(qs, "country-GR", "el") == "Ελλάδα"
    with pytest.raises(QuerySetError, match="at least 2 languages"):
        cldr_queryset(("en",))
    with pytest.raises(QuerySetError, match="CLDR has no locale 'xx'"):
        cldr_queryset(("en", "xx"))
