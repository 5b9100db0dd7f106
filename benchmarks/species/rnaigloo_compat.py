"""The few rnaigloo names the benchmark needs, wherever the package keeps them."""

from __future__ import annotations

try:  # subpackage layout
    from rnaigloo.classify.classifier import Classifier
    from rnaigloo.encoding import features
    from rnaigloo.io.labelled import read_labelled
    from rnaigloo.training.data import split_validation
except ImportError:  # flat layout (0.1)
    from rnaigloo.train import read_labelled, split_validation  # type: ignore[no-redef]

    from rnaigloo import features  # type: ignore[no-redef]
    from rnaigloo.classify import Classifier  # type: ignore[no-redef]

__all__ = ["Classifier", "atg_orf_length", "read_labelled", "split_validation", "start"]


def start() -> None:
    from rnaigloo.runtime import start_tensorflow

    start_tensorflow()


def atg_orf_length(seq: str) -> int:
    """Length of the longest ATG-initiated forward ORF (the search of rnaigloo 0.1)."""
    tokens = features.nucleotide_tokens(seq)
    try:
        return features.longest_orf(tokens, five_prime_open=False).length
    except TypeError:
        return features.longest_orf(tokens).length
