"""The options several commands share, and what every command needs from its context:
the streams it writes to and where its notes go.

Options are spelled once here, so ``classify``, ``train`` and ``evaluate`` agree on their
words and defaults.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True, "max_content_width": 100}

BUNDLED = (
    "default (the default, a model pair: each transcript whose longest ORF has a start and a stop codon, or that has "
    "no ORF, is scored by 'complete', one whose ORF lacks either, as a fragment's does, by 'multispecies'), "
    "complete (use it when every transcript is known to be complete, e.g. a reference annotation: it calls "
    "lncRNAs more specifically, fragments worse), multispecies (0.2's default: trained with fragments too), "
    "human (0.1's model: complete human transcripts)"
)
NETWORKS = "complete, multispecies, human"  # the bundled single networks (what --init-from takes)


def common(func):
    """Options every command takes."""
    func = click.option("--debug", is_flag=True, help="Show full tracebacks and TensorFlow logs.")(func)
    func = click.option("-q", "--quiet", is_flag=True, help="No progress or messages on stderr (errors still).")(func)
    return func


class ThresholdType(click.ParamType):
    """A decision threshold: a finite number in [0, 1] (the check model cards get too)."""

    name = "FLOAT"

    def convert(self, value, param, ctx):
        from rnaigloo.network.config import check_threshold

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number in [0, 1], found {value!r}", param, ctx)
        try:
            return check_threshold(number, "--threshold")
        except ValueError as err:
            self.fail(str(err).split(": ", 1)[1], param, ctx)


def threshold_option(help_text: str):
    return click.option("--threshold", type=ThresholdType(), default=None, help=help_text)


def threads_option(func):
    return click.option(
        "-t",
        "--threads",
        type=click.IntRange(min=1),
        default=None,
        help="CPU cores to use: worker processes of the NumPy engine, thread pools of TensorFlow (train, --engine "
        "tensorflow) [default: the cores available to the process].",
    )(func)


def batch_size_option(default: int, help_text: str = "Transcripts scored at a time."):
    return click.option("-b", "--batch-size", type=click.IntRange(min=1), default=default, help=help_text)


def models_option(help_text: str):
    """``-m/--model``, repeatable (an ensemble): paths or bundled names."""
    return click.option("-m", "--model", "models", multiple=True, metavar="MODEL", help=help_text)


def annotation_options(func):
    """--genome and --skip-bad-transcripts, shared by classify and train."""
    func = click.option(
        "--skip-bad-transcripts",
        is_flag=True,
        help="Leave out annotated transcripts that cannot be read from the genome (each listed on stderr) "
        "instead of stopping.",
    )(func)
    func = click.option(
        "--genome", metavar="FASTA", help="Genome FASTA (plain or bgzip; indexed, never loaded whole) for GTF/GFF3 input."
    )(func)
    return func


def check_genome_options(genome: str | None, annotation_options: dict[str, Sequence[str]]) -> None:
    """--genome and the annotation options come together, or not at all."""
    given = [name for name, paths in annotation_options.items() if paths]
    if given and not genome:
        raise click.UsageError(f"{given[0]} needs --genome (the sequences the annotation refers to)")
    if genome and not given:
        raise click.UsageError(f"--genome is only used with {' or '.join(annotation_options)}")


def annotated(genome: str | None, annotations: Sequence[str], skip_bad: bool) -> list[Any]:
    """The annotation files on the genome as one source, not read yet (none when no file is given)."""
    if not annotations:
        return []
    from rnaigloo.io.transcripts import AnnotationSource

    return [AnnotationSource(str(genome), tuple(annotations), skip_bad)]


def streams(ctx: click.Context, debug: bool) -> tuple[IO[str], IO[str]]:
    """The command's stdout and stderr (those given to ``main``, else the process's).

    Notes ``debug`` in the context, for the exit-code mapping to show a traceback.
    """
    ctx.obj["debug"] = debug
    return ctx.obj.get("stdout") or sys.stdout, ctx.obj.get("stderr") or sys.stderr


def logger(quiet: bool, stderr: IO[str]) -> Callable[[str], None]:
    """Where a command's notes go: ``rnaigloo: MSG`` lines on stderr, or nowhere with ``-q``."""
    return (lambda msg: None) if quiet else (lambda msg: stderr.write(f"rnaigloo: {msg}\n"))
