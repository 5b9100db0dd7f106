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
from rnaigloo.network.paths import sibling_path

_UNIT = re.compile(r"^epoch-(\d{4,})$")
LAST, BEST, STATE = "last.keras", "best.weights.h5", "state.json"


def checkpoint_dir(output: Path) -> Path:
    return sibling_path(output, "checkpoint")


def _units(ckpt: Path) -> list[tuple[int, Path]]:
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
    units = _units(ckpt)
    return units[-1][1] if units else None


def _sha256(path: Path) -> str:
    from rnaigloo.io.files import sha256_of

    return sha256_of(path)


def write_state(path: Path, record: dict[str, Any]) -> None:
    """Write a unit's ``state.json`` (its last file: the unit is complete once it exists)."""
    path.write_text(json.dumps(record, indent=1))


def _make_checkpointer_base():
    import keras

    return keras.callbacks.Callback


class Checkpointer(_make_checkpointer_base()):  # type: ignore[misc]
    """Early stopping on validation loss plus a resumable checkpoint after each epoch."""

    def __init__(self, directory: Path, fingerprint: str, state: dict[str, Any], patience: int, log):
        super().__init__()
        self.dir = directory
        self.fingerprint = fingerprint
        self.state = state
        self.patience = patience
        self.log = log
        self.resumed_at = state["epoch"]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.state["history"].append({"epoch": epoch + 1, **logs})
        self.state["epoch"] = epoch + 1
        val_loss = logs.get("val_loss")
        best = self.state["best_val_loss"]
        improved = val_loss is not None and (best is None or val_loss < best)
        if improved:
            self.state["best_val_loss"] = val_loss
            self.state["best_epoch"] = epoch + 1
            self.state["wait"] = 0
        else:
            self.state["wait"] += 1
            if self.state["wait"] >= self.patience:
                self.model.stop_training = True
                self.state["stopped"] = True
                self.log(f"early stop after epoch {epoch + 1}: no better validation loss for {self.patience} epochs")
        self.state["seed_states"] = _seed_states(self.model)
        self._write_unit(epoch + 1, improved)

    def _write_unit(self, epoch: int, improved: bool) -> None:
        """Write the unit of ``epoch`` beside the others and rename it into place."""
        previous = latest_unit(self.dir)
        self.dir.mkdir(exist_ok=True)
        partial = self.dir / f".epoch-{epoch:04d}.partial"
        shutil.rmtree(partial, ignore_errors=True)  # left by a kill during an earlier run
        partial.mkdir()
        if improved or previous is None or not (previous / BEST).is_file():
            self.model.save_weights(str(partial / BEST))
        else:
            _link_or_copy(previous / BEST, partial / BEST)
        self.model.save(str(partial / LAST))
        files = {name: _sha256(partial / name) for name in (LAST, BEST)}
        write_state(partial / STATE, {"fingerprint": self.fingerprint, "epoch": epoch, "files": files, "state": self.state})
        unit = self.dir / f"epoch-{epoch:04d}"
        if unit.exists():  # a unit of this epoch from a run that was then resumed earlier
            shutil.rmtree(unit)
        os.rename(partial, unit)  # the one step that makes the new checkpoint current
        for _, old in _units(self.dir)[:-1]:
            shutil.rmtree(old, ignore_errors=True)

    def restore_best(self, model) -> None:
        unit = latest_unit(self.dir)
        if unit is not None and (unit / BEST).is_file():
            model.load_weights(unit / BEST)


def _link_or_copy(src: Path, dst: Path) -> None:
    """The previous unit's best weights in the new unit: a hard link (no copy) where possible."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _seed_variables(model) -> list[Any]:
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]


def _seed_states(model) -> list[list[int]]:
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
        if not (unit / name).is_file() or _sha256(unit / name) != digest:
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
