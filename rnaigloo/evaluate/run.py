"""``evaluate`` as a job: score labelled FASTA files with a classifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnaigloo.io.labelled import iter_labelled


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
