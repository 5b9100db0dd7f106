"""Classification by a model pair: each transcript is scored by one of two networks.

The pair's rule (:mod:`rnaigloo.network.pair`) reads each transcript's longest ORF and
sends it to the network trained on whole transcripts (``complete``) or to the one
trained with pieces of them (``partial``); each network then encodes and scores only
its own rows, so a pair costs one network's work per transcript plus an ORF search.
Each network's calibrated score is moved in log-odds so that its own threshold lands
on the pair's (0.5), its threshold lowered first for short transcripts where the pair
says so (``short``); the reported ORF is the one the scoring network read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnaigloo.classify.batches import Prediction, predictions
from rnaigloo.encoding.encoder import EncodedBatch, incomplete_orfs
from rnaigloo.encoding.tables import Orf
from rnaigloo.io.fasta import Record
from rnaigloo.network.pair import MEMBERS, PAIR_THRESHOLD, PairSpec


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), +-inf at 1 and 0."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def shifted(scores: np.ndarray, own_threshold: float | np.ndarray) -> np.ndarray:
    """``scores`` moved in log-odds so that ``own_threshold`` (one, or one a score) lands
    on :data:`PAIR_THRESHOLD`.

    Under one threshold the order is kept, and a score is at or above the pair's
    threshold exactly when it is at or above its own (a threshold of 0 or 1 included,
    where log-odds are infinite). NaN stays NaN.
    """
    scores = np.atleast_1d(np.asarray(scores, dtype=np.float64))
    own = np.broadcast_to(np.asarray(own_threshold, dtype=np.float64), scores.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        z = logit(scores) - logit(own) + float(logit(np.array(PAIR_THRESHOLD)))
        out = 1.0 / (1.0 + np.exp(-z))
    out[scores == own] = PAIR_THRESHOLD  # also where both are 0 or 1 (inf - inf)
    calls = scores >= own
    out[calls] = np.fmax(out[calls], PAIR_THRESHOLD)
    below = scores < own
    out[below] = np.fmin(out[below], np.nextafter(PAIR_THRESHOLD, 0))
    return out


@dataclass
class RoutedBatch:
    """A batch split between the pair's networks: which rows went to ``partial``, each
    network's encoded rows, every row's ORF (as the network that reads it found it) and,
    where the pair has a short-transcript shift, every row's length (nt)."""

    partial_rows: np.ndarray  # (B,) bool
    batches: dict[str, EncodedBatch]
    orfs: list[Orf]
    lengths: np.ndarray | None  # (B,) int; only for a pair with a short-transcript shift

    def __len__(self) -> int:
        return len(self.orfs)


class RoutedClassifier:
    """A model pair ready to score transcripts, streaming, like a
    :class:`rnaigloo.classify.classifier.Classifier` (which builds it: ``Classifier.load``
    of a ``.pair.json``).

    Args:
        spec: the checked pair file.
        members: a one-model classifier for each role (``complete``, ``partial``), each
            with one worker: the pair runs the workers.
        threshold: the threshold on the pair's scores (None: :data:`PAIR_THRESHOLD`, where
            each network calls as it would alone).
        workers, debug: as for a classifier.
    """

    def __init__(
        self, spec: PairSpec, members: dict[str, Any], threshold: float | None, workers: int = 1, debug: bool = False
    ):
        self.spec = spec
        self.members = members
        self.sources = [str(spec.path)]  # what evaluate names as the model
        self.models = [m for role in MEMBERS for m in members[role].models]
        self.own_thresholds = {role: float(members[role].models[0].threshold) for role in MEMBERS}
        # the complete network's threshold for short transcripts, where the pair lowers it
        own, short = self.own_thresholds["complete"], spec.short
        self.short_threshold = (
            float(1.0 / (1.0 + np.exp(-(float(logit(np.array(own))) - short.log_odds))))
            if short is not None and 0.0 < own < 1.0
            else None
        )
        self.threshold = PAIR_THRESHOLD if threshold is None else float(threshold)
        self.engine = members["complete"].engine
        self.workers = workers
        self.debug = debug

    def route(self, sequences: list[str]) -> np.ndarray:
        """True where the rule sends a transcript to the ``partial`` network."""
        return incomplete_orfs(sequences, self.spec.rule_encoding)

    def encode(self, sequences: list[str]) -> RoutedBatch:
        partial = self.route(sequences)
        batches, orfs = {}, [None] * len(sequences)
        for role, rows in (("partial", np.flatnonzero(partial)), ("complete", np.flatnonzero(~partial))):
            batches[role] = self.members[role].encode([sequences[i] for i in rows])
            for i, orf in zip(rows.tolist(), batches[role].orfs):
                orfs[i] = orf
        lengths = np.array([len(s) for s in sequences], dtype=np.int64) if self.short_threshold is not None else None
        return RoutedBatch(partial, batches, orfs, lengths)

    def thresholds(self, role: str, batch: RoutedBatch, rows: np.ndarray) -> float | np.ndarray:
        """The network's own threshold for these rows of the batch: lowered on the
        complete network's short rows where the pair says so (``short``)."""
        own = self.own_thresholds[role]
        if role != "complete" or self.short_threshold is None:
            return own
        return np.where(batch.lengths[rows] < self.spec.short.below, self.short_threshold, own)

    def score_batch(self, batch: RoutedBatch) -> np.ndarray:
        """The pair's scores (float64, in [0, 1]) of a routed batch, in input order."""
        out = np.zeros(len(batch), dtype=np.float64)
        for role, rows in (("partial", batch.partial_rows), ("complete", ~batch.partial_rows)):
            if rows.any():
                own = self.thresholds(role, batch, rows)
                out[rows] = shifted(self.members[role].score_batch(batch.batches[role]), own)
        return out

    def score_sequences(self, sequences: list[str]) -> tuple[np.ndarray, list[Orf]]:
        batch = self.encode(sequences)
        return self.score_batch(batch), batch.orfs

    def predict(self, records: Iterable[Record], batch_size: int = 256) -> Iterator[Prediction]:
        """Score records, streaming; one prediction per record, in input order (see
        :meth:`rnaigloo.classify.classifier.Classifier.predict`)."""
        return predictions(self, records, batch_size, self.threshold, self.workers, self.debug)
