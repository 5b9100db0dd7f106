"""The few rnaigloo names the benchmark needs, wherever this version of the package keeps them."""

from __future__ import annotations

import importlib


def _first(name: str, *modules: str):
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"rnaigloo has no {name} in {', '.join(modules)}")


features = _first("features", "rnaigloo.encoding", "rnaigloo")
Classifier = _first("Classifier", "rnaigloo.classify.classifier", "rnaigloo.classify")
read_labelled = _first("read_labelled", "rnaigloo.io.labelled", "rnaigloo.training.run", "rnaigloo.train")
split_validation = _first("split_validation", "rnaigloo.training.data", "rnaigloo.training.run", "rnaigloo.train")

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
