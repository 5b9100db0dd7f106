"""Training: read, split, encode, fit, calibrate, choose the threshold, save the model and its card.

Training is seeded from one number. The validation split is stratified by class and
keeps every isoform of one gene on the same side when the headers name the gene
(``gene_id=``, ``gene:`` or ``gene=``). Each training transcript is weighted
(:func:`rnaigloo.training.data.sample_weights`): by the inverse frequency of its class,
or, with the ``length_balance`` setting, so that the classes weigh the same within
length bins; a training piece (the ``fragments`` share of rows, cut from transcripts of
at least ``fragments_from`` nt) weighs ``fragment_weight`` times its row's weight;
validation rows are not weighted. After each epoch a checkpoint is
written beside the output, so a killed run continues with ``resume=True`` and ends
where the uninterrupted run would have.
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

from rnaigloo.encoding.encoder import encode_sequences, orf_hexamer_counts
from rnaigloo.encoding.tables import ENCODING_VERSION, TABLE_VERSIONS, hexamer_log_ratios, n_features
from rnaigloo.errors import InputError
from rnaigloo.evaluate.metrics import best_mcc_threshold, calibration_summary, compute_metrics
from rnaigloo.io.files import write_json_atomic
from rnaigloo.io.labelled import Source, read_labelled
from rnaigloo.io.transcripts import AnnotatedTranscripts, AnnotationSource
from rnaigloo.network.calibration import apply_temperature, fit_temperature
from rnaigloo.network.config import resolve_config
from rnaigloo.network.paths import sibling_path
from rnaigloo.training.arguments import TrainSettings, check_train_arguments
from rnaigloo.training.card import data_summary, model_card, plot_history, training_report, training_summary
from rnaigloo.training.checkpoint import checkpoint_dir, load_checkpoint
from rnaigloo.training.data import sample_weights, split_validation
from rnaigloo.training.pipeline import make_dataset, predict_rows


def _fingerprint(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class TrainResult:
    card: dict[str, Any]
    report: dict[str, Any]


@dataclass
class _Prepared:
    """The data of a run, read, split, encoded and weighted."""

    data: Any
    negatives: dict[str, Any] | None
    train_idx: np.ndarray
    val_idx: np.ndarray
    enc: Any
    y: np.ndarray
    weights: np.ndarray
    weighting: dict[str, Any]
    encode_seconds: float
    annotations: list[dict[str, Any]]
    hexamer_table: np.ndarray | None = None


def train(
    coding: Sequence[Source], noncoding: Sequence[Source], output: str | os.PathLike, settings: TrainSettings | None = None
) -> TrainResult:
    """Train a model and save it with its card and training report.

    Writes ``OUTPUT`` (``.keras``), ``OUTPUT.card.json``, ``OUTPUT.report.json`` and
    ``OUTPUT.report.png`` beside it; while training, ``OUTPUT.checkpoint/`` holds the
    state after the last finished epoch (removed at the end). Every argument is
    checked before TensorFlow is imported or any data is read.

    Args:
        coding, noncoding: each class's sources: FASTA paths (``-`` for stdin),
            :class:`rnaigloo.io.transcripts.AnnotationSource` (read after the checks), or
            :class:`rnaigloo.io.transcripts.AnnotatedTranscripts`.
        output: the model file to write (must end in ``.keras``).
        settings: how to train (:class:`rnaigloo.training.arguments.TrainSettings`;
            default: its defaults).

    Raises:
        InputError: bad arguments or input, named in one line.
        ModelError: the model to start from is damaged.
    """
    settings = settings or TrainSettings()
    output, cfg = check_train_arguments(coding, noncoding, output, settings)
    coding = [_opened(s, settings.log) for s in coding]
    noncoding = [_opened(s, settings.log) for s in noncoding]
    from rnaigloo.runtime.tensorflow_start import start_tensorflow

    start_tensorflow(settings.threads, settings.debug)
    from rnaigloo.training.start import initial_model

    init = initial_model(settings.init_from, settings.config) if settings.init_from is not None else None
    if init is not None:  # the initial model's settings, with the patch positions' seed that came with its weights
        cfg = _resolved(init.config)
    version = _encoding_version(settings.encoding, init)
    from rnaigloo.training.devices import choose_devices

    placement = choose_devices(settings.devices)  # before the data is read: a wrong --devices fails at once
    t_start = time.time()
    prepared = _prepare(coding, noncoding, cfg, version, settings)
    fingerprint = _fingerprint(_run_identity(prepared, cfg, version, settings, init, placement.replicas))

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()
    with _precision_policy(settings.mixed_precision):
        model, state, fit_seconds, resumed_at = _fit(prepared, cfg, version, settings, placement, output, fingerprint, init)
        result = _finish(model, state, prepared, cfg, version, settings, placement, output, init)
    seconds = time.time() - t_start
    epochs_fitted = len(state["history"]) - resumed_at
    timing = {"total": seconds, "encode": prepared.encode_seconds, "fit": fit_seconds}
    rate = len(prepared.train_idx) * epochs_fitted / fit_seconds if fit_seconds > 0 and epochs_fitted > 0 else None
    card, summary, training, val_metrics, versions = result
    report = training_report(output.name, summary, training, state["history"], val_metrics, versions, timing, rate)
    write_json_atomic(sibling_path(output, "report"), report)
    plot_history(state["history"], sibling_path(output, "plot"))
    shutil.rmtree(checkpoint_dir(output), ignore_errors=True)
    settings.log(
        f"wrote {output}: validation MCC {card['validation_metrics']['mcc']:.4f} at threshold {card['threshold']:.3f}, "
        f"{training['epochs_run']} epochs (best {state['best_epoch']}), {seconds:.0f} s"
    )
    return TrainResult(card, report)


def _opened(source: Source, log: Callable[[str], None]) -> Source:
    """An annotation named by an :class:`AnnotationSource`, read now; any other source as it is."""
    return source.open(log) if isinstance(source, AnnotationSource) else source


def _resolved(config: dict[str, Any]) -> dict[str, Any]:
    try:
        return resolve_config(config)
    except ValueError as err:
        raise InputError(f"{err} (from --set or --config)") from None


def _prepare(coding, noncoding, cfg: dict[str, Any], version: int, settings: TrainSettings) -> _Prepared:
    """Read both classes (making the non-coding one if asked), split, encode and weight them."""
    from rnaigloo.training.negatives import add_negatives

    need_noncoding = settings.noncoding_mode is None
    data = read_labelled(coding, noncoding, need_noncoding=need_noncoding)
    negatives = add_negatives(
        data, coding, settings.noncoding_mode, settings.shuffle_k, settings.intergenic_flank, settings.seed, settings.log
    )
    counts = np.bincount(data.labels, minlength=2)
    settings.log(f"read {len(data.labels)} transcripts: {counts[1]} coding, {counts[0]} non-coding")
    train_idx, val_idx = split_validation(data.labels, data.groups, settings.val_fraction, settings.seed)
    t_enc = time.time()
    table = _hexamer_table(data, train_idx, version, settings.log) if version in TABLE_VERSIONS else None
    enc = encode_sequences(data.sequences, cfg["nuc_len"], cfg["prot_len"], version, table)
    encode_seconds = time.time() - t_enc
    if not cfg["augment"] and not cfg["fragments"]:
        del data.sequences  # only cropping and pieces need the text again
    y = data.labels.astype(np.float32)
    weights = np.ones(len(y), dtype=np.float32)  # the validation rows are not weighted
    weights[train_idx], weighting = sample_weights(data.labels[train_idx], enc.lengths[train_idx], cfg["length_balance"])
    annotations = [src.summary() for src in (*coding, *noncoding) if isinstance(src, AnnotatedTranscripts)]
    return _Prepared(data, negatives, train_idx, val_idx, enc, y, weights, weighting, encode_seconds, annotations, table)


def _hexamer_table(data, train_idx: np.ndarray, version: int, log) -> np.ndarray:
    """The hexamer table of encodings that have one, learned from the training rows only
    (the validation rows, which choose the epoch and the threshold, are not read)."""
    rows = np.sort(train_idx)
    coding = [data.sequences[i] for i in rows if data.labels[i] == 1]
    noncoding = [data.sequences[i] for i in rows if data.labels[i] == 0]
    coding_counts, noncoding_counts = orf_hexamer_counts(coding, version), orf_hexamer_counts(noncoding, version)
    log(
        f"hexamer table from {len(coding)} coding and {len(noncoding)} non-coding training transcripts "
        f"({int(coding_counts.sum())} / {int(noncoding_counts.sum())} in-frame ORF hexamers)"
    )
    return hexamer_log_ratios(coding_counts, noncoding_counts)


def _run_identity(prepared: _Prepared, cfg, version: int, settings: TrainSettings, init, replicas: int) -> dict:
    """What a checkpoint must match to be resumed: the settings and the data."""
    s = settings
    identity = {
        "config": cfg, "epochs": s.epochs, "batch_size": s.batch_size, "seed": s.seed,
        "val_fraction": s.val_fraction, "patience": s.patience, "mixed_precision": s.mixed_precision,
        "negatives": prepared.negatives, "encoding": version, "init_from": init.summary if init else None,
        "files": prepared.data.files, "n": len(prepared.y), "labels_sum": int(prepared.y.sum()),
    }  # fmt: skip
    if replicas > 1:  # the global batch sets the steps: resume only on as many replicas
        identity["replicas"] = replicas
    return identity


def _fit(prepared: _Prepared, cfg, version: int, settings: TrainSettings, placement, output: Path, fingerprint, init):
    """Fit the network (from its checkpoint when resuming); the best epoch's weights restored."""
    s, p = settings, prepared
    global_batch = s.batch_size * placement.replicas
    steps = math.ceil(len(p.train_idx) / global_batch)
    ckpt = checkpoint_dir(output)
    with placement.strategy.scope():  # the model's variables live on the replicas
        model, state = _model_and_state(cfg, version, steps, ckpt, fingerprint, s.resume, s.log, init)
    train_ds = make_dataset(
        p.enc, p.y, p.train_idx, p.weights, global_batch, s.seed, s.epochs, state["epoch"],
        sequences=getattr(p.data, "sequences", None), augment=cfg["augment"], fragments=cfg["fragments"],
        version=version, fragments_from=cfg["fragments_from"], fragment_weight=cfg["fragment_weight"],
        hexamer_table=p.hexamer_table,
    )  # fmt: skip
    val_ds = make_dataset(p.enc, p.y, p.val_idx, None, global_batch, s.seed, None, 0)
    from rnaigloo.training.callbacks import Checkpointer  # imports Keras: only now, after the checks

    checkpointer = Checkpointer(ckpt, fingerprint, state, s.patience, s.log)
    t_fit = time.time()
    if state["epoch"] < s.epochs and not state.get("stopped"):
        with contextlib.redirect_stdout(sys.stderr):  # Keras prints progress to stdout
            model.fit(
                train_ds,
                epochs=s.epochs,
                initial_epoch=state["epoch"],
                steps_per_epoch=steps,
                validation_data=val_ds,
                callbacks=[checkpointer],
                shuffle=False,  # the dataset is already shuffled, reproducibly
                verbose=s.verbose,
            )
    fit_seconds = time.time() - t_fit
    checkpointer.restore_best(model)
    return model, state, fit_seconds, checkpointer.resumed_at


