"""WebFAQ bitexts: pivot join over Parquet / JSON lines / CSV files."""

import hashlib
import json
import math
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from semanscope.data.concept_shards import merge_concept_rows
from semanscope.data.loaders import QuerySetError, load_queryset
from semanscope.data.webfaq import concept_ids, load_webfaq, origin_topic, pivot_key, pivot_webfaq

COLUMNS = ["language1", "language2", "origin", "labse_similarity", "question1", "question2", "answer1", "answer2"]


def row(l1, l2, q1, q2, sim=0.9, origin="https://www.shop.example/faq"):
    return dict(zip(COLUMNS, [l1, l2, origin, sim, q1, q2, "a1", "a2"], strict=True))


DEU_ROWS = [
    row("eng", "deu", "How do I pay?", "Wie bezahle ich?", 0.91),
    row("deu", "eng", "Wie kann ich bezahlen?", "how do I  pay? ", 0.95),  # reversed columns, same pivot key
    row("eng", "deu", "Where is my order?", "Wo ist meine Bestellung?", 0.88, origin="help.example.org"),
    row("eng", "deu", "Can I return items?", "Kann ich Artikel zurückgeben?", 0.80),  # no fra: partial
    row("eng", "deu", "Is there a warranty?", "Gibt es eine Garantie?", 0.90),
    row("deu", "fra", "Wie bezahle ich?", "Comment payer ?", 0.9),  # no pivot: skipped
]
FRA_ROWS = [
    row("eng", "fra", "How do I pay?", "Comment payer ?", 0.93),
    row("fra", "eng", "Où est ma commande ?", "Where is my order?", 0.90),
    row("eng", "fra", "Do you ship abroad?", "Livrez-vous à l'étranger ?", 0.85),  # no deu: partial
    row("eng", "fra", "Is there a warranty?", "Y a-t-il une garantie ?", 0.90),
]


def wid(key: str) -> str:
    return "wf-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


@pytest.fixture
def bitexts(tmp_path):
    deu = tmp_path / "eng-deu.parquet"
    pq.write_table(pa.Table.from_pylist(DEU_ROWS), deu)
    fra = tmp_path / "eng-fra.jsonl"
    fra.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FRA_ROWS) + "\n", encoding="utf-8")
    return [deu, fra]


def test_helpers():
    assert pivot_key("  How do I\tPAY? ") == "how do i pay?"
    assert origin_topic("https://www.shop.example:8080/faq?x=1") == "www.shop.example"
    assert origin_topic("help.example.org") == "help.example.org"
    assert origin_topic(None) is None and origin_topic("  ") is None


def test_pivot_join_default_keeps_best_and_excludes_incomplete(bitexts):
    calls = []
    result = load_webfaq(bitexts, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(6, None), (10, None)]  # once at the end of each file
    qs = result.queryset
    assert qs.languages == ("en", "de", "fr")
    # "Can I return items?" (no fr) and "Do you ship abroad?" (no de) are excluded
    assert qs.ids == (wid("how do i pay?"), wid("where is my order?"), wid("is there a warranty?"))
    pay = qs.ids[0]
    assert qs.cell(pay, "en") == ("How do I pay?",)  # first-seen pivot text
    assert qs.cell(pay, "de") == ("Wie kann ich bezahlen?",)  # 0.95 beats 0.91
    assert qs.cell(pay, "fr") == ("Comment payer ?",)
    assert qs.cell(qs.ids[1], "fr") == ("Où est ma commande ?",)
    assert qs.topics == ("www.shop.example", "help.example.org", "www.shop.example")
    report = "\n".join(result.report)
    assert "excluded 2 of 5 concepts present in fewer than 3 languages" in report
    assert f"{wid('can i return items?')} (missing fr)" in report
    assert f"{wid('do you ship abroad?')} (missing de)" in report
    assert "does not include the pivot en: de-fr (1)" in report
    assert "1 cells had several translations" in report and "highest labse_similarity" in report
    prov = qs.provenance
    assert prov["format"] == "webfaq" and prov["rows_read"] == 10 and prov["pivot"] == "en"
    assert [f["rows_read"] for f in prov["files"]] == [6, 4]
    assert prov["files"][0]["sha256"] == hashlib.sha256(bitexts[0].read_bytes()).hexdigest()


