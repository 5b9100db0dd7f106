"""Training: read, split, encode, fit, choose the threshold, save the model and its card.

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
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo.encoding.encoder import encode_sequences
from rnaigloo.encoding.tables import ENCODING_VERSION, ENCODING_VERSIONS
from rnaigloo.evaluate.metrics import best_mcc_threshold, calibration_summary, compute_metrics
from rnaigloo.io.files import write_json_atomic
from rnaigloo.io.labelled import Source, read_labelled
from rnaigloo.network.calibration import apply_temperature, fit_temperature
from rnaigloo.training.arguments import check_train_arguments
from rnaigloo.training.card import data_summary, model_card, plot_history, training_report, training_summary
from rnaigloo.training.checkpoint import Checkpointer, checkpoint_dir, load_checkpoint
from rnaigloo.training.data import sample_weights, split_validation
from rnaigloo.training.pipeline import make_dataset, predict_rows


def _fingerprint(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class TrainResult:
    card: dict[str, Any]
    report: dict[str, Any]


def train(
    coding: Sequence[Source],
    noncoding: Sequence[Source],
    output: str | os.PathLike,
    *,
    config: dict[str, Any] | None = None,
    noncoding_mode: str | None = None,
    shuffle_k: int = 2,
    intergenic_flank: int = 1000,
    init_from: str | os.PathLike | None = None,
    epochs: int = 30,
    batch_size: int = 64,
    seed: int = 42,
    val_fraction: float = 0.1,
    patience: int = 4,
    resume: bool = False,
    mixed_precision: bool = False,
    devices: str = "all",
    encoding: int | None = None,
    verbose: int = 1,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
) -> TrainResult:
    """Train a model and save it with its card and training report.

    Writes ``OUTPUT`` (``.keras``), ``OUTPUT.card.json``, ``OUTPUT.report.json`` and
    ``OUTPUT.report.png`` beside it; while training, ``OUTPUT.checkpoint/`` holds the
    state after the last finished epoch (removed at the end).

    Args:
        coding, noncoding: each class's sources: FASTA paths, or
            :class:`rnaigloo.io.transcripts.AnnotatedTranscripts`.
        output: the model file to write (must end in ``.keras``).
        config: model settings over :data:`rnaigloo.network.config.DEFAULT_CONFIG`
            (with ``init_from``: over that model's settings; only the training
            settings may change).
        noncoding_mode: without a non-coding set, make one: ``shuffle`` (k-let
            shuffles of the coding transcripts) or ``intergenic`` (genome windows away
            from the coding transcripts' annotation, which must then be given as
            AnnotatedTranscripts); see :mod:`rnaigloo.training.negatives`.
        shuffle_k: the k-let size of ``shuffle``.
        intergenic_flank: nt kept clear around every annotated transcript by ``intergenic``.
        init_from: start from this model's weights and settings (a path, or a
            bundled model's name such as ``human``).
        epochs: the most epochs to run.
        batch_size: training batch size per replica (device); the global batch is this
            times the replicas (see :mod:`rnaigloo.training.devices`).
        seed: seeds the split, the shuffling, the weights and dropout.
        val_fraction: share of the data (by gene) kept for validation.
        patience: epochs without a better validation loss before stopping.
        resume: continue from the checkpoint of an interrupted run with the same
            settings and data.
        mixed_precision: compute in float16 (GPU) or bfloat16 (CPU), weights in float32.
        devices: ``all`` (every GPU, mirrored when more than one; else the CPU), ``cpu``,
            or GPU indices such as ``0,1``.
        encoding: the encoding version (ORF search and features) the model reads
            transcripts with; default the latest, or with ``init_from`` that model's
            (which may not be changed).
        verbose: 0 silent, 1 progress bar, 2 a line per epoch.
        log: where messages go.
    """
    from rnaigloo.network.modelfile import library_versions, save_model
    from rnaigloo.training.negatives import add_negatives
    from rnaigloo.training.start import initial_model

    init = initial_model(init_from, config) if init_from is not None else None
    output, cfg = check_train_arguments(
        coding, noncoding, output, init.config if init else config,
        epochs=epochs, batch_size=batch_size, patience=patience, seed=seed, val_fraction=val_fraction,
        need_noncoding=noncoding_mode is None,
    )  # fmt: skip
    if init is not None:
        cfg["seed"] = init.config["seed"]  # the patch positions come with the weights
    version = _encoding_version(encoding, init)
    from rnaigloo.training.devices import choose_devices

    placement = choose_devices(devices)  # before the data is read: a wrong --devices fails at once
    t_start = time.time()
    data = read_labelled(coding, noncoding, need_noncoding=noncoding_mode is None)
    negatives = add_negatives(data, coding, noncoding_mode, shuffle_k, intergenic_flank, seed, log)
    counts = np.bincount(data.labels, minlength=2)
    log(f"read {len(data.labels)} transcripts: {counts[1]} coding, {counts[0]} non-coding")
    train_idx, val_idx = split_validation(data.labels, data.groups, val_fraction, seed)

    t_enc = time.time()
    enc = encode_sequences(data.sequences, cfg["nuc_len"], cfg["prot_len"], version)
    encode_seconds = time.time() - t_enc
    if not cfg["augment"] and not cfg["fragments"]:
        del data.sequences  # only cropping and pieces need the text again
    y = data.labels.astype(np.float32)
    weights = np.ones(len(y), dtype=np.float32)  # the validation rows are not weighted
    weights[train_idx], weighting = sample_weights(data.labels[train_idx], enc.lengths[train_idx], cfg["length_balance"])

    settings = {
        "config": cfg,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "val_fraction": val_fraction,
        "patience": patience,
        "mixed_precision": mixed_precision,
        "negatives": negatives,
        "encoding": version,
        "init_from": init.summary if init else None,
        "files": data.files,
        "n": len(y),
        "labels_sum": int(y.sum()),
    }
    fingerprint = _fingerprint(settings)
    ckpt = checkpoint_dir(output)

    import keras
    import tensorflow as tf

    global_batch = batch_size * placement.replicas
    if placement.replicas > 1:  # the global batch sets the steps: resume only on as many replicas
        fingerprint = _fingerprint({**settings, "replicas": placement.replicas})
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    with _precision_policy(mixed_precision):
        steps = math.ceil(len(train_idx) / global_batch)
        with placement.strategy.scope():  # the model's variables live on the replicas
            model, state = _model_and_state(cfg, steps, ckpt, fingerprint, resume, log, init)
        train_ds = make_dataset(
            enc, y, train_idx, weights, global_batch, seed, epochs, state["epoch"],
            sequences=getattr(data, "sequences", None), augment=cfg["augment"], fragments=cfg["fragments"],
            version=version,
        )  # fmt: skip
        val_ds = make_dataset(enc, y, val_idx, None, global_batch, seed, None, 0)
        checkpointer = Checkpointer(ckpt, fingerprint, state, patience, log)

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

        raw_val_scores = predict_rows(model, enc, val_idx)
        temperature = fit_temperature(y[val_idx], raw_val_scores)
        val_scores = apply_temperature(raw_val_scores, temperature)
        threshold, val_mcc = best_mcc_threshold(y[val_idx], val_scores)
        val_metrics = compute_metrics(y[val_idx], val_scores, threshold)
        calibration = calibration_summary(y[val_idx], raw_val_scores, val_scores, temperature, threshold)
        summary = data_summary(data, train_idx, val_idx)
        annotations = [s.summary() for s in (*coding, *noncoding) if hasattr(s, "summary")]
        if annotations:
            summary["annotations"] = annotations
        if negatives:
            summary["negatives"] = negatives
        training = training_summary(
            state, epochs=epochs, batch_size=batch_size, patience=patience, val_fraction=val_fraction,
            weights=weighting, seed=seed, device=placement.description, replicas=placement.replicas,
            precision=keras.mixed_precision.global_policy().name,
        )  # fmt: skip
        versions = library_versions()
        if init is not None:
            training["init_from"] = init.summary
        card = model_card(output.stem, cfg, threshold, summary, training, val_metrics, versions, version)
        card["calibration"] = calibration
        card = save_model(_without_optimizer(model, cfg), output, card)
        seconds = time.time() - t_start
        epochs_fitted = len(state["history"]) - checkpointer.resumed_at
        timing = {"total": seconds, "encode": encode_seconds, "fit": fit_seconds}
        report = training_report(output.name, summary, training, state["history"], val_metrics, versions, timing,
                                 len(train_idx) * epochs_fitted / fit_seconds if fit_seconds > 0 and epochs_fitted > 0 else None)  # fmt: skip
        write_json_atomic(output.with_name(output.stem + ".report.json"), report)
        plot_history(state["history"], output.with_name(output.stem + ".report.png"))
        shutil.rmtree(ckpt, ignore_errors=True)
        log(
            f"wrote {output}: validation MCC {val_mcc:.4f} at threshold {threshold:.3f}, "
            f"{training['epochs_run']} epochs (best {state['best_epoch']}), {seconds:.0f} s"
        )
        return TrainResult(card, report)


def _encoding_version(encoding: int | None, init) -> int:
    """The encoding a run trains with: the one asked for, the initial model's, or the latest.

    Raises:
        InputError: an unknown version, or one other than the initial model's.
    """
    from rnaigloo.errors import InputError

    if encoding is not None and encoding not in ENCODING_VERSIONS:
        raise InputError(f"--encoding: expected one of {', '.join(map(str, ENCODING_VERSIONS))}, found {encoding}")
    if init is None:
        return ENCODING_VERSION if encoding is None else encoding
    if encoding is not None and encoding != init.encoding_version:
        raise InputError(
            f"--encoding {encoding} cannot be used with --init-from: {init.summary['model']} reads transcripts "
            f"with encoding {init.encoding_version}"
        )
    return init.encoding_version


def _model_and_state(cfg: dict[str, Any], steps: int, ckpt: Path, fingerprint: str, resume: bool, log, init=None):
    """The compiled model and training state: from the checkpoint when resuming, else new.

    Raises:
        InputError: the checkpoint was made with other data or settings.
    """
    import keras

    from rnaigloo.network.model import build_model

    if resume:
        resumed = load_checkpoint(ckpt, fingerprint)
        if resumed is not None:
            log(f"resuming from {ckpt} after epoch {resumed[1]['epoch']}")
            return resumed
        log(f"no checkpoint at {ckpt}; starting from the beginning")
    if ckpt.exists():
        shutil.rmtree(ckpt)
    model = build_model(cfg)
    if init is not None:
        model.set_weights(init.weights)
        log(f"starting from the weights of {init.summary['model']}")
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
        from rnaigloo.runtime import mixed_policy_name

        keras.mixed_precision.set_global_policy(mixed_policy_name())
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