def _finish(model, state, prepared: _Prepared, cfg, version: int, settings: TrainSettings, placement, output, init):
    """Calibrate, choose the threshold on validation, and save the model with its card."""
    import keras

    from rnaigloo.network.saving import library_versions, save_model

    p, s = prepared, settings
    y_val = p.y[p.val_idx]
    raw_val_scores = predict_rows(model, p.enc, p.val_idx)
    temperature = fit_temperature(y_val, raw_val_scores)
    val_scores = apply_temperature(raw_val_scores, temperature)
    threshold, _ = best_mcc_threshold(y_val, val_scores)
    val_metrics = compute_metrics(y_val, val_scores, threshold)
    summary = data_summary(p.data, p.train_idx, p.val_idx)
    if p.annotations:
        summary["annotations"] = p.annotations
    if p.negatives:
        summary["negatives"] = p.negatives
    training = training_summary(
        state, epochs=s.epochs, batch_size=s.batch_size, patience=s.patience, val_fraction=s.val_fraction,
        weights=p.weighting, seed=s.seed, device=placement.description, replicas=placement.replicas,
        precision=keras.mixed_precision.global_policy().name,
    )  # fmt: skip
    versions = library_versions()
    if init is not None:
        training["init_from"] = init.summary
    card = model_card(output.stem, cfg, threshold, summary, training, val_metrics, versions, version, p.hexamer_table)
    card["calibration"] = calibration_summary(y_val, raw_val_scores, val_scores, temperature, threshold)
    card = save_model(_without_optimizer(model, cfg, version), output, card)
    return card, summary, training, val_metrics, versions


