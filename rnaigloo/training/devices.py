"""Which devices train the model: a ``tf.distribute`` strategy from the ``--devices`` choice.

One device (the CPU, or one GPU) trains under TensorFlow's default strategy; several
GPUs of one machine train under ``MirroredStrategy`` (one replica per GPU, gradients
summed across replicas each step). The batch size asked for is per replica: the global
batch, and so the steps per epoch, follow the number of replicas.

Several machines are refused: ``MultiWorkerMirroredStrategy`` is TensorFlow's engine for
them, but Keras 3's ``fit`` fails under it (keras-team/keras#20585; seen here with
TensorFlow 2.21 and Keras 3.15), and a training loop of our own is not the answer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from rnaigloo.errors import InputError


@dataclass(frozen=True)
class Devices:
    """A strategy and what to record about it in the model card."""

    strategy: Any
    replicas: int
    description: str  # e.g. "CPU", "GPU", "2 GPUs (MirroredStrategy)"
    names: tuple[str, ...]


def _cluster_workers() -> int:
    """Workers named in TF_CONFIG (0 when it is not set)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw)["cluster"]
    except (ValueError, KeyError, TypeError):
        raise InputError("TF_CONFIG is set but is not TensorFlow's cluster JSON ({\"cluster\": ..., \"task\": ...})") from None
    return sum(len(cluster.get(role, [])) for role in ("chief", "worker"))


def parse_devices(spec: str, gpus: int) -> list[str] | None:
    """Device names for a ``--devices`` value; None means TensorFlow's default placement.

    Args:
        spec: ``all`` (every GPU, else the CPU), ``cpu``, or a comma-separated list of GPU
            indices (``0,1``) or TensorFlow device names (``/gpu:0``, ``/cpu:0``).
        gpus: how many GPUs TensorFlow sees.

    Raises:
        InputError: an index beyond the GPUs seen, a repeated or unreadable entry.
    """
    spec = spec.strip().lower()
    if spec == "all":
        return [f"/gpu:{i}" for i in range(gpus)] if gpus > 1 else None
    if spec == "cpu":
        return ["/cpu:0"]
    names = []
    for item in (part.strip() for part in spec.split(",")):
        if item.isdigit():
            if int(item) >= gpus:
                seen = f"{gpus} GPU(s)" + (f" (0-{gpus - 1})" if gpus else "")
                raise InputError(f"--devices {spec}: no GPU {item}; TensorFlow sees {seen}")
            names.append(f"/gpu:{int(item)}")
        elif item.startswith(("/", "cpu:", "gpu:")):
            names.append(item if item.startswith("/") else "/" + item)
        else:
            raise InputError(f"--devices: expected all, cpu, or GPU indices such as 0,1; found {item!r}")
    if len(set(names)) != len(names):
        raise InputError(f"--devices {spec}: a device is named twice")
    return names


def choose_devices(spec: str = "all") -> Devices:
    """The strategy for ``spec`` (see :func:`parse_devices`) on the devices TensorFlow sees.

    Raises:
        InputError: a bad ``spec``, a device TensorFlow does not have, or ``TF_CONFIG``
            naming a cluster of several machines.
    """
    workers = _cluster_workers()
    if workers > 1:
        raise InputError(
            f"TF_CONFIG names {workers} workers, but training across machines is not supported: Keras 3's fit "
            "fails under MultiWorkerMirroredStrategy (keras-team/keras#20585); train on one machine "
            "(--devices picks its GPUs) or unset TF_CONFIG"
        )
    import tensorflow as tf

    gpus = len(tf.config.list_logical_devices("GPU"))
    names = parse_devices(spec, gpus)
    if names is None:  # one GPU or none: TensorFlow places everything on it
        return Devices(tf.distribute.get_strategy(), 1, "GPU" if gpus else "CPU", ())
    known = {f"/{d.device_type.lower()}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_logical_devices()}
    for name in names:
        if name not in known:
            raise InputError(f"--devices: TensorFlow has no device {name} (it sees {', '.join(sorted(known))})")
    if len(names) == 1:
        kind = "CPU" if "cpu" in names[0] else "GPU"
        return Devices(tf.distribute.OneDeviceStrategy(names[0]), 1, kind, tuple(names))
    strategy = tf.distribute.MirroredStrategy(names)
    kinds = {"CPU" if "cpu" in n else "GPU" for n in names}
    what = f"{len(names)} {'/'.join(sorted(kinds))}s"
    return Devices(strategy, strategy.num_replicas_in_sync, f"{what} (MirroredStrategy)", tuple(names))
