"""Decoded-size limits (decompression bombs) for every input format, and a fuzz test of the loaders.

The limits are lowered with monkeypatch so the bomb files stay a few kB and the tests fast.
"""

import csv
import json
import random
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from semanscope.data import validation
from semanscope.data.decoded import cell_sizes, value_size
from semanscope.data.loaders import QuerySetError, load_queryset

CELL = 20_000  # bytes of text per bomb cell


def load_error(path, **kwargs) -> str:
    """The loader's message, with the folder of the file(s) taken out."""
    with pytest.raises(QuerySetError) as err:
        load_queryset(path, **kwargs)
    folder = Path(path[0] if isinstance(path, list) else path).parent
    return str(err.value).replace(f"{folder}/", "")


def bomb_parquet(path: Path, rows: int = 100, columns=("en", "de", "fr"), **write_options) -> Path:
    """``rows`` rows of ``CELL``-byte texts per column: one dictionary value per column, compressed."""
    table = {"id": [f"q{i}" for i in range(rows)]}
    for k, column in enumerate(columns):
        table[column] = [chr(ord("a") + k) * CELL] * rows
    pq.write_table(pa.table(table), path, compression="zstd", compression_level=19, **write_options)
    return path


def test_value_size_counts_utf8_bytes_of_nested_values():
    assert value_size("abc") == 3
    assert value_size("日本") == 6
    assert value_size(["ab", {"k": "é"}, None, 7, True]) == 2 + 1 + 2
    deep: list = []
    for _ in range(5_000):  # deeper than Python's recursion limit: walked without recursion
        deep = [deep, "x"]
    assert value_size(deep) == 5_000


def test_arrow_cell_sizes_match_the_python_values():
    arrays = [
        pa.array(["ab", None, "日本", ""]),
        pa.array(["aa", None, "bbb", "aa"]).dictionary_encode(),
        pa.array([["ab", "c"], None, ["dddd"], []]),
        pa.array([["ab", "c"], None, ["d", "e"], ["f", "g"]], type=pa.list_(pa.string(), 2)),
        pa.array([[("k", "vv")], None, [("a", "b"), ("c", "d")], []], type=pa.map_(pa.string(), pa.string())),
    ]
    for array in arrays:
        for view in (array, array.slice(1)):
            expected = [value_size(v) for v in view.to_pylist()]
            assert cell_sizes(view).tolist() == expected, view.type
    struct = pa.array([{"x": "ab", "y": 1}, None, {"x": "é", "y": 2}, {"x": None, "y": 3}])
    assert cell_sizes(struct).tolist() == [2, 0, 2, 0]  # field names are the schema's, not decoded per row


# ------------------------------------------------------------------ Parquet bombs


def test_a_small_parquet_bomb_is_refused_before_its_text_is_decoded(tmp_path, monkeypatch):
    path = bomb_parquet(tmp_path / "bomb.parquet", rows=1_000)
    assert path.stat().st_size < 4_000  # 60 MB of text in about 3 kB
    monkeypatch.setattr(validation, "MAX_DECODED_BYTES", 1_000_000)
    load_queryset(bomb_parquet(tmp_path / "warm-up.parquet", rows=3))  # imports what loading needs
    tracemalloc.start()
    try:
        message = load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 1,000,000 bytes are reached in row 17: 16 rows x 3 cells x 20,000 bytes + ids = 960,000 + ...
    assert message.startswith("bomb.parquet: the text decoded up to row 17 is ")
    assert "over the 1,000,000 bytes limit per file (semanscope.data.validation.MAX_DECODED_BYTES)" in message
    assert peak < 2_000_000  # no row became Python strings: the batch was measured in Arrow


def test_a_parquet_cell_over_the_cell_limit_names_row_and_column(tmp_path, monkeypatch):
    path = bomb_parquet(tmp_path / "cells.parquet", rows=5)
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", CELL - 1)
    assert load_error(path) == (
        "cells.parquet: row 1, column 'en': a cell of 20,000 bytes is over the 19,999 bytes limit per cell "
        "(semanscope.data.validation.MAX_CELL_BYTES); shorten that text"
    )
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", CELL)
    assert load_queryset(path).queryset.cells[0][0] == ("a" * CELL,)


def test_a_list_cell_counts_all_its_alternatives(tmp_path, monkeypatch):
    path = tmp_path / "lists.parquet"
    rows = [["x" * 600, "y" * 600], ["z"]] * 2 + [["w"]]
    pq.write_table(pa.table({"id": ["a", "b", "c", "d", "e"], "en": ["one"] * 5, "de": rows}), path)
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", 1_000)
    assert "row 1, column 'de': a cell of 1,200 bytes" in load_error(path)


