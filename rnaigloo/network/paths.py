"""Where a model's files are: the bundled models, and the files beside a ``NAME.keras``.

A model ``NAME.keras`` has siblings named from its stem, all listed in
:data:`SIBLING_SUFFIXES`: its card ``NAME.card.json``, the training report
``NAME.report.json`` and its plot ``NAME.report.png``, and, while it trains, the
checkpoint directory ``NAME.checkpoint/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from rnaigloo.errors import ModelError

DEFAULT_MODEL_NAME = "multispecies.keras"

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


def default_model_path() -> Path:
    """The bundled model: inside the installed package, or ``models/`` in a checkout."""
    try:
        packaged = Path(str(resources.files("rnaigloo.models") / DEFAULT_MODEL_NAME))
        if packaged.is_file():
            return packaged
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


def bundled_model_dir() -> Path:
    """Where the bundled models are: inside the installed package, or ``models/`` in a checkout."""
    return default_model_path().parent


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """A model file from its path, or from a bundled model's name (``multispecies``, ``human``).

    A path that exists wins; a bare name without ``.keras`` and without a directory is
    looked up among the bundled models.

    Raises:
        ModelError: neither a file nor a bundled model's name.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = bundled_model_dir() / f"{name_or_path}.keras"
    if os.sep not in str(name_or_path) and path.suffix != ".keras" and bundled.is_file():
        return bundled
    names = ", ".join(sorted(p.stem for p in bundled_model_dir().glob("*.keras"))) or "none"
    raise ModelError(f"model file not found: {name_or_path} (nor a bundled model of that name; bundled: {names})")


def model_files(models: Sequence[str]) -> list[str]:
    """The files a ``-m`` option reads (each model and its card; the bundled model when none).

    Commands keep their outputs off these files. A name that resolves to no model is
    kept as given: loading the model reports it.
    """
    paths = []
    for model in models or [None]:
        try:
            paths.append(resolve_model(model) if model is not None else default_model_path())
        except ModelError:
            paths.append(Path(model))
    return [str(p) for path in paths for p in (path, card_path(path))]
