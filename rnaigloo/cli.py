"""Command line: parse options, call the core, turn errors into exit codes.

Exit codes: 0 success; 1 bad input or a runtime failure (one line on stderr, the
traceback only with ``--debug``); 2 usage errors; 130 interrupted (Ctrl-C); 143
terminated (SIGTERM). When the reader of stdout goes away (``| head``), click ends the
run quietly with 1. TensorFlow is imported inside the commands that need it, so
``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import click

from rnaigloo._version import __version__
from rnaigloo.errors import InputError, RnaiglooError
from rnaigloo.runtime.signals import Stopped, stop_on_signals

CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True, "max_content_width": 100}


def _common(func):
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


def _threads_option(func):
    return click.option(
        "-t",
        "--threads",
        type=click.IntRange(min=1),
        default=None,
        help="CPU cores to use: worker processes of the NumPy engine, thread pools of TensorFlow (train, --engine tensorflow) [default: the cores available to the process].",
    )(func)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="rnaigloo")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """rnaigloo: how likely each RNA transcript is to code for a protein.

    An IGLOO neural network reads each transcript, its longest ORF and hand-made
    features. Run 'rnaigloo COMMAND --help' for a command's options.
    """
    ctx.ensure_object(dict)


def _streams(ctx: click.Context) -> tuple[IO[str], IO[str]]:
    obj = ctx.obj or {}
    return obj.get("stdout") or sys.stdout, obj.get("stderr") or sys.stderr


def _set_flags(ctx: click.Context, debug: bool) -> None:
    ctx.obj["debug"] = debug


def _annotation_options(func):
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


def _annotated(genome: str | None, annotations: Sequence[str], skip_bad: bool) -> list[Any]:
    """The annotation files on the genome as one source, not read yet (none when no file is given)."""
    if not annotations:
        return []
    from rnaigloo.io.transcripts import AnnotationSource

    return [AnnotationSource(str(genome), tuple(annotations), skip_bad)]


def _check_genome_options(genome: str | None, annotation_options: dict[str, Sequence[str]]) -> None:
    given = [name for name, paths in annotation_options.items() if paths]
    if given and not genome:
        raise click.UsageError(f"{given[0]} needs --genome (the sequences the annotation refers to)")
    if genome and not given:
        raise click.UsageError(f"--genome is only used with {' or '.join(annotation_options)}")


@cli.command(context_settings=CONTEXT, short_help="Score transcripts: coding probability per FASTA record.")
@click.argument("inputs", nargs=-1, required=False, metavar="[INPUT...]")
@click.option(
    "--gtf",
    "gtfs",
    multiple=True,
    metavar="GTF",
    help="Score the transcripts of a GTF/GFF3 annotation (with --genome) instead of FASTA; "
    "sequence_name is the transcript ID (repeatable).",
)
@_annotation_options
@click.option("-o", "--output", default="-", metavar="FILE", help="Output TSV ('-' for stdout).")
@click.option(
    "-m",
    "--model",
    "models",
    multiple=True,
    metavar="MODEL",
    help="A .keras model (its .card.json beside it) or a bundled model's name: multispecies (the default: any "
    "species, complete transcripts and fragments), human (0.1's model: complete human transcripts); repeat to "
    "average an ensemble [default: multispecies].",
)
@click.option("-p", "--protein-fasta", metavar="FILE", help="Write the proteins of transcripts called coding (FASTA).")
@click.option("--cds-fasta", metavar="FILE", help="Write the ORFs (CDS) of transcripts called coding (FASTA).")
@click.option(
    "--threshold",
    type=ThresholdType(),
    default=None,
    help="Score at or above which a transcript is called coding [default: the model's].",
)
@click.option("-b", "--batch-size", type=click.IntRange(min=1), default=256, help="Transcripts scored at a time.")
@click.option(
    "--engine",
    type=click.Choice(["numpy", "tensorflow"]),
    default="numpy",
    help="numpy: no TensorFlow at run time, quick start-up, small memory, parallel worker processes; "
    "tensorflow: for GPUs and --mixed-precision.",
)
@click.option(
    "--mixed-precision",
    is_flag=True,
    help="With --engine tensorflow: bfloat16 on a CPU / float16 on a GPU; scores move by about 1e-3.",
)
@_threads_option
@_common
@click.pass_context
def classify(
    ctx: click.Context,
    inputs: tuple[str, ...],
    output: str,
    models: tuple[str, ...],
    protein_fasta: str | None,
    cds_fasta: str | None,
    threshold: float | None,
    batch_size: int,
    engine: str,
    mixed_precision: bool,
    gtfs: tuple[str, ...],
    genome: str | None,
    skip_bad_transcripts: bool,
    threads: int | None,
    quiet: bool,
    debug: bool,
) -> None:
    """Score the transcripts of FASTA files (plain, gzip, bzip2 or xz; '-' for stdin),
    or of GTF/GFF3 annotations on a genome (--genome G.fa --gtf A.gtf).

    Writes a TSV with one row per input record, in input order: sequence_name,
    coding_score, classification, then the longest ORF (orf_start, orf_end,
    orf_length, orf_5prime, orf_3prime).
    """
    _set_flags(ctx, debug)
    stdout, stderr = _streams(ctx)
    _check_genome_options(genome, {"--gtf": gtfs})
    if inputs and gtfs:
        raise click.UsageError("give FASTA inputs or --genome/--gtf, not both")
    if not inputs and not gtfs:
        raise click.UsageError("missing INPUT: FASTA files (or '-' for stdin), or --genome with --gtf")
    if inputs.count("-") > 1:
        raise click.UsageError("'-' (stdin) can be given only once")
    if mixed_precision and engine != "tensorflow":
        raise click.UsageError("--mixed-precision needs --engine tensorflow")
    for name, path in (("--protein-fasta", protein_fasta), ("--cds-fasta", cds_fasta)):
        if path == "-":
            raise click.UsageError(f"{name} needs a file name; stdout is for the TSV")
    _require_inputs(inputs)
    from rnaigloo.io.files import check_outputs

    annotation_files = [*gtfs, genome] if gtfs else []
    check_outputs(  # before the annotation is read: it only needs the names
        {"-o": output, "--protein-fasta": protein_fasta, "--cds-fasta": cds_fasta},
        [*inputs, *annotation_files, *_model_files(models)],
    )
    log = _logger(quiet, stderr)
    annotated = next((source.open(log) for source in _annotated(genome, gtfs, skip_bad_transcripts)), None)
    classifier = _load_classifier(models, threshold, engine, mixed_precision, threads, debug)
    from rnaigloo.classify.run import classify_to_files
    from rnaigloo.io.fasta import read_many
    from rnaigloo.progress import RecordProgress

    total = None if "-" in inputs or annotated is not None else sum(os.path.getsize(p) for p in inputs)
    progress = RecordProgress(total, stderr, enabled=not quiet)
    ok = False
    try:
        counts = classify_to_files(
            classifier,
            annotated.records() if annotated is not None else read_many(inputs, progress=progress.bytes_read),
            output,
            stdout,
            protein_fasta=protein_fasta,
            cds_fasta=cds_fasta,
            batch_size=batch_size,
            on_batch=progress.records_done,
        )
        ok = True
    finally:
        progress.close(ok)
    if not quiet:
        from rnaigloo.io.files import is_stdout

        where = "stdout" if is_stdout(output) else output
        skipped = f"; {len(annotated.problems)} annotated transcript(s) skipped" if annotated is not None and annotated.problems else ""
        stderr.write(
            f"rnaigloo: {counts['records']} transcripts ({counts['coding']} coding, {counts['noncoding']} "
            f"non-coding at threshold {classifier.threshold:.3f}) -> {where}{skipped}\n"
        )


def _logger(quiet: bool, stderr: IO[str]) -> Callable[[str], None]:
    """Where a command's notes go: ``rnaigloo: MSG`` lines on stderr, or nowhere with ``-q``."""
    return (lambda msg: None) if quiet else (lambda msg: stderr.write(f"rnaigloo: {msg}\n"))