def test_the_parquet_footer_is_checked_before_any_column_is_read(tmp_path, monkeypatch):
    path = bomb_parquet(tmp_path / "plain.parquet", use_dictionary=False)
    monkeypatch.setattr(validation, "MAX_DECODED_BYTES", 1_000_000)
    message = load_error(path)
    assert message.startswith("plain.parquet: the Parquet footer declares 5.72 MiB of uncompressed column data")


def test_webfaq_counts_only_the_columns_it_reads(tmp_path, monkeypatch):
    """The answers are never decoded, so an answer bomb costs nothing; a question bomb is refused."""
    n = 30
    table = {
        "language1": ["eng"] * n,
        "language2": ["deu"] * n,
        "question1": [f"question {i}" for i in range(n)],
        "question2": [f"Frage {i}" for i in range(n)],
        "answer1": ["a" * CELL] * n,
        "answer2": ["b" * CELL] * n,
    }
    path = tmp_path / "faq.parquet"
    pq.write_table(pa.table(table), path, compression="zstd")
    monkeypatch.setattr(validation, "MAX_DECODED_BYTES", 100_000)
    assert len(load_queryset(path, format="webfaq").queryset.ids) == n
    table["question2"] = ["c" * CELL] * n
    pq.write_table(pa.table(table), path, compression="zstd")
    assert "the text decoded up to row 5 is " in load_error(path, format="webfaq")


# ------------------------------------------------------------------ text formats


