"""``evaluate`` as a job: score labelled FASTA files with a classifier and report the figures."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from rnaigloo.io.labelled import iter_labelled


def check_evaluate_outputs(coding: Sequence[str], noncoding: Sequence[str], plot: str | None, model_files: Sequence[str]) -> None:
    """Before any model loads: the libraries scoring needs afterwards, and a plot that replaces no input.

    Raises:
        InputError: a missing library (named with how to install it), or ``plot`` names an input.
    """
    from rnaigloo.io.files import check_outputs
    from rnaigloo.runtime.dependencies import require_modules

    require_modules("sklearn", *(["matplotlib"] if plot else []))
    check_outputs({"--plot": plot}, [*coding, *noncoding, *model_files])


def score_labelled(
    classifier: Any, coding: Sequence[str], noncoding: Sequence[str], batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (1 coding, 0 non-coding) and scores of every record of the files, in input order.

    All files are scored in one stream, so one worker pool serves them all.
    """
    labels: list[int] = []

    def records():
        for label, _, rec in iter_labelled(coding, noncoding):
            labels.append(label)
            yield rec

    scores = [pred.score for pred in classifier.predict(records(), batch_size)]
    return np.asarray(labels, dtype=np.int64), np.asarray(scores, dtype=np.float64)


def evaluate_files(
    classifier: Any,
    coding: Sequence[str],
    noncoding: Sequence[str],
    out: IO[str],
    *,
    batch_size: int = 256,
    as_json: bool = False,
    plot: str | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> dict[str, Any]:
    """Score the labelled files, write the figures to ``out`` (a table, or JSON) and the plot.

    Returns:
        The metrics at the classifier's threshold (:func:`rnaigloo.evaluate.metrics.compute_metrics`).
    """
    from rnaigloo.evaluate.metrics import compute_metrics, format_table

    y, s = score_labelled(classifier, coding, noncoding, batch_size)
    metrics = compute_metrics(y, s, classifier.threshold)
    if as_json:
        out.write(json.dumps({"models": list(classifier.sources), **metrics}, indent=2) + "\n")
    else:
        out.write(format_table(metrics))
    if plot:
        from rnaigloo.evaluate.plots import plot_curves

        title = ", ".join(Path(p).name for p in classifier.sources)
        plot_curves(y, s, plot, title=title, threshold=classifier.threshold)
        log(f"wrote {plot}")
    return metrics
