"""The classifier: batched, streaming scoring of transcripts by one model or an ensemble.

Each model is loaded and checked once, here (its card, hash and probe scores); worker
processes get the checked networks themselves (see :mod:`rnaigloo.classify.batches`).
Every input record gets one output row, in input order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rnaigloo.classify.batches import Prediction, predictions
from rnaigloo.encoding.encoder import EncodedBatch, encode_sequences
from rnaigloo.encoding.tables import Orf
from rnaigloo.errors import ModelError
from rnaigloo.io.fasta import Record
from rnaigloo.network.calibration import apply_temperature

if TYPE_CHECKING:
    from rnaigloo.classify.routing import RoutedClassifier


ENGINES = ("numpy", "tensorflow")


class Classifier:
    """One model, or an ensemble whose scores are averaged, ready to score transcripts.

    Args:
        models: loaded models (see :func:`rnaigloo.network.loading.load_model`); all must
            take the same input lengths.
        threshold: score at or above which a transcript is called coding; ``None``
            takes the models' own (their mean for an ensemble).
        engine: ``"numpy"`` (default: no TensorFlow at run time, small and quick to
            start, see :mod:`rnaigloo.network.engine`) or ``"tensorflow"`` (GPUs, mixed
            precision).
        mixed_precision: with the TensorFlow engine, compute in bfloat16 on a CPU and
            float16 on a GPU (scores move by about 1e-3).
        workers: with the NumPy engine, processes that encode and score batches in
            parallel (1: one process, reading and encoding in a background thread).
        debug: worker processes keep their stderr (what ``--debug`` asks for).
    """

    def __init__(
        self,
        models: Sequence[Any],
        threshold: float | None = None,
        engine: str = "numpy",
        mixed_precision: bool = False,
        workers: int = 1,
        debug: bool = False,
    ):
        if not models:
            raise ModelError("no model given")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, found {engine!r}")
        if mixed_precision and engine != "tensorflow":
            raise ValueError("mixed precision needs the tensorflow engine")
        shapes = {(m.config["nuc_len"], m.config["prot_len"], m.encoding_version) for m in models}
        if len(shapes) > 1:
            raise ModelError(
                "ensemble members must share input lengths and encoding (nuc_len, prot_len, encoding version); found "
                + ", ".join(map(str, shapes))
            )
        tables = {None if m.hexamer_table is None else m.hexamer_table.tobytes() for m in models}
        if len(tables) > 1:
            raise ModelError("ensemble members must share their hexamer table (they were trained on other data)")
        self.models = list(models)
        self.sources = [str(m.path) for m in self.models]  # what evaluate names as the model(s)
        self.nuc_len, self.prot_len, self.encoding_version = shapes.pop()
        self.hexamer_table = self.models[0].hexamer_table
        self.temperatures = [m.temperature for m in self.models]
        if threshold is None:
            self.threshold = float(np.mean([m.threshold for m in models]))
        else:
            from rnaigloo.network.config import check_threshold

            self.threshold = check_threshold(threshold, "threshold")
        self.engine = engine
        self.debug = debug
        self.workers = self.capped_workers(workers)
        if engine == "numpy":
            # loaded and probed here, once: worker processes get these networks (no file is
            # read again), and a broken model file fails here in one line before any starts
            self._networks = [m.numpy_network for m in self.models]
            self._predict = self._numpy_predict
        else:
            from rnaigloo.classify.tensorflow_engine import compile_predict, mixed_precision_copy

            networks = [m.keras_model for m in self.models]
            if mixed_precision:
                networks = [mixed_precision_copy(m) for m in self.models]
            self._graph = compile_predict(networks)
            self._predict = self._tensorflow_predict

    @classmethod
    def load(
        cls,
        paths: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
        threshold: float | None = None,
        engine: str = "numpy",
        mixed_precision: bool = False,
        workers: int = 1,
        debug: bool = False,
    ) -> Classifier | RoutedClassifier:
        """Load models from ``paths`` (the bundled default, a model pair, when empty or None).

        Args:
            paths: a ``.keras`` file or a list of them (an ensemble), each with its card
                beside it; or one model pair (``NAME.pair.json``, or a bundled pair's
                name), which gives a :class:`rnaigloo.classify.routing.RoutedClassifier`.
            threshold, engine, mixed_precision, workers, debug: see the class.

        Raises:
            ModelError: a model or pair that cannot be used, or a pair in an ensemble.
        """
        from rnaigloo.network.loading import load_model
        from rnaigloo.network.paths import default_model_path, is_pair_path, resolve_model

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        resolved = [resolve_model(p) for p in paths] if paths else [default_model_path()]
        pairs = [p for p in resolved if is_pair_path(p)]
        if pairs and len(resolved) > 1:
            raise ModelError(
                f"{pairs[0].name} is a model pair and cannot be part of an ensemble: give it alone, or give "
                "single networks (.keras) to average"
            )
        if pairs:
            return cls._load_pair(pairs[0], threshold, engine, mixed_precision, workers, debug)
        return cls([load_model(p) for p in resolved], threshold, engine, mixed_precision, workers, debug)

    @classmethod
    def _load_pair(cls, path, threshold, engine, mixed_precision, workers, debug) -> RoutedClassifier:
        """A model pair: each network checked (its card, and against the pair), one classifier each."""
        from rnaigloo.classify.routing import RoutedClassifier
        from rnaigloo.network.loading import load_model
        from rnaigloo.network.pair import MEMBERS, check_member, read_pair

        spec = read_pair(path)
        members = {}
        for role in MEMBERS:
            model = load_model(spec.members[role])
            check_member(spec, role, model.card)
            members[role] = cls([model], None, engine, mixed_precision, 1, debug)
        if threshold is not None:
            from rnaigloo.network.config import check_threshold

            threshold = check_threshold(threshold, "threshold")
        return RoutedClassifier(spec, members, threshold, members["complete"].capped_workers(workers), debug)

    def capped_workers(self, workers: int) -> int:
        """Worker processes for this engine: never more than the CPUs available (affinity and
        cgroup quota), one with the TensorFlow engine (it has its own thread pools)."""
        from rnaigloo.runtime.resources import available_cores

        return min(max(1, int(workers)), available_cores()) if self.engine == "numpy" else 1

    def _numpy_predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self._calibrated_mean([net.predict(inputs) for net in self._networks])

    def _tensorflow_predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self._calibrated_mean(list(self._graph(inputs)))

    def _calibrated_mean(self, outputs: list[np.ndarray]) -> np.ndarray:
        """Each network's probabilities scaled by its card's temperature, then averaged."""
        scores = [apply_temperature(np.asarray(o), t) for o, t in zip(outputs, self.temperatures)]
        return scores[0] if len(scores) == 1 else np.mean(scores, axis=0)

    def score_batch(self, batch: EncodedBatch) -> np.ndarray:
        """Coding probabilities (float64, in [0, 1]) of an encoded batch."""
        if len(batch) == 0:
            return np.zeros(0)
        out = self._predict(batch.model_inputs())
        return np.clip(np.asarray(out, dtype=np.float64).reshape(-1), 0.0, 1.0)

    def encode(self, sequences: list[str]) -> EncodedBatch:
        return encode_sequences(sequences, self.nuc_len, self.prot_len, self.encoding_version, self.hexamer_table)

    def score_sequences(self, sequences: list[str]) -> tuple[np.ndarray, list[Orf]]:
        """Scores and longest ORFs of plain sequences."""
        batch = self.encode(sequences)
        return self.score_batch(batch), batch.orfs

    def predict(self, records: Iterable[Record], batch_size: int = 256) -> Iterator[Prediction]:
        """Score records, streaming; yields one prediction per record in input order.

        With one worker, reading and encoding run in a background thread one batch
        ahead of scoring; with several, batches are encoded and scored in worker
        processes, a few batches ahead of the reader. Memory stays bounded either way.
        """
        return predictions(self, records, batch_size, self.threshold, self.workers, self.debug)
