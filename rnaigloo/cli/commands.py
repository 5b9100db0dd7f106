"""The commands: each parses its options, refuses what is a usage error, and calls the job
in the package that does the work (:mod:`rnaigloo.classify.job`,
:mod:`rnaigloo.training.trainer`, :mod:`rnaigloo.evaluate.measure`, ...).
"""

from __future__ import annotations

import json
from typing import Any

import click

from rnaigloo._version import __version__
from rnaigloo.cli.options import (
    BUNDLED,
    CONTEXT,
    NETWORKS,
    annotated,
    annotation_options,
    batch_size_option,
    check_genome_options,
    common,
    logger,
    models_option,
    streams,
    threads_option,
    threshold_option,
)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="rnaigloo")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """rnaigloo: how likely each RNA transcript is to code for a protein.

    An IGLOO neural network reads each transcript, its longest ORF and hand-made
    features. Run 'rnaigloo COMMAND --help' for a command's options.
    """
    ctx.ensure_object(dict)


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
@annotation_options
@click.option("-o", "--output", default="-", metavar="FILE", help="Output TSV ('-' for stdout).")
@models_option(
    f"A .keras model (its .card.json beside it), a model pair (.pair.json) or a bundled model's name: {BUNDLED}; "
    "repeat to average an ensemble of single networks [default: default]."
)
@click.option("-p", "--protein-fasta", metavar="FILE", help="Write the proteins of transcripts called coding (FASTA).")
@click.option("--cds-fasta", metavar="FILE", help="Write the ORFs (CDS) of transcripts called coding (FASTA).")
@threshold_option("Score at or above which a transcript is called coding [default: the model's].")
@batch_size_option(256)
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
@threads_option
@common
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
    stdout, stderr = streams(ctx, debug)
    check_genome_options(genome, {"--gtf": gtfs})
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
    from rnaigloo.classify.job import ClassifyJob, run_classify

    job = ClassifyJob(
        inputs,
        output,
        models,
        protein_fasta,
        cds_fasta,
        threshold,
        batch_size,
        engine,
        mixed_precision,
        next(iter(annotated(genome, gtfs, skip_bad_transcripts)), None),
        threads,
        debug,
    )
    run_classify(job, stdout, stderr, logger(quiet, stderr), quiet)


@cli.command(context_settings=CONTEXT, short_help="Train a model from known coding and non-coding transcripts.")
@click.option("--coding", multiple=True, metavar="FASTA", help="Known protein-coding transcripts (repeatable).")
@click.option("--noncoding", multiple=True, metavar="FASTA", help="Known non-coding transcripts (repeatable).")
@click.option("--coding-gtf", multiple=True, metavar="GTF", help="Annotation (GTF/GFF3) of known mRNAs, with --genome (repeatable).")
@click.option(
    "--noncoding-gtf", multiple=True, metavar="GTF", help="Annotation (GTF/GFF3) of known lncRNAs, with --genome (repeatable)."
)
@annotation_options
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
    help=f"Start from a trained model's weights and settings (a .keras path, or a bundled network's name: {NETWORKS}); "
    "its learning rate too (1e-3 for the bundled networks) unless --set learning_rate= is given.",
)
@click.option("-o", "--output", required=True, metavar="MODEL.keras", help="Model file to write; its card and report go beside it.")
@click.option("--epochs", type=click.IntRange(min=1), default=30, help="Most epochs to run.")
@batch_size_option(64, "Training batch size per device (replica).")
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
    help="Encoding version to train with: 3 (the default; a 5'-open frame counts when 1.5x the longest ATG ORF), "
    "2 (when longer), 1 (0.1's ATG-only search), 4 (ATG-only, plus UTR shares, open-frame share, position "
    "statistics and a hexamer score against a table learned from the training rows and stored in the model); "
    "with --init-from, that model's.",
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
@threads_option
@common
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
    _, stderr = streams(ctx, debug)
    check_genome_options(genome, {"--coding-gtf": coding_gtf, "--noncoding-gtf": noncoding_gtf})
    mode = options["noncoding_mode"]
    if not coding and not coding_gtf:
        raise click.UsageError("missing coding transcripts: --coding FASTA or --coding-gtf GTF")
    if mode and (noncoding or noncoding_gtf):
        raise click.UsageError("--noncoding-mode makes the non-coding set; give it or --noncoding/--noncoding-gtf, not both")
    if not mode and not noncoding and not noncoding_gtf:
        raise click.UsageError("missing non-coding transcripts: --noncoding, --noncoding-gtf, or --noncoding-mode")
    if mode == "intergenic" and not coding_gtf:
        raise click.UsageError("--noncoding-mode intergenic needs --genome and --coding-gtf (to know where the genes are)")
    from rnaigloo.runtime.resources import capped_threads
    from rnaigloo.training.arguments import TrainSettings, read_settings
    from rnaigloo.training.trainer import train as run_training

    log = logger(quiet, stderr)
    try:
        overrides = read_settings(config_file, settings)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--set") from None
    run_training(
        [*coding, *annotated(genome, coding_gtf, skip_bad_transcripts)],
        [*noncoding, *annotated(genome, noncoding_gtf, skip_bad_transcripts)],
        output,
        TrainSettings(
            config=overrides,
            other_inputs=[config_file] if config_file else [],
            threads=capped_threads(threads, log),
            verbose=0 if quiet else (1 if stderr.isatty() else 2),
            debug=debug,
            log=log,
            **options,
        ),
    )


