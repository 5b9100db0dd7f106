"""Where a model's files are: the bundled models, and the files beside a ``NAME.keras``.

A model ``NAME.keras`` has siblings named from its stem, all listed in
:data:`SIBLING_SUFFIXES`: its card ``NAME.card.json``, the training report
``NAME.report.json`` and its plot ``NAME.report.png``, and, while it trains, the
checkpoint directory ``NAME.checkpoint/``. A model pair is ``NAME.pair.json``, naming
two such models beside it (:mod:`rnaigloo.network.pair`).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from rnaigloo.errors import ModelError

PAIR_SUFFIX = ".pair.json"  # a model pair's file (rnaigloo.network.pair)

# The bundled default: a pair of networks (complete transcripts / pieces), see TUNING.md.
DEFAULT_MODEL_NAME = "default" + PAIR_SUFFIX

# Every file name rnaigloo gives a model's siblings, by what they hold.
SIBLING_SUFFIXES = {
    "card": ".card.json",
    "report": ".report.json",
    "plot": ".report.png",
    "checkpoint": ".checkpoint",
}


def sibling_path(model_path: str | os.PathLike, kind: str) -> Path:
    """The ``kind`` file (a key of :data:`SIBLING_SUFFIXES`) beside the model ``NAME.keras``."""
    p = Path(model_path)
    return p.with_name(p.stem + SIBLING_SUFFIXES[kind])


def card_path(model_path: str | os.PathLike) -> Path:
    """``NAME.card.json`` beside ``NAME.keras``."""
    return sibling_path(model_path, "card")


def bundled_model_dir() -> Path:
    """Where the bundled models are: inside the installed package, or ``models/`` in a checkout."""
    try:
        packaged = Path(str(resources.files("rnaigloo.models")))
        if packaged.is_dir():
            return packaged
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "models"


def default_model_path() -> Path:
    """The bundled default (a model pair), among the bundled models."""
    return bundled_model_dir() / DEFAULT_MODEL_NAME


def is_pair_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a model pair's file (``NAME.pair.json``)."""
    return str(path).endswith(PAIR_SUFFIX)


def bundled_names() -> list[str]:
    """The names ``-m`` takes for the bundled models and pairs."""
    folder = bundled_model_dir()
    pairs = [p.name[: -len(PAIR_SUFFIX)] for p in folder.glob("*" + PAIR_SUFFIX)]
    return sorted(pairs + [p.stem for p in folder.glob("*.keras")])


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """A model file (``.keras``) or pair (``.pair.json``) from its path, or from a bundled
    model's name (``default``, ``complete``, ``multispecies``, ``human``).

    A path that exists wins; a bare name without a suffix and without a directory is
    looked up among the bundled models and pairs.

    Raises:
        ModelError: neither a file nor a bundled model's name.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    if os.sep not in str(name_or_path) and path.suffix not in (".keras", ".json"):
        for suffix in (PAIR_SUFFIX, ".keras"):
            bundled = bundled_model_dir() / f"{name_or_path}{suffix}"
            if bundled.is_file():
                return bundled
    names = ", ".join(bundled_names()) or "none"
    raise ModelError(f"model file not found: {name_or_path} (nor a bundled model of that name; bundled: {names})")
