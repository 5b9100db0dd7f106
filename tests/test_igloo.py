"""The IGLOO layer: shape, parameter count, config and save/load round trips, gradients."""

from __future__ import annotations

import keras  # a hard dependency: these tests must run, never skip
import numpy as np
import pytest

from rnaigloo.network.igloo import IglooPatches, igloo_branch


def test_output_shape_and_parameter_count():
    layer = IglooPatches(n_patches=12, patch_size=4, seed=3)
    out = layer(np.zeros((5, 50, 7), dtype="float32"))
    assert tuple(out.shape) == (5, 12)
    # J*p*K filter weights + J biases; the patch positions are not trainable
    assert sum(int(np.prod(w.shape)) for w in layer.trainable_weights) == 12 * 4 * 7 + 12
    assert [w.name for w in layer.non_trainable_weights] == ["patch_indices"]


def test_positions_are_seeded_in_range_and_distinct():
    a = IglooPatches(20, 4, seed=9)
    a.build((None, 30, 3))
    b = IglooPatches(20, 4, seed=9)
    b.build((None, 30, 3))
    c = IglooPatches(20, 4, seed=10)
    c.build((None, 30, 3))
    pa = np.asarray(a.patch_indices)
    np.testing.assert_array_equal(pa, np.asarray(b.patch_indices))
    assert not np.array_equal(pa, np.asarray(c.patch_indices))
    assert pa.min() >= 0 and pa.max() < 30
    assert all(len(set(row)) == 4 for row in pa.tolist())


def test_output_is_the_patch_sum_of_the_definition():
    layer = IglooPatches(3, 2, seed=1, activation="linear")
    x = np.random.default_rng(0).normal(size=(2, 10, 4)).astype("float32")
    out = np.asarray(layer(x))
    idx = np.asarray(layer.patch_indices)
    w = np.asarray(layer.kernel)
    b = np.asarray(layer.bias)
    expected = np.einsum("bjpk,jpk->bj", x[:, idx, :], w) + b
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_config_round_trip():
    layer = IglooPatches(7, 3, seed=5, activation="tanh", l2=1e-3, name="p")
    clone = IglooPatches.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_save_load_gives_identical_outputs(tmp_path):
    inp = keras.Input((40, 4))
    out = igloo_branch(inp, filters=6, kernel_size=3, n_patches=10, stacks=2, pool_size=2, dropout=0.1, l2=1e-4, seed=2)
    model = keras.Model(inp, keras.layers.Dense(1)(out))
    x = np.random.default_rng(1).normal(size=(3, 40, 4)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(loaded(x)))
    patches = [layer for layer in loaded.layers if isinstance(layer, IglooPatches)]
    assert len(patches) == 2
    np.testing.assert_array_equal(
        np.asarray(patches[0].patch_indices), np.asarray(model.get_layer("igloo_patches0").patch_indices)
    )


def test_gradients_reach_every_trainable_weight():
    import tensorflow as tf

    layer = IglooPatches(8, 4, seed=0, activation="linear")
    x = tf.random.normal((4, 20, 3), seed=1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)


def test_invalid_sizes_are_refused():
    with pytest.raises(ValueError):
        IglooPatches(0, 4)
