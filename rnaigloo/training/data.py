"""The validation split, class weights and per-transcript training weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnaigloo.errors import InputError
from rnaigloo.training.arguments import check_val_fraction


def split_validation(
    labels: np.ndarray, groups: Sequence[str], fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded, class-stratified, gene-grouped train/validation split."""
    from sklearn.model_selection import StratifiedGroupKFold

    check_val_fraction(fraction)
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



# Transcript-length bins (nt) within which ``length_balance`` evens out the classes.
LENGTH_EDGES = (500, 1000, 2000, 3000, 5000)


def sample_weights(labels: np.ndarray, lengths: np.ndarray, balance: float) -> tuple[np.ndarray, dict[str, object]]:
    """Per-transcript training weights, with mean 1, and what the card records of them.

    ``balance`` 0 gives the inverse-frequency class weights of :func:`class_weights`.
    ``balance`` 1 evens out the classes within each length bin of :data:`LENGTH_EDGES`
    instead (each bin keeps its share of the total weight), so that length alone
    cannot tell the classes apart: when mRNAs are mostly long and lncRNAs mostly short,
    the few short mRNAs and long lncRNAs weigh more. A bin with one class only keeps
    the class weights. Values between mix the two (a weighted geometric mean).
    """
    labels = np.asarray(labels)
    by_class = class_weights(labels)
    base = np.where(labels == 1, by_class[1], by_class[0])
    within = base.copy()
    bins = np.digitize(np.asarray(lengths), LENGTH_EDGES)
    masks = [bins == b for b in range(len(LENGTH_EDGES) + 1)]
    for in_bin in masks:
        if len(np.unique(labels[in_bin])) == 2:  # sklearn's 'balanced' within the bin
            in_bin_weights = class_weights(labels[in_bin])
            within[in_bin] = np.where(labels[in_bin] == 1, in_bin_weights[1], in_bin_weights[0])
    weights = base ** (1.0 - balance) * within**balance
    weights = weights / weights.mean() if len(weights) else weights
    table = []
    for low, high, in_bin in zip((0, *LENGTH_EDGES), (*LENGTH_EDGES, None), masks):
        row: dict[str, object] = {"from": low, "to": high}
        for key, label in (("coding", 1), ("noncoding", 0)):
            row[key] = int(np.count_nonzero(in_bin & (labels == label)))
        for key, label in (("coding", 1), ("noncoding", 0)):
            chosen = weights[in_bin & (labels == label)]
            row[f"{key}_weight"] = round(float(chosen[0]), 4) if len(chosen) else None
        table.append(row)
    summary = {"class_weights": by_class, "length_balance": balance}
    if balance:
        summary["length_bins"] = table
    return weights.astype(np.float32), summary
