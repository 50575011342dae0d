"""Input sources (paths or uploaded file objects), their bytes, hashes and text decoding.

Encoding policy (checked on the first bytes, then while streaming):

* UTF-8 with or without a BOM, UTF-16 and UTF-32 **with** a BOM are accepted;
* an explicit ``encoding=`` (e.g. ``"cp1252"``) is used as given (a BOM still wins);
* bytes that are not valid UTF-8 in a file read as UTF-8 are an **error**, never a silent
  cp1252 guess: Windows-1252 decodes almost any byte sequence, so a wrong guess would turn
  e.g. GBK or Shift-JIS text into plausible-looking garbage that then gets embedded.
  The error names the byte offset and line, shows the bytes read as cp1252, and says how to
  fix it (re-save as UTF-8, or pass ``encoding="cp1252"`` when sure);
* many NUL bytes at the start without a BOM (UTF-16/UTF-32 without a BOM, binary files: at
  least :data:`WIDE_NUL_SHARE` of the first bytes) and zip containers (.xlsx) are errors with a
  hint; a stray NUL in a text file is an error of the row and column it is in (see the readers).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO, cast

from . import validation
from .validation import QuerySetError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# Share of NUL bytes in the first bytes above which a file without a BOM is taken for UTF-16/UTF-32
# (ASCII text in UTF-16 is half NULs, in UTF-32 three quarters) or binary, not UTF-8 text.
WIDE_NUL_SHARE = 0.2

_CHUNK = 1 << 20
_HEAD = 4096
_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class _Cursor(io.RawIOBase):
    """A read-only view of a seekable binary file object with its own position.

    Every reader of an uploaded file object (a streaming CSV parser, the SHA-256 of the
    provenance, a size check, pyarrow) gets its own cursor, so one never moves another's
    position: reads seek the shared object to this cursor's position first. Closing a cursor
    leaves the file object open.
    """

    def __init__(self, fileobj: BinaryIO) -> None:
        super().__init__()
        self._file = fileobj
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        self._file.seek(self._pos)
        data = self._file.read(len(view))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._file.seek(0, io.SEEK_END) + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


@dataclass(frozen=True)
class Source:
    """One input file: a path on disk or a seekable binary file object (e.g. a Streamlit upload).

    A file object is read through independent cursors (:meth:`reader`), so reading its hash or
    size while a parser streams it does not disturb the parser.
    """

    name: str
    path: Path | None = None
    fileobj: BinaryIO | None = None

    @property
    def suffix(self) -> str:
        """Lower-case extension including the dot (``".csv"``), ``""`` if none."""
        return Path(self.name).suffix.lower()

    def reader(self) -> BinaryIO:
        """A new buffered reader at the start of the bytes: a file on disk opened again, or a
        cursor of its own over the file object (closing it leaves the file object open)."""
        if self.path is not None:
            return open(self.path, "rb")
        assert self.fileobj is not None
        return io.BufferedReader(_Cursor(self.fileobj))

    @contextmanager
    def open_binary(self) -> Iterator[BinaryIO]:
        """The bytes from the start (:meth:`reader`), closed at the end of the block."""
        with self.reader() as fh:
            yield fh

    def size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        with self.open_binary() as fh:
            return fh.seek(0, io.SEEK_END)

    def head(self, n: int = 4096) -> bytes:
        with self.open_binary() as fh:
            return fh.read(n)

    def sha256(self) -> str:
        """SHA-256 of the file's bytes (hex)."""
        digest = hashlib.sha256()
        with self.open_binary() as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()


