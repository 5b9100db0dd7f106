"""Training: labelled data, the validation split, the tf.data pipeline and fitting.

Training is seeded from one number. The validation split is stratified by class and
keeps every isoform of one gene on the same side when the headers name the gene
(``gene_id=``, ``gene:`` or ``gene=``). Classes are weighted by their inverse
frequency. After each epoch a checkpoint is written beside the output, so a killed run
continues with ``resume=True`` and ends where the uninterrupted run would have.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo.errors import InputError
from rnaigloo.evaluate.metrics import best_mcc_threshold, compute_metrics
from rnaigloo.io.fasta import SeenIds, read_fasta
from rnaigloo.encoding.features import ENCODING_VERSION, N_FEATURES, Orf, encode_sequences

_GENE_PATTERNS = (re.compile(r"\bgene_id=(\S+)"), re.compile(r"\bgene:(\S+)"), re.compile(r"\bgene=(\S+)"))


@dataclass
class LabelledData:
    """Sequences with their labels (1 coding, 0 non-coding) and grouping keys."""

    sequences: list[str]
    labels: np.ndarray
    groups: list[str]
    files: dict[str, int]  # file -> records read


def gene_key(header: str, seq_id: str) -> str:
    """The gene a header names (``gene_id=``, ``gene:``, ``gene=``), else the record ID."""
    for pattern in _GENE_PATTERNS:
        m = pattern.search(header)
        if m:
            return m.group(0)
    return "id:" + seq_id


def read_labelled(coding: Sequence[str], noncoding: Sequence[str]) -> LabelledData:
    """Read coding and non-coding FASTA files (IDs must be unique across all of them).

    Raises:
        InputError: bad input, or a class with no records.
    """
    if not coding or not noncoding:
        raise InputError("training needs at least one --coding and one --noncoding FASTA file")
    sequences: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    files: dict[str, int] = {}
    seen = SeenIds()
    for label, paths in ((1, coding), (0, noncoding)):
        for path in paths:
            n = 0
            for rec in read_fasta(path, seen):
                sequences.append(rec.sequence)
                labels.append(label)
                groups.append(gene_key(rec.header, rec.id))
                n += 1
            files[str(path)] = n
    return LabelledData(sequences, np.asarray(labels, dtype=np.int64), groups, files)


def split_validation(
    labels: np.ndarray, groups: Sequence[str], fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded, class-stratified, gene-grouped train/validation split."""
    from sklearn.model_selection import StratifiedGroupKFold

    if not 0.0 < fraction < 0.5:
        raise InputError(f"--val-fraction must be between 0 and 0.5, found {fraction}")
    n_splits = max(2, round(1.0 / fraction))
    if min(np.bincount(labels, minlength=2)) < n_splits:
        raise InputError(
            f"too few records for a validation split of {fraction:g}: each class needs at least {n_splits} records"
        )
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, group_ids = np.unique(np.asarray(groups), return_inverse=True)
    train_idx, val_idx = next(splitter.split(np.zeros(len(labels)), labels, group_ids))
    return np.sort(train_idx), np.sort(val_idx)


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """Inverse-frequency class weights (sklearn's 'balanced')."""
    from sklearn.utils.class_weight import compute_class_weight

    w = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)
    return {0: float(w[0]), 1: float(w[1])}


