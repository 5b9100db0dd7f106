"""Start-up of TensorFlow: quiet, with its thread pools set before first use; the mixed-precision policy."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rnaigloo.runtime.resources import available_cores


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


def mixed_policy_name() -> str:
    """The mixed-precision policy for this machine: float16 on a GPU, bfloat16 on a CPU."""
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
