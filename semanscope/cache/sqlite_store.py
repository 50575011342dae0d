"""The one store behind both caches: a single SQLite file ``<directory>/cache.sqlite3``.

One table ``entries(key TEXT UNIQUE, value BLOB, tag TEXT, stored_at REAL, size INTEGER)``
(``size`` = bytes of key + value), indexes on ``stored_at`` and ``tag``, and a one-row table
``totals(entries, volume)`` kept by triggers so sizes are O(1). Values are opaque bytes here
(see :mod:`semanscope.cache.codec`); nothing is ever unpickled.

* Concurrency: WAL journal (readers never wait for a writer), one connection per store
  object guarded by a lock (thread-safe), each write one ``BEGIN IMMEDIATE`` transaction of at
  most :data:`WRITE_CHUNK` entries (process-safe; other processes wait up to
  :data:`TIMEOUT_SECONDS`). A forked child opens its own connection.
* Size limit: after each write, inside its transaction, the least recently stored entries
  are deleted until ``volume <= size_limit``.
* Reads: batched ``SELECT ... WHERE key IN (...)``; a value longer than the caller's bound,
  or not a blob, comes back as ``None`` without being read.
* Damage: the file is opened only if its schema is exactly the one above. A file that is not
  a database, reports itself corrupt (now or in any later statement) or holds another schema
  is renamed ``cache.sqlite3.corrupt-<UTC time>`` (with its -wal/-shm) and a fresh one created;
  the operation then runs on the fresh file. A read-only folder or file is opened read-only
  (``mode=ro``, else ``immutable=1``): hits are served, nothing is written.
* Failures never raise: a write failure (disk full, lock timeout) makes the store read-only
  (:attr:`SQLiteStore.writable` False), a read failure or a file that cannot be opened at all
  makes it unusable; either way a :class:`~semanscope.cache.problems.CacheProblem` of kind
  ``"unavailable"`` is reported once and :attr:`SQLiteStore.problem` says why, so the caller
  keeps new values in memory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from semanscope.cache.problems import ProblemLog

FILE_NAME = "cache.sqlite3"
TIMEOUT_SECONDS = 60.0  # how long a writer waits for another process's write transaction
READ_CHUNK = 500  # keys per SELECT
WRITE_CHUNK = 512  # entries per write transaction
EVICT_CHUNK = 256  # oldest entries fetched per eviction step
PAGE_SIZE = 16384  # bytes per page of a new file: several vectors per page (~20% overhead for 384-d vs 35% at 4096)
SCHEMA = (
    "CREATE TABLE entries (key TEXT NOT NULL UNIQUE, value BLOB NOT NULL, tag TEXT NOT NULL,"
    " stored_at REAL NOT NULL, size INTEGER NOT NULL)",
    "CREATE INDEX entries_stored_at ON entries (stored_at)",
    "CREATE INDEX entries_tag ON entries (tag)",
    "CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 0), entries INTEGER NOT NULL, volume INTEGER NOT NULL)",
    "CREATE TRIGGER entries_insert AFTER INSERT ON entries BEGIN"
    " UPDATE totals SET entries = entries + 1, volume = volume + new.size; END",
    "CREATE TRIGGER entries_delete AFTER DELETE ON entries BEGIN"
    " UPDATE totals SET entries = entries - 1, volume = volume - old.size; END",
    "CREATE TRIGGER entries_resize AFTER UPDATE OF size ON entries BEGIN"
    " UPDATE totals SET volume = volume + new.size - old.size; END",
    "INSERT INTO totals VALUES (0, 0, 0)",
)
_UPSERT = (
    "INSERT INTO entries (key, value, tag, stored_at, size) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE"
    " SET value = excluded.value, tag = excluded.tag, stored_at = excluded.stored_at, size = excluded.size"
)
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
T = TypeVar("T")


def _master_rows(con: sqlite3.Connection) -> set[tuple]:
    return set(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


def _expected_schema() -> frozenset[tuple]:
    con = sqlite3.connect(":memory:")
    try:
        for statement in SCHEMA:
            con.execute(statement)
        return frozenset(_master_rows(con))
    finally:
        con.close()


_EXPECTED = _expected_schema()


class _NotOurs(Exception):
    """The file is a database, but not a Semanscope cache of this schema."""


def is_corruption(exc: BaseException) -> bool:
    """True for SQLite's "database disk image is malformed" and "file is not a database"."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _rollback(con: sqlite3.Connection) -> None:
    if con.in_transaction:
        try:
            con.execute("ROLLBACK")
        except sqlite3.Error:
            pass


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (take the write lock now, waiting for other processes) ... ``COMMIT``;
    on an exception :meth:`SQLiteStore._run` rolls back."""
    con.execute("BEGIN IMMEDIATE")
    yield
    con.execute("COMMIT")


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class SQLiteStore:
    """``key -> bytes`` in ``directory/cache.sqlite3`` (see the module docstring).

    ``what`` names the cache in messages (e.g. ``"embedding cache"``); problems go to ``problems``.
    """

    def __init__(self, directory: Path, size_limit: int, problems: ProblemLog, what: str) -> None:
        self.path = Path(directory) / FILE_NAME
        self.size_limit = size_limit
        self.what = f"{what} at {directory}"
        self.problem: str | None = None
        self.writable = False
        self._problems = problems
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened
        self._pid = os.getpid()
        self._inherited: sqlite3.Connection | None = None  # a parent's connection: never used, never closed
        self._open()

    # ------------------------------------------------------------------ opening
    def _open(self) -> None:
        """Open read-write (moving a damaged file aside once), else read-only, else give up."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._give_up(f"cannot open the {self.what} ({exc})", keep_reads=False)
            return
        reason = "unable to open the database file"
        for attempt in range(2):
            self._remember_identity()  # what a failed open may move aside: never another process's fresh file
            try:
                self._con, self.writable = self._connect(""), True
                self._remember_identity()
                return
            except (sqlite3.Error, _NotOurs, OSError) as exc:
                reason = str(exc)
                damaged = isinstance(exc, _NotOurs) or (isinstance(exc, sqlite3.Error) and is_corruption(exc))
                if not (damaged and attempt == 0 and self._move_aside(reason)):
                    break
        for mode in ("mode=ro", "mode=ro&immutable=1"):
            try:
                self._con = self._connect(mode)
            except (sqlite3.Error, _NotOurs, OSError):
                continue
            self._remember_identity()
            self._give_up(
                f"the {self.what} is read-only ({reason}): cached values are used, new ones are kept in memory only",
                keep_reads=True,
            )
            return
        self._give_up(f"cannot open the {self.what} ({reason})", keep_reads=False)

    def _connect(self, mode: str) -> sqlite3.Connection:
        """A connection to a file holding exactly :data:`SCHEMA` (created when empty and writable)."""
        target = f"{self.path.resolve().as_uri()}?{mode}" if mode else str(self.path)
        con = sqlite3.connect(
            target, timeout=TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False, uri=bool(mode)
        )
        try:
            rows = _master_rows(con)
            if not mode:
                if not rows:  # a new file: these take effect only before the first table
                    con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                    con.execute("PRAGMA auto_vacuum = INCREMENTAL")
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("PRAGMA synchronous = NORMAL")  # with WAL: a crash loses no committed write
                if not rows:
                    self._create_schema(con)
                    rows = _master_rows(con)
            if rows != _EXPECTED:
                raise _NotOurs("not a Semanscope cache of this version")
        except BaseException:
            con.close()
            raise
        return con

    @staticmethod
    def _create_schema(con: sqlite3.Connection) -> None:
        with _transaction(con):
            if not _master_rows(con):  # another process may have created it meanwhile
                for statement in SCHEMA:
                    con.execute(statement)

    def _remember_identity(self) -> None:
        try:
            st = os.stat(self.path)
            self._identity = (st.st_dev, st.st_ino)
        except OSError:
            self._identity = None

    def _move_aside(self, reason: str) -> bool:
        """Rename the damaged file (and its -wal/-shm) to ``*.corrupt-<UTC time>``; True when the
        path is free for a fresh file (also when another process already moved it)."""
        if self._con is not None:
            self._con.close()
            self._con = None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        if self._identity is not None and (st.st_dev, st.st_ino) != self._identity:
            return True  # another process replaced it already: open its fresh file
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                companion = self.path.with_name(self.path.name + suffix)
                if companion.exists():
                    os.replace(companion, aside.with_name(aside.name + suffix))
        except OSError:
            return False
        self._identity = None
        self._problems.report(
            "repaired",
            f"the {self.what} was damaged ({reason}): moved aside to {aside.name} and a fresh one created; "
            "its values will be recomputed",
        )
        return True

    def _give_up(self, problem: str, *, keep_reads: bool) -> None:
        """Stop writing (and reading, unless ``keep_reads``); report once."""
        self.writable = False
        if not keep_reads and self._con is not None:
            self._con.close()
            self._con = None
        self.problem = problem
        self._problems.report("unavailable", problem)

    # ------------------------------------------------------------------ running statements
    def _run(self, action: str, work: Callable[[sqlite3.Connection], T], default: T, *, write: bool) -> T:
        """``work(connection)`` under the lock; on corruption the file is moved aside and ``work``
        retried once on a fresh file; any other SQLite error disables writing (``write``) or the
        whole store, and ``default`` is returned. An open transaction is rolled back on any exception."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connection must not be used here
                self._pid, self._inherited, self._con = os.getpid(), self._con, None
                self._open()
            for attempt in range(2):
                con = self._con
                if con is None or (write and not self.writable):
                    return default
                try:
                    return work(con)
                except sqlite3.Error as exc:
                    _rollback(con)
                    if attempt == 0 and self.writable and is_corruption(exc) and self._move_aside(str(exc)):
                        self._open()
                        continue
                    self._give_up(f"cannot {action} the {self.what} ({exc})", keep_reads=write)
                    return default
                except BaseException:
                    _rollback(con)
                    raise
            return default

    # ------------------------------------------------------------------ API
    @property
    def readable(self) -> bool:
        return self._con is not None

    def get_many(self, keys: Sequence[str], max_bytes: int) -> dict[str, bytes | None]:
        """Stored values of ``keys`` (absent keys left out); ``None`` for a value that is not a
        blob or is longer than ``max_bytes`` (never read)."""

        def work(con: sqlite3.Connection) -> dict[str, bytes | None]:
            found: dict[str, bytes | None] = {}
            for chunk in _chunks(keys, READ_CHUNK):
                sql = (
                    "SELECT key, CASE WHEN typeof(value) = 'blob' AND length(value) <= ? THEN value END"
                    f" FROM entries WHERE key IN ({','.join('?' * len(chunk))})"
                )
                found.update(con.execute(sql, (max_bytes, *chunk)))
            return found

        return self._run("read", work, {}, write=False) if keys else {}

    def count_present(self, keys: Sequence[str], value_bytes: int) -> int:
        """How many of ``keys`` hold a blob of exactly ``value_bytes`` (values are not read)."""

        def work(con: sqlite3.Connection) -> int:
            total = 0
            for chunk in _chunks(keys, READ_CHUNK):
                sql = (
                    "SELECT count(*) FROM entries WHERE typeof(value) = 'blob' AND length(value) = ?"
                    f" AND key IN ({','.join('?' * len(chunk))})"
                )
                total += con.execute(sql, (value_bytes, *chunk)).fetchone()[0]
            return total

        return self._run("read", work, 0, write=False) if keys else 0

    def put_many(self, entries: Sequence[tuple[str, bytes]], tag: str) -> bool:
        """Store ``(key, value)`` pairs under ``tag``, evicting the least recently stored beyond
        the size limit; False when they could not be written (the caller keeps them)."""

        def work(con: sqlite3.Connection) -> bool:
            for chunk in _chunks(entries, WRITE_CHUNK):
                now = time.time()
                with _transaction(con):
                    con.executemany(_UPSERT, [(key, value, tag, now, len(key) + len(value)) for key, value in chunk])
                    self._evict(con)
            return True

        return self._run("write to", work, False, write=True) if entries else True

    def _evict(self, con: sqlite3.Connection) -> None:
        """Delete the least recently stored entries until ``volume <= size_limit`` (in the caller's transaction)."""
        excess = con.execute("SELECT volume FROM totals").fetchone()[0] - self.size_limit
        while excess > 0:
            oldest = con.execute(
                "SELECT rowid, size FROM entries ORDER BY stored_at LIMIT ?", (EVICT_CHUNK,)
            ).fetchall()
            if not oldest:
                return
            doomed = []
            for rowid, size in oldest:
                doomed.append((rowid,))
                excess -= size
                if excess <= 0:
                    break
            con.executemany("DELETE FROM entries WHERE rowid = ?", doomed)

    def delete_many(self, keys: Sequence[str]) -> None:
        """Delete ``keys`` (damaged values) when the store is writable."""

        def work(con: sqlite3.Connection) -> None:
            for chunk in _chunks(keys, READ_CHUNK):
                with _transaction(con):
                    con.execute(f"DELETE FROM entries WHERE key IN ({','.join('?' * len(chunk))})", chunk)

        if keys:
            self._run("write to", work, None, write=True)

    def evict(self, tag: str | None) -> int:
        """Delete the entries with ``tag`` (all when None), return the pages to the file system;
        returns how many entries were deleted."""

        def work(con: sqlite3.Connection) -> int:
            with _transaction(con):
                if tag is None:
                    removed = con.execute("DELETE FROM entries").rowcount
                else:
                    removed = con.execute("DELETE FROM entries WHERE tag = ?", (tag,)).rowcount
            con.executescript("PRAGMA incremental_vacuum")  # execute() would free one page per call
            return removed

        return self._run("write to", work, 0, write=True)

    def totals(self) -> tuple[int, int]:
        """(entries, volume in bytes of keys + values)."""

        def work(con: sqlite3.Connection) -> tuple[int, int]:
            entries, volume = con.execute("SELECT entries, volume FROM totals").fetchone()
            return int(entries), int(volume)

        return self._run("read", work, (0, 0), write=False)

    def close(self) -> None:
        with self._lock:
            if self._con is not None and self._pid == os.getpid():
                self._con.close()
            self._con = None
