"""The CPUs this process may use, NumPy's threads, and glibc's reuse of freed memory."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path


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


def capped_threads(threads: int | None, note: Callable[[str], None]) -> int:
    """``-t``, at most the CPUs available to the process (affinity and cgroup quota); all of them for None.

    More threads or worker processes than CPUs only cost memory and start-up time;
    ``note`` is told when ``threads`` is cut down.
    """
    cores = available_cores()
    if threads is not None and threads > cores:
        note(f"-t {threads} is more than the {cores} CPU(s) available to this process; using {cores}")
    return min(threads or cores, cores)


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
