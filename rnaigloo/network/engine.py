"""A NumPy forward pass of the rnaigloo network, for classification on CPUs.

TensorFlow costs about 0.7 GB of memory and seconds of start-up before it scores a
single transcript. The trained network is small and its forward pass is a handful of
array operations (embedding, convolution, max-pooling, IGLOO patches, dense layers),
so ``classify`` runs it in NumPy by default: start-up in a fraction of a second and a
few hundred MB of memory whatever the input size. TensorFlow remains the engine for
training and for GPUs (``classify --engine tensorflow``); tests check that both
engines give the same scores, to within :data:`ENGINE_TOLERANCE`.

The weights are read from the ``.keras`` file itself (a zip of ``config.json`` and
``model.weights.h5``): Keras names the weight groups after each layer class, numbered
in the order of the layers in ``config.json``, which is how they are matched here.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from typing import Any

import numpy as np

import rnaigloo.architecture as arch
from rnaigloo.errors import ModelError

# How far a NumPy score may be from TensorFlow's (float32 sums in another order; on the
# probe transcripts of the bundled models they differ by 1e-7 at most).
ENGINE_TOLERANCE = 1e-5
_GROUP = 32  # transcripts scored together: sorted by length, so padding is skipped
_TABLE_BYTES = 3 << 20  # largest lookup table of the first convolution (see _group_tables)


def _snake(name: str) -> str:
    """Keras's snake case of a class name: Conv1D -> conv1d, IglooPatches -> igloo_patches."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def read_keras_weights(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Weights of a ``.keras`` file by layer name, without importing Keras.

    Raises:
        ModelError: the file is not a Keras archive of the expected layout.
    """
    import h5py

    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
            blob = zf.read("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ModelError(f"cannot load {path} as a Keras model: {err}") from None
    layers = config.get("config", {}).get("layers", [])
    counters: dict[str, int] = {}
    weights: dict[str, list[np.ndarray]] = {}
    with h5py.File(io.BytesIO(blob), "r") as h5:
        groups = h5.get("layers")
        if groups is None:
            raise ModelError(f"{path}: no layer weights in model.weights.h5")
        for layer in layers:
            base = _snake(layer["class_name"])
            n = counters.get(base, 0)
            counters[base] = n + 1
            key = base if n == 0 else f"{base}_{n}"
            if key in groups and "vars" in groups[key]:
                vars_ = groups[key]["vars"]
                weights[layer["config"]["name"]] = [np.asarray(vars_[str(i)]) for i in range(len(vars_))]
    return weights


class NumpyNetwork:
    """The network of :func:`rnaigloo.network.model.build_model`, evaluated with NumPy.

    Args:
        config: the model config (from the card).
        weights: arrays by layer name (see :func:`read_keras_weights`).
    """

    def __init__(self, config: dict[str, Any], weights: dict[str, list[np.ndarray]]):
        self.config = config
        try:
            self._branches = {b: self._branch_weights(b, weights) for b in arch.BRANCHES}
            self._dense = {name: _dense_weights(weights[name]) for name in arch.DENSE_LAYERS}
        except (KeyError, IndexError, ValueError) as err:
            raise ModelError(f"model weights do not match its config ({err})") from None

    def _branch_weights(self, branch: str, weights: dict[str, list[np.ndarray]]) -> dict[str, Any]:
        c = self.config
        stacks = c[f"{branch}_stacks"]
        convs = [
            (w[0].astype(np.float32), w[1].astype(np.float32))
            for w in (weights[arch.conv_layer(branch, s)] for s in range(stacks))
        ]
        patches = []
        for s in range(stacks):
            arrays = weights[arch.patches_layer(branch, s)]
            idx = next(a for a in arrays if a.dtype.kind == "i")
            kernel = next(a for a in arrays if a.ndim == 3 and a.dtype.kind == "f")
            bias = next(a for a in arrays if a.ndim == 1 and a.dtype.kind == "f")
            j, p, k = kernel.shape
            patches.append((idx.reshape(-1).astype(np.intp), kernel.reshape(j, p * k).astype(np.float32), bias.astype(np.float32)))
        embedding = weights[arch.embedding_layer(branch)][0].astype(np.float32)
        # The embedding and the first convolution are both linear: fold them into one
        # table per kernel offset, T[j] = E @ W[j], plus a zero row for the zeros that
        # the 'same' convolution adds outside the sequence.
        w0, b0 = convs[0]
        tables = np.einsum("te,kef->ktf", embedding, w0)
        tables = np.concatenate([tables, np.zeros((tables.shape[0], 1, tables.shape[2]), np.float32)], axis=1)
        w = {
            "kernel0": tables.shape[0],
            "vocab": tables.shape[1],
            "groups": _group_tables(tables),
            "bias0": b0,
            "convs": convs,
            "patches": patches,
            "pool": c[f"{branch}_pool"],
        }
        # Feature maps of an all-padding input: every position of a real input past its
        # end (plus the reach of the kernels) takes these values, so they are computed
        # once and only the part of each map that depends on the sequence is computed
        # per batch (see _branch).
        length = c[f"{branch}_len"]
        w["pad_maps"] = [m[0] for m in self._maps(np.zeros((1, length), dtype=np.intp), w, None)]
        return w

    def _maps(self, tokens: np.ndarray, w: dict[str, Any], valid: int | None) -> list[np.ndarray]:
        """The feature map each IGLOO stack gathers from, one per stack.

        With ``valid`` (the longest sequence in the batch), only the positions that
        depend on the sequence are computed; the rest are copied from the all-padding
        maps, which makes the result exact whatever the padding.
        """
        k, vocab = w["kernel0"], w["vocab"]
        left = (k - 1) // 2
        b, length = tokens.shape
        n = length if valid is None else min(length, valid + left)
        pool = w["pool"]
        if pool > 1 and valid is not None:
            n = min(length, -(-n // pool) * pool)  # whole pooling windows
        padded = np.full((b, n + k - 1), vocab - 1, dtype=np.intp)
        avail = min(length, n + k - 1 - left)
        padded[:, left : left + avail] = tokens[:, :avail]
        h = None
        for offset, size, table in w["groups"]:
            code = padded[:, offset : offset + n]
            for i in range(1, size):
                code = code * vocab + padded[:, offset + i : offset + i + n]
            part = np.take(table, code, axis=0)
            if h is None:
                h = part
            else:
                h += part
        full_length = length
        if pool > 1:
            # Max-pool before the bias and the ReLU: adding a constant and ReLU are both
            # monotonic, so max(relu(a + c), relu(b + c)) == relu(max(a, b) + c) exactly,
            # and the last two then run on 1/pool of the rows. Max of strided views is
            # twice as fast as reshape(...).max(axis=2).
            usable = (h.shape[1] // pool) * pool
            pooled = np.maximum(h[:, 0:usable:pool], h[:, 1:usable:pool])
            for i in range(2, pool):
                np.maximum(pooled, h[:, i:usable:pool], out=pooled)
            h = pooled
            full_length = length // pool
            n = h.shape[1]
        h += w["bias0"]
        np.maximum(h, 0, out=h)
        maps = []
        for s in range(len(w["patches"])):
            if s > 0:
                kernel, bias = w["convs"][s]
                ks = kernel.shape[0]
                ls = (ks - 1) // 2
                m = full_length if valid is None else min(full_length, n + ls)
                # input rows [0, m + ks - 1 - ls): computed rows, then padding rows
                x = self._extend(h, w["pad_maps"][s - 1] if valid is not None else None, min(full_length, m + ks - 1 - ls))
                h = _conv_same_relu(x, kernel, bias, out_length=m, full_length=full_length)
                n = m
            maps.append(self._extend(h, w["pad_maps"][s] if valid is not None else None, full_length))
        return maps

    @staticmethod
    def _extend(h: np.ndarray, pad_map: np.ndarray | None, length: int) -> np.ndarray:
        """``h`` continued to ``length`` rows with the all-padding map's rows."""
        if h.shape[1] >= length or pad_map is None:
            return h[:, :length]
        out = np.empty((h.shape[0], length, h.shape[2]), dtype=np.float32)
        out[:, : h.shape[1]] = h
        out[:, h.shape[1] :] = pad_map[h.shape[1] : length]
        return out

    def _branch(self, tokens: np.ndarray, w: dict[str, Any]) -> np.ndarray:
        b = tokens.shape[0]
        valid = int(np.count_nonzero(tokens, axis=1).max(initial=0))
        outputs = []
        for fmap, (idx, kernel, bias) in zip(self._maps(tokens, w, valid), w["patches"]):
            # np.take along the positions: the same copy as fmap[:, idx, :], 1.7x faster
            gathered = np.take(fmap, idx, axis=1).reshape(b, kernel.shape[0], kernel.shape[1])
            out = np.einsum("bjq,jq->bj", gathered, kernel) + bias
            outputs.append(np.maximum(out, 0))
        return np.concatenate(outputs, axis=1)

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Coding probabilities, shape ``(batch,)``.

        Each branch scores its inputs in groups of similar length (sorted by the
        nucleotide window for one, by the protein for the other), so that short
        inputs do not pay for the padding of long ones.
        """
        parts = [
            self._branch_by_length(np.asarray(inputs[arch.BRANCH_INPUT[b]]), self._branches[b]) for b in arch.BRANCHES
        ]
        kernel, bias = self._dense[arch.FEATURE_DENSE]
        parts.append(np.maximum(np.asarray(inputs[arch.FEATURES], dtype=np.float32) @ kernel + bias, 0))
        merged = np.concatenate(parts, axis=1)
        kernel, bias = self._dense[arch.HEAD_DENSE]
        head = np.maximum(merged @ kernel + bias, 0)
        kernel, bias = self._dense[arch.OUTPUT]
        logits = (head @ kernel + bias).reshape(-1).astype(np.float64)
        return 1.0 / (1.0 + np.exp(-logits))

    def _branch_by_length(self, tokens: np.ndarray, w: dict[str, Any]) -> np.ndarray:
        order = np.argsort(np.count_nonzero(tokens, axis=1), kind="stable")
        out = None
        for start in range(0, len(order), _GROUP):
            rows = order[start : start + _GROUP]
            part = self._branch(tokens[rows], w)
            if out is None:
                out = np.empty((len(tokens), part.shape[1]), dtype=np.float32)
            out[rows] = part
        if out is None:  # an empty batch
            return np.zeros((0, sum(k.shape[0] for _, k, _ in w["patches"])), dtype=np.float32)
        return out


def _group_tables(tables: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """Tables of consecutive kernel offsets summed, indexed by the token tuple.

    One lookup then replaces several (five nucleotide offsets, three amino-acid ones
    with the default sizes): ``(offset, size, table)`` per group.
    """
    k, vocab, filters = tables.shape
    # the most offsets whose table still fits in a core's cache: fewer, larger lookups
    size = 1
    while size < k and vocab ** (size + 1) * filters * 4 <= _TABLE_BYTES:
        size += 1
    groups = []
    for offset in range(0, k, size):
        m = min(size, k - offset)
        combined = tables[offset]
        for i in range(1, m):
            combined = combined[:, None, :] + tables[offset + i][None, :, :]
            combined = combined.reshape(-1, tables.shape[2])
        groups.append((offset, m, np.ascontiguousarray(combined, dtype=np.float32)))
    return groups


def _dense_weights(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return arrays[0].astype(np.float32), arrays[1].astype(np.float32)


def _conv_same_relu(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, out_length: int | None = None, full_length: int | None = None
) -> np.ndarray:
    """Conv1D with 'same' padding and ReLU; ``kernel`` is ``(k, in, out)``.

    ``x`` holds rows ``[0, len(x))`` of an input that is ``full_length`` rows long
    (zeros beyond, as 'same' padding adds); outputs ``[0, out_length)`` are returned.
    """
    k = kernel.shape[0]
    left = (k - 1) // 2
    b, rows, channels = x.shape
    full_length = rows if full_length is None else full_length
    out_length = full_length if out_length is None else out_length
    padded = np.zeros((b, out_length + k - 1, channels), dtype=np.float32)
    take = min(rows, out_length + k - 1 - left)
    padded[:, left : left + take] = x[:, :take]
    out = padded[:, 0:out_length] @ kernel[0]
    for j in range(1, k):
        out += padded[:, j : j + out_length] @ kernel[j]
    out += bias
    return np.maximum(out, 0, out=out)


def load_numpy_network(path: str | os.PathLike, config: dict[str, Any]) -> NumpyNetwork:
    """The NumPy network of the ``.keras`` file at ``path`` (already checked by its card)."""
    return NumpyNetwork(config, read_keras_weights(path))
