"""Where training starts from: a trained model's weights and settings (``--init-from``).

Fine-tuning keeps the network's shape, so only the settings that do not change it may
be given anew (:data:`TRAINING_SETTINGS`); the rest come from the model's card. The
model is checked against its card (SHA-256) like any model that is loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnaigloo.errors import InputError, ModelError

# Settings that change how a network is trained, not its shape or its weights' meaning.
TRAINING_SETTINGS = (
    "learning_rate", "lr_decay", "augment", "fragments", "fragments_from", "fragment_weight", "length_balance", "dropout",
    "l2",
)  # fmt: skip


@dataclass
class InitialModel:
    """The settings and weights a run starts from, and what the card records of it."""

    config: dict[str, Any]
    weights: list[Any]
    summary: dict[str, Any]
    encoding_version: int


def model_path(name_or_path: str | os.PathLike) -> Path:
    """A model file from a path, or from a bundled network's name (``complete``, ``multispecies``, ``human``).

    Raises:
        InputError: neither a file nor a bundled model's name.
    """
    from rnaigloo.network.pair import one_network_needed, read_pair
    from rnaigloo.network.paths import is_pair_path, resolve_model

    try:
        path = resolve_model(name_or_path)
        if is_pair_path(path):
            raise one_network_needed(name_or_path, read_pair(path))
        return path
    except ModelError as err:
        raise InputError(f"--init-from: {err}") from None


def initial_model(name_or_path: str | os.PathLike, overrides: dict[str, Any] | None) -> InitialModel:
    """The checked model's config (with ``overrides`` of training settings) and weights.

    Raises:
        InputError: ``overrides`` would change the network's shape.
        ModelError: the model is damaged or cannot be loaded.
    """
    from rnaigloo.network.loading import load_model

    path = model_path(name_or_path)
    loaded = load_model(path)
    config = dict(loaded.config)
    for key, value in (overrides or {}).items():
        if key in TRAINING_SETTINGS or key == "seed":
            config[key] = value
        elif key not in config or config[key] != value:
            raise InputError(
                f"--set {key}={value} cannot be used with --init-from: the network's shape comes from {path.name} "
                f"({key}={config.get(key)!r}); only {', '.join(TRAINING_SETTINGS)} can change"
            )
    weights = loaded.keras_model.get_weights()
    summary = {"model": path.name, "sha256": loaded.card["sha256"], "threshold": loaded.threshold}
    return InitialModel(config=config, weights=weights, summary=summary, encoding_version=loaded.encoding_version)
