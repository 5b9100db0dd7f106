"""Labelled transcripts: known coding and non-coding FASTA files, read for training and evaluation."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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


def read_labelled(coding: Sequence[str], noncoding: Sequence[str]) -> LabelledData:
    """Read coding and non-coding FASTA files (IDs must be unique across all of them).

    Raises:
        InputError: bad input, or a class with no records.
    """
    if not coding or not noncoding:
        raise InputError("training needs at least one --coding and one --noncoding FASTA file")
    sequences: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    files: dict[str, int] = {}
    for label, path, rec in iter_labelled(coding, noncoding):
        sequences.append(rec.sequence)
        labels.append(label)
        groups.append(gene_key(rec.header, rec.id))
        files[str(path)] = files.get(str(path), 0) + 1
    for path in (*coding, *noncoding):
        files.setdefault(str(path), 0)
    return LabelledData(sequences, np.asarray(labels, dtype=np.int64), groups, files)


def iter_labelled(coding: Sequence[str], noncoding: Sequence[str]) -> Iterator[tuple[int, str, Record]]:
    """Stream ``(label, path, record)`` over the coding files, then the non-coding ones.

    IDs must be unique across all files (checked as they are read, in constant memory
    per ID), so one transcript cannot carry both labels.
    """
    seen = SeenIds()
    for label, paths in ((1, coding), (0, noncoding)):
        for path in paths:
            for rec in read_fasta(path, seen):
                yield label, path, rec

