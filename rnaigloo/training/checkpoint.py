"""Resumable training: a checkpoint after every epoch, early stopping, the best weights.

Keras's ``model.save`` does not keep the dropout generators' states, which an exact
resume needs, so they are saved beside the model by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo.errors import InputError
from rnaigloo.io.files import atomic_path


def checkpoint_dir(output: Path) -> Path:
    return output.with_name(output.stem + ".checkpoint")


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
        self.dir.mkdir(exist_ok=True)
        best = self.state["best_val_loss"]
        if val_loss is not None and (best is None or val_loss < best):
            self.state["best_val_loss"] = val_loss
            self.state["best_epoch"] = epoch + 1
            self.state["wait"] = 0
            self._atomic(lambda p: self.model.save_weights(p), "best.weights.h5")
        else:
            self.state["wait"] += 1
            if self.state["wait"] >= self.patience:
                self.model.stop_training = True
                self.state["stopped"] = True
                self.log(f"early stop after epoch {epoch + 1}: no better validation loss for {self.patience} epochs")
        self._atomic(lambda p: self.model.save(p), "last.keras")
        self.state["seed_states"] = _seed_states(self.model)
        self._atomic(
            lambda p: Path(p).write_text(json.dumps({"fingerprint": self.fingerprint, "state": self.state}, indent=1)),
            "state.json",
        )

    def _atomic(self, write, name: str) -> None:
        suffix = "".join(Path(name).suffixes)  # Keras checks the ending: .keras, .weights.h5
        with atomic_path(self.dir / name, suffix=suffix) as tmp:
            write(str(tmp))

    def restore_best(self, model) -> None:
        best = self.dir / "best.weights.h5"
        if best.is_file():
            model.load_weights(best)


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
    """The compiled model and training state saved in ``ckpt``, or None when there is none.

    Raises:
        InputError: the checkpoint was made with other data or settings.
    """
    if not (ckpt / "state.json").is_file():
        return None
    saved = json.loads((ckpt / "state.json").read_text())
    if saved.get("fingerprint") != fingerprint:
        raise InputError(
            f"cannot resume from {ckpt}: it was made with other data or settings; "
            "remove it or repeat the original command"
        )
    import keras

    import rnaigloo.network.igloo  # noqa: F401 - registers the layer

    model = keras.saving.load_model(ckpt / "last.keras", compile=True)
    set_seed_states(model, saved["state"]["seed_states"])
    return model, saved["state"]
