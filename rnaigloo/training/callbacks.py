"""The Keras callback that writes the checkpoint units of :mod:`rnaigloo.training.checkpoint`.

Apart from that module because it imports Keras: the trainer imports it only once its
arguments are checked and TensorFlow is started.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import keras

from rnaigloo.io.files import sha256_of
from rnaigloo.training.checkpoint import BEST, LAST, STATE, latest_unit, link_or_copy, seed_states, units, write_state


class Checkpointer(keras.callbacks.Callback):
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
        self.state["seed_states"] = seed_states(self.model)
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
            link_or_copy(previous / BEST, partial / BEST)
        self.model.save(str(partial / LAST))
        files = {name: sha256_of(partial / name) for name in (LAST, BEST)}
        write_state(partial / STATE, {"fingerprint": self.fingerprint, "epoch": epoch, "files": files, "state": self.state})
        unit = self.dir / f"epoch-{epoch:04d}"
        if unit.exists():  # a unit of this epoch from a run that was then resumed earlier
            shutil.rmtree(unit)
        os.rename(partial, unit)  # the one step that makes the new checkpoint current
        for _, old in units(self.dir)[:-1]:
            shutil.rmtree(old, ignore_errors=True)

    def restore_best(self, model) -> None:
        unit = latest_unit(self.dir)
        if unit is not None and (unit / BEST).is_file():
            model.load_weights(unit / BEST)