def _model_files(models: Sequence[str]) -> list[str]:
    """The files a model option reads (each model and its card), to keep outputs off them."""
    from rnaigloo.errors import ModelError
    from rnaigloo.network.paths import card_path, default_model_path, resolve_model

    paths = []
    for model in models or [None]:
        try:
            paths.append(resolve_model(model) if model is not None else default_model_path())
        except ModelError:  # reported when the model is loaded
            paths.append(Path(model))
    return [str(p) for path in paths for p in (path, card_path(path))]


def _require_inputs(paths: Sequence[str | None]) -> None:
    """Fail before any slow start-up when an input file is missing."""
    for path in paths:
        if path is not None and path != "-" and not Path(path).exists():
            raise InputError(f"input file not found: {path}")


def _capped_threads(threads: int | None) -> int:
    """``-t``, at most the CPUs available to the process (affinity and cgroup quota); all of them by default.

    More threads or worker processes than CPUs only cost memory and start-up time.
    """
    from rnaigloo.runtime.resources import available_cores

    cores = available_cores()
    if threads is not None and threads > cores:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and not ctx.params.get("quiet"):
            _, stderr = _streams(ctx)
            stderr.write(f"rnaigloo: -t {threads} is more than the {cores} CPU(s) available to this process; using {cores}\n")
    return min(threads or cores, cores)


