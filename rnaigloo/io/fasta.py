"""Streaming FASTA input with the checks a pipeline needs.

Records are parsed by Biopython's ``SimpleFastaParser``; this module opens the input
(plain, gzip, bzip2 or xz, sniffed from the magic bytes; ``-`` for stdin), feeds the
parser line by line while checking what the parser does not, and validates each record.
Every problem is raised as :class:`InputError` with a message that says what was
expected, what was found and where.

Accepted on purpose (see the README's troubleshooting section): CRLF line endings,
blank lines, lowercase, ``U``, IUPAC ambiguity letters and ``X`` (read as ``N``), empty
sequences and sequences of any length. Rejected: empty input, text that is not FASTA
(FASTQ, GTF/GFF, anything without a ``>`` header first), binary or non-UTF-8 data,
archives and data compressed in a way that is not read (zstd, zip, compressed twice),
a record with an empty ID, an ID seen before, sequences with characters other than
letters, protein sequences (letters no nucleotide alphabet has: E, F, I, J, L, O, P, Q,
Z), and truncated or corrupt compressed streams.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

from rnaigloo.errors import InputError
from rnaigloo.io.compression import READ_ERRORS, Input, compression_of, display_name, open_input, read_error

# Every letter of the IUPAC nucleotide alphabet (ambiguity codes included), and X, which
# masking tools write for hidden bases. A record with any other letter (E, F, I, J, L,
# O, P, Q, Z) is taken for a protein: no nucleotide alphabet has them, while 35 % of the
# residues of a typical protein are E, F, I, L, P or Q.
NUCLEOTIDE_LETTERS = "ACGTURYKMSWBDHVNX"
_NUCLEOTIDE_BYTES = (NUCLEOTIDE_LETTERS + NUCLEOTIDE_LETTERS.lower()).encode("ascii")


@dataclass(frozen=True)
class Record:
    """One FASTA record.

    Attributes:
        header: the header line without ``>`` and without the line end.
        id: the first whitespace-separated word of the header.
        sequence: the sequence as written in the file, line breaks removed.
        number: 1-based position of the record in its file.
        source: the file name it came from (``<stdin>`` for ``-``).
    """

    header: str
    id: str
    sequence: str
    number: int
    source: str


class SeenIds:
    """The set of IDs read so far, kept as 64-bit hashes in one NumPy array.

    A Python set of a million IDs takes about 100 MB; this takes 16 to 32 bytes an ID
    (open addressing, at most half full), so memory stays flat on huge inputs. Two
    different IDs share a hash with odds of about n^2 / 2^65 (3e-8 for a million IDs).
    """

    def __init__(self, capacity: int = 1 << 12):
        self._keys = np.zeros(capacity, dtype=np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, seq_id: str) -> bool:
        """Add an ID; False when it was there already."""
        key = (hash(seq_id) & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot
        if self._insert(self._keys, key):
            self._count += 1
            if 2 * self._count > len(self._keys):
                self._grow()
            return True
        return False

    @staticmethod
    def _insert(keys: np.ndarray, key: int) -> bool:
        mask = len(keys) - 1
        i = key & mask
        while True:
            slot = int(keys[i])
            if slot == 0:
                keys[i] = key
                return True
            if slot == key:
                return False
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._keys
        self._keys = np.zeros(2 * len(old), dtype=np.uint64)
        for start in range(0, len(old), 1 << 16):  # in slices: no list of every key at once
            for key in old[start : start + (1 << 16)].tolist():
                if key:
                    self._insert(self._keys, key)


# Formats recognised by their first bytes that are not FASTA, with what to do instead
# (compressions that are not undone are refused by rnaigloo.io.compression).
_NOT_FASTA_FORMATS = (
    (b"PK\x03\x04", "a zip archive: extract the FASTA file first (unzip)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract the FASTA file first"),
    (b"BAM\x01", "BAM alignments, not FASTA (samtools fasta converts them)"),
    (b"CRAM", "CRAM alignments, not FASTA (samtools fasta converts them)"),
)


def _unread_format(head: bytes) -> str | None:
    """What the first bytes of a stream say it is, when it is an archive or alignments."""
    for magic, words in _NOT_FASTA_FORMATS:
        if head.startswith(magic):
            return words
    if head[257:262] == b"ustar":
        return "a tar archive: extract the FASTA file first (tar -xf)"
    return None


def _check_decompressed(binary: BinaryIO, outer: str, name: str) -> None:
    """Refuse a compressed stream that holds another compressed stream or an archive."""
    head = binary.peek(512)[:512]  # type: ignore[attr-defined]
    inner = compression_of(head)
    if inner is not None:
        raise InputError(f"{name}: {inner.words} data inside {outer} (compressed twice): decompress it first")
    words = _unread_format(head)
    if words is not None:
        raise InputError(f"{name}: {outer}-compressed, and inside it {words}")


def open_binary(path: str | os.PathLike, what: str = "FASTA") -> Input:
    """Open a path (or ``-`` for stdin) with gzip, bzip2 or xz compression undone.

    Archives and alignment files are refused by their first bytes.

    Returns:
        The opened input (use it as a context manager: it closes what it opened, never stdin).

    Raises:
        InputError: the file is missing, unreadable, a directory, or a format not read.
    """
    return open_input(path, what, _unread_format)


def _not_fasta_reason(line: str) -> str:
    """Why a first line that does not start with '>' is not FASTA, in a few words."""
    if line.startswith("@"):
        return "this looks like FASTQ (first line starts with '@'); convert it to FASTA first"
    if line.startswith("##gff") or line.count("\t") >= 8:
        return "this looks like GTF/GFF annotation, not sequences; extract transcript sequences first (e.g. gffread -w)"
    shown = line if len(line) <= 40 else line[:37] + "..."
    return f"expected a FASTA header starting with '>', found {shown!r}"


class _LineChecker:
    """Feeds lines to the parser while checking what it does not check.

    Keeps the line number of each header so that record errors can name their line.
    """

    def __init__(self, text: Iterable[str], name: str):
        self._text = text
        self._name = name
        self.line_no = 0
        self.header_lines: deque[int] = deque()
        self.seen_header = False

    def __iter__(self) -> Iterator[str]:
        for line in self._text:
            self.line_no += 1
            if "\x00" in line:
                raise InputError(f"{self._name}: binary data (NUL byte) at line {self.line_no}; expected FASTA text")
            if line.startswith(">"):
                self.seen_header = True
                self.header_lines.append(self.line_no)
            elif not self.seen_header and line.strip():
                raise InputError(f"{self._name}: not FASTA at line {self.line_no}: {_not_fasta_reason(line.rstrip())}")
            yield line


def _check_sequence(seq: str, where: str) -> None:
    if not (seq.isascii() and seq.isalpha()):
        for i, ch in enumerate(seq):
            if not (ch.isascii() and ch.isalpha()):
                raise InputError(
                    f"{where}: expected only letters in the sequence, found {ch!r} at sequence position {i + 1}"
                )
    other = seq.encode("ascii").translate(None, _NUCLEOTIDE_BYTES)  # one C pass
    if other:
        letters = "".join(sorted(set(other.decode("ascii").upper())))
        first = next(i for i, ch in enumerate(seq) if ch not in NUCLEOTIDE_LETTERS and ch.upper() not in NUCLEOTIDE_LETTERS)
        raise InputError(
            f"{where}: looks like a protein sequence: {len(other)} letter(s) no nucleotide alphabet has "
            f"({', '.join(letters)}; first {seq[first]!r} at sequence position {first + 1}); "
            "expected nucleotide transcripts (IUPAC codes ACGTURYKMSWBDHVN)"
        )


def read_fasta(
    path: str | os.PathLike,
    seen_ids: SeenIds | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """Stream the records of one FASTA file, checking each.

    Args:
        path: a file path (plain or compressed) or ``-`` for stdin.
        seen_ids: the IDs already read (from earlier files); updated in place so that
            IDs are unique across several inputs. ``None`` checks this file alone.
        progress: called now and then with the bytes of the (compressed) file read
            so far, for progress reports.

    Yields:
        The records, in file order.

    Raises:
        InputError: on anything listed in the module notes as rejected.
    """
    name = display_name(path)
    if seen_ids is None:
        seen_ids = SeenIds()
    with open_binary(path) as source:
        text = io.TextIOWrapper(source.stream, encoding="utf-8", errors="strict", newline=None)
        checker = _LineChecker(text, name)
        number = 0
        try:
            if source.compression is not None:
                _check_decompressed(source.stream, source.compression.name, name)
            for header, seq in SimpleFastaParser(checker):
                number += 1
                record = _checked_record(header, seq, number, checker.header_lines.popleft(), name, seen_ids)
                if progress is not None and number % 512 == 0 and source.raw.seekable():
                    progress(source.raw.tell())
                yield record
        except UnicodeDecodeError as err:
            # text is decoded in blocks ahead of the line count: count the lines before the bad byte
            line = checker.line_no + 1 + err.object[: err.start].count(b"\n")
            raise InputError(f"{name}: not UTF-8 text at line {line}; expected FASTA (is this a binary file?)") from None
        except READ_ERRORS as err:
            raise read_error(name, err, checker.line_no) from None
        finally:
            text.detach()  # closing the wrapper would close its stream, stdin included: source closes what it opened
    if number == 0:
        if checker.line_no == 0:
            raise InputError(f"{name}: empty input; expected FASTA records")
        raise InputError(f"{name}: no FASTA records found in {checker.line_no} line(s); expected '>' header lines")


def _checked_record(header: str, seq: str, number: int, line: int, name: str, seen_ids: SeenIds) -> Record:
    """The record, once its ID (present, not seen before) and its letters are checked."""
    where = f"{name}, record {number} (line {line})"
    seq_id = header.split(None, 1)[0] if header[:1].strip() else ""
    if not seq_id:
        raise InputError(f"{where}: empty sequence ID; expected a name right after '>'")
    if not seen_ids.add(seq_id):
        raise InputError(f"{where}: duplicate sequence ID {seq_id!r}; IDs must be unique")
    _check_sequence(seq, f"{where} {seq_id!r}")
    return Record(header=header, id=seq_id, sequence=seq, number=number, source=name)


def read_many(
    paths: Iterable[str | os.PathLike], progress: Callable[[int], None] | None = None
) -> Iterator[Record]:
    """Records of several files in turn, with IDs unique across all of them.

    ``progress``, if given, is called with the bytes read over all files so far.
    """
    seen = SeenIds()
    done = 0
    for path in paths:
        inner = None if progress is None else (lambda pos, base=done: progress(base + pos))
        yield from read_fasta(path, seen, inner)
        if progress is not None and str(path) != "-":
            done += os.path.getsize(path)
            progress(done)