def test_jsonl_is_counted_line_by_line(tmp_path, monkeypatch):
    lines = [
        json.dumps({"id": f"q{i}", "note": "n" * 300, "texts": {"de": ["d" * 300, "x"], "en": "e"}}) for i in range(10)
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(validation, "MAX_DECODED_BYTES", 2_000)
    # a line decodes id 2 + note 300 + texts (de: 2 + 300 + 1, en: 2 + 1) = 608 bytes (keys in "texts" counted);
    # 3 lines = 1,824, then line 4's id and note reach 2,126
    assert load_error(path) == (
        "set.jsonl: the text decoded up to line 4 is 2,126 bytes, over the 2,000 bytes limit per file "
        "(semanscope.data.validation.MAX_DECODED_BYTES); split the file"
    )
    monkeypatch.setattr(validation, "MAX_DECODED_BYTES", 10**6)
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", 305)
    assert load_error(path).startswith("set.jsonl: line 1, column 'texts': a cell of 306 bytes is over")


def test_a_json_array_and_a_csv_are_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", 100)
    array = tmp_path / "set.json"
    array.write_text(json.dumps([{"id": "q1", "en": "x", "de": "日" * 34}]), encoding="utf-8")
    assert load_error(array).startswith("set.json: item 1, column 'de': a cell of 102 bytes is over the 100 bytes")
    table = tmp_path / "set.csv"
    table.write_text("id,en,de\nq1,a,b\nq2,a," + "é" * 51 + "\n", encoding="utf-8")
    assert load_error(table).startswith("set.csv: row 2 (line 3), column 'de': a cell of 102 bytes is over")


def test_a_csv_cell_longer_than_the_csv_modules_limit_gets_the_same_message(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", 500)
    previous = csv.field_size_limit(1_000)
    try:
        table = tmp_path / "set.csv"
        table.write_text("id,en,de\nq1,a,b\nq2,a," + "x" * 2_000 + "\n", encoding="utf-8")
        assert load_error(table) == (
            "set.csv: row 2 (line 3): a cell of more than 1,000 characters is over the 500 bytes limit per cell "
            "(semanscope.data.validation.MAX_CELL_BYTES); shorten that text"
        )
    finally:
        csv.field_size_limit(previous)


def test_xquad_questions_are_counted(tmp_path, monkeypatch):
    def squad(question: str) -> dict:
        qas = [{"id": f"q{i}", "question": question if i == 2 else f"question {i}"} for i in range(4)]
        return {"data": [{"title": "T", "paragraphs": [{"qas": qas}]}]}

    (tmp_path / "xquad.en.json").write_text(json.dumps(squad("long " * 40)), encoding="utf-8")
    (tmp_path / "xquad.de.json").write_text(json.dumps(squad("Frage")), encoding="utf-8")
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", 100)
    message = load_error(sorted(tmp_path.glob("*.json")), format="xquad")
    assert message.startswith("xquad.en.json: article 1, paragraph 1, question 3, column 'question': a cell of 200")


def test_empty_rows_count_towards_the_row_limit(tmp_path, monkeypatch):
    """A file of empty rows (``,,``) would otherwise grow without limit while nothing is kept."""
    path = tmp_path / "empty.csv"
    path.write_text("id,en,de\n" + "".join(f"e{i},,\n" for i in range(10)) + "q1,a,b\n", encoding="utf-8")
    monkeypatch.setattr(validation, "MAX_CONCEPTS", 5)
    assert "more than 5 concepts (rows, empty ones included; at row 6 (line 7))" in load_error(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("deep.jsonl", "[" * 100_000 + "\n", "deep.jsonl: line 1: JSON nested too deeply"),
        ("int.jsonl", '{"id": ' + "9" * 5_000 + "}\n", "int.jsonl: line 1: invalid JSON (Exceeds the limit"),
        ("deep.json", "[" * 100_000, "deep.json: JSON nested too deeply"),
    ],
    ids=["deep-jsonl", "huge-int-jsonl", "deep-json"],
)
def test_json_the_parser_refuses_is_a_clean_error(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert load_error(path).startswith(expected)


# ------------------------------------------------------------------ fuzz


def _seeds(folder: Path) -> list[Path]:
    rows = [("q1", "food", "apple", "Apfel|Obst"), ("q2", "home", "house", "Haus"), ("q3", "x", "tree", "Baum")]
    csv_path = folder / "seed.csv"
    csv_path.write_text("id,topic,en,de\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    tsv_path = folder / "seed.tsv"
    tsv_path.write_text("id\ten\tde\n" + "".join(f"{r[0]}\t{r[2]}\t{r[3]}\n" for r in rows), encoding="utf-8")
    jsonl_path = folder / "seed.jsonl"
    jsonl_path.write_text(
        "".join(
            json.dumps({"id": r[0], "topic": r[1], "texts": {"en": r[2], "de": r[3].split("|")}}) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    json_path = folder / "seed.json"
    json_path.write_text(json.dumps([{"id": r[0], "en": r[2], "de": r[3]} for r in rows]), encoding="utf-8")
    parquet_path = folder / "seed.parquet"
    pq.write_table(
        pa.table({"id": [r[0] for r in rows], "en": [r[2] for r in rows], "de": [r[3] for r in rows]}), parquet_path
    )
    webfaq_path = folder / "seed-faq.parquet"
    faq = {
        "language1": ["eng", "deu", "eng", "eng"],
        "language2": ["deu", "eng", "deu", "deu"],
        "question1": ["How?", "Warum?", "Who?", "When?"],
        "question2": ["Wie?", "Why?", "Wer?", "Wann?"],
        "labse_similarity": [0.9, 0.8, 0.7, 0.95],
    }
    pq.write_table(pa.table(faq), webfaq_path, compression="gzip")
    return [csv_path, tsv_path, jsonl_path, json_path, parquet_path, webfaq_path]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: flip, overwrite with a special byte, insert, delete, duplicate or truncate."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out.append(rng.randrange(256))
        k = rng.randrange(len(out))
        op = rng.randrange(6)
        if op == 0:
            out[k] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[k] = rng.choice(b'\x00\xff\n\r",;|\\[{}]#\t')
        elif op == 2:
            out[k:k] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3:
            del out[k : k + rng.randint(1, 8)]
        elif op == 4:
            out[k:k] = out[k : k + rng.randint(1, 64)] * rng.randint(2, 20)
        else:
            del out[k:]
    return bytes(out)


def test_fuzzed_files_load_or_raise_a_queryset_error(tmp_path, monkeypatch):
    """Mutated bytes of a valid file of every format (fixed seeds, 60 cases each): the loaders either
    return a query set or raise QuerySetError - never another exception - within small limits."""
    monkeypatch.setattr(validation, "MAX_DECODED_BYTES", 50_000)
    monkeypatch.setattr(validation, "MAX_CELL_BYTES", 5_000)
    seeds = _seeds(tmp_path)
    outcomes = {"loaded": 0, "refused": 0}
    for seed_number, seed in enumerate(seeds):
        original = seed.read_bytes()
        assert load_queryset(seed).queryset is not None
        rng = random.Random(seed_number)
        for case in range(60):
            path = tmp_path / f"case-{case}{seed.suffix}"
            path.write_bytes(_mutate(original, rng) if case else rng.randbytes(rng.randint(0, 300)))
            try:
                load_queryset(path)
            except QuerySetError:
                outcomes["refused"] += 1
            except Exception as exc:  # noqa: BLE001 - the assertion names what escaped
                raise AssertionError(f"{seed.name} case {case}: {type(exc).__name__}: {exc}") from exc
            else:
                outcomes["loaded"] += 1
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 0
