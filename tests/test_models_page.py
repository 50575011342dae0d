"""The Models page: status table, the server-paths gate, adding and removing models for a session,
and the catalogue; plus the app logic behind it (``appcore.visible_models``, ``model_table``,
``server_models_allowed``)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("streamlit")
from app_pages import fast_app, run_page  # noqa: E402
from tokenizers import Tokenizer, models  # noqa: E402

from semanscope import appcore  # noqa: E402
from semanscope.models import registry  # noqa: E402
from semanscope.models.build_static import save_model2vec  # noqa: E402
from semanscope.models.catalogue import CATALOGUE, catalogue  # noqa: E402
from semanscope.ui import state  # noqa: E402

PAGE = "pages/7_Models.py"


@pytest.fixture(scope="module", autouse=True)
def fast_settings(tmp_path_factory):
    with fast_app(tmp_path_factory.mktemp("semanscope-cache")):
        yield


@pytest.fixture
def m2v_folder(tmp_path):
    folder = tmp_path / "my-m2v"
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "hello": 1, "hallo": 2}, unk_token="[UNK]"))
    save_model2vec(folder, np.eye(3, 4, dtype=np.float32) + 0.1, tokenizer)
    yield folder
    registry.unregister_user_model("my-m2v")


def test_server_models_are_off_unless_the_environment_or_secrets_allow_them() -> None:
    assert not appcore.server_models_allowed({}, {})
    assert not appcore.server_models_allowed({appcore.ALLOW_SERVER_MODELS_ENV: "0"}, {"allow_server_models": "yes"})
    assert appcore.server_models_allowed({appcore.ALLOW_SERVER_MODELS_ENV: "1"}, {})
    assert appcore.server_models_allowed({appcore.ALLOW_SERVER_MODELS_ENV: " TRUE "}, {})
    assert appcore.server_models_allowed({}, {"allow_server_models": True})


def test_a_session_sees_the_built_in_models_and_only_its_own_additions(m2v_folder) -> None:
    info = registry.register_user_model("model2vec", m2v_folder, key="my-m2v")
    infos = registry.list_models()
    builtin = [i.key for i in infos if i.kind == "builtin"]
    assert [i.key for i in appcore.visible_models(infos, [])] == builtin
    assert [i.key for i in appcore.visible_models(infos, ["gone", "my-m2v"])] == [*builtin, "my-m2v"]
    table = appcore.model_table([info])
    assert table.to_dict("records") == [
        {
            "model": "model2vec my-m2v",
            "key": "my-m2v",
            "family": "static",
            "dim": "4",
            "kind": "model2vec",
            "status": "installed",
            "default": "",
            "to use it": "",
        }
    ]
    assert appcore.model_table([info], defaults=["my-m2v"])["default"].tolist() == ["yes"]


def test_the_catalogue_says_what_is_missing_offline() -> None:
    rows = catalogue()
    assert [e.name for e, _ in rows] == [e.name for e in CATALOGUE]
    for entry, info in rows:
        assert info.available or "needs internet once" in info.fix and entry.name in info.fix


def test_gate_off_no_path_or_url_inputs(monkeypatch) -> None:
    monkeypatch.delenv(appcore.ALLOW_SERVER_MODELS_ENV, raising=False)
    at = run_page(PAGE)
    assert not at.exception
    assert not [t for t in at.text_input if t.key in ("add_source", "add_url")]
    assert any(appcore.ALLOW_SERVER_MODELS_ENV in i.value for i in at.info)
    table = at.dataframe[0].value
    assert "tokenlearn-static" in list(table["key"])
    catalogue_buttons = [b for b in at.button if b.key.startswith("catalogue:")]
    assert len(catalogue_buttons) == len(CATALOGUE)


def test_gate_on_adding_a_model_puts_it_in_every_picker(monkeypatch, m2v_folder) -> None:
    monkeypatch.setenv(appcore.ALLOW_SERVER_MODELS_ENV, "1")
    at = run_page(PAGE)
    at.radio(key="add_kind").set_value("model2vec").run()
    at.text_input(key="add_source").input(str(m2v_folder)).run()
    at.text_input(key="add_key").input("my-m2v").run()
    at.button(key="add_model").click().run()
    assert not at.exception and not at.error
    assert "my-m2v" in at.success[0].value
    assert at.session_state[state.USER_MODELS] == ["my-m2v"]
    assert "my-m2v" in list(at.dataframe[0].value["key"])

    # another page of the same session (session state is shared between pages)
    compare = run_page("pages/2_Compare.py", **{state.USER_MODELS: at.session_state[state.USER_MODELS]})
    assert any("my-m2v" in o for o in compare.sidebar.multiselect(key=f"w:{state.MODELS}").options)
    assert not any(
        "my-m2v" in o for o in run_page("pages/2_Compare.py").sidebar.multiselect(key=f"w:{state.MODELS}").options
    )

    at.button(key="remove:my-m2v").click().run()
    assert at.session_state[state.USER_MODELS] == []


def test_gate_on_a_bad_path_is_a_one_line_message(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(appcore.ALLOW_SERVER_MODELS_ENV, "1")
    at = run_page(PAGE)
    at.radio(key="add_kind").set_value("endpoint").run()
    at.text_input(key="add_url").input("file:///etc/passwd").run()
    at.text_input(key="add_endpoint_model").input("m").run()
    at.button(key="add_model").click().run()
    assert not at.exception
    assert "http://" in at.error[0].value and "\n" not in at.error[0].value
    assert state.USER_MODELS not in at.session_state
