"""Start-up of TensorFlow, kept out of the import path of ``rnaigloo --help``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


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


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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


def mixed_policy_name() -> str:
    """The mixed-precision policy for this machine: float16 on a GPU, bfloat16 on a CPU."""
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
