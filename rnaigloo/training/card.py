"""What training writes beside the model: the card's training sections, the report and its plot."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo.encoding.tables import ENCODING_VERSION, TABLE_VERSIONS, n_features
from rnaigloo.io.files import save_figure
from rnaigloo.io.labelled import LabelledData

SPLIT_RULE = "stratified by class, grouped by gene (gene_id=, gene:, gene= in headers; else record ID)"


def data_summary(data: LabelledData, train_idx: np.ndarray, val_idx: np.ndarray) -> dict[str, Any]:
    """The card's ``training_data``: files read, counts per class and per side of the split."""
    counts = np.bincount(data.labels, minlength=2)
    train_counts = np.bincount(data.labels[train_idx], minlength=2)
    val_counts = np.bincount(data.labels[val_idx], minlength=2)
    return {
        "files": data.files,
        "coding": int(counts[1]),
        "noncoding": int(counts[0]),
        "train": {"coding": int(train_counts[1]), "noncoding": int(train_counts[0])},
        "validation": {"coding": int(val_counts[1]), "noncoding": int(val_counts[0])},
        "split": SPLIT_RULE,
    }


def training_summary(state: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """The card's ``training`` section: the run's settings and how many epochs it ran."""
    return {
        "epochs_max": settings["epochs"],
        "epochs_run": len(state["history"]),
        "best_epoch": state["best_epoch"],
        "batch_size": settings["batch_size"],  # per replica
        "replicas": settings["replicas"],
        "global_batch_size": settings["batch_size"] * settings["replicas"],
        "patience": settings["patience"],
        "val_fraction": settings["val_fraction"],
        **settings["weights"],  # class_weights, length_balance (and its length bins)
        "seed": settings["seed"],
        "device": settings["device"],
        "precision": settings["precision"],
    }


def model_card(
    name: str,
    config: dict[str, Any],
    threshold: float,
    data: dict[str, Any],
    training: dict[str, Any],
    validation_metrics: dict[str, Any],
    versions: dict[str, str],
    encoding: int = ENCODING_VERSION,
    hexamer_table: np.ndarray | None = None,
) -> dict[str, Any]:
    """The model card (before :func:`rnaigloo.network.saving.save_model` adds the file's hash)."""
    described: dict[str, Any] = {"version": encoding, "n_features": n_features(encoding)}
    if encoding in TABLE_VERSIONS:
        described["hexamer_table"] = [float(v) for v in hexamer_table]
        described["hexamer_table_from"] = "in-frame hexamers of the longest ORFs of this run's training rows (not validation)"
    return {
        "name": name,
        "rnaigloo_version": versions["rnaigloo"],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "threshold": threshold,
        "threshold_rule": "maximum MCC on the validation set",
        "config": config,
        "encoding": described,
        "training_data": data,
        "training": training,
        "validation_metrics": validation_metrics,
        "versions": versions,
    }


def training_report(
    model_name: str,
    data: dict[str, Any],
    training: dict[str, Any],
    history: list[dict[str, Any]],
    validation_metrics: dict[str, Any],
    versions: dict[str, str],
    timing: dict[str, float],
    sequences_per_second: float | None,
) -> dict[str, Any]:
    """The training report (``MODEL.report.json``): per-epoch history and timings."""
    return {
        "model": model_name,
        "seed": training["seed"],
        "data": data,
        "training": training,
        "history": history,
        "validation_metrics": validation_metrics,
        "timing_seconds": {k: round(v, 1) for k, v in timing.items()},
        "train_sequences_per_second": None if sequences_per_second is None else round(sequences_per_second, 1),
        "versions": versions,
    }


def plot_history(history: list[dict[str, Any]], path: Path) -> None:
    """Loss and AUROC per epoch, training and validation, as a PNG."""
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
    try:
        save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)

