"""The rnaigloo network, built from a plain config dict stored with the model.

Three views of a transcript meet in one head:

1. nucleotides (the model window, see :mod:`rnaigloo.encoding.tables`) -> embedding -> IGLOO
   stacks;
2. the longest ORF's protein -> embedding -> IGLOO stacks;
3. hand-made features (``FEATURE_NAMES``: ORF length, coverage and completeness; k-mer
   frequencies for k = 2..4; the ORF's codon usage, amino-acid composition and in-frame
   hexamer (codon-pair) frequencies) -> dense layer;

concatenated -> dense -> dropout -> sigmoid coding probability.
"""

from __future__ import annotations

from typing import Any

import keras

import rnaigloo.architecture as arch
from rnaigloo.encoding.tables import N_AA_TOKENS, N_FEATURES, N_NUC_TOKENS
from rnaigloo.network.config import DEFAULT_CONFIG, resolve_config
from rnaigloo.network.igloo import igloo_branch

__all__ = ["DEFAULT_CONFIG", "build_model", "resolve_config"]


def build_model(config: dict[str, Any], n_features: int = N_FEATURES) -> keras.Model:
    """Build the (uncompiled) network described by ``config``, reading ``n_features``
    hand-made features (:func:`rnaigloo.encoding.tables.n_features` of its encoding)."""
    c = resolve_config(config)
    seed = c["seed"]
    nuc_in = keras.Input((c["nuc_len"],), dtype="int32", name=arch.NUCLEOTIDES)
    prot_in = keras.Input((c["prot_len"],), dtype="int32", name=arch.PROTEINS)
    feat_in = keras.Input((n_features,), dtype="float32", name=arch.FEATURES)

    nuc = _sequence_branch(nuc_in, c, arch.BRANCHES[0], N_NUC_TOKENS, seed)
    prot = _sequence_branch(prot_in, c, arch.BRANCHES[1], N_AA_TOKENS, seed + 1000)
    reg = keras.regularizers.L2(c["l2"]) if c["l2"] else None
    feat = keras.layers.Dense(c["feature_units"], activation="relu", kernel_regularizer=reg, name=arch.FEATURE_DENSE)(
        feat_in
    )

    merged = keras.layers.Concatenate(name="merge")([nuc, prot, feat])
    head = keras.layers.Dense(c["head_units"], activation="relu", kernel_regularizer=reg, name=arch.HEAD_DENSE)(merged)
    head = keras.layers.Dropout(c["dropout"], seed=seed + 2000, name="head_dropout")(head)
    out = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name=arch.OUTPUT)(head)
    return keras.Model({arch.NUCLEOTIDES: nuc_in, arch.PROTEINS: prot_in, arch.FEATURES: feat_in}, out, name="rnaigloo")


def _sequence_branch(tokens, c: dict[str, Any], prefix: str, n_tokens: int, seed: int):
    """Embedding + IGLOO stacks for one token input, from the ``prefix_*`` settings."""
    x = keras.layers.Embedding(n_tokens + 1, c[f"{prefix}_embed"], name=arch.embedding_layer(prefix))(tokens)
    return igloo_branch(
        x,
        filters=c[f"{prefix}_filters"],
        kernel_size=c[f"{prefix}_kernel"],
        n_patches=c[f"{prefix}_patches"],
        patch_size=c["patch_size"],
        stacks=c[f"{prefix}_stacks"],
        pool_size=c[f"{prefix}_pool"],
        dropout=c["dropout"],
        l2=c["l2"],
        seed=seed,
        name=prefix,
    )
