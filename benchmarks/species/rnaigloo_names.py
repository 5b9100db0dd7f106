"""The few rnaigloo names the benchmark needs."""

from __future__ import annotations

from rnaigloo.classify.classifier import Classifier
from rnaigloo.encoding import features
from rnaigloo.io.labelled import read_labelled
from rnaigloo.training.data import split_validation

__all__ = ["Classifier", "atg_orf_length", "read_labelled", "split_validation", "start"]


def start() -> None:
    from rnaigloo.runtime import start_tensorflow

    start_tensorflow()


def atg_orf_length(seq: str) -> int:
    """Length of the longest ATG-initiated forward ORF (the search of rnaigloo 0.1)."""
    return features.longest_orf(features.nucleotide_tokens(seq), five_prime_open=False).length
