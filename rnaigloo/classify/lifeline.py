"""Ties the worker server to the rnaigloo process that started it.

Imported first by the multiprocessing fork server (its preload list), before NumPy, so
that the server and every worker forked from it:

- die with the rnaigloo process (a parent-death signal), so a ``kill -9`` of a
  pipeline job leaves nothing running;
- leave Ctrl-C to the rnaigloo process, which stops them itself;
- use one BLAS thread each (the workers are the parallelism);
- write nothing on stderr unless rnaigloo runs with ``--debug``: a worker's errors
  reach the rnaigloo process through its pipe and are reported there in one line,
  and an interruption while a worker starts must not print a multiprocessing traceback.

Importing it elsewhere does nothing: it acts only in a process whose parent is named by
:data:`PARENT_ENV`.
"""

from __future__ import annotations

import os
import signal

PARENT_ENV = "RNAIGLOO_WORKER_PARENT"
DEBUG_ENV = "RNAIGLOO_WORKER_DEBUG"
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

SERVER_PID: int | None = None  # the fork server's pid, as its forked workers see it


def _arm() -> None:
    global SERVER_PID
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit() or int(parent) != os.getppid():
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    for name in BLAS_ENV:
        os.environ[name] = "1"
    from rnaigloo.runtime.signals import die_with_parent

    die_with_parent(int(parent))
    SERVER_PID = os.getpid()
    if not os.environ.get(DEBUG_ENV):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)


_arm()
