"""Plots of a classifier's scores against labels (PNG, written atomically)."""

from __future__ import annotations

import os

import numpy as np

from rnaigloo.evaluate.metrics import brier_score, reliability
from rnaigloo.io.files import save_figure


def plot_curves(
    labels: np.ndarray, scores: np.ndarray, path: str | os.PathLike, title: str = "", threshold: float | None = None
) -> None:
    """ROC, precision-recall and reliability curves side by side, as a PNG.

    With ``threshold``, the operating point is marked on ROC and PR, and the threshold
    as a vertical line on the reliability curve.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    y = np.asarray(labels).astype(int)
    s = np.asarray(scores, dtype=float)
    fig, (ax_roc, ax_pr, ax_rel) = plt.subplots(1, 3, figsize=(15, 4.5))
    RocCurveDisplay.from_predictions(y, s, ax=ax_roc, name="rnaigloo")
    ax_roc.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax_roc.set_title("ROC")
    PrecisionRecallDisplay.from_predictions(y, s, ax=ax_pr, name="rnaigloo")
    ax_pr.set_title("Precision-recall")
    rows = reliability(y, s)
    ax_rel.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    ax_rel.plot([r["mean_score"] for r in rows], [r["coding_share"] for r in rows], marker="o", label="rnaigloo")
    ax_rel.set_xlabel("mean coding_score in bin")
    ax_rel.set_ylabel("share of coding transcripts")
    ax_rel.set_xlim(0, 1)
    ax_rel.set_ylim(0, 1)
    ax_rel.set_title(f"Reliability (Brier {brier_score(y, s):.4f})")
    if threshold is not None:
        pred = s >= threshold
        pos, neg = max(int(y.sum()), 1), max(int((1 - y).sum()), 1)
        tpr, fpr = (pred & (y == 1)).sum() / pos, (pred & (y == 0)).sum() / neg
        precision = (pred & (y == 1)).sum() / max(int(pred.sum()), 1)
        mark = {"color": "red", "marker": "x", "markersize": 10, "linestyle": "none", "label": f"threshold {threshold:.3f}"}
        ax_roc.plot([fpr], [tpr], **mark)
        ax_pr.plot([tpr], [precision], **mark)
        ax_rel.axvline(threshold, color="red", linestyle="--", label=f"threshold {threshold:.3f}")
        ax_roc.legend(loc="lower right")
        ax_pr.legend(loc="lower left")
    ax_rel.legend(loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)

