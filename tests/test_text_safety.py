"""User text in names and renderings: ASCII slugs for file names and LaTeX labels, escaped
Markdown/LaTeX exports, and the app rendering file-derived text through ``markdown_escape``."""

import ast
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from semanscope.data.loaders import load_queryset
from semanscope.plots.tables import latex_escape, markdown_escape, to_latex, to_markdown
from semanscope.slug import ascii_slug

ROOT = Path(__file__).resolve().parents[1]
PIXEL = "![x](http://127.0.0.1:9/id.png)"
HOSTILE = f"<script>alert(1)</script> <img src=x onerror=alert(1)> {PIXEL} [x](http://e.example) a|b"


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


# ------------------------------------------------------------------ slugs
def test_ascii_slug_keeps_ascii_names_and_hashes_what_it_cannot_keep():
    name = "données_日本-scores"
    assert ascii_slug(name) == f"donnees-scores-{short_hash(name)}"
    assert ascii_slug("données_中国-scores") != ascii_slug(name)  # the lost script part still tells them apart
    assert ascii_slug("e5-small-nano") == "e5-small-nano"
    assert ascii_slug("Crème Brûlée / v2.1") == "creme-brulee-v2-1"  # nothing lost: no hash
    assert ascii_slug("日本") == short_hash("日本")
    assert ascii_slug("../../etc/passwd") == "etc-passwd"
    long = "a" * 100
    assert ascii_slug(long) == "a" * 60 + "-" + short_hash(long)


def test_a_non_ascii_upload_name_gives_valid_latex_labels_and_file_names(tmp_path):
    path = tmp_path / "données_日本.csv"
    path.write_text("id,en,de\nq1,a,b\nq2,c,d\nq3,e,f\n", encoding="utf-8")
    name = load_queryset(path).queryset.name
    assert name == "données_日本"
    with pytest.raises(ValueError, match="may only contain"):  # what broke the Affinity page
        to_latex(pd.DataFrame({"v": [1]}), label=f"tab:{name}-scores")
    stem = ascii_slug(f"{name}-scores")
    assert r"\label{tab:" + stem + "}" in to_latex(pd.DataFrame({"v": [1]}), label=f"tab:{stem}")
    assert stem.isascii() and stem.replace("-", "").isalnum()


def test_the_app_table_downloads_accept_a_non_ascii_name():
    def app():
        import pandas as pd

        from semanscope.ui.downloads import table_downloads

        table_downloads(pd.DataFrame({"model": ["m"], "SA": [0.5]}), "données_日本-scores", caption="données")

    at = AppTest.from_function(app).run()
    assert not at.exception, at.exception


# ------------------------------------------------------------------ exports
def test_markdown_escape_leaves_no_html_image_link_or_pipe():
    assert markdown_escape(HOSTILE) == (
        "&#60;script&#62;alert(1)&#60;/script&#62; &#60;img src=x onerror=alert(1)&#62; "
        "!&#91;x&#93;(http://127.0.0.1:9/id.png) &#91;x&#93;(http://e.example) a&#124;b"
    )
    assert markdown_escape("a\x00b\x1b[31mc\r\n\n\td $x$") == "ab&#91;31mc d &#36;x&#36;"


def test_markdown_table_export_escapes_every_cell_and_header():
    table = to_markdown(pd.DataFrame({"name<b>": [PIXEL, "<img src=x onerror=alert(1)>"], "SA": [0.5, 0.25]}))
    assert table == (
        "| name&#60;b&#62;                         |    SA |\n"
        "| --------------------------------------- | ----: |\n"
        "| !&#91;x&#93;(http://127.0.0.1:9/id.png) | 0.500 |\n"
        "| &#60;img src=x onerror=alert(1)&#62;    | 0.250 |\n"
    )


def test_latex_export_escapes_specials_drops_control_characters_and_blank_lines():
    assert latex_escape("50% of $x_1$ & {y}\n\n\nnext\x00\x07\tend\\") == (
        r"50\% of \$x\_1\$ \& \{y\} next end\textbackslash{}"
    )
    tex = to_latex(pd.DataFrame({"text": ["line one\n\nline two", "\x0c#1"]}), caption="a\n\nb")
    assert r"\caption{a b}" in tex
    assert "line one line two \\\\\n" in tex and "\\#1 \\\\\n" in tex
    assert "\n\n" not in tex and "\x0c" not in tex


# ------------------------------------------------------------------ the app
def test_an_error_quoting_a_tracking_pixel_is_shown_literally():
    def app():
        from semanscope.ui.errors import show_error

        show_error("row 2: concept '![x](http://127.0.0.1:9/id.png)-2' is bad", "Loading the data")

    at = AppTest.from_function(app).run()
    shown = at.error[0].value
    assert "![x](" not in shown and "!&#91;x&#93;(http://127.0.0.1:9/id.png)" in shown


RENDERERS = {"markdown", "caption", "warning", "error", "info", "success", "header", "subheader", "title", "toast"}
USER_ATTRIBUTES = {"name", "message", "key", "source", "degradation_note"}
"""Attributes holding text from files, uploads or models: query-set and run names, run messages
(which quote concept ids), model keys, provenance sources."""


def _unescaped_user_text(node: ast.AST) -> list[str]:
    """User-text attributes in ``node`` that are not inside a ``markdown_escape(...)`` call."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "markdown_escape":
        return []
    found = []
    if isinstance(node, ast.Attribute) and node.attr in USER_ATTRIBUTES:
        found.append(ast.unparse(node))
    if isinstance(node, ast.Subscript | ast.Call) and "get(" in ast.unparse(node) and "'source'" in ast.unparse(node):
        found.append(ast.unparse(node))
    for child in ast.iter_child_nodes(node):
        found += _unescaped_user_text(child)
    return found


def test_ui_code_renders_user_text_through_markdown_escape():
    """Every Markdown-rendering Streamlit call (``st.markdown``, ``caption``, ``warning``, headers ...)
    in the UI module and the pages wraps names, messages, keys and sources in ``markdown_escape``."""
    offenders = []
    ui_modules = sorted((ROOT / "semanscope" / "ui").glob("*.py"))
    for path in [*ui_modules, ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RENDERERS:
                for arg in node.args[:1]:
                    offenders += [f"{path.name}:{node.lineno}: {text}" for text in _unescaped_user_text(arg)]
    assert offenders == []
