"""Transcripts of GTF/GFF3 annotations spliced from a genome, read like FASTA records.

:class:`AnnotatedTranscripts` reads every annotation file given, checks each
transcript against the genome (its sequence is there, its exons end inside it) and
collects the problems of the annotation and of the genome, each with the transcript's
ID. By default any problem is an error naming the transcripts (the first few and how
many); with ``skip_bad=True`` those transcripts are left out, and each one is listed
through ``log`` and in :meth:`AnnotatedTranscripts.summary` (which the training card
keeps). Records then come out in file order, one per transcript, named by the
transcript ID, so that ``classify`` and ``train`` take them where they take FASTA.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rnaigloo.errors import InputError
from rnaigloo.io.annotation import Annotation, Problem, Transcript, read_annotation
from rnaigloo.io.fasta import Record, SeenIds
from rnaigloo.io.genome import Genome

# Problems named in full in an error message; the rest are counted.
_SHOWN = 5


class AnnotatedTranscripts:
    """The transcripts of one or more annotation files on one genome.

    Args:
        genome: the genome FASTA (plain or bgzip).
        annotations: GTF or GFF3 files (plain or compressed).
        skip_bad: leave out transcripts that cannot be read (each reported) instead
            of failing.
        log: where skipped transcripts are reported, one line each.

    Raises:
        InputError: a bad file, or (without ``skip_bad``) any transcript that cannot
            be read, named by ID.
    """

    def __init__(
        self,
        genome: str | os.PathLike,
        annotations: Sequence[str | os.PathLike],
        skip_bad: bool = False,
        log: Callable[[str], None] = lambda msg: None,
    ):
        self.genome_path = str(genome)
        self.annotations: list[Annotation] = [read_annotation(p) for p in annotations]
        self.problems: list[Problem] = []
        self.transcripts: list[Transcript] = []
        with Genome(genome) as g:
            names = itertools.islice(g.lengths, 3)  # not a list of every contig of a fragmented assembly
            missing_hint = f" (the genome's sequences are named {', '.join(map(repr, names))}, ...)"
            for ann in self.annotations:
                self.problems.extend(ann.problems)
                for t in ann.transcripts:
                    problem = g.problem(t)
                    if problem is None:
                        self.transcripts.append(t)
                    else:
                        self.problems.append(problem)
        if self.problems and not skip_bad:
            shown = "; ".join(str(p) for p in self.problems[:_SHOWN])
            more = f" and {len(self.problems) - _SHOWN} more" if len(self.problems) > _SHOWN else ""
            hint = missing_hint if any("is not in the genome" in p.reason for p in self.problems) else ""
            raise InputError(
                f"{len(self.problems)} transcript(s) cannot be read from the genome {self.genome_path}: {shown}{more}{hint}; "
                "fix the annotation or genome, or pass --skip-bad-transcripts to leave them out (each is listed)"
            )
        for p in self.problems:
            log(f"skipped transcript {p}")

    def __len__(self) -> int:
        return len(self.transcripts)

    def records(self, seen: SeenIds | None = None, gene_in_header: bool = False) -> Iterator[Record]:
        """One record per usable transcript, in file order.

        Args:
            seen: IDs read so far (from other inputs); a transcript ID seen before is an
                error, as for FASTA.
            gene_in_header: write ``gene_id=GENE`` after the ID in the header, so that
                training keeps a gene's isoforms on one side of the validation split.
        """
        seen = SeenIds() if seen is None else seen
        numbers: dict[str, int] = {}
        with Genome(self.genome_path) as g:
            for t in self.transcripts:
                if not seen.add(t.id):
                    raise InputError(
                        f"{t.source}, line {t.line}: transcript ID {t.id!r} was read before; IDs must be unique"
                    )
                numbers[t.source] = numbers.get(t.source, 0) + 1
                header = f"{t.id} gene_id={t.gene}" if gene_in_header and t.gene else t.id
                yield Record(header=header, id=t.id, sequence=g.splice(t), number=numbers[t.source], source=t.source)

    def per_file(self) -> dict[str, int]:
        """Usable transcripts per annotation file."""
        counts = {ann.path: 0 for ann in self.annotations}
        for t in self.transcripts:
            counts[t.source] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        """What was read, for the model card: files, formats, counts and every problem by ID."""
        usable = self.per_file()
        return {
            "genome": os.path.basename(self.genome_path),
            "files": [
                {
                    "file": ann.path,
                    "format": ann.format,
                    "exon_lines": ann.exon_lines,
                    "transcripts": usable[ann.path],
                    "unstranded_read_as_plus": len(ann.unstranded),
                }
                for ann in self.annotations
            ],
            "skipped": [
                {"transcript_id": p.transcript_id, "reason": p.reason, "file": p.source} for p in self.problems
            ],
        }


@dataclass(frozen=True)
class AnnotationSource:
    """GTF/GFF3 files on a genome, named but not read yet.

    A command checks its inputs and outputs first and reads the annotation only then
    (:meth:`open`), so a typo or an output clash costs no read of a large annotation.
    """

    genome: str
    annotations: tuple[str, ...]
    skip_bad: bool = False

    def files(self) -> list[str]:
        """Every file it reads: the annotations and the genome."""
        return [*self.annotations, self.genome]

    def open(self, log: Callable[[str], None] = lambda msg: None) -> AnnotatedTranscripts:
        """Read and check the annotations on the genome (see :class:`AnnotatedTranscripts`).

        Raises:
            InputError: a file is missing or bad, or a transcript cannot be read.
        """
        for path in self.files():
            if not os.path.exists(path):
                raise InputError(f"input file not found: {path}")
        return AnnotatedTranscripts(self.genome, self.annotations, skip_bad=self.skip_bad, log=log)
