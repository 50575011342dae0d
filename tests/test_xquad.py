"""XQuAD / SQuAD JSON files joined by question id."""

import io
import json

import pytest

from semanscope.data.loaders import QuerySetError, load_queryset
from semanscope.data.xquad import language_from_filename, load_xquad


def squad(articles: dict[str, list[tuple[str, str]]]) -> dict:
    """{"title": [(qid, question), ...]} -> a SQuAD document (two paragraphs per article)."""
    data = []
    for title, qas in articles.items():
        half = len(qas) // 2
        paragraphs = [
            {"context": "...", "qas": [{"id": qid, "question": q, "answers": []} for qid, q in part]}
            for part in (qas[:half], qas[half:])
        ]
        data.append({"title": title, "paragraphs": paragraphs})
    return {"version": "1.0", "data": data}


EN = {"Super_Bowl": [("q1", "Who won?"), ("q2", "Where was it played?")], "Rhine": [("q3", "How long is the Rhine?")]}
DE = {
    "Super_Bowl_de": [("q1", "Wer hat gewonnen?"), ("q2", "Wo wurde gespielt?")],
    "Rhein": [("q3", "Wie lang ist der Rhein?")],
}
ES = {"Super_Bowl_es": [("q1", "¿Quién ganó?")], "Rin": [("q3", "¿Qué longitud tiene el Rin?"), ("q9", "¿Extra?")]}


@pytest.fixture
def files(tmp_path):
    paths = []
    for name, doc in (("xquad.en.json", EN), ("xquad.de.json", DE), ("xquad.es.json", ES)):
        path = tmp_path / name
        path.write_text(json.dumps(squad(doc), ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def test_language_from_filename():
    assert language_from_filename("xquad.de.json") == "de"
    assert language_from_filename("squad_zh-CN.json") == "zh"
    assert language_from_filename("dev-ar.json") == "ar"
    assert language_from_filename("th.json") == "th"
    assert language_from_filename("faq.fr-CA.json") == "fr"
    assert language_from_filename("squad.german.json") == "de"
    assert language_from_filename("dev-v1.1.json") is None
    assert language_from_filename("questions.json") is None


def test_join_by_question_id(files):
    result = load_xquad(files)
    qs = result.queryset
    assert qs.languages == ("en", "de", "es")
    assert qs.ids == ("q1", "q2", "q3", "q9")  # pivot order, then ids only in other files
    assert qs.cells[0] == (("Who won?",), ("Wer hat gewonnen?",), ("¿Quién ganó?",))
    assert qs.cell("q2", "es") == () and qs.cell("q9", "en") == ()
    assert qs.topics == ("Super_Bowl", "Super_Bowl", "Rhine", None)  # titles from the pivot file
    report = "\n".join(result.report)
    assert "question q2 (missing es)" in report and "question q9 (missing en, de)" in report
    prov = qs.provenance
    assert prov["format"] == "xquad" and [f["language"] for f in prov["files"]] == ["en", "de", "es"]
    assert prov["rows_read"] == 3 + 3 + 3 and all(len(f["sha256"]) == 64 for f in prov["files"])


def test_mapping_languages_and_auto_detection(files, tmp_path):
    en, de, es = files
    mapped = load_xquad({"English": io.BytesIO(en.read_bytes()), "de": de}).queryset
    assert mapped.languages == ("en", "de") and mapped.ids == ("q1", "q2", "q3") and mapped.is_complete()
    detected = load_queryset(files, languages=["en", "es"])
    assert detected.queryset.languages == ("en", "es")
    assert any("xquad.de.json" in line for line in detected.report)
    with_pivot = load_queryset([de, es], pivot="de").queryset
    assert with_pivot.topics[:3] == ("Super_Bowl_de", "Super_Bowl_de", "Rhein")


def test_errors(files, tmp_path):
    en, de, _ = files
    with pytest.raises(QuerySetError, match="no file for the pivot language en"):
        load_xquad([de])
    with pytest.raises(QuerySetError, match="cannot tell the language"):
        load_xquad([tmp_path / "xquad.en.json", _copy(de, tmp_path / "questions.json")])
    with pytest.raises(QuerySetError, match="xquad.en.json and .*en.json are both English"):
        load_xquad([en, _copy(en, tmp_path / "en.json")])
    bad = tmp_path / "broken.de.json"
    bad.write_text('{"data": [{"title": "T", "paragraphs": [{"qas": [{"id": "x"}]}]}]}', encoding="utf-8")
    expected = "broken.de.json: article 1 .'T'., paragraph 1, question 1: needs 'id' and 'question'"
    with pytest.raises(QuerySetError, match=expected):
        load_xquad([en, bad])
    dup = tmp_path / "dup.de.json"
    dup.write_text(json.dumps(squad({"A": [("q1", "x")], "B": [("q1", "y")]})), encoding="utf-8")
    with pytest.raises(QuerySetError, match="question id 'q1' appears twice .articles 'A' and 'B'."):
        load_xquad([en, dup])
    notsquad = tmp_path / "other.de.json"
    notsquad.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(QuerySetError, match="not a SQuAD/XQuAD file"):
        load_xquad([en, notsquad])


def _copy(src, dst):
    dst.write_bytes(src.read_bytes())
    return dst
