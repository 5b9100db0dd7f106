"""Indexed access to a genome FASTA, and transcript sequences spliced from it.

The genome is read through pyfaidx and a ``.fai`` index (built beside the file on first
use, or in a temporary directory when that directory is read-only), so only the
exons asked for are read: a 3 GB genome is never held in memory. A bgzip (BGZF)
genome works (pyfaidx keeps a ``.gzi`` index too). A plain-gzip genome cannot be read
at random; it is refused with the command that fixes it, as are bzip2, xz and the other
compressions :mod:`rnaigloo.io.compression` knows. A truncated or corrupt bgzip genome
is one line worded as for every other input. Letters are returned as the
file has them (soft-masked lowercase included); the encoder reads lowercase as usual.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from rnaigloo.errors import InputError
from rnaigloo.io.annotation import Problem, Transcript
from rnaigloo.io.compression import COMPRESSIONS, READ_ERRORS, compression_of, is_bgzf, read_error

_COMPLEMENT = str.maketrans(
    "ACGTUNRYKMSWBDHVacgtunrykmswbdhv",
    "TGCAANYRMKSWVHDBtgcaanyrmkswvhdb",
)


def reverse_complement(seq: str) -> str:
    """The reverse complement; case and IUPAC ambiguity letters are kept (R <-> Y, ...)."""
    return seq.translate(_COMPLEMENT)[::-1]


def _compression(path: Path) -> str | None:
    """``bgzf``, or the name of another compression (``gzip``, ``bzip2``, ...), or None (plain)."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if is_bgzf(head):
        return "bgzf"
    compression = compression_of(head)
    return None if compression is None else compression.name


def _bgzf_error(name: str, err: BaseException) -> InputError:
    """The one-line error for a BGZF genome that cannot be decompressed, worded as every reader words it."""
    # Biopython's BGZF reader meets a cut-off block as a short struct; pyfaidx misses the end-of-file block
    if isinstance(err, struct.error) or "EOF marker not found" in str(err):
        err = EOFError(str(err))
    return read_error(name, err)


class Genome:
    """A genome FASTA opened for random access (use as a context manager).

    Args:
        path: plain or bgzip-compressed FASTA.

    Raises:
        InputError: a missing file, plain gzip / bzip2 / xz (with the command that
            fixes it), duplicate sequence names, or a file pyfaidx cannot index.
    """

    def __init__(self, path: str | os.PathLike):
        import pyfaidx

        self.path = Path(path)
        name = str(path)
        if name == "-":
            raise InputError("--genome needs a file (indexed access); stdin cannot be read at random")
        if not self.path.is_file():
            raise InputError(
                f"genome file not found: {name}" if not self.path.exists() else f"genome is not a file: {name}"
            )
        kind = _compression(self.path)
        if kind == "gzip":
            raise InputError(
                f"{name} is gzip-compressed, which cannot be read at random; recompress it with bgzip "
                f"(htslib/samtools): gunzip -c {name} | bgzip > {self.path.with_suffix('.bgz')}"
            )
        if kind not in (None, "bgzf"):
            words = next(c.words for c in COMPRESSIONS if c.name == kind)
            raise InputError(f"{name} is {words}; decompress it, or recompress it with bgzip (htslib/samtools)")
        self._tmpdir: str | None = None
        kwargs = {}
        fai = Path(str(self.path) + ".fai")
        if not fai.is_file() and not os.access(self.path.parent, os.W_OK):
            # the index cannot go beside the genome: build it in a directory of our own
            self._tmpdir = tempfile.mkdtemp(prefix="rnaigloo-fai-")
            kwargs["indexname"] = os.path.join(self._tmpdir, self.path.name + ".fai")
            if kind == "bgzf":
                kwargs["gzi_indexname"] = os.path.join(self._tmpdir, self.path.name + ".gzi")
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, **kwargs)
        except pyfaidx.UnsupportedCompressionFormat:
            self.close()
            raise InputError(f"{name}: compressed in a way pyfaidx cannot index; recompress it with bgzip") from None
        except (pyfaidx.FastaIndexingError, ValueError) as err:
            self.close()
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise InputError(f"cannot index genome {name}: {first}") from None
        except (struct.error, *READ_ERRORS) as err:
            self.close()
            raise _bgzf_error(name, err) from None
        self.lengths: dict[str, int] = {k: len(v) for k, v in self._fasta.records.items()}
        if not self.lengths:
            self.close()
            raise InputError(f"genome {name} holds no sequences; expected FASTA")

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Letters ``start``..``end`` (1-based, inclusive) of ``chrom``, as in the file."""
        try:
            return self._fasta.faidx.fetch(chrom, start, end)  # a str with as_raw=True
        except (struct.error, *READ_ERRORS) as err:  # a block damaged after its index was built
            raise _bgzf_error(str(self.path), err) from None

    def close(self) -> None:
        fasta = getattr(self, "_fasta", None)
        if fasta is not None:
            fasta.close()
            self._fasta = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Genome:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def problem(self, t: Transcript) -> Problem | None:
        """Why ``t`` cannot be read from this genome (missing sequence, off its end), or None."""
        length = self.lengths.get(t.chrom)
        if length is None:
            return Problem(t.id, f"sequence {t.chrom!r} is not in the genome {self.path.name}", t.source)
        if t.end > length:
            return Problem(t.id, f"exon ends at {t.end}, past the end of {t.chrom} ({length} nt)", t.source)
        return None

    def splice(self, t: Transcript) -> str:
        """The transcript's sequence: its exons joined in genome order, reverse-complemented on ``-``."""
        seq = "".join(self.fetch(t.chrom, s, e) for s, e in t.exons)
        return reverse_complement(seq) if t.strand == "-" else seq

    def sequences(self, transcripts: Iterable[Transcript]) -> Iterator[tuple[Transcript, str]]:
        """Each transcript with its sequence (call :meth:`problem` first to leave out bad ones)."""
        for t in transcripts:
            yield t, self.splice(t)