def as_source(obj: object) -> Source:
    """Wrap a path (str / PathLike) or a binary file object with a ``.name`` as a :class:`Source`.

    Checks existence and :data:`MAX_FILE_MB`; non-seekable streams are read into memory.
    """
    if isinstance(obj, Source):
        source = obj
    elif isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if not path.exists():
            raise QuerySetError(f"{path}: file not found")
        if path.is_dir():
            raise QuerySetError(f"{path}: is a folder, not a file")
        source = Source(str(path), path=path)
    elif hasattr(obj, "read"):
        if isinstance(obj, io.TextIOBase):
            raise QuerySetError(
                f"{getattr(obj, 'name', 'upload')}: opened in text mode; "
                "pass a path or a binary file (open(path, 'rb'))"
            )
        name = os.path.basename(str(getattr(obj, "name", "") or "upload"))
        stream = cast(BinaryIO, obj)  # duck-typed: an object with read() that is not a text stream
        fileobj = stream if getattr(stream, "seekable", lambda: False)() else io.BytesIO(stream.read())
        source = Source(name, fileobj=fileobj)
    else:
        raise QuerySetError(
            f"cannot read a query set from {type(obj).__name__}: pass a file path or a binary file object"
        )
    size = source.size()
    limit = validation.MAX_FILE_MB
    if size > limit * 1024 * 1024:
        raise QuerySetError(f"{source.name}: {size / 2**20:,.1f} MB is over the {limit} MB limit; split the file")
    return source


def detect_encoding(source: Source, encoding: str | None = None) -> str:
    """Codec to read ``source`` with: BOM if any, else ``encoding`` or UTF-8 (see module doc)."""
    head = source.head(_HEAD)
    bom, codec = next(((b, c) for b, c in _BOMS if head.startswith(b)), (b"", None))
    if len(head) < _HEAD and not head[len(bom) :].strip(b"\x00 \t\r\n"):
        raise QuerySetError(f"{source.name}: the file is empty")
    if codec is not None:
        return codec
    if head.startswith(b"PK\x03\x04"):
        raise QuerySetError(
            f"{source.name}: this is a zip container (e.g. an Excel .xlsx), not a text file; "
            "export it as 'CSV UTF-8' first"
        )
    if head.count(b"\x00") >= WIDE_NUL_SHARE * len(head):
        offset = head.index(b"\x00")
        raise QuerySetError(
            f"{source.name}: NUL byte at byte offset {offset}: the file looks like UTF-16/UTF-32 without "
            "a byte-order mark, or is not a text file; re-save it as UTF-8"
        )
    return encoding or "utf-8"


def decode_error_message(source: Source, encoding: str) -> str:
    """Explain where ``source`` stops being valid ``encoding`` (byte offset, line) and how to fix it."""
    with source.open_binary() as fh:
        data = fh.read()
    # utf-8-sig reports offsets after its BOM; the other codecs count from the first byte
    skip = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" and data.startswith(codecs.BOM_UTF8) else 0
    try:
        data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset : offset + 4][: max(1, exc.end - exc.start)]
        line_start = data.rfind(b"\n", 0, offset) + 1
        context = data[max(line_start, offset - 30) : offset + 30].decode("cp1252", errors="replace")
        return (
            f"{source.name}: not valid {encoding.removesuffix('-sig').upper()} "
            f"at byte offset {offset:,} (line {line}): "
            f"byte(s) {bad.hex(' ').upper()}; read as Windows-1252 the text there is {context!r}. "
            "Re-save the file as UTF-8 (Excel: 'CSV UTF-8'; LibreOffice: character set 'Unicode (UTF-8)'), "
            "or load it with encoding='cp1252' if you are sure that is its encoding"
        )
    return f"{source.name}: could not be decoded as {encoding}"  # pragma: no cover - decode raised before


@contextmanager
def open_text(source: Source, encoding: str | None = None) -> Iterator[tuple[TextIO, str]]:
    """Yield ``(text stream, codec)`` with universal newlines left to the csv module (``newline=""``).

    A ``UnicodeDecodeError`` raised while the stream is read becomes a :class:`QuerySetError`
    from :func:`decode_error_message`.
    """
    codec = detect_encoding(source, encoding)
    try:
        codecs.lookup(codec)
    except LookupError:
        raise QuerySetError(f"{source.name}: unknown encoding {codec!r}") from None
    with source.open_binary() as raw:
        text = io.TextIOWrapper(raw, encoding=codec, newline="")
        try:
            yield text, codec
        except UnicodeDecodeError:
            raise QuerySetError(decode_error_message(source, codec)) from None
        finally:
            text.detach()  # the raw stream is closed by its owner (a caller's file object stays open)