def test_all_alternatives_and_min_languages_keep_partials(bitexts):
    result = load_webfaq(bitexts, min_languages=2, duplicates="all")
    qs = result.queryset
    assert qs.n_concepts == 5
    pay = wid("how do i pay?")
    assert qs.cell(pay, "de") == ("Wie kann ich bezahlen?", "Wie bezahle ich?")  # best first
    assert qs.incomplete_ids() == [wid("can i return items?"), wid("do you ship abroad?")]
    assert any("partial" in line and "(missing fr)" in line for line in result.report)
    assert qs.subset().n_concepts == 3


def test_min_similarity_languages_filter_and_auto_detection(bitexts):
    result = load_webfaq(bitexts, min_similarity=0.85, min_languages=2)
    qs = result.queryset
    keys = ["how do i pay?", "where is my order?", "is there a warranty?", "do you ship abroad?"]
    assert qs.ids == tuple(wid(k) for k in keys)  # "Can I return items?" (0.80) is gone
    assert any("skipped 1 rows with labse_similarity below 0.85" in line for line in result.report)
    prefix = load_webfaq(bitexts, min_languages=2, max_rows=7)
    assert prefix.queryset.provenance["rows_read"] == 7
    assert any("first 7 bitext rows (max_rows=7)" in line for line in prefix.report)
    only_de = load_queryset(bitexts, languages=["en", "German"], name="faq-de")
    assert only_de.queryset.languages == ("en", "de") and only_de.queryset.name == "faq-de"
    assert only_de.queryset.n_concepts == 4 and only_de.queryset.is_complete()
    assert any("skipped 4 rows in languages not requested" in line for line in only_de.report)


