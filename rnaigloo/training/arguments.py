"""``train``'s settings and their checks, all made before TensorFlow is imported.

:class:`TrainSettings` holds how a run trains (everything but its data and output);
:func:`check_train_arguments` checks them, the inputs and the outputs once, at the
start of :func:`rnaigloo.training.trainer.train`. Importing TensorFlow takes seconds
and reading the data more: a typo in a setting, a missing input or an output that
cannot be written is reported at once instead. This module imports neither
TensorFlow nor the training code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnaigloo.errors import InputError
from rnaigloo.network.config import resolve_config
from rnaigloo.network.paths import sibling_path

VAL_FRACTION_RANGE = (0.0, 0.5)  # both open: a split needs both sides


def _to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


@dataclass(frozen=True)
class TrainSettings:
    """How a run trains: everything ``train`` takes besides its data and its output.

    Attributes:
        config: model settings over :data:`rnaigloo.network.config.DEFAULT_CONFIG`
            (with ``init_from``: over that model's settings; only the training
            settings may change).
        noncoding_mode: without a non-coding set, make one: ``shuffle`` (k-let
            shuffles of the coding transcripts) or ``intergenic`` (genome windows away
            from the coding transcripts' annotation, which must then be given as
            AnnotatedTranscripts); see :mod:`rnaigloo.training.negatives`.
        shuffle_k: the k-let size of ``shuffle``.
        intergenic_flank: nt kept clear around every annotated transcript by ``intergenic``.
        init_from: start from this model's weights and settings (a path, or a
            bundled model's name such as ``human``).
        epochs: the most epochs to run.
        batch_size: training batch size per replica (device); the global batch is this
            times the replicas (see :mod:`rnaigloo.training.devices`).
        seed: seeds the split, the shuffling, the weights and dropout.
        val_fraction: share of the data (by gene) kept for validation.
        patience: epochs without a better validation loss before stopping.
        resume: continue from the checkpoint of an interrupted run with the same
            settings and data.
        mixed_precision: compute in float16 (GPU) or bfloat16 (CPU), weights in float32.
        devices: ``all`` (every GPU, mirrored when more than one; else the CPU), ``cpu``,
            or GPU indices such as ``0,1``.
        encoding: the encoding version (ORF search and features) the model reads
            transcripts with; default the latest, or with ``init_from`` that model's
            (which may not be changed).
        threads: CPU threads of TensorFlow's pools (default: the cores available).
        other_inputs: files read besides the FASTA files (``--config``, annotations,
            the genome), which no output may replace.
        verbose: 0 silent, 1 progress bar, 2 a line per epoch.
        debug: keep TensorFlow's logs.
        log: where messages go.
    """

    config: dict[str, Any] = field(default_factory=dict)
    noncoding_mode: str | None = None
    shuffle_k: int = 2
    intergenic_flank: int = 1000
    init_from: str | os.PathLike | None = None
    epochs: int = 30
    batch_size: int = 64
    seed: int = 42
    val_fraction: float = 0.1
    patience: int = 4
    resume: bool = False
    mixed_precision: bool = False
    devices: str = "all"
    encoding: int | None = None
    threads: int | None = None
    other_inputs: Sequence[str | os.PathLike] = ()
    verbose: int = 1
    debug: bool = False
    log: Callable[[str], None] = _to_stderr


def model_outputs(output: Path) -> list[Path]:
    """Every file ``train`` writes for the model ``output``: the model, card, report and plot."""
    return [output] + [sibling_path(output, kind) for kind in ("card", "report", "plot")]


def read_settings(config_file: str | None, items: Sequence[str]) -> dict[str, Any]:
    """Model settings from a ``--config`` JSON file, then ``--set KEY=VALUE`` items over it.

    A VALUE is read as JSON (numbers, true/false) and otherwise kept as text; the
    settings are checked against their ranges by :func:`check_train_arguments`.

    Raises:
        InputError: the file cannot be read or does not hold a JSON object.
        ValueError: an item is not KEY=VALUE (a usage error).
    """
    import json

    overrides: dict[str, Any] = {}
    if config_file:
        try:
            loaded = json.loads(Path(config_file).read_text(encoding="utf-8"))
        except OSError as err:
            raise InputError(f"cannot read --config {config_file}: {err.strerror}") from None
        except ValueError as err:
            raise InputError(f"--config {config_file} is not valid JSON: {err}") from None
        if not isinstance(loaded, dict):
            raise InputError(f"--config {config_file} must hold a JSON object of model settings")
        overrides.update(loaded)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, found {item!r}")
        try:
            overrides[key] = json.loads(value)
        except ValueError:
            overrides[key] = value
    return overrides


def check_val_fraction(fraction: float) -> float:
    low, high = VAL_FRACTION_RANGE
    if not (isinstance(fraction, (int, float)) and low < fraction < high):
        raise InputError(f"--val-fraction must be a number between {low:g} and {high:g} (both excluded), found {fraction}")
    return float(fraction)


def check_train_arguments(
    coding: Sequence[Any], noncoding: Sequence[Any], output: str | os.PathLike, settings: TrainSettings
) -> tuple[Path, dict[str, Any]]:
    """Check everything ``train`` is given before any slow work.

    Args:
        coding, noncoding: each class's sources: FASTA paths, or annotated transcripts
            (:class:`rnaigloo.io.transcripts.AnnotatedTranscripts`, checked when made).
        output: the model file to write.
        settings: how to train; ``settings.other_inputs`` and the model trained from
            (``init_from``) are inputs that no output may replace.

    Returns:
        The output path and the model config the settings resolve to (over the
        defaults; with ``init_from``, the initial model's settings are applied later).

    Raises:
        InputError: one line naming the argument, what was expected and what was found.
    """
    output = Path(output)
    if output.suffix != ".keras":
        raise InputError(f"the model file name must end in .keras, found {output.name!r}")
    need_noncoding = settings.noncoding_mode is None
    if not coding or (need_noncoding and not noncoding):
        what = "one --coding" + (" and one --noncoding" if need_noncoding else "")
        raise InputError(f"training needs at least {what} source (FASTA file or annotation)")
    inputs = [str(p) for p in (*coding, *noncoding) if isinstance(p, (str, os.PathLike))]
    if inputs.count("-") > 1:
        raise InputError("'-' (stdin) can be given only once among --coding and --noncoding")
    for path in inputs:
        if path == "-":
            continue
        if not os.path.exists(path):
            raise InputError(f"input file not found: {path}")
        if os.path.isdir(path):
            raise InputError(f"expected a FASTA file, found a directory: {path}")
    from rnaigloo.io.transcripts import AnnotationSource

    annotation_files = [f for src in (*coding, *noncoding) if isinstance(src, AnnotationSource) for f in src.files()]
    for path in annotation_files:
        if not os.path.exists(path):
            raise InputError(f"input file not found: {path}")
    for name, value in (("--epochs", settings.epochs), ("--batch-size", settings.batch_size), ("--patience", settings.patience)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, found {value}")
    check_val_fraction(settings.val_fraction)
    from rnaigloo.encoding.tables import ENCODING_VERSIONS

    if settings.encoding is not None and settings.encoding not in ENCODING_VERSIONS:
        known = ", ".join(map(str, ENCODING_VERSIONS))
        raise InputError(f"--encoding must be one of {known}, found {settings.encoding}")
    try:
        resolve_config({"seed": settings.seed})
    except ValueError:
        raise InputError(f"--seed must be an integer from 0 to {2**31 - 1}, found {settings.seed}") from None
    try:
        cfg = resolve_config({**settings.config, "seed": settings.seed}) if settings.init_from is None else {}
    except ValueError as err:
        raise InputError(f"{err} (from --set or --config)") from None
    if settings.init_from is not None:
        from rnaigloo.network.config import check_setting

        for key, value in settings.config.items():  # ranges now; the model's settings once it is read
            try:
                check_setting(key, value)
            except ValueError as err:
                raise InputError(f"{err} (from --set or --config)") from None
    from rnaigloo.io.files import check_outputs

    outputs = model_outputs(output)
    labels = ("-o", "-o (its card)", "-o (its report)", "-o (its plot)")
    read = [*inputs, *annotation_files, *settings.other_inputs, *_init_files(settings.init_from)]
    check_outputs(dict(zip(labels, outputs)), read)
    return output, cfg


def _init_files(init_from: str | os.PathLike | None) -> list[Path]:
    """The model a run starts from and its card: inputs that no output may replace."""
    if init_from is None:
        return []
    from rnaigloo.network.paths import card_path
    from rnaigloo.training.start import model_path

    path = model_path(init_from)
    return [path, card_path(path)]
