"""Relation files (Relational Affinity input): load_relations -> RelationSet, validation and report."""

import csv
import io
from pathlib import Path

import pytest

from semanscope.data import relations as relations_module
from semanscope.data.relations import NO_CATEGORY, RelationSet, load_relations
from semanscope.data.validation import QuerySetError

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "semanscope-samples"

RA = (
    "relation_id,category,word1_en,word2_en,word1_zh,word2_zh,relation_type,verified,notes\n"
    "R1,family,husband,wife,丈夫,妻子,gendered_pair,pending,\n"
    "R2,family,father,mother,父亲,母亲,gendered_pair,yes,\n"
    "R3,royalty,king,queen,国王,女王,gendered_pair,pending,\n"
    "R4,royalty,prince,princess,王子,公主,gendered_pair,pending,checked\n"
)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    return path


def load_error(path, **kwargs) -> str:
    with pytest.raises(QuerySetError) as err:
        load_relations(path, **kwargs)
    return str(err.value)


def test_relation_file_values_metadata_and_provenance(tmp_path):
    result = load_relations(write(tmp_path, "family-RA.csv", RA))
    rel = result.relations
    assert rel.name == "family-RA" and rel.languages == ("en", "zh")
    assert rel.ids == ("R1", "R2", "R3", "R4")
    assert rel.categories == ("family", "family", "royalty", "royalty")
    assert rel.category_names == ("family", "royalty")
    assert rel.pairs[0] == (("husband", "wife"), ("丈夫", "妻子"))
    assert rel.metadata == {
        "relation_type": ("gendered_pair",) * 4,
        "verified": ("pending", "yes", "pending", "pending"),
        "notes": (None, None, None, "checked"),
    }
    assert rel.provenance["format"] == "relations" and rel.provenance["rows_read"] == 4
    assert any("'relation_type', 'verified', 'notes' as per-relation metadata" in line for line in result.report)
    assert rel.words_by_language() == {
        "en": ["husband", "wife", "father", "mother", "king", "queen", "prince", "princess"],
        "zh": ["丈夫", "妻子", "父亲", "母亲", "国王", "女王", "王子", "公主"],
    }


def test_comments_repeated_header_language_names_and_generated_ids(tmp_path):
    content = (
        "# relations, v1\n"
        "category,WORD1_English,word2_english,word1-chinese,word2-chinese,notes\n"
        "family,son,daughter,儿子,女儿,\n"
        "# family,uncle,aunt,叔叔,阿姨,\n"
        "category,WORD1_English,word2_english,word1-chinese,word2-chinese,notes\n"
        "family,brother,sister,兄弟,姐妹,\n"
    )
    result = load_relations(write(tmp_path, "c-RA.csv", content))
    rel = result.relations
    assert rel.ids == ("rel-00001", "rel-00002") and rel.languages == ("en", "zh")
    assert rel.pairs[1] == (("brother", "sister"), ("兄弟", "姐妹"))
    report = "\n".join(result.report)
    assert "skipped 2 comment line(s) starting with '#': line 1, line 4" in report
    assert "skipped 1 repeated header line(s): line 5" in report
    assert "'WORD1_English' -> word1_en" in report and "'word1-chinese' -> word1_zh" in report
    assert "dropped metadata column(s) with no value at all: 'notes'" in report


def test_missing_words_are_excluded_per_language_and_empty_rows_dropped(tmp_path):
    content = (
        "relation_id,category,word1_en,word2_en,word1_es,word2_es\n"
        "R1,,big,bigger,grande,\n"  # no Spanish pair, no category
        "R2,size,small,smaller,pequeño,más pequeño\n"
        "R3,size,,,,\n"  # no pair at all
        "R4,size,good,good,bueno,mejor\n"  # same word in English
        "R5,size,a|b,c,x,y\n"
    )
    result = load_relations(write(tmp_path, "m-RA.csv", content))
    rel = result.relations
    assert rel.ids == ("R1", "R2", "R4", "R5")
    assert rel.pairs[0] == (("big", "bigger"), None)
    assert rel.categories[0] == NO_CATEGORY
    assert rel.words_by_language()["es"] == ["pequeño", "más pequeño", "bueno", "mejor", "x", "y"]
    report = "\n".join(result.report)
    assert "dropped 1 row(s) with no word pair in any language: row 3" in report
    assert "es: 1 relation(s) lack word1 or word2, excluded in es: row 1" in report
    assert "en: " not in report.split("excluded in es")[0].split("dropped")[-1]  # English misses only the empty row
    assert "1 pair(s) have the same word on both sides" in report and "row 4 (en: 'good')" in report
    assert "1 word(s) contain '|', read literally" in report and rel.pairs[3][0] == ("a|b", "c")
    assert f"1 relation(s) without a category are grouped as {NO_CATEGORY!r}" in report


