"""Scoring in worker processes: batches encoded and scored in parallel, in input order.

The parent reads and checks the FASTA, loads and checks each model once, and writes
the output; each worker is handed the checked networks when it starts (nothing is read
from the model files again) and scores whole batches with one BLAS thread. Each worker
has its own pipe to the parent and nothing else: batch ``i`` goes to worker ``i mod n``
and its result is read back in the same order, at most two batches per worker in flight.

Why not ``concurrent.futures``: its workers share a queue whose write end they hold
themselves, so they outlive a ``kill -9`` of the parent; its locks and threads in the
parent can be left held by a SIGTERM that lands while a worker starts. Here a worker
ends when its pipe closes (the parent exited or died) and, on Linux, at once through a
parent-death signal (see :mod:`rnaigloo.classify.lifeline`); the parent holds no locks,
so an interruption at any moment ends in one line.
"""

from __future__ import annotations

import rnaigloo.classify.lifeline as lifeline  # first: see its notes (fork-server preload)

# isort: split
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from rnaigloo.encoding.tables import Orf
from rnaigloo.errors import RnaiglooError
from rnaigloo.io.fasta import Record
from rnaigloo.runtime.signals import signals_deferred

IN_FLIGHT = 2  # batches per worker: one being scored, one waiting

Score = Callable[[list[str]], tuple[np.ndarray, list[Orf]]]  # sequences in; scores and longest ORFs out


class WorkerError(RnaiglooError):
    """A worker process could not start, or stopped while scoring."""


def _worker_main(conn: Any, score: Score, rnaigloo_pid: int) -> None:
    """A worker: score each batch the pipe brings with ``score`` until the pipe closes."""
    server = lifeline.SERVER_PID
    from rnaigloo.runtime.resources import keep_freed_memory, limit_numpy_threads
    from rnaigloo.runtime.signals import die_with_parent

    die_with_parent(server if server not in (None, os.getpid()) else rnaigloo_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_numpy_threads(1)
    keep_freed_memory()
    # A reader thread keeps the pipe drained while a batch is scored, so the parent's
    # send never waits on this worker's send of a result (no deadlock, whatever the sizes).
    inbox: deque = deque()
    ready = threading.Condition()

    def read() -> None:
        while True:
            try:
                item = conn.recv()
            except (EOFError, OSError):
                item = None
            with ready:
                inbox.append(item)
                ready.notify()
            if item is None:
                return

    threading.Thread(target=read, name="rnaigloo-worker-reader", daemon=True).start()
    while True:
        with ready:
            while not inbox:
                ready.wait()
            sequences = inbox.popleft()
        if sequences is None:  # the parent is done, or gone
            return
        try:
            conn.send(("ok", score(sequences)))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            return
        except Exception as err:  # noqa: BLE001 - reported by the parent in one line
            conn.send(("error", _one_line(err)))


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text and not isinstance(err, RnaiglooError) else (text[0] if text else type(err).__name__)


class WorkerPool:
    """``n`` worker processes, each scoring the batches sent down its own pipe.

    Args:
        n: how many.
        score: what each worker scores a batch with; it is pickled to each worker once,
            when it starts, so it carries what it needs (the checked networks).
        debug: the workers keep their stderr (``--debug``).

    Raises:
        WorkerError: a worker could not be started (one line, with the reason).
    """

    def __init__(self, n: int, score: Score, debug: bool = False):
        import multiprocessing

        self.n = n
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        if "forkserver" in multiprocessing.get_all_start_methods():
            # a clean server process (no threads of ours) that imports the scoring code
            # once; each worker is then forked from it, ready to receive its networks
            # (which unpickle into a Classifier of checked models and NumPy networks)
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(
                [
                    "rnaigloo.classify.lifeline",
                    "rnaigloo.classify.workers",
                    "rnaigloo.classify.classifier",
                    "rnaigloo.network.loading",
                    "rnaigloo.network.engine",
                ]
            )
        else:
            context = multiprocessing.get_context("spawn")
        try:
            with _server_environment(debug):
                if context.get_start_method() == "forkserver":
                    from multiprocessing import forkserver, resource_tracker

                    # the tracker first: starting it unblocks signals in this process
                    resource_tracker.ensure_running()
                    with signals_deferred():
                        forkserver.ensure_running()
                for i in range(n):
                    parent_end, child_end = context.Pipe()
                    proc = context.Process(
                        target=_worker_main,
                        args=(child_end, score, os.getpid()),
                        name=f"rnaigloo-worker-{i + 1}",
                        daemon=True,
                    )
                    self.conns.append(parent_end)
                    try:
                        with signals_deferred():  # never half-started (see signals_deferred)
                            proc.start()
                    finally:
                        child_end.close()
                    self.procs.append(proc)
        except (OSError, EOFError, ValueError) as err:
            self.close(kill=True)
            reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
            raise WorkerError(
                f"cannot start worker process {len(self.procs) + 1} of {n}: {reason}; "
                "try fewer --threads (or raise the process limit)"
            ) from None
        except BaseException:
            self.close(kill=True)
            raise

    def send(self, i: int, sequences: list[str]) -> None:
        try:
            self.conns[i % self.n].send(sequences)
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise self._stopped(i % self.n) from None

    def receive(self, i: int) -> tuple[np.ndarray, list[Orf]]:
        k = i % self.n
        try:
            message = self.conns[k].recv()
        except (EOFError, ConnectionResetError, OSError):
            raise self._stopped(k) from None
        if message[0] == "ok":
            return message[1]
        raise WorkerError(f"worker process {k + 1}: {message[1]}")

    def _stopped(self, k: int) -> WorkerError:
        proc = self.procs[k]
        proc.join(1.0)
        code = proc.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        hint = "; out of memory? try a smaller --batch-size or fewer --threads" if code == -signal.SIGKILL else ""
        return WorkerError(f"worker process {k + 1} of {self.n} stopped unexpectedly ({how}){hint}")

    def close(self, kill: bool = False) -> None:
        """End the workers: closing a pipe ends its worker; ``kill`` (on errors) does not wait."""
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass
        for proc in self.procs:
            if kill:
                proc.kill()
            proc.join(2.0)
            if proc.exitcode is None:
                proc.kill()
                proc.join(2.0)


class _server_environment:
    """The environment the fork server (and a spawned worker) starts with, for the start only.

    Names this process as the parent the server must die with (see
    :mod:`rnaigloo.classify.lifeline`), and keeps the server's stderr with ``--debug``.
    """

    def __init__(self, debug: bool):
        self.values = {lifeline.PARENT_ENV: str(os.getpid())}
        if debug:
            self.values[lifeline.DEBUG_ENV] = "1"
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key, value in self.values.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scored_in_workers(
    score: Score, n: int, batches: Iterable[list[Record]], debug: bool = False
) -> Iterator[tuple[list[Record], np.ndarray, list[Orf]]]:
    """``batches`` scored by ``n`` worker processes with ``score``, in input order.

    At most two batches per worker are in flight, so memory does not grow with the
    input. The parent reads and checks the FASTA and writes the output.
    """
    pool = WorkerPool(n, score, debug)
    pending: deque = deque()
    sent = received = 0
    ok = False
    try:
        for batch in batches:
            pool.send(sent, [r.sequence for r in batch])
            pending.append(batch)
            sent += 1
            if len(pending) >= IN_FLIGHT * pool.n:
                yield (pending.popleft(), *pool.receive(received))
                received += 1
        while pending:
            yield (pending.popleft(), *pool.receive(received))
            received += 1
        ok = True
    finally:
        pool.close(kill=not ok)
