"""Transcript models from GTF and GFF3 annotation files.

A small streaming reader rather than a library: gtfparse reads GTF only and loads the
whole file into a data frame (polars), gffutils builds an SQLite database first; both
are heavy for one job, which is to group exon lines into transcripts. The rules are
gffread's:

- Only ``exon`` lines are read (CDS, UTR, start/stop codon lines are left alone).
- GTF: an exon belongs to the ``transcript_id`` in its attributes; the gene is its
  ``gene_id``.
- GFF3: an exon belongs to each ID in its ``Parent=`` attribute (comma-separated,
  percent-decoded). The transcript is named by that ID (NCBI: ``rna-NM_...``;
  Ensembl: ``transcript:ENST...``); its gene is the ``Parent=`` of the transcript line
  when the file has one (``mRNA``, ``lnc_RNA``, ``transcript``, ...).
- Exons are sorted by start coordinate whatever order the file lists them in; the
  sequence is read along the genome and reverse-complemented on the minus strand
  (:mod:`rnaigloo.io.genome`).

The format is told from the content: a ``##gff-version 3`` line, or the attributes
column of the first feature line (``key "value";`` is GTF, ``key=value`` is GFF3).
Files may be plain or compressed (gzip, bzip2, xz; sniffed from the bytes). Comment
lines (``#``), ``###`` directives and blank lines are skipped; a GFF3 ``##FASTA``
section ends the features.

Transcripts that cannot be spliced as written are kept apart as :class:`Problem`
records, each with its ID and the reason (exons on more than one sequence or strand,
exons that overlap each other); an unstranded transcript (``.``, as StringTie writes
for some single-exon transcripts) is read on the plus strand and counted.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from rnaigloo.errors import InputError
from rnaigloo.io.compression import READ_ERRORS, read_error
from rnaigloo.io.fasta import open_binary

_GTF_ATTR = {key: re.compile(r"(?:^|;)\s*" + key + r'\s+"?([^";]*)"?') for key in ("transcript_id", "gene_id")}
_GTF_LIKE = re.compile(r'^\s*\w+\s+"')
_GFF3_LIKE = re.compile(r"^\s*[^\s=;]+=")


@dataclass(frozen=True, slots=True)
class Transcript:
    """One transcript model.

    Attributes:
        id: ``transcript_id`` (GTF) or the exons' ``Parent`` ID (GFF3).
        chrom: the genome sequence it lies on (first column).
        strand: ``+`` or ``-``.
        exons: 1-based, closed ``(start, end)`` intervals, sorted by start.
        gene: the gene ID when the file gives one, else ``None``.
        source: the annotation file it came from.
        line: the line of its first exon in that file.
    """

    id: str
    chrom: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    gene: str | None
    source: str
    line: int

    @property
    def start(self) -> int:
        return self.exons[0][0]

    @property
    def end(self) -> int:
        return self.exons[-1][1]  # sorted and without overlaps (see _assemble)

    @property
    def length(self) -> int:
        return sum(e - s + 1 for s, e in self.exons)


@dataclass(frozen=True)
class Problem:
    """A transcript that cannot be read as written: its ID, why, and where."""

    transcript_id: str
    reason: str
    source: str

    def __str__(self) -> str:
        return f"{self.transcript_id} ({self.reason}; {self.source})"


@dataclass
class Annotation:
    """The transcripts of one annotation file, in order of first appearance."""

    path: str
    format: str  # "GTF" or "GFF3"
    transcripts: list[Transcript]
    problems: list[Problem] = field(default_factory=list)
    unstranded: list[str] = field(default_factory=list)
    exon_lines: int = 0


class _Builder:
    """Exons of one transcript as they are read.

    A human annotation holds ~250,000 transcripts, so this stays small: the first
    exon's sequence and strand, and sets only when a later exon disagrees.
    """

    __slots__ = ("chrom", "chroms", "exons", "gene", "line", "strand", "strands")

    def __init__(self, line: int, chrom: str, strand: str):
        self.chrom = chrom
        self.strand = strand
        self.chroms: set[str] | None = None  # all sequences, once a second one is seen
        self.strands: set[str] | None = None
        self.exons: list[tuple[int, int]] = []
        self.gene: str | None = None
        self.line = line

    def add(self, chrom: str, strand: str, start: int, end: int) -> None:
        if chrom != self.chrom:
            self.chroms = (self.chroms or {self.chrom}) | {chrom}
        if strand != self.strand:
            self.strands = (self.strands or {self.strand}) | {strand}
        self.exons.append((start, end))


def detect_format(first_feature: str, saw_gff3_pragma: bool) -> str:
    """``GTF`` or ``GFF3`` from the ``##gff-version`` pragma or the attributes column."""
    if saw_gff3_pragma:
        return "GFF3"
    attrs = first_feature.rstrip("\n").split("\t")[8] if first_feature.count("\t") >= 8 else ""
    if _GTF_LIKE.match(attrs):
        return "GTF"
    if _GFF3_LIKE.match(attrs):
        return "GFF3"
    return "GTF" if "transcript_id" in attrs else "GFF3"


