"""``classify`` as a job: outputs checked before anything is read, the classifier loaded
once (the process's threads set for its engine), the records scored into the table and
the optional FASTA files, and one summary line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from rnaigloo.classify.classifier import Classifier
from rnaigloo.classify.routing import RoutedClassifier
from rnaigloo.classify.writers import cds_entry, protein_entry, tsv_header, tsv_row
from rnaigloo.io.fasta import Record, read_many
from rnaigloo.io.files import atomic_output, check_outputs, is_stdout, optional_output, require_inputs
from rnaigloo.network.loading import model_files
from rnaigloo.progress import RecordProgress
from rnaigloo.runtime.resources import capped_threads, keep_freed_memory, limit_numpy_threads

if TYPE_CHECKING:  # reading an annotation needs the genome modules, loaded only then
    from rnaigloo.io.transcripts import AnnotationSource


@dataclass(frozen=True)
class ClassifyJob:
    """One ``rnaigloo classify`` run, its options already checked for usage.

    Attributes:
        inputs: FASTA files (``-`` for stdin); empty when ``annotation`` is given.
        output: the TSV (``-`` for stdout).
        models: model paths or bundled names (an ensemble when several; the bundled
            model when none).
        protein_fasta, cds_fasta: optional FASTA outputs for the transcripts called coding.
        threshold: the decision threshold, or None for the model's.
        batch_size: transcripts scored at a time.
        engine: ``numpy`` or ``tensorflow``.
        mixed_precision: with the TensorFlow engine, 16-bit compute.
        annotation: a GTF/GFF3 annotation on a genome to read instead of FASTA.
        threads: ``-t`` (None: the CPUs available).
        debug: TensorFlow's logs and full tracebacks.
    """

    inputs: tuple[str, ...]
    output: str = "-"
    models: tuple[str, ...] = ()
    protein_fasta: str | None = None
    cds_fasta: str | None = None
    threshold: float | None = None
    batch_size: int = 256
    engine: str = "numpy"
    mixed_precision: bool = False
    annotation: AnnotationSource | None = None
    threads: int | None = None
    debug: bool = False


def run_classify(job: ClassifyJob, stdout: IO[str], stderr: IO[str], log: Callable[[str], None], quiet: bool) -> dict[str, int]:
    """Run ``job``: the table (and FASTA files) written, the summary line given to ``log``.

    Returns:
        Counts: ``records``, ``coding``, ``noncoding``.
    """
    require_inputs(job.inputs)
    annotation_files = job.annotation.files() if job.annotation is not None else []
    check_outputs(  # before the annotation is read: it only needs the names
        {"-o": job.output, "--protein-fasta": job.protein_fasta, "--cds-fasta": job.cds_fasta},
        [*job.inputs, *annotation_files, *model_files(job.models)],
    )
    annotated = job.annotation.open(log) if job.annotation is not None else None
    classifier = load_classifier(job.models, job.threshold, job.engine, job.mixed_precision, job.threads, job.debug, log)
    total = None if "-" in job.inputs or annotated is not None else sum(os.path.getsize(p) for p in job.inputs)
    progress = RecordProgress(total, stderr, enabled=not quiet)
    records: Iterator[Record] = annotated.records() if annotated is not None else read_many(job.inputs, progress=progress.bytes_read)
    ok = False
    try:
        counts = classify_to_files(
            classifier,
            records,
            job.output,
            stdout,
            protein_fasta=job.protein_fasta,
            cds_fasta=job.cds_fasta,
            batch_size=job.batch_size,
            on_batch=progress.records_done,
        )
        ok = True
    finally:
        progress.close(ok)
    skipped = f"; {len(annotated.problems)} annotated transcript(s) skipped" if annotated is not None and annotated.problems else ""
    log(
        f"{counts['records']} transcripts ({counts['coding']} coding, {counts['noncoding']} non-coding at threshold "
        f"{classifier.threshold:.3f}) -> {'stdout' if is_stdout(job.output) else job.output}{skipped}"
    )
    return counts


def load_classifier(
    models: tuple[str, ...],
    threshold: float | None,
    engine: str,
    mixed_precision: bool,
    threads: int | None,
    debug: bool,
    log: Callable[[str], None],
) -> Classifier | RoutedClassifier:
    """The classifier of ``classify`` and ``evaluate``, this process's threads set for its engine.

    The TensorFlow engine gets ``threads`` thread pools; the NumPy engine one BLAS
    thread per process, its parallelism coming from ``threads`` worker processes.
    """
    n = capped_threads(threads, log)
    if engine == "tensorflow":
        from rnaigloo.runtime.tensorflow_start import start_tensorflow

        start_tensorflow(n, debug)
    else:
        limit_numpy_threads(1)
        keep_freed_memory()  # with -t 1 this process scores
    return Classifier.load(list(models), threshold, engine, mixed_precision, workers=n, debug=debug)


def classify_to_files(
    classifier: Classifier | RoutedClassifier,
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