def _fingerprint(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _checkpoint_dir(output: Path) -> Path:
    return output.with_name(output.stem + ".checkpoint")


@dataclass
class TrainResult:
    card: dict[str, Any]
    report: dict[str, Any]


def _checked_arguments(output, config, epochs: int, batch_size: int, patience: int, seed: int):
    """The output path and the resolved model config, or an InputError."""
    from rnaigloo.network.model import resolve_config

    output = Path(output)
    if output.suffix != ".keras":
        raise InputError(f"the model file name must end in .keras, found {output.name!r}")
    if not output.parent.is_dir():
        raise InputError(f"cannot write {output}: directory {output.parent} does not exist")
    if epochs < 1 or batch_size < 1 or patience < 1:
        raise InputError("--epochs, --batch-size and --patience must be at least 1")
    try:
        cfg = resolve_config({**(config or {}), "seed": seed})
    except ValueError as err:
        raise InputError(str(err)) from None
    return output, cfg


def train(
    coding: Sequence[str],
    noncoding: Sequence[str],
    output: str | os.PathLike,
    *,
    config: dict[str, Any] | None = None,
    epochs: int = 30,
    batch_size: int = 64,
    seed: int = 42,
    val_fraction: float = 0.1,
    patience: int = 4,
    resume: bool = False,
    mixed_precision: bool = False,
    verbose: int = 1,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
) -> TrainResult:
    """Train a model and save it with its card and training report.

    Writes ``OUTPUT`` (``.keras``), ``OUTPUT.card.json``, ``OUTPUT.report.json`` and
    ``OUTPUT.report.png`` beside it; while training, ``OUTPUT.checkpoint/`` holds the
    state after the last finished epoch (removed at the end).

    Args:
        coding, noncoding: FASTA files of each class.
        output: the model file to write (must end in ``.keras``).
        config: model settings over :data:`rnaigloo.network.model.DEFAULT_CONFIG`.
        epochs: the most epochs to run.
        batch_size: training batch size.
        seed: seeds the split, the shuffling, the weights and dropout.
        val_fraction: share of the data (by gene) kept for validation.
        patience: epochs without a better validation loss before stopping.
        resume: continue from the checkpoint of an interrupted run with the same
            settings and data.
        mixed_precision: compute in float16 (GPU) or bfloat16 (CPU), weights in float32.
        verbose: 0 silent, 1 progress bar, 2 a line per epoch.
        log: where messages go.
    """
    from rnaigloo.network.modelfile import library_versions, save_model, write_json_atomic

    output, cfg = _checked_arguments(output, config, epochs, batch_size, patience, seed)
    t_start = time.time()
    data = read_labelled(coding, noncoding)
    counts = np.bincount(data.labels, minlength=2)
    log(f"read {len(data.labels)} transcripts: {counts[1]} coding, {counts[0]} non-coding")
    train_idx, val_idx = split_validation(data.labels, data.groups, val_fraction, seed)

    t_enc = time.time()
    enc = encode_sequences(data.sequences, cfg["nuc_len"], cfg["prot_len"])
    encode_seconds = time.time() - t_enc
    if not cfg["augment"]:
        del data.sequences  # only cropping needs the text again
    y = data.labels.astype(np.float32)
    weights = class_weights(data.labels[train_idx])

    settings = {
        "config": cfg,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "val_fraction": val_fraction,
        "patience": patience,
        "mixed_precision": mixed_precision,
        "files": data.files,
        "n": len(y),
        "labels_sum": int(y.sum()),
    }
    fingerprint = _fingerprint(settings)
    ckpt = _checkpoint_dir(output)

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    with _precision_policy(mixed_precision):
        steps = math.ceil(len(train_idx) / batch_size)
        model, state = _model_and_state(cfg, steps, ckpt, fingerprint, resume, log)
        train_ds = _dataset(
            enc, y, train_idx, weights, batch_size, seed, epochs, state["epoch"],
            sequences=getattr(data, "sequences", None), augment=cfg["augment"],
        )  # fmt: skip
        val_ds = _dataset(enc, y, val_idx, None, batch_size, seed, None, 0)
        checkpointer = _Checkpointer(ckpt, fingerprint, state, patience, log)

        t_fit = time.time()
        if state["epoch"] < epochs and not state.get("stopped"):
            redirect = contextlib.redirect_stdout(sys.stderr)  # Keras prints progress to stdout
            with redirect:
                model.fit(
                    train_ds,
                    epochs=epochs,
                    initial_epoch=state["epoch"],
                    steps_per_epoch=steps,
                    validation_data=val_ds,
                    callbacks=[checkpointer],
                    shuffle=False,  # the dataset is already shuffled, reproducibly
                    verbose=verbose,
                )
        fit_seconds = time.time() - t_fit
        checkpointer.restore_best(model)

        val_scores = _predict(model, enc, val_idx, batch_size)
        threshold, val_mcc = best_mcc_threshold(y[val_idx], val_scores)
        val_metrics = compute_metrics(y[val_idx], val_scores, threshold)
        epochs_run = len(state["history"])
        versions = library_versions()
        device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
        train_counts = np.bincount(data.labels[train_idx], minlength=2)
        val_counts = np.bincount(data.labels[val_idx], minlength=2)
        data_summary = {
            "files": data.files,
            "coding": int(counts[1]),
            "noncoding": int(counts[0]),
            "train": {"coding": int(train_counts[1]), "noncoding": int(train_counts[0])},
            "validation": {"coding": int(val_counts[1]), "noncoding": int(val_counts[0])},
            "split": "stratified by class, grouped by gene (gene_id=, gene:, gene= in headers; else record ID)",
        }
        training = {
            "epochs_max": epochs,
            "epochs_run": epochs_run,
            "best_epoch": state["best_epoch"],
            "batch_size": batch_size,
            "patience": patience,
            "val_fraction": val_fraction,
            "class_weights": weights,
            "seed": seed,
            "device": device,
            "precision": keras.mixed_precision.global_policy().name,
        }
        card = {
            "name": output.stem,
            "rnaigloo_version": versions["rnaigloo"],
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "threshold": threshold,
            "threshold_rule": "maximum MCC on the validation set",
            "config": cfg,
            "encoding": {"version": ENCODING_VERSION, "n_features": N_FEATURES},
            "training_data": data_summary,
            "training": training,
            "validation_metrics": val_metrics,
            "versions": versions,
        }
        card = save_model(_without_optimizer(model, cfg), output, card)
        seconds = time.time() - t_start
        report = {
            "model": output.name,
            "seed": seed,
            "data": data_summary,
            "training": training,
            "history": state["history"],
            "validation_metrics": val_metrics,
            "timing_seconds": {"total": round(seconds, 1), "encode": round(encode_seconds, 1), "fit": round(fit_seconds, 1)},
            "train_sequences_per_second": round(len(train_idx) * max(epochs_run - checkpointer.resumed_at, 0) / fit_seconds, 1)
            if fit_seconds > 0 and epochs_run > checkpointer.resumed_at
            else None,
            "versions": versions,
        }
        write_json_atomic(output.with_name(output.stem + ".report.json"), report)
        _plot_history(state["history"], output.with_name(output.stem + ".report.png"))
        shutil.rmtree(ckpt, ignore_errors=True)
        log(
            f"wrote {output}: validation MCC {val_mcc:.4f} at threshold {threshold:.3f}, "
            f"{epochs_run} epochs (best {state['best_epoch']}), {seconds:.0f} s"
        )
        return TrainResult(card, report)


def _model_and_state(cfg: dict[str, Any], steps: int, ckpt: Path, fingerprint: str, resume: bool, log):
    """The compiled model and training state: from the checkpoint when resuming, else new.

    Raises:
        InputError: the checkpoint was made with other data or settings.
    """
    import keras

    from rnaigloo.network.model import build_model

    if resume and (ckpt / "state.json").is_file():
        saved = json.loads((ckpt / "state.json").read_text())
        if saved.get("fingerprint") != fingerprint:
            raise InputError(
                f"cannot resume from {ckpt}: it was made with other data or settings; "
                "remove it or repeat the original command"
            )
        import rnaigloo.network.igloo  # noqa: F401 - registers the layer

        model = keras.saving.load_model(ckpt / "last.keras", compile=True)
        _set_seed_states(model, saved["state"]["seed_states"])
        log(f"resuming from {ckpt} after epoch {saved['state']['epoch']}")
        return model, saved["state"]
    if resume:
        log(f"no checkpoint at {ckpt}; starting from the beginning")
    if ckpt.exists():
        shutil.rmtree(ckpt)
    model = build_model(cfg)
    lr = cfg["learning_rate"]
    if cfg["lr_decay"] < 1.0:  # a step schedule lives in the optimizer, so resume keeps it
        lr = keras.optimizers.schedules.ExponentialDecay(lr, decay_steps=steps, decay_rate=cfg["lr_decay"], staircase=True)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auroc")],
    )
    state = {"epoch": 0, "history": [], "best_val_loss": None, "best_epoch": None, "wait": 0}
    return model, state