@cli.command(context_settings=CONTEXT, short_help="Measure a model on labelled transcripts (MCC, AUROC, ...).")
@click.option("--coding", multiple=True, required=True, metavar="FASTA", help="Known protein-coding transcripts (repeatable).")
@click.option("--noncoding", multiple=True, required=True, metavar="FASTA", help="Known non-coding transcripts (repeatable).")
@models_option("Model(s) to evaluate: paths or bundled names (default, complete, multispecies, human); repeat for an ensemble of single networks [default: default].")
@threshold_option("Decision threshold [default: the model's].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead of a table.")
@click.option("--plot", metavar="FILE.png", help="Write ROC, precision-recall and reliability curves (threshold marked) to this PNG.")
@batch_size_option(256)
@click.option("--engine", type=click.Choice(["numpy", "tensorflow"]), default="numpy", help="Inference engine (see classify).")
@threads_option
@common
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
    stdout, stderr = streams(ctx, debug)
    from rnaigloo.classify.job import load_classifier
    from rnaigloo.evaluate.measure import check_evaluate_outputs, evaluate_files
    from rnaigloo.io.files import require_inputs
    from rnaigloo.network.loading import model_files

    require_inputs(coding + noncoding)
    check_evaluate_outputs(coding, noncoding, plot, model_files(models))
    log = logger(quiet, stderr)
    classifier = load_classifier(models, threshold, engine, False, threads, debug, log)
    evaluate_files(classifier, coding, noncoding, stdout, batch_size=batch_size, as_json=as_json, plot=plot, log=log)


@cli.command("model-info", context_settings=CONTEXT, short_help="Show a model's card (threshold, data, metrics).")
@click.option("-m", "--model", default=None, metavar="MODEL", help="A .keras model, a model pair (.pair.json) or a bundled model's name (default, complete, multispecies, human) [default: default].")
@click.option("--markdown", is_flag=True, help="Print the card as Markdown tables.")
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON.")
@common
@click.pass_context
def model_info(ctx: click.Context, model: str | None, markdown: bool, as_json: bool, quiet: bool, debug: bool) -> None:
    """Check a model file against its card and print the card.

    Verifies the SHA-256 and the format and encoding versions without loading
    TensorFlow.
    """
    stdout, _ = streams(ctx, debug)
    from rnaigloo.network.card import card_markdown, card_summary, read_card
    from rnaigloo.network.pair import MEMBERS, check_member, pair_markdown, pair_summary, read_pair
    from rnaigloo.network.paths import default_model_path, is_pair_path, resolve_model

    path = resolve_model(model) if model else default_model_path()
    if not is_pair_path(path):
        card = read_card(path)
        if as_json:
            stdout.write(json.dumps(card, indent=2) + "\n")
        elif markdown:
            stdout.write(card_markdown(card))
        else:
            stdout.write(card_summary(card, path))
        return
    spec = read_pair(path)
    cards = {role: read_card(spec.members[role]) for role in MEMBERS}
    for role in MEMBERS:
        check_member(spec, role, cards[role])
    if as_json:
        stdout.write(json.dumps({**spec.data, "cards": cards}, indent=2) + "\n")
    elif markdown:
        stdout.write(pair_markdown(spec) + "".join("\n" + card_markdown(cards[role]) for role in MEMBERS))
    else:
        stdout.write(pair_summary(spec) + "".join(card_summary(cards[role], spec.members[role]) for role in MEMBERS))


@cli.command(context_settings=CONTEXT, short_help="Split FASTA into shards by record, for parallel classify jobs.")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("-n", "--shards", type=click.IntRange(min=1), required=True, help="Number of shards to write.")
@click.option(
    "-d", "--out-dir", required=True, metavar="DIR", help="Directory for shard_0001.fa ... and manifest.json (created if missing)."
)
@batch_size_option(256, "The -b of the classify runs: shards hold whole batches, so scores match one run to the last digit.")
@click.option("--gzip", "gzipped", is_flag=True, help="Write gzipped shards (shard_0001.fa.gz ...).")
@common
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
    _, stderr = streams(ctx, debug)
    if "-" in inputs:
        raise click.UsageError("split reads its input twice; give files, not '-' (stdin)")
    from rnaigloo.io.files import require_inputs
    from rnaigloo.io.shards import split_fasta

    require_inputs(inputs)
    log = logger(quiet, stderr)
    written = split_fasta(inputs, shards, out_dir, batch_size=batch_size, gzipped=gzipped, log=log)
    log(f"{sum(s.records for s in written)} records -> {len(written)} shards in {out_dir}")


@cli.command(context_settings=CONTEXT, short_help="Merge the shards' classify tables into one table, in input order.")
@click.argument("tables", nargs=-1, required=True, metavar="TABLE...")
@click.option("--manifest", required=True, metavar="JSON", help="The manifest.json 'rnaigloo split' wrote with the shards.")
@click.option("-o", "--output", default="-", metavar="FILE", help="Merged TSV ('-' for stdout).")
@common
@click.pass_context
def merge(ctx: click.Context, tables: tuple[str, ...], manifest: str, output: str, quiet: bool, debug: bool) -> None:
    """Join the classify tables of the shards of one 'split' into the single-run table.

    Tables may be given in any order: each is matched to its shard by the manifest
    and must hold all of that shard's rows.
    """
    stdout, stderr = streams(ctx, debug)
    from rnaigloo.classify.merge import merge_tables
    from rnaigloo.io.files import check_outputs, is_stdout

    check_outputs({"-o": output}, [*tables, manifest])
    rows = merge_tables(tables, manifest, output, stdout)
    logger(quiet, stderr)(f"{rows} rows from {len(tables)} tables -> {'stdout' if is_stdout(output) else output}")
