"""Model settings: defaults, valid ranges and checks, without TensorFlow.

One table, :data:`SETTINGS`, holds every setting of the network with its default (the
shipped default model's) and its valid range. :func:`resolve_config` applies it to
``train --set``/``--config`` and to the settings stored in a model card, so a bad value
is named before TensorFlow is imported. :func:`settings_in_keras_config` reads back the
settings a saved network was built with, so that a card edited by hand is caught on
load instead of failing deep in the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One model setting: its default and valid range (``low``/``high`` inclusive unless open).

    ``before`` is the value that models made before the setting existed were trained
    with; their cards lack it, and it, not today's default, stands in for it.
    """

    default: int | float
    low: float
    high: float
    help: str
    low_open: bool = False
    high_open: bool = False
    before: int | float | None = None

    @property
    def kind(self) -> type:
        return type(self.default)

    def describe(self) -> str:
        """The valid range in words, e.g. 'an integer from 50 to 100000'."""
        noun = "an integer" if self.kind is int else "a number"
        if self.kind is int:
            return f"{noun} from {int(self.low)} to {int(self.high)}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{noun} in {left}{self.low:g}, {self.high:g}{right}"

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


# The settings of the shipped default model, multispecies (benchmarks/TUNING.md says how they
# were chosen; 0.1's human model differs in nuc_len 1500, prot_len 600, augment 0.5, fragments 0)
# and the ranges the builder, the NumPy engine and the encoder are known to handle.
SETTINGS: dict[str, Setting] = {
    "nuc_len": Setting(3000, 50, 100_000, "nucleotide window read by the network"),
    "prot_len": Setting(1000, 10, 50_000, "amino acids of the longest ORF read by the network"),
    "nuc_embed": Setting(8, 1, 512, "nucleotide embedding size"),
    "nuc_filters": Setting(32, 1, 1024, "convolution filters, nucleotide branch"),
    "nuc_kernel": Setting(9, 1, 99, "convolution width, nucleotide branch"),
    "nuc_pool": Setting(4, 1, 16, "max-pooling after the first convolution, nucleotide branch"),
    "nuc_stacks": Setting(2, 1, 8, "IGLOO stacks, nucleotide branch"),
    "nuc_patches": Setting(300, 1, 10_000, "IGLOO patches per stack, nucleotide branch"),
    "prot_embed": Setting(8, 1, 512, "amino-acid embedding size"),
    "prot_filters": Setting(32, 1, 1024, "convolution filters, protein branch"),
    "prot_kernel": Setting(5, 1, 99, "convolution width, protein branch"),
    "prot_pool": Setting(2, 1, 16, "max-pooling after the first convolution, protein branch"),
    "prot_stacks": Setting(2, 1, 8, "IGLOO stacks, protein branch"),
    "prot_patches": Setting(200, 1, 10_000, "IGLOO patches per stack, protein branch"),
    "patch_size": Setting(4, 1, 64, "positions gathered into each IGLOO patch"),
    "feature_units": Setting(64, 1, 4096, "dense units on the hand-made features"),
    "head_units": Setting(64, 1, 4096, "dense units of the head"),
    "dropout": Setting(0.2, 0.0, 1.0, "dropout rate", high_open=True),
    "l2": Setting(1e-4, 0.0, 1.0, "L2 weight penalty"),
    "learning_rate": Setting(1e-3, 0.0, 1.0, "Adam learning rate", low_open=True),
    "lr_decay": Setting(0.8, 0.0, 1.0, "learning-rate factor per epoch (1: constant)", low_open=True),
    "augment": Setting(0.3, 0.0, 1.0, "share of training transcripts cropped each epoch"),
    "fragments": Setting(0.3, 0.0, 1.0, "share of training transcripts replaced by a fragment each epoch", before=0.0),
    "fragments_from": Setting(
        0, 0, 1_000_000, "shortest transcript (nt) that a fragment may replace; shorter ones stay whole", before=0
    ),
    "fragment_weight": Setting(
        1.0, 0.0, 1.0, "training weight of a fragment, relative to the transcript it was cut from", before=1.0,
        low_open=True,
    ),
    "length_balance": Setting(
        0.0, 0.0, 1.0, "how far training weights even out the classes within length bins (0: by class only)", before=0.0
    ),
    "seed": Setting(42, 0, 2**31 - 1, "seed of the weights, the patches and dropout"),
}

