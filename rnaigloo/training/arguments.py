"""The checks of ``train``'s arguments, all made before TensorFlow is imported.

Importing TensorFlow takes seconds and reading the data more: a typo in a setting, a
missing input or an output that cannot be written is reported at once instead.
This module imports neither TensorFlow nor the training code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnaigloo.errors import InputError
from rnaigloo.network.config import resolve_config

VAL_FRACTION_RANGE = (0.0, 0.5)  # both open: a split needs both sides


def model_outputs(output: Path) -> list[Path]:
    """Every file ``train`` writes for the model ``output``: the model, card, report and plot."""
    stem = output.stem
    return [output] + [output.with_name(stem + suffix) for suffix in (".card.json", ".report.json", ".report.png")]


def check_val_fraction(fraction: float) -> float:
    low, high = VAL_FRACTION_RANGE
    if not (isinstance(fraction, (int, float)) and low < fraction < high):
        raise InputError(f"--val-fraction must be a number between {low:g} and {high:g} (both excluded), found {fraction}")
    return float(fraction)


def check_train_arguments(
    coding: Sequence[Any],
    noncoding: Sequence[Any],
    output: str | os.PathLike,
    config: dict[str, Any] | None,
    *,
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int,
    val_fraction: float,
    other_inputs: Sequence[str | os.PathLike] = (),
    need_sources: bool = True,
    need_noncoding: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Check everything ``train`` is given before any slow work.

    Args:
        coding, noncoding: each class's sources: FASTA paths, or annotated transcripts
            (:class:`rnaigloo.io.transcripts.AnnotatedTranscripts`, checked when made).
        other_inputs: files read besides the FASTA files (``--config``, annotations, the
            genome), which no output may replace.
        need_sources: require a coding source, and a non-coding one when ``need_noncoding``
            (the command line checks its options itself, as usage errors).
        need_noncoding: False when the non-coding set is made (``--noncoding-mode``).

    Returns:
        The output path and the resolved model config.

    Raises:
        InputError: one line naming the argument, what was expected and what was found.
    """
    output = Path(output)
    if output.suffix != ".keras":
        raise InputError(f"the model file name must end in .keras, found {output.name!r}")
    if need_sources and (not coding or (need_noncoding and not noncoding)):
        raise InputError("training needs at least one --coding and one --noncoding FASTA file")
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
    for name, value in (("--epochs", epochs), ("--batch-size", batch_size), ("--patience", patience)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, found {value}")
    check_val_fraction(val_fraction)
    try:
        resolve_config({"seed": seed})
    except ValueError:
        raise InputError(f"--seed must be an integer from 0 to {2**31 - 1}, found {seed}") from None
    try:
        cfg = resolve_config({**(config or {}), "seed": seed})
    except ValueError as err:
        raise InputError(f"{err} (from --set or --config)") from None
    from rnaigloo.io.files import check_outputs

    outputs = model_outputs(output)
    labels = ("-o", "-o (its card)", "-o (its report)", "-o (its plot)")
    check_outputs(dict(zip(labels, outputs)), [*inputs, *other_inputs])
    return output, cfg
