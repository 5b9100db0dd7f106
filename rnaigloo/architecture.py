"""The network's architecture contract: one place names its version, inputs and layers.

Three parts of rnaigloo must agree on the network without sharing code: the Keras
builder (:mod:`rnaigloo.network.model`), the NumPy engine that evaluates a saved model
without Keras (:mod:`rnaigloo.network.engine`), and the encoder that makes the inputs
(:mod:`rnaigloo.encoding.encoder`). They all take the names from here. A model card
records :data:`ARCHITECTURE_VERSION`; the loader refuses another one, and checks the
engine's output on fixed probe transcripts against the scores Keras gave when the model
was saved (:mod:`rnaigloo.network.probes`).

This module imports nothing, so any layer of the package may use it.
"""

from __future__ import annotations

# Raised whenever the network's structure or its layer names change.
ARCHITECTURE_VERSION = 1

# Model inputs, in the order the encoder makes them.
NUCLEOTIDES = "nucleotides"
PROTEINS = "proteins"
FEATURES = "features"
INPUTS = (NUCLEOTIDES, PROTEINS, FEATURES)

# The two sequence branches (prefix of their layer names and of their settings).
BRANCHES = ("nuc", "prot")
BRANCH_INPUT = {"nuc": NUCLEOTIDES, "prot": PROTEINS}

# Dense layers of the head, in the order they are applied.
FEATURE_DENSE = "feat_dense"
HEAD_DENSE = "head_dense"
OUTPUT = "coding_probability"
DENSE_LAYERS = (FEATURE_DENSE, HEAD_DENSE, OUTPUT)


def embedding_layer(branch: str) -> str:
    """Name of a branch's token embedding."""
    return f"{branch}_embedding"


def conv_layer(branch: str, stack: int) -> str:
    """Name of the convolution of stack ``stack`` in a branch."""
    return f"{branch}_conv{stack}"


def pool_layer(branch: str) -> str:
    """Name of the max-pooling after a branch's first convolution."""
    return f"{branch}_pool"


def patches_layer(branch: str, stack: int) -> str:
    """Name of the IGLOO patch layer of stack ``stack`` in a branch."""
    return f"{branch}_patches{stack}"