@pytest.mark.parametrize(
    "content, expected",
    [
        ("relation_id,word1_en,word2_en\nR1,a,b\nR1,c,d\n", "duplicate relation id 'R1' in row 1 (line 2) and row 2"),
        ("relation_id,word1_en,word2_en\nR1,a,b\n,c,d\n", "row 2 (line 3): empty relation id"),
        ("id,relation_id,word1_en,word2_en\n1,R1,a,b\n", "column 1 'id' and column 2 'relation_id' are both"),
        ("word1_en,word2_en,word1_english\na,b,c\n", "both word1 of language en"),
        ("word1_en,word2_en,word1_xx,word2_xx\na,b,c,d\n", "column 3 'word1_xx': unknown language 'xx'"),
        ("word1_en,word2_en,word1_de\na,b,c\n", "column 'word1_de' has no matching word2_de column"),
        ("category,notes\na,b\n", "no word columns"),
        ("word1_en,word2_en\na,b\n", "needs at least 2 relations"),
        ("word1_en,word2_en\na,b\nc,d,e\n", "row 2 (line 3) has 3 columns, expected 2"),
        (  # a NUL after the first 4 KiB (the encoding check reads those) is caught at its row
            "word1_en,word2_en\n" + "a,b\n" * 1100 + "c\x00,d\n",
            "row 1101 (line 1102): column 'word1_en' contains a NUL character",
        ),
        ("# only a comment\n", "only comment lines, no header"),
    ],
)
def test_bad_relation_files_name_file_row_and_column(tmp_path, content, expected):
    message = load_error(write(tmp_path, "bad-RA.csv", content))
    assert "bad-RA.csv" in message and expected in message


def test_languages_option_limits_and_containers(tmp_path, monkeypatch):
    path = write(tmp_path, "family-RA.csv", RA)
    rel = load_relations(path, languages=["Chinese"]).relations
    assert rel.languages == ("zh",) and rel.pairs[0] == (("丈夫", "妻子"),)
    assert "requested language(s) de not in the file; it has en, zh" in load_error(path, languages=["de"])
    assert "languages: unknown language 'xx'" in load_error(path, languages=["xx"])
    monkeypatch.setattr(relations_module, "MAX_RELATIONS", 3)
    assert "more than 3 relations (at row 4 (line 5))" in load_error(path)
    monkeypatch.setattr(relations_module, "MAX_RELATIONS", 10_000)
    prefix = load_relations(path, max_rows=2)
    assert prefix.relations.ids == ("R1", "R2") and any("max_rows=2" in line for line in prefix.report)
    assert "relation files are CSV/TSV" in load_error(write(tmp_path, "r.jsonl", '{"word1_en": "a"}\n'))
    upload = io.BytesIO(RA.replace(",", "\t").encode("utf-8"))
    upload.name = "../x/family.tsv"
    assert load_relations(upload).relations.ids == ("R1", "R2", "R3", "R4")


def test_relation_set_subset_and_frame_round_trip(tmp_path):
    rel = load_relations(write(tmp_path, "family-RA.csv", RA)).relations
    sub = rel.subset(languages=["zh"], categories=["royalty"])
    assert sub.ids == ("R3", "R4") and sub.languages == ("zh",) and sub.metadata["notes"] == (None, "checked")
    with pytest.raises(ValueError, match="unknown language"):
        rel.subset(languages=["de"])
    with pytest.raises(ValueError, match="unknown categor"):
        rel.subset(categories=["nope"])
    path = tmp_path / "again-RA.csv"
    rel.to_frame().to_csv(path, index=False)
    again = load_relations(path).relations
    assert (again.ids, again.categories, again.pairs, again.metadata) == (
        rel.ids,
        rel.categories,
        rel.pairs,
        rel.metadata,
    )
    with pytest.raises(ValueError, match="one entry per language"):
        RelationSet("x", ("en", "de"), ("a",), ("c",), ((("w", "v"),),))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared Semanscope samples not available")
@pytest.mark.parametrize("name", ["NeurIPS-01-family-relations-RA.csv", "NeurIPS-01-family-relations-v2.5-RA.csv"])
def test_original_ra_samples_load_one_relation_per_row(name):
    path = SAMPLES / name
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [row for row in csv.DictReader(fh)]
    result = load_relations(path)
    rel = result.relations
    assert rel.ids == tuple(row["relation_id"] for row in rows)
    codes = [c.removeprefix("word1_") for c in rows[0] if c.startswith("word1_")]
    assert rel.languages == tuple(codes)
    for i, row in enumerate(rows):
        assert rel.pairs[i] == tuple((row[f"word1_{c}"], row[f"word2_{c}"]) for c in codes)
    assert set(rel.categories) == {"family"} and "relation_type" in rel.metadata


def test_builtin_relation_set_loads_cleanly():
    from semanscope.data.builtin import BUILTIN_LICENSE
    from semanscope.data.relations import BUILTIN_RELATIONS, load_builtin_relations

    rel = load_builtin_relations()
    loaded = load_relations(Path(relations_module.BUILTIN_DIR) / f"{BUILTIN_RELATIONS}.csv")
    assert loaded.report == []  # no comment, missing, repeated or same-word pair to report
    assert rel.languages == ("en", "de", "es", "fr", "ru", "zh")
    assert rel.category_names == ("gender", "capital", "plural", "antonym")
    assert [rel.categories.count(c) for c in rel.category_names] == [8, 8, 8, 8]
    assert all(pair is not None and pair[0] != pair[1] for row in rel.pairs for pair in row)
    assert rel.provenance["source"] == "builtin" and rel.provenance["license"] == BUILTIN_LICENSE
