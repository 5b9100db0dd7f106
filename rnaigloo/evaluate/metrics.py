"""Metrics of a coding/non-coding classifier: the confusion-matrix rates, ranking (AUROC,
AUPRC), calibration (Brier score, reliability bins, expected calibration error), the
MCC-best threshold, and the table ``evaluate`` prints. The curves are drawn by plots.py."""

from __future__ import annotations

from typing import Any

import numpy as np

METRIC_NAMES = ("accuracy", "sensitivity", "specificity", "precision", "f1", "mcc", "auroc", "auprc", "brier")
RELIABILITY_BINS = 10


def compute_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Classification metrics at ``threshold`` plus the threshold-free AUROC and AUPRC.

    Args:
        labels: 1 for coding, 0 for non-coding.
        scores: coding probabilities.
        threshold: a score at or above it is called coding.

    Returns:
        The metrics in ``METRIC_NAMES`` (``None`` where undefined: AUROC, AUPRC and MCC
        when one class is absent, sensitivity and F1 without coding transcripts,
        specificity without non-coding ones, precision when nothing is called coding;
        Brier is the mean squared error of the scores read as probabilities) and
        the counts ``tp``, ``fp``, ``tn``, ``fn``, ``n``.
    """
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        confusion_matrix,
        f1_score,
        matthews_corrcoef,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y = np.asarray(labels).astype(int)
    s = np.asarray(scores, dtype=float)
    pred = (s >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    both = len(np.unique(y)) == 2
    positives, negatives = tp + fn, tn + fp
    return {
        "accuracy": float(accuracy_score(y, pred)),
        # a rate with nothing to count is undefined (None), not 0: a set of lncRNAs alone
        # has a specificity and no sensitivity, precision, F1 or MCC
        "sensitivity": float(recall_score(y, pred)) if positives else None,
        "specificity": float(tn / negatives) if negatives else None,
        "precision": float(precision_score(y, pred)) if tp + fp else None,
        "f1": float(f1_score(y, pred)) if positives else None,
        "mcc": float(matthews_corrcoef(y, pred)) if both else None,
        "auroc": float(roc_auc_score(y, s)) if both else None,
        "auprc": float(average_precision_score(y, s)) if both else None,
        "brier": brier_score(y, s),
        "threshold": float(threshold),
        "tp": int(tp),
        "fp": int(fp),
        "tn": int(tn),
        "fn": int(fn),
        "n": len(y),
    }


def brier_score(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Mean squared difference between score and label (0 is perfect; ``None`` for no records)."""
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    return float(np.mean((s - y) ** 2)) if y.size else None


def reliability(labels: np.ndarray, scores: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Observed share of coding transcripts per score bin (equal-width bins over [0, 1]).

    Returns:
        One entry per non-empty bin: ``lo``, ``hi``, ``n``, ``mean_score``, ``coding_share``.
    """
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    which = np.minimum((s * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                {
                    "lo": b / bins,
                    "hi": (b + 1) / bins,
                    "n": int(mask.sum()),
                    "mean_score": float(s[mask].mean()),
                    "coding_share": float(y[mask].mean()),
                }
            )
    return out


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = RELIABILITY_BINS) -> float | None:
    """Mean gap between score and observed coding share over the bins, weighted by bin size."""
    rows = reliability(labels, scores, bins)
    n = sum(r["n"] for r in rows)
    return float(sum(r["n"] * abs(r["mean_score"] - r["coding_share"]) for r in rows) / n) if n else None


def calibration_summary(
    labels: np.ndarray, raw: np.ndarray, calibrated: np.ndarray, temperature: float, threshold: float
) -> dict[str, Any]:
    """The card's calibration section: the temperature and what it did on the validation set."""
    return {
        "temperature": float(temperature),
        "fitted_on": "validation set (minimum log-loss); scores and threshold are on the calibrated scale",
        "brier_before": brier_score(labels, raw),
        "brier_after": brier_score(labels, calibrated),
        "ece_before": expected_calibration_error(labels, raw),
        "ece_after": expected_calibration_error(labels, calibrated),
        "reliability": reliability(labels, calibrated),
        "threshold": float(threshold),
    }


def best_mcc_threshold(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The threshold that maximises MCC on ``labels``/``scores``.

    Candidate thresholds lie half-way between consecutive distinct scores, so that a
    tiny change of one score does not flip its call. Ties go to the candidate nearest
    0.5.

    Returns:
        ``(threshold, mcc)``.
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s) - 1]  # last index of each score value
    tp = np.cumsum(y_sorted)[distinct].astype(float)
    fp = np.cumsum(~y_sorted)[distinct].astype(float)
    pos, neg = y.sum(), (~y).sum()
    fn, tn = pos - tp, neg - fp
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1), 0.0)
    lower = np.r_[s_sorted[distinct[:-1] + 1], 0.0]  # the next lower score (0 below the last)
    candidates = (s_sorted[distinct] + lower) / 2
    best = np.flatnonzero(mcc >= mcc.max() - 1e-12)
    i = best[np.argmin(np.abs(candidates[best] - 0.5))]
    return float(candidates[i]), float(mcc[i])


def format_table(metrics: dict[str, Any]) -> str:
    """A two-column, human-readable table of the metrics."""
    rows = [(name, metrics[name]) for name in METRIC_NAMES] + [
        ("threshold", metrics["threshold"]),
        ("transcripts", metrics["n"]),
        ("TP / FP / TN / FN", f"{metrics['tp']} / {metrics['fp']} / {metrics['tn']} / {metrics['fn']}"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = []
    for name, value in rows:
        if isinstance(value, float):
            value = f"{value:.4f}"
        elif value is None:
            value = "NA"
        lines.append(f"{name:<{width}}  {value}")
    return "\n".join(lines) + "\n"


