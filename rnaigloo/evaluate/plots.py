"""Plots of a classifier's scores against labels (PNG, written atomically)."""

from __future__ import annotations

import os

import numpy as np

from rnaigloo.io.files import save_figure


def plot_curves(labels: np.ndarray, scores: np.ndarray, path: str | os.PathLike, title: str = "") -> None:
    """ROC and precision-recall curves side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(10, 4.5))
    RocCurveDisplay.from_predictions(labels, scores, ax=ax_roc, name="rnaigloo")
    ax_roc.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax_roc.set_title("ROC")
    PrecisionRecallDisplay.from_predictions(labels, scores, ax=ax_pr, name="rnaigloo")
    ax_pr.set_title("Precision-recall")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)

