"""Signals: SIGINT and SIGTERM become one exception that clean-up sees; workers die with their parent."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class Stopped(BaseException):
    """Raised in the main thread when SIGINT (Ctrl-C) or SIGTERM arrives, so that clean-up runs.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it;
    a class of its own, so that no library turns it into something else on the way up.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM

    @property
    def word(self) -> str:
        return "interrupted" if self.signum == signal.SIGINT else "terminated"


def _raise_stopped(signum, frame):  # noqa: ARG001
    raise Stopped(signum)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signals() -> dict[int, object]:
    """Make SIGINT and SIGTERM raise :class:`Stopped`; returns the handlers they had.

    A signal ignored by whoever started the process (``nohup``, a background job) stays
    ignored. Only in the main thread (elsewhere Python allows no signal handlers): returns {}.
    """
    previous: dict[int, object] = {}
    try:
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, _raise_stopped)
    except ValueError:  # not in the main thread
        pass
    return previous


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block; one that arrives is acted on right after it.

    For starting child processes: a child inherits the blocked signals, so none can
    interrupt it half-started (its start-up imports print a traceback otherwise); the
    child unblocks them once its own handlers are set.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when its parent dies; exit now if it already has.

    A worker stuck reading a pipe would otherwise outlive a ``kill -9`` of rnaigloo.
    Uses ``prctl(PR_SET_PDEATHSIG)`` on Linux; elsewhere only the check is made.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
