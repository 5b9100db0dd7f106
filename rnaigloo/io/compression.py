"""Compressed input, for every reader: which compression a file has, opening it (or stdin)
with the compression undone, and one wording for a stream that cannot be decompressed.

The compression is told from the first bytes, never from the file name. gzip (bgzip
included), bzip2 and xz are undone; zstd, lz4 and Unix compress are recognised and
refused with the command that undoes them.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import sys
import zlib
from collections.abc import Callable
from typing import BinaryIO, NamedTuple

from rnaigloo.errors import InputError


class Compression(NamedTuple):
    """One compression format: its name, first bytes, how messages say it, the command that undoes it."""

    name: str
    magic: bytes
    words: str
    undo: str


# The one table of magic bytes: every reader sniffs compression through it.
COMPRESSIONS = (
    Compression("gzip", b"\x1f\x8b", "gzip-compressed", "gzip -d"),
    Compression("bzip2", b"BZh", "bzip2-compressed", "bzip2 -d"),
    Compression("xz", b"\xfd7zXZ\x00", "xz-compressed", "xz -d"),
    Compression("zstd", b"\x28\xb5\x2f\xfd", "zstd-compressed", "zstd -d"),
    Compression("lz4", b"\x04\x22\x4d\x18", "lz4-compressed", "lz4 -d"),
    Compression("compress", b"\x1f\x9d", "compressed with Unix compress (.Z)", "gzip -d"),
)

_DECOMPRESSORS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),  # type: ignore[dict-item]
    "bzip2": lambda raw: bz2.BZ2File(raw, mode="rb"),  # type: ignore[dict-item]
    "xz": lambda raw: lzma.LZMAFile(raw, mode="rb"),  # type: ignore[dict-item]
}

# What reading a compressed stream can raise (bz2 reports bad data as a plain OSError;
# gzip.BadGzipFile is an OSError too).
READ_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


def compression_of(head: bytes) -> Compression | None:
    """The compression the first bytes of a file show, or None for none known."""
    for compression in COMPRESSIONS:
        if head.startswith(compression.magic):
            return compression
    return None


def is_bgzf(head: bytes) -> bool:
    """True for BGZF (bgzip): a gzip member with the FEXTRA flag and a 'BC' subfield."""
    return head[:2] == b"\x1f\x8b" and len(head) >= 14 and bool(head[3] & 4) and head[12:14] == b"BC"


def display_name(path: str | os.PathLike) -> str:
    """How messages name an input: its path, or ``<stdin>`` for ``-``."""
    return "<stdin>" if str(path) == "-" else str(path)


def read_error(name: str, err: BaseException, line: int | None = None) -> InputError:
    """The one-line error for one of :data:`READ_ERRORS` met while reading ``name``.

    Args:
        name: the input as messages name it.
        err: the error raised.
        line: the last line read whole, when the reader counts lines.
    """
    after = "" if line is None else f" after line {line}"
    if isinstance(err, EOFError):
        return InputError(f"{name}: compressed stream ends early (truncated download?){after}")
    # "Invalid data stream" is how the bz2 module says its data is corrupt
    if isinstance(err, (gzip.BadGzipFile, zlib.error, lzma.LZMAError)) or str(err) == "Invalid data stream":
        return InputError(f"{name}: corrupt compressed data{after}: {err}")
    if line is not None:
        return InputError(f"{name}: cannot read past line {line}: {err}")
    return InputError(f"cannot read {name}: {getattr(err, 'strerror', None) or err}")


class Input:
    """An opened input: ``stream`` reads the decompressed bytes, ``raw`` the file under it.

    :meth:`close` (or leaving a ``with`` block) closes the decompressor and the file,
    but never stdin, which the reader did not open.

    Attributes:
        name: the input as messages name it.
        stream: the decompressed bytes (``raw`` itself for uncompressed input).
        raw: the file as opened (``sys.stdin.buffer`` for ``-``).
        compression: the compression undone, or None.
    """

    def __init__(self, name: str, raw: BinaryIO, owns_raw: bool, compression: Compression | None):
        self.name = name
        self.raw = raw
        self.compression = compression
        self._owns_raw = owns_raw
        self.stream = raw if compression is None else _DECOMPRESSORS[compression.name](raw)

    def close(self) -> None:
        try:
            if self.stream is not self.raw:
                self.stream.close()  # a decompressor given a file object leaves that file open
        finally:
            if self._owns_raw:
                self.raw.close()

    def __enter__(self) -> Input:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_input(path: str | os.PathLike, what: str, refuse: Callable[[bytes], str | None] | None = None) -> Input:
    """Open a path (or ``-`` for stdin) and undo gzip, bzip2 or xz compression.

    Args:
        path: the file, or ``-`` for stdin.
        what: what the file should hold, for messages (``FASTA``, ``GTF/GFF3``).
        refuse: given the first bytes, the words saying what the file is when it is a
            format the reader refuses (an archive, alignments), else None.

    Returns:
        The opened input; the caller closes it.

    Raises:
        InputError: the file is missing, unreadable or a directory, is compressed in a
            way that is not undone, or is refused by ``refuse``.
    """
    name = display_name(path)
    owns_raw = str(path) != "-"
    if owns_raw:
        try:
            raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by Input.close
        except FileNotFoundError:
            raise InputError(f"input file not found: {name}") from None
        except IsADirectoryError:
            raise InputError(f"expected a {what} file, found a directory: {name}") from None
        except OSError as err:
            raise InputError(f"cannot read {name}: {err.strerror}") from None
    else:
        raw = sys.stdin.buffer
    try:
        head = raw.peek(512)[:512] if hasattr(raw, "peek") else b""
        compression = compression_of(head)
        if compression is not None and compression.name not in _DECOMPRESSORS:
            raise InputError(f"{name}: {compression.words}: decompress it first ({compression.undo})")
        words = refuse(head) if refuse is not None else None
        if words is not None:
            raise InputError(f"{name}: {words}")
        return Input(name, raw, owns_raw, compression)
    except BaseException as err:
        if owns_raw:
            raw.close()
        if isinstance(err, OSError):
            raise InputError(f"cannot read {name}: {err.strerror}") from None
        raise
