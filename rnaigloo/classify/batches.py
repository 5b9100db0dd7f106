"""Records in batches, scored in input order: in this process or in worker processes.

In one process, a background thread reads and encodes the next batch while the
network scores the current one; with several workers, batches are encoded and scored
in worker processes (:mod:`rnaigloo.classify.workers`) while this process reads and
writes. Either way at most a few batches are held in memory, whatever the input size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rnaigloo.encoding.tables import Orf
from rnaigloo.io.fasta import Record

ScoredBatch = tuple[list[Record], np.ndarray, list[Orf]]


@dataclass(frozen=True)
class Prediction:
    """The verdict on one record."""

    record: Record
    score: float
    coding: bool
    orf: Orf


class BatchScorer(Protocol):
    """What scores batches (a :class:`rnaigloo.classify.classifier.Classifier`, or a
    :class:`rnaigloo.classify.routing.RoutedClassifier`)."""

    def encode(self, sequences: list[str]) -> Any: ...

    def score_batch(self, batch: Any) -> np.ndarray: ...

    def score_sequences(self, sequences: list[str]) -> tuple[np.ndarray, list[Orf]]: ...


def predictions(
    scorer: BatchScorer, records: Iterable[Record], batch_size: int, threshold: float, workers: int = 1, debug: bool = False
) -> Iterator[Prediction]:
    """One prediction per record, in input order, streaming (see :func:`scored_batches`);
    coding when the score is at or above ``threshold``."""
    for records_batch, scores, orfs in scored_batches(scorer, records, batch_size, workers, debug):
        for rec, score, orf in zip(records_batch, scores, orfs):
            yield Prediction(rec, float(score), bool(score >= threshold), orf)


def scored_batches(
    scorer: BatchScorer, records: Iterable[Record], batch_size: int, workers: int = 1, debug: bool = False
) -> Iterator[ScoredBatch]:
    """``(records, scores, ORFs)`` batch by batch, in input order.

    Args:
        scorer: encodes and scores; with ``workers`` > 1 its ``score_sequences`` is sent
            to each worker process, so it must pickle (the NumPy engine's networks do).
        workers: processes that encode and score (1: this process, encoding one batch
            ahead in a background thread).
        debug: worker processes keep their stderr (``--debug``).
    """
    batches = record_batches(records, batch_size)
    if workers > 1:
        from rnaigloo.classify.workers import scored_in_workers

        return scored_in_workers(scorer.score_sequences, workers, batches, debug)
    encoded = ((batch, scorer.encode([r.sequence for r in batch])) for batch in batches)
    return ((recs, scorer.score_batch(enc), enc.orfs) for recs, enc in prefetch(encoded))


def record_batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """``records`` in lists of ``size`` (the last one shorter)."""
    batch: list[Record] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_DONE = object()


def prefetch(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run an iterator in a background thread, ``depth`` items ahead.

    An exception in the thread is raised again in the consumer, in order.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def worker() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((True, _DONE))
        except BaseException as err:  # handed to the consumer, which re-raises it
            q.put((False, err))

    thread = threading.Thread(target=worker, name="rnaigloo-encoder", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
