"""One line for a package that a command needs and this installation (or image) lacks."""

from __future__ import annotations

import os

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
