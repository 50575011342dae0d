"""Identity of model files and settings: SHA-256 file digests (memoised on disk) and fingerprints.

Every embedder and builder takes its digests and fingerprints from here, and the registry (the
one module that knows every embedder) imports the embedders: this module imports no embedder
and no registry, so none of them can import each other back through it.

A fingerprint (:func:`make_fingerprint`) hashes the package version, the SHA-256 of every weight
file (:func:`file_digest`) and the settings that change vectors: changed weights change it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from semanscope.models.cache_dir import default_cache_dir

HASH_STORE_FILE = "file_hashes.json"

_Record = dict[str, object]  # {"size", "mtime_ns", "ctime_ns", "inode": int, "sha256": str}
_lock = threading.Lock()
_memo: dict[Path, dict[str, _Record]] = {}  # store file -> {absolute path: record}


def default_hash_store() -> Path:
    """``<default_cache_dir>/file_hashes.json``: where :func:`file_digest` remembers digests."""
    return default_cache_dir() / HASH_STORE_FILE


def _load_store(store: Path) -> dict[str, _Record]:
    try:
        data = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _save_store(store: Path, entries: dict[str, _Record]) -> None:
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f"{store.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(tmp, store)
    except OSError:
        pass  # read-only cache: digests are recomputed next time, nothing else changes


def file_digest(path: str | Path, store: str | Path | None = None) -> str:
    """Hex SHA-256 of a file's bytes, remembered per (absolute path, size, mtime_ns, ctime_ns, inode).

    The memo lives in this process and in the JSON file ``store`` (default
    :func:`default_hash_store`), so a multi-GB weights file is hashed once, not on every load.
    Rewriting or replacing the file changes its ctime (which, unlike mtime, cannot be set back,
    e.g. by ``cp -p`` or ``rsync -t``) or inode and forces a re-hash. A record that does not
    match the file's current stamp, or is malformed, is ignored.
    """
    store_path = Path(store) if store is not None else default_hash_store()
    p = Path(path).resolve()
    st = p.stat()
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "inode": st.st_ino}
    key = str(p)
    with _lock:
        memo = _memo.get(store_path)
        if memo is None:
            memo = _memo[store_path] = _load_store(store_path)
        hit = memo.get(key)
        if hit is not None and all(hit.get(k) == v for k, v in stamp.items()) and isinstance(hit.get("sha256"), str):
            return str(hit["sha256"])
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _lock:
        memo.update(_load_store(store_path))  # records other processes added meanwhile
        memo[key] = {**stamp, "sha256": digest}
        _save_store(store_path, memo)
    return digest


def folder_digests(
    folder: str | Path, skip: tuple[str, ...] = ("README.md",), suffixes: tuple[str, ...] | None = None
) -> dict[str, str]:
    """``{relative path: file_digest}`` of every file under ``folder`` (recursive, sorted by path),
    except those named in ``skip``; only names ending in one of ``suffixes`` when it is given."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): file_digest(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip and (suffixes is None or p.suffix in suffixes)
    }


def package_version(distribution: str) -> str:
    """Installed version of a distribution, or ``"not-installed"``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not-installed"


def make_fingerprint(name: str, parts: Mapping[str, object]) -> str:
    """``"<name>@<16 hex>"``: SHA-256 of the canonical JSON of ``parts`` (versions, digests, settings)."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=True).encode("ascii")
    return f"{name}@{hashlib.sha256(blob).hexdigest()[:16]}"