def _without_optimizer(model, cfg: dict[str, Any]):
    """The same network, uncompiled: the shipped file needs no optimizer state (a third of its size)."""
    from rnaigloo.network.model import build_model

    clean = build_model(cfg)
    clean.set_weights(model.get_weights())
    return clean


@contextlib.contextmanager
def _precision_policy(mixed: bool):
    """Keras's global dtype policy for the block: mixed precision or float32."""
    import keras

    previous = keras.mixed_precision.global_policy()
    if mixed:
        from rnaigloo.classify.classifier import mixed_policy_name

        keras.mixed_precision.set_global_policy(mixed_policy_name())
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def crop_flanks(seq: str, orf: Orf, rng: np.random.Generator) -> str:
    """A copy of ``seq`` with a random share of each flank of its longest ORF cut off.

    The ORF itself is kept whole, so it stays the longest ORF and the label stays
    true; without an ORF the two halves of the transcript are the flanks. Used to
    show the network transcripts with shorter, varied UTRs (partial assemblies,
    species with short UTRs), so that it cannot lean on UTR length.
    """
    n = len(seq)
    if orf.found:
        left, right = orf.start - 1, orf.end
    else:
        left = right = n // 2
    start = int(rng.integers(0, left + 1))
    end = n - int(rng.integers(0, n - right + 1))
    return seq[start:end]