def _gff3_attributes(text: str) -> dict[str, str]:
    out = {}
    for part in text.strip().rstrip(";").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key] = value
    return out


def read_annotation(path: str | os.PathLike) -> Annotation:
    """Read the transcript models of one GTF or GFF3 file.

    Args:
        path: a GTF or GFF3 file, plain or compressed.

    Returns:
        The transcripts that can be spliced, in order of first appearance, and the
        problems of those that cannot (each by ID).

    Raises:
        InputError: a missing or unreadable file, a line that is not a 9-column
            feature line, bad coordinates, an exon without a transcript ID, or a file
            without any exon line.
    """
    name = str(path)
    features = _Features(name)
    with open_binary(path, "GTF/GFF3") as source:
        text = io.TextIOWrapper(source.stream, encoding="utf-8", errors="strict")
        try:
            features.read(text)
        except UnicodeDecodeError:
            raise InputError(f"{name}: not UTF-8 text after line {features.line_no}; expected GTF or GFF3") from None
        except READ_ERRORS as err:
            raise read_error(name, err, features.line_no) from None
        finally:
            text.detach()  # closing the wrapper would close its stream, stdin included: source closes what it opened
    if features.fmt is None or not features.exon_lines:
        raise InputError(f"{name}: no exon lines found; expected a GTF or GFF3 annotation with exon features")
    return _assemble(name, features.fmt, features.builders, features.parents, features.exon_lines)


