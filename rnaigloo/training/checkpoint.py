"""Resumable training: a checkpoint after every epoch, early stopping, the best weights.

A checkpoint is one unit: the directory ``OUTPUT.checkpoint/epoch-NNNN/`` holds the
model after epoch NNNN (``last.keras``), the best weights so far (``best.weights.h5``)
and ``state.json`` (the training state, the epoch, and the SHA-256 of the other two
files). It is written in full under a temporary name and renamed into place in one
step, and only then is the previous unit removed; so a kill at any moment leaves either
the previous unit or the new one, never a mix of two epochs. Resume takes the newest
unit, and refuses one whose files do not match its ``state.json``.

Keras's ``model.save`` does not keep the dropout generators' states, which an exact
resume needs, so they are saved in ``state.json`` by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo.errors import InputError
from rnaigloo.io.files import sha256_of
from rnaigloo.network.paths import sibling_path

_UNIT = re.compile(r"^epoch-(\d{4,})$")
LAST, BEST, STATE = "last.keras", "best.weights.h5", "state.json"


def checkpoint_dir(output: Path) -> Path:
    return sibling_path(output, "checkpoint")


def units(ckpt: Path) -> list[tuple[int, Path]]:
    """The complete checkpoint units in ``ckpt``, oldest first."""
    if not ckpt.is_dir():
        return []
    found = []
    for entry in ckpt.iterdir():
        m = _UNIT.match(entry.name)
        if m and entry.is_dir():
            found.append((int(m.group(1)), entry))
    return sorted(found)


def latest_unit(ckpt: Path) -> Path | None:
    """The newest complete checkpoint unit, or None."""
    found = units(ckpt)
    return found[-1][1] if found else None


def write_state(path: Path, record: dict[str, Any]) -> None:
    """Write a unit's ``state.json`` (its last file: the unit is complete once it exists)."""
    path.write_text(json.dumps(record, indent=1))


def link_or_copy(src: Path, dst: Path) -> None:
    """The previous unit's best weights in the new unit: a hard link (no copy) where possible."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _seed_variables(model) -> list[Any]:
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]


def seed_states(model) -> list[list[int]]:
    """Dropout RNG states, which ``model.save`` does not keep but an exact resume needs."""
    return [np.asarray(v).tolist() for v in _seed_variables(model)]


def set_seed_states(model, states: list[list[int]]) -> None:
    variables = _seed_variables(model)
    if len(variables) != len(states):
        raise InputError("cannot resume: the checkpoint's random-number states do not match the model")
    for v, value in zip(variables, states):
        v.assign(np.asarray(value, dtype=v.dtype))


def load_checkpoint(ckpt: Path, fingerprint: str):
    """The compiled model and training state of the newest unit in ``ckpt``, or None when there is none.

    Raises:
        InputError: the checkpoint was made with other data or settings, or its files
            do not belong together (one epoch's state with another's weights).
    """
    unit = latest_unit(ckpt)
    if unit is None:
        if (ckpt / STATE).is_file():
            raise InputError(
                f"cannot resume from {ckpt}: it was written by an older rnaigloo, whose checkpoints "
                "could mix two epochs; remove it and train again"
            )
        return None
    try:
        saved = json.loads((unit / STATE).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"cannot resume from {unit}: unreadable {STATE} ({err}); remove {ckpt}") from None
    if saved.get("fingerprint") != fingerprint:
        raise InputError(
            f"cannot resume from {ckpt}: it was made with other data or settings; "
            "remove it or repeat the original command"
        )
    epoch = int(_UNIT.match(unit.name).group(1))  # type: ignore[union-attr]
    state = saved.get("state", {})
    if saved.get("epoch") != epoch or state.get("epoch") != epoch:
        raise InputError(f"cannot resume from {unit}: its {STATE} is of epoch {saved.get('epoch')}; remove {ckpt}")
    for name, digest in (saved.get("files") or {}).items():
        if not (unit / name).is_file() or sha256_of(unit / name) != digest:
            raise InputError(
                f"cannot resume from {unit}: {name} is not the file its {STATE} records (epoch {epoch}); remove {ckpt}"
            )
    if set(saved.get("files") or {}) != {LAST, BEST}:
        raise InputError(f"cannot resume from {unit}: its {STATE} does not list {LAST} and {BEST}; remove {ckpt}")
    import keras

    import rnaigloo.network.igloo  # noqa: F401 - registers the layer

    model = keras.saving.load_model(unit / LAST, compile=True)
    set_seed_states(model, state["seed_states"])
    return model, state
