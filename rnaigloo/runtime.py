"""Start-up of TensorFlow, kept out of the import path of ``rnaigloo --help``."""

from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (C++ logging included)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# Packages that only train, evaluate and the TensorFlow engine import (the classify image
# leaves them out, see requirements-classify.txt): import name -> (name users know, pip name).
_OPTIONAL_PACKAGES = {
    "tensorflow": ("TensorFlow", "tensorflow"),
    "keras": ("Keras", "keras"),
    "sklearn": ("scikit-learn", "scikit-learn"),
    "matplotlib": ("matplotlib", "matplotlib"),
}


def missing_dependency_message(module: str | None) -> str | None:
    """One line for a package that this command needs and this installation lacks.

    Returns:
        The message, or None when ``module`` is not one of the packages that an
        install without TensorFlow leaves out (then it is a bug, not a set-up choice).
    """
    known = _OPTIONAL_PACKAGES.get((module or "").split(".")[0])
    if known is None:
        return None
    name, pip_name = known
    if os.environ.get("RNAIGLOO_IMAGE") == "classify":
        return f"this image has no {name} (it runs classify with the NumPy engine only); use the full image"
    return f"this command needs {name}, which is not installed here; install it (pip install {pip_name})"


def require_modules(*names: str) -> None:
    """Fail at once, before any work, when a package the command needs later is missing.

    Raises:
        ModuleNotFoundError: the first of ``names`` that cannot be imported (the CLI turns
            it into one line, see :func:`missing_dependency_message`).
    """
    import importlib.util

    for name in names:
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


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


def cgroup_cpu_limit(root: str = "/sys/fs/cgroup", self_cgroup: str = "/proc/self/cgroup") -> float | None:
    """CPUs this process's cgroup may use (its CPU quota), or None without a quota.

    Reads cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``/``cpu.cfs_period_us`` of the
    process's cgroup and of each cgroup above it (the smallest quota applies), as a
    container runtime's ``--cpus`` sets them.
    """
    try:
        lines = Path(self_cgroup).read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "":  # v2: one unified hierarchy
            base, files = Path(root), ("cpu.max",)
        elif "cpu" in controllers.split(","):
            base, files = Path(root) / controllers, ("cpu.cfs_quota_us", "cpu.cfs_period_us")
            if not base.is_dir():
                base = Path(root) / "cpu"
        else:
            continue
        parts = [p for p in path.strip().split("/") if p]
        for depth in range(len(parts), -1, -1):
            limit = _read_cpu_limit(base.joinpath(*parts[:depth]), files)
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def _read_cpu_limit(directory: Path, files: tuple[str, ...]) -> float | None:
    try:
        if len(files) == 1:
            quota, period = (directory / files[0]).read_text().split()[:2]
        else:
            quota, period = ((directory / name).read_text().strip() for name in files)
    except (OSError, ValueError):
        return None
    if quota in ("max", "-1"):
        return None
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def available_cores() -> int:
    """CPUs this process may use: its CPU affinity, capped by its cgroup's CPU quota; at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    if quota is not None:
        n = min(n, math.ceil(quota))
    return max(1, n)


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


def start_tensorflow(threads: int | None = None, debug: bool = False):
    """Import TensorFlow quietly and limit its thread pools to ``threads``.

    Must run before TensorFlow executes anything: thread pools are fixed at first use.

    Returns:
        The ``tensorflow`` module.
    """
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    n = threads or available_cores()
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    if debug:
        import tensorflow as tf
    else:
        with _stderr_silenced():  # TensorFlow's C++ start-up chatter ignores TF_CPP_MIN_LOG_LEVEL
            import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # already initialised in this process (tests, notebooks)
        pass
    if not debug:
        tf.get_logger().setLevel("ERROR")
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


def limit_numpy_threads(threads: int) -> None:
    """Limit the BLAS/OpenMP threads NumPy uses in this process."""
    import numpy  # noqa: F401 - threadpoolctl limits only the BLAS libraries already loaded
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)


# glibc's mallopt() parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# Keep up to this much freed memory for reuse, and serve blocks up to this size from it.
_KEEP_FREED = 256 << 20
_MMAP_ABOVE = 32 << 20  # glibc's largest mmap threshold on 64-bit systems


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks instead of returning them to the system.

    The NumPy engine allocates and frees arrays of several MB for every group of
    transcripts. By default glibc hands such blocks to the kernel when they are freed
    and gets fresh zeroed pages for the next ones, so about a fifth of scoring time
    went to page faults (system time). With this, the blocks are reused: the process
    keeps at most a batch's working set. Returns False where the C library has no
    ``mallopt`` (musl, macOS, Windows), which changes nothing else.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # both together: setting either alone turns off glibc's own adjustment of the other
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_ABOVE)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED))


def mixed_policy_name() -> str:
    """The mixed-precision policy for this machine: float16 on a GPU, bfloat16 on a CPU."""
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
