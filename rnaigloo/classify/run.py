"""``classify`` as a job: records in, the table and optional FASTA files out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import IO

from rnaigloo.classify.classifier import Classifier
from rnaigloo.classify.writers import cds_entry, protein_entry, tsv_header, tsv_row
from rnaigloo.io.fasta import Record
from rnaigloo.io.files import atomic_output, optional_output


def classify_to_files(
    classifier: Classifier,
    records: Iterable[Record],
    out: str | os.PathLike | None,
    stdout: IO[str],
    protein_fasta: str | os.PathLike | None = None,
    cds_fasta: str | os.PathLike | None = None,
    batch_size: int = 256,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Classify ``records`` and write the TSV (and the optional FASTA files).

    Every output file appears only when complete (see :func:`atomic_output`).

    Returns:
        Counts: ``records``, ``coding``, ``noncoding``.
    """
    counts = {"records": 0, "coding": 0, "noncoding": 0}
    with (
        atomic_output(out, stdout) as tsv,
        optional_output(protein_fasta, stdout) as faa,
        optional_output(cds_fasta, stdout) as fna,
    ):
        tsv.write(tsv_header())
        for pred in classifier.predict(records, batch_size):
            tsv.write(tsv_row(pred))
            counts["records"] += 1
            counts["coding" if pred.coding else "noncoding"] += 1
            if pred.coding and pred.orf.found:
                if faa is not None:
                    faa.write(protein_entry(pred))
                if fna is not None:
                    fna.write(cds_entry(pred))
            if on_batch is not None and counts["records"] % batch_size == 0:
                on_batch(counts["records"])
    if on_batch is not None:
        on_batch(counts["records"])
    return counts

