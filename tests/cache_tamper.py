"""What an attacker or a failing disk does to a cache folder, whatever the cache's schema.

Every helper works on the SQLite files found under a folder (by their header), so the same
tests reproduce the failures of earlier cache formats and check the current one.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

SQLITE_HEADER = b"SQLite format 3\0"


class _Touch:
    """Unpickling this creates ``path``: the marker of code run from a cache value."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch '{self.path}'",))


def pickle_payload(marker: Path) -> bytes:
    """A pickle whose loading runs ``touch marker`` (as in the report of issue 12)."""
    return pickle.dumps(_Touch(marker))


def sqlite_files(directory: Path) -> list[Path]:
    """The SQLite database files under ``directory`` (not their -wal/-shm companions)."""
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            with open(path, "rb") as handle:
                if handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
                    found.append(path)
    return found


def update_values(directory: Path, expression: str, params: tuple = ()) -> int:
    """``UPDATE <table> SET value = <expression>`` in every table holding cache entries (columns
    ``key``, ``value`` and ``tag``) of every SQLite file under ``directory``; rows that also have
    diskcache's ``mode`` column are marked as pickles (mode 4) stored inline. Returns the rows changed.
    """
    changed = 0
    for db in sqlite_files(directory):
        with closing(sqlite3.connect(db)) as con:
            tables = [name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                columns = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
                if not {"key", "value", "tag"} <= columns:
                    continue
                extra = ", mode = 4, filename = NULL" if "mode" in columns else ""
                changed += con.execute(f'UPDATE "{table}" SET value = {expression}{extra}', params).rowcount
            con.commit()
    return changed


@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """``directory`` and its files cannot be written inside the block (chmod; ``chattr +i`` as root,
    whom permissions do not stop); skips the test when neither is possible."""
    paths = [directory, *directory.rglob("*")]
    if os.name == "posix" and os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", *map(str, paths)], capture_output=True).returncode:
            pytest.skip("chattr +i is not supported here")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", *map(str, paths)], capture_output=True)
        return
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)


def garble_database(directory: Path) -> Path:
    """Overwrite the (single) SQLite file under ``directory`` with a byte pattern; drop its WAL files."""
    (db,) = sqlite_files(directory)
    size = db.stat().st_size
    db.write_bytes((bytes(range(7, 256)) * (size // 249 + 1))[:size])
    for extra in db.parent.glob(db.name + "-*"):
        extra.unlink()
    return db
