"""Batched, streaming classification and its writers (TSV, protein and CDS FASTA).

Records are read and encoded in a background thread while the network scores the
previous batch, or, with several workers, encoded and scored in worker processes while
the parent reads and writes; at most a few batches are held in memory whatever the
input size. Every input record gets one output row, in input order.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from rnaigloo.errors import InputError, ModelError
from rnaigloo.io.fasta import Record
from rnaigloo.encoding.features import EncodedBatch, Orf, codon_codes, encode_sequences, nucleotide_tokens, translate_orf

TSV_COLUMNS = (
    "sequence_name",
    "coding_score",
    "classification",
    "orf_start",
    "orf_end",
    "orf_length",
    "orf_5prime",
    "orf_3prime",
)


@dataclass(frozen=True)
class Prediction:
    """The verdict on one record."""

    record: Record
    score: float
    coding: bool
    orf: Orf


ENGINES = ("numpy", "tensorflow")


class Classifier:
    """One model, or an ensemble whose scores are averaged, ready to score transcripts.

    Args:
        models: loaded models (see :func:`rnaigloo.network.modelfile.load_model`); all must
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
    """

    def __init__(
        self,
        models: Sequence[Any],
        threshold: float | None = None,
        engine: str = "numpy",
        mixed_precision: bool = False,
        workers: int = 1,
    ):
        if not models:
            raise ModelError("no model given")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, found {engine!r}")
        if mixed_precision and engine != "tensorflow":
            raise ValueError("mixed precision needs the tensorflow engine")
        shapes = {(m.config["nuc_len"], m.config["prot_len"]) for m in models}
        if len(shapes) > 1:
            raise ModelError(
                "ensemble members must share input lengths (nuc_len, prot_len); found " + ", ".join(map(str, shapes))
            )
        self.models = list(models)
        self.nuc_len, self.prot_len = shapes.pop()
        self.threshold = float(np.mean([m.threshold for m in models])) if threshold is None else float(threshold)
        self.engine = engine
        self.workers = max(1, int(workers)) if engine == "numpy" else 1
        if engine == "numpy":
            # loaded here even when worker processes do the scoring: a broken model file
            # then fails in this process with one clear line, before any worker starts
            self._networks = [m.numpy_network for m in self.models]
            self._predict = self._numpy_predict
        else:
            networks = [m.keras_model for m in self.models]
            if mixed_precision:
                networks = [_mixed_precision_copy(m) for m in self.models]
            self._predict = _compile_predict(networks)

    @classmethod
    def load(
        cls,
        paths: Sequence[str | os.PathLike] | None = None,
        threshold: float | None = None,
        engine: str = "numpy",
        mixed_precision: bool = False,
        workers: int = 1,
    ) -> Classifier:
        """Load models from ``paths`` (the bundled model when empty or None).

        Args:
            paths: ``.keras`` files, each with its card beside it.
            threshold, engine, mixed_precision, workers: see the class.
        """
        from rnaigloo.network.modelfile import load_model

        loaded = [load_model(p) for p in paths] if paths else [load_model(None)]
        return cls(loaded, threshold, engine, mixed_precision, workers)

    def _numpy_predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        scores = [net.predict(inputs) for net in self._networks]
        return scores[0] if len(scores) == 1 else np.mean(scores, axis=0)

    def score_batch(self, batch: EncodedBatch) -> np.ndarray:
        """Coding probabilities (float64, in [0, 1]) of an encoded batch."""
        if len(batch) == 0:
            return np.zeros(0)
        out = self._predict(batch.model_inputs())
        return np.clip(np.asarray(out, dtype=np.float64).reshape(-1), 0.0, 1.0)

    def encode(self, sequences: list[str]) -> EncodedBatch:
        return encode_sequences(sequences, self.nuc_len, self.prot_len)

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
        if self.workers > 1:
            scored = _scored_in_workers(self, records, batch_size)
        else:
            scored = (
                (recs, self.score_batch(enc), enc.orfs)
                for recs, enc in _prefetch(_encoded_batches(records, batch_size, self.encode))
            )
        for records_batch, scores, orfs in scored:
            for rec, score, orf in zip(records_batch, scores, orfs):
                yield Prediction(rec, float(score), bool(score >= self.threshold), orf)


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER_CLASSIFIER: Classifier | None = None


def _worker_start(paths: list[str], threshold: float) -> None:
    """Set up a worker process: one BLAS thread, Ctrl-C left to the parent."""
    import signal

    from rnaigloo.runtime import limit_numpy_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_numpy_threads(1)
    global _WORKER_CLASSIFIER
    _WORKER_CLASSIFIER = Classifier.load(paths, threshold, engine="numpy")


def _worker_score(sequences: list[str]) -> tuple[np.ndarray, list[Orf]]:
    assert _WORKER_CLASSIFIER is not None
    return _WORKER_CLASSIFIER.score_sequences(sequences)


def _scored_in_workers(
    clf: Classifier, records: Iterable[Record], batch_size: int
) -> Iterator[tuple[list[Record], np.ndarray, list[Orf]]]:
    """Batches scored by a pool of worker processes, in input order.

    At most two batches per worker are in flight, so memory does not grow with the
    input. The parent reads and checks the FASTA and writes the output.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    if "forkserver" in multiprocessing.get_all_start_methods():
        # a clean server process (no threads of ours) that imports the scoring code
        # once; each worker is then forked from it, ready to load its model
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["rnaigloo.classify.classifier", "rnaigloo.network.engine", "h5py"])
    else:
        context = multiprocessing.get_context("spawn")
    paths = [str(m.path) for m in clf.models]
    pool = ProcessPoolExecutor(clf.workers, mp_context=context, initializer=_worker_start, initargs=(paths, clf.threshold))
    pending: deque = deque()
    try:
        for batch in _batches(records, batch_size):
            pending.append((batch, pool.submit(_worker_score, [r.sequence for r in batch])))
            if len(pending) >= 2 * clf.workers:
                recs, future = pending.popleft()
                yield (recs, *future.result())
        while pending:
            recs, future = pending.popleft()
            yield (recs, *future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def mixed_policy_name() -> str:
    """The mixed-precision policy for this machine: float16 on a GPU, bfloat16 on a CPU."""
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def _mixed_precision_copy(loaded: Any) -> Any:
    """The same network rebuilt under a mixed-precision policy, weights copied."""
    import keras

    from rnaigloo.network.model import build_model

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(mixed_policy_name())
    try:
        copy = build_model(loaded.config)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    copy.set_weights(loaded.keras_model.get_weights())
    return copy


def _compile_predict(keras_models: list[Any]) -> Callable[[dict[str, np.ndarray]], Any]:
    """A traced function that returns the ensemble's mean probability."""
    import tensorflow as tf

    # one signature with a free batch size, so the graph is traced once
    spec = {t.name.split(":")[0]: tf.TensorSpec((None, *t.shape[1:]), t.dtype) for t in keras_models[0].inputs}

    @tf.function(input_signature=[spec], reduce_retracing=True)
    def predict(inputs):
        outs = [m(inputs, training=False) for m in keras_models]
        return tf.add_n(outs) / len(outs) if len(outs) > 1 else outs[0]

    def run(inputs: dict[str, np.ndarray]):
        return predict({k: tf.convert_to_tensor(v, dtype=spec[k].dtype) for k, v in inputs.items()}).numpy()

    return run


def _encoded_batches(
    records: Iterable[Record], batch_size: int, encode: Callable[[list[str]], EncodedBatch]
) -> Iterator[tuple[list[Record], EncodedBatch]]:
    for batch in _batches(records, batch_size):
        yield batch, encode([r.sequence for r in batch])


_DONE = object()


def _prefetch(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run an iterator in a background thread, ``depth`` items ahead.

    An exception in the thread is raised again in the consumer, in order.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def worker() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((True, _DONE))
        except BaseException as err:  # handed to the consumer, which re-raises it
            q.put((False, err))

    thread = threading.Thread(target=worker, name="rnaigloo-encoder", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()


def clean_name(header: str) -> str:
    """A header made safe for one TSV field: tabs and other control characters -> space."""
    if header.isprintable():
        return header
    return "".join(ch if ch.isprintable() else " " for ch in header)


def tsv_header() -> str:
    return "\t".join(TSV_COLUMNS) + "\n"


def tsv_row(pred: Prediction) -> str:
    orf = pred.orf
    if orf.found:
        orf_fields = (
            str(orf.start),
            str(orf.end),
            str(orf.length),
            "complete" if orf.five_prime_complete else "partial",
            "complete" if orf.three_prime_complete else "partial",
        )
    else:
        orf_fields = ("NA", "NA", "0", "NA", "NA")
    return "\t".join((clean_name(pred.record.header), f"{pred.score:.5f}", "coding" if pred.coding else "noncoding", *orf_fields)) + "\n"


def _fasta_lines(seq: str, width: int = 60) -> str:
    return "".join(seq[i : i + width] + "\n" for i in range(0, len(seq), width))


def protein_entry(pred: Prediction) -> str:
    """FASTA entry of the protein of a coding prediction's ORF."""
    orf = pred.orf
    codes = codon_codes(nucleotide_tokens(pred.record.sequence))
    protein = translate_orf(codes, orf)
    return f">{pred.record.id} orf={orf.start}-{orf.end} length={len(protein)} score={pred.score:.5f}\n" + _fasta_lines(protein)


def cds_entry(pred: Prediction) -> str:
    """FASTA entry of the nucleotide ORF of a coding prediction, as written in the input."""
    orf = pred.orf
    cds = pred.record.sequence[orf.start - 1 : orf.end]
    return f">{pred.record.id} orf={orf.start}-{orf.end} length={len(cds)} score={pred.score:.5f}\n" + _fasta_lines(cds)


@contextmanager
def atomic_output(path: str | os.PathLike | None, stdout: IO[str]) -> Iterator[IO[str]]:
    """A text handle for ``path`` that appears under its name only when complete.

    ``None`` or ``-`` writes to ``stdout``. A file is written to a temporary file in the
    same directory and renamed when the block ends without error; on any error or
    interruption the temporary file is removed and ``path`` is left as it was.
    """
    if path is None or str(path) == "-":
        yield stdout
        stdout.flush()
        return
    target = Path(path)
    check_output_path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        from rnaigloo.network.modelfile import publish

        publish(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_path(path: str | os.PathLike) -> None:
    """Fail early, before any work, when an output file cannot be created.

    Raises:
        InputError: the directory is missing, or the path is a directory.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {target}: directory {parent} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a directory")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {target}: directory {parent} is not writable")


def classify_to_files(
    classifier: Classifier,
    records: Iterable[Record],
    out: str | os.PathLike | None,
    stdout: IO[str],
    protein_fasta: str | os.PathLike | None = None,
    cds_fasta: str | os.PathLike | None = None,
    batch_size: int = 256,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Classify ``records`` and write the TSV (and the optional FASTA files).

    Every output file appears only when complete (see :func:`atomic_output`).

    Returns:
        Counts: ``records``, ``coding``, ``noncoding``.
    """
    counts = {"records": 0, "coding": 0, "noncoding": 0}
    with (
        atomic_output(out, stdout) as tsv,
        _optional_output(protein_fasta, stdout) as faa,
        _optional_output(cds_fasta, stdout) as fna,
    ):
        tsv.write(tsv_header())
        for pred in classifier.predict(records, batch_size):
            tsv.write(tsv_row(pred))
            counts["records"] += 1
            counts["coding" if pred.coding else "noncoding"] += 1
            if pred.coding and pred.orf.found:
                if faa is not None:
                    faa.write(protein_entry(pred))
                if fna is not None:
                    fna.write(cds_entry(pred))
            if on_batch is not None and counts["records"] % batch_size == 0:
                on_batch(counts["records"])
    if on_batch is not None:
        on_batch(counts["records"])
    return counts


@contextmanager
def _optional_output(path: str | os.PathLike | None, stdout: IO[str]) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
    else:
        with atomic_output(path, stdout) as fh:
            yield fh
