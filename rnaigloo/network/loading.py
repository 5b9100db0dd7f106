"""A model ready to score: its card checked, its network loaded on first use and probed.

:func:`load_model` checks the card (:func:`rnaigloo.network.card.read_card`, the file's
hash included); the network then loads, in the engine asked for, only when first used,
and is refused unless it scores the probe transcripts as its card says
(:mod:`rnaigloo.network.probes`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo.encoding.encoder import encode_sequences
from rnaigloo.encoding.tables import ENCODING_VERSION
from rnaigloo.errors import ModelError
from rnaigloo.network import probes
from rnaigloo.network.card import read_card
from rnaigloo.network.config import card_settings
from rnaigloo.network.pair import one_network_needed, read_pair
from rnaigloo.network.paths import card_path, default_model_path, is_pair_path, resolve_model


@dataclass
class LoadedModel:
    """A model whose card has been checked; the network itself loads on first use."""

    card: dict[str, Any]
    path: Path
    _keras: Any = field(default=None, repr=False)
    _numpy: Any = field(default=None, repr=False)

    @property
    def config(self) -> dict[str, Any]:
        """The card's settings; one newer than the model (0.1's ``fragments``) reads as the model was trained."""
        return card_settings(self.card["config"])

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])

    @property
    def encoding_version(self) -> int:
        return int(self.card["encoding"]["version"])

    @property
    def hexamer_table(self) -> np.ndarray | None:
        """The model's hexamer table (float64), for the encodings that have one; else None."""
        table = self.card["encoding"].get("hexamer_table")
        return None if table is None else np.asarray(table, dtype=np.float64)

    @property
    def n_features(self) -> int:
        return int(self.card["encoding"]["n_features"])

    @property
    def temperature(self) -> float:
        """The calibration temperature (1.0 when the card has none)."""
        return float(self.card.get("calibration", {}).get("temperature", 1.0))

    @property
    def keras_model(self):
        """The Keras network (imports TensorFlow).

        Raises:
            ModelError: the file is not a Keras model.
        """
        if self._keras is None:
            import keras

            import rnaigloo.network.igloo  # noqa: F401 - registers the custom layer for deserialisation

            try:
                self._keras = keras.saving.load_model(self.path, compile=False, safe_mode=True)
            except Exception as err:  # Keras raises many types for a bad file
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise ModelError(f"cannot load {self.path} as a Keras model: {first}") from None
            probes.verify(
                self.card,
                lambda seqs: keras_scores(self._keras, self.config, seqs, self.encoding_version, self.hexamer_table),
                self.path.name,
                "TensorFlow",
            )
        return self._keras

    @property
    def numpy_network(self):
        """The same network evaluated with NumPy (see :mod:`rnaigloo.network.engine`)."""
        if self._numpy is None:
            from rnaigloo.network.engine import load_numpy_network

            network = load_numpy_network(self.path, self.config)
            probes.verify(
                self.card,
                lambda seqs: numpy_scores(network, self.config, seqs, self.encoding_version, self.hexamer_table),
                self.path.name,
                "NumPy",
            )
            self._numpy = network
        return self._numpy

    def __getstate__(self) -> dict[str, Any]:
        # pickled for worker processes, which score with the checked NumPy network; a
        # Keras model stays in this process (it would load, and be probed, again if used)
        return {**self.__dict__, "_keras": None}


def keras_scores(
    model: Any, config: dict[str, Any], sequences: list[str], version: int = ENCODING_VERSION, table=None
) -> np.ndarray:
    """Scores of plain sequences by a Keras model (float32, no mixed precision, no calibration)."""
    inputs = encode_sequences(sequences, config["nuc_len"], config["prot_len"], version, table).model_inputs()
    return np.asarray(model(inputs, training=False), dtype=np.float64).reshape(-1)


def numpy_scores(
    network: Any, config: dict[str, Any], sequences: list[str], version: int = ENCODING_VERSION, table=None
) -> np.ndarray:
    """Scores of plain sequences by the NumPy engine (no calibration)."""
    batch = encode_sequences(sequences, config["nuc_len"], config["prot_len"], version, table)
    return network.predict(batch.model_inputs())


def load_model(path: str | os.PathLike | None = None) -> LoadedModel:
    """A model checked against its card (the bundled default when ``path`` is None).

    Only the card is read here; the network loads when first used.

    Raises:
        ModelError: see :func:`rnaigloo.network.card.read_card`; or ``path`` is a model
            pair (two networks: :class:`rnaigloo.classify.classifier.Classifier` loads those).
    """
    path = resolve_model(path) if path is not None else default_model_path()
    if is_pair_path(path):
        raise one_network_needed(path.name, read_pair(path))
    return LoadedModel(read_card(path), path)


def model_files(models: Sequence[str]) -> list[str]:
    """The files a ``-m`` option reads (each model and its card, each pair and its
    networks; the bundled default when none).

    Commands keep their outputs off these files. A name that resolves to no model is
    kept as given: loading the model reports it.
    """
    paths = []
    for model in models or [None]:
        try:
            paths.append(resolve_model(model) if model is not None else default_model_path())
        except ModelError:
            paths.append(Path(model))
    out: list[Path] = []
    for path in paths:
        if is_pair_path(path):
            out.append(path)
            try:
                paths_of_pair = list(read_pair(path).members.values())
            except ModelError:
                paths_of_pair = []  # loading the pair reports it
            out += [p for member in paths_of_pair for p in (member, card_path(member))]
        else:
            out += [path, card_path(path)]
    return [str(p) for p in out]
