"""The TensorFlow engine: the Keras network traced once, optionally in mixed precision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnaigloo.runtime.tensorflow_start import mixed_policy_name


def mixed_precision_copy(loaded: Any) -> Any:
    """The same network rebuilt under a mixed-precision policy, weights copied."""
    import keras

    from rnaigloo.network.model import build_model

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(mixed_policy_name())
    try:
        copy = build_model(loaded.config, loaded.n_features)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    copy.set_weights(loaded.keras_model.get_weights())
    return copy


def compile_predict(keras_models: list[Any]) -> Callable[[dict[str, np.ndarray]], Any]:
    """A traced function that returns each network's probabilities, stacked (networks first)."""
    import tensorflow as tf

    # one signature with a free batch size, so the graph is traced once
    spec = {t.name.split(":")[0]: tf.TensorSpec((None, *t.shape[1:]), t.dtype) for t in keras_models[0].inputs}

    @tf.function(input_signature=[spec], reduce_retracing=True)
    def predict(inputs):
        return tf.stack([m(inputs, training=False) for m in keras_models])

    def run(inputs: dict[str, np.ndarray]):
        return predict({k: tf.convert_to_tensor(v, dtype=spec[k].dtype) for k, v in inputs.items()}).numpy()

    return run