def _dataset(enc, y, idx, weights, batch_size, seed, epochs, first_epoch, sequences=None, augment=0.0):
    """A tf.data pipeline over the rows ``idx`` of the encoded arrays.

    Training (``epochs`` given): epoch ``e`` visits the rows in the order of a
    permutation seeded by ``(seed, e)``, so a resumed run sees the same batches as an
    uninterrupted one. With ``augment`` > 0, each transcript is cropped
    (:func:`crop_flanks`) with that probability in each epoch, drawn from a generator
    seeded by ``(seed, epoch, row)``, and encoded again. Validation (``epochs`` None):
    the rows in order, once.
    """
    import tensorflow as tf

    nuc, prot, feats = enc.nucleotides, enc.proteins, enc.features
    w = np.ones(len(y), dtype=np.float32) if weights is None else np.where(y > 0.5, weights[1], weights[0]).astype(np.float32)

    def gather(rows, epoch):
        n, p, f = nuc[rows].astype(np.int32), prot[rows].astype(np.int32), feats[rows]
        if augment > 0:
            cropped, where = [], []
            for i, row in enumerate(rows):
                rng = np.random.default_rng([seed, int(epoch), int(row)])
                if rng.random() < augment:
                    cropped.append(crop_flanks(sequences[row], enc.orfs[row], rng))
                    where.append(i)
            if cropped:
                again = encode_sequences(cropped, nuc.shape[1], prot.shape[1])
                n[where], p[where], f[where] = again.nucleotides, again.proteins, again.features
        return n, p, f, y[rows], w[rows]

    def to_inputs(rows, epoch):
        n, p, f, yy, ww = tf.numpy_function(
            gather, [rows, epoch], [tf.int32, tf.int32, tf.float32, tf.float32, tf.float32]
        )
        n.set_shape((None, nuc.shape[1]))
        p.set_shape((None, prot.shape[1]))
        f.set_shape((None, feats.shape[1]))
        yy.set_shape((None,))
        ww.set_shape((None,))
        return {"nucleotides": n, "proteins": p, "features": f}, yy, ww

    if epochs is None:
        rows = tf.data.Dataset.from_tensor_slices(idx.astype(np.int64)).batch(batch_size)
        rows = rows.map(lambda r: (r, tf.constant(-1, tf.int64)))
    else:
        epoch_ids = np.arange(first_epoch, epochs, dtype=np.int64)
        orders = np.stack([idx[np.random.default_rng([seed, e]).permutation(len(idx))] for e in epoch_ids])
        rows = tf.data.Dataset.from_tensor_slices((epoch_ids, orders.astype(np.int64))).flat_map(
            lambda e, order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size).map(lambda r: (r, e))
        )
    return rows.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def _predict(model, enc, idx, batch_size) -> np.ndarray:
    out = []
    for start in range(0, len(idx), 1024):
        rows = idx[start : start + 1024]
        inputs = {
            "nucleotides": enc.nucleotides[rows].astype(np.int32),
            "proteins": enc.proteins[rows].astype(np.int32),
            "features": enc.features[rows],
        }
        out.append(np.asarray(model(inputs, training=False)).reshape(-1))
    return np.concatenate(out) if out else np.zeros(0)


def _make_checkpointer_base():
    import keras

    return keras.callbacks.Callback


class _Checkpointer(_make_checkpointer_base()):  # type: ignore[misc]
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
        final = self.dir / name
        tmp = self.dir / (".tmp." + name)
        write(str(tmp))
        os.replace(tmp, final)

    def restore_best(self, model) -> None:
        best = self.dir / "best.weights.h5"
        if best.is_file():
            model.load_weights(best)


def _seed_variables(model) -> list[Any]:
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]


def _seed_states(model) -> list[list[int]]:
    """Dropout RNG states, which ``model.save`` does not keep but an exact resume needs."""
    return [np.asarray(v).tolist() for v in _seed_variables(model)]


def _set_seed_states(model, states: list[list[int]]) -> None:
    variables = _seed_variables(model)
    if len(variables) != len(states):
        raise InputError("cannot resume: the checkpoint's random-number states do not match the model")
    for v, value in zip(variables, states):
        v.assign(np.asarray(value, dtype=v.dtype))


def _plot_history(history: list[dict[str, Any]], path: Path) -> None:
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", axes[0]), ("auroc", axes[1])):
        ax.plot(epochs, [h.get(key) for h in history], marker="o", label="train")
        ax.plot(epochs, [h.get("val_" + key) for h in history], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    fig.tight_layout()
    tmp = path.with_name("." + path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
