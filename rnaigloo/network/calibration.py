"""Temperature scaling of the network's coding probability.

The network ends in a sigmoid. A temperature ``T`` divides its logit:
``p' = sigmoid(logit(p) / T)``; ``T > 1`` softens over-confident scores, ``T = 1``
changes nothing. ``T`` is fitted on the validation set at the end of training (it
minimises the log-loss there), stored in the model card, and applied by the classifier
for both engines, after the network and before ensemble averaging. Ranking (AUROC) is
unchanged; the card's threshold is on the calibrated scale.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-7  # float32 sigmoid saturates; clipping keeps the logit finite


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def apply_temperature(p: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities ``p`` rescaled by ``temperature`` (returned unchanged when it is 1)."""
    if temperature == 1.0:
        return p
    z = logit(p) / temperature  # float64 throughout: the engines' float32 outputs lose nothing more here
    return 1.0 / (1.0 + np.exp(-z))


def log_loss(labels: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1.0 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def fit_temperature(labels: np.ndarray, p: np.ndarray, lo: float = 0.05, hi: float = 20.0) -> float:
    """The temperature that minimises the log-loss of ``p`` on ``labels``.

    A golden-section search over ``log T`` in ``[lo, hi]`` (the log-loss is convex in
    ``1/T``), to three decimals. Returns 1.0 for an empty set or a single class.
    """
    y = np.asarray(labels, dtype=np.float64)
    if y.size == 0 or y.min() == y.max():
        return 1.0
    z = logit(p)

    def loss(log_t: float) -> float:
        q = 1.0 / (1.0 + np.exp(-z / np.exp(log_t)))
        return log_loss(y, q)

    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = loss(c), loss(d)
    while b - a > 1e-4:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = loss(d)
    return round(float(np.exp((a + b) / 2)), 3)
