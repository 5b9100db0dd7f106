"""The validation split and class weights."""

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