def _encoding_version(encoding: int | None, init) -> int:
    """The encoding a run trains with: the one asked for (checked), the initial model's, or the latest.

    Raises:
        InputError: a version other than the initial model's.
    """
    if init is None:
        return ENCODING_VERSION if encoding is None else encoding
    if encoding is not None and encoding != init.encoding_version:
        raise InputError(
            f"--encoding {encoding} cannot be used with --init-from: {init.summary['model']} reads transcripts "
            f"with encoding {init.encoding_version}"
        )
    return init.encoding_version


def _model_and_state(
    cfg: dict[str, Any], version: int, steps: int, ckpt: Path, fingerprint: str, resume: bool, log, init=None
):
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
    model = build_model(cfg, n_features(version))
    if init is not None:
        model.set_weights(init.weights)
        log(f"starting from the weights of {init.summary['model']} (learning rate {cfg['learning_rate']:g})")
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


def _without_optimizer(model, cfg: dict[str, Any], version: int):
    """The same network, uncompiled: the shipped file needs no optimizer state (a third of its size)."""
    from rnaigloo.network.model import build_model

    clean = build_model(cfg, n_features(version))
    clean.set_weights(model.get_weights())
    return clean


@contextlib.contextmanager
def _precision_policy(mixed: bool):
    """Keras's global dtype policy for the block: mixed precision or float32."""
    import keras

    previous = keras.mixed_precision.global_policy()
    if mixed:
        from rnaigloo.runtime.tensorflow_start import mixed_policy_name

        keras.mixed_precision.set_global_policy(mixed_policy_name())
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


