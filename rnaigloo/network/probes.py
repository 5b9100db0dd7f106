"""Probe transcripts: the check that a loaded model computes what it computed when saved.

When a model is saved, Keras scores a fixed set of probe transcripts and the scores go
into the card. When a model is loaded, the engine that will classify (NumPy or
TensorFlow) scores the same probes again; if any score moves by more than
:data:`TOLERANCE`, the model is refused. This catches an engine that reads a model
differently from Keras (a user-trained model with other settings, a new Keras release,
an edit to the builder), a card whose settings were edited by hand, and encodings that
drifted, before a single user transcript is scored.

The probes are generated from a fixed seed (no data files) and cover the cases the
encoder treats specially: empty and sub-codon records, N-only and IUPAC letters, no ORF,
3'-open ORFs, transcripts longer than any window, and ordinary random transcripts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnaigloo.errors import ModelError

PROBE_SEED = 20261122
PROBES_VERSION = 1
# How far a probe score may move before the model is refused (kept in each card): ten
# times what the engines may differ by (rnaigloo.network.engine.ENGINE_TOLERANCE, 1e-5),
# so only a network read wrongly is refused.
TOLERANCE = 1e-4
STOPS = ("TAA", "TAG", "TGA")


def probe_sequences() -> list[str]:
    """The probe transcripts (the same on every machine and every call)."""
    rng = np.random.default_rng(PROBE_SEED)

    def random_seq(n: int) -> str:
        return "".join(rng.choice(list("ACGT"), size=n))

    def with_orf(utr5: int, codons: int, utr3: int, stop: bool = True) -> str:
        sense = [c for c in (a + b + d for a in "ACGT" for b in "ACGT" for d in "ACGT") if c not in STOPS]
        body = "".join(rng.choice(sense, size=codons))
        return random_seq(utr5) + "ATG" + body + ("TAA" if stop else "") + random_seq(utr3)

    return [
        "",
        "AC",
        "N" * 300,
        "ATGRYKMSWNNNACGTBDHVTAA" * 8,
        "CCCCTTTTCCCCTTTT" * 40,  # no ATG, no ORF
        with_orf(120, 400, 700),
        with_orf(40, 900, 0, stop=False),  # 3'-open
        with_orf(2500, 1500, 2500),  # longer than any window
        random_seq(250),
        random_seq(900),
        random_seq(2200).lower(),
        random_seq(6000),
    ]


def probe_scores(score: Callable[[list[str]], np.ndarray]) -> list[float]:
    """Scores of the probes by ``score`` (sequences in, probabilities out)."""
    return [round(float(s), 7) for s in np.asarray(score(probe_sequences()), dtype=np.float64).reshape(-1)]


def card_entry(score: Callable[[list[str]], np.ndarray]) -> dict[str, Any]:
    """The card's ``probes`` section, scored by Keras when a model is saved."""
    return {"version": PROBES_VERSION, "seed": PROBE_SEED, "tolerance": TOLERANCE, "scores": probe_scores(score)}


def verify(card: dict[str, Any], score: Callable[[list[str]], np.ndarray], model_name: str, engine: str) -> None:
    """Refuse a model whose engine output disagrees with the probe scores in its card.

    Raises:
        ModelError: the card has no probe scores of this version, or a score differs by
            more than the card's tolerance.
    """
    probes = card.get("probes")
    if not isinstance(probes, dict) or probes.get("version") != PROBES_VERSION or "scores" not in probes:
        raise ModelError(f"model {model_name} has no probe scores of version {PROBES_VERSION} in its card")
    expected = np.asarray(probes["scores"], dtype=np.float64)
    got = np.asarray(probe_scores(score), dtype=np.float64)
    if expected.shape != got.shape:
        raise ModelError(f"model {model_name}: its card holds {expected.size} probe scores, expected {got.size}")
    diff = np.abs(expected - got)
    tolerance = float(probes.get("tolerance", TOLERANCE))
    if not np.all(diff <= tolerance):
        i = int(np.argmax(diff))
        raise ModelError(
            f"model {model_name} is refused: the {engine} engine scores probe transcript {i + 1} "
            f"{got[i]:.6f}, its card says {expected[i]:.6f} (tolerance {tolerance:g}); the model file, its card "
            "settings or this rnaigloo's reading of it disagree"
        )
