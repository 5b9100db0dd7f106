"""Saving a model: the ``.keras`` file and, beside it, the card that vouches for it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnaigloo._version import __version__
from rnaigloo.architecture import ARCHITECTURE_VERSION
from rnaigloo.encoding.tables import ENCODING_VERSION
from rnaigloo.errors import ModelError
from rnaigloo.io.files import atomic_path, sha256_of, write_json_atomic
from rnaigloo.network import probes
from rnaigloo.network.card import FORMAT_VERSION
from rnaigloo.network.loading import keras_scores
from rnaigloo.network.paths import card_path


def library_versions() -> dict[str, str]:
    """Versions worth recording next to a model or a report."""
    import platform

    import keras
    import numpy
    import tensorflow as tf

    return {
        "rnaigloo": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_model(model, path: str | os.PathLike, card: dict[str, Any]) -> dict[str, Any]:
    """Save ``model`` to ``path`` (a ``.keras`` file) and its card beside it.

    The card gets ``format_version``, ``model_file``, ``sha256``, the architecture
    version and the Keras scores of the probe transcripts (:mod:`rnaigloo.network.probes`)
    filled in.

    Returns:
        The card as written.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"model file name must end in .keras, found {path.name!r}")
    version = card.get("encoding", {}).get("version", ENCODING_VERSION)
    table = card.get("encoding", {}).get("hexamer_table")
    probe_entry = probes.card_entry(lambda seqs: keras_scores(model, card["config"], seqs, version, table))
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        full = {
            "format_version": FORMAT_VERSION,
            "model_file": path.name,
            "sha256": sha256_of(tmp),
            **card,
            "architecture": {"version": ARCHITECTURE_VERSION},
            "probes": probe_entry,
        }
    write_json_atomic(card_path(path), full)
    return full