class _Features:
    """What the lines of one annotation file say, gathered as they are read."""

    def __init__(self, name: str):
        self.name = name
        self.builders: dict[str, _Builder] = {}
        self.parents: dict[str, str] = {}  # GFF3 transcript ID -> its gene (the transcript line's Parent)
        self.fmt: str | None = None
        self.gff3_pragma = False
        self.exon_lines = 0
        self.line_no = 0  # the line being read, for messages

    def read(self, lines: Iterable[str]) -> None:
        """Read every line up to the end or a GFF3 ``##FASTA`` section."""
        for self.line_no, line in enumerate(lines, 1):
            if line.startswith("#"):
                if line.startswith("##gff-version") and line.split()[1:2] and line.split()[1].startswith("3"):
                    self.gff3_pragma = True
                if line.startswith("##FASTA"):
                    break
                continue
            if line.strip():
                self._feature(self._columns(line))

    def _columns(self, line: str) -> list[str]:
        """The 9 columns of a feature line; the first one also tells GTF from GFF3."""
        cols = line.rstrip("\r\n").split("\t")
        if len(cols) != 9:
            raise InputError(
                f"{self.name}: line {self.line_no}: expected 9 tab-separated GTF/GFF3 columns, found {len(cols)}"
                + (" (is this FASTA? give it with --genome)" if line.startswith(">") else "")
            )
        if self.fmt is None:
            self.fmt = detect_format(line, self.gff3_pragma)
        return cols

    def _feature(self, cols: list[str]) -> None:
        """Add an exon to its transcripts; note a GFF3 transcript line's gene."""
        feature = cols[2]
        if self.fmt == "GFF3" and feature != "exon":
            attrs = _gff3_attributes(cols[8])
            if "ID" in attrs and "Parent" in attrs:
                self.parents[unquote(attrs["ID"])] = unquote(attrs["Parent"].split(",")[0])
            return
        if feature != "exon":
            return
        self.exon_lines += 1
        start, end = self._bounds(cols)
        ids, gene = self._exon_owners(cols[8])
        for tid in ids:
            b = self.builders.get(tid)
            if b is None:
                b = self.builders[tid] = _Builder(self.line_no, cols[0], cols[6])
            b.add(cols[0], cols[6], start, end)
            if gene is not None:
                b.gene = gene

    def _bounds(self, cols: list[str]) -> tuple[int, int]:
        """An exon's start and end, checked: whole numbers, 1 <= start <= end."""
        try:
            start, end = int(cols[3]), int(cols[4])
        except ValueError:
            raise InputError(
                f"{self.name}: line {self.line_no}: expected whole-number start and end, found {cols[3]!r} and {cols[4]!r}"
            ) from None
        if start < 1 or end < start:
            raise InputError(f"{self.name}: line {self.line_no}: expected 1 <= start <= end, found {start}..{end}")
        return start, end

    def _exon_owners(self, attributes: str) -> tuple[list[str], str | None]:
        """The transcripts an exon belongs to and, in GTF, its gene."""
        if self.fmt == "GTF":
            m = _GTF_ATTR["transcript_id"].search(attributes)
            if not m or not m.group(1):
                raise InputError(f"{self.name}: line {self.line_no}: exon without a transcript_id attribute")
            g = _GTF_ATTR["gene_id"].search(attributes)
            return [m.group(1)], g.group(1) if g else None
        attrs = _gff3_attributes(attributes)
        if not attrs.get("Parent"):
            raise InputError(f"{self.name}: line {self.line_no}: exon without a Parent= attribute")
        return [unquote(p) for p in attrs["Parent"].split(",")], None


def _assemble(
    name: str, fmt: str, builders: dict[str, _Builder], parents: dict[str, str], exon_lines: int
) -> Annotation:
    ann = Annotation(path=name, format=fmt, transcripts=[], exon_lines=exon_lines)
    for tid in list(builders):
        b = builders.pop(tid)  # freed as it is assembled: the peak stays near one copy
        if b.chroms:
            ann.problems.append(Problem(tid, f"exons on more than one sequence: {', '.join(sorted(b.chroms))}", name))
            continue
        all_strands = b.strands or {b.strand}
        strands = all_strands - {"."}
        if len(strands) > 1 or not strands <= {"+", "-"}:
            ann.problems.append(
                Problem(tid, f"exons on strands {', '.join(sorted(all_strands))}; expected one of + and -", name)
            )
            continue
        if strands:
            strand = strands.pop()
        else:  # unstranded: read as written, on the plus strand
            strand = "+"
            ann.unstranded.append(tid)
        exons = sorted(b.exons)
        overlap = next(((a, c) for a, c in itertools.pairwise(exons) if c[0] <= a[1]), None)
        if overlap is not None:
            (s1, e1), (s2, e2) = overlap
            ann.problems.append(Problem(tid, f"exons {s1}-{e1} and {s2}-{e2} overlap", name))
            continue
        gene = b.gene if b.gene is not None else parents.get(tid)
        ann.transcripts.append(Transcript(tid, b.chrom, strand, tuple(exons), gene, name, b.line))
    return ann
