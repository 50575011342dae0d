import hashlib

import pytest

from semanscope.data.builtin import (
    BUILTIN_LICENSE,
    BUILTIN_SETS,
    GENERATED,
    builtin_path,
    list_builtin,
    load_builtin,
)
from semanscope.data.loaders import QuerySetError, load_queryset

EXPECTED_LANGUAGES = ("en", "de", "es", "fr", "ru", "zh", "ja", "ar", "hi", "ko", "th", "tr")


@pytest.mark.parametrize("name", sorted(set(BUILTIN_SETS) - GENERATED))
def test_builtin_set_loads_cleanly(name):
    path = builtin_path(name)
    if not path.exists():
        pytest.skip(f"{path.name} not written yet")
    qs = load_builtin(name)
    assert qs.name == name and qs.languages == EXPECTED_LANGUAGES
    assert qs.n_concepts >= 3 and qs.is_complete() and all(qs.topics)
    assert qs.provenance["source"] == "builtin" and qs.provenance["license"] == BUILTIN_LICENSE
    assert qs.provenance["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    report = load_queryset(path).report  # shipped data must load without warnings; splitting a|b is no warning
    assert [line for line in report if not line.startswith("split ")] == []
    assert name in list_builtin()


def test_unknown_builtin_set():
    with pytest.raises(QuerySetError, match="unknown built-in set 'nope'; available: faq, words, cldr"):
        load_builtin("nope")


def test_missing_builtin_file(monkeypatch, tmp_path):
    monkeypatch.setattr("semanscope.data.builtin.BUILTIN_DIR", tmp_path)
    assert list(list_builtin()) == ["cldr"]  # generated from babel's data, not from a file
    with pytest.raises(QuerySetError, match="built-in set 'faq' is not installed"):
        load_builtin("faq")