def test_csv_bitext_and_errors(tmp_path):
    path = tmp_path / "pairs.csv"
    lines = [",".join(COLUMNS)] + [f"eng,spa,x.org,0.9,Question {i}?,Pregunta {i}?,a,b" for i in range(3)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    qs = load_queryset(path).queryset
    assert qs.languages == ("en", "es") and qs.topics == ("x.org",) * 3
    bad = tmp_path / "bad.csv"
    bad.write_text("language1,language2,question1\neng,deu,a\n", encoding="utf-8")
    with pytest.raises(QuerySetError, match="bad.csv: not a WebFAQ bitext file: missing column.*question2"):
        load_webfaq(bad)
    with pytest.raises(QuerySetError, match="min_languages=5 but only 2 languages"):
        load_webfaq(path, min_languages=5)
    with pytest.raises(QuerySetError, match="duplicates must be one of"):
        load_webfaq(path, duplicates="first")
    sim = tmp_path / "sim.csv"
    sim.write_text(lines[0] + "\neng,spa,x,high,a,b,c,d\n", encoding="utf-8")
    with pytest.raises(QuerySetError, match="row 1 .line 2.: labse_similarity 'high' is not a number"):
        load_webfaq(sim)


def test_concept_ids_lengthen_only_colliding_ids():
    keys = [f"k{i}" for i in range(200_000)]
    seen: dict[str, str] = {}
    pair = None
    for k in keys:
        short = hashlib.sha256(k.encode()).hexdigest()[:8]
        if short in seen:
            pair = (seen[short], k)
            break
        seen[short] = k
    assert pair is not None  # 200k keys in 2^32 slots collide with near certainty (birthday bound)
    ids = concept_ids([pair[0], "other", pair[1]])
    assert ids[1] == wid("other")
    assert ids[0] != ids[2] and len(ids[0]) == len(ids[2]) == 3 + 16


# ------------------------------------------------------------------ out-of-core pivot
def reference_join(rows, pivot="eng", duplicates="best"):
    """The join of the module doc, in memory: key -> (first pivot text, topic, {lang: [texts]})."""
    concepts = {}
    for r in rows:
        if r["language1"] == pivot:
            p_text, lang, text = r["question1"], r["language2"], r["question2"]
        else:
            p_text, lang, text = r["question2"], r["language1"], r["question1"]
        p_text, text = " ".join(p_text.split()), text.strip()
        sim = r["labse_similarity"]
        c = concepts.setdefault(pivot_key(p_text), (p_text, origin_topic(r["origin"]), {}))
        c[2].setdefault(lang, []).append((text, -math.inf if sim is None else sim))
    out = {}
    for key, (p_text, topic, translations) in concepts.items():
        cells = {}
        for lang, pairs in translations.items():
            best = {}
            for t, s in pairs:
                best[t] = max(best.get(t, -math.inf), s)
            order = sorted(best, key=lambda t: -best[t])
            cells[lang] = tuple(order[:1] if duplicates == "best" else order)
        out[wid(key)] = (p_text, topic, cells)
    return out


def generated_rows(n, seed=0):
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        k = rng.randrange(n // 3)
        lang = rng.choice(["deu", "fra", "spa"])
        q = f"Question  {k}?" if rng.random() < 0.5 else f"question {k}? "  # one key, two spellings
        t = f"{lang} text {k} v{rng.randrange(3)}"  # up to 3 different translations per cell
        sim = rng.choice([0.9, 0.8, None])
        if rng.random() < 0.5:
            rows.append(row("eng", lang, q, t, sim, origin=f"https://h{k % 7}.example/x"))
        else:
            rows.append(row(lang, "eng", t, q, sim, origin=f"h{k % 7}"))
    return rows


@pytest.mark.parametrize("duplicates", ["best", "all"])
def test_out_of_core_join_equals_in_memory_reference(tmp_path, duplicates):
    rows = generated_rows(900)
    pq.write_table(pa.Table.from_pylist(rows[:500]), tmp_path / "a.parquet")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows[500:]) + "\n", encoding="utf-8")
    files = [tmp_path / "a.parquet", tmp_path / "b.jsonl"]
    qs = load_webfaq(files, min_languages=2, duplicates=duplicates).queryset
    want = reference_join(rows, duplicates=duplicates)
    assert list(qs.ids) == list(want)  # first-seen order over both files
    for cid, row_cells, topic in zip(qs.ids, qs.cells, qs.topics, strict=True):
        p_text, want_topic, cells = want[cid]
        assert topic == want_topic and row_cells[0] == (p_text,)
        for code, cell in zip(qs.languages[1:], row_cells[1:], strict=True):
            assert cell == cells.get({"de": "deu", "fr": "fra", "es": "spa"}[code], ())

    one = pivot_webfaq(files, tmp_path / "one", min_languages=2, duplicates=duplicates, n_buckets=1)
    many = pivot_webfaq(files, tmp_path / "many", min_languages=2, duplicates=duplicates, n_buckets=7)
    assert len(many.runs) == 7 and len(list((tmp_path / "many" / "buckets").glob("*.parquet"))) == 7
    merged = list(merge_concept_rows(many.runs, many.languages))
    assert merged == list(merge_concept_rows(one.runs, one.languages))
    assert [cid for _, cid, _, _ in merged] == list(qs.ids) and many.n_concepts == qs.n_concepts
    positions = [p for p, _, _, _ in merged]
    assert positions == sorted(positions) and positions[0] == 0  # position = first bitext row of the key
    assert many.report == one.report and many.provenance == one.provenance


def test_pivot_shards_feed_the_engine_layout(bitexts, tmp_path):
    joined = pivot_webfaq(bitexts, tmp_path / "pivot", concepts_per_file=1)
    assert joined.languages == ("en", "de", "fr") and joined.n_concepts == 3
    for path in joined.files:  # one concept per file, named by its position
        table = pq.read_table(path)
        assert table.num_rows == 1 and path.name == f"shard-{table.column('position')[0].as_py():012d}.parquet"
        assert table.column_names == ["position", "id", "topic", "text:en", "text:de", "text:fr"]
