"""Model folders built by ``semanscope setup``: written whole or not at all, with their metadata.

A build writes into ``<out_dir>.partial`` and renames it to ``out_dir`` only when complete, so
``out_dir`` is either absent or complete (an interrupted or failed build leaves nothing behind);
the metadata file records how the model was built.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

META_FILE = "semanscope_meta.json"


@contextmanager
def atomic_folder(out_dir: Path) -> Iterator[Path]:
    """Yield an empty ``<out_dir>.partial`` (a leftover of an earlier build is removed first); rename
    it to ``out_dir`` when the block ends normally, remove it and re-raise on any exception (also
    KeyboardInterrupt)."""
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: Path, obj: dict | list) -> None:
    """``obj`` as indented UTF-8 JSON (non-ASCII kept) with a final newline; parent folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_meta(folder: Path, meta: dict) -> None:
    """The build metadata ``folder/META_FILE``."""
    write_json(folder / META_FILE, meta)


def read_meta(folder: Path) -> Any:
    """The parsed build metadata ``folder/META_FILE`` as written by :func:`write_meta` (any JSON
    value: callers check its shape); OSError when it cannot be read, ValueError when it is not JSON."""
    return json.loads((folder / META_FILE).read_text(encoding="utf-8"))
