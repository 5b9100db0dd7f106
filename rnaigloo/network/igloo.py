"""The IGLOO layer, written from the IGLOO papers (Sourkov 2018; RNAsamba, 2020).

A convolution turns the input (L x M) into a feature map F (L x K). IGLOO gathers J
patches from F, each made of p positions drawn at random over the whole length, so a
patch relates parts of the sequence that are far apart. Each gathered patch
(p x K) is multiplied point-wise by its own trainable filter, summed, given a bias and
passed through a non-linearity: one number per patch, J in all. The parameter count is
J*p*K + J, whatever L is. The positions are drawn once, from a seed, and stored with the
model as a non-trainable int32 weight, so a saved model always looks at the same places.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

import rnaigloo.architecture as arch


@keras.saving.register_keras_serializable(package="rnaigloo")
class IglooPatches(keras.layers.Layer):
    """Non-local patches gathered from a feature map, one output per patch.

    Args:
        n_patches: J, the number of patches (outputs).
        patch_size: p, the positions gathered into each patch.
        seed: seed of the patch positions.
        activation: non-linearity applied to each patch's sum.
        l2: L2 penalty on the patch filters.

    Input shape: ``(batch, L, K)``. Output shape: ``(batch, n_patches)``.
    """

    def __init__(
        self,
        n_patches: int,
        patch_size: int = 4,
        seed: int = 0,
        activation: str = "relu",
        l2: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if n_patches < 1 or patch_size < 1:
            raise ValueError("n_patches and patch_size must be positive")
        self.n_patches = int(n_patches)
        self.patch_size = int(patch_size)
        self.seed = int(seed)
        self.activation_name = activation
        self.activation = keras.activations.get(activation)
        self.l2 = float(l2)

    def build(self, input_shape: tuple) -> None:
        length, channels = input_shape[-2], input_shape[-1]
        if length is None or channels is None:
            raise ValueError("IglooPatches needs a fixed sequence length and channel count")
        self.patch_indices = self.add_weight(
            name="patch_indices",
            shape=(self.n_patches, self.patch_size),
            dtype="int32",
            initializer="zeros",
            trainable=False,
        )
        self.patch_indices.assign(self.draw_positions(length))
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.n_patches, self.patch_size, channels),
            initializer="glorot_uniform",
            regularizer=keras.regularizers.L2(self.l2) if self.l2 else None,
        )
        self.bias = self.add_weight(name="bias", shape=(self.n_patches,), initializer="zeros")

    def draw_positions(self, length: int) -> np.ndarray:
        """The (J, p) patch positions for a feature map of ``length`` positions.

        Positions within a patch are distinct when the map is long enough, and sorted.
        """
        rng = np.random.default_rng(self.seed)
        if length >= self.patch_size:
            rows = [rng.choice(length, size=self.patch_size, replace=False) for _ in range(self.n_patches)]
        else:
            rows = [rng.integers(0, length, size=self.patch_size) for _ in range(self.n_patches)]
        return np.sort(np.asarray(rows, dtype=np.int32), axis=1)

    def call(self, inputs):
        channels = ops.shape(inputs)[-1]
        flat = ops.reshape(self.patch_indices, (-1,))
        gathered = ops.take(inputs, flat, axis=1)  # (batch, J*p, K)
        gathered = ops.reshape(gathered, (-1, self.n_patches, self.patch_size, channels))
        out = ops.einsum("bjpk,jpk->bj", gathered, ops.cast(self.kernel, gathered.dtype))
        return self.activation(out + ops.cast(self.bias, out.dtype))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n_patches)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            n_patches=self.n_patches,
            patch_size=self.patch_size,
            seed=self.seed,
            activation=self.activation_name,
            l2=self.l2,
        )
        return config


def igloo_branch(
    inputs,
    *,
    filters: int,
    kernel_size: int,
    n_patches: int,
    patch_size: int = 4,
    stacks: int = 2,
    pool_size: int = 1,
    dropout: float = 0.0,
    l2: float = 0.0,
    seed: int = 0,
    name: str = "igloo",
):
    """IGLOO stacks on successive convolutions, concatenated.

    Each stack convolves the previous stack's feature map and gathers its own patches
    from it, so the stacks see the sequence at growing granularity. An optional
    max-pooling after the first convolution shortens every later feature map.

    Args:
        inputs: a ``(batch, L, M)`` tensor.
        filters: K, the convolution filters of each stack.
        kernel_size: width of each convolution.
        n_patches: J, patches per stack.
        patch_size: p, positions per patch.
        stacks: the number of convolution + IGLOO stacks.
        pool_size: max-pooling after the first convolution (1 for none).
        dropout: dropout on the concatenated patch outputs.
        l2: L2 penalty on convolution kernels and patch filters.
        seed: seed of the patch positions (stack ``s`` uses ``seed + s``).
        name: prefix of the layer names.

    Returns:
        A ``(batch, stacks * n_patches)`` tensor.
    """
    reg = keras.regularizers.L2(l2) if l2 else None
    h = inputs
    outputs = []
    for s in range(stacks):
        h = keras.layers.Conv1D(
            filters, kernel_size, padding="same", activation="relu", kernel_regularizer=reg, name=arch.conv_layer(name, s)
        )(h)
        if s == 0 and pool_size > 1:
            h = keras.layers.MaxPooling1D(pool_size, name=arch.pool_layer(name))(h)
        outputs.append(IglooPatches(n_patches, patch_size, seed=seed + s, l2=l2, name=arch.patches_layer(name, s))(h))
    out = outputs[0] if len(outputs) == 1 else keras.layers.Concatenate(name=f"{name}_concat")(outputs)
    if dropout:
        out = keras.layers.Dropout(dropout, seed=seed, name=f"{name}_dropout")(out)
    return out
