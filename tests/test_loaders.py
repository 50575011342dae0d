"""Wide-table loaders (CSV/TSV, SA CSV, JSON lines, Parquet) and validation of bad input."""

import csv
import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from semanscope.data import validation
from semanscope.data.encoding import as_source
from semanscope.data.languages import LANGUAGES
from semanscope.data.loaders import FORMATS, QuerySetError, detect_format, load_queryset, safe_upload_name
from semanscope.data.validation import LONG_TEXT_CHARS

XQUAD_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "semanscope-samples"

WIDE = (
    "id,topic,en,de,fr\n"
    "q1,food,apple,Apfel,pomme\n"
    "q2,food,bread|loaf|bread,Brot,pain\n"
    "q3,home,house,Haus|Gebäude,maison\n"
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def load_error(path, **kwargs) -> str:
    with pytest.raises(QuerySetError) as err:
        load_queryset(path, **kwargs)
    return str(err.value)


# ------------------------------------------------------------------ formats


def test_wide_csv_values_topics_and_provenance(tmp_path):
    path = write(tmp_path, "set.csv", WIDE)
    result = load_queryset(path)
    qs = result.queryset
    assert qs.name == "set"
    assert qs.languages == ("en", "de", "fr")
    assert qs.ids == ("q1", "q2", "q3")
    assert qs.topics == ("food", "food", "home")
    assert qs.cells[0] == (("apple",), ("Apfel",), ("pomme",))
    assert qs.cells[1][0] == ("bread", "loaf")
    assert qs.cells[2][1] == ("Haus", "Gebäude")
    prov = qs.provenance
    assert prov["sha256"] == hashlib.sha256(WIDE.encode("utf-8")).hexdigest()
    assert prov["format"] == "csv" and prov["rows_read"] == 3 and prov["encoding"] == "utf-8"
    assert prov["source"] == str(path) and prov["bytes"] == len(WIDE.encode("utf-8"))
    assert "license" in prov and prov["license"] is None
    assert any("repeated alternatives" in line and "row 2" in line for line in result.report)


def test_missing_id_column_generates_row_ids(tmp_path):
    path = write(tmp_path, "noid.csv", "en,de\none,eins\ntwo,zwei\nthree,drei\n")
    qs = load_queryset(path).queryset
    assert qs.ids == ("row-00001", "row-00002", "row-00003")
    assert qs.provenance["format"] == "sa"
    assert qs.topics == (None, None, None)


def test_semanscope_sa_csv_with_names_alternatives_label_and_empty_human_column(tmp_path):
    content = (
        "word,english,chinese,spanish,human\n"
        "aunt,aunt,阿姨|姑姑|姨妈,tía,\n"
        "boy,boy,男孩|男童,niño|chico,\n"
        "bride,bride,新娘,novia,\n"
    )
    result = load_queryset(write(tmp_path, "family-SA.csv", content))
    qs = result.queryset
    assert qs.languages == ("en", "zh", "es")
    assert qs.ids == ("row-00001", "row-00002", "row-00003")
    assert qs.cells[0][1] == ("阿姨", "姑姑", "姨妈")
    assert qs.cells[1][2] == ("niño", "chico")
    report = "\n".join(result.report)
    assert "'english' -> en" in report and "'chinese' -> zh" in report
    assert "kept column(s) 'word' as per-concept metadata" in report
    assert qs.metadata == {"word": ("aunt", "boy", "bride")}
    assert "dropped metadata column(s) with no value at all: 'human'" in report
    assert "split 3 cell(s) on '|' into alternatives, in 2 row(s): row 1, row 2" in report
    assert load_queryset(write(tmp_path, "x.csv", content), format="sa").queryset.cells == qs.cells


def test_tsv_by_extension_and_semicolon_sniffed(tmp_path):
    tsv = write(tmp_path, "set.tsv", WIDE.replace(",", "\t"))
    semi = write(tmp_path, "set_semicolon.csv", WIDE.replace(",", ";"))
    expected = load_queryset(write(tmp_path, "set.csv", WIDE)).queryset.cells
    assert load_queryset(tsv).queryset.cells == expected
    assert load_queryset(semi).queryset.cells == expected
    txt = write(tmp_path, "set.txt", WIDE.replace(",", "\t"))
    assert load_queryset(txt, format="tsv").queryset.cells == expected


def test_jsonl_flat_nested_and_json_array(tmp_path):
    flat = [
        {"id": "a", "topic": "t", "en": "one", "German": "eins"},
        {"id": "b", "en": "two", "de": ["zwei", "2x"]},
        {"id": "c", "en": "three", "de": "drei"},
    ]
    nested = [
        {"id": "a", "topic": "t", "source": "x", "texts": {"en": "one", "deu": "eins"}},
        {"id": "b", "texts": {"en": "two", "de": ["zwei", "2x"]}},
        {"id": "c", "texts": {"en": "three", "de": "drei"}},
    ]
    p_flat = write(tmp_path, "flat.jsonl", "\n".join(json.dumps(o, ensure_ascii=False) for o in flat) + "\n\n")
    p_nested = write(tmp_path, "nested.jsonl", "\n".join(json.dumps(o) for o in nested))
    p_array = write(tmp_path, "array.json", json.dumps(flat))
    results = [load_queryset(p) for p in (p_flat, p_nested, p_array)]
    for result in results:
        qs = result.queryset
        assert qs.languages == ("en", "de") and qs.ids == ("a", "b", "c")
        assert qs.cells == ((("one",), ("eins",)), (("two",), ("zwei", "2x")), (("three",), ("drei",)))
        assert qs.topics == ("t", None, None)
        assert qs.provenance["format"] == "jsonl"
    assert any("'source'" in line for line in results[1].report)


def test_parquet_wide_schema(tmp_path):
    table = pa.table({"id": ["a", "b", "c"], "en": ["one", "two", None], "es": ["uno", "dos|2", "tres"]})
    path = tmp_path / "set.parquet"
    pq.write_table(table, path)
    result = load_queryset(path)
    qs = result.queryset
    assert qs.provenance["format"] == "parquet" and qs.provenance["encoding"] is None
    assert qs.cells == ((("one",), ("uno",)), (("two",), ("dos", "2")), ((), ("tres",)))
    assert any("row 3 (missing en)" in line for line in result.report)
    upload = io.BytesIO(path.read_bytes())
    upload.name = "upload-without-extension"  # detected from the PAR1 magic bytes
    assert load_queryset(upload).queryset.cells == qs.cells


def test_upload_file_object_keeps_stream_open():
    upload = io.BytesIO(WIDE.encode("utf-8"))
    upload.name = "../../uploads/my set.csv"
    qs = load_queryset(upload).queryset
    assert qs.name == "my set" and qs.provenance["source"] == "my set.csv"
    assert not upload.closed and qs.n_concepts == 3


# ------------------------------------------------------------------ comments, metadata, escaped pipes


def test_comment_lines_before_and_after_the_header_are_skipped_and_counted(tmp_path):
    content = (
        "# Control dataset for semantic-affinity calibration\n"  # before the header, one cell
        "  # indented, with more cells,,\n"
        "chinese,english,german\n"
        "一,one|unity,eins\n"
        "#丨,vertical line,\n"  # a commented-out data row (ICML-4-zinets)
        "二,two,zwei\n"
        '# a comment with an unbalanced "quote\n'
        '"#3",#three,drei\n'  # quoted first cell and '#' in another cell: data
        ",#four,vier\n"  # '#' in the second cell: data
    )
    result = load_queryset(write(tmp_path, "zinets-SA.csv", content))
    qs = result.queryset
    assert qs.n_concepts == 4 and qs.languages == ("zh", "en", "de")
    assert qs.cells[2] == (("#3",), ("#three",), ("drei",))
    assert qs.cells[3] == ((), ("#four",), ("vier",))
    assert "skipped 4 comment line(s) starting with '#': line 1, line 2, line 5, line 7" in result.report
    # rows count data rows only; locations name the file line
    ragged = content + "五,five\n"
    assert "row 5 (line 10) has 2 columns, expected 3" in load_error(write(tmp_path, "ragged.csv", ragged))


def test_hash_line_inside_a_quoted_cell_is_data_and_comment_only_file_is_an_error(tmp_path):
    content = 'en,de\n"first line\n# second line",eins\n# comment\ntwo,zwei\nthree,drei\n'
    result = load_queryset(write(tmp_path, "multi.csv", content))
    assert result.queryset.cells[0][0] == ("first line\n# second line",)
    assert "skipped 1 comment line(s) starting with '#': line 4" in result.report
    assert result.queryset.n_concepts == 3
    assert "only comment lines, no header" in load_error(write(tmp_path, "c.csv", "# a\n# b\n"))
    tsv = load_queryset(write(tmp_path, "t.tsv", "en\tde\n\t#x\n# c\tz\na\tb\nc\td\n")).queryset
    assert tsv.cells[0] == ((), ("#x",)) and tsv.n_concepts == 3  # tab-led '#' is in the second cell


def test_repeated_header_lines_are_skipped_and_reported(tmp_path):
    content = WIDE + "id,topic,en,de,fr\nq4,food,milk,Milch,lait\n"
    result = load_queryset(write(tmp_path, "concat.csv", content))
    assert result.queryset.ids == ("q1", "q2", "q3", "q4")
    assert "skipped 1 repeated header line(s): line 5" in result.report


def test_non_language_columns_are_kept_as_metadata(tmp_path):
    content = (
        "english,chinese,spanish,category,difficulty,cultural-sensitivity,human,notes\n"
        "honor,荣誉,honor,social-relations,high,high,0.9,\n"
        "awkward,尴尬,incómodo,untranslatable,,medium,,\n"
        "rice,米饭,arroz, food ,low,low,0.4,\n"
    )
    result = load_queryset(write(tmp_path, "nuance-v0-SA.csv", content))
    qs = result.queryset
    assert qs.languages == ("en", "zh", "es")
    assert qs.metadata == {
        "category": ("social-relations", "untranslatable", "food"),
        "difficulty": ("high", None, "low"),
        "cultural-sensitivity": ("high", "medium", "low"),
        "human": ("0.9", None, "0.4"),
    }
    report = "\n".join(result.report)
    assert "kept column(s) 'category', 'difficulty', 'cultural-sensitivity', 'human' as per-concept metadata" in report
    assert "dropped metadata column(s) with no value at all: 'notes'" in report
    assert all(t in qs.items().texts for t in ("honor", "米饭")) and "food" not in qs.items().texts  # not embedded
    sub = qs.subset(languages=["es", "en"], concept_ids=["row-00003", "row-00001"])
    assert sub.ids == ("row-00001", "row-00003") and sub.metadata["category"] == ("social-relations", "food")
    frame = qs.to_frame()
    assert list(frame.columns) == ["id", "topic", "en", "zh", "es", *qs.metadata]
    assert frame["difficulty"].isna().tolist() == [False, True, False]
    path = tmp_path / "roundtrip.csv"
    frame.to_csv(path, index=False)
    again = load_queryset(path).queryset
    assert again.metadata == qs.metadata and again.cells == qs.cells and again.ids == qs.ids


def test_metadata_in_json_lines_nested_objects_and_parquet(tmp_path):
    lines = [
        {"id": "a", "en": "one", "de": "eins", "level": 1, "tags": ["x", "y"]},
        {"id": "b", "en": "two", "de": "zwei", "level": None},
        {"id": "c", "texts": {"en": "three", "de": "drei"}, "level": 3.5, "source": "web"},
    ]
    jl = load_queryset(write(tmp_path, "m.jsonl", "\n".join(json.dumps(o) for o in lines))).queryset
    assert jl.languages == ("en", "de")
    assert jl.metadata == {
        "level": ("1", None, "3.5"),
        "tags": ('["x","y"]', None, None),
        "source": (None, None, "web"),
    }
    nested_language = '{"id": 1, "en": "x", "texts": {"en": "a", "de": "b"}}\n'
    assert "key 'en' is a language outside 'texts'" in load_error(write(tmp_path, "n.jsonl", nested_language))
    not_language = '{"id": 1, "texts": {"en": "a", "category": "b"}}\n'
    assert "key in 'texts' 'category' is not a language" in load_error(write(tmp_path, "t.jsonl", not_language))
    table = pa.table({"en": ["a", "b", "c"], "es": ["x", "y", "z"], "level": [1, 2, None]})
    pq.write_table(table, tmp_path / "m.parquet")
    assert load_queryset(tmp_path / "m.parquet").queryset.metadata == {"level": ("1", "2", None)}


def test_escaped_pipe_is_a_literal_and_split_cells_are_counted(tmp_path):
    content = "en,de\nC++\\|C#|Java,C++\\|C#\na|b|c,x|y\nplain,text\ntrailing\\,back\\slash\n"
    result = load_queryset(write(tmp_path, "pipes.csv", content))
    qs = result.queryset
    assert qs.cells[0] == (("C++|C#", "Java"), ("C++|C#",))
    assert qs.cells[1] == (("a", "b", "c"), ("x", "y"))
    assert qs.cells[3] == (("trailing\\",), ("back\\slash",))  # other backslashes are kept as they are
    assert "split 3 cell(s) on '|' into alternatives, in 2 row(s): row 1, row 2" in result.report
    assert "2 cell(s) hold an escaped literal pipe '\\|', kept as '|'" in result.report
    # to_frame escapes literal pipes, so writing it out and loading it back gives the same set
    path = tmp_path / "roundtrip.csv"
    qs.to_frame().to_csv(path, index=False)
    assert load_queryset(path).queryset.cells == qs.cells


def test_queryset_metadata_survives_selection_and_is_checked():
    from semanscope.data.queryset import QuerySet
    from semanscope.study import select_queryset

    rows = [(f"c{i}", [f"e{i}", f"d{i}" if i != 2 else ""], None) for i in range(5)]
    qs = QuerySet.from_rows("m", ("en", "de"), rows, metadata={"level": ["a", "b", "c", None, "e"]})
    selected = select_queryset(qs, max_concepts=3, seed=1)
    assert selected.metadata["level"] == tuple(qs.metadata["level"][qs.ids.index(cid)] for cid in selected.ids)
    with pytest.raises(ValueError, match="one value per concept"):
        QuerySet.from_rows("m", ("en", "de"), rows, metadata={"level": ["a"]})
    with pytest.raises(ValueError, match="clash"):
        QuerySet.from_rows("m", ("en", "de"), rows, metadata={"EN": ["a"] * 5})


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared Semanscope samples not available")
@pytest.mark.parametrize(
    "name", ["ICML-1-peterg-v0-SA.csv", "NeurIPS-01-family-relations-SA.csv", "NeurIPS-01-family-relations-v2.5-SA.csv"]
)
def test_original_semanscope_sa_samples_load_one_concept_per_data_row(name):
    path = SAMPLES / name
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    data_rows = [line for line in lines[1:] if line.strip() and not line.lstrip().startswith("#")]
    result = load_queryset(path)
    qs = result.queryset
    assert qs.n_concepts == len(data_rows)
    expected = [cell.strip() for cell in lines[0].split(",") if cell.strip() != "human"]
    assert [LANGUAGES[code].name.casefold() for code in qs.languages] == expected
    first = next(csv.reader([data_rows[0]]))
    assert qs.cells[0] == tuple(tuple(dict.fromkeys(p.strip() for p in c.split("|"))) for c in first[: qs.n_languages])


# ------------------------------------------------------------------ encodings and line endings


def test_utf8_bom_utf16_and_crlf_are_accepted(tmp_path):
    expected = load_queryset(write(tmp_path, "plain.csv", WIDE)).queryset.cells
    variants = {
        "bom.csv": b"\xef\xbb\xbf" + WIDE.encode("utf-8"),
        "utf16le.csv": WIDE.encode("utf-16"),  # Python writes a BOM
        "utf16be.csv": b"\xfe\xff" + WIDE.encode("utf-16-be"),
        "crlf.csv": WIDE.replace("\n", "\r\n").encode("utf-8"),
        "bom_crlf_utf16.csv": WIDE.replace("\n", "\r\n").encode("utf-16"),
    }
    for name, data in variants.items():
        qs = load_queryset(write(tmp_path, name, data)).queryset
        assert qs.ids == ("q1", "q2", "q3"), name  # the BOM is not glued to the "id" header
        assert qs.cells == expected, name


def test_latin1_bytes_are_an_error_naming_offset_and_line(tmp_path):
    content = "id,en,de\nq1,one,eins\nq2,street,Straße\nq3,green,grün\n".encode("cp1252")
    path = write(tmp_path, "latin1.csv", content)
    message = load_error(path)
    offset = content.index("ß".encode("cp1252"))
    assert "latin1.csv" in message and f"byte offset {offset}" in message and "(line 3)" in message
    assert "UTF-8" in message and "encoding='cp1252'" in message and "Straße" in message
    qs = load_queryset(path, encoding="cp1252").queryset
    assert qs.cell("q2", "de") == ("Straße",) and qs.provenance["encoding"] == "cp1252"
    with_bom = write(tmp_path, "latin1_bom.csv", b"\xef\xbb\xbf" + content)
    assert f"byte offset {offset + 3} (line 3): byte(s) DF" in load_error(with_bom)


def test_quoted_newlines_are_accepted_and_later_rows_report_file_lines(tmp_path):
    content = 'id,en,de\nq1,"two\nlines","zwei\r\nZeilen"\nq2,x,y\nq3,a\n'
    message = load_error(write(tmp_path, "ragged.csv", content))
    assert "row 3 (line 6)" in message and "2 columns, expected 3" in message
    ok = load_queryset(write(tmp_path, "multi.csv", content.replace("q3,a\n", "q3,a,b\n"))).queryset
    assert ok.cell("q1", "en") == ("two\nlines",) and ok.cell("q1", "de") == ("zwei\r\nZeilen",)


def test_blank_lines_are_skipped(tmp_path):
    qs = load_queryset(write(tmp_path, "blank.csv", WIDE.replace("\nq2", "\n\nq2") + "\n\n")).queryset
    assert qs.ids == ("q1", "q2", "q3")


def test_empty_header_only_bom_only_zip_and_nul(tmp_path):
    assert "empty" in load_error(write(tmp_path, "empty.csv", b""))
    assert "empty" in load_error(write(tmp_path, "ws.csv", b"  \r\n\n"))
    assert "empty" in load_error(write(tmp_path, "bom.csv", b"\xef\xbb\xbf"))
    assert "empty" in load_error(write(tmp_path, "bom16.csv", "\ufeff".encode("utf-16-le")))
    assert "header but no data rows" in load_error(write(tmp_path, "header.csv", "id,en,de\n"))
    assert "Excel" in load_error(write(tmp_path, "sheet.csv", b"PK\x03\x04rest-of-zip"))
    assert "UTF-16" in load_error(write(tmp_path, "nobom16.csv", WIDE.encode("utf-16-le")))
    assert "empty" in load_error(write(tmp_path, "empty.jsonl", b"\n"))


# ------------------------------------------------------------------ structural errors


def test_duplicate_ids_name_both_rows(tmp_path):
    message = load_error(write(tmp_path, "dup.csv", WIDE + "q2,x,one,eins,un\n"))
    assert "dup.csv" in message and "'q2'" in message
    assert "row 2 (line 3)" in message and "row 4 (line 5)" in message


def test_empty_id_is_an_error(tmp_path):
    message = load_error(write(tmp_path, "noid.csv", WIDE.replace("q3,", ",")))
    assert "row 3 (line 4)" in message and "empty id" in message


@pytest.mark.parametrize(
    "header, names",
    [
        ("id,German,en,de", ["column 2 'German'", "column 4 'de'", "language de (German)"]),
        ("id,en,eng,de", ["column 2 'en'", "column 3 'eng'", "language en"]),
        ("id,topic,domain,en", ["column 2 'topic'", "column 3 'domain'", "the topic"]),
    ],
)
def test_duplicate_columns(tmp_path, header, names):
    message = load_error(write(tmp_path, "dupcol.csv", header + "\nq1,a,b,c\nq2,a,b,c\nq3,a,b,c\n"))
    for name in names:
        assert name in message


def test_code_shaped_unknown_column_is_an_error_other_names_are_metadata(tmp_path):
    # 'jp' is shaped like a language code: most likely a mistyped language (ja), never silently metadata
    path = write(tmp_path, "jp.csv", "id,en,de,jp\nq1,a,b,c\nq2,a,b,c\nq3,a,b,c\n")
    message = load_error(path)
    assert "column 4 'jp' is not a language" in message and "ISO 639-1" in message and "metadata=['jp']" in message
    kept = load_queryset(path, metadata=["JP"])
    assert kept.queryset.languages == ("en", "de") and kept.queryset.metadata == {"jp": ("c", "c", "c")}
    for header in ("xx-YY", "cn", "zz_Latn"):
        assert f"column 3 {header!r} is not a language" in load_error(
            write(tmp_path, "x.csv", f"en,de,{header}\na,b,c\na,b,c\na,b,c\n")
        )
    jl = write(tmp_path, "k.jsonl", '{"id": 1, "en": "a", "de": "b"}\n{"id": 2, "en": "a", "tlh": "b"}\n')
    assert "line 2: key 'tlh' is not a language" in load_error(jl)
    # a longer unknown name is metadata; when that leaves fewer than 2 languages the error says so
    message = load_error(write(tmp_path, "klingon.csv", "id,en,Klingon\nq1,a,b\nq2,a,b\nq3,a,b\n"))
    assert "found 1 (en)" in message and "'Klingon' were read as metadata" in message
    # metadata= also claims a header that is a language label, and must name existing columns
    qs = load_queryset(write(tmp_path, "cat.csv", "en,de,fr,cat\na,b,c,x\na,b,c,y\na,b,c,z\n"), metadata=["cat"])
    assert qs.queryset.languages == ("en", "de", "fr") and qs.queryset.metadata["cat"] == ("x", "y", "z")
    assert "metadata column(s) 'pos' not in the file" in load_error(path, metadata=["jp", "pos"])


def test_empty_language_column_is_dropped_then_languages_rechecked(tmp_path):
    result = load_queryset(write(tmp_path, "e.csv", "id,en,de,fr\nq1,a,b, \nq2,c,d,\nq3,e,f,\n"))
    assert result.queryset.languages == ("en", "de")
    assert any("no text at all: fr" in line for line in result.report)
    message = load_error(write(tmp_path, "e2.csv", "id,en,de\nq1,a,\nq2,c,\nq3,e,\n"))
    assert "at least 2 languages" in message and "found 1 (en)" in message


def test_whitespace_cells_are_missing_and_partial_rows_reported(tmp_path):
    content = "id,en,de,fr\nq1,a,b,c\nq2,d,   ,f\nq3,g,h,i\nq4,j, ,\nq5,k,l,m\n"
    result = load_queryset(write(tmp_path, "partial.csv", content))
    qs = result.queryset
    assert qs.cell("q2", "de") == () and qs.incomplete_ids() == ["q2", "q4"]
    line = next(line for line in result.report if "partial" in line)
    assert "2 of 5 concepts" in line and "row 2 (missing de)" in line and "row 4 (missing de, fr)" in line
    assert "subset()" in line
    full = qs.subset()
    assert full.ids == ("q1", "q3", "q5") and full.provenance["dropped_incomplete"] == 2


def test_rows_without_any_text_are_dropped_with_a_warning(tmp_path):
    result = load_queryset(write(tmp_path, "gap.csv", WIDE + "q4,x, , ,\n"))
    assert result.queryset.ids == ("q1", "q2", "q3")
    assert any("no text in any language: row 4" in line for line in result.report)


def test_symbol_only_and_long_texts_are_kept_with_warnings(tmp_path):
    long_text = "word " * (LONG_TEXT_CHARS // 5 + 1)
    content = f"id,en,de\nq1,😀,😀\nq2,?!,Frage\nq3,{long_text},kurz\nq4,ok,gut\n"
    result = load_queryset(write(tmp_path, "odd.csv", content))
    qs = result.queryset
    assert qs.cell("q1", "en") == ("😀",) and qs.cell("q3", "en") == (long_text.strip(),)
    symbolic = next(line for line in result.report if "no letter or digit" in line)
    assert "2 row(s)" in symbolic and "row 1, row 2" in symbolic
    long_line = next(line for line in result.report if "characters" in line)
    assert "row 3" in long_line and "row 4" not in long_line


def test_too_few_concepts_or_languages(tmp_path):
    assert "at least 3 concepts" in load_error(write(tmp_path, "two.csv", "id,en,de\nq1,a,b\nq2,c,d\n"))
    assert "at least 2 languages" in load_error(write(tmp_path, "one.csv", "id,en\nq1,a\nq2,b\nq3,c\n"))


def test_invalid_json_lines_name_the_line(tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"id": 1, "en": "a", "de": "b"}\n{"id": 2, "en": \n')
    assert "line 2: invalid JSON" in load_error(path)
    path = write(tmp_path, "list.jsonl", '{"id": 1, "en": "a", "de": "b"}\n[1, 2]\n')
    assert "line 2: expected a JSON object" in load_error(path)
    path = write(tmp_path, "nested.jsonl", '{"id": 1, "texts": "hello"}\n')
    assert "line 1: 'texts' must be an object" in load_error(path)
    lines = '{"id": 1, "en": "a", "de": "b"}\n{"id": 2, "en": "c", "de": "d"}\n{"id": 3, "en": "e", "de": "f"}\n'
    assert load_queryset(write(tmp_path, "lines.json", lines)).queryset.ids == ("1", "2", "3")
    squad_lines = write(tmp_path, "xquad.de.json", lines)
    message = load_error(squad_lines, format="xquad", pivot="de")
    assert "line 2: invalid JSON (Extra data); one object per line is JSON lines" in message
    doc = write(tmp_path, "doc.json", '{"data": []}')
    assert "use format='xquad'" in load_error(doc, format="jsonl")


def test_bad_arguments_and_sources(tmp_path):
    path = write(tmp_path, "set.csv", WIDE)
    assert "unknown format 'xlsx'" in load_error(path, format="xlsx")
    assert "file not found" in load_error(tmp_path / "missing.csv")
    assert "is a folder" in load_error(tmp_path)
    with open(path, encoding="utf-8") as text_mode:
        assert "text mode" in load_error(text_mode)
    assert "languages: unknown language 'xx'" in load_error(path, languages=["en", "xx"])
    assert "several files" in load_error([path, path])
    assert "not a readable Parquet" in load_error(write(tmp_path, "bad.parquet", b"PAR1 not really"))


# ------------------------------------------------------------------ options


def test_languages_select_and_order_columns(tmp_path):
    path = write(tmp_path, "set.csv", WIDE)
    qs = load_queryset(path, languages=["French", "en"]).queryset
    assert qs.languages == ("fr", "en") and qs.cells[0] == (("pomme",), ("apple",))
    message = load_error(path, languages=["en", "ja"])
    assert "requested language(s) ja not in the file" in message and "en, de, fr" in message


def test_max_rows_reads_a_prefix_and_progress_is_called(tmp_path):
    rows = "".join(f"q{i},text {i},Text {i}\n" for i in range(1, 11))
    path = write(tmp_path, "ten.csv", "id,en,de\n" + rows)
    calls = []
    result = load_queryset(path, max_rows=4, progress=lambda done, total: calls.append((done, total)))
    assert result.queryset.ids == ("q1", "q2", "q3", "q4")
    assert any("first 4 rows (max_rows=4)" in line for line in result.report)
    assert calls == [(4, None)]
    assert not any("max_rows" in line for line in load_queryset(path, max_rows=10).report)


def test_size_limits(tmp_path, monkeypatch):
    path = write(tmp_path, "set.csv", WIDE)
    monkeypatch.setattr(validation, "MAX_CONCEPTS", 2)
    assert "more than 2 concepts (rows, empty ones included; at row 3 (line 4))" in load_error(path)
    monkeypatch.setattr(validation, "MAX_CONCEPTS", 200_000)
    monkeypatch.setattr(validation, "MAX_LANGUAGES", 2)
    assert "more than 2 languages" in load_error(path)
    monkeypatch.setattr(validation, "MAX_LANGUAGES", 100)
    monkeypatch.setattr(validation, "MAX_FILE_MB", 0)
    assert "over the 0 MB limit" in load_error(path)


def test_detect_format(tmp_path):
    assert detect_format(as_source(write(tmp_path, "a.csv", WIDE))) == "csv"
    assert detect_format(as_source(write(tmp_path, "b.csv", "en,de\na,b\n"))) == "sa"
    assert detect_format(as_source(write(tmp_path, "c.dat", '{"en": "a", "de": "b"}\n'))) == "jsonl"
    assert detect_format(as_source(write(tmp_path, "d.json", '{"data": []}'))) == "xquad"
    bitext = "language1,language2,origin,labse_similarity,question1,question2,answer1,answer2\n"
    assert detect_format(as_source(write(tmp_path, "e.csv", bitext + "eng,deu,x,0.9,a,b,c,d\n"))) == "webfaq"
    assert set(FORMATS) == {"csv", "sa", "jsonl", "parquet", "webfaq", "xquad"}


# ------------------------------------------------------------------ upload names


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/abs/path/data.csv", "data.csv"),
        ("my\x00bad\x1fname\u202e.csv", "mybadname.csv"),
        ("..", "upload"),
        ("", "upload"),
        (".hidden.csv", "hidden.csv"),
        ("x" * 300 + ".csv", "x" * (validation.MAX_UPLOAD_NAME - 4) + ".csv"),
    ],
)
def test_safe_upload_name(name, safe):
    assert safe_upload_name(name) == safe
    assert len(safe_upload_name(name)) <= validation.MAX_UPLOAD_NAME


# ------------------------------------------------------------------ real and large data


@pytest.mark.skipif(not XQUAD_CSV.exists(), reason="shared XQuAD questions.csv not available")
def test_real_xquad_questions_csv():
    result = load_queryset(XQUAD_CSV)
    qs = result.queryset
    assert qs.n_concepts == 1190 and qs.n_languages == 12
    assert qs.languages == ("en", "es", "de", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi", "ro")
    assert qs.is_complete() and qs.provenance["rows_read"] == 1190
    assert qs.cell("56beb4343aeaaa14008c925b", "en") == ("How many points did the Panthers defense surrender?",)


def test_200k_row_csv_streams_with_progress(tmp_path):
    n = 200_000
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["en", "de"])
        writer.writerows([f"q {i}", f"F {i}"] for i in range(n))
    calls = []
    qs = load_queryset(path, progress=lambda done, total: calls.append((done, total))).queryset
    assert qs.n_concepts == n and qs.ids[-1] == f"row-{n:05d}" and qs.cells[-1] == ((f"q {n - 1}",), (f"F {n - 1}",))
    assert len(calls) >= n // 5_000 and calls[-1] == (n, None)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
