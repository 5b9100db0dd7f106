"""Scoring in worker processes: batches encoded and scored in parallel, in input order.

The parent reads and checks the FASTA and writes the output; each worker loads the
model once and scores whole batches with one BLAS thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from rnaigloo.classify.classifier import Classifier, record_batches
from rnaigloo.encoding.features import Orf
from rnaigloo.io.fasta import Record

_WORKER_CLASSIFIER: Classifier | None = None


def _worker_start(paths: list[str], threshold: float) -> None:
    """Set up a worker process: one BLAS thread, Ctrl-C left to the parent."""
    import signal

    from rnaigloo.runtime import limit_numpy_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_numpy_threads(1)
    global _WORKER_CLASSIFIER
    _WORKER_CLASSIFIER = Classifier.load(paths, threshold, engine="numpy")


def _worker_score(sequences: list[str]) -> tuple[np.ndarray, list[Orf]]:
    assert _WORKER_CLASSIFIER is not None
    return _WORKER_CLASSIFIER.score_sequences(sequences)


def scored_in_workers(
    clf: Classifier, records: Iterable[Record], batch_size: int
) -> Iterator[tuple[list[Record], np.ndarray, list[Orf]]]:
    """Batches scored by a pool of worker processes, in input order.

    At most two batches per worker are in flight, so memory does not grow with the
    input. The parent reads and checks the FASTA and writes the output.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    if "forkserver" in multiprocessing.get_all_start_methods():
        # a clean server process (no threads of ours) that imports the scoring code
        # once; each worker is then forked from it, ready to load its model
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["rnaigloo.classify.workers", "rnaigloo.network.engine", "h5py"])
    else:
        context = multiprocessing.get_context("spawn")
    paths = [str(m.path) for m in clf.models]
    pool = ProcessPoolExecutor(clf.workers, mp_context=context, initializer=_worker_start, initargs=(paths, clf.threshold))
    pending: deque = deque()
    try:
        for batch in record_batches(records, batch_size):
            pending.append((batch, pool.submit(_worker_score, [r.sequence for r in batch])))
            if len(pending) >= 2 * clf.workers:
                recs, future = pending.popleft()
                yield (recs, *future.result())
        while pending:
            recs, future = pending.popleft()
            yield (recs, *future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

