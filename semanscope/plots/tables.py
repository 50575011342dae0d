"""Table exports of result frames: CSV (safe for spreadsheets), Markdown and LaTeX (booktabs).

Markdown and LaTeX format floats with ``digits`` decimals, integers as is, missing values
(None/NaN) as empty cells, and right-align numeric columns. Confidence intervals are shown as
``"0.620 [0.580, 0.660]"`` via :func:`format_ci`. Every text cell and header is user text
(file names, categories, ids, model names): Markdown tables pass it through :func:`markdown_escape`
(no HTML, images, links or pipes survive), LaTeX tables through :func:`latex_escape` (specials
escaped, control characters dropped, line breaks one space). The same :func:`markdown_escape` makes
user text inert wherever the app renders Markdown.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "|": r"\textbar{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))
_MARKDOWN_RE = re.compile(r"[\\`*_\[\]<>&|~$\x00-\x1f\x7f]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")
_LABEL_RE = re.compile(r"^[A-Za-z0-9:_.\-]*$")


def format_ci(value: float, low: float, high: float, digits: int = 3) -> str:
    """``"v [low, high]"`` with ``digits`` decimals; just ``"v"`` when a bound is missing, ``""`` when v is."""
    if _missing(value):
        return ""
    if _missing(low) or _missing(high):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _format_cell(v: object, digits: int) -> str:
    if _missing(v):
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        return f"{float(v):.{digits}f}"
    return str(v)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


# ---------------------------------------------------------------------- CSV
def escape_formula(cell: object) -> object:
    """Prefix ``'`` to a string starting with ``= + - @``, tab or CR (CSV/formula injection); other values unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def to_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (RFC 4180: CRLF rows, so cells holding CR or LF get quoted) without the index;
    text cells and headers escaped by :func:`escape_formula`.

    Numeric columns are written unchanged (``-0.5`` stays a number); only strings are escaped.
    """
    columns = {
        j: df.iloc[:, j] if _is_numeric(df.iloc[:, j]) else df.iloc[:, j].map(escape_formula)
        for j in range(df.shape[1])
    }
    safe = pd.DataFrame(columns)
    safe.columns = [escape_formula(str(c)) for c in df.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


# ---------------------------------------------------------------------- Markdown
def _inline(text: str) -> str:
    """Control characters out: a run holding a tab or line break -> one space, others dropped."""
    return _CONTROL_RE.sub(lambda m: " " if any(c in "\t\r\n" for c in m.group(0)) else "", text)


def markdown_escape(text: str) -> str:
    """User text made inert in Markdown/HTML: ``\\ ` * _ [ ] < > & | ~ $`` become numeric HTML
    entities (``<b>`` -> ``&#60;b&#62;``, ``![x](url)`` -> ``!&#91;x&#93;(url)``: no tag, image or
    link is left, so nothing is fetched), control characters are dropped, line breaks and tabs
    become one space. Safe in running text and, having no backslash or pipe left, in Markdown
    table cells; the text must not start a line (``#``, ``-``, ``1.`` keep their meaning there)."""
    return _MARKDOWN_RE.sub(lambda m: f"&#{ord(m.group(0))};", _inline(str(text)))


def to_markdown(df: pd.DataFrame, digits: int = 3) -> str:
    """GitHub pipe table: header, ``---`` rule (``---:`` for numeric columns), one line per row;
    headers and cells through :func:`markdown_escape`."""
    headers = [markdown_escape(str(c)) for c in df.columns]
    numeric = [_is_numeric(df.iloc[:, j]) for j in range(df.shape[1])]
    rows = [[markdown_escape(_format_cell(v, digits)) for v in row] for row in df.itertuples(index=False, name=None)]
    widths = [max([3, len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "| "
        + " | ".join(("-" * (w - 1) + ":") if num else "-" * w for w, num in zip(widths, numeric, strict=True))
        + " |"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)]) + "\n"


# ---------------------------------------------------------------------- LaTeX
def latex_escape(text: str) -> str:
    """Escape LaTeX specials ``& % $ # _ { } ~ ^ \\`` and ``| < >`` (in one pass, so escapes are not
    re-escaped); control characters dropped and line breaks/tabs one space, so a cell never holds a
    blank line (a paragraph break, an error inside ``tabular``)."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], _inline(str(text)))


def to_latex(df: pd.DataFrame, caption: str = "", label: str = "", digits: int = 3) -> str:
    """A booktabs ``table`` (needs ``\\usepackage{booktabs}``): ``\\toprule`` header ``\\midrule``
    rows ``\\bottomrule``.

    Cells and caption are escaped with :func:`latex_escape`; numeric columns are right-aligned
    (``r``), others left (``l``). ``label`` is used verbatim and must match ``[A-Za-z0-9:_.-]*``.
    """
    if not _LABEL_RE.match(label):
        raise ValueError(f"LaTeX label {label!r} may only contain letters, digits and : _ . -")
    spec = "".join("r" if _is_numeric(df.iloc[:, j]) else "l" for j in range(df.shape[1]))
    header = " & ".join(latex_escape(str(c)) for c in df.columns) + r" \\"
    body = [
        " & ".join(latex_escape(_format_cell(v, digits)) for v in row) + r" \\"
        for row in df.itertuples(index=False, name=None)
    ]
    lines = [r"\begin{table}[ht]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        header,
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def coordinates_frame(
    coords: np.ndarray, languages: Sequence[str], concept_ids: Sequence[str], texts: Sequence[str]
) -> pd.DataFrame:
    """One row per point: language, concept id, text and its 2D/3D coordinates (``x``, ``y``[, ``z``]),
    e.g. to redraw a view elsewhere (export with :func:`to_csv`, which escapes formula-like cells)."""
    xyz = np.asarray(coords, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] not in (2, 3) or not len(xyz) == len(languages) == len(concept_ids) == len(texts):
        raise ValueError(f"coords {xyz.shape} must be (M, 2) or (M, 3) with one language, id and text per point")
    frame = pd.DataFrame({"language": list(languages), "concept_id": list(concept_ids), "text": list(texts)})
    for k, axis in enumerate("xyz"[: xyz.shape[1]]):
        frame[axis] = xyz[:, k]
    return frame