DEFAULT_CONFIG: dict[str, Any] = {name: s.default for name, s in SETTINGS.items()}


def check_setting(key: str, value: Any) -> int | float:
    """``value`` as the type of setting ``key``, or a ValueError naming the setting and its range."""
    if key not in SETTINGS:
        raise ValueError(f"unknown model setting {key!r}; known: {', '.join(SETTINGS)}")
    setting = SETTINGS[key]
    if setting.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, setting.kind) or isinstance(value, bool) or not setting.contains(value):
        raise ValueError(f"model setting {key}={value!r} is out of range: expected {setting.describe()}")
    return value


def resolve_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default config updated with ``overrides``, every value checked against :data:`SETTINGS`.

    Raises:
        ValueError: an unknown setting, or a value of the wrong type or out of its range
            (the message names the setting and its valid range).
    """
    config = dict(DEFAULT_CONFIG)
    for key, value in (overrides or {}).items():
        config[key] = check_setting(key, value)
    if config["augment"] + config["fragments"] > 1.0:
        raise ValueError(
            "model settings augment and fragments are shares of the training transcripts: together at most 1; "
            f"found {config['augment']} + {config['fragments']}"
        )
    return config


def card_settings(stored: dict[str, Any]) -> dict[str, Any]:
    """A card's settings, with the value of older versions for settings made since (``Setting.before``)."""
    older = {k: s.before for k, s in SETTINGS.items() if s.before is not None and k not in stored}
    return {**older, **stored}


def check_threshold(value: Any, source: str) -> float:
    """A decision threshold as a float: a finite number in [0, 1].

    Args:
        value: the threshold as given.
        source: where it came from, for the message (``--threshold``, a card's path).

    Raises:
        ValueError: anything else, with one line naming ``source``.
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1
    if not ok:
        raise ValueError(f"{source}: the threshold must be a finite number in [0, 1], found {value!r}")
    return float(value)


def settings_in_keras_config(keras_config: dict[str, Any]) -> dict[str, int | float]:
    """The settings a saved network was built with, read from its ``config.json``.

    Only what the layers record is returned (input lengths, embedding, convolution,
    pooling, stacks, patches, dense units); a layer that is absent leaves its settings out.
    """
    import rnaigloo.architecture as arch

    layers = {
        layer.get("config", {}).get("name"): layer.get("config", {})
        for layer in keras_config.get("config", {}).get("layers", [])
    }
    found: dict[str, Any] = {}

    def first(value: Any) -> Any:
        return value[0] if isinstance(value, (list, tuple)) else value

    for branch in arch.BRANCHES:
        inputs = layers.get(arch.BRANCH_INPUT[branch], {})
        shape = inputs.get("batch_shape") or inputs.get("batch_input_shape")
        if shape and len(shape) == 2:
            found[f"{branch}_len"] = shape[1]
        if arch.embedding_layer(branch) in layers:
            found[f"{branch}_embed"] = layers[arch.embedding_layer(branch)].get("output_dim")
        conv0 = layers.get(arch.conv_layer(branch, 0))
        if conv0 is not None:
            found[f"{branch}_filters"] = conv0.get("filters")
            found[f"{branch}_kernel"] = first(conv0.get("kernel_size"))
            stacks = 0
            while arch.conv_layer(branch, stacks) in layers:
                stacks += 1
            found[f"{branch}_stacks"] = stacks
            pool = layers.get(arch.pool_layer(branch))
            found[f"{branch}_pool"] = first(pool.get("pool_size")) if pool else 1
        patches = layers.get(arch.patches_layer(branch, 0))
        if patches is not None:
            found[f"{branch}_patches"] = patches.get("n_patches")
            found["patch_size"] = patches.get("patch_size")
    for name, key in ((arch.FEATURE_DENSE, "feature_units"), (arch.HEAD_DENSE, "head_units")):
        if name in layers:
            found[key] = layers[name].get("units")
    return {k: v for k, v in found.items() if v is not None}


def disagreements(card_config: dict[str, Any], keras_config: dict[str, Any]) -> list[str]:
    """``setting=card value (network: value)`` for each setting where a card and its network differ."""
    built = settings_in_keras_config(keras_config)
    return [
        f"{key}={card_config[key]!r} (the network has {value!r})"
        for key, value in built.items()
        if key in card_config and card_config[key] != value
    ]