def _load_classifier(models, threshold, engine: str, mixed_precision: bool, threads: int | None, debug: bool):
    """The classifier for ``classify`` and ``evaluate``; threads split as the engine needs."""
    from rnaigloo.runtime.resources import keep_freed_memory, limit_numpy_threads
    from rnaigloo.runtime.tensorflow_start import start_tensorflow

    n = _capped_threads(threads)
    if engine == "tensorflow":
        start_tensorflow(n, debug)
    else:
        limit_numpy_threads(1)  # parallelism comes from worker processes, one BLAS thread each
        keep_freed_memory()  # with -t 1 this process scores
    from rnaigloo.classify.classifier import Classifier

    return Classifier.load(list(models), threshold, engine, mixed_precision, workers=n, debug=debug)


@cli.command(context_settings=CONTEXT, short_help="Train a model from known coding and non-coding transcripts.")
@click.option("--coding", multiple=True, metavar="FASTA", help="Known protein-coding transcripts (repeatable).")
@click.option("--noncoding", multiple=True, metavar="FASTA", help="Known non-coding transcripts (repeatable).")
@click.option("--coding-gtf", multiple=True, metavar="GTF", help="Annotation (GTF/GFF3) of known mRNAs, with --genome (repeatable).")
@click.option(
    "--noncoding-gtf", multiple=True, metavar="GTF", help="Annotation (GTF/GFF3) of known lncRNAs, with --genome (repeatable)."
)
@_annotation_options
@click.option(
    "--noncoding-mode",
    type=click.Choice(["shuffle", "intergenic"]),
    default=None,
    help="No lncRNA set: make the non-coding class from k-let shuffles of the mRNAs (shuffle) or from "
    "genome windows away from the annotated genes, with the mRNAs' lengths (intergenic; needs --coding-gtf).",
)
@click.option("--shuffle-k", type=click.IntRange(1, 12), default=2, help="k-let size kept by --noncoding-mode shuffle.")
@click.option(
    "--intergenic-flank", type=click.IntRange(min=0), default=1000, help="nt kept clear around genes by --noncoding-mode intergenic."
)
@click.option(
    "--init-from",
    metavar="MODEL",
    help="Start from a trained model's weights and settings (a .keras path, or a bundled model's name: multispecies, human).",
)
@click.option("-o", "--output", required=True, metavar="MODEL.keras", help="Model file to write; its card and report go beside it.")
@click.option("--epochs", type=click.IntRange(min=1), default=30, help="Most epochs to run.")
@click.option(
    "-b", "--batch-size", type=click.IntRange(min=1), default=64, help="Training batch size per device (replica)."
)
@click.option("--seed", type=int, default=42, help="Seeds the split, shuffling, weights and dropout.")
@click.option("--val-fraction", type=float, default=0.1, help="Share of the data (grouped by gene) kept for validation.")
@click.option("--patience", type=click.IntRange(min=1), default=4, help="Epochs without a better validation loss before stopping.")
@click.option("--config", "config_file", metavar="JSON", help="JSON file of model settings (see README).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="One model setting, e.g. --set nuc_patches=600 (repeatable).")
@click.option(
    "--encoding",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Encoding version (ORF search) to train with: 3 (the default; a 5'-open frame counts when 1.5x the longest "
    "ATG ORF), 2 (when longer), 1 (0.1's ATG-only search); with --init-from, that model's.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its checkpoint (same command, same data).")
@click.option(
    "--mixed-precision",
    is_flag=True,
    help="Train in float16 on a GPU / bfloat16 on a CPU (float32 weights); the model keeps this policy.",
)
@click.option(
    "--devices",
    default="all",
    metavar="all|cpu|0,1",
    help="all: every GPU TensorFlow sees (mirrored when more than one), else the CPU; cpu: the CPU only; "
    "0,1: these GPUs. The global batch is --batch-size times the devices.",
)
@_threads_option
@_common
@click.pass_context
def train(
    ctx: click.Context,
    coding: tuple[str, ...],
    noncoding: tuple[str, ...],
    coding_gtf: tuple[str, ...],
    noncoding_gtf: tuple[str, ...],
    genome: str | None,
    skip_bad_transcripts: bool,
    output: str,
    config_file: str | None,
    settings: tuple[str, ...],
    threads: int | None,
    quiet: bool,
    debug: bool,
    **options: Any,
) -> None:
    """Train a model from known coding and non-coding transcripts (FEELnc-style):
    FASTA files, or GTF/GFF3 annotations on a genome; without lncRNAs, --noncoding-mode
    makes the non-coding class.

    Writes MODEL.keras, MODEL.card.json (threshold, config, data, validation
    metrics, SHA-256), MODEL.report.json and MODEL.report.png (per-epoch curves).
    """
    _set_flags(ctx, debug)
    _, stderr = _streams(ctx)
    _check_genome_options(genome, {"--coding-gtf": coding_gtf, "--noncoding-gtf": noncoding_gtf})
    mode = options["noncoding_mode"]
    if not coding and not coding_gtf:
        raise click.UsageError("missing coding transcripts: --coding FASTA or --coding-gtf GTF")
    if mode and (noncoding or noncoding_gtf):
        raise click.UsageError("--noncoding-mode makes the non-coding set; give it or --noncoding/--noncoding-gtf, not both")
    if not mode and not noncoding and not noncoding_gtf:
        raise click.UsageError("missing non-coding transcripts: --noncoding, --noncoding-gtf, or --noncoding-mode")
    if mode == "intergenic" and not coding_gtf:
        raise click.UsageError("--noncoding-mode intergenic needs --genome and --coding-gtf (to know where the genes are)")
    from rnaigloo.training.arguments import TrainSettings, read_settings
    from rnaigloo.training.trainer import train as run_training

    try:
        overrides = read_settings(config_file, settings)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--set") from None
    run_training(
        [*coding, *_annotated(genome, coding_gtf, skip_bad_transcripts)],
        [*noncoding, *_annotated(genome, noncoding_gtf, skip_bad_transcripts)],
        output,
        TrainSettings(
            config=overrides,
            other_inputs=[config_file] if config_file else [],
            threads=_capped_threads(threads),
            verbose=0 if quiet else (1 if stderr.isatty() else 2),
            debug=debug,
            log=_logger(quiet, stderr),
            **options,
        ),
    )


@cli.command(context_settings=CONTEXT, short_help="Measure a model on labelled transcripts (MCC, AUROC, ...).")
@click.option("--coding", multiple=True, required=True, metavar="FASTA", help="Known protein-coding transcripts (repeatable).")
@click.option("--noncoding", multiple=True, required=True, metavar="FASTA", help="Known non-coding transcripts (repeatable).")
@click.option("-m", "--model", "models", multiple=True, metavar="MODEL", help="Model(s) to evaluate: paths or bundled names (multispecies, human); repeat for an ensemble [default: multispecies].")
@click.option("--threshold", type=ThresholdType(), default=None, help="Decision threshold [default: the model's].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead of a table.")
@click.option("--plot", metavar="FILE.png", help="Write ROC, precision-recall and reliability curves (threshold marked) to this PNG.")
@click.option("-b", "--batch-size", type=click.IntRange(min=1), default=256, help="Transcripts scored at a time.")
@click.option("--engine", type=click.Choice(["numpy", "tensorflow"]), default="numpy", help="Inference engine (see classify).")
@_threads_option
@_common
@click.pass_context
def evaluate(
    ctx: click.Context,
    coding: tuple[str, ...],
    noncoding: tuple[str, ...],
    models: tuple[str, ...],
    threshold: float | None,
    as_json: bool,
    plot: str | None,
    batch_size: int,
    engine: str,
    threads: int | None,
    quiet: bool,
    debug: bool,
) -> None:
    """Measure a model on labelled transcripts: accuracy, sensitivity, specificity,
    precision, F1, MCC, AUROC, AUPRC."""
    _set_flags(ctx, debug)
    stdout, stderr = _streams(ctx)
    _require_inputs(coding + noncoding)
    from rnaigloo.evaluate.measure import check_evaluate_outputs, evaluate_files

    check_evaluate_outputs(coding, noncoding, plot, _model_files(models))
    classifier = _load_classifier(models, threshold, engine, False, threads, debug)
    evaluate_files(
        classifier, coding, noncoding, stdout, batch_size=batch_size, as_json=as_json, plot=plot, log=_logger(quiet, stderr)
    )


@cli.command("model-info", context_settings=CONTEXT, short_help="Show a model's card (threshold, data, metrics).")
@click.option("-m", "--model", default=None, metavar="MODEL", help="A .keras model or a bundled model's name (multispecies, human) [default: multispecies].")
@click.option("--markdown", is_flag=True, help="Print the card as Markdown tables.")
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON.")
@_common
@click.pass_context
def model_info(ctx: click.Context, model: str | None, markdown: bool, as_json: bool, quiet: bool, debug: bool) -> None:
    """Check a model file against its card and print the card.

    Verifies the SHA-256 and the format and encoding versions without loading
    TensorFlow.
    """
    _set_flags(ctx, debug)
    stdout, _ = _streams(ctx)
    from rnaigloo.network.card import card_markdown, card_summary, read_card
    from rnaigloo.network.paths import default_model_path, resolve_model

    path = resolve_model(model) if model else default_model_path()
    card = read_card(path)
    if as_json:
        stdout.write(json.dumps(card, indent=2) + "\n")
    elif markdown:
        stdout.write(card_markdown(card))
    else:
        stdout.write(card_summary(card, path))


@cli.command(context_settings=CONTEXT, short_help="Split FASTA into shards by record, for parallel classify jobs.")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("-n", "--shards", type=click.IntRange(min=1), required=True, help="Number of shards to write.")
@click.option(
    "-d", "--out-dir", required=True, metavar="DIR", help="Directory for shard_0001.fa ... and manifest.json (created if missing)."
)
@click.option(
    "-b",
    "--batch-size",
    type=click.IntRange(min=1),
    default=256,
    help="The -b of the classify runs: shards hold whole batches, so scores match one run to the last digit.",
)
@click.option("--gzip", "gzipped", is_flag=True, help="Write gzipped shards (shard_0001.fa.gz ...).")
@_common
@click.pass_context
def split(
    ctx: click.Context,
    inputs: tuple[str, ...],
    shards: int,
    out_dir: str,
    batch_size: int,
    gzipped: bool,
    quiet: bool,
    debug: bool,
) -> None:
    """Split FASTA files into shards of consecutive records for parallel 'classify' jobs.

    Checks every record as 'classify' does (duplicate IDs across the whole input
    included), then writes the shards and a manifest. Each shard holds whole batches
    of --batch-size records; classify the shards with the same -b, and 'rnaigloo merge'
    joins their tables into exactly the table one 'classify' run would write.
    """
    _set_flags(ctx, debug)
    _, stderr = _streams(ctx)
    if "-" in inputs:
        raise click.UsageError("split reads its input twice; give files, not '-' (stdin)")
    _require_inputs(inputs)
    from rnaigloo.io.shards import split_fasta

    log = _logger(quiet, stderr)
    written = split_fasta(inputs, shards, out_dir, batch_size=batch_size, gzipped=gzipped, log=log)
    log(f"{sum(s.records for s in written)} records -> {len(written)} shards in {out_dir}")


@cli.command(context_settings=CONTEXT, short_help="Merge the shards' classify tables into one table, in input order.")
@click.argument("tables", nargs=-1, required=True, metavar="TABLE...")
@click.option("--manifest", required=True, metavar="JSON", help="The manifest.json 'rnaigloo split' wrote with the shards.")
@click.option("-o", "--output", default="-", metavar="FILE", help="Merged TSV ('-' for stdout).")
@_common
@click.pass_context
def merge(ctx: click.Context, tables: tuple[str, ...], manifest: str, output: str, quiet: bool, debug: bool) -> None:
    """Join the classify tables of the shards of one 'split' into the single-run table.

    Tables may be given in any order: each is matched to its shard by the manifest
    and must hold all of that shard's rows.
    """
    _set_flags(ctx, debug)
    stdout, stderr = _streams(ctx)
    from rnaigloo.classify.merge import merge_tables
    from rnaigloo.io.files import check_outputs, is_stdout

    check_outputs({"-o": output}, [*tables, manifest])
    rows = merge_tables(tables, manifest, output, stdout)
    if not quiet:
        stderr.write(f"rnaigloo: {rows} rows from {len(tables)} tables -> {'stdout' if is_stdout(output) else output}\n")


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting.

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).
        stdout, stderr: where results and messages go (default: the process's).
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    obj: dict[str, Any] = {"stdout": stdout, "stderr": stderr, "debug": False}
    args = list(sys.argv[1:] if argv is None else argv)
    previous: dict[int, Any] = {}
    try:
        previous = stop_on_signals()
        rc = cli.main(args=args, prog_name="rnaigloo", standalone_mode=False, obj=obj)
        return rc if isinstance(rc, int) else 0
    except click.exceptions.Exit as err:
        return err.exit_code
    except click.UsageError as err:
        hint = f"\nTry '{err.ctx.command_path} --help' for help." if err.ctx else ""
        stderr.write(f"rnaigloo: usage error: {err.format_message()}{hint}\n")
        return 2
    except click.ClickException as err:
        stderr.write(f"rnaigloo: error: {err.format_message()}\n")
        return err.exit_code
    except click.exceptions.Abort:  # click's form of Ctrl-C
        stderr.write("rnaigloo: interrupted; no output file was written\n")
        return 130
    except RnaiglooError as err:
        if obj.get("debug"):
            traceback.print_exc(file=stderr)
        stderr.write(f"rnaigloo: error: {err}\n")
        return 1
    except KeyboardInterrupt:  # where no handler of ours could be set (not the main thread)
        stderr.write("rnaigloo: interrupted; no output file was written\n")
        return 130
    except Stopped as stop:
        stderr.write(f"rnaigloo: {stop.word}; no output file was written\n")
        return stop.exit_code
    except MemoryError:
        stderr.write("rnaigloo: error: out of memory; try a smaller --batch-size\n")
        return 1
    except Exception as err:  # the last guard: one line, never a traceback by default
        if obj.get("debug"):
            traceback.print_exc(file=stderr)
        if isinstance(err, ModuleNotFoundError):
            from rnaigloo.runtime.dependencies import missing_dependency_message

            message = missing_dependency_message(err.name)
            if message is not None:  # an install without TensorFlow (the classify image)
                stderr.write(f"rnaigloo: error: {message}\n")
                return 1
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        stderr.write(f"rnaigloo: error: {type(err).__name__}: {first} (run with --debug for details)\n")
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        try:
            stdout.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
