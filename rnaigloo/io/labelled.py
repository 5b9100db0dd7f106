"""Labelled transcripts: known coding and non-coding FASTA files, read for training and evaluation."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnaigloo.errors import InputError
from rnaigloo.io.fasta import Record, SeenIds, read_fasta

_GENE_PATTERNS = (re.compile(r"\bgene_id=(\S+)"), re.compile(r"\bgene:(\S+)"), re.compile(r"\bgene=(\S+)"))


@dataclass
class LabelledData:
    """Sequences with their labels (1 coding, 0 non-coding) and grouping keys."""

    sequences: list[str]
    labels: np.ndarray
    groups: list[str]
    files: dict[str, int]  # file -> records read


def gene_key(header: str, seq_id: str) -> str:
    """The gene a header names (``gene_id=``, ``gene:``, ``gene=``), else the record ID."""
    for pattern in _GENE_PATTERNS:
        m = pattern.search(header)
        if m:
            return m.group(0)
    return "id:" + seq_id


# A FASTA path, or the transcripts of GTF/GFF3 files on a genome
# (:class:`rnaigloo.io.transcripts.AnnotatedTranscripts`, counted per annotation file).
Source = Any


def read_labelled(coding: Sequence[Source], noncoding: Sequence[Source], need_noncoding: bool = True) -> LabelledData:
    """Read coding and non-coding sets (IDs must be unique across all of them).

    Args:
        coding, noncoding: FASTA paths or annotated transcripts.
        need_noncoding: False when the non-coding class is made later (``--noncoding-mode``).

    Raises:
        InputError: bad input, or a class with no records.
    """
    if not coding or (need_noncoding and not noncoding):
        raise InputError(
            "training needs coding transcripts (--coding or --coding-gtf) and non-coding ones "
            "(--noncoding, --noncoding-gtf or --noncoding-mode)"
        )
    sequences: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    files: dict[str, int] = {}
    for label, source, rec in iter_labelled(coding, noncoding):
        sequences.append(rec.sequence)
        labels.append(label)
        groups.append(gene_key(rec.header, rec.id))
        # a FASTA file is counted under its name as given ('-' for stdin), an annotation per file
        name = rec.source if hasattr(source, "per_file") else str(source)
        files[name] = files.get(name, 0) + 1
    for source in (*coding, *noncoding):
        for name in source.per_file() if hasattr(source, "per_file") else [str(source)]:
            files.setdefault(name, 0)
    return LabelledData(sequences, np.asarray(labels, dtype=np.int64), groups, files)


def iter_labelled(coding: Sequence[Source], noncoding: Sequence[Source]) -> Iterator[tuple[int, Source, Record]]:
    """Stream ``(label, source, record)`` over the coding sources, then the non-coding ones.

    Annotated transcripts carry ``gene_id=GENE`` in their headers, so that a gene's
    isoforms stay on one side of the validation split.

    IDs must be unique across all files (checked as they are read, in constant memory
    per ID), so one transcript cannot carry both labels.
    """
    seen = SeenIds()
    for label, paths in ((1, coding), (0, noncoding)):
        for source in paths:
            records = source.records(seen, gene_in_header=True) if hasattr(source, "records") else read_fasta(source, seen)
            for rec in records:
                yield label, source, rec

